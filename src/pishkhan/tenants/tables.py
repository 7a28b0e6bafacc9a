"""Tenant tables. Secrets are stored only as hashes (see :func:`pishkhan.core.ids.hash_secret`)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from pishkhan.core.db import BigIntPK, JSONType, metadata

customers = Table(
    "customers",
    metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("status", String(16), nullable=False, server_default="active"),
    # Optional IP allowlist applied by surfaces that document one (empty list: any address).
    Column("allowed_ips", JSONType, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("status in ('active', 'disabled')", name="status"),
)

jibit_credentials = Table(
    "jibit_credentials",
    metadata,
    Column("customer_id", ForeignKey("customers.id"), primary_key=True),
    Column("api_key", String(64), nullable=False, unique=True),
    Column("secret_hash", String(80), nullable=False),
    Column("rotated_at", DateTime(timezone=True), nullable=False),
)

paystar_applications = Table(
    "paystar_applications",
    metadata,
    Column("customer_id", ForeignKey("customers.id"), primary_key=True),
    Column("application_id", String(64), nullable=False, unique=True),
    Column("access_password_hash", String(80), nullable=False),
    Column("refresh_token_hash", String(80), nullable=False),
    Column("allowed_ips", JSONType, nullable=False),
    Column("status", String(16), nullable=False, server_default="active"),
    # Open-banking services enabled for this application (e.g. "mobile-national-id").
    Column("services", JSONType, nullable=False),
    Column("rotated_at", DateTime(timezone=True), nullable=False),
)

pendar_accounts = Table(
    "pendar_accounts",
    metadata,
    Column("customer_id", ForeignKey("customers.id"), primary_key=True),
    Column("customer_code", String(32), nullable=False, unique=True),
    Column("license_number", String(64), nullable=False),
    Column("public_key_pem", Text, nullable=False),
    Column("report_key_hash", String(80), nullable=False),
    # Surface-specific settings (identity checks, granted CAs and profiles, ...).
    Column("settings", JSONType, nullable=False),
    Column("rotated_at", DateTime(timezone=True), nullable=False),
)

payman_clients = Table(
    "payman_clients",
    metadata,
    Column("customer_id", ForeignKey("customers.id"), primary_key=True),
    Column("client_id", String(64), nullable=False, unique=True),
    Column("client_secret_hash", String(80), nullable=False),
    # The App-Key header's value, hashed like every other secret (migration 0013; it was kept
    # in clear before): shown once, when created or rotated.
    Column("app_key_hash", String(80), nullable=False, unique=True),
    Column("redirect_urls", JSONType, nullable=False),
    Column("allowed_banks", JSONType, nullable=False),
    Column("rotated_at", DateTime(timezone=True), nullable=False),
    # The credential generation every access token carries: the value of
    # ``credential_epoch`` taken when the client was created, its secrets rotated or its customer
    # disabled (so it only grows, and is never given twice, not even after a sandbox reset).
    Column("generation", BigInteger, nullable=False),
)

# One row (id 1): a counter every change of a customer's credentials or status increments in the
# same transaction (``pishkhan.tenants.credentials``). Processes compare it with the value they
# loaded their credential caches at, so a rotation or a disable reaches every process at once.
# Kept on a sandbox reset: it never goes back.
credential_epoch = Table(
    "credential_epoch",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
)

wallets = Table(
    "wallets",
    metadata,
    Column("customer_id", ForeignKey("customers.id"), primary_key=True),
    # One of pishkhan.tenants.wallets.WALLETS, e.g. "jibit.PRF".
    Column("wallet", String(32), primary_key=True),
    Column("balance", BigInteger, nullable=False),
    # How far below zero a postpaid wallet may go (0 for prepaid wallets).
    Column("credit_limit", BigInteger, nullable=False, server_default="0"),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("balance + credit_limit >= 0", name="not_overdrawn"),
)

wallet_entries = Table(
    "wallet_entries",
    metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("customer_id", ForeignKey("customers.id"), nullable=False),
    Column("wallet", String(32), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("balance_after", BigInteger, nullable=False),
    Column("reason", String(32), nullable=False),
    Column("reference", String(100), nullable=True),
    Index("ix_wallet_entries_customer_wallet", "customer_id", "wallet", "id"),
)

service_prices = Table(
    "service_prices",
    metadata,
    Column("customer_id", ForeignKey("customers.id"), primary_key=True),
    Column("surface", String(16), primary_key=True),
    Column("service", String(64), primary_key=True),
    # NULL: the surface's default price for the service.
    Column("price", BigInteger, nullable=True),
    Column("daily_limit", Integer, nullable=True),
    Column("enabled", Boolean, nullable=False, server_default="1"),
)

# Successful calls per customer, service and Tehran day: the row daily limits are enforced on
# with a conditional UPDATE, so a limit holds across processes.
daily_usage = Table(
    "daily_usage",
    metadata,
    Column("customer_id", ForeignKey("customers.id"), primary_key=True),
    Column("surface", String(16), primary_key=True),
    Column("service", String(64), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("count", Integer, nullable=False),
    Column("amount", BigInteger, nullable=False),
)

# Append-only: every call a surface bills or refuses, with its outcome.
usage_events = Table(
    "usage_events",
    metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("customer_id", ForeignKey("customers.id"), nullable=False),
    Column("surface", String(16), nullable=False),
    Column("service", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("day", Date, nullable=False),
    Column("outcome", String(64), nullable=False),
    Column("price", BigInteger, nullable=False),
    Column("wallet", String(32), nullable=True),
    Column("track_id", String(64), nullable=True),
    Index("ix_usage_events_customer_day", "customer_id", "day", "surface", "service"),
)
