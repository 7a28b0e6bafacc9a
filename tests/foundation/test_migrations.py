"""Migrations produce exactly the declared schema, idempotently; SQLite runs in WAL mode."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from pishkhan.core import migrate
from pishkhan.core.db import Database, metadata
from pishkhan.core.schema import load_all_tables


def _diffs(db: Database) -> list[Any]:
    load_all_tables()
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, metadata))


def test_upgrade_on_empty_database_matches_metadata(empty_db_url: str) -> None:
    db = Database(empty_db_url)
    try:
        assert migrate.current_revision(db) is None
        migrate.upgrade(db)
        head = migrate.head_revision(db)
        assert head is not None and migrate.current_revision(db) == head
        assert _diffs(db) == []
        tables = set(inspect(db.engine).get_table_names())
        assert {t.name for t in metadata.sorted_tables} <= tables
        # A second upgrade is a no-op: same revision, same schema, no error.
        migrate.upgrade(db)
        assert migrate.current_revision(db) == head
        assert _diffs(db) == []
    finally:
        db.dispose()


def test_sqlite_file_is_in_wal_mode(tmp_path: Any) -> None:
    path = tmp_path / "sub" / "wal.sqlite3"
    db = Database(f"sqlite:///{path}")
    try:
        migrate.upgrade(db)
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert path.exists()
    finally:
        db.dispose()
    # The mode is persistent in the file: a plain sqlite3 connection sees it too.
    import sqlite3

    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_postgres_urls_use_psycopg3() -> None:
    from pishkhan.core.db import normalize_url

    assert normalize_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalize_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalize_url("postgresql+psycopg://u@h/d") == "postgresql+psycopg://u@h/d"
