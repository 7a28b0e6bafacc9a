"""The PostgreSQL pay's cost does not grow with its merchant's transactions.

PL/pgSQL keeps a statement's plan for the life of the session. Before migration 0010 a session
that planned ``payman_pay``'s trace-id check while ``payman_transactions`` was empty kept a plan
through ``ix_payman_transactions_customer_created`` with the trace id as a filter, and without
an ANALYZE (autovacuum off, or not come by yet) nothing replaced it: every pay read its
merchant's every transaction (in the benchmark: 1,033 rows filtered per pay early in a run,
9,131 twenty seconds later). Here a brand-new database (never analyzed, the table empty) gets
one merchant, mandate and deposit; one session pays six times, 3,000 earlier transactions of
the merchant are inserted, and the session's next pay must still read a few hundred blocks at
most. (0009's function read them all: a block or more per transaction.)"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import orjson
import psycopg
import pytest
from sqlalchemy import select, text

from pishkhan.core import migrate
from pishkhan.core.clock import TEHRAN
from pishkhan.core.db import Database
from pishkhan.providers.payman import payments, pgpay
from pishkhan.providers.payman.tables import payman_mandates
from pishkhan.tenants.tables import customers
from pishkhan.world.tables import world_deposits

from .conftest import Payman

EARLIER = 3000


@contextmanager
def _fresh_database(db: Database) -> Iterator[Database]:
    """A new, migrated, never analyzed database on ``db``'s server; dropped afterwards."""
    name = f"pishkhan_plans_{uuid.uuid4().hex[:10]}"
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    fresh = Database(db.engine.url.set(database=name).render_as_string(hide_password=False))
    try:
        migrate.upgrade(fresh)
        yield fresh
    finally:
        fresh.dispose()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_a_pay_reads_a_few_blocks_however_many_transactions_came_before(pm: Payman) -> None:
    runtime = pm.runtime
    if not runtime.db.is_postgres:
        pytest.skip("PL/pgSQL plans: PostgreSQL only")
    payman_id = pm.active_mandate(max_daily_transaction_count=20)
    with runtime.db.read() as conn:
        mandate = (
            conn.execute(select(payman_mandates).where(payman_mandates.c.payman_id == payman_id))
            .one()
            ._asdict()
        )
        customer = (
            conn.execute(select(customers).where(customers.c.id == mandate["customer_id"]))
            .one()
            ._asdict()
        )
        deposit = (
            conn.execute(
                select(world_deposits).where(world_deposits.c.iban == mandate["deposit_iban"])
            )
            .one()
            ._asdict()
        )
    now = runtime.clock.now_utc()
    sql = payments._pay_sql(customer["id"], now.astimezone(TEHRAN).date(), ())

    with _fresh_database(runtime.db) as fresh:
        with fresh.write() as conn:
            conn.execute(customers.insert(), [customer])
            conn.execute(world_deposits.insert(), [deposit])
            conn.execute(payman_mandates.insert(), [mandate])
        with psycopg.connect(pgpay.conninfo_of(fresh.engine), autocommit=True) as session:

            def pay(trace: str) -> int:
                """One pay as the server sends it; the blocks its plan read."""
                params = pgpay.pay_params(
                    payman_id, trace, 1000, "plan", None, now, payments._reference(now),
                    int(now.timestamp()), 1,  # the credential epoch of a new database
                )  # fmt: skip
                result = session.pgconn.exec_params(
                    b"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params
                )
                assert result.status == psycopg.pq.ExecStatus.TUPLES_OK, result.error_message
                value = result.get_value(0, 0)
                assert value is not None
                plan = orjson.loads(value)[0]["Plan"]
                return int(plan["Shared Hit Blocks"]) + int(plan["Shared Read Blocks"])

            for i in range(6):  # the session settles on its plans: 0-5 transactions so far
                pay(f"plan-early-{i}")
            session.execute(
                """
                INSERT INTO payman_transactions (
                    customer_id, mandate_id, payman_id, trace_id, reference_id, batch_id,
                    amount, commission_amount, description, status, transaction_type,
                    source_bank, source_iban, source_deposit, destination_bank,
                    destination_deposit, created_at, updated_at)
                SELECT %(cid)s, %(mid)s, %(pid)s, 'earlier-' || g,
                       '8' || lpad(g::text, 19, '0'), 1, 1000, 0, 'earlier', 'SUCCEED',
                       'NORMAL', 'x', 'x', 'x', 'x', 'x',
                       -- times out of insertion order, as concurrent pays' are
                       now() - (g %% 97) * interval '1 second', now()
                  FROM generate_series(1, %(n)s) AS g
                """,
                {"cid": customer["id"], "mid": mandate["id"], "pid": payman_id, "n": EARLIER},
            )
            read = pay("plan-after")
    assert read < 300, f"{read} blocks for one pay after {EARLIER} earlier transactions"
