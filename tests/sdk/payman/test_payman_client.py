"""The Payman client against the in-process app: every endpoint, errors, redirect parsing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from pishkhan.client.payman import (
    Contract,
    MandatePage,
    MandateReport,
    MandateTrace,
    MerchantTransaction,
    PaymanClient,
    PaymanError,
    PaymanId,
    PayResult,
    PayTrace,
    Permission,
    ServiceHealth,
    Statistics,
    StatusChange,
    TransactionPage,
    parse_redirect,
)
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
    page = sdk.search()
    assert isinstance(page, MandatePage) and page.total_records == 1
    assert page.results[0].payman_id is None and page.results[0].contract.currency == "IRR"
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
    assert back.payman_code is not None
    got = sdk.get_id(back.payman_code)
    assert isinstance(got, PaymanId) and got.status == "ACTIVE"
    pid = got.payman_id
    trace = sdk.create_trace("sdk-1")
    assert isinstance(trace, MandateTrace) and trace.status == "ACTIVE" and trace.payman_id == pid
    assert trace.contract.max_transaction_amount == 1_000_000
    paid = sdk.pay(payman_id=pid, amount=12000, trace_id="sdk-p1", description="x")
    assert isinstance(paid, PayResult) and paid.status == "SUCCEED"
    assert paid.transaction_amount == 12000 and paid.is_over_draft is False
    assert paid.details[0].transaction_detail_type == "MAIN" and paid.details[0].amount == 12000
    traced = sdk.pay_trace("sdk-p1", "2025-06-03")
    assert isinstance(traced, PayTrace) and traced.status == "SUCCEED" and traced.error_type == ""
    report = sdk.report(pid)
    assert isinstance(report, MandateReport) and report.remaining_daily_transactions_count == 4
    page_t = sdk.transactions(filter={"transaction_type": "DIRECT_DEBIT"})
    assert isinstance(page_t, TransactionPage) and page_t.total_records == 1
    assert page_t.results[0].transaction_time == paid.transaction_time
    items = sdk.merchant_transactions(
        bank_code="SABCIR",
        start_date=datetime(2025, 1, 1, tzinfo=UTC),
        end_date=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert len(items) == 1 and isinstance(items[0], MerchantTransaction)
    assert items[0].server_date == datetime(2025, 6, 3, 12, 0)  # zone-less Tehran wall-clock
    stats = sdk.statistics(datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
    assert isinstance(stats, Statistics) and stats.total_records == 1
    assert stats.results[0].total_amount == 12000
    health = sdk.health()
    assert len(health) == 28 and all(isinstance(h, ServiceHealth) for h in health)
    perms = sdk.permissions()
    assert perms[0] == Permission(id=1, name="DIRECT_DEBIT", display_name="برداشت وجه")
    assert sdk.probe() is True
    assert sdk.change_status(pid, "deactive") == StatusChange(payman_id=pid, status="DEACTIVE")
    with pytest.raises(PaymanError) as exc:
        sdk.pay(payman_id=pid, amount=1, trace_id="sdk-p2")
    assert exc.value.code == "2058" and exc.value.status_code == 400
    upd = sdk.update(payman_id=pid, mobile=PERSON.mobile, max_daily_transaction_count=7)
    assert "/payman-bank/oauth/authorize" in upd


async def test_async_client(app: Any, runtime: Any) -> None:
    import httpx

    from pishkhan.client.payman import AsyncPaymanClient

    with runtime.db.write() as conn:
        insert_rows(conn, fixture_rows())
        creds = tenants.create_customer(
            conn,
            runtime.clock,
            tenants.NewCustomer(name="shop", slug="shop", payman_redirect_urls=(REDIRECT,)),
        )["secrets"]["payman"]
    async with AsyncPaymanClient(
        "http://127.0.0.1",
        creds["client_id"],
        creds["client_secret"],
        creds["app_key"],
        transport=httpx.ASGITransport(app=app),
    ) as c:
        assert await c.probe() is True
        perms = await c.permissions()
        assert [p.id for p in perms] == [1, 2]
        page = await c.search()
        assert page.total_records == 0 and page.results == []
        with pytest.raises(PaymanError) as exc:
            await c.get_id("nope")
        assert exc.value.code == "2014" and exc.value.status_code == 400
