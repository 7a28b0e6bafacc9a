"""The hash-chained audit log: written by every control-plane change, verified, tamper-evident."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from pishkhan.cli import main
from pishkhan.core import audit
from pishkhan.core.tables import audit_log
from pishkhan.runtime import Runtime

V1 = "/_pishkhan/v1"


def _verify(runtime: Runtime) -> audit.VerifyResult:
    with runtime.db.read() as conn:
        return audit.verify(conn)


def _append(runtime: Runtime, n: int, prefix: str = "t") -> None:
    for i in range(n):
        with runtime.db.write() as conn:
            runtime.audit.append(
                conn, actor="test", action=f"{prefix}.{i}", subject="s", data={"i": i, "f": 0.5}
            )


def test_every_control_plane_change_is_audited(admin: Any, runtime: Runtime) -> None:
    steps: list[tuple[str, dict[str, Any]]] = [
        ("/customers", {"name": "Acme", "slug": "acme"}),
        ("/customers/acme/status", {"status": "disabled"}),
        ("/customers/acme/status", {"status": "active"}),
        ("/customers/acme/rotate", {"surface": "jibit"}),
        ("/customers/acme/topup", {"wallet": "jibit.PRF", "amount": 10}),
        ("/customers/acme/credit-limit", {"wallet": "jibit.POF", "credit_limit": 10}),
        ("/customers/acme/prices", {"surface": "jibit", "service": "cards", "price": 1}),
        ("/clock/freeze", {"at": "2026-01-01T00:00:00"}),
        ("/clock/advance", {"seconds": 60}),
        ("/clock/offset", {"seconds": 60}),
        ("/clock/clear", {}),
        ("/sandbox/reset", {"seed_world": False}),
    ]
    acme_id = None
    for path, body in steps:
        r = admin.post(V1 + path, json=body)
        assert r.status_code in (200, 201), (path, r.text)
        acme_id = acme_id or r.json()["id"]
    r = admin.patch(f"{V1}/customers/demo", json={"name": "Demo 2"})
    assert r.status_code == 200
    # Refused changes write nothing.
    assert (
        admin.post(
            f"{V1}/customers/demo/topup", json={"wallet": "jibit.PRF", "amount": 0}
        ).status_code
        == 400
    )
    entries = admin.get(f"{V1}/audit").json()["entries"]
    assert [e["action"] for e in entries] == [
        "customer.create",
        "customer.disable",
        "customer.enable",
        "customer.rotate",
        "wallet.topup",
        "wallet.credit_limit",
        "price.set",
        "clock.freeze",
        "clock.advance",
        "clock.offset",
        "clock.clear",
        "sandbox.reset",
        "customer.create",  # the demo customer recreated by the reset
        "customer.update",
    ]
    assert entries[0]["subject"] == f"customer:{acme_id}" and entries[0]["data"] == {
        "slug": "acme",
        "name": "Acme",
    }
    assert entries[3]["data"] == {"surface": "jibit"}
    assert entries[4]["data"] == {"wallet": "jibit.PRF", "amount": 10, "reference": None}
    assert entries[0]["prev_hash"] == audit.GENESIS
    for prev, entry in itertools.pairwise(entries):
        assert entry["prev_hash"] == prev["hash"]
    # Secrets never reach the audit log.
    assert "secretKey" not in str(entries)
    verified = admin.get(f"{V1}/audit/verify").json()
    assert verified["ok"] is True and verified["entries"] == len(entries)
    assert verified["head"] == entries[-1]["hash"]
    assert admin.get(f"{V1}/audit", params={"after": entries[-2]["id"]}).json()["entries"] == [
        entries[-1]
    ]


def test_modified_entry_is_detected_at_that_entry(runtime: Runtime) -> None:
    _append(runtime, 5)
    ok = _verify(runtime)
    assert ok.ok and ok.entries == 5 and ok.problem is None
    with runtime.db.read() as conn:
        ids = list(conn.execute(select(audit_log.c.id).order_by(audit_log.c.id)).scalars())
    with runtime.db.write() as conn:
        conn.execute(
            update(audit_log).where(audit_log.c.id == ids[2]).values(data={"i": 99, "f": 0.5})
        )
    broken = _verify(runtime)
    assert not broken.ok and broken.entry_id == ids[2]
    assert broken.problem is not None and "modified" in broken.problem


def test_modified_actor_or_time_is_detected(runtime: Runtime) -> None:
    _append(runtime, 3)
    with runtime.db.read() as conn:
        first = conn.execute(select(audit_log).order_by(audit_log.c.id)).mappings().first()
    assert first is not None
    with runtime.db.write() as conn:
        conn.execute(update(audit_log).where(audit_log.c.id == first["id"]).values(actor="someone"))
    assert _verify(runtime).entry_id == first["id"]


def test_deleted_middle_entry_is_detected(runtime: Runtime) -> None:
    _append(runtime, 5)
    with runtime.db.read() as conn:
        ids = list(conn.execute(select(audit_log.c.id).order_by(audit_log.c.id)).scalars())
    with runtime.db.write() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.id == ids[2]))
    broken = _verify(runtime)
    assert not broken.ok and broken.entry_id == ids[3]
    assert broken.problem is not None and "deleted" in broken.problem


def test_cli_audit_verify_exit_status(
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Any,
) -> None:
    monkeypatch.setenv("PISHKHAN_DATA_DIR", str(tmp_path / "cli"))
    monkeypatch.setenv("PISHKHAN_DATABASE_URL", runtime.db.url)
    _append(runtime, 3)
    assert main(["audit", "verify"]) == 0
    assert capsys.readouterr().out.startswith("audit log OK: 3 entries, head ")
    with runtime.db.read() as conn:
        last = (
            conn.execute(select(audit_log.c.id).order_by(audit_log.c.id.desc())).scalars().first()
        )
    with runtime.db.write() as conn:
        conn.execute(update(audit_log).where(audit_log.c.id == last).values(subject="x"))
    assert main(["audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"audit log BROKEN at entry {last}:")
    assert main(["audit", "verify", "--json"]) == 1
    import json

    assert json.loads(capsys.readouterr().out)["ok"] is False


def test_concurrent_appends_never_fork_the_chain(runtime: Runtime) -> None:
    n_threads, per_thread = 8, 5
    barrier = threading.Barrier(n_threads)
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            barrier.wait()
            _append(runtime, per_thread, prefix=f"w{k}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    result = _verify(runtime)
    assert result.ok and result.entries == n_threads * per_thread
    with runtime.db.read() as conn:
        prevs = list(conn.execute(select(audit_log.c.prev_hash)).scalars())
    assert len(set(prevs)) == len(prevs)  # no two entries claim the same predecessor


def test_chain_survives_the_hash_index_migration(empty_db_url: str) -> None:
    """0007 drops ``uq_audit_log_hash`` (no query needs it): the entries, their ids and the
    chain are kept, ``prev_hash`` stays unique, and the chain goes on after it."""
    from alembic import command
    from sqlalchemy import inspect

    from pishkhan.core import migrate
    from pishkhan.core.clock import Clock
    from pishkhan.core.db import Database

    db = Database(empty_db_url)
    log = audit.AuditLog(Clock())

    def append(n: int, prefix: str) -> None:
        for i in range(n):
            with db.write() as conn:
                log.append(conn, actor="test", action=f"{prefix}.{i}", subject="s", data={"i": i})

    def unique_columns() -> set[tuple[str, ...]]:
        found = inspect(db.engine).get_unique_constraints("audit_log")
        return {tuple(u["column_names"]) for u in found}

    def chain() -> audit.VerifyResult:
        with db.read() as conn:
            return audit.verify(conn)

    try:
        migrate.upgrade(db, "0006_payman_pay")
        assert ("hash",) in unique_columns()
        append(4, "before")
        before = chain()
        assert before.ok and before.entries == 4
        migrate.upgrade(db)
        assert unique_columns() == {("prev_hash",)}
        after = chain()
        assert after.ok and after.entries == 4 and after.head == before.head
        append(2, "after")
        assert chain().ok and chain().entries == 6
        with db.read() as conn:
            prev = conn.execute(select(audit_log.c.prev_hash).order_by(audit_log.c.id)).first()
        assert prev is not None
        with pytest.raises(IntegrityError), db.write() as conn:  # a fork is still refused
            conn.execute(
                audit_log.insert().values(
                    at=Clock().now_utc(),
                    actor="x",
                    action="fork",
                    subject="s",
                    data={},
                    prev_hash=prev[0],
                    hash="f" * 64,
                )
            )
        cfg = migrate._config(db)
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0006_payman_pay")
        assert ("hash",) in unique_columns()
        assert chain().ok and chain().entries == 6
    finally:
        db.dispose()
