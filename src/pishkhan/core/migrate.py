"""Run the Alembic migrations shipped inside the package (``pishkhan db upgrade``)."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from pishkhan.core.db import Database


def _config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("pishkhan") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    return cfg


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision``; safe to run from several processes at once."""
    cfg = _config(db)
    with db.engine.begin() as conn:
        if db.is_postgres:
            # Serialize concurrent upgrades (several workers starting together).
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7410001)")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(db: Database) -> str | None:
    return ScriptDirectory.from_config(_config(db)).get_current_head()
