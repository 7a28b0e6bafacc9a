"""Every documented error path: status, exact body, and nothing charged."""

from __future__ import annotations

from typing import Any

import pytest
from jibit_support import PREFIX, Customer, set_price, usage, wallet_balances

from pishkhan.providers.jibit import sandbox
from pishkhan.providers.jibit.errors import CATALOGUE, message_for
from pishkhan.runtime import Runtime
from pishkhan.world import fixtures as F

BAD_CARD = "6037990000000015"  # Luhn fails
NC_BAD = "0000000010"
NC, BD = F.NC_OK, "13600331"

# (path and query, expected code, service whose table words the message)
CASES: list[tuple[str, str, str | None]] = [
    # cards
    ("/cards", "card.is_required", "CARD_INQUIRY"),
    ("/cards?number=", "card.is_required", "CARD_INQUIRY"),
    (f"/cards?number={BAD_CARD}", "card.not_valid", "CARD_INQUIRY"),
    ("/cards?number=60379900000000", "card.not_valid", "CARD_INQUIRY"),
    (f"/cards?number={F.CARD_UNKNOWN}", "card.not_valid", "CARD_INQUIRY"),
    (f"/cards?number={F.CARD_ACTIVE}&iban=true&deposit=true", "parameters.not_acceptable", None),
    (f"/cards?number={F.CARD_ACTIVE}&iban=1&nationalCode=true", "parameters.not_acceptable", None),
    (f"/cards?number={F.CARD_ACTIVE}&iban=maybe", "invalid.request_body", None),
    (f"/cards?number={F.CARD_ACTIVE}&nationalCode=true", "handler.not_found", None),
    (f"/cards?number={F.CARD_LOST}", "card.registered_as_lost", "CARD_INQUIRY"),
    (f"/cards?number={F.CARD_HOLDER_NOT_OWNER}&iban=true", "conversion.failed", "CARD_TO_IBAN"),
    (f"/cards?number={F.CARD_STOLEN}", "card.registered_as_stolen", "CARD_INQUIRY"),
    (f"/cards?number={F.CARD_EXPIRED}", "card.is_expired", "CARD_INQUIRY"),
    (f"/cards?number={F.CARD_INACTIVE}", "card.not_active", "CARD_INQUIRY"),
    (f"/cards?number={F.CARD_INACTIVE}&deposit=true", "card.not_active", "CARD_TO_DEPOSIT"),
    (f"/cards?number={F.CARD_BLACKLISTED}", "card.black_listed", "CARD_INQUIRY"),
    (f"/cards?number={F.CARD_OWNER_NOT_AUTHORIZED}", "card.owner_not_authorized", "CARD_INQUIRY"),
    (
        f"/cards?number={F.CARD_OWNER_NOT_AUTHORIZED}&iban=true",
        "card.owner_not_authorized",
        "CARD_TO_IBAN",
    ),
    (f"/cards?number={F.CARD_ACCOUNT_NOT_VALID}", "card.account_number_not_valid", "CARD_INQUIRY"),
    (f"/cards?number={F.CARD_BANK_INACTIVE}", "card.source_bank_is_not_active", "CARD_INQUIRY"),
    (
        f"/cards?number={F.CARD_BANK_INACTIVE}&iban=true",
        "card.source_bank_is_not_active",
        "CARD_TO_IBAN",
    ),
    (f"/cards?number={F.CARD_PROVIDER_INACTIVE}", "card.provider_is_not_active", "CARD_INQUIRY"),
    (
        f"/cards?number={F.CARD_PROVIDER_INACTIVE}&deposit=true",
        "card.provider_is_not_active",
        "CARD_TO_DEPOSIT",
    ),
    (f"/cards?number={F.CARD_CREDIT}&iban=true", "card_type.not_supported", "CARD_TO_IBAN"),
    (f"/cards?number={F.CARD_GIFT}&iban=true", "card_type.not_supported", "CARD_TO_IBAN"),
    # ibans
    ("/ibans", "iban.is_required", None),
    ("/ibans?value=IR000170000000000000000101", "iban.not_valid", None),
    ("/ibans?value=IR12", "iban.not_valid", None),
    (f"/ibans?value={F.IBAN_UNKNOWN}", "iban.not_found", None),
    (f"/ibans?value={F.IBAN_NO_OWNER}", "iban.owner_not_found", "IBAN_INQUIRY"),
    # deposits
    (f"/deposits?bank=MELLI&number={F.DEPOSIT_ACTIVE}", "invalid.request_body", None),
    (f"/deposits?bank=NOPE&number={F.DEPOSIT_ACTIVE}&iban=true", "bank.not_valid", None),
    (f"/deposits?number={F.DEPOSIT_ACTIVE}&iban=true", "bank.not_valid", None),
    ("/deposits?bank=MELLI&iban=true", "deposit.is_required", None),
    ("/deposits?bank=MELLI&number=12a45&iban=true", "deposit.not_valid", None),
    (f"/deposits?bank=MELLI&number={F.IBAN_ACTIVE}&iban=true", "iban.provided", None),
    (f"/deposits?bank=MELLI&number={F.CARD_ACTIVE}&iban=true", "card_number.provided", None),
    (f"/deposits?bank=MELLI&number={F.DEPOSIT_UNKNOWN}&iban=true", "iban.not_found", None),
    (
        f"/deposits?bank=MASKAN&number={F.DEPOSIT_NO_OWNER}&iban=true",
        "iban.owner_not_found",
        "DEPOSIT_TO_IBAN",
    ),
    # matching
    ("/services/matching?cardNumber=1&nationalCode=1", "handler.not_found", None),
    ("/services/matching", "handler.not_found", None),
    (
        f"/services/matching?cardNumber={BAD_CARD}&nationalCode={NC}&birthDate={BD}",
        "card.not_valid",
        None,
    ),
    (
        f"/services/matching?cardNumber={F.CARD_ACTIVE}&nationalCode={NC_BAD}&birthDate={BD}",
        "nationalCode.not_valid",
        None,
    ),
    (
        f"/services/matching?cardNumber={F.CARD_ACTIVE}&nationalCode={NC}&birthDate=13601331",
        "birthDate.not_valid",
        None,
    ),
    (
        f"/services/matching?cardNumber={F.CARD_ACTIVE}&nationalCode={NC}&birthDate=13600101",
        "identity_info.not_found",
        None,
    ),
    (
        f"/services/matching?cardNumber={F.CARD_ACTIVE}&nationalCode={F.NC_NO_IDENTITY}"
        f"&birthDate={BD}",
        "identity_info.not_found",
        None,
    ),
    (
        f"/services/matching?cardNumber={F.CARD_STOLEN}&nationalCode={NC}&birthDate={BD}",
        "card.registered_as_stolen",
        None,
    ),
    (
        f"/services/matching?cardNumber={F.CARD_BANK_INACTIVE}&nationalCode={NC}&birthDate={BD}",
        "card.source_bank_is_not_active",
        "MATCHING_CARD_NATIONAL_CODE",
    ),
    (
        f"/services/matching?bank=XX&depositNumber=123&nationalCode={NC}&birthDate={BD}",
        "bank.not_valid",
        None,
    ),
    (
        f"/services/matching?bank=MELLI&depositNumber=1x&nationalCode={NC}&birthDate={BD}",
        "deposit.not_valid",
        None,
    ),
    (
        f"/services/matching?bank=MELLI&depositNumber={F.CARD_ACTIVE}&nationalCode={NC}"
        f"&birthDate={BD}",
        "card_number.provided",
        "MATCHING_DEPOSIT_NATIONAL_CODE",
    ),
    (
        f"/services/matching?bank=MELLI&depositNumber={F.IBAN_ACTIVE}&nationalCode={NC}"
        f"&birthDate={BD}",
        "iban.provided",
        "MATCHING_DEPOSIT_NATIONAL_CODE",
    ),
    (
        f"/services/matching?bank=MELLI&depositNumber={F.DEPOSIT_UNKNOWN}&nationalCode={NC}"
        f"&birthDate={BD}",
        "iban.not_found",
        None,
    ),
    (
        f"/services/matching?bank=MASKAN&depositNumber={F.DEPOSIT_NO_OWNER}&nationalCode={NC}"
        f"&birthDate={BD}",
        "iban.owner_not_found",
        "MATCHING_DEPOSIT_NATIONAL_CODE",
    ),
    (f"/services/matching?iban=IR11&nationalCode={NC}&birthDate={BD}", "iban.not_valid", None),
    (
        f"/services/matching?iban={F.IBAN_UNKNOWN}&nationalCode={NC}&birthDate={BD}",
        "iban.not_found",
        None,
    ),
    (
        f"/services/matching?iban={F.IBAN_ACTIVE}&nationalCode={F.NC_NO_IDENTITY}&birthDate={BD}",
        "identity_info.not_found",
        None,
    ),
    (
        f"/services/matching?cardNumber={F.CARD_NO_HOLDER}&nationalCode={NC}&birthDate={BD}",
        "matching.unknown",
        "MATCHING_CARD_NATIONAL_CODE",
    ),
    (
        f"/services/matching?iban={F.IBAN_NO_OWNER}&nationalCode={NC}&birthDate={BD}",
        "iban.owner_not_found",
        "MATCHING_IBAN_NATIONAL_CODE",
    ),
    (f"/services/matching?cardNumber={F.CARD_LOST}&name=x", "card.registered_as_lost", None),
    (
        f"/services/matching?bank=MELLI&depositNumber={F.DEPOSIT_UNKNOWN}&name=x",
        "deposit.not_valid",
        None,
    ),
    ("/services/matching?bank=NOPE&depositNumber=123&name=x", "deposit.not_valid", None),
    ("/services/matching?iban=IR11&name=x", "iban.not_valid", None),
    (f"/services/matching?iban={F.IBAN_UNKNOWN}&name=x", "iban.not_found", None),
    (
        f"/services/matching?iban={F.IBAN_NO_OWNER}&name=x",
        "iban.owner_not_found",
        "MATCHING_IBAN_NAME",
    ),
    (
        f"/services/matching?nationalCode={NC_BAD}&mobileNumber={F.MOBILE_OK}",
        "nationalCode.not_valid",
        None,
    ),
    (f"/services/matching?nationalCode={NC}&mobileNumber=0912", "mobileNumber.not_valid", None),
    # postal
    ("/services/postal", "postalCode.not_valid", None),
    ("/services/postal?code=0123456789", "postalCode.not_valid", None),
    (f"/services/postal?code={F.POSTAL_UNKNOWN}", "postalCode.not_found", None),
    ("/services/postal/wgs?code=12", "postalCode.not_valid", None),
    (f"/services/postal/wgs?code={F.POSTAL_UNKNOWN}", "postalCode.not_found", None),
    # similarity
    (
        "/services/identity/similarity?birthDate=13600331&firstName=a",
        "nationalCode.is_required",
        None,
    ),
    (
        f"/services/identity/similarity?nationalCode={NC_BAD}&birthDate={BD}&firstName=a",
        "nationalCode.not_valid",
        None,
    ),
    (f"/services/identity/similarity?nationalCode={NC}&firstName=a", "birthDate.is_required", None),
    (
        f"/services/identity/similarity?nationalCode={NC}&birthDate=1360&firstName=a",
        "birthDate.not_valid",
        None,
    ),
    (
        f"/services/identity/similarity?nationalCode={NC}&birthDate={BD}",
        "query_parameters.not_provided",
        None,
    ),
    (
        f"/services/identity/similarity?nationalCode={NC}&birthDate={BD}&firstName=None",
        "query_parameters.not_provided",
        None,
    ),
    (
        f"/services/identity/similarity?nationalCode={F.NC_NO_IDENTITY}&birthDate={BD}&firstName=a",
        "identity_info.not_found",
        None,
    ),
    # foreigners
    ("/services/foreigners/identity", "fida.is_required", None),
    ("/services/foreigners/identity?fida=abc", "fida.not_valid", None),
    (f"/services/foreigners/identity?fida={F.FIDA_UNKNOWN}", "fida.not_valid", None),
    (f"/services/foreigners/identity?fida={F.FIDA_BLACKLISTED}", "fida.black_listed", None),
    # guilds
    ("/services/corporation/identity", "corporation_code.is_required", None),
    ("/services/corporation/identity?code=12345", "corporation_code.not_valid", None),
    (
        f"/services/corporation/identity?code={F.GUILD_UNKNOWN}",
        "corporation_identity_info.not_found",
        None,
    ),
    # military
    ("/services/social/msq", "nationalCode.is_required", None),
    (f"/services/social/msq?nationalCode={NC_BAD}", "nationalCode.not_valid", None),
    (f"/services/social/msq?nationalCode={F.NC_NO_IDENTITY}", "nationalCode.not_valid", None),
    # sana
    (f"/services/social/sana?mobileNumber={F.MOBILE_OK}", "nationalCode.is_required", None),
    (
        f"/services/social/sana?nationalCode={NC_BAD}&mobileNumber={F.MOBILE_OK}",
        "nationalCode.not_valid",
        None,
    ),
    (f"/services/social/sana?nationalCode={NC}", "mobileNumber.is_required", None),
    (
        f"/services/social/sana?nationalCode={NC}&mobileNumber=0912",
        "mobileNumber.not_valid",
        "SANA",
    ),
    (
        f"/services/social/sana?nationalCode={F.NC_BLACKLISTED}&mobileNumber="
        f"{F.MOBILE_BLACKLISTED_PERSON}",
        "nationalCode.black_listed",
        None,
    ),
    (
        f"/services/social/sana?nationalCode={F.NC_MILITARY_EXEMPT}&mobileNumber="
        f"{F.MOBILE_BLACKLISTED}",
        "mobileNumber.black_listed",
        None,
    ),
    # account
    ("/services/availability?cardToIBAN=false", "invalid.request_body", None),
    ("/reports/daily", "invalid.request_body", None),
    ("/reports/daily?yearMonthDay=001399", "invalid.request_body", None),
    ("/nope", "handler.not_found", None),
]


def test_every_error_path(
    client: Any, auth: dict[str, str], runtime: Runtime, customer: Customer
) -> None:
    """Each case: its status, its exact body, and nothing charged (one app for all cases)."""
    before = wallet_balances(runtime, customer)
    failures = []
    for path, code, svc in CASES:
        r = client.get(PREFIX + path, headers=auth)
        want = {"code": code, "message": message_for(code, svc)}
        if r.status_code != CATALOGUE[code][0] or r.json() != want:
            failures.append((path, r.status_code, r.text))
    assert failures == []
    assert wallet_balances(runtime, customer) == before
    events = usage(runtime, customer)
    assert events and all(o != "success" and price == 0 for _s, o, price in events)
    # every inquiry case but the unroutable ones recorded a failure event
    inquiries = [
        c
        for c in CASES
        if c[1] != "handler.not_found"
        and not c[0].startswith(("/services/availability", "/reports"))
    ]
    assert len(events) == len(inquiries)


def test_cases_cover_the_catalogue() -> None:
    covered = {c[1] for c in CASES}
    elsewhere = {  # covered by the token, auth, billing, sandbox and server-error tests
        "forbidden",
        "token.is_required",
        "daily_limit.reached",
        "providers.not_available",
        "server.error",
        "apiKey.is_required",
        "apiKey.length_exceeded",
        "secretKey.is_required",
        "secretKey.length_exceeded",
        "invalid.credentials",
        "accessToken.is_required",
        "refreshToken.is_required",
        "refreshToken.not_valid",
        "invalid.tokens_pair",
        "client.not_found",
    }
    assert covered & elsewhere <= {"providers.not_available"}
    assert set(CATALOGUE) - covered - elsewhere == set()


def test_statuses_by_class() -> None:
    """One HTTP status per code, by class (docs/jibit.md)."""
    assert CATALOGUE["forbidden"][0] == 403
    assert CATALOGUE["daily_limit.reached"][0] == 429
    assert CATALOGUE["server.error"][0] == 500
    for code, (status, _m) in CATALOGUE.items():
        if code.endswith(".not_found") and code != "handler.not_found":
            assert status == 404, code
        if code.endswith((".is_required", ".not_valid")) and code not in (
            "refreshToken.not_valid",
            "token.is_required",
        ):
            assert status == 400, code
    for code in (
        "providers.not_available",
        "card.provider_is_not_active",
        "card.source_bank_is_not_active",
    ):
        assert CATALOGUE[code][0] == 503


def test_document_messages_verbatim(client: Any, auth: dict[str, str]) -> None:
    r = client.get(f"{PREFIX}/cards?number={F.CARD_STOLEN}", headers=auth)
    assert r.json()["message"] == "این کارت به عنوات کارت مسروقه ثبت شده است"
    r = client.get(f"{PREFIX}/cards?number={F.CARD_INACTIVE}&iban=true", headers=auth)
    assert r.json() == {"code": "card.not_active", "message": "کارت فعال نیست"}
    r = client.get(f"{PREFIX}/cards?number={F.CARD_INACTIVE}", headers=auth)
    assert r.json() == {"code": "card.not_active", "message": "کارت غیرفعال است"}
    r = client.get(f"{PREFIX}/services/matching", headers=auth)
    assert r.json() == {"code": "handler.not_found", "message": "سازوکاری یافت نشد"}


def test_failure_recorded_not_charged(
    client: Any, auth: dict[str, str], runtime: Runtime, customer: Customer
) -> None:
    client.get(f"{PREFIX}/cards?number={F.CARD_LOST}", headers=auth)
    client.get(f"{PREFIX}/cards?number={BAD_CARD}", headers=auth)
    assert usage(runtime, customer) == [
        ("CARD_INQUIRY", "card.registered_as_lost", 0),
        ("CARD_INQUIRY", "card.not_valid", 0),
    ]


# -- sandbox controls --------------------------------------------------------------------


def test_provider_unavailable(client: Any, auth: dict[str, str], runtime: Runtime) -> None:
    sandbox.set_faults(runtime, unavailable=["IBAN_INQUIRY"])
    r = client.get(f"{PREFIX}/ibans?value={F.IBAN_ACTIVE}", headers=auth)
    assert r.status_code == 503
    assert r.json() == {
        "code": "providers.not_available",
        "message": "در حال حاضر سرویس\u200cدهنده\u200cای در دسترس نیست",
    }
    assert client.get(f"{PREFIX}/cards?number={F.CARD_ACTIVE}", headers=auth).status_code == 200
    sandbox.set_faults(runtime, unavailable=["*"])
    r = client.get(
        f"{PREFIX}/services/matching?nationalCode={NC}&mobileNumber={F.MOBILE_OK}", headers=auth
    )
    assert r.status_code == 503 and r.json()["code"] == "providers.not_available"
    sandbox.set_faults(runtime, unavailable=[])
    assert client.get(f"{PREFIX}/ibans?value={F.IBAN_ACTIVE}", headers=auth).status_code == 200


def test_bank_controls(client: Any, auth: dict[str, str], runtime: Runtime) -> None:
    sandbox.set_bank(runtime, "MELLI", {"provider_active": False})
    r = client.get(f"{PREFIX}/cards?number={F.CARD_ACTIVE}", headers=auth)
    assert r.status_code == 503 and r.json()["code"] == "card.provider_is_not_active"
    sandbox.set_bank(runtime, "MELLI", {"provider_active": True, "active": False})
    r = client.get(f"{PREFIX}/cards?number={F.CARD_ACTIVE}", headers=auth)
    assert r.json()["code"] == "card.source_bank_is_not_active"
    sandbox.set_bank(runtime, "MELLI", {"active": True, "card_to_iban_available": False})
    r = client.get(f"{PREFIX}/cards?number={F.CARD_ACTIVE}&iban=true", headers=auth)
    assert r.status_code == 503 and r.json()["code"] == "providers.not_available"
    report = client.get(f"{PREFIX}/services/availability", headers=auth).json()
    assert report["availabilityReport"]["MELLI"] == "NOT_AVAILABLE"
    assert client.get(f"{PREFIX}/cards?number={F.CARD_ACTIVE}", headers=auth).status_code == 200


def test_latency(client: Any, auth: dict[str, str], runtime: Runtime) -> None:
    import time

    sandbox.set_faults(runtime, latency_ms=150)
    start = time.perf_counter()
    assert client.get(f"{PREFIX}/cards?number={F.CARD_ACTIVE}", headers=auth).status_code == 200
    assert time.perf_counter() - start >= 0.15


def test_daily_limit(
    client: Any, auth: dict[str, str], runtime: Runtime, customer: Customer
) -> None:
    set_price(runtime, customer, "CARD_INQUIRY", price=700, daily_limit=2)
    for _ in range(2):
        assert client.get(f"{PREFIX}/cards?number={F.CARD_ACTIVE}", headers=auth).status_code == 200
    r = client.get(f"{PREFIX}/cards?number={F.CARD_ACTIVE}", headers=auth)
    assert r.status_code == 429
    assert r.json() == {
        "code": "daily_limit.reached",
        "message": "در فراخوانی این سرویس به محدودیت روزانه رسیده\u200cاید",
    }
    # another service is not limited
    assert (
        client.get(f"{PREFIX}/cards?number={F.CARD_ACTIVE}&deposit=true", headers=auth).status_code
        == 200
    )
    assert usage(runtime, customer) == [
        ("CARD_INQUIRY", "success", 700),
        ("CARD_INQUIRY", "success", 700),
        ("CARD_INQUIRY", "daily_limit", 0),
        ("CARD_TO_DEPOSIT", "success", 2500),
    ]
    assert wallet_balances(runtime, customer)["jibit.PRF"] == 10_000_000_000 - 1400 - 2500


def test_prepaid_then_postpaid_then_refused(
    client: Any, auth: dict[str, str], runtime: Runtime, customer: Customer
) -> None:
    from sqlalchemy import update

    from pishkhan.tenants.tables import wallets

    with runtime.db.write() as conn:
        conn.execute(
            update(wallets)
            .where(wallets.c.customer_id == customer.id)
            .values(balance=0, credit_limit=0)
        )
        conn.execute(
            update(wallets)
            .where(wallets.c.customer_id == customer.id, wallets.c.wallet == "jibit.PRF")
            .values(balance=2000)
        )
        conn.execute(
            update(wallets)
            .where(wallets.c.customer_id == customer.id, wallets.c.wallet == "jibit.POF")
            .values(credit_limit=1500)
        )
    url = f"{PREFIX}/cards?number={F.CARD_ACTIVE}"
    assert client.get(url, headers=auth).status_code == 200  # PRF 2000 -> 500
    assert client.get(url, headers=auth).status_code == 200  # POF 0 -> -1500
    r = client.get(url, headers=auth)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert wallet_balances(runtime, customer) == {"jibit.PRF": 500, "jibit.POF": -1500}


def test_service_disabled_for_customer(
    client: Any, auth: dict[str, str], runtime: Runtime, customer: Customer
) -> None:
    set_price(runtime, customer, "IBAN_INQUIRY", enabled=False)
    r = client.get(f"{PREFIX}/ibans?value={F.IBAN_ACTIVE}", headers=auth)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"


def test_server_error_envelope(
    client: Any, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pishkhan.providers.jibit import sql as lookups

    def boom(*_a: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(lookups, "card", boom)
    r = client.get(f"{PREFIX}/cards?number={F.CARD_ACTIVE}", headers={**auth, "X-TRACK-ID": "z"})
    assert r.status_code == 500
    assert r.json() == {"code": "server.error", "message": "خطای داخلی سرور"}
    assert r.headers["X-TRACK-ID"] == "z"


def test_iban_national_code_matching_owner_not_found_wording(
    client: Any, auth: dict[str, str]
) -> None:
    """The matching endpoint words iban.owner_not_found as its tables do ("دارنده‌ی شبا"), not
    as the IBAN inquiry's table ("صاحب شبا")."""
    r = client.get(
        f"{PREFIX}/services/matching?iban={F.IBAN_NO_OWNER}&nationalCode={NC}&birthDate={BD}",
        headers=auth,
    )
    assert r.status_code == 404
    assert r.json() == {"code": "iban.owner_not_found", "message": "دارنده\u200cی شبا یافت نشد"}


def test_fixtures_reach_matching_unknown_and_conversion_failed(
    client: Any, auth: dict[str, str]
) -> None:
    """matching.unknown (card.no_holder) and conversion.failed (card.holder_not_owner, and a
    card with no holder) with the world's fixtures, nothing added by hand."""
    r = client.get(
        f"{PREFIX}/services/matching?cardNumber={F.CARD_NO_HOLDER}&nationalCode={NC}"
        f"&birthDate={BD}",
        headers=auth,
    )
    assert r.status_code == 404
    assert r.json() == {"code": "matching.unknown", "message": "تطابق نامشخص است"}
    conversion = {
        "code": "conversion.failed",
        "message": "به دلیل عدم گذراندن کنترل‌های داخلی سیستم، تبدیل امکان پذیر نیست",
    }
    for card in (F.CARD_HOLDER_NOT_OWNER, F.CARD_NO_HOLDER):
        r = client.get(f"{PREFIX}/cards?number={card}&iban=true", headers=auth)
        assert r.status_code == 400
        assert r.json() == conversion
    # the other card services of both fixtures succeed
    r = client.get(f"{PREFIX}/cards?number={F.CARD_NO_HOLDER}", headers=auth)
    assert r.status_code == 200
    assert r.json()["cardInfo"]["ownerName"] == ""
    r = client.get(f"{PREFIX}/cards?number={F.CARD_HOLDER_NOT_OWNER}&deposit=true", headers=auth)
    assert r.status_code == 200
    assert r.json()["depositInfo"]["depositNumber"] == F.DEPOSIT_ACTIVE


def test_admin_controls(client: Any, auth: dict[str, str]) -> None:
    admin = {"Authorization": "Bearer test-admin-token"}
    r = client.put(
        "/_pishkhan/v1/jibit/faults",
        json={"unavailable": ["CARD_TO_IBAN"], "latency_ms": 0},
        headers=admin,
    )
    assert r.status_code == 200 and r.json() == {"unavailable": ["CARD_TO_IBAN"], "latency_ms": 0}
    r = client.get(f"{PREFIX}/cards?number={F.CARD_ACTIVE}&iban=true", headers=auth)
    assert r.status_code == 503 and r.json()["code"] == "providers.not_available"
    assert (
        client.put(
            "/_pishkhan/v1/jibit/faults", json={"unavailable": ["NOPE"]}, headers=admin
        ).status_code
        == 400
    )
    r = client.put("/_pishkhan/v1/jibit/banks/melli", json={"active": False}, headers=admin)
    assert r.json() == {
        "bank": "MELLI",
        "active": False,
        "provider_active": True,
        "card_to_iban_available": True,
    }
    r = client.get(f"{PREFIX}/cards?number={F.CARD_ACTIVE}", headers=auth)
    assert r.json()["code"] == "card.source_bank_is_not_active"
    banks = client.get("/_pishkhan/v1/jibit/banks", headers=admin).json()
    assert {
        "bank": "MELLI",
        "jibit_id": "MELLI",
        "active": False,
        "provider_active": True,
        "card_to_iban_available": True,
    } in banks
    assert client.put("/_pishkhan/v1/jibit/banks/NOPE", json={}, headers=admin).status_code == 404
