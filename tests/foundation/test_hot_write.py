"""Database.hot_write, DriverSQL and is_busy: the hot-path transaction helpers of core/db.py."""

from __future__ import annotations

import os
import sqlite3
import time
from typing import Any

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


def _wal_sequence(path: str) -> int | None:
    """The WAL header's checkpoint sequence number: it goes up each time the log starts over."""
    try:
        with open(path, "rb") as f:
            header = f.read(32)
    except FileNotFoundError:
        return None
    return int.from_bytes(header[12:16], "big") if len(header) == 32 else None


def test_wal_starts_over_under_a_steady_load(db: Database) -> None:
    """Under a steady load of hot transactions the WAL starts over again and again, without the
    blocking checkpoint: no hot transaction gives up on a lock, the file does not grow while
    many times the limit goes through it, and no write is lost."""
    if not db.is_sqlite:
        pytest.skip("SQLite WAL")
    limit = db.wal_reset_bytes = 256 * 1024
    db.checkpoint_interval_s = 0.5  # the limit is small: checkpoint as often as it needs
    wal = f"{make_url(db.url).database}-wal"
    before = os.stat(wal).st_size if os.path.exists(wal) else 0
    written = 0
    first: int | None = None
    restarts = 0
    deadline = time.monotonic() + 30  # a bound: restarts come within a few checkpoint periods
    while restarts < 4 and time.monotonic() < deadline:
        keys = [f"wal.{written + i}" for i in range(20)]
        with db.hot_write() as conn:  # a steady load: one small transaction after another
            for key in keys:
                _put(db, conn, key)
        written += len(keys)
        time.sleep(0.01)  # a few pages a commit, ~100 commits a second
        sequence = _wal_sequence(wal)
        if sequence is not None:
            first = sequence if first is None else first
            restarts = sequence - first
    assert restarts >= 4
    assert db.wal_resets == 0  # the blocking fallback was not needed
    # the file is reused from its start: it does not grow with the load
    assert os.stat(wal).st_size < max(before, 12 * limit)
    with db.read() as conn:
        count = conn.execute(
            text("SELECT count(*) FROM sandbox_state WHERE key LIKE 'wal.%'")
        ).scalar_one()
    assert count == written


def test_hot_writer_lets_the_wal_start_over_when_asked(db: Database) -> None:
    """A busy writer never leaves the background checkpoint a moment with every frame copied, so
    the log would never start over. Asked (``wal_restart_wanted``, set by the checkpoint thread
    past the limit), the next hot writer copies the last frames right after its commit, and
    its next transaction starts the log over."""
    if not db.is_sqlite:
        pytest.skip("SQLite WAL")
    wal = f"{make_url(db.url).database}-wal"
    with db.hot_write() as conn:
        _put(db, conn, "ask.0")
    db._stop.set()  # no background checkpoint from here: the test plays its part
    assert db._checkpointer is not None
    db._checkpointer.join(timeout=5)
    for i in range(1, 30):
        with db.hot_write() as conn:
            _put(db, conn, f"ask.{i}")
    sequence = _wal_sequence(wal)
    assert sequence is not None
    with db.hot_write() as conn:  # not asked: the log goes on
        _put(db, conn, "ask.30")
    assert _wal_sequence(wal) == sequence and db.wal_restarts == 0
    db.wal_restart_wanted = True
    with db.hot_write() as conn:  # asked: the checkpoint after this commit copies everything
        _put(db, conn, "ask.31")
    assert db.wal_restarts == 1 and not db.wal_restart_wanted
    with db.hot_write() as conn:  # and this transaction starts the log over
        _put(db, conn, "ask.32")
    assert _wal_sequence(wal) == sequence + 1
    assert sum(k.startswith("ask.") for k in _keys(db)) == 33


def test_wal_left_past_the_limit_is_emptied_when_no_writer_comes(db: Database) -> None:
    """A log past the limit when the writes stop (no hot writer takes the request up): the
    checkpoint thread falls back to the blocking checkpoint and empties the file."""
    if not db.is_sqlite:
        pytest.skip("SQLite WAL")
    limit = db.wal_reset_bytes = 64 * 1024
    db.checkpoint_interval_s = 0.5  # the fallback comes after a few periods
    wal = f"{make_url(db.url).database}-wal"
    value = '{"a": "' + "x" * 1000 + '"}'
    with db.hot_write() as conn:
        for i in range(400):
            _INSERT.run(conn, {"key": f"idle.{i}", "value": value, "at": "2026-01-01 00:00:00"})
    assert os.stat(wal).st_size > limit
    deadline = time.monotonic() + 10
    while db.wal_resets < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert db.wal_resets >= 1
    assert os.stat(wal).st_size == 0
    assert sum(k.startswith("idle.") for k in _keys(db)) == 400


def test_unchanged_since_a_mark(db: Database) -> None:
    """Database.unchanged_since: what was read on the kept hot connection before a mark still
    holds in a later hot transaction unless something was written in between (by another
    connection, or by this one) or an earlier caller in the transaction took the same claim."""
    if not db.is_sqlite:
        with db.read() as conn:
            assert db.hot_mark(conn) is None  # PostgreSQL: no kept connection, always read
        return

    def mark() -> Any:
        with db.hot_read() as conn:
            found = db.hot_mark(conn)
        assert found is not None
        return found

    m = mark()
    with db.hot_write() as conn:  # a first reading: nothing is known before it
        assert not db.unchanged_since(conn, m, "a")
    with db.hot_write() as conn:
        assert db.hot_mark(conn) is None  # marks are taken outside transactions
    m = mark()
    with db.hot_write() as conn:
        assert db.unchanged_since(conn, m, "a")
        assert db.unchanged_since(conn, m, "b")
        assert not db.unchanged_since(conn, m, "a")  # claimed earlier in this transaction
        _put(db, conn, "mark.same")
    assert not _unchanged(db, m)  # this connection wrote after the mark
    m = mark()
    with db.write() as conn:  # another connection commits
        _put(db, conn, "mark.other")
    assert not _unchanged(db, m)
    m = mark()
    with db.hot_write():  # a transaction that asks nothing
        pass
    with db.write() as conn:
        _put(db, conn, "mark.other.later")
    assert not _unchanged(db, m)  # seen at the next reading, whichever transaction asks
    m = mark()
    assert _unchanged(db, m)
    with db.read() as conn:  # an ordinary connection: no mark
        assert db.hot_mark(conn) is None


def _unchanged(db: Database, mark: Any) -> bool:
    with db.hot_write() as conn:
        return db.unchanged_since(conn, mark, "claim")
