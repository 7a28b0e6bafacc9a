"""Alembic environment: the URL and connection come from pishkhan, never from alembic.ini."""

from __future__ import annotations

from alembic import context

from pishkhan.core.db import metadata
from pishkhan.core.schema import load_all_tables

load_all_tables()
config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - pishkhan always passes a connection
    raise RuntimeError("run migrations through `pishkhan db upgrade`")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
