"""The world admin API under /_pishkhan/v1/world."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from pishkhan.core.tables import audit_log
from pishkhan.world import fixtures as fx

BASE = "/_pishkhan/v1/world"


def test_requires_admin_token(client: Any) -> None:
    assert client.get(f"{BASE}/stats").status_code == 401


def test_seed_stats_fixtures(admin: Any) -> None:
    r = admin.post(f"{BASE}/seed", json={"people": 50, "seed": 2})
    assert r.status_code == 200, r.text
    stats = admin.get(f"{BASE}/stats").json()
    assert stats["counts"]["person"] == r.json()["rows"]["world_people"]
    names = {f["name"] for f in admin.get(f"{BASE}/fixtures").json()["fixtures"]}
    assert "card.lost" in names and "payman.blu" in names


def test_crud(admin: Any, runtime: Any) -> None:
    admin.post(f"{BASE}/seed", json={"people": 10})
    card = {"number": fx.CARD_UNKNOWN, "deposit_iban": fx.IBAN_ACTIVE, "status": "STOLEN"}
    r = admin.post(f"{BASE}/card", json=card)
    assert r.status_code == 201, r.text
    assert r.json()["bank"] == "MELLI" and r.json()["kind"] == "card"
    assert admin.post(f"{BASE}/card", json=card).status_code == 409
    r = admin.get(f"{BASE}/card/{fx.CARD_UNKNOWN}")
    assert r.status_code == 200 and r.json()["status"] == "STOLEN"
    r = admin.patch(f"{BASE}/card/{fx.CARD_UNKNOWN}", json={"status": "ACTIVE"})
    assert r.status_code == 200 and r.json()["status"] == "ACTIVE"
    r = admin.patch(f"{BASE}/card/{fx.CARD_UNKNOWN}", json={"status": "MELTED"})
    assert r.status_code == 400 and "status" in r.json()["error"]["details"]
    r = admin.put(f"{BASE}/sana/{fx.NC_FEMALE}", json={"registered": True})
    assert r.status_code == 200 and r.json()["registered"] is True
    r = admin.get(f"{BASE}/card", params={"status": "LOST", "limit": 5})
    assert r.status_code == 200 and all(c["status"] == "LOST" for c in r.json()["records"])
    assert admin.get(f"{BASE}/planet").status_code == 404
    r = admin.get(f"{BASE}/card/1234")
    assert r.status_code == 400 and "card" in r.json()["error"]["message"]
    assert admin.delete(f"{BASE}/card/{fx.CARD_UNKNOWN}").status_code == 200
    assert admin.get(f"{BASE}/card/{fx.CARD_UNKNOWN}").status_code == 404
    assert admin.post(f"{BASE}/person", content=b"[1]").status_code == 400
    with runtime.db.read() as conn:
        actions = [r[0] for r in conn.execute(select(audit_log.c.action))]
    assert "world.card.create" in actions and "world.card.delete" in actions
    assert "world.sana.replace" in actions and "world.seed" in actions


def test_export_import(admin: Any) -> None:
    admin.post(f"{BASE}/seed", json={"people": 30, "seed": 4})
    exported = admin.get(f"{BASE}/export")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/x-ndjson")
    admin.post(f"{BASE}/seed", json={"people": 0})
    r = admin.post(f"{BASE}/import", content=exported.content)
    assert r.status_code == 200, r.text
    assert admin.get(f"{BASE}/export").content == exported.content
    only = admin.get(f"{BASE}/export", params={"kind": "sim"}).text.splitlines()
    assert only and all('"kind":"sim"' in line for line in only)
    r = admin.post(f"{BASE}/import", content=b'{"kind":"sim","mobile":"0912"}\n')
    assert r.status_code == 400 and "line 1" in r.json()["error"]["details"]
