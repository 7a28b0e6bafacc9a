"""Payman direct debit: mandates, their history and consent pages, transactions, ledger.

Revision ID: 0004_payman
Revises: 0003_pendar
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pishkhan.core.db import JSONType

revision = "0004_payman"
down_revision = "0003_pendar"
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "payman_mandates",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column(
            "customer_id",
            BIGID,
            sa.ForeignKey("customers.id", name=op.f("fk_payman_mandates_customer_id_customers")),
            nullable=False,
        ),
        sa.Column("payman_code", sa.String(16), nullable=False),
        sa.Column("payman_id", sa.String(16), nullable=True),
        sa.Column("trace_id", sa.String(64), nullable=False),
        sa.Column("bank_code", sa.String(6), nullable=False),
        sa.Column("user_id", sa.String(100), nullable=False),
        sa.Column("permission_ids", JSONType, nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("internal_status", sa.String(8), nullable=False),
        sa.Column("national_code", sa.String(10), nullable=True),
        sa.Column("mobile", sa.String(11), nullable=False),
        sa.Column("redirect_url", sa.Text(), nullable=False),
        sa.Column("start_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expiration_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("max_daily_count", sa.Integer(), nullable=False),
        sa.Column("max_monthly_count", sa.Integer(), nullable=True),
        sa.Column("max_amount", sa.BigInteger(), nullable=True),
        sa.Column("daily_max_amount", sa.BigInteger(), nullable=True),
        sa.Column("deposit_iban", sa.String(26), nullable=True),
        sa.Column("deposit_number", sa.String(32), nullable=True),
        sa.Column("card_number", sa.String(16), nullable=True),
        sa.Column("owner_national_code", sa.String(11), nullable=True),
        sa.Column("day_key", sa.Date(), nullable=True),
        sa.Column("day_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("day_amount", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("month_key", sa.String(7), nullable=True),
        sa.Column("month_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("client_info", JSONType, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint(
            "customer_id", "trace_id", name=op.f("uq_payman_mandates_customer_trace")
        ),
        sa.UniqueConstraint("payman_code", name=op.f("uq_payman_mandates_payman_code")),
        sa.CheckConstraint(
            "day_count >= 0 AND month_count >= 0 AND day_amount >= 0",
            name=op.f("ck_payman_mandates_counters"),
        ),
        sa.UniqueConstraint("payman_id", name=op.f("uq_payman_mandates_payman_id")),
        sa.CheckConstraint(
            "status in ('INITIALIZING', 'WAITING_FOR_CONFIRM', 'ACTIVE', 'DEACTIVE', 'CANCELLED', 'EXPIRED')",
            name=op.f("ck_payman_mandates_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payman_mandates")),
    )
    op.create_index(
        op.f("ix_payman_mandates_customer"), "payman_mandates", ["customer_id", "id"], unique=False
    )
    op.create_table(
        "payman_mandate_history",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column(
            "mandate_id",
            BIGID,
            sa.ForeignKey(
                "payman_mandates.id",
                name=op.f("fk_payman_mandate_history_mandate_id_payman_mandates"),
                ondelete="CASCADE",
            ),
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_status", sa.String(24), nullable=True),
        sa.Column("to_status", sa.String(24), nullable=False),
        sa.Column("internal_status", sa.String(8), nullable=False),
        sa.Column("actor", sa.String(32), nullable=False),
        sa.Column("data", JSONType, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payman_mandate_history")),
    )
    op.create_index(
        op.f("ix_payman_mandate_history_mandate"),
        "payman_mandate_history",
        ["mandate_id", "id"],
        unique=False,
    )
    op.create_table(
        "payman_consents",
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column(
            "mandate_id",
            BIGID,
            sa.ForeignKey(
                "payman_mandates.id",
                name=op.f("fk_payman_consents_mandate_id_payman_mandates"),
                ondelete="CASCADE",
            ),
            nullable=False,
        ),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("changes", JSONType, nullable=False),
        sa.Column("stage", sa.String(12), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("session_hash", sa.String(80), nullable=True),
        sa.Column("login_national_code", sa.String(10), nullable=True),
        sa.Column("login_mobile", sa.String(11), nullable=True),
        sa.Column("redirect_url", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_payman_consents")),
        sa.CheckConstraint(
            "stage in ('OPEN', 'LOGGED_IN', 'DONE')", name=op.f("ck_payman_consents_stage")
        ),
        sa.CheckConstraint("kind in ('create', 'update')", name=op.f("ck_payman_consents_kind")),
    )
    op.create_index(
        op.f("ix_payman_consents_mandate"), "payman_consents", ["mandate_id"], unique=False
    )
    op.create_table(
        "payman_transactions",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column(
            "customer_id",
            BIGID,
            sa.ForeignKey(
                "customers.id", name=op.f("fk_payman_transactions_customer_id_customers")
            ),
            nullable=False,
        ),
        sa.Column(
            "mandate_id",
            BIGID,
            sa.ForeignKey(
                "payman_mandates.id", name=op.f("fk_payman_transactions_mandate_id_payman_mandates")
            ),
            nullable=False,
        ),
        sa.Column("payman_id", sa.String(16), nullable=False),
        sa.Column("trace_id", sa.String(64), nullable=False),
        sa.Column("reference_id", sa.String(24), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("commission_amount", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("pay_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error_code", sa.String(8), nullable=True),
        sa.Column("transaction_type", sa.String(40), nullable=False),
        sa.Column("source_bank", sa.String(6), nullable=False),
        sa.Column("source_iban", sa.String(26), nullable=False),
        sa.Column("source_deposit", sa.String(32), nullable=False),
        sa.Column("destination_bank", sa.String(6), nullable=False),
        sa.Column("destination_deposit", sa.String(32), nullable=False),
        sa.Column("client_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reconcile_status", sa.Integer(), nullable=True),
        sa.Column("reconciled_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("reference_id", name=op.f("uq_payman_transactions_reference_id")),
        sa.CheckConstraint(
            "status in ('IN_PROGRESS', 'FAILED', 'SUCCEED', 'REVERSED', 'TIMEOUT', 'BALANCE_FAILED')",
            name=op.f("ck_payman_transactions_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payman_transactions")),
        sa.UniqueConstraint(
            "customer_id", "trace_id", name=op.f("uq_payman_transactions_customer_trace")
        ),
        sa.CheckConstraint(
            "amount > 0 AND commission_amount >= 0", name=op.f("ck_payman_transactions_amounts")
        ),
    )
    op.create_index(
        op.f("ix_payman_transactions_customer_created"),
        "payman_transactions",
        ["customer_id", "created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_payman_transactions_mandate"), "payman_transactions", ["mandate_id"], unique=False
    )
    op.create_table(
        "payman_ledger_entries",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column(
            "transaction_id",
            BIGID,
            sa.ForeignKey(
                "payman_transactions.id",
                name=op.f("fk_payman_ledger_entries_transaction_id_payman_transactions"),
            ),
            nullable=False,
        ),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payman_ledger_entries")),
    )
    op.create_index(
        op.f("ix_payman_ledger_entries_account"), "payman_ledger_entries", ["account"], unique=False
    )
    op.create_index(
        op.f("ix_payman_ledger_entries_transaction"),
        "payman_ledger_entries",
        ["transaction_id"],
        unique=False,
    )
    op.create_table(
        "payman_forced_outcomes",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column("payman_id", sa.String(16), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payman_forced_outcomes")),
    )


def downgrade() -> None:
    for name in (
        "payman_forced_outcomes",
        "payman_ledger_entries",
        "payman_transactions",
        "payman_consents",
        "payman_mandate_history",
        "payman_mandates",
    ):
        op.drop_table(name)
