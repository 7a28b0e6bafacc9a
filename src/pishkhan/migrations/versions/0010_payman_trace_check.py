"""``payman_pay`` plans its trace-id check at every call.

The check (a pay of this trace id committed first: 2049) was static SQL inside the PL/pgSQL
function, and PL/pgSQL keeps a statement's plan for the life of the session. A session that
first ran it while ``payman_transactions`` was empty or small kept a plan through
``ix_payman_transactions_customer_created`` (the merchant's every transaction, the trace id a
filter) until something invalidated it: an ANALYZE, which never comes where autovacuum is off
(this workplace's PostgreSQL) and comes late under a burst of pays. Each pay then read all of
its merchant's transactions before it: measured, 1,033 rows filtered per pay early in a
benchmark round and 9,131 twenty seconds later, 2-9 ms of PostgreSQL CPU per pay. ``EXECUTE``
plans the check with the table as it is (the unique index on ``(customer_id, trace_id)`` from a
few pages on), for a few tens of microseconds per call.

The function is 0006's with the two checks replaced; the downgrade puts 0006's back.

Revision ID: 0010_payman_trace_check
Revises: 0009_payman_transaction_fk
"""

from __future__ import annotations

import importlib

from alembic import op

revision = "0010_payman_trace_check"
down_revision = "0009_payman_transaction_fk"
branch_labels = None
depends_on = None

_0006 = importlib.import_module("pishkhan.migrations.versions.0006_payman_pay")

_TRACE_SQL = "'SELECT 1 FROM payman_transactions WHERE customer_id = $1 AND trace_id = $2'"


def _checks(indent: str) -> tuple[str, str]:
    """0006's check at ``indent`` and its replacement."""
    static = (
        f"{indent}PERFORM 1 FROM payman_transactions AS t\n"
        f"{indent} WHERE t.customer_id = p_customer_id AND t.trace_id = p_trace_id;\n"
        f"{indent}IF FOUND THEN\n"
    )
    planned = (
        f"{indent}EXECUTE {_TRACE_SQL}\n"
        f"{indent}   INTO v_seen USING p_customer_id, p_trace_id;\n"
        f"{indent}IF v_seen IS NOT NULL THEN\n"
    )
    return static, planned


def function() -> str:
    """``payman_pay`` as of this revision (0006's text with the checks replaced)."""
    text: str = _0006.FUNCTION
    replacements = [("    v_micros text;\nBEGIN\n", "    v_micros text;\n    v_seen int;\nBEGIN\n")]
    replacements += [_checks("    "), _checks("        ")]
    for old, new in replacements:
        if text.count(old) != 1:
            raise RuntimeError(f"0006's payman_pay changed: {old!r} found {text.count(old)} times")
        text = text.replace(old, new)
    return text


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(function())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_0006.FUNCTION)
