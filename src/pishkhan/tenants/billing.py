"""Charging a successful call: daily limit, wallet debit and usage record in one transaction.

Surfaces call :func:`charge` inside the transaction that serves the call, after the call has
succeeded, and :func:`record_failure` for calls that failed (never charged). Daily limits and
balances are enforced with conditional UPDATEs, so they hold with several processes sharing one
PostgreSQL.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from pishkhan.core.clock import Clock
from pishkhan.core.db import DriverSQL, driver_connection, sqlite_time
from pishkhan.tenants.tables import daily_usage, service_prices
from pishkhan.tenants.wallets import SURFACE_WALLETS


class ChargeOutcome(enum.Enum):
    CHARGED = "success"
    DAILY_LIMIT = "daily_limit"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    DISABLED = "service_disabled"


@dataclass(frozen=True)
class PriceRule:
    price: int
    daily_limit: int | None
    enabled: bool


@dataclass(frozen=True)
class ChargeResult:
    outcome: ChargeOutcome
    price: int = 0
    wallet: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is ChargeOutcome.CHARGED


def price_rule(
    conn: Connection, customer_id: int, surface: str, service: str, default_price: int
) -> PriceRule:
    """One service's rule, read now (surfaces with a per-process cache use :class:`PriceRules`)."""
    return PriceRules.load(conn, customer_id, surface).rule(service, default_price)


class PriceRules:
    """One customer's price rules on one surface, loaded once for a per-process cache.

    ``rule(service, default_price)`` resolves a service: no row or a NULL price means the
    surface's default price. Rules are built once per distinct value (frozen dataclasses are
    slow to construct and surfaces ask on every call).
    """

    __slots__ = ("_rows",)

    def __init__(self, rows: dict[str, tuple[int | None, int | None, bool]]) -> None:
        self._rows = rows

    @classmethod
    def load(cls, conn: Connection, customer_id: int, surface: str) -> PriceRules:
        rows = conn.execute(
            select(
                service_prices.c.service,
                service_prices.c.price,
                service_prices.c.daily_limit,
                service_prices.c.enabled,
            ).where(
                and_(
                    service_prices.c.customer_id == customer_id, service_prices.c.surface == surface
                )
            )
        )
        return cls(
            {
                r[0]: (
                    None if r[1] is None else int(r[1]),
                    None if r[2] is None else int(r[2]),
                    bool(r[3]),
                )
                for r in rows
            }
        )

    def rule(self, service: str, default_price: int) -> PriceRule:
        price, daily_limit, enabled = self._rows.get(service, _NO_ROW)
        return _rule(default_price if price is None else price, daily_limit, enabled)


_NO_ROW: Final[tuple[int | None, int | None, bool]] = (None, None, True)


@functools.lru_cache(maxsize=1024)
def _rule(price: int, daily_limit: int | None, enabled: bool) -> PriceRule:
    return PriceRule(price, daily_limit, enabled)


# The hot path is pre-written SQL run on the DBAPI cursor: building SQLAlchemy constructs per
# call cost more than the rest of an inquiry together (measured on the Jibit card inquiry: ~3 ms
# of ~4 ms), and even exec_driver_sql costs several times what SQLite takes to run the statement.
_SQL: Final = {
    # Count one call (creating the day's row on its first call); with a daily limit, only while
    # the count is below it (no row changes otherwise). One statement, atomic on both databases.
    "count": DriverSQL(
        "INSERT INTO daily_usage (customer_id, surface, service, day, count, amount) "
        "VALUES (:cid, :surface, :service, :day, 1, :price) "
        "ON CONFLICT (customer_id, surface, service, day) DO UPDATE "
        "SET count = daily_usage.count + 1, amount = daily_usage.amount + :price"
    ),
    "count_limited": DriverSQL(
        "INSERT INTO daily_usage (customer_id, surface, service, day, count, amount) "
        "VALUES (:cid, :surface, :service, :day, 1, :price) "
        "ON CONFLICT (customer_id, surface, service, day) DO UPDATE "
        "SET count = daily_usage.count + 1, amount = daily_usage.amount + :price "
        "WHERE daily_usage.count < :lim"
    ),
    "uncount": DriverSQL(
        "UPDATE daily_usage SET count = count - 1, amount = amount - :price "
        "WHERE customer_id = :cid AND surface = :surface AND service = :service AND day = :day"
    ),
    "debit": DriverSQL(
        "UPDATE wallets SET balance = balance - :price, updated_at = :now "
        "WHERE customer_id = :cid AND wallet = :wallet AND balance + credit_limit >= :price"
    ),
    "event": DriverSQL(
        "INSERT INTO usage_events (customer_id, surface, service, at, day, outcome, price, "
        "wallet, track_id) VALUES (:cid, :surface, :service, :now, :day, :outcome, :price, "
        ":wallet, :track)"
    ),
}


class _Exec:
    """Runs the statements above on one connection with the dialect's parameter values."""

    __slots__ = ("day", "now", "postgres", "raw")

    def __init__(self, conn: Connection, clock: Clock) -> None:
        # The DBAPI connection, inside the caller's transaction.
        self.raw = driver_connection(conn)
        self.postgres = conn.dialect.name == "postgresql"
        # One reading of the clock for both (the day is the Tehran day of that instant).
        ts = clock.timestamp()
        now = datetime.fromtimestamp(ts, UTC)
        day = clock.day_at(ts)
        # SQLAlchemy's SQLite storage formats: naive UTC datetimes and ISO dates as text.
        self.now: Any = now if self.postgres else sqlite_time(now)
        self.day: Any = day if self.postgres else day.isoformat()

    def run(self, name: str, params: dict[str, Any]) -> int:
        sql = _SQL[name]
        cursor = self.raw.execute(sql.pg if self.postgres else sql.sqlite, params)
        return int(cursor.rowcount)

    def event(
        self,
        base: dict[str, Any],
        outcome: str,
        price: int,
        wallet: str | None,
        track_id: str | None,
    ) -> None:
        self.run(
            "event",
            {
                **base,
                "now": self.now,
                "outcome": outcome[:64],
                "price": price,
                "wallet": wallet,
                "track": track_id,
            },
        )


def charge(
    conn: Connection,
    clock: Clock,
    *,
    customer_id: int,
    surface: str,
    service: str,
    default_price: int = 0,
    track_id: str | None = None,
    rule: PriceRule | None = None,
) -> ChargeResult:
    """Count one successful call against the daily limit and debit its price.

    On any outcome other than CHARGED nothing has been written except a usage event recording the
    refusal; the caller answers with its surface's error (e.g. Jibit ``daily_limit.reached``).
    Pass ``rule`` when the surface caches prices (see :func:`price_rule`).
    """
    rule = rule or price_rule(conn, customer_id, surface, service, default_price)
    ex = _Exec(conn, clock)
    base = {"cid": customer_id, "surface": surface, "service": service, "day": ex.day}
    if not rule.enabled:
        ex.event(base, ChargeOutcome.DISABLED.value, 0, None, track_id)
        return ChargeResult(ChargeOutcome.DISABLED)
    counted_params = {**base, "price": rule.price}
    if rule.daily_limit is None:
        counted = ex.run("count", counted_params)
    elif rule.daily_limit <= 0:
        counted = 0
    else:
        counted = ex.run("count_limited", {**counted_params, "lim": rule.daily_limit})
    if counted != 1:
        ex.event(base, ChargeOutcome.DAILY_LIMIT.value, 0, None, track_id)
        return ChargeResult(ChargeOutcome.DAILY_LIMIT)
    wallet_used: str | None = None
    if rule.price > 0:
        for wallet in SURFACE_WALLETS.get(surface, ()):
            params = {"cid": customer_id, "wallet": wallet, "price": rule.price, "now": ex.now}
            if ex.run("debit", params) == 1:
                wallet_used = wallet
                break
        if wallet_used is None:
            # Undo the count taken above (same transaction), then record the refusal.
            ex.run("uncount", counted_params)
            ex.event(base, ChargeOutcome.INSUFFICIENT_FUNDS.value, 0, None, track_id)
            return ChargeResult(ChargeOutcome.INSUFFICIENT_FUNDS)
    ex.event(base, ChargeOutcome.CHARGED.value, rule.price, wallet_used, track_id)
    return ChargeResult(ChargeOutcome.CHARGED, rule.price, wallet_used)


def record_failure(
    conn: Connection,
    clock: Clock,
    *,
    customer_id: int,
    surface: str,
    service: str,
    outcome: str,
    track_id: str | None = None,
) -> None:
    """Record a call that was not charged (its error code as ``outcome``)."""
    ex = _Exec(conn, clock)
    base = {"cid": customer_id, "surface": surface, "service": service, "day": ex.day}
    ex.event(base, outcome, 0, None, track_id)


def daily_counts(conn: Connection, customer_id: int, surface: str, day: date) -> dict[str, int]:
    """Successful calls per service on one Tehran day (for daily usage reports)."""
    rows = conn.execute(
        select(daily_usage.c.service, daily_usage.c.count).where(
            and_(
                daily_usage.c.customer_id == customer_id,
                daily_usage.c.surface == surface,
                daily_usage.c.day == day,
            )
        )
    )
    return {r[0]: int(r[1]) for r in rows if r[1]}
