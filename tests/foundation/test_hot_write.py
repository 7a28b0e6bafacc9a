"""Database.hot_write, DriverSQL and is_busy: the hot-path transaction helpers of core/db.py."""

from __future__ import annotations

import os
import sqlite3
import time

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from pishkhan.core.db import HOT_BUSY_TIMEOUT_MS, Database, DriverSQL, driver_connection, is_busy
from pishkhan.core.tables import sandbox_state

_INSERT = DriverSQL("INSERT INTO sandbox_state (key, value, updated_at) VALUES (:key, :value, :at)")


def _put(db: Database, conn: object, key: str) -> None:
    at = "2026-01-01 00:00:00.000000" if db.is_sqlite else "2026-01-01T00:00:00+00:00"
    _INSERT.run(conn, {"key": key, "value": '{"a": 1}', "at": at})  # type: ignore[arg-type]


def _keys(db: Database) -> set[str]:
    with db.read() as conn:
        return {r[0] for r in conn.execute(select(sandbox_state.c.key))}


def test_commits_and_rolls_back(db: Database) -> None:
    with db.hot_write() as conn:
        _put(db, conn, "hot.one")
    assert "hot.one" in _keys(db)
    with pytest.raises(ValueError), db.hot_write() as conn:
        _put(db, conn, "hot.two")
        raise ValueError("application error")
    assert "hot.two" not in _keys(db)
    with db.hot_write() as conn:  # usable again
        _put(db, conn, "hot.three")
    assert {"hot.one", "hot.three"} <= _keys(db)


def test_core_statements_join_the_same_transaction(db: Database) -> None:
    with pytest.raises(RuntimeError), db.hot_write() as conn:
        _put(db, conn, "hot.driver")
        conn.execute(
            sandbox_state.insert().values(key="hot.core", value={"b": 2}, updated_at=text("'x'"))
            if db.is_sqlite
            else text(
                "INSERT INTO sandbox_state (key, value, updated_at) "
                "VALUES ('hot.core', '{}', now())"
            )
        )
        raise RuntimeError("undo both")
    assert not {"hot.driver", "hot.core"} & _keys(db)
    with db.hot_write() as conn:
        conn.execute(text("DELETE FROM sandbox_state WHERE key = 'nothing'"))
        _put(db, conn, "hot.after_core")
    assert "hot.after_core" in _keys(db)


def test_sqlite_connection_is_kept_per_thread(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("SQLite only")
    with db.hot_write() as first:
        pass
    with pytest.raises(KeyError), db.hot_write():
        raise KeyError("application error")
    with db.hot_write() as again:
        pass
    assert again is first


def test_locked_database_gives_up_quickly(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("SQLite only")
    path = db.url.split("///", 1)[1]
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        start = time.perf_counter()
        with pytest.raises(Exception) as info, db.hot_write() as conn:
            _put(db, conn, "hot.locked")
        assert is_busy(info.value)
        assert time.perf_counter() - start < 1 + HOT_BUSY_TIMEOUT_MS / 1000
    finally:
        other.execute("ROLLBACK")
        other.close()
    with db.hot_write() as conn:  # a fresh connection after the error
        _put(db, conn, "hot.unlocked")
    assert "hot.unlocked" in _keys(db)


def test_is_busy_only_for_locks() -> None:
    assert is_busy(sqlite3.OperationalError("database is locked"))
    assert not is_busy(sqlite3.OperationalError("no such table: x"))
    assert not is_busy(ValueError("database is locked"))


def test_driver_sql_paramstyles() -> None:
    sql = DriverSQL("UPDATE t SET a = :a WHERE b = :b_2 AND c = '10:30' AND d::text = :d")
    assert sql.sqlite == sql.text
    assert sql.pg == (
        "UPDATE t SET a = %(a)s WHERE b = %(b_2)s AND c = '10:30' AND d::text = %(d)s"
    )


def test_dispose_closes_hot_connections(db: Database) -> None:
    with db.hot_write() as conn:
        pass
    db.dispose()
    if db.is_sqlite:
        assert conn.closed
    with db.hot_write() as conn2:  # the engine is usable after dispose
        _put(db, conn2, "hot.after_dispose")
    assert "hot.after_dispose" in _keys(db)


def test_hot_read_reads_outside_any_transaction(db: Database) -> None:
    """hot_read: on a SQLite file the kept connection, with no transaction left open (a
    write right after it is not blocked); each read sees what was committed."""
    select_value = DriverSQL("SELECT value FROM sandbox_state WHERE key = :key")
    with db.hot_write() as conn:
        _put(db, conn, "hot.read")
    with db.hot_read() as conn:
        assert select_value.run(conn, {"key": "hot.read"}).fetchone() is not None
        if db.is_sqlite:
            assert not driver_connection(conn).in_transaction
    with db.hot_write() as conn:
        _put(db, conn, "hot.read.after")
    assert {"hot.read", "hot.read.after"} <= _keys(db)


def test_wal_is_reset_under_a_steady_write_load(db: Database) -> None:
    """The passive checkpoint alone never lets a busy writer start the WAL over: past the reset
    size the checkpoint thread empties the file while writes go on, and no write is lost."""
    if not db.is_sqlite:
        pytest.skip("SQLite WAL")
    limit = db.wal_reset_bytes = 256 * 1024
    wal = f"{make_url(db.url).database}-wal"
    written = 0
    grown = emptied = False
    deadline = time.monotonic() + 30  # a bound: resets come within a few checkpoint periods
    while not (emptied and db.wal_resets >= 2) and time.monotonic() < deadline:
        keys = [f"wal.{written + i}" for i in range(20)]
        try:  # a steady load: one small transaction after another
            with db.hot_write() as conn:
                for key in keys:
                    _put(db, conn, key)
        except Exception as exc:
            # the reset holds the writer's lock longer than a hot transaction waits: such a
            # transaction is run again on an ordinary connection (as group commit does)
            assert is_busy(exc)
            with db.write() as conn:
                for key in keys:
                    _put(db, conn, key)
        written += len(keys)
        size = os.stat(wal).st_size
        grown = grown or size > limit
        emptied = emptied or (grown and size < limit)
    assert db.wal_resets >= 2
    assert grown and emptied  # past the limit, then started over while the load went on
    with db.read() as conn:
        count = conn.execute(
            text("SELECT count(*) FROM sandbox_state WHERE key LIKE 'wal.%'")
        ).scalar_one()
    assert count == written
