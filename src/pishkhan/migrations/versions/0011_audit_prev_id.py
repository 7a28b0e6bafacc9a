"""The audit chain kept from forking by ``prev_id``, an ascending key, instead of ``prev_hash``.

``uq_audit_log_prev_hash`` was keyed by random SHA-256 hex strings: every audited operation
inserted into a random leaf of it, a page of its own in each commit's WAL frames and in each
checkpoint (measured on the Pendar issuance, whose batches commit ~5.8 issuances: 32 frames a
commit, 5.8 of them leaves of this index). ``prev_id``, the id of the entry an entry follows (0
for the first), is the unique key instead: no two entries can follow the same one, as before,
and its index grows at its end, where every append lands on the same leaf. ``prev_hash`` stays in
every entry and in its hash; :func:`pishkhan.core.audit.verify` checks both links.

Existing entries get the id of the entry before them by ``id`` (the order ``verify`` walks).

Revision ID: 0011_audit_prev_id
Revises: 0010_payman_trace_check
"""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic import op

revision = "0011_audit_prev_id"
down_revision = "0010_payman_trace_check"
branch_labels = None
depends_on = None

_0007 = importlib.import_module("pishkhan.migrations.versions.0007_audit_hash_index")

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _audit_log(*, unique: str, prev_id_nullable: bool) -> sa.Table:
    """``audit_log`` as 0007 left it plus the ``prev_id`` column this migration adds, with
    ``unique`` the column of its unique constraint (for SQLite's table rebuild, which recreates
    the columns and constraints of this definition)."""
    table: sa.Table = _0007._audit_log(hash_unique=False)
    for constraint in list(table.constraints):
        if isinstance(constraint, sa.UniqueConstraint):
            table.constraints.discard(constraint)
    table.append_column(sa.Column("prev_id", _ID, nullable=prev_id_nullable))
    table.append_constraint(sa.UniqueConstraint(unique, name=f"uq_audit_log_{unique}"))
    return table


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("prev_id", _ID, nullable=True))
    op.execute(
        "UPDATE audit_log SET prev_id = COALESCE("
        "(SELECT MAX(a.id) FROM audit_log AS a WHERE a.id < audit_log.id), 0)"
    )
    table = _audit_log(unique="prev_hash", prev_id_nullable=True)
    with op.batch_alter_table("audit_log", copy_from=table) as batch:
        batch.alter_column("prev_id", existing_type=_ID, nullable=False)
        batch.drop_constraint("uq_audit_log_prev_hash", type_="unique")
        batch.create_unique_constraint("uq_audit_log_prev_id", ["prev_id"])


def downgrade() -> None:
    table = _audit_log(unique="prev_id", prev_id_nullable=False)
    with op.batch_alter_table("audit_log", copy_from=table) as batch:
        batch.drop_constraint("uq_audit_log_prev_id", type_="unique")
        batch.create_unique_constraint("uq_audit_log_prev_hash", ["prev_hash"])
        batch.drop_column("prev_id")
