"""Request signatures by method: where the document writes ``Unicode(...)`` only UTF-16LE of the
signed text verifies; a signature over its UTF-8 bytes gets 1200 in the method's own envelope.
(IssueCertificateByTrackingCode and RevokeCertificate, whose formulas drop "Unicode", also take
ASCII and DER: ``test_sha1_csr_and_signature_over_ascii_and_der``.)"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from sqlalchemy import func, select

from pendar.support import ALI, APPROVAL_PROFILE
from pishkhan.core.tables import audit_log
from pishkhan.providers.pendar.ca import hierarchy
from pishkhan.providers.pendar.tables import pendar_certificates, pendar_registrations
from pishkhan.tenants.tables import daily_usage, usage_events, wallet_entries

SIGNATURE_INVALID = {"ErrorCode": 1200, "ErrorMessage": "امضای بسته نامعتبر است"}


def _utf8_signature(customer: Any, text: str) -> str:
    raw = customer.key.sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA1())
    return base64.b64encode(raw).decode()


def _counts(runtime: Any) -> dict[str, int]:
    tables = (
        audit_log,
        daily_usage,
        usage_events,
        wallet_entries,
        pendar_registrations,
        pendar_certificates,
    )
    with runtime.db.read() as conn:
        return {
            t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in tables
        }


def _received(runtime: Any) -> list[Any]:
    with runtime.db.read() as conn:
        return list(conn.execute(select(pendar_certificates.c.received_at)).scalars())


# Each Unicode-signed method: (a valid request, its signed text) -> the refusal's body.
Case = Callable[[Any], tuple[str, dict[str, Any], str, dict[str, Any]]]


def _register(customer: Any) -> tuple[str, dict[str, Any], str, dict[str, Any]]:
    body = customer.register_body()
    text = f"{customer.customercode}-{ALI['NationalCode']}"
    return "RegisterInfo", body, text, {"IsSuccess": False, "TrackingCode": "", "Description": ""}


def _tracking_info(customer: Any) -> tuple[str, dict[str, Any], str, dict[str, Any]]:
    tc = customer.register()
    text = ALI["NationalCode"] + tc
    body = {
        "nationalCode": ALI["NationalCode"],
        "trackingCode": tc,
        "customercode": customer.customercode,
        "sign": customer.sign(text),
    }
    return (
        "GetTrackingCodeInfo",
        body,
        text,
        {"ResultCode": False, "Description": "", "Message": "Unsuccess"},
    )


def _approve(customer: Any) -> tuple[str, dict[str, Any], str, dict[str, Any]]:
    tc = customer.register(profile=APPROVAL_PROFILE)
    text = ALI["NationalCode"] + tc + "approver"
    body = {
        "nationalCode": ALI["NationalCode"],
        "trackingCode": tc,
        "customercode": customer.customercode,
        "approver": "approver",
        "sign": customer.sign(text),
        "approverSign": "",
        "orderId": "",
    }
    return (
        "RequestApprove",
        body,
        text,
        {"ResultCode": False, "Description": "", "Message": "Unsuccess"},
    )


def _confirm(customer: Any) -> tuple[str, dict[str, Any], str, dict[str, Any]]:
    tc = customer.register()
    cert = customer.issue(tc)["Certificate"]
    body = {
        "certificate": cert,
        "signature": customer.sign(cert),
        "customercode": customer.customercode,
        "trackingCode": tc,
    }
    return "RecievedCertConfirmation", body, cert, {"IsSuccess": False, "Description": ""}


def _history(customer: Any) -> tuple[str, dict[str, Any], str, dict[str, Any]]:
    text = ALI["NationalCode"] + "r4nd0m"
    body = {
        "SerialNumber": ALI["NationalCode"],
        "customercode": customer.customercode,
        "rnd": "r4nd0m",
        "signature": customer.sign(text),
    }
    return "GetUserCertHistory", body, text, {"IsSuccess": False, "CertList": []}


CASES: dict[str, Case] = {
    "RegisterInfo": _register,
    "GetTrackingCodeInfo": _tracking_info,
    "RequestApprove": _approve,
    "RecievedCertConfirmation": _confirm,
    "GetUserCertHistory": _history,
}


def test_every_unicode_method_is_covered() -> None:
    from pishkhan.providers.pendar.signatures import RULES

    assert sorted(CASES) == sorted(name for name, rule in RULES.items() if rule.unicode)
    assert sorted(n for n, r in RULES.items() if not r.unicode) == [
        "IssueCertificateByTrackingCode",
        "RevokeCertificate",
    ]


@pytest.mark.parametrize("method", sorted(CASES))
def test_utf8_signature_refused_where_the_document_says_unicode(
    method: str, customer: Any, runtime: Any
) -> None:
    name, body, text, shape = CASES[method](customer)
    assert name == method
    key = "sign" if method in ("GetTrackingCodeInfo", "RequestApprove") else "signature"
    assert text.isascii()  # so UTF-8 == ASCII: the refusal is about the encoding alone
    hierarchy(runtime)  # the CAs exist (made, and audited, on first use)
    received = _received(runtime)
    before = _counts(runtime)
    forgeries = [_utf8_signature(customer, text)]
    if method == "RecievedCertConfirmation":
        # nor over the decoded DER (RevokeCertificate's third form)
        der = base64.b64decode(text)
        raw = customer.key.sign(der, padding.PKCS1v15(), hashes.SHA1())
        forgeries.append(base64.b64encode(raw).decode())
    for forged in forgeries:
        out = customer.post(method, {**body, key: forged})
        assert out.status_code == 200
        assert out.json() == {**shape, **SIGNATURE_INVALID}
    after = _counts(runtime)
    # refused and not charged: only the uncharged failures in the usage ledger
    assert {**after, "usage_events": before["usage_events"]} == before
    with runtime.db.read() as conn:
        failures = list(
            conn.execute(
                select(
                    usage_events.c.service, usage_events.c.outcome, usage_events.c.price
                ).order_by(usage_events.c.id)
            ).all()
        )
    added = len(failures) - before["usage_events"]
    assert failures[-added:] == [(method, "1200", 0)] * len(forgeries)
    assert _received(runtime) == received  # RecievedCertConfirmation marked nothing
    # the same request signed over UTF-16LE is accepted
    ok = customer.post(method, body).json()
    assert ok.get("IsSuccess", ok.get("ResultCode")) is True, ok
    if method == "RecievedCertConfirmation":
        assert all(at is not None for at in _received(runtime))
