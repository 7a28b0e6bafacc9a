"""The customer's own account: wallet balances and the daily usage report (no HTTP)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.engine import Connection

from pishkhan.providers.jibit import sql
from pishkhan.providers.jibit.billing import SERVICES, SURFACE, Body
from pishkhan.tenants.billing import daily_counts


def balances(conn: Connection, customer_id: int) -> Body:
    """PRF (prepaid) and POF (postpaid), 0 where the wallet has no row."""
    rows = sql.jibit_balances(conn, customer_id)
    return {
        "balances": [
            {"balanceType": kind, "currency": "IRR", "amount": rows.get(f"jibit.{kind}", 0)}
            for kind in ("PRF", "POF")
        ]
    }


def daily_report(conn: Connection, customer_id: int, day: date) -> Body:
    """The services used that day (Tehran), with their counts, in the catalogue's order."""
    counts = daily_counts(conn, customer_id, SURFACE, day)
    services = [
        {"Service": s.name, "persianName": s.persian_name, "count": counts[s.name]}
        for s in SERVICES.values()
        if counts.get(s.name)
    ]
    return {"report": [{"services": services}]}
