"""What each Jibit service costs, and how one call is served and billed (no HTTP).

An inquiry's rule is a ``work(conn)`` closure (the world lookup, raising :class:`JibitError`
for a documented error); :func:`serve` runs it and the charge in the caller's transaction. A
failed call records a usage event (:func:`record`) and is never charged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy.engine import Connection

from pishkhan.core.clock import Clock
from pishkhan.providers.jibit.errors import JibitError
from pishkhan.providers.jibit.tenancy import CustomerInfo
from pishkhan.tenants.billing import ChargeOutcome, charge, record_failure

Body = dict[str, Any]
Work = Callable[[Connection], Body]
SURFACE: Final = "jibit"


@dataclass(frozen=True)
class Service:
    name: str
    persian_name: str
    price: int  # default price in rials; per-customer service_prices rows override it


SERVICES: Final[dict[str, Service]] = {
    s.name: s
    for s in (
        Service("CARD_INQUIRY", "استعلام کارت", 1_500),
        Service("CARD_TO_DEPOSIT", "تبدیل کارت به حساب", 2_500),
        Service("CARD_TO_IBAN", "تبدیل کارت به شبا", 3_000),
        Service("IBAN_INQUIRY", "استعلام شبا", 2_000),
        Service("DEPOSIT_TO_IBAN", "تبدیل حساب به شبا", 3_000),
        Service("MATCHING_CARD_NATIONAL_CODE", "تطابق کارت با کدملی", 4_000),
        Service("MATCHING_DEPOSIT_NATIONAL_CODE", "تطابق شماره حساب با کدملی", 4_000),
        Service("MATCHING_IBAN_NATIONAL_CODE", "تطابق شبا با کدملی", 4_000),
        Service("MATCHING_CARD_NAME", "تطابق کارت با نام و نام\u200cخانوادگی", 3_000),
        Service("MATCHING_DEPOSIT_NAME", "تطابق شماره حساب با نام و نام\u200cخانوادگی", 3_000),
        Service("MATCHING_IBAN_NAME", "تطابق شبا با نام و نام\u200cخانوادگی", 3_000),
        Service("MATCHING_SHAHKAR", "تطابق کدملی با شماره موبایل (شاهکار)", 2_500),
        Service("POSTAL_ADDRESS", "استعلام کدپستی", 2_000),
        Service("POSTAL_WGS", "استعلام مختصات جغرافیایی با کدپستی", 2_000),
        Service("IDENTITY_SIMILARITY", "ثبت احوال مقایسه\u200cای", 5_000),
        Service("FOREIGNER_IDENTITY", "استعلام اطلاعات اتباع خارجی", 5_000),
        Service("CORPORATION_IDENTITY", "استعلام اطلاعات صنف", 5_000),
        Service("MILITARY_SERVICE", "استعلام نظام وظیفه", 4_000),
        Service("SANA", "استعلام کد ثنا", 4_000),
    )
}


def record(
    clock: Clock, customer_id: int, svc: str, code: str, track: str | None, conn: Connection
) -> None:
    """A failed call's usage event (never charged)."""
    record_failure(
        conn,
        clock,
        customer_id=customer_id,
        surface=SURFACE,
        service=svc,
        outcome=code,
        track_id=track,
    )


def serve(
    clock: Clock,
    customer: CustomerInfo,
    svc: str,
    work: Work,
    track: str | None,
    conn: Connection,
) -> Body | JibitError:
    """The world lookup and the charge, in the caller's transaction: the body, or the error
    to answer (the world's, ``daily_limit.reached``, or ``forbidden`` for no funds or a
    disabled service)."""
    try:
        body = work(conn)
    except JibitError as exc:
        record(clock, customer.customer_id, svc, exc.code, track, conn)
        return exc
    result = charge(
        conn,
        clock,
        customer_id=customer.customer_id,
        surface=SURFACE,
        service=svc,
        track_id=track,
        rule=customer.rule(svc, SERVICES[svc].price),
    )
    if result.outcome is ChargeOutcome.CHARGED:
        return body
    if result.outcome is ChargeOutcome.DAILY_LIMIT:
        return JibitError("daily_limit.reached")
    return JibitError("forbidden")
