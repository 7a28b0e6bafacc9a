"""Shared helpers for the Pendar tests (wire, SDK, CA): customers with OpenSSL-made keys,
request signing, CSRs, approver certificates and CMS signatures."""

from __future__ import annotations

import base64
import json
import subprocess
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from pishkhan.settings import Settings
from pishkhan.world.fixtures import MOBILE_OK, NC_FEMALE, NC_OK, POSTAL_OK

TEST_CA = "01"
GOV_CA = "08"
TEST_PROFILE = "گواهی آزمایشی شخص حقیقی"
APPROVAL_PROFILE = "گواهی آزمایشی با تایید"
GOV_PROFILE = "گواهی برنز شخص حقیقی مستقل"
COMMERCIAL_CA = "05"
COMMERCIAL_PROFILE = "گواهی امضای شخص حقیقی"

ALI = {
    "NationalCode": NC_OK,
    "Name": "علی",
    "LastName": "رضایی",
    "EnName": "Ali",
    "EnLastName": "Rezaei",
    "FatherName": "محمد",
    "IsMan": True,
    "PostalCode": POSTAL_OK,
    "Telephone": MOBILE_OK,
    "IsForeign": False,
    "BirthCertificateID": "1234",
    "BirthDate": "1360/03/31",
    "City": "تهران",
    "ProvinceName": "تهران",
    "TokenType": "USERGENERATED",
    "password": "",
    "AgencySN": "",
    "Email": "ali@example.com",
}
MARYAM = {
    **ALI,
    "NationalCode": NC_FEMALE,
    "Name": "مریم",
    "LastName": "احمدی",
    "EnName": "Maryam",
    "EnLastName": "Ahmadi",
    "FatherName": "حسن",
    "IsMan": False,
    "Telephone": "09350000002",
    "BirthDate": "1986/10/07",
}


def pendar_settings(settings: Settings) -> Settings:
    """Fast CA keys for tests (P-256); production default is RSA-2048."""
    return replace(
        settings, surfaces=("pendar",), extra={**settings.extra, "pendar_ca_key": "ec-p256"}
    )


def openssl_rsa_key(directory: Path, bits: int = 1024) -> rsa.RSAPrivateKey:
    path = directory / f"customer-{bits}.pem"
    subprocess.run(
        [
            "openssl",
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            f"rsa_keygen_bits:{bits}",
            "-out",
            str(path),
        ],
        check=True,
        capture_output=True,
    )
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def sign(key: rsa.RSAPrivateKey, text: str) -> str:
    return base64.b64encode(
        key.sign(text.encode("utf-16-le"), padding.PKCS1v15(), hashes.SHA1())
    ).decode()


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def csr_for(key: Any, cn: str = "anything from the applicant", hash_alg: Any = None) -> str:
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .sign(key, hash_alg or hashes.SHA256())
    )
    return base64.b64encode(csr.public_bytes(serialization.Encoding.DER)).decode()


def self_signed(
    key: Any, cn: str, *, days: int = 365, start: datetime | None = None
) -> x509.Certificate:
    start = start or datetime.now(UTC) - timedelta(days=1)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )


def cms_detached(cert: x509.Certificate, key: Any, text: str) -> str:
    der = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(text.encode("utf-16-le"))
        .add_signer(cert, key, hashes.SHA256())
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature])
    )
    return base64.b64encode(der).decode()


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@dataclass
class Customer:
    """A Pendar customer created through the admin API, and the in-process client."""

    client: Any
    key: rsa.RSAPrivateKey
    created: dict[str, Any]
    ec_key: Any = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))

    @property
    def secrets(self) -> dict[str, Any]:
        return dict(self.created["secrets"]["pendar"])

    @property
    def customercode(self) -> str:
        return str(self.secrets["customercode"])

    @property
    def code(self) -> str:
        return str(self.secrets["customer_code"])

    @property
    def report_key(self) -> str:
        return str(self.secrets["report_key"])

    @property
    def slug(self) -> str:
        return str(self.created["slug"])

    def sign(self, text: str) -> str:
        return sign(self.key, text)

    def post(self, method: str, body: dict[str, Any]) -> Any:
        return self.client.post(
            f"/api/{method}",
            content=json.dumps(body, ensure_ascii=False),
            headers={"Content-Type": "application/json"},
        )

    def get(self, method: str, params: dict[str, Any]) -> Any:
        return self.client.get(f"/api/{method}", params=params)

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        r = self.client.request(
            method,
            f"/_pishkhan/v1/pendar{path}",
            json=body,
            headers={"Authorization": "Bearer test-admin-token"},
        )
        assert r.status_code in (200, 201), r.text
        return r.json()

    def grant(self, cas: dict[str, list[str]]) -> None:
        self.admin("PUT", f"/customers/{self.slug}/grants", {"cas": cas})

    def register_body(
        self,
        person: dict[str, Any] | None = None,
        *,
        ca: str = TEST_CA,
        profile: str = TEST_PROFILE,
    ) -> dict[str, Any]:
        p = dict(person or ALI)
        return {
            "caName": ca,
            "customercode": self.customercode,
            "profileName": profile,
            "signature": self.sign(f"{self.customercode}-{p['NationalCode']}"),
            "personData": p,
        }

    def register(self, person: dict[str, Any] | None = None, **kw: Any) -> str:
        r = self.post("RegisterInfo", self.register_body(person, **kw))
        body = r.json()
        assert body["IsSuccess"] is True, body
        return str(body["TrackingCode"])

    def issue_body(
        self,
        tracking_code: str,
        csr: str | None = None,
        *,
        ca: str = TEST_CA,
        profile: str = TEST_PROFILE,
        payment_id: str = "",
        password: str = "",
    ) -> dict[str, Any]:
        csr = csr if csr is not None else csr_for(self.ec_key)
        return {
            "caName": ca,
            "profileName": profile,
            "trackingCode": tracking_code,
            "csr": csr,
            "paymentId": payment_id,
            "signature": self.sign(csr),
            "customercode": self.customercode,
            "password": password,
        }

    def issue(self, tracking_code: str, **kw: Any) -> dict[str, Any]:
        r = self.post("IssueCertificateByTrackingCode", self.issue_body(tracking_code, **kw))
        body: dict[str, Any] = r.json()
        assert body["IsSuccess"] is True, body
        return body

    def revoke_body(self, certificate: str, reason: int = 1) -> dict[str, Any]:
        return {
            "certificate": certificate,
            "signature": self.sign(certificate),
            "customercode": self.customercode,
            "revokeCertReason": reason,
        }


@pytest.fixture(scope="session")
def openssl_keys(tmp_path_factory: pytest.TempPathFactory) -> list[rsa.RSAPrivateKey]:
    """Customer RSA keys made by the OpenSSL command line (1024 bits, as the document asks)."""
    d = tmp_path_factory.mktemp("pendar-keys")
    return [openssl_rsa_key(d, 1024) for _ in range(2)]


def make_customer(client: Any, key: rsa.RSAPrivateKey, name: str, **extra: Any) -> Customer:
    r = client.post(
        "/_pishkhan/v1/customers",
        json={"name": name, "pendar_public_key_pem": public_pem(key), **extra},
        headers={"Authorization": "Bearer test-admin-token"},
    )
    assert r.status_code == 201, r.text
    return Customer(client, key, r.json())


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return pendar_settings(settings)


@pytest.fixture
def customer(client: Any, openssl_keys: list[rsa.RSAPrivateKey]) -> Customer:
    return make_customer(client, openssl_keys[0], "Pendar Customer", slug="pendar-one")


@pytest.fixture
def other_customer(client: Any, openssl_keys: list[rsa.RSAPrivateKey]) -> Customer:
    return make_customer(client, openssl_keys[1], "Other Customer", slug="pendar-two")
