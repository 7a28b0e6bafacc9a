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
from pishkhan.core.db import sqlite_time
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
    assert entries[0]["prev_hash"] == audit.GENESIS and entries[0]["prev_id"] == 0
    for prev, entry in itertools.pairwise(entries):
        assert entry["prev_hash"] == prev["hash"] and entry["prev_id"] == prev["id"]
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


def test_a_relinked_entry_is_detected(runtime: Runtime) -> None:
    """``prev_id`` is outside the hashed content, so verify checks the link itself: an entry
    made to follow another than the one before it is reported there."""
    _append(runtime, 4)
    with runtime.db.read() as conn:
        ids = list(conn.execute(select(audit_log.c.id).order_by(audit_log.c.id)).scalars())
    with runtime.db.write() as conn:
        conn.execute(update(audit_log).where(audit_log.c.id == ids[2]).values(prev_id=ids[2] + 99))
    broken = _verify(runtime)
    assert not broken.ok and broken.entry_id == ids[2]
    assert broken.problem is not None and "prev_id" in broken.problem


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
    # 3 + the record of the deployment's secrets, made by the command's first start.
    assert capsys.readouterr().out.startswith("audit log OK: 4 entries, head ")
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
        rows = conn.execute(
            select(audit_log.c.id, audit_log.c.prev_id).order_by(audit_log.c.id)
        ).all()
    # every entry follows the one before it: no two claim the same predecessor
    assert [r.prev_id for r in rows] == [0, *(r.id for r in rows[:-1])]


def test_the_database_refuses_a_second_entry_after_the_same_one(runtime: Runtime) -> None:
    """The unique ``prev_id`` is what keeps the chain from forking, whatever the writer."""
    _append(runtime, 2)
    with runtime.db.read() as conn:
        last = conn.execute(select(audit_log).order_by(audit_log.c.id.desc())).mappings().first()
    assert last is not None
    with pytest.raises(IntegrityError), runtime.db.write() as conn:
        conn.execute(
            audit_log.insert().values(
                at=last["at"],
                actor="x",
                action="fork",
                subject="s",
                data={},
                prev_hash="e" * 64,
                hash="f" * 64,
                prev_id=last["prev_id"],
            )
        )
    assert _verify(runtime).ok


def test_chain_survives_the_audit_index_migrations(empty_db_url: str) -> None:
    """0007 drops ``uq_audit_log_hash``, 0011 moves the chain's unique key from ``prev_hash``
    to ``prev_id``, backfilled with the id of the entry before: the entries, their ids and the
    chain are kept, a fork is refused at every step, the chain goes on after them, and the
    downgrades put the old keys back."""
    from alembic import command
    from sqlalchemy import inspect, text

    from pishkhan.core import migrate
    from pishkhan.core.clock import Clock
    from pishkhan.core.db import Database

    db = Database(empty_db_url)
    log = audit.AuditLog(Clock())
    at = Clock().now_utc()
    stored_at: Any = at if db.dialect == "postgresql" else sqlite_time(at)

    def append_before_0011(n: int) -> None:
        """What AuditLog.append wrote before ``prev_id`` existed."""
        for i in range(n):
            with db.write() as conn:
                prev = conn.execute(
                    text("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")
                ).scalar()
                prev_hash = prev or audit.GENESIS
                digest = audit.entry_hash(prev_hash, at, "test", f"old.{i}", "s", {"i": i})
                conn.execute(
                    text(
                        "INSERT INTO audit_log (at, actor, action, subject, data, prev_hash, hash)"
                        " VALUES (:at, 'test', :action, 's', :data, :prev_hash, :hash)"
                    ),
                    {
                        "at": stored_at,
                        "action": f"old.{i}",
                        "data": f'{{"i": {i}}}',
                        "prev_hash": prev_hash,
                        "hash": digest,
                    },
                )

    def fork_refused(**values: Any) -> None:
        with pytest.raises(IntegrityError), db.write() as conn:
            conn.execute(
                text(
                    f"INSERT INTO audit_log (at, actor, action, subject, data, hash, "
                    f"{', '.join(values)}) VALUES (:at, 'x', 'fork', 's', '{{}}', :hash, "
                    f"{', '.join(':' + k for k in values)})"
                ),
                {"at": stored_at, "hash": "f" * 64, **values},
            )

    def unique_columns() -> set[tuple[str, ...]]:
        found = inspect(db.engine).get_unique_constraints("audit_log")
        return {tuple(u["column_names"]) for u in found}

    def chain() -> audit.VerifyResult:
        with db.read() as conn:
            return audit.verify(conn)

    def prev_hashes() -> list[str]:
        with db.read() as conn:
            return list(conn.execute(text("SELECT prev_hash FROM audit_log ORDER BY id")).scalars())

    try:
        migrate.upgrade(db, "0006_payman_pay")
        assert ("hash",) in unique_columns()
        append_before_0011(4)
        migrate.upgrade(db, "0007_audit_hash_index")
        assert unique_columns() == {("prev_hash",)}
        append_before_0011(1)
        fork_refused(prev_hash=prev_hashes()[-1])
        before = prev_hashes()
        migrate.upgrade(db)  # 0011
        assert unique_columns() == {("prev_id",)}
        after = chain()
        assert after.ok and after.entries == 5 and prev_hashes() == before
        with db.read() as conn:
            rows = conn.execute(select(audit_log.c.id, audit_log.c.prev_id)).all()
        assert [r.prev_id for r in rows] == [0, *(r.id for r in rows[:-1])]
        for i in range(2):
            with db.write() as conn:
                log.append(conn, actor="test", action=f"new.{i}", subject="s", data={"i": i})
        assert chain().ok and chain().entries == 7
        fork_refused(prev_hash="e" * 64, prev_id=rows[-1].id)
        cfg = migrate._config(db)
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0006_payman_pay")
        assert ("hash",) in unique_columns() and ("prev_hash",) in unique_columns()
        assert len(prev_hashes()) == 7
    finally:
        db.dispose()
