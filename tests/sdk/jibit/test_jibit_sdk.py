"""pishkhan.client.jibit, sync and async, against the in-process app: every endpoint."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from jibit_support import Customer, create_customer, seed_world, usage

from pishkhan import iran
from pishkhan.client.jibit import DEFAULT_BASE_URL, AsyncJibitClient, JibitClient, JibitError
from pishkhan.control import sandbox_ops
from pishkhan.runtime import Runtime
from pishkhan.world import fixtures as F

BASE = "http://127.0.0.1/ide"


@pytest.fixture
def customer(runtime: Runtime) -> Customer:
    seed_world(runtime)
    return create_customer(runtime)


@pytest.fixture
def jibit(client: Any, customer: Customer) -> JibitClient:
    return JibitClient(customer.api_key, customer.secret_key, base_url=BASE, http_client=client)


def test_default_base_url() -> None:
    assert DEFAULT_BASE_URL == "https://napi.jibit.ir/ide"
    c = JibitClient("k", "s")
    assert str(c._t._http.base_url).rstrip("/") == DEFAULT_BASE_URL
    c.close()


def test_every_endpoint_sync(jibit: JibitClient, runtime: Runtime, customer: Customer) -> None:
    pair = jibit.generate_token()
    assert pair.access_token and pair.refresh_token
    assert jibit.refresh_token().access_token != pair.access_token
    card = jibit.card(F.CARD_ACTIVE)
    assert (card.card_info.bank, card.card_info.owner_name) == ("MELLI", "علی رضایی")
    assert jibit.card_to_deposit(F.CARD_ACTIVE).deposit_info.deposit_number == F.DEPOSIT_ACTIVE
    assert jibit.card_to_iban(F.CARD_ACTIVE).iban_info.iban == F.IBAN_ACTIVE
    report = jibit.card_to_iban_availability()
    assert report.available("MELLI") and not report.available(F.BANK_CARD_TO_IBAN_UNAVAILABLE)
    assert [o.first_name for o in jibit.iban(F.IBAN_JOINT).iban_info.owners] == ["علی", "مریم"]
    assert jibit.deposit_to_iban("MELLI", F.DEPOSIT_ACTIVE).deposit_to_iban_info.iban == (
        F.IBAN_ACTIVE
    )
    assert jibit.match_card_national_code(F.CARD_ACTIVE, F.NC_OK, "13600331") is True
    assert jibit.match_deposit_national_code("MELLI", F.DEPOSIT_ACTIVE, F.NC_OK, "13600331")
    assert jibit.match_iban_national_code(F.IBAN_ACTIVE, F.NC_FEMALE, "13650715") is False
    assert jibit.match_card_name(F.CARD_ACTIVE, "علی رضایی") is True
    assert jibit.match_deposit_name("MELLAT", F.DEPOSIT_JOINT, "مریم احمدی") is True
    assert jibit.match_iban_name(F.IBAN_ACTIVE, "مریم احمدی") is False
    assert jibit.match_national_code_mobile(F.NC_OK, F.MOBILE_OK) is True
    assert jibit.postal(F.POSTAL_OK).address_info.province == "تهران"
    assert jibit.postal_wgs(F.POSTAL_OK).wgs_info.latitude == 35.758
    sim = jibit.similarity(F.NC_OK, "13600331", first_name="علی", father_name="محمد")
    assert (sim.first_name_similarity_percentage, sim.father_name_similarity_percentage) == (
        100,
        100,
    )
    assert sim.last_name_similarity_percentage is None
    assert len(jibit.foreigner(F.FIDA_OK).foreigner_identity_info.identification_documents) == 2
    assert jibit.corporation(F.GUILD_OK).corporation_identity_info.national_code == F.NC_OK
    assert (
        jibit.military_service(F.NC_MILITARY_ABSENT).military_service_qualification_info.qualified
        is False
    )
    assert jibit.sana(F.NC_OK, F.MOBILE_OK).registered is True
    balances = jibit.balances()
    spent = 10_000_000_000 - balances.amount("PRF")
    assert spent == sum(price for _s, _o, price in usage(runtime, customer)) and spent > 0
    day = iran.to_jalali(runtime.clock.today()).yymmdd()
    counts = jibit.daily_report(day).counts()
    assert counts["CARD_INQUIRY"] == 1 and counts["MATCHING_CARD_NAME"] == 1
    assert sum(counts.values()) == 19 == len(counts)


def test_errors_are_typed(jibit: JibitClient) -> None:
    with pytest.raises(JibitError) as info:
        jibit.card(F.CARD_LOST)
    exc = info.value
    assert (exc.code, exc.status_code) == ("card.registered_as_lost", 400)
    assert exc.message == "این کارت به عنوان کارت گم شده ثبت شده است"
    with pytest.raises(JibitError) as info:
        jibit.iban(F.IBAN_UNKNOWN)
    assert (info.value.code, info.value.status_code) == ("iban.not_found", 404)


def test_track_id_on_errors(client: Any, customer: Customer) -> None:
    jibit = JibitClient(
        customer.api_key,
        customer.secret_key,
        base_url=BASE,
        http_client=client,
        headers={"X-TRACK-ID": "sdk-track"},
    )
    with pytest.raises(JibitError) as info:
        jibit.card(F.CARD_STOLEN)
    assert info.value.track_id == "sdk-track"


def test_bad_credentials(client: Any, customer: Customer) -> None:
    jibit = JibitClient(customer.api_key, "wrong", base_url=BASE, http_client=client)
    with pytest.raises(JibitError) as info:
        jibit.balances()
    assert (info.value.code, info.value.status_code) == ("invalid.credentials", 401)


def test_token_lifecycle(jibit: JibitClient, runtime: Runtime) -> None:
    jibit.balances()
    first = jibit.auth.access_token
    jibit.balances()
    assert jibit.auth.access_token == first  # cached
    # close to expiry (by the client's clock): refreshed before the call
    import time

    jibit.auth.access_expires_at = time.time() + 10
    jibit.balances()
    second = jibit.auth.access_token
    assert second != first
    # on 403: refresh and retry (the server says the token is bad)
    jibit.auth.access_token = "garbage"
    jibit.balances()
    assert jibit.auth.access_token not in ("garbage", second)
    # refresh token expired: falls back to generating
    sandbox_ops.advance(runtime, 3 * 24 * 3600)
    jibit.auth.access_expires_at = 0.0
    jibit.auth.refresh_expires_at = 10**12  # the client believes its refresh token is good
    jibit.balances()
    assert jibit.auth.access_token is not None


def test_injected_transport(customer: Customer) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        if request.url.path.endswith("/tokens/generate"):
            return httpx.Response(200, json={"accessToken": "a", "refreshToken": "r"})
        assert request.headers["authorization"] == "Bearer a"
        return httpx.Response(
            503,
            json={"code": "providers.not_available", "message": "x"},
            headers={"X-TRACK-ID": "t1"},
        )

    jibit = JibitClient("k", "s", transport=httpx.MockTransport(handler))
    with pytest.raises(JibitError) as info:
        jibit.iban(F.IBAN_ACTIVE)
    assert (info.value.code, info.value.status_code, info.value.track_id) == (
        "providers.not_available",
        503,
        "t1",
    )
    assert seen == ["POST /ide/v1/tokens/generate", "GET /ide/v1/ibans"]


async def test_every_endpoint_async(app: Any, customer: Customer, runtime: Runtime) -> None:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
    async with AsyncJibitClient(
        customer.api_key, customer.secret_key, base_url=BASE, http_client=http
    ) as jibit:
        pair = await jibit.generate_token()
        assert (await jibit.refresh_token()).access_token != pair.access_token
        assert (await jibit.card(F.CARD_ACTIVE)).card_info.type == "DEBIT"
        assert (await jibit.card_to_deposit(F.CARD_ACTIVE)).deposit_info.bank == "MELLI"
        assert (await jibit.card_to_iban(F.CARD_ACTIVE)).iban_info.status == "ACTIVE"
        assert (await jibit.card_to_iban_availability()).available("MELLI")
        assert (await jibit.iban(F.IBAN_ACTIVE)).value == F.IBAN_ACTIVE
        assert (await jibit.deposit_to_iban("MELLI", F.DEPOSIT_ACTIVE)).number == (F.DEPOSIT_ACTIVE)
        assert await jibit.match_card_national_code(F.CARD_ACTIVE, F.NC_OK, "13600331")
        assert await jibit.match_deposit_national_code(
            "MELLI", F.DEPOSIT_ACTIVE, F.NC_OK, "13600331"
        )
        assert await jibit.match_iban_national_code(F.IBAN_ACTIVE, F.NC_OK, "13600331")
        assert await jibit.match_card_name(F.CARD_ACTIVE, "علی رضایی")
        assert await jibit.match_deposit_name("MELLI", F.DEPOSIT_ACTIVE, "علی رضایی")
        assert await jibit.match_iban_name(F.IBAN_ACTIVE, "علی رضایی")
        assert not await jibit.match_national_code_mobile(F.NC_FEMALE, F.MOBILE_OK)
        assert (await jibit.postal(F.POSTAL_OK)).code == F.POSTAL_OK
        assert (await jibit.postal_wgs(F.POSTAL_OK)).wgs_info.longitude == 51.4097
        assert (
            await jibit.similarity(F.NC_OK, "13600331", full_name="علی رضایی")
        ).full_name_similarity_percentage == 100
        assert (await jibit.foreigner(F.FIDA_OK)).fida == F.FIDA_OK
        assert (await jibit.corporation(F.GUILD_OK)).code == F.GUILD_OK
        assert (await jibit.military_service(F.NC_OK)).military_service_qualification_info.qualified
        assert (await jibit.sana(F.NC_OK, F.MOBILE_OK)).matched
        assert (await jibit.balances()).amount("POF") == 0
        day = iran.to_jalali(runtime.clock.today()).yymmdd()
        assert sum((await jibit.daily_report(day)).counts().values()) == 19
        with pytest.raises(JibitError) as info:
            await jibit.card(F.CARD_EXPIRED)
        assert info.value.code == "card.is_expired"
