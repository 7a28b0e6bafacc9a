"""``pishkhan payman ...`` drives the same sandbox operations as the admin API, on the local
database, and the surface sees the effect."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from pishkhan.cli import main
from pishkhan.providers.payman.tables import payman_mandates
from pishkhan.runtime import Runtime

from .conftest import SABCIR, Payman


@pytest.fixture
def cli(
    runtime: Runtime, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Any:  # fmt: skip
    monkeypatch.setenv("PISHKHAN_DATABASE_URL", db_url)
    monkeypatch.setenv("PISHKHAN_DATA_DIR", str(tmp_path / "cli"))
    monkeypatch.setenv("PISHKHAN_TOKEN_SECRET", runtime.settings.token_secret)

    def run(*argv: str, status: int = 0) -> Any:
        capsys.readouterr()
        assert main(list(argv)) == status
        out = capsys.readouterr()
        if "--json" in argv and status == 0:
            return json.loads(out.out)
        return out.out + out.err

    return run


def test_bank_states_drive_pay_and_health(cli: Any, pm: Payman) -> None:
    pid = pm.active_mandate()
    table = cli("payman", "banks")
    assert "BANK" in table and "SABCIR" in table and "stable" in table
    shown = cli("payman", "bank", "sabcir", "inaccessible", "--service", "pay", "--json")
    assert shown == {"bank": "SABCIR", "status": "inaccessible", "services": ["pay"]}
    assert cli("payman", "banks", "--json")["SABCIR"]["pay"] == "inaccessible"
    r = pm.pay(pid)
    assert r.status_code == 423 and r.json()["code"] == "2500"
    cli("payman", "bank", "SABCIR", "stable")
    assert pm.pay(pid).status_code == 200


def test_force_outcome_then_settle_reverse_and_ledger(cli: Any, pm: Payman) -> None:
    pid = pm.active_mandate()
    forced = cli("payman", "force", "in_progress", "--payman-id", pid, "--json")
    assert forced == {"outcome": "IN_PROGRESS", "payman_id": pid, "count": 1}
    assert "IN_PROGRESS" in cli("payman", "forced")
    r = pm.pay(pid, trace="cli-1")
    assert r.status_code == 200 and r.json()["status"] == "IN_PROGRESS"
    assert cli("payman", "forced", "--json") == []
    assert cli("payman", "settle", "cli-1", "succeed", "--json")["status"] == "SUCCEED"
    assert cli("payman", "reverse", "cli-1", "--json")["status"] == "REVERSED"
    out = cli("payman", "reverse", "cli-1", status=2)
    assert "2125" in out
    assert cli("payman", "reconcile", "cli-1", "1", "--json")["reconcile_status"] == 1
    assert cli("payman", "ledger", "--json") == {"total": 0, "balanced": True}
    assert "balanced" in cli("payman", "ledger")
    cli("payman", "force", "FAILED", "--count", "2")
    assert cli("payman", "unforce", "--json") == {"removed": 1}


def test_expire_and_approve(cli: Any, pm: Payman) -> None:
    _location, trace = pm.create(SABCIR)
    r = pm.client.get("/v1/payman/create/trace", params={"trace-id": trace}, headers=pm.headers())
    assert r.status_code == 400
    with pm.runtime.db.read() as conn:
        payman_code = conn.execute(
            select(payman_mandates.c.payman_code).where(payman_mandates.c.trace_id == trace)
        ).scalar_one()
    approved = cli("payman", "approve", payman_code, "--json")
    assert "status=CREATED" in approved["location"]
    r = pm.client.get("/v1/payman/getId", params={"payman_code": payman_code}, headers=pm.headers())
    pid = r.json()["payman_id"]
    expired = cli("payman", "expire", pid, "--json")
    assert expired == {"payman_code": payman_code, "payman_id": pid, "status": "EXPIRED"}
    assert pm.pay(pid).json()["code"] == "2006"


def test_clear_errors(cli: Any, pm: Payman) -> None:
    assert "no mandate 'nope'" in cli("payman", "expire", "nope", status=2)
    assert "no Payman bank 'XXXXIR'" in cli("payman", "bank", "XXXXIR", "stable", status=2)
    assert "2030" in cli("payman", "settle", "missing", "FAILED", status=2)
    assert "between 0 and 1" in cli(
        "payman", "bank", "SABCIR", "unstable", "--failure-rate", "2", status=2
    )
    with pytest.raises(SystemExit):
        cli("payman", "bank", "SABCIR", "broken")
