"""A mandate's limits: per-transaction maximum, daily and monthly counts, daily amount.

Days are Tehran calendar days; months are Gregorian calendar months in Tehran time (the
document's sample ``end_of_current_month`` 1751315399000 is 2025-06-30 23:59:59 Tehran). The
counters of the current day and month live on the mandate row; a pay reads them under the row
lock and writes them back in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pishkhan.core.clock import TEHRAN

from .errors import PaymanError


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def end_of_month_ms(now_tehran: datetime) -> int:
    """The last second of the current Gregorian month in Tehran, as epoch milliseconds."""
    year, month = now_tehran.year, now_tehran.month
    first_next = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=TEHRAN)
    return int(first_next.timestamp()) * 1000 - 1000


@dataclass(frozen=True, slots=True)
class Usage:
    day_count: int
    day_amount: int
    month_count: int


def usage_of(row: Mapping[Any, Any], today: date) -> Usage:
    """Today's and this month's counters (zero when the stored ones belong to another period)."""
    same_day = row["day_key"] == today
    same_month = row["month_key"] == month_key(today)
    return Usage(
        day_count=int(row["day_count"]) if same_day else 0,
        day_amount=int(row["day_amount"]) if same_day else 0,
        month_count=int(row["month_count"]) if same_month else 0,
    )


def check(row: Mapping[Any, Any], usage: Usage, amount: int) -> None:
    """Raise the document's error for the first limit this pay would break."""
    if row["max_amount"] is not None and amount > row["max_amount"]:
        raise PaymanError("2062")
    if usage.day_count >= row["max_daily_count"]:
        raise PaymanError("2003")
    if row["max_monthly_count"] is not None and usage.month_count >= row["max_monthly_count"]:
        raise PaymanError("2004")
    daily_max = row["daily_max_amount"]
    if daily_max is not None:
        if usage.day_amount >= daily_max:
            raise PaymanError("29003")
        if usage.day_amount + amount > daily_max:
            raise PaymanError("2144")


def counted(usage: Usage, amount: int, today: date) -> dict[str, Any]:
    """The counter columns after counting one more pay of ``amount``."""
    return {
        "day_key": today,
        "day_count": usage.day_count + 1,
        "day_amount": usage.day_amount + amount,
        "month_key": month_key(today),
        "month_count": usage.month_count + 1,
    }
