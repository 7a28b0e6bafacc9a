"""Tables owned by the core: the audit log, the shared sandbox state, the deployment's secret
verifiers."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Integer, String, Table, Text

from pishkhan.core.db import BigIntPK, JSONType, metadata

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(100), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("data", JSONType, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    # Not unique-indexed (migration 0007): no query looks an entry up by its hash.
    Column("hash", String(64), nullable=False),
    # The id of the entry this one follows (0 for the first). Unique, so the chain cannot
    # fork; ascending, so its index grows at its end (migration 0011; ``prev_hash`` was the
    # unique key before, a random leaf of its index written by every append).
    Column("prev_id", BigInteger().with_variant(Integer(), "sqlite"), nullable=False, unique=True),
)

# Small key/value store for sandbox-wide state every process must agree on (the clock,
# fault injection, ...). Values are JSON objects.
sandbox_state = Table(
    "sandbox_state",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", JSONType, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("note", Text, nullable=True),
)

# What every process of the deployment checks its secrets against before it serves (see
# :mod:`pishkhan.core.deployment`): one row per secret (``token_secret``, ``admin_token``), a
# salted scrypt verifier, never the secret. Kept by a sandbox reset.
deployment_secrets = Table(
    "deployment_secrets",
    metadata,
    Column("name", String(50), primary_key=True),
    Column("verifier", String(200), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)
