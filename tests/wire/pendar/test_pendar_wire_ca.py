"""GetVersion, GetCAList, GetCAProfileInfo, IsAvailable: golden bodies and errors."""

from __future__ import annotations

from typing import Any

from pendar.support import APPROVAL_PROFILE, GOV_CA, GOV_PROFILE, TEST_CA, TEST_PROFILE

UNAUTHORIZED = {
    "IsSuccess": False,
    "CAList": [],
    "ErrorCode": 1203,
    "ErrorMessage": "کد مشتری نا معتبر است",
}


def test_get_version_and_case_insensitive_method_names(client: Any) -> None:
    for path in ("/api/GetVersion", "/api/getversion", "/api/GETVERSION"):
        r = client.get(path)
        assert r.status_code == 200
        assert r.json() == "1.10"
    r = client.get("/api/NoSuchMethod")
    assert r.status_code == 404
    assert "No HTTP resource" in r.json()["Message"]


def test_ca_list_default_grant_and_admin_grants(customer: Any) -> None:
    r = customer.get("GetCAList", {"Customercode": customer.customercode})
    assert r.status_code == 200
    assert r.json() == {"IsSuccess": True, "CAList": ["01"], "ErrorCode": 0, "ErrorMessage": ""}
    # bare customer code works too, and the parameter name binds case-insensitively
    assert customer.get("getcalist", {"customerCode": customer.code}).json()["CAList"] == ["01"]
    customer.grant({TEST_CA: ["*"], GOV_CA: [GOV_PROFILE]})
    assert customer.get("GetCAList", {"Customercode": customer.code}).json()["CAList"] == [
        "01",
        "08",
    ]


def test_ca_list_unknown_customer_is_401(customer: Any) -> None:
    for code in ("9999", "", f"{customer.code}-000"):
        r = customer.get("GetCAList", {"Customercode": code})
        assert r.status_code == 401
        assert r.json() == UNAUTHORIZED


def test_ca_profile_info_golden(customer: Any) -> None:
    r = customer.get("GetCAProfileInfo", {"Customercode": customer.code, "caName": TEST_CA})
    assert r.status_code == 200
    assert r.json() == {
        "IsSuccess": True,
        "Profile": [
            {
                "SubjectDNConfig": "CN={EnName} {EnLastName} [Sign],SERIALNUMBER={NationalCode},"
                "G={Name},SN={LastName},O=Individual,L={City},S={ProvinceName},C=IR",
                "ProfileName": TEST_PROFILE,
                "Price": 50000,
                "FaceAuth": False,
                "InputType": "manually",
                "Approval": False,
                "ProductId": 101,
                "Description": "گواهی امضای آزمایشی بدون نیاز به احراز هویت حضوری",
            },
            {
                "SubjectDNConfig": "CN={EnName} {EnLastName} [Sign],SERIALNUMBER={NationalCode},"
                "G={Name},SN={LastName},O=Individual,L={City},S={ProvinceName},C=IR",
                "ProfileName": APPROVAL_PROFILE,
                "Price": 50000,
                "FaceAuth": True,
                "InputType": "mobile",
                "Approval": True,
                "ProductId": 102,
                "Description": "گواهی امضای آزمایشی با احراز هویت (RequestApprove)",
            },
        ],
        "ErrorCode": 0,
        "ErrorMessage": "",
    }
    customer.grant({TEST_CA: [TEST_PROFILE]})
    profiles = customer.get("GetCAProfileInfo", {"customercode": customer.code, "CANAME": "01"})
    assert [p["ProfileName"] for p in profiles.json()["Profile"]] == [TEST_PROFILE]


def test_ca_profile_info_errors(customer: Any) -> None:
    r = customer.get("GetCAProfileInfo", {"Customercode": customer.code, "caName": GOV_CA})
    assert r.json() == {
        "IsSuccess": False,
        "Profile": [],
        "ErrorCode": 1102,
        "ErrorMessage": "شما به این مرکز صدور دسترسی ندارید",
    }
    r = customer.get("GetCAProfileInfo", {"Customercode": customer.code, "caName": "77"})
    assert r.json()["ErrorCode"] == 1101
    assert r.json()["ErrorMessage"] == "مرکز صدور گواهینامه نا معتبر است"
    r = customer.get("GetCAProfileInfo", {"Customercode": "1", "caName": TEST_CA})
    assert r.status_code == 401
    assert r.json()["ErrorCode"] == 1203


def test_is_available_and_ca_down(customer: Any) -> None:
    r = customer.get("IsAvailable", {"caName": TEST_CA})
    assert r.json() == {"IsAvailable": True, "Description": "", "ErrorCode": 0, "ErrorMessage": ""}
    customer.admin("PUT", f"/cas/{TEST_CA}/availability", {"available": False})
    r = customer.get("IsAvailable", {"caname": TEST_CA})
    assert r.json() == {
        "IsAvailable": False,
        "Description": "مرکز میانی نماد قطع است",
        "ErrorCode": 0,
        "ErrorMessage": "",
    }
    r = customer.post("RegisterInfo", customer.register_body())
    assert r.json()["ErrorCode"] == 1005
    assert r.json()["ErrorMessage"] == "مرکز میانی نماد قطع است"
    r = customer.get("IsAvailable", {"caName": "99"})
    assert r.json() == {
        "IsAvailable": False,
        "Description": "",
        "ErrorCode": 1101,
        "ErrorMessage": "مرکز صدور گواهینامه نا معتبر است",
    }
