"""The certificate queries reach ``pendar_certificates`` through the indexes migration 0005 kept
(SQLite's plans; PostgreSQL plans by statistics, so only the SQLite plans are checked)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.dialects import sqlite

from pishkhan.core.db import Database
from pishkhan.providers.pendar import crl
from pishkhan.providers.pendar.sql import REGISTRATION


def _plan(db: Database, sql: str, params: Any = ()) -> str:
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).all()
    return " | ".join(str(r[-1]) for r in rows)


@pytest.fixture
def sqlite_db(runtime: Any) -> Database:
    if not runtime.db.is_sqlite:
        pytest.skip("SQLite query plans")
    db: Database = runtime.db
    return db


def test_the_crl_query_uses_the_partial_revoked_index(sqlite_db: Database) -> None:
    captured: list[str] = []

    class Spy:
        dialect = sqlite.dialect()

        def execute(self, statement: Any) -> list[Any]:
            captured.append(
                str(statement.compile(dialect=self.dialect, compile_kwargs={"literal_binds": True}))
            )
            return []

    assert crl._revoked_rows(Spy(), 7) == []  # type: ignore[arg-type]
    (sql,) = captured
    assert "status = 'Revoked'" in sql
    assert "ix_pendar_certificates_revoked" in _plan(sqlite_db, sql)


def test_certificates_by_national_code_and_by_serial_are_indexed(sqlite_db: Database) -> None:
    by_code = _plan(
        sqlite_db,
        "SELECT id FROM pendar_certificates WHERE national_code = ? AND registration_id IN (1, 2)",
        ("0012345678",),
    )
    assert "ix_pendar_certificates_national_code" in by_code
    by_serial = _plan(
        sqlite_db,
        "SELECT status FROM pendar_certificates WHERE ca_id = ? AND serial = ?",
        (1, "AB"),
    )
    assert "USING INDEX sqlite_autoindex_pendar_certificates" in by_serial


def test_the_registration_read_and_its_active_check_are_indexed(sqlite_db: Database) -> None:
    plan = _plan(sqlite_db, REGISTRATION.text, {"tc": "1234567890", "now": "2026-01-01"})
    assert "SEARCH r USING INDEX sqlite_autoindex_pendar_registrations" in plan
    assert "SEARCH c USING INDEX ix_pendar_certificates_national_code" in plan
