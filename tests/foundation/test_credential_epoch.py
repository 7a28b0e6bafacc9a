"""The credential epoch (``pishkhan.tenants.credentials``): a bump committed on any connection is
seen by the next read of every process; PostgreSQL reads share a few kept connections."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from pishkhan.core.db import Database
from pishkhan.tenants import credentials


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
    finally:
        other.dispose()
