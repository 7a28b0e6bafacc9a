"""Jalali (Solar Hijri) dates in the forms the providers use, and Gregorian parsing.

Forms: compact ``13600331``, slashed ``1360/03/31``, dashed ``1360-03-31`` (the
separated forms also accept one-digit month/day, ``1360/3/31``), and two-digit-year
``yyMMdd`` such as ``000708`` (Jibit's daily usage report). Persian/Arabic digits and
bidi marks are folded first. Ranges are checked: month 1-12, day 1-31 in months 1-6,
1-30 in months 7-11, and Esfand (12) has 30 days only in leap years (29 otherwise).
Conversion to and from :class:`datetime.date` goes through
``persiantools.jdatetime.JalaliDate``.

Two-digit-year pivot (``yyMMdd``): the year is resolved relative to a ``today`` argument
(a Gregorian date, normally Tehran's current date from the clock): of the candidate
years ``C*100 + yy`` for the centuries around today's Jalali year, the one nearest to
today's Jalali year wins; on a tie (exactly 50 years either way) the earlier year wins.
So with today in 1404: ``00`` -> 1400, ``99`` -> 1399, ``53`` -> 1453, ``54`` -> 1354 (tie)
and ``55`` -> 1355.
The report is about recent days, so "nearest to today" is always the intended year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Literal

from persiantools.jdatetime import JalaliDate

from .canonical import BIDI_AND_ZERO_WIDTH, fold_digits
from .errors import InvalidIdentifier

JalaliFormat = Literal["compact", "slash", "dash", "yymmdd"]

MIN_YEAR: Final = 1
MAX_YEAR: Final = 9377  # persiantools' supported range

# persiantools' constructor and converters are unannotated; call them through Any.
_JALALI: Final[Any] = JalaliDate

_STRIP: Final[dict[int, None]] = dict.fromkeys(BIDI_AND_ZERO_WIDTH)
_COMPACT_RE: Final = re.compile(r"(\d{4})(\d{2})(\d{2})", re.ASCII)
_SEPARATED_RE: Final = re.compile(r"(\d{4})([/-])(\d{1,2})\2(\d{1,2})", re.ASCII)
_YYMMDD_RE: Final = re.compile(r"(\d{2})(\d{2})(\d{2})", re.ASCII)


def is_leap_year(year: int) -> bool:
    """True if the Jalali ``year`` has 366 days (Esfand 30 exists)."""
    return bool(JalaliDate.is_leap(year))


def days_in_month(year: int, month: int) -> int:
    """Number of days of Jalali ``month`` (1-12) in ``year``."""
    if not 1 <= month <= 12:
        raise ValueError("month must be in 1..12")
    if month <= 6:
        return 31
    if month <= 11:
        return 30
    return 30 if is_leap_year(year) else 29


@dataclass(frozen=True, slots=True, order=True)
class JDate:
    """A checked Jalali calendar date."""

    year: int
    month: int
    day: int

    def __post_init__(self) -> None:
        if not MIN_YEAR <= self.year <= MAX_YEAR:
            raise ValueError(f"year must be in {MIN_YEAR}..{MAX_YEAR}")
        if not 1 <= self.day <= days_in_month(self.year, self.month):
            raise ValueError(f"day out of range for {self.year}/{self.month}")

    @classmethod
    def from_gregorian(cls, value: date) -> JDate:
        j = _JALALI.to_jalali(value.year, value.month, value.day)
        return cls(int(j.year), int(j.month), int(j.day))

    def to_gregorian(self) -> date:
        g = _JALALI(self.year, self.month, self.day).to_gregorian()
        return date(g.year, g.month, g.day)

    def compact(self) -> str:
        """``13600331``."""
        return f"{self.year:04d}{self.month:02d}{self.day:02d}"

    def slashed(self) -> str:
        """``1360/03/31``."""
        return f"{self.year:04d}/{self.month:02d}/{self.day:02d}"

    def dashed(self) -> str:
        """``1360-03-31``."""
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    def yymmdd(self) -> str:
        """``600331`` (two-digit year; see the module's pivot rule to read it back)."""
        return f"{self.year % 100:02d}{self.month:02d}{self.day:02d}"

    def format(self, style: JalaliFormat) -> str:
        return _FORMATTERS[style](self)

    def __str__(self) -> str:
        return self.slashed()


_FORMATTERS: Final = {
    "compact": JDate.compact,
    "slash": JDate.slashed,
    "dash": JDate.dashed,
    "yymmdd": JDate.yymmdd,
}


def _clean(raw: object, kind: Literal["jalali_date", "gregorian_date"]) -> str:
    if not isinstance(raw, str):
        raise InvalidIdentifier(kind, raw, "not a string")
    return fold_digits(raw).translate(_STRIP).strip()


def _make(raw: object, year: int, month: int, day: int) -> JDate:
    try:
        return JDate(year, month, day)
    except ValueError as exc:
        raise InvalidIdentifier("jalali_date", raw, str(exc)) from None


def parse_jalali(raw: str) -> JDate:
    """Parse ``13600331``, ``1360/03/31`` or ``1360-03-31``; :class:`InvalidIdentifier` if not."""
    text = _clean(raw, "jalali_date")
    m = _COMPACT_RE.fullmatch(text)
    if m is not None:
        return _make(raw, int(m[1]), int(m[2]), int(m[3]))
    m = _SEPARATED_RE.fullmatch(text)
    if m is not None:
        return _make(raw, int(m[1]), int(m[3]), int(m[4]))
    raise InvalidIdentifier("jalali_date", raw, "expected yyyyMMdd, yyyy/MM/dd or yyyy-MM-dd")


def resolve_two_digit_year(yy: int, today: date) -> int:
    """The full Jalali year for ``yy`` (0-99): the one nearest today's Jalali year.

    Ties (exactly 50 years away) resolve to the earlier year.
    """
    if not 0 <= yy <= 99:
        raise ValueError("two-digit year must be in 0..99")
    current = JDate.from_gregorian(today).year
    century = current - current % 100
    candidates = (century - 100 + yy, century + yy, century + 100 + yy)
    return min(candidates, key=lambda y: (abs(y - current), y))


def parse_jalali_yymmdd(raw: str, today: date) -> JDate:
    """Parse ``yyMMdd`` (``000708`` -> 1400/07/08 when today is in the 1400s)."""
    text = _clean(raw, "jalali_date")
    m = _YYMMDD_RE.fullmatch(text)
    if m is None:
        raise InvalidIdentifier("jalali_date", raw, "expected yyMMdd")
    return _make(raw, resolve_two_digit_year(int(m[1]), today), int(m[2]), int(m[3]))


def format_jalali(value: JDate, style: JalaliFormat = "slash") -> str:
    """Format ``value`` as ``compact``, ``slash``, ``dash`` or ``yymmdd``."""
    return value.format(style)


def to_jalali(value: date) -> JDate:
    """The Jalali date of a Gregorian :class:`datetime.date`."""
    return JDate.from_gregorian(value)


def to_gregorian(value: JDate) -> date:
    """The Gregorian :class:`datetime.date` of a Jalali date."""
    return value.to_gregorian()


_GREGORIAN_RE: Final = re.compile(r"(\d{4})([/-])(\d{1,2})\2(\d{1,2})", re.ASCII)


def parse_gregorian(raw: str) -> date:
    """Parse ``2021-06-21`` or ``2021/06/21`` (one-digit month/day accepted)."""
    text = _clean(raw, "gregorian_date")
    m = _GREGORIAN_RE.fullmatch(text)
    if m is None:
        raise InvalidIdentifier("gregorian_date", raw, "expected yyyy-MM-dd or yyyy/MM/dd")
    try:
        return date(int(m[1]), int(m[3]), int(m[4]))
    except ValueError as exc:
        raise InvalidIdentifier("gregorian_date", raw, str(exc)) from None
