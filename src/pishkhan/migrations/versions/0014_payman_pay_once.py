"""Payman pay written once: the ``payman_pay`` function is dropped.

The pay's rules live in one place, the Python transaction script of
``pishkhan.providers.payman.payments``, run on SQLite statement by statement and on PostgreSQL
as two pipelined round trips (``pishkhan.core.pgpipeline``); nothing calls the PL/pgSQL copy of
them (migrations 0006 and 0010) any more. The downgrade puts 0010's function back.

Revision ID: 0014_payman_pay_once
Revises: 0013_payman_credentials
"""

from __future__ import annotations

import importlib

from alembic import op

revision = "0014_payman_pay_once"
down_revision = "0013_payman_credentials"
branch_labels = None
depends_on = None

_0006 = importlib.import_module("pishkhan.migrations.versions.0006_payman_pay")
_0010 = importlib.import_module("pishkhan.migrations.versions.0010_payman_trace_check")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS payman_pay({_0006.SIGNATURE})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_0010.function())
