"""The pishkhan command, run in-process against the test database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from pishkhan.cli import main
from pishkhan.core.ids import verify_secret
from pishkhan.core.tables import audit_log, sandbox_state
from pishkhan.tenants.tables import jibit_credentials

Capsys = pytest.CaptureFixture[str]


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capsys) -> Any:
    """run(*args) -> (exit status, stdout, stderr)."""
    for key in ("PISHKHAN_SURFACES", "PISHKHAN_ADMIN_TOKEN", "PISHKHAN_TOKEN_SECRET"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PISHKHAN_DATA_DIR", str(tmp_path / "cli-data"))
    monkeypatch.setenv("PISHKHAN_DATABASE_URL", db_url)
    monkeypatch.setenv("PISHKHAN_SEED_WORLD", "0")

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's own usage errors
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        return code, out, err

    return run


def _one_line_error(err: str, *needles: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("pishkhan: "), err
    for needle in needles:
        assert needle in lines[0], err


def test_db_upgrade_and_current(cli: Any) -> None:
    code, out, _ = cli("db", "upgrade")
    assert code == 0 and out.startswith("database at revision ")
    code, out, _ = cli("db", "current")
    assert code == 0 and out.startswith("current ")


def test_customers_lifecycle(cli: Any, db: Any) -> None:
    code, out, _ = cli("customers", "create", "Acme Co", "--slug", "acme", "--json")
    assert code == 0
    created = json.loads(out)
    secret = created["secrets"]["jibit"]["secretKey"]
    assert created["slug"] == "acme" and set(created["secrets"]) == {
        "jibit",
        "paystar",
        "pendar",
        "payman",
    }
    code, out, _ = cli("customers", "create", "Beta", "--slug", "beta", "--payman-bank", "bmjiir")
    assert code == 0 and out.startswith("created customer ") and "secretKey" in out
    code, out, _ = cli("customers", "list")
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "SLUG", "NAME", "STATUS", "CREATED_AT"]
    assert [ln.split()[1] for ln in lines[1:]] == ["acme", "beta"]
    code, out, _ = cli("customers", "list", "--json")
    assert [c["slug"] for c in json.loads(out)] == ["acme", "beta"]
    code, out, _ = cli("customers", "show", "acme", "--json")
    shown = json.loads(out)
    assert shown["id"] == created["id"] and secret not in out
    code, out, _ = cli("customers", "show", "beta")
    assert code == 0 and "slug" in out and "BMJIIR" in out

    code, out, _ = cli("customers", "rotate", "acme", "jibit", "--json")
    new_secret = json.loads(out)["jibit"]["secretKey"]
    with db.read() as conn:
        stored = conn.execute(
            select(jibit_credentials.c.secret_hash).where(
                jibit_credentials.c.customer_id == created["id"]
            )
        ).scalar_one()
    assert verify_secret(new_secret, stored) and not verify_secret(secret, stored)

    code, out, _ = cli("customers", "disable", "acme")
    assert code == 0 and out.strip() == f"customer {created['id']} (acme) is now disabled"
    code, out, _ = cli("customers", "enable", "acme", "--json")
    assert json.loads(out)["status"] == "active"

    prf = next(w["balance"] for w in shown["wallets"] if w["wallet"] == "jibit.PRF")
    code, out, _ = cli("customers", "topup", "acme", "jibit.PRF", "1000", "--json")
    assert json.loads(out) == {"wallet": "jibit.PRF", "balance": prf + 1000}
    code, out, _ = cli("customers", "topup", "acme", "jibit.PRF", "-10", "--reference", "fix")
    assert code == 0 and str(prf + 990) in out

    code, out, _ = cli("customers", "price", "acme", "jibit", "cards", "--price", "300", "--json")
    assert json.loads(out)["price"] == 300
    code, out, _ = cli("customers", "price", "acme", "jibit", "cards", "--daily-limit", "4")
    assert code == 0 and "daily_limit" in out and "4" in out

    code, out, _ = cli("customers", "usage", "acme")
    assert code == 0 and out.strip() == "(none)"
    code, out, _ = cli("customers", "usage", "acme", "--json", "--from", "2020-01-01")
    assert json.loads(out) == []

    with db.read() as conn:
        actions = list(conn.execute(select(audit_log.c.action).order_by(audit_log.c.id)).scalars())
    assert actions == [
        "deployment.secrets.record",  # the first command recorded the deployment's secrets
        "customer.create",
        "customer.create",
        "customer.rotate",
        "customer.disable",
        "customer.enable",
        "wallet.topup",
        "wallet.topup",
        "price.set",
        "price.set",
    ]
    code, out, _ = cli("audit", "verify")
    assert code == 0 and out.startswith("audit log OK: 10 entries")


def test_bad_arguments_are_one_line_errors(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = cli("customers", "show", "nobody")
    assert code == 2
    _one_line_error(err, "customer 'nobody' not found")
    cli("customers", "create", "Acme", "--slug", "acme")
    code, _, err = cli("customers", "create", "Again", "--slug", "acme")
    assert code == 2
    _one_line_error(err, "already exists")
    code, _, err = cli("customers", "topup", "acme", "pendar.credit", "-99999999999999")
    assert code == 2
    _one_line_error(err, "overdraw")
    code, _, err = cli("customers", "price", "acme", "jibit", "cards")
    assert code == 2
    _one_line_error(err, "--price")
    code, _, err = cli("clock", "freeze", "next tuesday")
    assert code == 2
    _one_line_error(err, "not an ISO-8601 instant")
    code, _, err = cli("customers", "create", "X", "--pendar-public-key", "/nonexistent.pem")
    assert code == 2
    _one_line_error(err, "cannot read /nonexistent.pem")
    # argparse refuses unknown choices itself: exit 2, a usage line and one error line.
    code, _, err = cli("customers", "topup", "acme", "jibit.XXX", "5")
    assert code == 2
    assert (
        err.strip().splitlines()[-1].startswith("pishkhan customers topup: error: argument wallet")
    )
    code, _, err = cli("customers", "topup", "acme", "jibit.PRF", "five")
    assert code == 2 and "invalid int value" in err
    monkeypatch.setenv("PISHKHAN_SURFACES", "jibit,sepah")
    code, _, err = cli("customers", "list")
    assert code == 2
    _one_line_error(err, "unknown surfaces", "sepah")
    code, _, err = cli("config")
    assert code == 2
    _one_line_error(err, "sepah")


def test_clock_commands(cli: Any) -> None:
    code, out, _ = cli("clock", "freeze", "2026-03-20T12:00:00", "--json")
    view = json.loads(out)
    assert code == 0 and view["mode"] == "frozen"
    assert view["now_utc"] == "2026-03-20T08:30:00+00:00"
    code, out, _ = cli("clock", "advance", "60", "--json")
    assert json.loads(out)["now_utc"] == "2026-03-20T08:31:00+00:00"
    code, out, _ = cli("clock", "show")
    assert "frozen" in out and "2026-03-20T12:01:00+03:30" in out
    code, out, _ = cli("clock", "offset", "-3600", "--json")
    assert json.loads(out)["mode"] == "offset" and json.loads(out)["offset_seconds"] == -3600
    code, out, _ = cli("clock", "clear", "--json")
    assert json.loads(out)["mode"] == "real"
    code, out, _ = cli("clock", "show", "--json")
    assert json.loads(out)["mode"] == "real"


def test_sandbox_reset(cli: Any, tmp_path: Path) -> None:
    cli("customers", "create", "Acme", "--slug", "acme")
    code, out, _ = cli("sandbox", "reset", "--no-world")
    assert code == 0
    assert out.startswith("sandbox reset; world seeded: False")
    assert "Jibit    apiKey=" in out
    code, out, _ = cli("customers", "list", "--json")
    assert [c["slug"] for c in json.loads(out)] == ["demo"]
    assert (tmp_path / "cli-data" / "demo-credentials.json").exists()
    code, out, _ = cli("sandbox", "reset", "--no-world", "--json")
    assert json.loads(out)["demo"]["slug"] == "demo"


def test_config_masks_secrets(cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PISHKHAN_DATABASE_URL", "postgresql://app:hunter2@db.example:5432/pk")
    monkeypatch.setenv("PISHKHAN_ADMIN_TOKEN", "admin-token-value")
    # The token secret from the data dir's secrets.json; config reads it, never generates one.
    (tmp_path / "cli-data").mkdir()
    (tmp_path / "cli-data" / "secrets.json").write_text('{"token_secret": "stored-token-secret"}')
    code, out, _ = cli("config", "--json")
    assert code == 0
    described = json.loads(out)
    assert "hunter2" not in out and "admin-token-value" not in out
    assert described["effective_database_url"] == "postgresql://app:***@db.example:5432/pk"
    assert described["admin_token"] == "ad***ue"
    assert described["token_secret"] == "st***et"
    assert "stored-token-secret" not in out
    assert json.loads((tmp_path / "cli-data" / "secrets.json").read_text()) == {
        "token_secret": "stored-token-secret"
    }
    code, out, _ = cli("config")
    assert code == 0 and "hunter2" not in out and "effective_database_url" in out


def test_clock_out_of_range_is_a_one_line_error(cli: Any, db: Any) -> None:
    message = "the sandbox clock must stay within 1970-01-01T00:00:00Z .. 9000-01-01T00:00:00Z"
    for args in (
        ("clock", "offset", "9007199254740992"),
        ("clock", "offset", "-9007199254740992"),
        ("clock", "advance", "1e300"),
        ("clock", "freeze", "9999-01-01T00:00:00Z"),
    ):
        code, out, err = cli(*args)
        assert code == 2 and out == "", args
        _one_line_error(err, message)
    for args in (("clock", "offset", "nan"), ("clock", "advance", "inf")):
        code, out, err = cli(*args)
        assert code == 2 and out == "", args
        _one_line_error(err, "seconds must be a finite number")
    code, out, err = cli("clock", "freeze", "0001-01-01T00:00:00")
    assert code == 2
    _one_line_error(err, "not an ISO-8601 instant")
    with db.engine.connect() as conn:
        assert conn.execute(select(sandbox_state)).all() == []
        # only the first command's record of the deployment's secrets
        assert conn.execute(select(audit_log.c.action)).scalars().all() == [
            "deployment.secrets.record"
        ]


@pytest.mark.parametrize("repair", [("clock", "clear"), ("sandbox", "reset", "--no-world")])
def test_clear_and_reset_recover_a_stored_bad_clock(
    cli: Any, db: Any, repair: tuple[str, ...]
) -> None:
    cli("db", "upgrade")
    with db.engine.begin() as conn:
        conn.execute(
            sandbox_state.insert().values(
                key="clock",
                value={"frozen_at": None, "offset_seconds": 9007199254740992.0},
                updated_at=datetime.now(UTC),
            )
        )
    code, out, err = cli("clock", "show")
    assert code == 2 and out == ""
    _one_line_error(err, "the sandbox clock is unusable", "pishkhan clock clear")
    code, out, err = cli(*repair)
    assert code == 0, err
    code, out, err = cli("clock", "show", "--json")
    assert code == 0 and json.loads(out)["mode"] == "real"
    with db.engine.connect() as conn:
        assert conn.execute(select(sandbox_state)).all() == []


def test_numbers_that_do_not_fit_are_one_line_errors(cli: Any, db: Any) -> None:
    cli("sandbox", "reset", "--no-world")
    with db.engine.connect() as conn:
        entries = conn.execute(select(audit_log)).all()
    for args, needle in (
        (("payman", "force", "FAILED", "--count", str(2**31)), "count: Input should be less"),
        (("pendar", "payment", "add", "demo", "p1", str(10**16)), "amount: Input should be less"),
        (("sandbox", "reset", "--no-world", "--seed", str(2**63)), "seed must fit 64 bits"),
        (("sandbox", "reset", "--people", str(10**12)), "people must be 0..1000000"),
        (("world", "seed", "--people", "1", "--seed", str(2**64)), "seed must fit 64 bits"),
        (("world", "list", "card", "--offset", str(2**63)), "offset must be between 0 and"),
    ):
        code, out, err = cli(*args)
        assert code == 2 and out == "", (args, out)
        _one_line_error(err, needle)
    with db.engine.connect() as conn:
        assert conn.execute(select(audit_log)).all() == entries  # nothing happened
