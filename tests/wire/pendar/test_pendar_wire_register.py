"""RegisterInfo and GetTrackingCodeInfo: golden bodies, identity checks and errors."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, insert, select

from pendar.support import ALI, GOV_CA, GOV_PROFILE, MARYAM, TEST_CA
from pishkhan.core.tables import audit_log
from pishkhan.providers.pendar.tables import pendar_registrations
from pishkhan.world.fixtures import fixture_rows
from pishkhan.world.tables import WORLD_TABLES

DESCRIPTION_ALI = {
    "FirstName": "علی",
    "LastName": "رضایی",
    "EnFirstName": "Ali",
    "EnLastName": "Rezaei",
    "City": "تهران",
    "ProvinceName": "تهران",
    "ProvinceId": "23",
    "FatherName": "محمد",
    "AgencySN": "",
    "CSR": None,
    "Certificate": None,
}


def _registrations(runtime: Any) -> int:
    with runtime.db.read() as conn:
        return int(
            conn.execute(select(func.count()).select_from(pendar_registrations)).scalar_one()
        )


def _seed_world(runtime: Any) -> None:
    rows = fixture_rows()
    with runtime.db.write() as conn:
        for table in WORLD_TABLES:
            if rows.get(table.name):
                conn.execute(insert(table), rows[table.name])


def test_register_info_golden_and_stable_tracking_code(customer: Any, runtime: Any) -> None:
    r = customer.post("RegisterInfo", customer.register_body())
    assert r.status_code == 200
    body = r.json()
    tracking_code = body["TrackingCode"]
    assert tracking_code.isdigit() and len(tracking_code) == 10
    assert isinstance(body["Description"], str)
    assert json.loads(body["Description"]) == DESCRIPTION_ALI
    assert body == {
        "IsSuccess": True,
        "TrackingCode": tracking_code,
        "Description": body["Description"],
        "ErrorCode": 0,
        "ErrorMessage": "",
    }
    # Same subject DN -> same tracking code; keys bind case-insensitively; Gregorian birth date.
    again = customer.register_body({**ALI, "BirthDate": "1981/06/21"})
    again = {k.upper(): v for k, v in again.items()}
    again["PERSONDATA"] = {k.lower(): v for k, v in again["PERSONDATA"].items()}
    assert customer.post("registerinfo", again).json()["TrackingCode"] == tracking_code
    # A different person gets a different code.
    assert customer.register(MARYAM) != tracking_code
    assert _registrations(runtime) == 2
    with runtime.db.read() as conn:
        actions = conn.execute(
            select(func.count())
            .select_from(audit_log)
            .where(audit_log.c.action == "pendar.register")
        ).scalar_one()
    assert actions == 3


def test_government_ca_requires_address_and_never_reuses_codes(customer: Any, runtime: Any) -> None:
    customer.grant({TEST_CA: ["*"], GOV_CA: ["*"]})
    body = customer.register_body(
        {**ALI, "PostalCode": "", "City": ""}, ca=GOV_CA, profile=GOV_PROFILE
    )
    r = customer.post("RegisterInfo", body)
    assert r.json() == {
        "IsSuccess": False,
        "TrackingCode": "",
        "Description": "کدپستی، شهر و استان در مرکز میانی دولتی عام الزامی است",
        "ErrorCode": 2,
        "ErrorMessage": "عملیات ناموفق",
    }
    assert _registrations(runtime) == 0
    first = customer.register(ca=GOV_CA, profile=GOV_PROFILE)
    second = customer.register(ca=GOV_CA, profile=GOV_PROFILE)
    assert first != second
    # Optional on other CAs.
    customer.register({**ALI, "PostalCode": "", "City": "", "ProvinceName": ""})


def test_register_info_errors_leave_nothing_behind(customer: Any, runtime: Any) -> None:
    def err(body: dict[str, Any]) -> tuple[int, str]:
        out = customer.post("RegisterInfo", body).json()
        assert out["IsSuccess"] is False and out["TrackingCode"] == ""
        return out["ErrorCode"], out["ErrorMessage"]

    good = customer.register_body()
    assert err({**good, "customercode": "0000-1"}) == (1203, "کد مشتری نا معتبر است")
    assert err({**good, "customercode": customer.code}) == (1203, "کد مشتری نا معتبر است")
    assert err({**good, "signature": customer.sign("something else")}) == (
        1200,
        "امضای بسته نامعتبر است",
    )
    assert err({**good, "signature": "not base64!"})[0] == 1200
    no_nc = customer.register_body({**ALI, "NationalCode": ""})
    assert err(no_nc) == (1103, "درج کد ملی الزامی است")
    assert err(customer.register_body({**ALI, "Telephone": ""})) == (
        1104,
        "درج شماره تلفن همراه الزامی است",
    )
    assert err({**good, "caName": "42"}) == (1101, "مرکز صدور گواهینامه نا معتبر است")
    assert err({**good, "caName": GOV_CA}) == (1102, "شما به این مرکز صدور دسترسی ندارید")
    assert err({**good, "profileName": "طلایی"}) == (
        1100,
        "مرکز صدور یا پروفایل انتخاب شده نا معتبر است",
    )
    assert err(customer.register_body({**ALI, "NationalCode": "0000000012"}))[0] == 2
    assert err(customer.register_body({**ALI, "BirthDate": "1360/13/40"}))[0] == 2
    assert err(customer.register_body({**ALI, "TokenType": "P12", "password": ""}))[0] == 2
    assert _registrations(runtime) == 0


def test_identity_checks_against_the_world(customer: Any, runtime: Any) -> None:
    _seed_world(runtime)
    customer.admin(
        "PATCH",
        f"/customers/{customer.slug}/settings",
        {"identity_check": True, "shahkar_check": True, "postal_check": True},
    )
    err = customer.post("RegisterInfo", customer.register_body({**ALI, "Name": "حسن"})).json()
    assert (err["ErrorCode"], err["ErrorMessage"]) == (1003, "نام وارد شده با کد ملی انطباق ندارد")
    err = customer.post("RegisterInfo", customer.register_body({**ALI, "LastName": "کریمی"})).json()
    assert (err["ErrorCode"], err["ErrorMessage"]) == (
        1004,
        "نام خانوادگی وارد شده با کد ملی انطباق ندارد",
    )
    err = customer.post(
        "RegisterInfo", customer.register_body({**ALI, "Telephone": "09350000002"})
    ).json()
    assert err["ErrorCode"] == 2 and "شاهکار" in err["Description"]
    err = customer.post(
        "RegisterInfo", customer.register_body({**ALI, "PostalCode": "1313131319"})
    ).json()
    assert err["ErrorCode"] == 2 and "کدپستی" in err["Description"]
    # Arabic letters and spacing are tolerated by the name comparison.
    ok = customer.post("RegisterInfo", customer.register_body({**ALI, "Name": "علي"})).json()
    assert ok["IsSuccess"] is True
    # fill_names: names come from the registry
    customer.admin("PATCH", f"/customers/{customer.slug}/settings", {"fill_names": True})
    bare = {k: v for k, v in ALI.items() if k not in ("Name", "LastName", "EnName", "EnLastName")}
    out = customer.post("RegisterInfo", customer.register_body(bare)).json()
    assert json.loads(out["Description"])["EnLastName"] == "Rezaei"


def test_get_tracking_code_info_golden_and_errors(customer: Any, other_customer: Any) -> None:
    tc = customer.register()
    body = {
        "nationalCode": ALI["NationalCode"],
        "trackingCode": tc,
        "customercode": customer.customercode,
        "sign": customer.sign(ALI["NationalCode"] + tc),
    }
    r = customer.post("GetTrackingCodeInfo", body).json()
    assert r["ResultCode"] is True and r["Message"] == "Success"
    assert set(r) == {"ResultCode", "Description", "Message"}
    assert json.loads(r["Description"]) == {
        "Name": "علی",
        "LastName": "رضایی",
        "EnName": "Ali",
        "EnLastName": "Rezaei",
        "NationalCode": ALI["NationalCode"],
        "BirthCertificateID": "1234",
        "FatherName": "محمد",
        "EnFatherName": None,
        "IssueCardDate": None,
        "Organization": None,
        "EnOrganization": None,
        "OrganizationUnit": None,
        "EnOrganizationUnit": None,
        "AgencySN": None,
        "Affliation": None,
        "EnAffliation": None,
        "IssuerIdentification": None,
        "ValidityDuration": None,
        "BirthDate": "1360/03/31",
        "IsMan": "True",
        "City": "تهران",
        "EnCity": None,
        "Customize1": "",
        "Customize2": None,
        "Customize3": None,
        "Customize4": None,
        "GUID": None,
        "EndEntityProfile": None,
        "ExpirationEnglishDate": None,
        "IsForeign": False,
        "Country": None,
        "Address": "",
        "PostalCode": ALI["PostalCode"],
        "Telephone": ALI["Telephone"],
        "ProvinceName": "تهران",
        "ProvinceId": 23,
    }
    wrong_nc = {
        **body,
        "nationalCode": MARYAM["NationalCode"],
        "sign": customer.sign(MARYAM["NationalCode"] + tc),
    }
    assert customer.post("GetTrackingCodeInfo", wrong_nc).json() == {
        "ResultCode": False,
        "Description": "",
        "Message": "Unsuccess",
        "ErrorCode": 1111,
        "ErrorMessage": 'کد رهگیری نا معتبر است"',
    }
    theirs = {
        **body,
        "customercode": other_customer.customercode,
        "sign": other_customer.sign(ALI["NationalCode"] + tc),
    }
    assert other_customer.post("GetTrackingCodeInfo", theirs).json()["ErrorCode"] == 1111
    assert (
        customer.post("GetTrackingCodeInfo", {**body, "sign": body["sign"][:-4] + "AAA="}).json()[
            "ErrorCode"
        ]
        == 1200
    )
