"""Payman's tables: mandates (with their history and consent pages), transactions and the ledger.

Limits are enforced on the mandate row itself: the current Tehran day's and Gregorian month's
counters live in ``day_*`` / ``month_*`` columns that a pay updates while holding the row lock
(``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite write transactions are serialized), so a
limit holds across processes. ``trace_id`` is unique per merchant for mandates and for
transactions; the ledger is double entry (each movement's entries sum to zero).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from pishkhan.core.db import BigIntPK, JSONType, metadata

MANDATE_STATUSES = (
    "INITIALIZING",
    "WAITING_FOR_CONFIRM",
    "ACTIVE",
    "DEACTIVE",
    "CANCELLED",
    "EXPIRED",
)
TRANSACTION_STATUSES = ("IN_PROGRESS", "FAILED", "SUCCEED", "REVERSED", "TIMEOUT", "BALANCE_FAILED")
CONSENT_STAGES = ("OPEN", "LOGGED_IN", "DONE")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} in ({', '.join(repr(v) for v in values)})"


payman_mandates = Table(
    "payman_mandates",
    metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("customer_id", ForeignKey("customers.id"), nullable=False),
    # The code the consent page hands back; payman_id is issued by getId (activation).
    Column("payman_code", String(16), nullable=False, unique=True),
    Column("payman_id", String(16), nullable=True, unique=True),
    Column("trace_id", String(64), nullable=False),
    Column("bank_code", String(6), nullable=False),
    Column("user_id", String(100), nullable=False),
    Column("permission_ids", JSONType, nullable=False),
    Column("status", String(24), nullable=False),
    # The code of the last internal status (2159, 2160, 2193, ...); its text is the message.
    Column("internal_status", String(8), nullable=False),
    Column("national_code", String(10), nullable=True),
    Column("mobile", String(11), nullable=False),
    Column("redirect_url", Text, nullable=False),
    Column("start_date", DateTime(timezone=True), nullable=False),
    Column("expiration_date", DateTime(timezone=True), nullable=False),
    Column("max_daily_count", Integer, nullable=False),
    Column("max_monthly_count", Integer, nullable=True),
    Column("max_amount", BigInteger, nullable=True),
    Column("daily_max_amount", BigInteger, nullable=True),
    Column("deposit_iban", String(26), nullable=True),
    Column("deposit_number", String(32), nullable=True),
    Column("card_number", String(16), nullable=True),
    Column("owner_national_code", String(11), nullable=True),
    # Counters of the current Tehran day / Gregorian month (Tehran time).
    Column("day_key", Date, nullable=True),
    Column("day_count", Integer, nullable=False, server_default="0"),
    Column("day_amount", BigInteger, nullable=False, server_default="0"),
    Column("month_key", String(7), nullable=True),
    Column("month_count", Integer, nullable=False, server_default="0"),
    Column("client_info", JSONType, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("activated_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("customer_id", "trace_id", name="uq_payman_mandates_customer_trace"),
    CheckConstraint(_in("status", MANDATE_STATUSES), name="status"),
    CheckConstraint("day_count >= 0 AND month_count >= 0 AND day_amount >= 0", name="counters"),
    # The merchant's mandates in order; also what payman_transactions' foreign key refers to.
    UniqueConstraint("customer_id", "id", name="uq_payman_mandates_customer_mandate"),
)

# Append-only: every state transition of a mandate.
payman_mandate_history = Table(
    "payman_mandate_history",
    metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("mandate_id", ForeignKey("payman_mandates.id", ondelete="CASCADE"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("from_status", String(24), nullable=True),
    Column("to_status", String(24), nullable=False),
    Column("internal_status", String(8), nullable=False),
    Column("actor", String(32), nullable=False),
    Column("data", JSONType, nullable=True),
    Index("ix_payman_mandate_history_mandate", "mandate_id", "id"),
)

# One bank consent page visit (create or update): single use, expires.
payman_consents = Table(
    "payman_consents",
    metadata,
    Column("token", String(64), primary_key=True),
    Column("mandate_id", ForeignKey("payman_mandates.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(8), nullable=False),
    # For an update: the contract fields to apply once the person approves.
    Column("changes", JSONType, nullable=False),
    Column("stage", String(12), nullable=False),
    Column("outcome", String(16), nullable=True),
    Column("session_hash", String(80), nullable=True),
    Column("login_national_code", String(10), nullable=True),
    Column("login_mobile", String(11), nullable=True),
    Column("redirect_url", Text, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True), nullable=True),
    CheckConstraint(_in("kind", ("create", "update")), name="kind"),
    CheckConstraint(_in("stage", CONSENT_STAGES), name="stage"),
    Index("ix_payman_consents_mandate", "mandate_id"),
)

payman_transactions = Table(
    "payman_transactions",
    metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    # (customer_id, mandate_id) refers to the mandate, whose customer_id refers to customers: no
    # foreign key to customers here, so a pay locks only its mandate's row (which it holds
    # FOR UPDATE already), never the merchant's customers row that every concurrent pay of the
    # merchant would share (migration 0009).
    Column("customer_id", BigIntPK, nullable=False),
    Column("mandate_id", BigIntPK, nullable=False),
    Column("payman_id", String(16), nullable=False),
    Column("trace_id", String(64), nullable=False),
    Column("reference_id", String(24), nullable=False, unique=True),
    Column("batch_id", BigInteger, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("commission_amount", BigInteger, nullable=False),
    Column("description", Text, nullable=False),
    Column("pay_id", String(64), nullable=True),
    Column("status", String(16), nullable=False),
    Column("error_code", String(8), nullable=True),
    Column("transaction_type", String(40), nullable=False),
    Column("source_bank", String(6), nullable=False),
    Column("source_iban", String(26), nullable=False),
    Column("source_deposit", String(32), nullable=False),
    Column("destination_bank", String(6), nullable=False),
    Column("destination_deposit", String(32), nullable=False),
    Column("client_date", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("reconcile_status", Integer, nullable=True),
    Column("reconciled_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("customer_id", "trace_id", name="uq_payman_transactions_customer_trace"),
    ForeignKeyConstraint(
        ["customer_id", "mandate_id"],
        ["payman_mandates.customer_id", "payman_mandates.id"],
        name="fk_payman_transactions_mandate",
    ),
    CheckConstraint(_in("status", TRANSACTION_STATUSES), name="status"),
    CheckConstraint("amount > 0 AND commission_amount >= 0", name="amounts"),
    Index("ix_payman_transactions_customer_created", "customer_id", "created_at"),
    Index("ix_payman_transactions_mandate", "mandate_id"),
)

# Double entry: every movement writes entries that sum to zero. Accounts are
# ``deposit:<IBAN>`` (the person's deposit) and ``merchant:<customer id>:<bank code>`` (the
# merchant's settlement account at that bank).
payman_ledger_entries = Table(
    "payman_ledger_entries",
    metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("transaction_id", ForeignKey("payman_transactions.id"), nullable=False),
    Column("account", String(64), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_payman_ledger_entries_account", "account"),
    Index("ix_payman_ledger_entries_transaction", "transaction_id"),
)

# Sandbox control: force the outcome of the next pays (of one mandate, or of a merchant, or all).
payman_forced_outcomes = Table(
    "payman_forced_outcomes",
    metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("payman_id", String(16), nullable=True),
    Column("outcome", String(16), nullable=False),
    # How many pays it still applies to (NULL: until removed).
    Column("remaining", Integer, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
