from datetime import date, timedelta

import jdatetime
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pishkhan.iran import (
    InvalidIdentifier,
    JDate,
    days_in_month,
    format_jalali,
    is_leap_year,
    parse_gregorian,
    parse_jalali,
    parse_jalali_yymmdd,
    resolve_two_digit_year,
    to_gregorian,
    to_jalali,
)

PROPERTY = settings(max_examples=200, deadline=None)
TODAY_1404 = date(2025, 6, 1)  # 1404/03/11


@pytest.mark.parametrize(
    "raw",
    ["13600331", "1360/03/31", "1360-03-31", "1360/3/31", "۱۳۶۰/۰۳/۳۱", "\u200f1360/03/31 "],
)
def test_parse_forms(raw: str) -> None:
    d = parse_jalali(raw)
    assert d == JDate(1360, 3, 31)
    assert to_gregorian(d) == date(1981, 6, 21)


def test_format_forms() -> None:
    d = JDate(1400, 7, 8)
    assert format_jalali(d, "compact") == "14000708"
    assert format_jalali(d, "slash") == "1400/07/08"
    assert format_jalali(d, "dash") == "1400-07-08"
    assert format_jalali(d, "yymmdd") == "000708"
    assert format_jalali(d) == "1400/07/08" == str(d)


@pytest.mark.parametrize(
    "raw",
    [
        "1402/12/30",  # Esfand 30 in a common year
        "1403/13/01",
        "1403/00/10",
        "1403/01/00",
        "1403/01/32",
        "1403/07/31",  # months 7-11 have 30 days
        "1403/11/31",
        "1403/1/1/1",
        "1403/01-01",  # mixed separators
        "140301011",
        "0000/01/01",
        "abcd/01/01",
        "",
    ],
)
def test_invalid_jalali(raw: str) -> None:
    with pytest.raises(InvalidIdentifier) as exc:
        parse_jalali(raw)
    assert exc.value.kind == "jalali_date"


def test_esfand_30_only_in_leap_years() -> None:
    assert is_leap_year(1403) and not is_leap_year(1402)
    assert parse_jalali("1403/12/30") == JDate(1403, 12, 30)
    assert to_gregorian(JDate(1403, 12, 30)) == date(2025, 3, 20)
    assert days_in_month(1403, 12) == 30
    assert days_in_month(1402, 12) == 29
    assert days_in_month(1402, 6) == 31
    assert days_in_month(1402, 7) == 30
    with pytest.raises(ValueError):
        days_in_month(1402, 13)


def test_jdate_rejects_bad_fields() -> None:
    with pytest.raises(ValueError):
        JDate(1402, 12, 30)
    with pytest.raises(ValueError):
        JDate(0, 1, 1)


def test_yymmdd_examples() -> None:
    assert parse_jalali_yymmdd("000708", TODAY_1404) == JDate(1400, 7, 8)
    assert parse_jalali_yymmdd("۰۰۰۷۰۸", TODAY_1404) == JDate(1400, 7, 8)
    assert parse_jalali_yymmdd("991229", TODAY_1404) == JDate(1399, 12, 29)
    # today in 1399: "00" is next year, not 1300
    assert parse_jalali_yymmdd("000101", date(2021, 3, 1)) == JDate(1400, 1, 1)
    with pytest.raises(InvalidIdentifier):
        parse_jalali_yymmdd("0007081", TODAY_1404)
    with pytest.raises(InvalidIdentifier):
        parse_jalali_yymmdd("001308", TODAY_1404)


def test_pivot_rule() -> None:
    assert resolve_two_digit_year(4, TODAY_1404) == 1404
    assert resolve_two_digit_year(53, TODAY_1404) == 1453
    assert resolve_two_digit_year(54, TODAY_1404) == 1354  # tie: the earlier year
    assert resolve_two_digit_year(55, TODAY_1404) == 1355
    assert resolve_two_digit_year(99, TODAY_1404) == 1399
    assert resolve_two_digit_year(2, date(2024, 1, 1)) == 1402  # today 1402/10/11
    with pytest.raises(ValueError):
        resolve_two_digit_year(100, TODAY_1404)


def test_parse_gregorian() -> None:
    assert parse_gregorian("2021-06-21") == date(2021, 6, 21)
    assert parse_gregorian("2021/06/21") == date(2021, 6, 21)
    assert parse_gregorian("2021/6/1") == date(2021, 6, 1)
    assert parse_gregorian("۲۰۲۱-۰۶-۲۱") == date(2021, 6, 21)
    for bad in ["2021-02-30", "21-06-2021", "2021.06.21", "2021-06/21", "", "20210621"]:
        with pytest.raises(InvalidIdentifier) as exc:
            parse_gregorian(bad)
        assert exc.value.kind == "gregorian_date"


gregorian_dates = st.dates(min_value=date(1925, 3, 21), max_value=date(2075, 3, 20))


@PROPERTY
@given(gregorian_dates)
def test_conversion_agrees_with_jdatetime(day: date) -> None:
    j = to_jalali(day)
    ref = jdatetime.date.fromgregorian(date=day)
    assert (j.year, j.month, j.day) == (ref.year, ref.month, ref.day)
    assert to_gregorian(j) == day
    assert is_leap_year(j.year) == ref.isleap()


@PROPERTY
@given(gregorian_dates, st.sampled_from(["compact", "slash", "dash"]))
def test_format_parse_round_trip(day: date, style: str) -> None:
    j = to_jalali(day)
    assert parse_jalali(format_jalali(j, style)) == j  # type: ignore[arg-type]


@PROPERTY
@given(gregorian_dates, st.integers(-365 * 49, 365 * 49))
def test_yymmdd_round_trip_near_today(today: date, offset: int) -> None:
    day = today + timedelta(days=offset)
    j = to_jalali(day)
    assert parse_jalali_yymmdd(j.yymmdd(), today) == j


@PROPERTY
@given(st.integers(1304, 1453))
def test_leap_years_agree_with_jdatetime(year: int) -> None:
    assert is_leap_year(year) == jdatetime.date(year, 1, 1).isleap()
