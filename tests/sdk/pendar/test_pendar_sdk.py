"""The Pendar client against the in-process app: every method, keys from PEM, PKCS#12 and XML."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from pendar.support import (
    ALI,
    APPROVAL_PROFILE,
    TEST_CA,
    TEST_PROFILE,
    cms_detached,
    pem,
    self_signed,
)
from pishkhan.client.pendar import (
    AsyncPendarClient,
    PendarClient,
    PendarError,
    Person,
    RequestSigner,
    generate_key,
    make_csr,
)
from pishkhan.tenants.rsa_keys import private_key_to_dotnet_xml


def _client(customer: Any, signer: RequestSigner) -> PendarClient:
    s = customer.secrets
    http = customer.client  # Starlette's TestClient is an httpx.Client
    return PendarClient(
        s["customer_code"],
        s["license_number"],
        signer=signer,
        report_key=s["report_key"],
        base_url="http://127.0.0.1",
        http_client=http,
    )


def test_every_method_through_the_client(customer: Any, runtime: Any) -> None:
    pem_key = customer.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    c = _client(customer, RequestSigner.from_pem(pem_key))
    assert c.get_version() == "1.10"
    assert c.get_ca_list() == ["01"]
    assert [p.profile_name for p in c.get_ca_profile_info(TEST_CA)] == [
        TEST_PROFILE,
        APPROVAL_PROFILE,
    ]
    assert c.is_available(TEST_CA).is_available is True
    reg = c.register_info(TEST_CA, APPROVAL_PROFILE, Person.model_validate(ALI))
    assert reg.identity["EnLastName"] == "Rezaei" and reg.certificate is None
    info = c.get_tracking_code_info(ALI["NationalCode"], reg.tracking_code)
    assert info["NationalCode"] == ALI["NationalCode"]
    assert c.is_approved(reg.tracking_code) is False
    key = ec.generate_private_key(ec.SECP256R1())
    approver = self_signed(key, "approver")
    customer.admin(
        "POST", f"/customers/{customer.slug}/approvers", {"certificate_pem": pem(approver)}
    )
    text = ALI["NationalCode"] + reg.tracking_code + "approver"
    assert (
        c.request_approve(
            ALI["NationalCode"], reg.tracking_code, "approver", cms_detached(approver, key, text)
        )
        is True
    )
    assert c.is_approved(reg.tracking_code) is True
    issued = c.issue_certificate(
        TEST_CA, APPROVAL_PROFILE, reg.tracking_code, make_csr(generate_key("ec-p256"))
    )
    cert = x509.load_der_x509_certificate(issued.der)
    assert (
        cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == ALI["NationalCode"]
    )
    assert c.received_cert_confirmation(issued.certificate, reg.tracking_code) is True
    assert [i.certificate for i in c.get_all_cert(ALI["NationalCode"])] == [issued.certificate]
    assert len(c.get_all_mobile_cert(tracking_code=reg.tracking_code)) == 1
    history = c.get_user_cert_history(ALI["NationalCode"])
    assert [h.status for h in history] == ["Issued"]
    today = runtime.clock.today()
    rows = c.issuing_report(today, today, "PerCA")
    assert [(r.profile_name, r.issue_count) for r in rows] == [(APPROVAL_PROFILE, 1)]
    assert len(c.issuing_report(today, today, "detail")) == 1
    credit = c.get_credit()
    assert c.revoke_certificate(issued.certificate, 4) == "گواهی با موفقیت ابطال شد"
    with pytest.raises(PendarError) as err:
        c.revoke_certificate(issued.certificate)
    assert err.value.error_code == 1114 and err.value.message == "این گواهی قبلا باطل شده است"
    assert c.get_all_cert(ALI["NationalCode"]) == []
    assert c.get_credit() == credit


def test_keys_from_pkcs12_and_dotnet_xml_and_errors(customer: Any) -> None:
    xml_signer = RequestSigner.from_dotnet_xml(private_key_to_dotnet_xml(customer.key))
    c = _client(customer, xml_signer)
    assert c.register_info(TEST_CA, TEST_PROFILE, Person.model_validate(ALI)).tracking_code
    dummy = self_signed(customer.key, "customer")  # PKCS#12 from a PFX export
    p12 = pkcs12.serialize_key_and_certificates(
        b"c", customer.key, dummy, None, serialization.BestAvailableEncryption(b"pw")
    )
    c12 = _client(customer, RequestSigner.from_pkcs12(p12, "pw"))
    issued = c12.issue_certificate(
        TEST_CA,
        TEST_PROFILE,
        c.register_info(TEST_CA, TEST_PROFILE, Person.model_validate(ALI)).tracking_code,
        make_csr(generate_key("ec-p256")),
    )
    assert issued.payment_status == "PaidByCredit"
    wrong = _client(
        customer,
        RequestSigner.from_pem(
            generate_key("rsa-2048").private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
    )
    with pytest.raises(PendarError) as err:
        wrong.register_info(TEST_CA, TEST_PROFILE, Person.model_validate(ALI))
    assert err.value.error_code == 1200
    bad_code = PendarClient(
        "1", "2", signer=xml_signer, base_url="http://127.0.0.1", http_client=customer.client
    )
    with pytest.raises(PendarError) as err:
        bad_code.get_ca_list()
    assert err.value.status_code == 401 and err.value.error_code == 1203


async def test_async_client(customer: Any, app: Any) -> None:
    import httpx

    s = customer.secrets
    signer = RequestSigner(customer.key)
    transport = httpx.ASGITransport(app=app)
    async with AsyncPendarClient(
        s["customer_code"],
        s["license_number"],
        signer=signer,
        report_key=s["report_key"],
        base_url="http://127.0.0.1",
        transport=transport,
    ) as c:
        assert await c.get_version() == "1.10"
        reg = await c.register_info(TEST_CA, TEST_PROFILE, Person.model_validate(ALI))
        issued = await c.issue_certificate(
            TEST_CA, TEST_PROFILE, reg.tracking_code, make_csr(generate_key("ec-p256"))
        )
        assert (await c.get_all_mobile_cert(national_code=ALI["NationalCode"]))[
            0
        ].certificate == issued.certificate
        assert await c.get_credit() > 0
