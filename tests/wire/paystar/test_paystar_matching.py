"""info-matching/*: golden bodies, answers from the world, billing exactly once on success."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from paystar_wire_support import MATCH, App, balance, create_app, usage

from pishkhan.control import sandbox_ops
from pishkhan.runtime import Runtime
from pishkhan.world import fixtures as F

MOBILE = MATCH + "mobile-national-id"
CARD = MATCH + "card-national-id"
IBAN = MATCH + "iban-national-id"
OPENING = 10_000_000_000
PRICES = {"mobile-national-id": 15_000, "card-national-id": 20_000, "iban-national-id": 20_000}
OK = "درخواست با موفقیت انجام شد"
# Ali Rezaei (NC_OK) was born 1360/03/31 = 1981-06-21.
ALI_BIRTH = "1981-06-21"
MARYAM_BIRTH = "1986-10-07"  # 1365/07/15


def post(client: Any, path: str, app: App, key: str | None, **fields: Any) -> Any:
    headers = {} if key is None else {"Authorization": f"Bearer {key}"}
    return client.post(path, json={**app.creds(), **fields}, headers=headers)


def matched(value: bool) -> dict[str, Any]:
    return {"status": 1, "data": {"is_matched": value}, "message": OK}


CASES: list[tuple[str, dict[str, Any], bool]] = [
    (MOBILE, {"national_id": F.NC_OK, "mobile_number": F.MOBILE_OK}, True),
    (MOBILE, {"national_id": F.NC_OK, "mobile_number": "+98" + F.MOBILE_OK[1:]}, True),
    (MOBILE, {"national_id": F.NC_FEMALE, "mobile_number": F.MOBILE_OK}, False),
    (MOBILE, {"national_id": F.NC_OK, "mobile_number": F.MOBILE_UNKNOWN}, False),
    (MOBILE, {"national_id": F.NC_FEMALE, "mobile_number": F.MOBILE_FEMALE}, True),
    (CARD, {"national_id": F.NC_OK, "card_number": F.CARD_ACTIVE, "birth_date": ALI_BIRTH}, True),
    (
        CARD,
        {"national_id": F.NC_OK, "card_number": F.CARD_ACTIVE, "birth_date": "1981-06-22"},
        False,
    ),
    (
        CARD,
        {"national_id": F.NC_FEMALE, "card_number": F.CARD_ACTIVE, "birth_date": MARYAM_BIRTH},
        False,
    ),
    (CARD, {"national_id": F.NC_OK, "card_number": F.CARD_UNKNOWN, "birth_date": ALI_BIRTH}, False),
    (
        CARD,
        {"national_id": F.NC_NO_IDENTITY, "card_number": F.CARD_ACTIVE, "birth_date": ALI_BIRTH},
        False,
    ),
    (IBAN, {"national_id": F.NC_OK, "iban": F.IBAN_ACTIVE, "birth_date": ALI_BIRTH}, True),
    (IBAN, {"national_id": F.NC_FEMALE, "iban": F.IBAN_JOINT, "birth_date": MARYAM_BIRTH}, True),
    (IBAN, {"national_id": F.NC_FEMALE, "iban": F.IBAN_ACTIVE, "birth_date": MARYAM_BIRTH}, False),
    (IBAN, {"national_id": F.NC_OK, "iban": F.IBAN_UNKNOWN, "birth_date": ALI_BIRTH}, False),
    (IBAN, {"national_id": F.NC_OK, "iban": F.IBAN_ACTIVE[2:], "birth_date": ALI_BIRTH}, True),
]


def test_matching_answers_from_the_world_and_charges_once(
    client: Any, runtime: Runtime, app_creds: App, api_key: str
) -> None:
    expected_balance = OPENING
    expected_usage: list[tuple[str, str, int]] = []
    for path, fields, expected in CASES:
        service = path.rsplit("/", 1)[1]
        r = post(client, path, app_creds, api_key, **fields)
        assert (r.status_code, r.json()) == (200, matched(expected)), (path, fields)
        assert list(r.json()) == ["status", "data", "message"]
        expected_balance -= PRICES[service]
        expected_usage.append((service, "success", PRICES[service]))
        assert balance(runtime, app_creds.customer_id) == expected_balance
        assert usage(runtime, app_creds.customer_id) == expected_usage


def test_tolerated_forms(client: Any, runtime: Runtime, app_creds: App, api_key: str) -> None:
    # Integer fields (leading zeros of a national id restored), form bodies, a bare key.
    r = post(client, MOBILE, app_creds, api_key, national_id=int(F.NC_OK),
             mobile_number=int(F.MOBILE_OK))  # fmt: skip
    assert r.json() == matched(True)
    form = {**app_creds.creds(), "national_id": F.NC_OK, "card_number": F.CARD_ACTIVE,
            "birth_date": ALI_BIRTH}  # fmt: skip
    r = client.post(CARD, data=form, headers={"Authorization": f"bearer {api_key}"})
    assert r.json() == matched(True)
    r = client.post(CARD, json=form, headers={"Authorization": api_key})
    assert r.json() == matched(True)
    assert len(usage(runtime, app_creds.customer_id)) == 3


def _failure(status: int, message: str) -> dict[str, Any]:
    return {"status": status, "data": None, "message": message}


WRONG_TOKEN = _failure(4, "توکن احراز هویت اشتباه است")
INVALID = _failure(10, "اطلاعات ارسال شده صحیح نمی باشد")
MOBILE_OK_FIELDS = {"national_id": F.NC_OK, "mobile_number": F.MOBILE_OK}


def assert_not_charged(runtime: Runtime, app: App, outcomes: list[str]) -> None:
    assert balance(runtime, app.customer_id) == OPENING
    events = usage(runtime, app.customer_id)
    assert [e[1] for e in events] == outcomes
    assert all(price == 0 for _, _, price in events)


def test_wrong_token_is_status_4(
    client: Any, runtime: Runtime, app_creds: App, api_key: str, issue_key: Callable[[App], str]
) -> None:
    other = create_app(runtime, "other")
    foreign_key = issue_key(other)
    body, sig = api_key.split(".")
    forged = f"{body}.{sig[:-2]}{'AA' if sig[-2:] != 'AA' else 'BB'}"
    for key in (None, "", "garbage", forged, foreign_key, api_key + "x"):
        headers = {} if key is None else {"Authorization": f"Bearer {key}"}
        r = client.post(MOBILE, json={**app_creds.creds(), **MOBILE_OK_FIELDS}, headers=headers)
        assert (r.status_code, r.json()) == (200, WRONG_TOKEN), key
    assert_not_charged(runtime, app_creds, ["wrong_token"] * 6)


def test_expired_token_is_status_5_and_refresh_recovers(
    client: Any, runtime: Runtime, app_creds: App, issue_key: Callable[[App], str]
) -> None:
    sandbox_ops.freeze(runtime, "2025-03-01T10:00:00")
    key = issue_key(app_creds)
    sandbox_ops.freeze(runtime, "2025-03-02T09:59:59")
    assert post(client, MOBILE, app_creds, key, **MOBILE_OK_FIELDS).json() == matched(True)
    sandbox_ops.freeze(runtime, "2025-03-02T10:00:00")
    r = post(client, MOBILE, app_creds, key, **MOBILE_OK_FIELDS)
    assert (r.status_code, r.json()) == (200, _failure(5, "توکن احراز هویت منقضی شده است"))
    assert usage(runtime, app_creds.customer_id)[-1] == ("mobile-national-id", "expired_token", 0)
    fresh = issue_key(app_creds)
    assert post(client, MOBILE, app_creds, fresh, **MOBILE_OK_FIELDS).json() == matched(True)


def test_refresh_keeps_earlier_keys_but_rotation_revokes_them(
    admin: Any, app_creds: App, api_key: str, issue_key: Callable[[App], str]
) -> None:
    issue_key(app_creds)
    assert post(admin, MOBILE, app_creds, api_key, **MOBILE_OK_FIELDS).json() == matched(True)
    r = admin.post(f"/_pishkhan/v1/customers/{app_creds.slug}/rotate", json={"surface": "paystar"})
    secrets = r.json()["secrets"]["paystar"]
    rotated = App(app_creds.customer_id, app_creds.slug, app_creds.application_id,
                  secrets["access_password"], secrets["refresh_token"])  # fmt: skip
    assert post(admin, MOBILE, rotated, api_key, **MOBILE_OK_FIELDS).json() == WRONG_TOKEN
    new_key = issue_key(rotated)
    assert post(admin, MOBILE, rotated, new_key, **MOBILE_OK_FIELDS).json() == matched(True)


def test_unknown_application_is_status_2(
    client: Any, runtime: Runtime, app_creds: App, api_key: str
) -> None:
    r = client.post(
        MOBILE,
        json={"application_id": "1", "access_password": "x", **MOBILE_OK_FIELDS},
        headers={"Authorization": f"Bearer {api_key}"},
    )
    assert (r.status_code, r.json()) == (200, _failure(2, "برنامه یافت نشد"))
    assert_not_charged(runtime, app_creds, [])  # no application: nothing to record against


def test_disabled_customer_is_status_3(
    admin: Any, runtime: Runtime, app_creds: App, api_key: str
) -> None:
    admin.post(f"/_pishkhan/v1/customers/{app_creds.slug}/status", json={"status": "disabled"})
    r = post(admin, MOBILE, app_creds, api_key, **MOBILE_OK_FIELDS)
    assert (r.status_code, r.json()) == (200, _failure(3, "برنامه فعال نیست"))
    assert_not_charged(runtime, app_creds, ["application_not_active"])
    admin.post(f"/_pishkhan/v1/customers/{app_creds.slug}/status", json={"status": "active"})
    assert post(admin, MOBILE, app_creds, api_key, **MOBILE_OK_FIELDS).json() == matched(True)


def test_wrong_password_is_status_6(
    client: Any, runtime: Runtime, app_creds: App, api_key: str
) -> None:
    wrong = App(app_creds.customer_id, app_creds.slug, app_creds.application_id, "nope", "")
    r = post(client, MOBILE, wrong, api_key, **MOBILE_OK_FIELDS)
    assert (r.status_code, r.json()) == (200, _failure(6, "رمز دسترسی برنامه استباه است"))
    r = client.post(
        MOBILE,
        json={"application_id": app_creds.application_id, **MOBILE_OK_FIELDS},
        headers={"Authorization": f"Bearer {api_key}"},
    )
    assert r.json() == INVALID  # access_password missing altogether
    assert_not_charged(runtime, app_creds, ["wrong_password"])


def test_ip_allowlist_is_status_7(
    admin: Any, runtime: Runtime, app_creds: App, api_key: str
) -> None:
    ref = f"/_pishkhan/v1/customers/{app_creds.slug}"
    admin.patch(ref, json={"paystar_allowed_ips": ["203.0.113.0/24"]})
    r = post(admin, MOBILE, app_creds, api_key, **MOBILE_OK_FIELDS)
    assert (r.status_code, r.json()) == (200, _failure(7, "آی پی مجاز نمی باشد"))
    assert_not_charged(runtime, app_creds, ["ip_not_allowed"])
    admin.patch(ref, json={"paystar_allowed_ips": ["203.0.113.0/24", "testclient"]})
    assert post(admin, MOBILE, app_creds, api_key, **MOBILE_OK_FIELDS).json() == matched(True)


def test_no_services_is_status_12_and_missing_service_is_8(
    admin: Any, runtime: Runtime, app_creds: App, api_key: str
) -> None:
    ref = f"/_pishkhan/v1/customers/{app_creds.slug}"
    admin.patch(ref, json={"paystar_services": []})
    r = post(admin, MOBILE, app_creds, api_key, **MOBILE_OK_FIELDS)
    assert (r.status_code, r.json()) == (200, _failure(12, "تنظیمات بانکداری باز یافت نشد"))
    admin.patch(ref, json={"paystar_services": ["card-national-id"]})
    r = post(admin, MOBILE, app_creds, api_key, **MOBILE_OK_FIELDS)
    assert (r.status_code, r.json()) == (
        200,
        _failure(8, "سرویس مورد نظر برای شما فعال نمی باشد"),
    )
    assert_not_charged(runtime, app_creds, ["settings_not_found", "service_not_enabled"])


def test_disabled_price_rule_and_daily_limit_are_status_8(
    admin: Any, runtime: Runtime, app_creds: App, api_key: str
) -> None:
    ref = f"/_pishkhan/v1/customers/{app_creds.slug}/prices"
    r = admin.post(ref, json={"surface": "paystar", "service": "mobile-national-id",
                              "enabled": False})  # fmt: skip
    assert r.status_code == 200, r.text
    assert post(admin, MOBILE, app_creds, api_key, **MOBILE_OK_FIELDS).json()["status"] == 8
    admin.post(ref, json={"surface": "paystar", "service": "mobile-national-id", "enabled": True,
                          "daily_limit": 1, "price": 1000})  # fmt: skip
    assert post(admin, MOBILE, app_creds, api_key, **MOBILE_OK_FIELDS).json() == matched(True)
    r = post(admin, MOBILE, app_creds, api_key, **MOBILE_OK_FIELDS)
    assert r.json() == _failure(8, "سرویس مورد نظر برای شما فعال نمی باشد")
    assert balance(runtime, app_creds.customer_id) == OPENING - 1000
    assert [e[1] for e in usage(runtime, app_creds.customer_id)] == [
        "service_not_enabled",
        "success",
        "daily_limit",
    ]


BAD_INPUTS: list[tuple[str, dict[str, Any]]] = [
    (MOBILE, {"mobile_number": F.MOBILE_OK}),
    (MOBILE, {"national_id": F.NC_OK}),
    (MOBILE, {"national_id": "0000000002", "mobile_number": F.MOBILE_OK}),  # checksum
    (MOBILE, {"national_id": F.NC_OK, "mobile_number": "02188776655"}),  # landline
    (MOBILE, {"national_id": [F.NC_OK], "mobile_number": F.MOBILE_OK}),
    (CARD, {"national_id": F.NC_OK, "card_number": F.CARD_ACTIVE[:-1] + "0"
            if F.CARD_ACTIVE[-1] != "0" else F.CARD_ACTIVE[:-1] + "1", "birth_date": ALI_BIRTH}),
    (CARD, {"national_id": F.NC_OK, "card_number": F.CARD_ACTIVE, "birth_date": "1360-03-31x"}),
    (CARD, {"national_id": F.NC_OK, "card_number": F.CARD_ACTIVE, "birth_date": "1981-02-30"}),
    (CARD, {"national_id": F.NC_OK, "card_number": F.CARD_ACTIVE, "birth_date": "2999-01-01"}),
    (CARD, {"national_id": F.NC_OK, "card_number": F.CARD_ACTIVE}),
    (IBAN, {"national_id": F.NC_OK, "iban": "IR000000000000000000000000", "birth_date": ALI_BIRTH}),
    (IBAN, {"national_id": F.NC_OK, "birth_date": ALI_BIRTH}),
    # birth_date is the document's `date_format Y-m-d`, read as strictly as Laravel does.
    *[(path, {"national_id": F.NC_OK, field: value, "birth_date": born})
      for path, field, value in ((CARD, "card_number", F.CARD_ACTIVE),
                                 (IBAN, "iban", F.IBAN_ACTIVE))
      for born in ("1981/06/21", "1981-6-21", "1981-06-21 00:00:00", "1981-06-21T00:00:00",
                   "۱۹۸۱-۰۶-۲۱", "21-06-1981", "1360-03-31", 19810621)],
]  # fmt: skip


def test_invalid_input_is_status_10(
    client: Any, runtime: Runtime, app_creds: App, api_key: str
) -> None:
    for path, fields in BAD_INPUTS:
        r = post(client, path, app_creds, api_key, **fields)
        assert (r.status_code, r.json()) == (200, INVALID), (path, fields)
    assert_not_charged(runtime, app_creds, ["invalid_input"] * len(BAD_INPUTS))


def test_malformed_body_is_status_10(client: Any, api_key: str) -> None:
    for content in (b"{", b"[]", b"null"):
        r = client.post(MOBILE, content=content, headers={"content-type": "application/json",
                                                            "Authorization": f"Bearer {api_key}"})  # fmt: skip
        assert (r.status_code, r.json()) == (200, INVALID)


def test_insufficient_credit_is_status_9(
    admin: Any, runtime: Runtime, app_creds: App, api_key: str
) -> None:
    ref = f"/_pishkhan/v1/customers/{app_creds.slug}"
    r = admin.post(ref + "/topup", json={"wallet": "paystar.open_banking",
                                         "amount": -(OPENING - 14_999)})  # fmt: skip
    assert r.status_code == 200, r.text
    r = post(admin, MOBILE, app_creds, api_key, **MOBILE_OK_FIELDS)
    assert (r.status_code, r.json()) == (200, _failure(9, "اعتبار کیف بانکداری باز کافی نمی باشد"))
    assert balance(runtime, app_creds.customer_id) == 14_999
    # The cheaper price fits exactly; the wallet goes to zero and the next call is refused.
    admin.post(ref + "/prices", json={"surface": "paystar", "service": "mobile-national-id",
                                      "price": 14_999})  # fmt: skip
    assert post(admin, MOBILE, app_creds, api_key, **MOBILE_OK_FIELDS).json() == matched(True)
    assert balance(runtime, app_creds.customer_id) == 0
    assert post(admin, MOBILE, app_creds, api_key, **MOBILE_OK_FIELDS).json()["status"] == 9
    assert [e[1] for e in usage(runtime, app_creds.customer_id)] == [
        "insufficient_funds",
        "success",
        "insufficient_funds",
    ]


def test_upstream_fault_is_status_11_per_service(
    admin: Any, runtime: Runtime, app_creds: App, api_key: str
) -> None:
    faults = "/_pishkhan/v1/paystar/faults"
    r = admin.put(faults, json={"target": "mobile-national-id", "fault": "upstream_error"})
    assert r.status_code == 200, r.text
    r = post(admin, MOBILE, app_creds, api_key, **MOBILE_OK_FIELDS)
    assert (r.status_code, r.json()) == (200, _failure(11, "خطای سرویس دهنده"))
    card = {"national_id": F.NC_OK, "card_number": F.CARD_ACTIVE, "birth_date": ALI_BIRTH}
    assert post(admin, CARD, app_creds, api_key, **card).json() == matched(True)
    assert balance(runtime, app_creds.customer_id) == OPENING - PRICES["card-national-id"]
    admin.put(faults, json={"target": "*", "fault": "upstream_error"})
    assert post(admin, CARD, app_creds, api_key, **card).json()["status"] == 11
    assert admin.get(faults).json() == {
        "faults": {"mobile-national-id": "upstream_error", "*": "upstream_error"}
    }
    assert admin.delete(faults).json() == {"faults": {}}
    assert post(admin, MOBILE, app_creds, api_key, **MOBILE_OK_FIELDS).json() == matched(True)
    assert [e[1] for e in usage(runtime, app_creds.customer_id)] == [
        "provider_error",
        "success",
        "provider_error",
        "success",
    ]


def test_server_error_is_status_0_and_nothing_is_written(
    admin: Any, runtime: Runtime, app_creds: App, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server_error = _failure(0, "خطای سرور")
    admin.put("/_pishkhan/v1/paystar/faults", json={"target": "*", "fault": "server_error"})
    r = post(admin, MOBILE, app_creds, api_key, **MOBILE_OK_FIELDS)
    assert (r.status_code, r.json()) == (500, server_error)
    admin.delete("/_pishkhan/v1/paystar/faults")

    from pishkhan.providers.paystar import sql as lookups

    def broken(*_args: Any) -> str:
        raise RuntimeError("database went away")

    monkeypatch.setattr(lookups, "sim_owner", broken)
    r = post(admin, MOBILE, app_creds, api_key, **MOBILE_OK_FIELDS)
    assert (r.status_code, r.json()) == (500, server_error)
    assert_not_charged(runtime, app_creds, [])


def test_control_rejects_unknown_targets_and_faults(admin: Any) -> None:
    faults = "/_pishkhan/v1/paystar/faults"
    assert admin.put(faults, json={"target": "nope", "fault": "server_error"}).status_code == 400
    assert admin.put(faults, json={"target": "*", "fault": "slow"}).status_code == 400
    r = admin.put(faults, json={"target": "refresh-api-key", "fault": "upstream_error"})
    assert r.status_code == 400
    assert admin.get(faults).json() == {"faults": {}}


@pytest.mark.undocumented("GET on a POST operation: not an operation of the document")
def test_get_is_not_allowed(client: Any) -> None:
    assert client.get(MOBILE).status_code == 405


def test_checks_run_in_the_documented_order(
    admin: Any, runtime: Runtime, app_creds: App, issue_key: Callable[[App], str]
) -> None:
    """Every failure condition at once; lifting them one by one walks docs/paystar.md's order:
    2 -> 3 -> 4 -> 5 -> 6 -> 7 -> 12 -> 8 -> 10 -> 9 -> 11 -> 8 (daily limit) -> 1."""
    ref = f"/_pishkhan/v1/customers/{app_creds.slug}"
    faults = "/_pishkhan/v1/paystar/faults"
    sandbox_ops.freeze(runtime, "2025-03-01T23:00:00")
    old_key = issue_key(app_creds)  # expired from 2025-03-02 23:00:00 on
    sandbox_ops.freeze(runtime, "2025-03-02T23:30:00")
    key = issue_key(app_creds)
    r = admin.post(ref + "/prices", json={"surface": "paystar", "service": "mobile-national-id",
                                          "price": 15_000, "daily_limit": 1})  # fmt: skip
    assert r.status_code == 200, r.text
    assert post(admin, MOBILE, app_creds, key, **MOBILE_OK_FIELDS).json() == matched(True)
    spent = balance(runtime, app_creds.customer_id)
    assert spent == OPENING - 15_000
    # Now break everything.
    admin.post(ref + "/status", json={"status": "disabled"})
    admin.patch(ref, json={"paystar_allowed_ips": ["203.0.113.0/24"], "paystar_services": []})
    r = admin.post(ref + "/topup", json={"wallet": "paystar.open_banking", "amount": -spent})
    assert r.status_code == 200, r.text
    admin.put(faults, json={"target": "mobile-national-id", "fault": "upstream_error"})
    wrong_password = App(app_creds.customer_id, app_creds.slug, app_creds.application_id,
                         "wrong", "")  # fmt: skip
    unknown = App(0, "", "999999999", "wrong", "")
    fields: dict[str, Any] = {"national_id": "0000000002", "mobile_number": F.MOBILE_OK}

    def status(app: App, api_key: str | None) -> int:
        r = post(admin, MOBILE, app, api_key, **fields)
        assert r.status_code == 200 and r.json()["data"] is None, r.text
        return int(r.json()["status"])

    assert status(unknown, None) == 2
    assert status(wrong_password, None) == 3
    admin.post(ref + "/status", json={"status": "active"})
    assert status(wrong_password, None) == 4
    assert status(wrong_password, old_key) == 5
    assert status(wrong_password, key) == 6
    assert status(app_creds, key) == 7
    admin.patch(ref, json={"paystar_allowed_ips": []})
    assert status(app_creds, key) == 12
    admin.patch(ref, json={"paystar_services": ["card-national-id"]})
    assert status(app_creds, key) == 8
    admin.patch(ref, json={"paystar_services": ["mobile-national-id"]})
    assert status(app_creds, key) == 10
    fields["national_id"] = F.NC_OK
    assert status(app_creds, key) == 9
    admin.post(ref + "/topup", json={"wallet": "paystar.open_banking", "amount": spent})
    assert status(app_creds, key) == 11
    admin.delete(faults)
    assert status(app_creds, key) == 8  # the daily limit, counted when charging
    assert balance(runtime, app_creds.customer_id) == spent
    assert [e[1] for e in usage(runtime, app_creds.customer_id)] == [
        "success",
        "application_not_active",
        "wrong_token",
        "expired_token",
        "wrong_password",
        "ip_not_allowed",
        "settings_not_found",
        "service_not_enabled",
        "invalid_input",
        "insufficient_funds",
        "provider_error",
        "daily_limit",
    ]
    sandbox_ops.freeze(runtime, "2025-03-03T00:00:01")  # a new Tehran day
    assert post(admin, MOBILE, app_creds, key, **fields).json() == matched(True)
