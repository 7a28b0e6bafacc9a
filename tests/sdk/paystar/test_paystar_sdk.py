"""pishkhan.client.paystar against the in-process app: every endpoint and status."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

import httpx
import pytest
from paystar_sdk_support import App, balance, create_app

from pishkhan.client.paystar import (
    TEHRAN,
    AsyncPaystarClient,
    MatchResult,
    PaystarAuth,
    PaystarClient,
    PaystarError,
)
from pishkhan.control import paystar as paystar_control
from pishkhan.control import sandbox_ops
from pishkhan.runtime import Runtime
from pishkhan.tenants import service as tenants
from pishkhan.world import fixtures as F

BASE = "http://127.0.0.1"
ALI_BIRTH = date(1981, 6, 21)


@pytest.fixture
def sdk(client: Any, creds: App) -> Iterator[PaystarClient]:
    yield PaystarClient(**creds.refresh_body(), base_url=BASE, http_client=client)


def test_sync_every_endpoint_with_one_automatic_refresh(
    sdk: PaystarClient, runtime: Runtime, creds: App
) -> None:
    before = balance(runtime, creds.customer_id)
    assert sdk.match_mobile_national_id(F.NC_OK, F.MOBILE_OK) == MatchResult(is_matched=True)
    assert sdk.match_mobile_national_id(F.NC_FEMALE, F.MOBILE_OK).is_matched is False
    assert sdk.match_card_national_id(F.NC_OK, F.CARD_ACTIVE, ALI_BIRTH).is_matched is True
    assert sdk.match_card_national_id(F.NC_OK, F.CARD_ACTIVE, "1981-06-22").is_matched is False
    assert sdk.match_iban_national_id(F.NC_OK, F.IBAN_ACTIVE, ALI_BIRTH).is_matched is True
    assert sdk.match_iban_national_id(F.NC_OK, F.IBAN_UNKNOWN, ALI_BIRTH).is_matched is False
    assert sdk.auth.refreshes == 1
    assert balance(runtime, creds.customer_id) == before - 2 * 15_000 - 4 * 20_000


def test_refresh_api_key_returns_the_key_and_its_expiry(
    sdk: PaystarClient, runtime: Runtime
) -> None:
    sandbox_ops.freeze(runtime, "2025-03-01T10:00:00")
    key = sdk.refresh_api_key()
    assert key.api_key_expire_date == "2025-03-02 10:00:00"
    assert key.expires_at == datetime(2025, 3, 2, 10, 0, tzinfo=TEHRAN)
    assert sdk.auth.api_key == key.api_key
    # The server clock is in the past: the client falls back to a local 24 h lifetime.
    assert sdk.match_mobile_national_id(F.NC_OK, F.MOBILE_OK).is_matched
    assert sdk.auth.refreshes == 1


def test_expired_key_is_refreshed_and_the_call_retried(
    sdk: PaystarClient, runtime: Runtime
) -> None:
    sandbox_ops.freeze(runtime, "2025-03-01T10:00:00")
    assert sdk.match_mobile_national_id(F.NC_OK, F.MOBILE_OK).is_matched
    first = sdk.auth.api_key
    sandbox_ops.advance(runtime, 24 * 3600)  # the server now answers status 5
    assert sdk.match_mobile_national_id(F.NC_OK, F.MOBILE_OK).is_matched
    assert sdk.auth.refreshes == 2 and sdk.auth.api_key != first


def test_a_wrong_cached_key_is_replaced(client: Any, creds: App) -> None:
    sdk = PaystarClient(**creds.refresh_body(), base_url=BASE, http_client=client, api_key="stale.key",
                        api_key_expire_date="2999-01-01 00:00:00")  # fmt: skip
    assert sdk.auth.pending(0.0) is None
    assert sdk.match_mobile_national_id(F.NC_OK, F.MOBILE_OK).is_matched
    assert sdk.auth.refreshes == 1


def test_the_key_is_renewed_before_it_expires(creds: App) -> None:
    auth = PaystarAuth(**creds.refresh_body())
    assert auth.pending(0.0) is not None  # no key yet
    now = datetime(2030, 1, 1, 12, 0, tzinfo=TEHRAN).timestamp()
    from pishkhan.client.paystar import ApiKey

    auth.store(ApiKey(api_key="k", api_key_expire_date="2030-01-02 12:00:00"), "k", now)
    assert auth.pending(now + 24 * 3600 - 61) is None
    assert auth.pending(now + 24 * 3600 - 59) is not None


class _Tamper(httpx.BaseTransport):
    """Forwards to the app with a corrupted API key (the server answers status 4)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if "authorization" in request.headers:
            request.headers["authorization"] = "Bearer tampered"
        return self.inner.handle_request(request)


def _setup(runtime: Runtime, creds: App, status: int) -> dict[str, Any]:
    """Bring about ``status``; returns client keyword overrides (and a national_id)."""

    def write(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        with runtime.db.write() as conn:
            fn(conn, runtime.clock, creds.slug, *args, **kwargs)
        return {}

    def fault(name: str) -> dict[str, Any]:
        paystar_control.set_fault(runtime, "mobile-national-id", name)
        return {}

    setups: dict[int, Callable[[], dict[str, Any]]] = {
        0: lambda: fault("server_error"),
        2: lambda: {"application_id": "999999999"},
        3: lambda: write(tenants.set_status, "disabled"),
        6: lambda: {"access_password": "wrong"},
        7: lambda: write(tenants.update_customer, paystar_allowed_ips=["10.1.1.1"]),
        8: lambda: write(tenants.update_customer, paystar_services=["iban-national-id"]),
        9: lambda: write(tenants.topup, "paystar.open_banking", -10_000_000_000),
        10: lambda: {"national_id": "1234567890"},
        11: lambda: fault("upstream_error"),
        12: lambda: write(tenants.update_customer, paystar_services=[]),
        13: lambda: {"refresh_token": "wrong"},
    }
    return setups[status]()


MESSAGES = {
    0: "خطای سرور",
    2: "برنامه یافت نشد",
    3: "برنامه فعال نیست",
    4: "توکن احراز هویت اشتباه است",
    6: "رمز دسترسی برنامه استباه است",
    7: "آی پی مجاز نمی باشد",
    8: "سرویس مورد نظر برای شما فعال نمی باشد",
    9: "اعتبار کیف بانکداری باز کافی نمی باشد",
    10: "اطلاعات ارسال شده صحیح نمی باشد",
    11: "خطای سرویس دهنده",
    12: "تنظیمات بانکداری باز یافت نشد",
    13: "توکن بازیابی API key اشتباه است",
}


def test_sync_failures_raise_paystar_error(client: Any, runtime: Runtime, creds: App) -> None:
    for status in (0, 2, 3, 6, 7, 8, 9, 10, 11, 12, 13):
        fresh = create_app(runtime, f"sdk-{status}")
        overrides = _setup(runtime, fresh, status)
        national_id = overrides.pop("national_id", F.NC_OK)
        sdk = PaystarClient(
            **{**fresh.refresh_body(), **overrides}, base_url=BASE, http_client=client
        )
        before = balance(runtime, fresh.customer_id)
        with pytest.raises(PaystarError) as caught:
            sdk.match_mobile_national_id(national_id, F.MOBILE_OK)
        err = caught.value
        assert (err.status, err.code, err.message) == (status, str(status), MESSAGES[status])
        assert err.status_code == (500 if status == 0 else 200)
        assert err.body == {"status": status, "data": None, "message": MESSAGES[status]}
        assert balance(runtime, fresh.customer_id) == before
        paystar_control.clear(runtime)


def test_a_persistently_wrong_key_raises_status_4(client: Any, creds: App) -> None:
    http = httpx.Client(base_url=BASE, transport=_Tamper(client._transport))
    sdk = PaystarClient(**creds.refresh_body(), base_url=BASE, http_client=http)
    with pytest.raises(PaystarError) as caught:
        sdk.match_mobile_national_id(F.NC_OK, F.MOBILE_OK)
    assert (caught.value.status, caught.value.message) == (4, MESSAGES[4])
    assert sdk.auth.refreshes == 2  # first use, then once more after the rejection


def test_non_paystar_answer_is_a_transport_error(client: Any, creds: App) -> None:
    from pishkhan.client.base import TransportError

    sdk = PaystarClient(**creds.refresh_body(), base_url=BASE + "/nowhere", http_client=client)
    with pytest.raises(TransportError):
        sdk.refresh_api_key()


@pytest.fixture
async def async_sdk(app: Any, creds: App) -> Any:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
    async with AsyncPaystarClient(**creds.refresh_body(), base_url=BASE, http_client=http) as sdk:
        yield sdk


async def test_async_every_endpoint(async_sdk: AsyncPaystarClient, runtime: Runtime) -> None:
    assert (await async_sdk.match_mobile_national_id(F.NC_OK, F.MOBILE_OK)).is_matched
    card = await async_sdk.match_card_national_id(F.NC_OK, F.CARD_ACTIVE, ALI_BIRTH)
    assert card.is_matched
    iban = await async_sdk.match_iban_national_id(F.NC_FEMALE, F.IBAN_ACTIVE, "1986-10-07")
    assert iban.is_matched is False
    key = await async_sdk.refresh_api_key()
    assert async_sdk.auth.api_key == key.api_key and async_sdk.auth.refreshes == 2
    sandbox_ops.advance(runtime, 25 * 3600)
    assert (await async_sdk.match_mobile_national_id(F.NC_OK, F.MOBILE_OK)).is_matched
    assert async_sdk.auth.refreshes == 3


async def test_async_errors_and_ip_allowlist(
    async_sdk: AsyncPaystarClient, runtime: Runtime, creds: App
) -> None:
    with pytest.raises(PaystarError) as caught:
        await async_sdk.match_card_national_id(F.NC_OK, "1234", ALI_BIRTH)
    assert caught.value.status == 10
    # ASGITransport connects from 127.0.0.1: a CIDR allowlist admits it, another refuses it.
    with runtime.db.write() as conn:
        tenants.update_customer(
            conn, runtime.clock, creds.slug, paystar_allowed_ips=["127.0.0.0/8"]
        )
    assert (await async_sdk.match_mobile_national_id(F.NC_OK, F.MOBILE_OK)).is_matched
    with runtime.db.write() as conn:
        tenants.update_customer(conn, runtime.clock, creds.slug, paystar_allowed_ips=["::1"])
    with pytest.raises(PaystarError) as caught:
        await async_sdk.match_mobile_national_id(F.NC_OK, F.MOBILE_OK)
    assert caught.value.status == 7


async def test_async_wrong_cached_key_is_refreshed_on_status_4(
    app: Any, runtime: Runtime, creds: App
) -> None:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
    async with AsyncPaystarClient(
        **creds.refresh_body(), base_url=BASE, http_client=http, api_key="stale.key",
        api_key_expire_date="2999-01-01 00:00:00",
    ) as sdk:  # fmt: skip
        assert sdk.auth.pending(0.0) is None
        before = balance(runtime, creds.customer_id)
        assert (await sdk.match_iban_national_id(F.NC_OK, F.IBAN_ACTIVE, ALI_BIRTH)).is_matched
        assert sdk.auth.refreshes == 1 and sdk.auth.api_key != "stale.key"
        assert balance(runtime, creds.customer_id) == before - 20_000  # the retry, charged once


def _answering(body: Any, status_code: int = 200) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("refresh-api-key"):
            key = {"api_key": "k", "api_key_expire_date": "2999-01-01 00:00:00"}
            return httpx.Response(200, json={"status": 1, "data": key, "message": "ok"})
        return httpx.Response(status_code, json=body)

    return httpx.Client(base_url=BASE, transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    "body",
    [
        {"status": 1, "data": None, "message": "درخواست با موفقیت انجام شد"},
        {"status": 1, "data": {"matched": True}, "message": "درخواست با موفقیت انجام شد"},
        {"status": "1", "data": {"is_matched": True}, "message": "درخواست با موفقیت انجام شد"},
        [1, 2],
    ],
)
def test_an_unreadable_answer_is_a_transport_error(body: Any) -> None:
    from pishkhan.client.base import TransportError

    sdk = PaystarClient("1", "p", "r", base_url=BASE, http_client=_answering(body))
    with pytest.raises(TransportError):
        sdk.match_mobile_national_id(F.NC_OK, F.MOBILE_OK)


def test_status_1_with_an_http_error_is_a_paystar_error() -> None:
    body = {"status": 1, "data": {"is_matched": True}, "message": "x"}
    sdk = PaystarClient("1", "p", "r", base_url=BASE, http_client=_answering(body, 502))
    with pytest.raises(PaystarError) as caught:
        sdk.match_mobile_national_id(F.NC_OK, F.MOBILE_OK)
    assert (caught.value.status, caught.value.status_code) == (1, 502)
