"""tenants.billing.charge: wallet order, refusals, daily limits per Tehran day, usage events."""

from __future__ import annotations

import threading
from datetime import date

from sqlalchemy import select

from pishkhan.control import sandbox_ops
from pishkhan.runtime import Runtime
from pishkhan.tenants import billing
from pishkhan.tenants import service as tenants
from pishkhan.tenants.billing import ChargeOutcome
from pishkhan.tenants.tables import usage_events


def _customer(runtime: Runtime, slug: str = "bill") -> int:
    with runtime.db.write() as conn:
        created = tenants.create_customer(
            conn, runtime.clock, tenants.NewCustomer(name=slug, slug=slug)
        )
    return int(created["id"])


def _balances(runtime: Runtime, slug: str) -> dict[str, tuple[int, int]]:
    with runtime.db.read() as conn:
        wallets = tenants.get_customer(conn, slug)["wallets"]
    return {w["wallet"]: (w["balance"], w["credit_limit"]) for w in wallets}


def _charge(
    runtime: Runtime, cid: int, service: str = "cards", price: int = 100
) -> billing.ChargeResult:
    with runtime.db.write() as conn:
        return billing.charge(
            conn,
            runtime.clock,
            customer_id=cid,
            surface="jibit",
            service=service,
            default_price=price,
        )


def _events(runtime: Runtime, cid: int) -> list[tuple[str, int, str | None]]:
    with runtime.db.read() as conn:
        rows = conn.execute(
            select(usage_events.c.outcome, usage_events.c.price, usage_events.c.wallet)
            .where(usage_events.c.customer_id == cid)
            .order_by(usage_events.c.id)
        ).all()
    return [(r[0], int(r[1]), r[2]) for r in rows]


def _counts(runtime: Runtime, cid: int, day: date) -> dict[str, int]:
    with runtime.db.read() as conn:
        return billing.daily_counts(conn, cid, "jibit", day)


def test_charges_prf_then_pof_then_refuses(runtime: Runtime) -> None:
    sandbox_ops.freeze(runtime, "2026-02-01T10:00:00")
    cid = _customer(runtime)
    with runtime.db.write() as conn:
        prf = tenants.get_customer(conn, "bill")["wallets"]
        opening = next(w["balance"] for w in prf if w["wallet"] == "jibit.PRF")
        tenants.topup(conn, runtime.clock, "bill", "jibit.PRF", 250 - opening)
        tenants.set_credit_limit(conn, runtime.clock, "bill", "jibit.POF", 150)
    used = [_charge(runtime, cid) for _ in range(3)]
    assert [(r.outcome, r.price, r.wallet) for r in used] == [
        (ChargeOutcome.CHARGED, 100, "jibit.PRF"),
        (ChargeOutcome.CHARGED, 100, "jibit.PRF"),
        (ChargeOutcome.CHARGED, 100, "jibit.POF"),
    ]
    before = _balances(runtime, "bill")
    assert before["jibit.PRF"] == (50, 0) and before["jibit.POF"] == (-100, 150)
    refused = _charge(runtime, cid)
    assert refused.outcome is ChargeOutcome.INSUFFICIENT_FUNDS and not refused.ok
    assert refused.price == 0 and refused.wallet is None
    assert _balances(runtime, "bill") == before
    day = date(2026, 2, 1)
    assert _counts(runtime, cid, day) == {"cards": 3}
    assert _events(runtime, cid) == [
        ("success", 100, "jibit.PRF"),
        ("success", 100, "jibit.PRF"),
        ("success", 100, "jibit.POF"),
        ("insufficient_funds", 0, None),
    ]
    with runtime.db.read() as conn:
        grouped = tenants.usage(conn, "bill")
    assert grouped == [
        {
            "day": "2026-02-01",
            "surface": "jibit",
            "service": "cards",
            "outcome": "insufficient_funds",
            "count": 1,
            "amount": 0,
        },
        {
            "day": "2026-02-01",
            "surface": "jibit",
            "service": "cards",
            "outcome": "success",
            "count": 3,
            "amount": 300,
        },
    ]


def test_daily_limit_resets_at_tehran_midnight(runtime: Runtime) -> None:
    # 20:00 UTC is 23:30 in Tehran; Tehran midnight is 20:30 UTC.
    sandbox_ops.freeze(runtime, "2026-01-10T20:00:00Z")
    cid = _customer(runtime)
    with runtime.db.write() as conn:
        tenants.set_price(conn, "bill", "jibit", "cards", price=10, daily_limit=2)
    before = _balances(runtime, "bill")["jibit.PRF"][0]
    outcomes = [_charge(runtime, cid).outcome for _ in range(3)]
    assert outcomes == [ChargeOutcome.CHARGED, ChargeOutcome.CHARGED, ChargeOutcome.DAILY_LIMIT]
    assert _balances(runtime, "bill")["jibit.PRF"][0] == before - 20
    assert runtime.clock.today() == date(2026, 1, 10)
    # Another service has its own count.
    assert _charge(runtime, cid, service="iban").ok
    sandbox_ops.advance(runtime, 29 * 60)  # 23:59 Tehran: still the same day
    assert _charge(runtime, cid).outcome is ChargeOutcome.DAILY_LIMIT
    sandbox_ops.advance(runtime, 2 * 60)  # 00:01 the next Tehran day (still Jan 10 in UTC)
    assert runtime.clock.now_utc().date() == date(2026, 1, 10)
    assert runtime.clock.today() == date(2026, 1, 11)
    assert _charge(runtime, cid).ok
    assert _counts(runtime, cid, date(2026, 1, 10)) == {"cards": 2, "iban": 1}
    assert _counts(runtime, cid, date(2026, 1, 11)) == {"cards": 1}
    assert [e[0] for e in _events(runtime, cid)].count("daily_limit") == 2
    assert all(price == 0 for outcome, price, _w in _events(runtime, cid) if outcome != "success")


def test_disabled_service_and_recorded_failures_are_never_charged(runtime: Runtime) -> None:
    cid = _customer(runtime)
    with runtime.db.write() as conn:
        tenants.set_price(conn, "bill", "jibit", "cards", price=500, enabled=False)
    before = _balances(runtime, "bill")
    result = _charge(runtime, cid)
    assert result.outcome is ChargeOutcome.DISABLED
    with runtime.db.write() as conn:
        billing.record_failure(
            conn,
            runtime.clock,
            customer_id=cid,
            surface="jibit",
            service="iban",
            outcome="card.invalid",
            track_id="t-1",
        )
    assert _balances(runtime, "bill") == before
    assert _events(runtime, cid) == [("service_disabled", 0, None), ("card.invalid", 0, None)]
    assert _counts(runtime, cid, runtime.clock.today()) == {}
    # A price row wins over the surface's default price; no row means the default.
    with runtime.db.write() as conn:
        tenants.set_price(conn, "bill", "jibit", "cards", enabled=True)
    assert _charge(runtime, cid, price=1).price == 500
    assert _charge(runtime, cid, service="other", price=7).price == 7


def test_daily_limit_and_balance_hold_under_concurrency(runtime: Runtime) -> None:
    n_threads, limit, price = 12, 5, 7
    cid = _customer(runtime)
    with runtime.db.write() as conn:
        tenants.set_price(conn, "bill", "jibit", "cards", price=price, daily_limit=limit)
    before = _balances(runtime, "bill")["jibit.PRF"][0]
    barrier = threading.Barrier(n_threads)
    results: list[ChargeOutcome] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work() -> None:
        try:
            barrier.wait()
            outcome = _charge(runtime, cid, price=1).outcome
            with lock:
                results.append(outcome)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results.count(ChargeOutcome.CHARGED) == limit
    assert results.count(ChargeOutcome.DAILY_LIMIT) == n_threads - limit
    assert _balances(runtime, "bill")["jibit.PRF"][0] == before - limit * price
    assert _counts(runtime, cid, runtime.clock.today()) == {"cards": limit}
    assert len(_events(runtime, cid)) == n_threads


def test_a_limit_without_a_price_keeps_the_surface_default_price(runtime: Runtime) -> None:
    cid = _customer(runtime)
    with runtime.db.write() as conn:
        shown = tenants.set_price(conn, "bill", "jibit", "cards", daily_limit=1)
        assert shown["price"] is None
        rule = billing.price_rule(conn, cid, "jibit", "cards", 700)
    assert rule == billing.PriceRule(700, 1, True)
    before = _balances(runtime, "bill")["jibit.PRF"][0]
    assert _charge(runtime, cid, price=700).outcome is ChargeOutcome.CHARGED
    assert _balances(runtime, "bill")["jibit.PRF"][0] == before - 700
    assert _charge(runtime, cid, price=700).outcome is ChargeOutcome.DAILY_LIMIT
    with runtime.db.write() as conn:
        tenants.set_price(conn, "bill", "jibit", "cards", price=5)
        assert billing.price_rule(conn, cid, "jibit", "cards", 700).price == 5
