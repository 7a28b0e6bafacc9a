"""IssueCertificateByTrackingCode, RevokeCertificate, RecievedCertConfirmation."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Callable
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sqlalchemy import func, select

from pendar.support import ALI, APPROVAL_PROFILE, MARYAM, csr_for, self_signed
from pishkhan.providers.pendar.tables import pendar_certificates, pendar_payments


def _credit(customer: Any) -> int:
    body = {"reportkey": customer.report_key, "customercode": customer.code}
    out = customer.post("GetCredit", body).json()
    assert out["IsSuccess"] is True, out
    return int(out["Credit"])


def _certs(runtime: Any) -> int:
    with runtime.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(pendar_certificates)).scalar_one())


def test_issue_golden_subject_from_registration_and_charge(customer: Any, runtime: Any) -> None:
    before = _credit(customer)
    tc = customer.register()
    csr = csr_for(customer.ec_key, cn="Mallory [Sign]")
    r = customer.post("IssueCertificateByTrackingCode", customer.issue_body(tc, csr))
    body = r.json()
    cert = x509.load_der_x509_certificate(base64.b64decode(body["Certificate"]))
    assert body == {
        "IsSuccess": True,
        "Certificate": body["Certificate"],
        "PaymentStatus": "PaidByCredit",
        "Description": "",
        "CN": "Ali Rezaei [Sign]",
        "IssuerName": "CN=Pishkhan Test CA 01, OU=Pendar Koushk sandbox, O=Pishkhan, C=IR",
        "ValidFrom": cert.not_valid_before_utc.astimezone(runtime.clock.now().tzinfo).isoformat(),
        "ValidTo": cert.not_valid_after_utc.astimezone(runtime.clock.now().tzinfo).isoformat(),
        "ErrorCode": 0,
        "ErrorMessage": "",
    }
    assert body["ValidFrom"].endswith("+03:30")
    subject = cert.subject
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Ali Rezaei [Sign]"
    assert subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == ALI["NationalCode"]
    assert subject.get_attributes_for_oid(NameOID.GIVEN_NAME)[0].value == "علی"
    assert subject.get_attributes_for_oid(NameOID.SURNAME)[0].value == "رضایی"
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and ku.value.content_commitment
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.EMAIL_PROTECTION in eku
    cdp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert cdp[0].full_name[0].value == "http://127.0.0.1:8000/pki/01/crl"
    aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert [a.access_location.value for a in aia] == [
        "http://127.0.0.1:8000/pki/01/ocsp",
        "http://127.0.0.1:8000/pki/01/ca.crt",
    ]
    issuer = x509.load_der_x509_certificate(customer.client.get("/pki/01/ca.crt").content)
    cert.verify_directly_issued_by(issuer)
    assert _credit(customer) == before - 50_000
    # The registration now shows the active certificate and its CSR.
    again = json.loads(
        customer.post("RegisterInfo", customer.register_body()).json()["Description"]
    )
    assert again["Certificate"] == body["Certificate"] and again["CSR"] == csr
    # A second certificate for the same subject is refused until the first is revoked.
    r = customer.post("IssueCertificateByTrackingCode", customer.issue_body(tc)).json()
    assert (r["ErrorCode"], r["ErrorMessage"]) == (
        1001,
        "شما با این اطلاعات گواهینامه فعال دارید برای دریافت گواهی ابتدا باید آن را باطل کنید",
    )
    assert r["IsSuccess"] is False and r["Certificate"] == "" and r["CN"] == ""
    assert _certs(runtime) == 1 and _credit(customer) == before - 50_000
    revoked = customer.post(
        "RevokeCertificate", customer.revoke_body(body["Certificate"], 4)
    ).json()
    assert revoked["IsSuccess"] is True
    second = customer.issue(tc)
    assert second["Certificate"] != body["Certificate"]


def test_issue_errors_do_not_charge_or_issue(customer: Any, runtime: Any) -> None:
    before = _credit(customer)
    tc = customer.register()

    def err(body: dict[str, Any]) -> tuple[int, str]:
        out = customer.post("IssueCertificateByTrackingCode", body).json()
        assert out["IsSuccess"] is False and out["Certificate"] == ""
        return out["ErrorCode"], out["Description"]

    assert err(customer.issue_body("0000000000"))[0] == 1111
    assert err({**customer.issue_body(tc), "signature": customer.sign("x")})[0] == 1200
    assert err({**customer.issue_body(tc), "customercode": "1-2"})[0] == 1203
    assert err(customer.issue_body(tc, "bm90IGEgY3Ny")) == (2, "CSR نامعتبر است")
    good = csr_for(customer.ec_key)
    der = bytearray(base64.b64decode(good))
    der[-5] ^= 0xFF  # break the CSR's signature: no proof of possession
    tampered = base64.b64encode(bytes(der)).decode()
    assert err(customer.issue_body(tc, tampered)) == (2, "امضای CSR نامعتبر است")
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    assert err(customer.issue_body(tc, csr_for(small)))[1].startswith("طول کلید RSA")
    assert err(customer.issue_body(tc, payment_id="nope")) == (1201, "")
    customer.admin(
        "POST", f"/customers/{customer.slug}/payments", {"payment_id": "P-1", "amount": 1}
    )
    assert err(customer.issue_body(tc, payment_id="P-1"))[0] == 1202
    # credit exhausted
    customer.client.post(
        f"/_pishkhan/v1/customers/{customer.slug}/topup",
        json={"wallet": "pendar.credit", "amount": -before + 10},
        headers={"Authorization": "Bearer test-admin-token"},
    )
    assert err(customer.issue_body(tc))[0] == 1202
    assert _certs(runtime) == 0 and _credit(customer) == 10
    # a registered payment of the right amount pays instead of the credit
    customer.admin(
        "POST", f"/customers/{customer.slug}/payments", {"payment_id": "P-2", "amount": 50_000}
    )
    paid = customer.issue(tc, payment_id="P-2")
    assert paid["PaymentStatus"] == "PaidByPaymentId" and _credit(customer) == 10
    # the payment points at the certificate it paid for (the insert's new id)
    with runtime.db.read() as conn:
        cert_id = conn.execute(
            select(pendar_certificates.c.id).where(pendar_certificates.c.payment_id == "P-2")
        ).scalar_one()
        assert (
            conn.execute(
                select(pendar_payments.c.certificate_id).where(
                    pendar_payments.c.payment_id == "P-2"
                )
            ).scalar_one()
            == cert_id
        )
    other = customer.register(MARYAM)
    assert err(customer.issue_body(other, payment_id="P-2"))[0] == 1201  # used once


def test_an_invalid_request_signature_comes_before_every_other_refusal(
    customer: Any, runtime: Any
) -> None:
    """The request's signature is verified with the CA's own signature (off the write lock),
    yet a request that is refused for another reason too still answers 1200 first, whichever
    step refuses it: the registration (unknown, not approved, an active certificate), the
    CSR's proof of possession, the key policy, or the charge."""
    before = _credit(customer)
    issued_tc = customer.register(MARYAM)
    customer.issue(issued_tc)  # loads the CA hierarchy: inline on SQLite from here
    tc = customer.register()
    good = csr_for(customer.ec_key)
    der = bytearray(base64.b64decode(good))
    der[-5] ^= 0xFF
    tampered = base64.b64encode(bytes(der)).decode()
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    refused: list[tuple[Callable[[], dict[str, Any]], int]] = [
        (lambda: customer.issue_body("0000000000"), 1111),
        (lambda: customer.issue_body(issued_tc), 1001),
        (lambda: customer.issue_body(tc, tampered), 2),
        (lambda: customer.issue_body(tc, csr_for(small)), 2),
        (lambda: customer.issue_body(tc, payment_id="nope"), 1201),
        (
            lambda: customer.issue_body(
                customer.register(profile=APPROVAL_PROFILE), profile=APPROVAL_PROFILE
            ),
            1110,
        ),
    ]
    for make, code in refused:
        body = make()
        out = customer.post("IssueCertificateByTrackingCode", body).json()
        assert (out["IsSuccess"], out["ErrorCode"]) == (False, code), (body, out)
        forged = {**body, "signature": customer.sign("x")}
        out = customer.post("IssueCertificateByTrackingCode", forged).json()
        assert (out["IsSuccess"], out["ErrorCode"], out["Certificate"]) == (False, 1200, ""), body
    # a forged signature over what would otherwise succeed
    tc = customer.register()
    out = customer.post(
        "IssueCertificateByTrackingCode", {**customer.issue_body(tc), "signature": good}
    ).json()
    assert out["ErrorCode"] == 1200
    assert _certs(runtime) == 1 and _credit(customer) == before - 50_000
    assert customer.issue(tc)["IsSuccess"] is True


def test_sha1_csr_and_signature_over_ascii_and_der(customer: Any, tmp_path: Any) -> None:
    # Mobile clients send SHA1withRSA CSRs (made here by OpenSSL: cryptography refuses SHA-1).
    key_path, csr_path = tmp_path / "k.pem", tmp_path / "c.der"
    subprocess.run(
        [
            "openssl",
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            str(key_path),
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            "openssl",
            "req",
            "-new",
            "-key",
            str(key_path),
            "-subj",
            "/CN=x",
            "-sha1",
            "-outform",
            "DER",
            "-out",
            str(csr_path),
        ],
        check=True,
        capture_output=True,
    )
    csr = base64.b64encode(csr_path.read_bytes()).decode()
    tc = customer.register()
    body = customer.issue_body(tc, csr)
    from cryptography.hazmat.primitives.asymmetric import padding

    body["signature"] = base64.b64encode(
        customer.key.sign(csr.encode("ascii"), padding.PKCS1v15(), hashes.SHA1())
    ).decode()
    out = customer.post("IssueCertificateByTrackingCode", body).json()
    assert out["IsSuccess"] is True, out
    cert_b64 = out["Certificate"]
    revoke = customer.revoke_body(cert_b64)
    revoke["signature"] = base64.b64encode(
        customer.key.sign(base64.b64decode(cert_b64), padding.PKCS1v15(), hashes.SHA1())
    ).decode()
    assert customer.post("RevokeCertificate", revoke).json()["IsSuccess"] is True


def test_p12_generated_server_side(customer: Any) -> None:
    tc = customer.register({**ALI, "TokenType": "P12", "password": "s3cret"})
    out = customer.issue(tc, csr="none")
    p12 = pkcs12.load_key_and_certificates(base64.b64decode(out["P12"]), b"s3cret")
    key, cert, chain = p12
    assert cert is not None and key is not None
    assert (
        base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
        == out["Certificate"]
    )
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()  # type: ignore[union-attr]
    assert len(chain) == 2
    # A CSR is refused for a P12 registration.
    customer.post("RevokeCertificate", customer.revoke_body(out["Certificate"]))
    bad = customer.post("IssueCertificateByTrackingCode", customer.issue_body(tc)).json()
    assert bad["ErrorCode"] == 2


def test_approval_required(customer: Any) -> None:
    tc = customer.register(profile=APPROVAL_PROFILE)
    assert customer.post("IsApproved", {"trackingCode": tc}).json() == {
        "ResultCode": False,
        "Description": "",
        "Message": "Unsuccess",
    }
    out = customer.post(
        "IssueCertificateByTrackingCode", customer.issue_body(tc, profile=APPROVAL_PROFILE)
    ).json()
    assert (out["ErrorCode"], out["ErrorMessage"]) == (1110, "کد رهگیری احراز هویت نشده است")
    plain = customer.register(MARYAM)
    assert customer.post("IsApproved", {"TrackingCode": plain}).json()["ResultCode"] is True
    assert customer.post("IsApproved", {"trackingCode": "123"}).json()["ErrorCode"] == 1111


def test_revoke_errors(customer: Any, other_customer: Any) -> None:
    cert = customer.issue(customer.register())["Certificate"]
    theirs = other_customer.post("RevokeCertificate", other_customer.revoke_body(cert)).json()
    assert theirs == {
        "IsSuccess": False,
        "Description": "",
        "ErrorCode": 1113,
        "ErrorMessage": "این گواهی توسط شما صادر نشده و حق ابطال آن را ندارید",
    }
    bad_reason = customer.post("RevokeCertificate", customer.revoke_body(cert, 7)).json()
    assert bad_reason["ErrorCode"] == 2
    ok = customer.post("RevokeCertificate", customer.revoke_body(cert, 1)).json()
    assert ok == {
        "IsSuccess": True,
        "Description": "گواهی با موفقیت ابطال شد",
        "ErrorCode": 0,
        "ErrorMessage": "",
    }
    again = customer.post("RevokeCertificate", customer.revoke_body(cert)).json()
    assert (again["ErrorCode"], again["ErrorMessage"]) == (1114, "این گواهی قبلا باطل شده است")
    key = ec.generate_private_key(ec.SECP256R1())
    stranger = base64.b64encode(
        self_signed(key, "x").public_bytes(serialization.Encoding.DER)
    ).decode()
    unknown = customer.post("RevokeCertificate", customer.revoke_body(stranger)).json()
    assert (unknown["ErrorCode"], unknown["ErrorMessage"]) == (1112, "گواهی برای ابطال یافت نشد")


def test_received_cert_confirmation(customer: Any, other_customer: Any, runtime: Any) -> None:
    tc = customer.register()
    cert = customer.issue(tc)["Certificate"]
    body = {
        "certificate": cert,
        "signature": customer.sign(cert),
        "customercode": customer.customercode,
        "trackingCode": tc,
    }
    assert (
        customer.post("RecievedCertConfirmation", {**body, "trackingCode": "1"}).json()["ErrorCode"]
        == 1111
    )
    out = customer.post("RecievedCertConfirmation", body).json()
    assert out == {"IsSuccess": True, "Description": "", "ErrorCode": 0, "ErrorMessage": ""}
    with runtime.db.read() as conn:
        assert conn.execute(select(pendar_certificates.c.received_at)).scalar_one() is not None
    theirs = {
        **body,
        "customercode": other_customer.customercode,
        "signature": other_customer.sign(cert),
    }
    assert other_customer.post("RecievedCertConfirmation", theirs).json()["ErrorCode"] == 1113
