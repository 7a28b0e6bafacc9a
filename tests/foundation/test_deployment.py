"""The deployment's secrets (core.deployment): recorded once as verifiers, checked on every start,
never generated for a database that has them; the data directory and its files private."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pishkhan.core import bootstrap, deployment
from pishkhan.core.db import Database
from pishkhan.core.ids import check_secret_verifier
from pishkhan.core.tables import audit_log, deployment_secrets
from pishkhan.providers.pendar import ca
from pishkhan.runtime import Runtime
from pishkhan.settings import Settings, SettingsError


def _open(settings: Settings, **secrets: str) -> Runtime:
    return Runtime.open(replace(settings, **secrets), refresh_seconds=0.0)


def _recorded(runtime: Runtime) -> dict[str, str]:
    with runtime.db.read() as conn:
        rows = conn.execute(select(deployment_secrets.c.name, deployment_secrets.c.verifier))
        return {row.name: row.verifier for row in rows}


def _refused(settings: Settings, **secrets: str) -> str:
    rt = _open(settings, **secrets)
    try:
        with pytest.raises(deployment.SecretsMismatch) as info:
            deployment.establish(rt)
    finally:
        rt.close()
    return str(info.value)


def test_first_start_generates_and_records_later_starts_check(settings: Settings) -> None:
    bare = replace(settings, admin_token="", token_secret="")
    first = _open(bare)
    try:
        deployment.establish(first)
        path = settings.data_dir / "secrets.json"
        stored = json.loads(path.read_text())
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(settings.data_dir.stat().st_mode) == 0o700
        assert (first.settings.admin_token, first.settings.token_secret) == (
            stored["admin_token"],
            stored["token_secret"],
        )
        recorded = _recorded(first)
        assert set(recorded) == {"admin_token", "token_secret"}
        for name, verifier in recorded.items():
            # A verifier, never the secret: salted, checked only by recomputing it.
            assert stored[name] not in verifier and verifier.startswith("scrypt$")
            assert check_secret_verifier(stored[name], verifier)
            assert not check_secret_verifier(stored[name] + "x", verifier)
        with first.db.read() as conn:
            actions = conn.execute(select(audit_log.c.action, audit_log.c.data)).all()
        assert actions == [
            (
                "deployment.secrets.record",
                {
                    "recorded": ["token_secret", "admin_token"],
                    "generated": ["admin_token", "token_secret"],
                },
            )
        ]
        # A sandbox reset keeps the deployment's record.
        bootstrap.reset(first, seed_world=False)
        assert _recorded(first) == recorded
    finally:
        first.close()
    # The same host again (secrets.json) and a host given them in its environment: accepted,
    # nothing generated or recorded again.
    before = path.read_bytes()
    again = _open(bare)
    try:
        deployment.establish(again)
        assert again.settings.token_secret == stored["token_secret"]
        assert _recorded(again) == recorded
    finally:
        again.close()
    assert path.read_bytes() == before
    elsewhere = replace(settings, data_dir=settings.data_dir.parent / "host-b")
    joined = _open(elsewhere, **stored)
    try:
        deployment.establish(joined)
        assert joined.settings.admin_token == stored["admin_token"]
    finally:
        joined.close()
    assert not (elsewhere.data_dir / "secrets.json").exists()
    # A host without them, or with others, is refused and generates nothing.
    nothing = replace(settings, data_dir=settings.data_dir.parent / "host-c")
    message = _refused(nothing, admin_token="", token_secret="")
    assert message.startswith(
        "this database belongs to a deployment whose token secret and admin token differ"
        " from this host's (this host has none): set PISHKHAN_TOKEN_SECRET and"
        " PISHKHAN_ADMIN_TOKEN to the values the deployment's first host uses"
    ), message
    assert message.endswith(
        f"copy that host's data dir's secrets.json to {nothing.data_dir}/secrets.json"
    )
    assert not (nothing.data_dir / "secrets.json").exists()
    message = _refused(elsewhere, admin_token=stored["admin_token"], token_secret="other")
    assert (
        "whose token secret differs from this host's: set PISHKHAN_TOKEN_SECRET to the value"
        in message
    )


def test_env_secret_wins_and_only_the_missing_one_is_generated(settings: Settings) -> None:
    rt = _open(settings, admin_token="from-env", token_secret="")
    try:
        deployment.establish(rt)
        stored = json.loads((settings.data_dir / "secrets.json").read_text())
        assert set(stored) == {"token_secret"}
        assert rt.settings.admin_token == "from-env"
        assert rt.settings.token_secret == stored["token_secret"]
    finally:
        rt.close()
    # Both given: nothing is written.
    other = replace(settings, data_dir=settings.data_dir.parent / "other")
    rt = _open(other, admin_token="from-env", token_secret=stored["token_secret"])
    try:
        deployment.establish(rt)
    finally:
        rt.close()
    assert not (other.data_dir / "secrets.json").exists()
    # A secrets.json that is not a JSON object of strings is named, not silently replaced.
    (other.data_dir / "secrets.json").write_text("[1]")
    with pytest.raises(SettingsError, match=r"secrets\.json is unreadable"):
        deployment.local_settings(other)


def test_upgraded_database_records_only_the_secret_that_opens_its_ca_keys(
    settings: Settings,
) -> None:
    """A database made before the verifiers existed: the first start records them, unless its
    token secret is not the one the Pendar CA keys were sealed under."""
    sealed = _open(replace(settings, extra={"pendar_ca_key": "ec-p256"}))
    try:
        ca.hierarchy(sealed)  # the CA keys, sealed under the settings' token secret
        assert _recorded(sealed) == {}
    finally:
        sealed.close()
    message = _refused(settings, token_secret="not-the-one-that-sealed-them")
    assert "its Pendar CA keys were sealed under another one" in message
    assert "set PISHKHAN_TOKEN_SECRET" in message
    # No secrets at all: the one it would generate cannot open them either; nothing written.
    bare = replace(settings, data_dir=settings.data_dir.parent / "bare")
    assert "Pendar CA keys" in _refused(bare, admin_token="", token_secret="")
    assert not (bare.data_dir / "secrets.json").exists()
    rt = _open(settings)
    try:
        assert _recorded(rt) == {}
        deployment.establish(rt)
        assert set(_recorded(rt)) == {"token_secret", "admin_token"}
        with rt.db.read() as conn:
            count = select(func.count()).select_from(audit_log)
            assert (
                conn.execute(
                    count.where(audit_log.c.action == "deployment.secrets.record")
                ).scalar_one()
                == 1
            )
    finally:
        rt.close()


def test_existing_data_dir_and_database_files_are_tightened(tmp_path: Path) -> None:
    data = tmp_path / "var"
    data.mkdir()
    os.chmod(data, 0o755)
    path = data / "pishkhan.sqlite3"
    names = ("pishkhan.sqlite3", "-wal", "-shm", "-credentials")
    for name in (names[0], *(names[0] + suffix for suffix in names[1:])):
        (data / name).write_bytes(b"")
        os.chmod(data / name, 0o644)
    db = Database(f"sqlite:///{path}")
    db.dispose()
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in data.iterdir()}
    assert modes == {
        "pishkhan.sqlite3": 0o600,
        "pishkhan.sqlite3-wal": 0o600,
        "pishkhan.sqlite3-shm": 0o600,
        "pishkhan.sqlite3-credentials": 0o600,
    }
    settings = replace(Settings(), data_dir=data, database_url=f"sqlite:///{path}")
    from pishkhan.core import migrate

    rt = Runtime.open(settings, refresh_seconds=0.0)
    try:
        migrate.upgrade(rt.db)
        deployment.establish(rt)
    finally:
        rt.close()
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "secrets.json").stat().st_mode) == 0o600


def test_new_sqlite_database_and_its_log_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / "deep" / "db.sqlite3"
    db = Database(f"sqlite:///{path}")
    try:
        with db.write() as conn:
            conn.exec_driver_sql("CREATE TABLE t (a INTEGER)")
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in path.parent.iterdir()}
        assert modes == {"db.sqlite3": 0o600, "db.sqlite3-wal": 0o600, "db.sqlite3-shm": 0o600}
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    finally:
        db.dispose()


def test_hosts_starting_together_on_a_new_database_agree_on_one_deployment(
    settings: Settings,
) -> None:
    """Two hosts with no secrets start at once on a new database: one records its generated
    secrets, the other refuses, whichever order their transactions take; the loser writes none."""
    from concurrent.futures import ThreadPoolExecutor

    hosts = [
        replace(
            settings,
            data_dir=settings.data_dir.parent / f"host{i}",
            admin_token="",
            token_secret="",
        )
        for i in range(2)
    ]
    runtimes = [_open(h) for h in hosts]

    def start(rt: Runtime) -> str:
        try:
            deployment.establish(rt)
        except deployment.SecretsMismatch as exc:
            return str(exc)
        return "served"

    try:
        with ThreadPoolExecutor(2) as pool:
            outcomes = list(pool.map(start, runtimes))
        assert outcomes.count("served") == 1, outcomes
        winner = outcomes.index("served")
        loser = 1 - winner
        assert outcomes[loser].startswith("this database belongs to a deployment"), outcomes
        assert (hosts[winner].data_dir / "secrets.json").exists()
        assert not (hosts[loser].data_dir / "secrets.json").exists()
        stored = json.loads((hosts[winner].data_dir / "secrets.json").read_text())
        recorded = _recorded(runtimes[winner])
        assert all(check_secret_verifier(stored[n], v) for n, v in recorded.items())
    finally:
        for rt in runtimes:
            rt.close()
