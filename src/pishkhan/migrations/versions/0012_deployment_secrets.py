"""Verifiers of the deployment's secrets, so that a process whose secrets differ refuses to start.

Every process of one deployment (several hosts on one PostgreSQL) must share the token secret
and the admin token. ``deployment_secrets`` keeps a salted scrypt verifier of each (never the
secret); :mod:`pishkhan.core.deployment` records them on the first start and checks them on
every start. A database migrated from an older version gets its verifiers on the first start
after this migration.

Revision ID: 0012_deployment_secrets
Revises: 0011_audit_prev_id
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_deployment_secrets"
down_revision = "0011_audit_prev_id"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deployment_secrets",
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("verifier", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_deployment_secrets")),
    )


def downgrade() -> None:
    op.drop_table("deployment_secrets")
