"""Numbers and dates that do not fit what Payman keeps: the document's 071 in Payman's
envelope, never a 500 (on SQLite and PostgreSQL, whose INTEGER columns are 32-bit)."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Payman

HUGE = 9223372036854775808  # 2**63: one more than a 64-bit column holds
BAD_INPUT = "ورودی ها صحیح نیستند."


def _071(ref: str, info: str) -> dict[str, Any]:
    item = {"error": BAD_INPUT, "code": "071", "reference": ref, "info": info}
    return {"error": BAD_INPUT, "code": "071", "errors": [item]}


def _datetime(ref: str) -> dict[str, Any]:
    return _071(ref, f"The JSON value could not be converted to System.DateTime. Path: {ref}.")


@pytest.mark.parametrize(
    "start",
    [
        HUGE,
        18446744073709551616,  # beyond 64 bits unsigned: orjson gives a float
        -HUGE - 1,
        "9223372036854775808",
        "0001-01-01T00:00:00",  # Tehran time: before year 1 in UTC
        "9999-12-31T23:00:00Z",
    ],
)
def test_statistics_with_a_start_date_that_is_no_date(pm: Payman, start: Any) -> None:
    r = pm.client.post(
        "/v1/reports/transactions/statistics",
        json={"start_date": start, "end_date": "2025-06-03"},
        headers=pm.headers(),
    )
    assert r.status_code == 400, r.text
    assert r.json() == _datetime("$.start_date")


def test_statistics_end_date_the_last_day_is_no_date(pm: Payman) -> None:
    # A date-only end is the end of that Tehran day: 9999-12-31 has none.
    r = pm.client.post(
        "/v1/reports/transactions/statistics",
        json={"start_date": "2025-06-01", "end_date": "9999-12-31"},
        headers=pm.headers(),
    )
    assert r.status_code == 400, r.text
    assert r.json() == _datetime("$.end_date")


def test_report_numbers_that_do_not_fit(pm: Payman) -> None:
    body: dict[str, Any] = {"offset": "1e999999999", "length": 10}
    r = pm.client.post("/v1/payman/transactions", json=body, headers=pm.headers())
    assert r.status_code == 400, r.text
    assert r.json() == _071(
        "$.offset", "The JSON value could not be converted to System.Int32. Path: $.offset."
    )
    # Beyond 10**17 rials either way: no amount (nor a bound of one) is that large.
    body = {"offset": 0, "length": 10, "filter": {"from_transaction_amount": -(10**18)}}
    r = pm.client.post("/v1/payman/transactions", json=body, headers=pm.headers())
    assert r.status_code == 400, r.text
    ref = "$.filter.from_transaction_amount"
    assert r.json() == _071(ref, "The amount -1000000000000000000 is not a whole rial amount.")
