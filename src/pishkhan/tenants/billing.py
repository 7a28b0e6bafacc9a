"""Charging a successful call: daily limit, wallet debit and usage record in one transaction.

Surfaces call :func:`charge` inside the transaction that serves the call, after the call has
succeeded, and :func:`record_failure` for calls that failed (never charged). Daily limits and
balances are enforced with conditional UPDATEs, so they hold with several processes sharing one
PostgreSQL.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from pishkhan.core.clock import Clock
from pishkhan.tenants.tables import daily_usage, service_prices, usage_events, wallets
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
    row = conn.execute(
        select(
            service_prices.c.price, service_prices.c.daily_limit, service_prices.c.enabled
        ).where(
            and_(
                service_prices.c.customer_id == customer_id,
                service_prices.c.surface == surface,
                service_prices.c.service == service,
            )
        )
    ).first()
    if row is None:
        return PriceRule(default_price, None, True)
    return PriceRule(int(row[0]), None if row[1] is None else int(row[1]), bool(row[2]))


def _ensure_daily_row(
    conn: Connection, customer_id: int, surface: str, service: str, day: date
) -> None:
    values = {
        "customer_id": customer_id,
        "surface": surface,
        "service": service,
        "day": day,
        "count": 0,
        "amount": 0,
    }
    if conn.dialect.name == "postgresql":
        conn.execute(postgresql.insert(daily_usage).values(**values).on_conflict_do_nothing())
    else:
        conn.execute(sqlite.insert(daily_usage).values(**values).on_conflict_do_nothing())


def charge(
    conn: Connection,
    clock: Clock,
    *,
    customer_id: int,
    surface: str,
    service: str,
    default_price: int,
    track_id: str | None = None,
    rule: PriceRule | None = None,
) -> ChargeResult:
    """Count one successful call against the daily limit and debit its price.

    On any outcome other than CHARGED nothing has been written except a usage event recording the
    refusal; the caller answers with its surface's error (e.g. Jibit ``daily_limit.reached``).
    """
    rule = rule or price_rule(conn, customer_id, surface, service, default_price)
    now = clock.now_utc()
    day = clock.today()
    if not rule.enabled:
        record_failure(
            conn,
            clock,
            customer_id=customer_id,
            surface=surface,
            service=service,
            outcome=ChargeOutcome.DISABLED.value,
            track_id=track_id,
        )
        return ChargeResult(ChargeOutcome.DISABLED)
    _ensure_daily_row(conn, customer_id, surface, service, day)
    key = and_(
        daily_usage.c.customer_id == customer_id,
        daily_usage.c.surface == surface,
        daily_usage.c.service == service,
        daily_usage.c.day == day,
    )
    cond = key if rule.daily_limit is None else and_(key, daily_usage.c.count < rule.daily_limit)
    counted = conn.execute(
        update(daily_usage)
        .where(cond)
        .values(count=daily_usage.c.count + 1, amount=daily_usage.c.amount + rule.price)
    ).rowcount
    if counted != 1:
        record_failure(
            conn,
            clock,
            customer_id=customer_id,
            surface=surface,
            service=service,
            outcome=ChargeOutcome.DAILY_LIMIT.value,
            track_id=track_id,
        )
        return ChargeResult(ChargeOutcome.DAILY_LIMIT)
    wallet_used: str | None = None
    if rule.price > 0:
        for wallet in SURFACE_WALLETS.get(surface, ()):
            debited = conn.execute(
                update(wallets)
                .where(
                    and_(
                        wallets.c.customer_id == customer_id,
                        wallets.c.wallet == wallet,
                        wallets.c.balance + wallets.c.credit_limit >= rule.price,
                    )
                )
                .values(balance=wallets.c.balance - rule.price, updated_at=now)
            ).rowcount
            if debited == 1:
                wallet_used = wallet
                break
        if wallet_used is None:
            # Undo the count taken above (same transaction), then record the refusal.
            conn.execute(
                update(daily_usage)
                .where(key)
                .values(count=daily_usage.c.count - 1, amount=daily_usage.c.amount - rule.price)
            )
            record_failure(
                conn,
                clock,
                customer_id=customer_id,
                surface=surface,
                service=service,
                outcome=ChargeOutcome.INSUFFICIENT_FUNDS.value,
                track_id=track_id,
            )
            return ChargeResult(ChargeOutcome.INSUFFICIENT_FUNDS)
    conn.execute(
        insert(usage_events).values(
            customer_id=customer_id,
            surface=surface,
            service=service,
            at=now,
            day=day,
            outcome=ChargeOutcome.CHARGED.value,
            price=rule.price,
            wallet=wallet_used,
            track_id=track_id,
        )
    )
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
    conn.execute(
        insert(usage_events).values(
            customer_id=customer_id,
            surface=surface,
            service=service,
            at=clock.now_utc(),
            day=clock.today(),
            outcome=outcome[:64],
            price=0,
            wallet=None,
            track_id=track_id,
        )
    )


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
