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


def test_0013_hashes_the_payman_app_keys_of_existing_clients(
    empty_db_url: str, tmp_path: Any
) -> None:
    """A client created before 0013 kept its App-Key in clear: the migration stores its hash
    only, and the key keeps working (with a token of the new generation); a wrong key is
    refused with 2002."""
    from dataclasses import replace

    import pytest
    from sqlalchemy import select, text

    from pishkhan.core.ids import hash_secret
    from pishkhan.providers.payman.access import PaymanService
    from pishkhan.providers.payman.errors import PaymanError
    from pishkhan.runtime import Runtime
    from pishkhan.settings import Settings
    from pishkhan.tenants.tables import credential_epoch, payman_clients

    app_key = "OldPlaintextAppKey0123456789abcd"
    db = Database(empty_db_url)
    try:
        migrate.upgrade(db, "0011_audit_prev_id")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO customers (id, slug, name, status, allowed_ips, created_at, "
                    "updated_at) VALUES (7, 'old', 'Old shop', 'active', '[]', :at, :at)"
                ),
                {"at": "2025-01-01 00:00:00"},
            )
            conn.execute(
                text(
                    "INSERT INTO payman_clients (customer_id, client_id, client_secret_hash, "
                    "app_key, redirect_urls, allowed_banks, rotated_at) VALUES (7, 'oldclient', "
                    ":secret, :key, '[]', '[]', :at)"
                ),
                {"secret": hash_secret("old-secret"), "key": app_key, "at": "2025-01-01 00:00:00"},
            )
        migrate.upgrade(db)
        assert _diffs(db) == []
        with db.read() as conn:
            row = conn.execute(select(payman_clients)).mappings().one()
            epoch = conn.execute(select(credential_epoch)).mappings().all()
        assert "app_key" not in row and row["app_key_hash"] == hash_secret(app_key)
        assert all(app_key not in str(value) for value in row.values())
        assert row["generation"] == 1 and [dict(e) for e in epoch] == [{"id": 1, "version": 1}]
    finally:
        db.dispose()

    settings = replace(
        Settings(),
        data_dir=tmp_path / "data",
        database_url=empty_db_url,
        token_secret="test-token-secret-0123456789abcdef",
    )
    runtime = Runtime.open(settings, refresh_seconds=0.0)
    try:
        svc = PaymanService(runtime)
        token = svc.issue_token(
            {
                "client_id": "oldclient",
                "client_secret": "old-secret",
                "grant_type": "client_credentials",
            }
        )["access_token"]
        headers = {"authorization": f"Bearer {token}", "app-key": app_key}
        assert svc.authenticate(headers).customer_id == 7
        for wrong in (app_key.lower(), hash_secret(app_key), app_key + "x"):
            with pytest.raises(PaymanError) as refused:
                svc.authenticate({**headers, "app-key": wrong})
            assert (refused.value.status, refused.value.body()) == (
                400,
                {
                    "error": "موسسه یافت نشد",
                    "code": "2002",
                    "errors": [{"error": "موسسه یافت نشد", "code": "2002", "reference": "App-Key"}],
                },
            )
    finally:
        runtime.close()
