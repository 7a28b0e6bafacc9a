"""The per-process caches of the issuance hot path (accounts with price rules, CA availability)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from pendar.support import TEST_CA
from pishkhan.providers.pendar import ca as ca_mod
from pishkhan.providers.pendar import caches as hot
from pishkhan.providers.pendar.tables import pendar_cas


def test_caches_serve_within_ttl_and_clear(customer: Any, runtime: Any) -> None:
    caches = hot.Caches(runtime.db, ttl=3600.0)
    row = caches.account(customer.code)
    assert row is not None and row.active and row.customer_code == customer.code
    assert caches.account(customer.code) is row  # served from memory
    assert caches.account("no-such-code") is None
    assert row.rule("certificate.1", 50_000).price == 50_000  # no price row: the default
    loaded = ca_mod.hierarchy(runtime).get(TEST_CA)
    assert loaded is not None
    assert caches.available(loaded.id) is True
    with runtime.db.write() as conn:
        conn.execute(update(pendar_cas).where(pendar_cas.c.id == loaded.id).values(available=False))
    assert caches.available(loaded.id) is True  # still the cached answer
    caches.clear()
    assert caches.available(loaded.id) is False
    assert caches.account(customer.code) is not row


def test_admin_changes_drop_the_process_caches(customer: Any, runtime: Any) -> None:
    caches = hot.caches(runtime)
    loaded = ca_mod.hierarchy(runtime).get(TEST_CA)
    assert loaded is not None and caches.available(loaded.id) is True
    customer.admin("PUT", f"/cas/{TEST_CA}/availability", {"available": False})
    assert caches.available(loaded.id) is False
    r = customer.post("RegisterInfo", customer.register_body())
    assert r.json()["ErrorCode"] == 1005
