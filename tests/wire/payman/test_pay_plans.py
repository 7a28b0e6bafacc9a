"""The PostgreSQL pay's reads do not grow with its merchant's earlier transactions: after 3,000
more of them, in the same session (whose PL/pgSQL plans were made when the merchant had next to
none), one pay still reads a few hundred blocks at most. Migration 0010 plans the trace-id check
at each call because a session's cached plan for it, made while the table was empty, read the
merchant's every transaction in the benchmark (auto_explain: 1,033 to 9,131 rows filtered per
pay within one run, the database never analyzed). This shared test database has held and
deleted other tests' rows, so the planner does not see the table empty here and the old
function passes too; the test guards the property, docs/payman.md has the measurement."""

from __future__ import annotations

import orjson
import psycopg
import pytest
from sqlalchemy import select

from pishkhan.core.clock import TEHRAN
from pishkhan.providers.payman import payments, pgpay
from pishkhan.providers.payman.tables import payman_mandates

from .conftest import Payman

EARLIER = 3000


def test_a_pay_reads_a_few_pages_however_many_transactions_came_before(pm: Payman) -> None:
    runtime = pm.runtime
    if not runtime.db.is_postgres:
        pytest.skip("PL/pgSQL plans: PostgreSQL only")
    payman_id = pm.active_mandate(max_daily_transaction_count=20)
    with runtime.db.read() as conn:
        mandate_id, customer_id = conn.execute(
            select(payman_mandates.c.id, payman_mandates.c.customer_id).where(
                payman_mandates.c.payman_id == payman_id
            )
        ).one()
    now = runtime.clock.now_utc()
    sql = payments._pay_sql(customer_id, now.astimezone(TEHRAN).date(), ())
    url = runtime.db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

    with psycopg.connect(url, autocommit=True) as session:

        def pay(trace: str) -> dict[str, object]:
            """The pay as the server sends it, with its plan's buffer counts."""
            params = pgpay.pay_params(
                payman_id, trace, 1000, "plan", None, now, payments._reference(now),
                int(now.timestamp()),
            )  # fmt: skip
            result = session.pgconn.exec_params(
                b"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params
            )
            assert result.status == psycopg.pq.ExecStatus.TUPLES_OK, result.error_message
            value = result.get_value(0, 0)
            assert value is not None
            plan: dict[str, object] = orjson.loads(value)[0]["Plan"]
            return plan

        # earlier tests' rows are deleted, not their pages: give the table back its empty state
        session.execute("VACUUM payman_transactions")
        for i in range(6):  # the session settles on its plans: the merchant has 0-5 pays
            pay(f"plan-early-{i}")
        session.execute(
            """
            INSERT INTO payman_transactions (
                customer_id, mandate_id, payman_id, trace_id, reference_id, batch_id, amount,
                commission_amount, description, status, transaction_type, source_bank,
                source_iban, source_deposit, destination_bank, destination_deposit,
                created_at, updated_at)
            SELECT %(cid)s, %(mid)s, %(pid)s, 'earlier-' || g, '8' || lpad(g::text, 19, '0'), 1, 1000,
                   0, 'earlier', 'SUCCEED', 'NORMAL', 'x', 'x', 'x', 'x', 'x', now(), now()
              FROM generate_series(1, %(n)s) AS g
            """,
            {"cid": customer_id, "mid": mandate_id, "pid": payman_id, "n": EARLIER},
        )
        plan = pay("plan-after")
    read = int(plan["Shared Hit Blocks"]) + int(plan["Shared Read Blocks"])  # type: ignore[call-overload]
    # Reading the earlier transactions through the merchant's index costs a block or more each
    assert read < 300, f"{read} blocks for one pay after {EARLIER} transactions"
