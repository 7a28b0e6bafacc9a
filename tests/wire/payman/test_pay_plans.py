"""The PostgreSQL pay's cost does not grow with its merchant's transactions.

The pipeline prepares each of the pay's statements once per connection, and PostgreSQL keeps a
prepared statement's generic plan for the session's life once it settles on one (after five
executions). A plan made while ``payman_transactions`` was empty and never analyzed (autovacuum
off, or not come by yet) could look a trace id up through
``ix_payman_transactions_customer_created``, the trace id a filter: every pay would then read
its merchant's every transaction (the former PL/pgSQL function did, until migration 0010: 1,033
rows filtered per pay early in a benchmark round, 9,131 twenty seconds later). Here a brand-new
database (never analyzed, the table empty) gets one merchant, mandate and deposit; one pipeline
connection pays six times, 3,000 earlier transactions of the merchant are inserted, and that
session's statements that look a trace id up (the first batch's check, the ledger entries'
transaction) must read a few hundred blocks at most: those two are planned at each run
(``pgpipeline.PlannedEachRun``)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import orjson
import psycopg
import pytest
from sqlalchemy import select, text

from pishkhan.core import migrate, pgpipeline
from pishkhan.core.db import Database
from pishkhan.providers.payman import payments
from pishkhan.providers.payman.service import PaymanService
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


def _literal(value: Any) -> str:
    if isinstance(value, int):
        return str(value)
    assert isinstance(value, str) and value.isascii()
    return "'" + value.replace("'", "''") + "'"


def test_a_pay_reads_a_few_blocks_however_many_transactions_came_before(pm: Payman) -> None:
    runtime = pm.runtime
    if not runtime.db.is_postgres:
        pytest.skip("prepared statements' plans: PostgreSQL only")
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
    svc = PaymanService(runtime)
    # the credential epoch of a new database
    merchant = replace(svc.authenticate({k.lower(): v for k, v in pm.headers().items()}), epoch=1)
    now = runtime.clock.now_utc()

    with _fresh_database(runtime.db) as fresh:
        with fresh.write() as conn:
            conn.execute(customers.insert(), [customer])
            conn.execute(world_deposits.insert(), [deposit])
            conn.execute(payman_mandates.insert(), [mandate])
        conninfo = fresh.engine.url.set(drivername="postgresql").render_as_string(False)
        pipeline_one = pgpipeline.Pipeline(conninfo, max_connections=1)

        async def pay(trace: str) -> None:
            req = payments.parse_pay(
                {"trace_id": trace, "payman_id": payman_id, "amount": 1000}, now
            )
            script = payments._script(svc, merchant, req, now, postgres=True, attempt=0)
            await pipeline_one.run(script)

        async def six() -> None:
            for i in range(6):  # the session settles on its plans: 0-5 transactions so far
                await pay(f"plan-early-{i}")

        asyncio.run(six())
        (session,) = pipeline_one._idle  # the one connection that paid
        with psycopg.connect(conninfo, autocommit=True) as other:
            other.execute(
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
        pgconn = session.pgconn
        pgconn.exit_pipeline_mode()
        pgconn.nonblocking = 0

        def blocks(name: str, params: dict[str, Any]) -> int:
            """The blocks the session's plan of the pay's statement ``name`` reads: its
            prepared statement's plan, or one made now for a statement planned at each run."""
            prepared = pipeline_one._statements[id(payments._SQL[name])]
            explain = b"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "
            if prepared.name in session.prepared:
                args = ", ".join(_literal(params[n]) for n in prepared.order)
                result = pgconn.exec_(explain + b"EXECUTE %s(%s)" % (prepared.name, args.encode()))
            else:
                values = [pgpipeline._text(params[n]) for n in prepared.order]
                result = pgconn.exec_params(explain + prepared.text, values)
            assert result.status == psycopg.pq.ExecStatus.TUPLES_OK, result.error_message
            value = result.get_value(0, 0)
            assert value is not None
            plan = orjson.loads(value)[0]["Plan"]
            return int(plan["Shared Hit Blocks"]) + int(plan["Shared Read Blocks"])

        try:
            seen = blocks("seen", {"cid": customer["id"], "trace": "plan-after"})
            pgconn.exec_(b"BEGIN")
            entries = blocks(
                "ledger",
                {
                    "cid": customer["id"],
                    "trace": "plan-early-5",
                    "debit": "deposit:x",
                    "credit": "merchant:x",
                    "amount": 1000,
                    "minus": -1000,
                    "at": now.isoformat(),
                },
            )
            pgconn.exec_(b"ROLLBACK")
        finally:
            pipeline_one.close()
    assert seen < 300, f"{seen} blocks for one pay after {EARLIER} earlier transactions"
    assert entries < 300, f"{entries} blocks for one pay's ledger after {EARLIER} transactions"
