"""A pay locks its mandate's row and its person's deposit, never a row that every pay of the
merchant shares: its transaction refers to the mandate (migration 0009), not to ``customers``.
(With the former foreign key to ``customers`` every pay took FOR KEY SHARE on the merchant's
row, and PostgreSQL recorded each set of concurrent lockers as a new MultiXact.)"""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest
from sqlalchemy import select

from pishkhan.providers.payman import pgpay
from pishkhan.providers.payman.tables import payman_mandates

from .conftest import Payman


def test_a_pay_does_not_wait_for_the_merchants_customer_row(pm: Payman, runtime: Any) -> None:
    if not runtime.db.is_postgres:
        pytest.skip("row locks of the PostgreSQL pay (SQLite locks the whole database)")
    payman_id = pm.active_mandate()
    with runtime.db.read() as conn:
        customer_id = conn.execute(
            select(payman_mandates.c.customer_id).where(payman_mandates.c.payman_id == payman_id)
        ).scalar_one()
    answers: list[Any] = []
    with psycopg.connect(pgpay.conninfo_of(runtime.db.engine)) as other:
        # FOR UPDATE conflicts with the FOR KEY SHARE a foreign key check takes
        other.execute("SELECT 1 FROM customers WHERE id = %s FOR UPDATE", (customer_id,))
        paying = threading.Thread(target=lambda: answers.append(pm.pay(payman_id, 1000)))
        paying.start()
        paying.join(10)
        waited = paying.is_alive()
        other.rollback()
    paying.join(30)
    assert not waited, "the pay waited for a lock on the merchant's customers row"
    assert answers and answers[0].status_code == 200, answers
