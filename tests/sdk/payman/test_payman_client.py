"""The Payman client against the in-process app: every endpoint, errors, redirect parsing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from pishkhan.client.payman import Contract, PaymanClient, PaymanError, parse_redirect
from pishkhan.control import sandbox_ops
from pishkhan.tenants import service as tenants
from pishkhan.world.fixtures import PAYMAN, fixture_rows
from pishkhan.world.generator import insert_rows

PERSON = next(p for p in PAYMAN if p.payman_code == "SABCIR")
REDIRECT = "https://merchant.example/back"


def test_parse_redirect() -> None:
    r = parse_redirect(
        "http://sample.com/redirect/url?payman_code=1546857554hd5&status=INTERNAL_ERROR&code=2035"
    )
    assert (r.payman_code, r.status, r.code, r.ok) == (
        "1546857554hd5",
        "INTERNAL_ERROR",
        "2035",
        False,
    )
    assert parse_redirect("https://m/?userID=1&payman_code=x&status=CREATED").ok


@pytest.fixture
def sdk(app: Any, runtime: Any, client: Any) -> PaymanClient:
    with runtime.db.write() as conn:
        insert_rows(conn, fixture_rows())
        creds = tenants.create_customer(
            conn,
            runtime.clock,
            tenants.NewCustomer(name="shop", slug="shop", payman_redirect_urls=(REDIRECT,)),
        )["secrets"]["payman"]
    sandbox_ops.freeze(runtime, datetime(2025, 6, 3, 8, 30, tzinfo=UTC).isoformat())
    c = PaymanClient(
        "http://127.0.0.1",
        creds["client_id"],
        creds["client_secret"],
        creds["app_key"],
        http_client=client,
    )
    c.admin = client  # type: ignore[attr-defined]
    return c


def test_every_endpoint(sdk: PaymanClient) -> None:
    location = sdk.create(
        bank_code="SABCIR",
        user_id="u1",
        redirect_url=REDIRECT,
        trace_id="sdk-1",
        mobile=PERSON.mobile,
        national_code=PERSON.national_code,
        contract=Contract(datetime(2026, 6, 1, tzinfo=UTC), 5, max_transaction_amount=1_000_000),
    )
    assert "/payman-bank/oauth/authorize" in location
    with pytest.raises(PaymanError) as exc:
        sdk.create_trace("sdk-1")
    assert exc.value.code == "2014"
    admin = sdk.admin  # type: ignore[attr-defined]
    code = sdk.search()["results"]
    assert code[0]["payman_id"] is None
    token = parse_qs(urlsplit(location).query)["boom_token"][0]
    r = admin.post(
        "/payman-bank/oauth/login",
        data={"boom_token": token, "national_code": PERSON.national_code, "mobile": PERSON.mobile},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = admin.post(
        "/payman-bank/oauth/decide",
        data={"boom_token": token, "action": "approve", "deposit": PERSON.iban},
        follow_redirects=False,
    )
    back = parse_redirect(r.headers["location"])
    assert back.ok and back.status == "CREATED"
    got = sdk.get_id(back.payman_code)
    pid = got["payman_id"]
    assert sdk.create_trace("sdk-1")["status"] == "ACTIVE"
    paid = sdk.pay(payman_id=pid, amount=12000, trace_id="sdk-p1", description="x")
    assert paid.status == "SUCCEED" and paid.transaction_amount == 12000
    assert sdk.pay_trace("sdk-p1")["status"] == "SUCCEED"
    assert sdk.report(pid)["remaining_daily_transactions_count"] == 4
    assert sdk.transactions()["total_records"] == 1
    assert (
        len(
            sdk.merchant_transactions(
                bank_code="SABCIR",
                start_date=datetime(2025, 1, 1, tzinfo=UTC),
                end_date=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )
        == 1
    )
    assert (
        sdk.statistics(datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))[
            "total_records"
        ]
        == 1
    )
    assert len(sdk.health()) == 28
    assert sdk.permissions()[0]["id"] == 1
    assert sdk.change_status(pid, "DEACTIVE") == {"payman_id": pid, "status": "DEACTIVE"}
    with pytest.raises(PaymanError) as exc:
        sdk.pay(payman_id=pid, amount=1, trace_id="sdk-p2")
    assert exc.value.code == "2058" and exc.value.status_code == 400
    upd = sdk.update(payman_id=pid, mobile=PERSON.mobile, max_daily_transaction_count=7)
    assert "/payman-bank/oauth/authorize" in upd
