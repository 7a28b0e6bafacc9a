"""Helpers shared by the foundation tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from pishkhan.core.db import Database, normalize_url
from pishkhan.core.schema import load_all_tables
from pishkhan.settings import Settings

PG_URL = os.environ.get("PISHKHAN_TEST_DATABASE_URL", "").strip()
V1 = "/_pishkhan/v1"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The foundation is tested without the surfaces mounted, so that a surface being built
    elsewhere cannot break these tests (the end-to-end `serve` test mounts them all)."""
    return replace(settings, surfaces=())


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A brand-new, never migrated database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    if not PG_URL:
        pytest.skip("PISHKHAN_TEST_DATABASE_URL is not set")
    base = make_url(normalize_url(PG_URL))
    name = f"pishkhan_empty_{uuid.uuid4().hex[:10]}"
    admin = Database(base.render_as_string(hide_password=False))
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def row_counts(db: Database) -> dict[str, int]:
    """Rows per table (to show that a refused request wrote nothing)."""
    from pishkhan.core.db import metadata

    load_all_tables()
    with db.read() as conn:
        return {
            t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in metadata.sorted_tables
        }


@pytest.fixture
def counts(runtime: Any) -> Callable[[], dict[str, int]]:
    return lambda: row_counts(runtime.db)


@pytest.fixture
def make_customer(admin: Any) -> Callable[..., dict[str, Any]]:
    """Create a customer through the admin API; returns the 201 body (with secrets)."""

    def make(slug: str = "acme", **body: Any) -> dict[str, Any]:
        r = admin.post(f"{V1}/customers", json={"name": slug.title(), "slug": slug, **body})
        assert r.status_code == 201, r.text
        created: dict[str, Any] = r.json()
        return created

    return make
