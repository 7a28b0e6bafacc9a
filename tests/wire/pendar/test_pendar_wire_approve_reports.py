"""RequestApprove (CMS approver signatures), listings and reports."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from pendar.support import (
    ALI,
    APPROVAL_PROFILE,
    MARYAM,
    TEST_CA,
    cms_detached,
    pem,
    self_signed,
)
from pishkhan.core.tables import audit_log
from pishkhan.iran import generate_national_code


def _approve_body(
    customer: Any,
    tc: str,
    approver_sign: str,
    order_id: str = "",
    nc: str = ALI["NationalCode"],
    approver: str = "کارشناس احراز",
) -> dict[str, Any]:
    return {
        "nationalCode": nc,
        "trackingCode": tc,
        "customercode": customer.customercode,
        "approver": approver,
        "sign": customer.sign(nc + tc + approver),
        "approverSign": approver_sign,
        "orderId": order_id,
    }


def test_request_approve_with_cms_and_every_approver_error(
    customer: Any, other_customer: Any
) -> None:
    tc = customer.register(profile=APPROVAL_PROFILE)
    text = ALI["NationalCode"] + tc + "کارشناس احراز"
    key = ec.generate_private_key(ec.SECP256R1())
    cert = self_signed(key, "Approver One")

    def code(sign: str, order_id: str = "") -> int:
        out = customer.post("RequestApprove", _approve_body(customer, tc, sign, order_id)).json()
        assert out["ResultCode"] is False and out["Message"] == "Unsuccess"
        return int(out["ErrorCode"])

    assert code(cms_detached(cert, key, text)) == 1108  # nobody registered it
    other_customer.admin(
        "POST",
        f"/customers/{other_customer.slug}/approvers",
        {"certificate_pem": pem(cert), "name": "other"},
    )
    assert code(cms_detached(cert, key, text)) == 1105  # registered, but for someone else
    fp = customer.admin(
        "POST",
        f"/customers/{customer.slug}/approvers",
        {"certificate_pem": pem(cert), "name": "one"},
    )["fingerprint"]
    assert code(cms_detached(cert, key, text + "x")) == 1106  # signed something else
    assert code("bm90IGNtcw==") == 1106
    customer.admin("PATCH", f"/customers/{customer.slug}/approvers/{fp}", {"revoked": True})
    assert code(cms_detached(cert, key, text)) == 1107
    old_key = ec.generate_private_key(ec.SECP256R1())
    expired = self_signed(old_key, "Old", days=10, start=datetime.now(UTC) - timedelta(days=400))
    customer.admin(
        "POST", f"/customers/{customer.slug}/approvers", {"certificate_pem": pem(expired)}
    )
    assert code(cms_detached(expired, old_key, text)) == 1109
    customer.admin("PATCH", f"/customers/{customer.slug}/approvers/{fp}", {"revoked": False})
    out = customer.post(
        "RequestApprove", _approve_body(customer, tc, cms_detached(cert, key, text))
    ).json()
    assert out == {
        "ResultCode": True,
        "Description": "",
        "Message": "Success",
        "ErrorCode": 0,
        "ErrorMessage": "",
    }
    assert customer.post("IsApproved", {"trackingCode": tc}).json() == {
        "ResultCode": True,
        "Description": "",
        "Message": "Success",
    }
    assert customer.issue(tc, profile=APPROVAL_PROFILE)["IsSuccess"] is True
    wrong = _approve_body(customer, tc, "", "order-1")
    wrong["sign"] = customer.sign("tampered")
    assert customer.post("RequestApprove", wrong).json()["ErrorCode"] == 1200


def test_remote_approval_with_order_id(customer: Any, runtime: Any) -> None:
    tc = customer.register(profile=APPROVAL_PROFILE)
    out = customer.post("RequestApprove", _approve_body(customer, tc, "", "FACE-42")).json()
    assert out["ResultCode"] is True
    with runtime.db.read() as conn:
        data = conn.execute(
            select(audit_log.c.data).where(audit_log.c.action == "pendar.approve")
        ).scalar_one()
    assert data["method"] == "remote" and data["order_id"] == "FACE-42"
    bad = _approve_body(customer, tc, "", "x", nc=MARYAM["NationalCode"])
    assert customer.post("RequestApprove", bad).json()["ErrorCode"] == 1111


def test_remote_approval_without_order_id(customer: Any) -> None:
    """RequestApprove note 2: orderId is optional (only Pendar's own face authentication needs
    it) and approverSign is empty for remote identification, so both may be empty."""
    tc = customer.register(profile=APPROVAL_PROFILE)
    assert customer.post("IsApproved", {"trackingCode": tc}).json() == {
        "ResultCode": False,
        "Description": "",
        "Message": "Unsuccess",
    }
    out = customer.post("RequestApprove", _approve_body(customer, tc, "", "")).json()
    assert out == {
        "ResultCode": True,
        "Description": "",
        "Message": "Success",
        "ErrorCode": 0,
        "ErrorMessage": "",
    }
    assert customer.post("IsApproved", {"trackingCode": tc}).json() == {
        "ResultCode": True,
        "Description": "",
        "Message": "Success",
    }


def test_listings_and_history(customer: Any, other_customer: Any) -> None:
    tc1 = customer.register()
    first = customer.issue(tc1)
    customer.post("RevokeCertificate", customer.revoke_body(first["Certificate"]))
    second = customer.issue(tc1)
    tc2 = customer.register({**ALI, "City": "شیراز", "ProvinceName": "فارس"})
    # one active certificate per subject and CA, whoever asks: the other customer's differs
    mine_only = other_customer.register({**ALI, "City": "اصفهان", "ProvinceName": "اصفهان"})
    other_customer.issue(mine_only)

    all_certs = customer.get("GetAllCert", {"SerialNumber": ALI["NationalCode"]}).json()
    assert all_certs[0]["Certificate"] == second["Certificate"]
    assert len(all_certs) == 2  # both customers' active certificates
    item = all_certs[0]
    assert set(item) == {
        "Id",
        "TrackingCode",
        "CAName",
        "ProfileName",
        "SerialNumber",
        "Subject",
        "Issuer",
        "Certificate",
        "ValidFrom",
        "ValidTo",
        "Status",
    }
    assert item["Status"] == "Issued" and item["TrackingCode"] == tc1 and item["CAName"] == TEST_CA
    assert customer.get("GetAllCert", {"serialnumber": MARYAM["NationalCode"]}).json() == []
    mobile = customer.get
    assert len(mobile("GetAllMobileCert", {"NationalCode": ALI["NationalCode"]}).json()) == 2
    assert (
        len(
            mobile(
                "GetAllMobileCert",
                {"NationalCode": ALI["NationalCode"], "CustomerCode": customer.code},
            ).json()
        )
        == 1
    )
    # the tracking code wins over the national code
    by_tc = mobile(
        "GetAllMobileCert", {"NationalCode": MARYAM["NationalCode"], "TrackingCode": mine_only}
    ).json()
    assert [c["TrackingCode"] for c in by_tc] == [mine_only]
    assert mobile("GetAllMobileCert", {"TrackingCode": tc1, "CAName": "08"}).json() == []
    # no certificates (an empty array) differs from a refused request (below)
    assert mobile("GetAllMobileCert", {"NationalCode": MARYAM["NationalCode"]}).json() == []

    body = {
        "SerialNumber": ALI["NationalCode"],
        "customercode": customer.customercode,
        "rnd": "r4nd0m",
        "signature": customer.sign(ALI["NationalCode"] + "r4nd0m"),
    }
    history = customer.post("GetUserCertHistory", body).json()
    assert history["IsSuccess"] is True and history["ErrorCode"] == 0
    rows = history["CertList"]
    assert [(r["TrackingCode"], r["Status"]) for r in rows] == [
        (tc1, "Revoked"),
        (tc1, "Issued"),
        (tc2, "Registered"),
    ]
    assert rows[0]["RevokeDate"] and rows[1]["RevokeDate"] == "" and rows[2]["Certificate"] == ""
    assert set(rows[0]) == {
        "Id",
        "TrackingCode",
        "Status",
        "Issuer",
        "Certificate",
        "RegisterDate",
        "IssueDate",
        "RevokeDate",
    }
    bad = customer.post("GetUserCertHistory", {**body, "rnd": "other"}).json()
    assert bad == {
        "IsSuccess": False,
        "CertList": [],
        "ErrorCode": 1200,
        "ErrorMessage": "امضای بسته نامعتبر است",
    }


def _nc(i: int) -> str:
    return generate_national_code(random.Random(i))


def _table_counts(runtime: Any) -> dict[str, int]:
    from sqlalchemy import func

    from pishkhan.core.db import metadata

    with runtime.db.read() as conn:
        return {
            t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in metadata.sorted_tables
        }


def test_get_all_mobile_cert_needs_national_code_or_tracking_code(
    customer: Any, runtime: Any
) -> None:
    """The document makes one of NationalCode and TrackingCode mandatory: without both the
    answer is 1103 (national code required), not the empty array of "no certificates"."""
    tc = customer.register()
    customer.issue(tc)
    refused = {"IsSuccess": False, "ErrorCode": 1103, "ErrorMessage": "درج کد ملی الزامی است"}
    before = _table_counts(runtime)
    for params in (
        {},
        {"NationalCode": "", "TrackingCode": ""},
        {"NationalCode": "  ", "TrackingCode": "\t"},
        {"nationalcode": " ", "CAName": TEST_CA, "CustomerCode": customer.code},
        {"CAName": TEST_CA},
        {"CustomerCode": customer.code},
    ):
        r = customer.get("GetAllMobileCert", params)
        assert (r.status_code, r.json()) == (200, refused), params
    # a JSON body (some clients send one on GET) is read the same way
    r = customer.client.request(
        "GET", "/api/GetAllMobileCert", json={"NationalCode": " ", "TrackingCode": None}
    )
    assert (r.status_code, r.json()) == (200, refused)
    assert _table_counts(runtime) == before  # nothing written, nothing charged
    # either one alone is enough
    assert len(customer.get("GetAllMobileCert", {"TrackingCode": tc}).json()) == 1
    assert len(customer.get("GetAllMobileCert", {"NationalCode": ALI["NationalCode"]}).json()) == 1


def test_get_all_cert_needs_serial_number(customer: Any, runtime: Any) -> None:
    """SerialNumber (the national code or national id) is GetAllCert's one parameter and not
    marked optional: without it the answer is 1103, not the empty array of "no certificates"."""
    customer.issue(customer.register())
    refused = {"IsSuccess": False, "ErrorCode": 1103, "ErrorMessage": "درج کد ملی الزامی است"}
    before = _table_counts(runtime)
    for params in ({}, {"SerialNumber": ""}, {"serialnumber": "  "}, {"CAName": TEST_CA}):
        r = customer.get("GetAllCert", params)
        assert (r.status_code, r.json()) == (200, refused), params
    assert _table_counts(runtime) == before
    assert len(customer.get("GetAllCert", {"SerialNumber": ALI["NationalCode"]}).json()) == 1


def test_issuing_report_kinds_and_paging(customer: Any, runtime: Any) -> None:
    today = runtime.clock.today().strftime("%Y/%m/%d")
    codes = []
    for i in range(101):
        tc = customer.register({**ALI, "NationalCode": _nc(i), "EnName": f"P{i}"})
        codes.append(customer.issue(tc)["Certificate"])
    customer.post("RevokeCertificate", customer.revoke_body(codes[0]))
    customer.register(profile=APPROVAL_PROFILE)
    base = {
        "reportkey": customer.report_key,
        "customercode": customer.code,
        "startdate": today,
        "enddate": today,
    }
    per_ca = customer.post("IssuingReport", {**base, "type": "PerCA"}).json()
    assert per_ca == [
        {
            "caName": "01",
            "profileName": APPROVAL_PROFILE,
            "status": True,
            "count": 0,
            "RegisterCount": 1,
            "IssueCount": 0,
            "RevokeCount": 0,
        },
        {
            "caName": "01",
            "profileName": "گواهی آزمایشی شخص حقیقی",
            "status": True,
            "count": 101,
            "RegisterCount": 101,
            "IssueCount": 101,
            "RevokeCount": 1,
        },
    ]
    by_status = customer.post("IssuingReport", {**base, "type": "PerCA&Status"}).json()
    assert [(r["profileName"] == APPROVAL_PROFILE, r["status"], r["count"]) for r in by_status] == [
        (True, True, 0),
        (True, False, 0),
        (False, True, 100),
        (False, False, 1),
    ]
    page = customer.post("IssuingReport", {**base, "type": "detail"}).json()
    assert len(page) == 100 and page[0]["status"] is False and page[0]["RevokeCount"] == 1
    rest = customer.post(
        "IssuingReport", {**base, "type": "detail", "id": str(page[-1]["id"])}
    ).json()
    assert len(rest) == 1 and rest[0]["id"] > page[-1]["id"]
    yesterday = (runtime.clock.today() - timedelta(days=1)).strftime("%Y/%m/%d")
    assert (
        customer.post(
            "IssuingReport", {**base, "type": "PerCA", "startdate": yesterday, "enddate": yesterday}
        ).json()
        == []
    )
    assert customer.post("IssuingReport", {**base, "reportkey": "x", "type": "PerCA"}).json() == {
        "IsSuccess": False,
        "ErrorCode": 1203,
        "ErrorMessage": "کد مشتری نا معتبر است",
    }
    assert customer.post("IssuingReport", {**base, "type": "monthly"}).json()["ErrorCode"] == 3
    assert (
        customer.post(
            "IssuingReport", {**base, "type": "PerCA", "startdate": "1403/01/01x"}
        ).json()["ErrorCode"]
        == 2
    )


def test_get_credit_golden(customer: Any) -> None:
    out = customer.post(
        "GetCredit", {"reportkey": customer.report_key, "customercode": customer.code}
    ).json()
    assert out == {
        "IsSuccess": True,
        "Credit": "10000000000",
        "Description": "",
        "ErrorCode": 0,
        "ErrorMessage": "",
    }
    bad = customer.post("GetCredit", {"reportkey": "wrong", "customercode": customer.code}).json()
    assert bad == {
        "IsSuccess": False,
        "Credit": "0",
        "Description": "",
        "ErrorCode": 1203,
        "ErrorMessage": "کد مشتری نا معتبر است",
    }


def test_urlencoded_json_body_and_unreadable_body(customer: Any) -> None:
    import json
    from urllib.parse import quote_plus

    raw = quote_plus(json.dumps({"reportkey": customer.report_key, "customercode": customer.code}))
    out = customer.client.post(
        "/api/GetCredit", content=raw, headers={"Content-Type": "application/x-www-form-urlencoded"}
    ).json()
    assert out["IsSuccess"] is True
    bad = customer.client.post("/api/GetCredit", content=b"{not json").json()
    assert (bad["ErrorCode"], bad["ErrorMessage"]) == (1, "خطا در اجرای برنامه")


def test_issuing_report_numbers_and_dates_that_do_not_fit(customer: Any, runtime: Any) -> None:
    today = runtime.clock.today().strftime("%Y/%m/%d")
    customer.issue(customer.register({**ALI, "NationalCode": _nc(1)}))
    base = {
        "reportkey": customer.report_key,
        "customercode": customer.code,
        "startdate": today,
        "enddate": today,
        "type": "detail",
    }
    assert len(customer.post("IssuingReport", base).json()) == 1
    # An id beyond every 64-bit id: an empty page; digits Python reads but ASCII lacks: page 1.
    for after, count in (("9" * 25, 0), (str(2**63), 0), (str(2**63 - 1), 0), ("٣²", 1)):
        r = customer.post("IssuingReport", {**base, "id": after})
        assert r.status_code == 200 and len(r.json()) == count, (after, r.text)
    # A day whose Tehran bounds are no UTC dates: a bad date (2), not a failure.
    for start, end in (("0001/01/01", today), (today, "9999/12/31")):
        r = customer.post("IssuingReport", {**base, "startdate": start, "enddate": end})
        assert r.status_code == 200, r.text
        assert r.json() == {
            "IsSuccess": False,
            "ErrorCode": 2,
            "ErrorMessage": "عملیات ناموفق",
        }
