"""The audit log without the unique index on ``hash``.

Every audited operation inserted into three b-trees besides the table: ``uq_audit_log_hash``
and ``uq_audit_log_prev_hash``, both keyed by random SHA-256 hex strings, so each dirtied a
page of its own at every commit. No query looks an entry up by its hash (the head is read by
``id``, :func:`pishkhan.core.audit.verify` walks the chain by ``id``), and the chain cannot fork
without it: ``prev_hash`` stays unique, so no two entries can follow the same one, and an
entry's ``hash`` is the SHA-256 of its predecessor's hash and its own content (a duplicate
``hash`` would be a SHA-256 collision, and :func:`~pishkhan.core.audit.verify` recomputes every
hash anyway).

Revision ID: 0007_audit_hash_index
Revises: 0006_payman_pay
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql, sqlite

revision = "0007_audit_hash_index"
down_revision = "0006_payman_pay"
branch_labels = None
depends_on = None


def _audit_log(*, hash_unique: bool) -> sa.Table:
    """``audit_log`` as 0001 created it (for SQLite's table rebuild, which recreates the
    constraints of this definition)."""
    constraints: list[sa.Constraint] = [
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
        sa.UniqueConstraint("prev_hash", name="uq_audit_log_prev_hash"),
    ]
    if hash_unique:
        constraints.append(sa.UniqueConstraint("hash", name="uq_audit_log_hash"))
    return sa.Table(
        "audit_log",
        sa.MetaData(),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column(
            "data",
            sa.JSON()
            .with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
            .with_variant(sqlite.JSON(), "sqlite"),
            nullable=False,
        ),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        *constraints,
    )


def upgrade() -> None:
    # SQLite rebuilds the table (a UNIQUE constraint of CREATE TABLE cannot be dropped alone).
    with op.batch_alter_table("audit_log", copy_from=_audit_log(hash_unique=True)) as batch:
        batch.drop_constraint("uq_audit_log_hash", type_="unique")


def downgrade() -> None:
    with op.batch_alter_table("audit_log", copy_from=_audit_log(hash_unique=False)) as batch:
        batch.create_unique_constraint("uq_audit_log_hash", ["hash"])
