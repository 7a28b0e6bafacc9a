"""The credential epoch (``pishkhan.tenants.credentials``): a bump committed on any connection is
seen by the next read of every process; PostgreSQL reads share a few kept connections. The
credential cache (``pishkhan.tenants.cache``) keeps values while the epoch stands."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.engine import Connection

from pishkhan.core.db import Database
from pishkhan.tenants import cache, credentials


def test_a_bump_is_seen_at_once_by_another_database_object(db: Database, db_url: str) -> None:
    other = Database(db_url)  # another process's view: its own engine and connections
    try:
        reader = credentials.epoch(other)
        before = reader.current()
        with db.write() as conn:
            bumped = credentials.bump(conn)
        assert bumped == before + 1
        assert reader.current() == bumped  # no interval, no cache
        with db.write() as conn:
            assert credentials.bump(conn) == bumped + 1
        assert reader.current() == bumped + 1
        # A bump rolled back is never seen.
        try:
            with db.write() as conn:
                credentials.bump(conn)
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        assert reader.current() == bumped + 1

        def read(_: int) -> int:
            return reader.current()

        with ThreadPoolExecutor(max_workers=16) as pool:
            assert set(pool.map(read, range(400))) == {bumped + 1}
        if other.is_postgres:
            assert reader._open <= credentials.PG_CONNECTIONS
        reader.close()  # the engine disposed: connections closed, the next read opens anew
        with db.write() as conn:
            assert credentials.bump(conn) == bumped + 2
        assert reader.current() == bumped + 2
    finally:
        other.dispose()


def _counting(loads: list[int]) -> cache.Lookup[int, int]:
    """A lookup answering ``key * 10 + epoch`` and counting its loads."""

    def load(conn: Connection, key: int, epoch: int) -> int | None:
        loads.append(key)
        return None if key < 0 else key * 10 + epoch

    return cache.Lookup("test.counting", load)


def _bump(db: Database) -> int:
    with db.write() as conn:
        return credentials.bump(conn)


def test_the_cache_keeps_values_while_the_epoch_stands(db: Database, db_url: str) -> None:
    other = Database(db_url)  # the process that holds the cache
    try:
        loads: list[int] = []
        lookup = _counting(loads)
        kept = cache.CredentialCache(other, refresh=0.0)
        epoch = _bump(db)
        assert kept.find(lookup, 1) == 10 + epoch
        assert kept.find(lookup, 1) == 10 + epoch
        assert kept.find(lookup, -1) is None
        assert kept.find(lookup, -1) is None  # a miss is kept too
        assert loads == [1, -1]
        assert kept.latest().cached(lookup, 1) == 10 + epoch
        with pytest.raises(cache.CacheMiss):
            kept.latest().cached(lookup, -1)  # a refusal is never answered unchecked
        with pytest.raises(cache.CacheMiss):
            kept.latest().cached(lookup, 2)

        moved = _bump(db)  # a change committed through another process
        assert kept.latest().cached(lookup, 1) == 10 + epoch  # unchecked: as kept
        assert kept.find(lookup, 1) == 10 + moved  # the very next lookup reloads
        assert loads == [1, -1, 1]
        kept.check(moved)
        with pytest.raises(cache.StaleCredentials):
            kept.check(epoch)
    finally:
        other.dispose()


def test_a_value_loaded_after_a_change_is_answered_not_kept(db: Database, db_url: str) -> None:
    other = Database(db_url)
    try:
        loads: list[int] = []
        lookup = _counting(loads)
        kept = cache.CredentialCache(other, refresh=0.0)
        generation = kept.fresh()
        moved = _bump(db)  # committed between the check and the load
        assert generation.get(lookup, 1) == 10 + moved
        assert generation.get(lookup, 1) == 10 + moved
        assert loads == [1, 1]  # not kept in a generation older than what it read
        assert kept.find(lookup, 1) == 10 + moved
        assert kept.find(lookup, 1) == 10 + moved
        assert loads == [1, 1, 1]
    finally:
        other.dispose()


def test_an_interval_reads_the_epoch_less_often_unless_asked(db: Database, db_url: str) -> None:
    other = Database(db_url)
    try:
        loads: list[int] = []
        lookup = _counting(loads)
        kept = cache.CredentialCache(other, refresh=3600.0)
        epoch = _bump(db)
        assert kept.find(lookup, 1) == 10 + epoch
        moved = _bump(db)
        assert kept.find(lookup, 1) == 10 + epoch  # read within the interval: not again
        assert kept.find(lookup, 1, max_age=0) == 10 + moved  # Payman's way: always read
        assert kept.find(lookup, 1) == 10 + moved
    finally:
        other.dispose()


def test_sqlite_readers_trust_the_signal_file_only_while_it_agrees_with_the_table(
    db: Database, db_url: str
) -> None:
    """On a SQLite file the counter is also written, before the commit, to a file beside the
    database that every process maps: a reader answers from it while it agrees with the table,
    reads the table while they differ (a change still committing), and catches a new file up."""
    if not db.is_sqlite:
        pytest.skip("the signal file is SQLite's (one host)")
    path = f"{db.engine.url.database}-credentials"
    other = Database(db_url)
    try:
        reader = credentials.epoch(other)
        start = _bump(db)
        assert reader.current() == start
        assert oct(os.stat(path).st_mode & 0o777) == "0o600"
        # While file and table agree the table is not read: a row changed behind the file's
        # back (never done by pishkhan) is not seen...
        with db.write() as conn:
            conn.exec_driver_sql("UPDATE credential_epoch SET version = version + 100")
        assert reader.current() == start
        # ... and a change through bump() is, at once.
        assert _bump(db) == start + 101
        assert reader.current() == start + 101
        # A change still committing raised the file first: readers keep to the table's value
        # until the commit, then see it.
        with db.write() as conn:
            pending = credentials.bump(conn)
            assert reader.current() == start + 101
        assert reader.current() == pending == start + 102
        # A new (empty) file: the reader reads the table and brings the file up to it.
        reader.close()
        os.remove(path)
        assert reader.current() == pending
        with open(path, "rb") as signal_file:
            assert int.from_bytes(signal_file.read(8), "little") == pending
    finally:
        other.dispose()
