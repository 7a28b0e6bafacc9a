"""Client for the Pendar Koushk RA API (``https://api.pki.co.ir/api/{Method}``) and pishkhan.

Requests are signed for the caller (RSA PKCS#1 v1.5 with SHA-1 over the UTF-16LE text the
document names) with a key loaded from PEM, PKCS#12 or a .NET ``RSAKeyValue`` XML. Signing and
the CSR helpers need ``cryptography`` (``pip install 'pishkhan[pendar]'``); it is imported only
when a key is loaded, so ``import pishkhan.client`` works with httpx and pydantic alone.

Failures answer :class:`PendarError` with the document's ``ErrorCode`` (``code``, an int in
``error_code``), its ``ErrorMessage`` and the ``Description`` detail.
"""

from __future__ import annotations

import base64
import json
import secrets
import xml.etree.ElementTree as ET
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field

from pishkhan.client.base import ApiError, AsyncTransport, Call, SyncTransport, json_body

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

DEFAULT_BASE_URL = "https://api.pki.co.ir"
ReportType = Literal["PerCA", "PerCA&Status", "detail"]


class PendarError(ApiError):
    provider = "pendar"

    def __init__(
        self,
        error_code: int,
        message: str,
        *,
        detail: str = "",
        status_code: int = 200,
        body: Any = None,
    ) -> None:
        super().__init__(str(error_code), message, status_code=status_code, body=body)
        self.error_code = error_code
        self.detail = detail


# -- keys and signing ---------------------------------------------------------------------------


def _crypto() -> Any:
    try:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding, rsa
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError(
            "Pendar signing needs cryptography: pip install 'pishkhan[pendar]'"
        ) from exc
    return hashes, serialization, padding, rsa


class RequestSigner:
    """Signs request fields with the customer's RSA key (Base64(Sign_RSAWithSHA1(Unicode(text))))."""

    def __init__(self, key: RSAPrivateKey) -> None:
        self.key = key

    @classmethod
    def from_pem(cls, pem: str | bytes, password: str | bytes | None = None) -> RequestSigner:
        _h, serialization, _p, rsa = _crypto()
        data = pem.encode("ascii") if isinstance(pem, str) else pem
        pw = password.encode() if isinstance(password, str) else password
        key = serialization.load_pem_private_key(data, password=pw)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the Pendar customer key must be RSA")
        return cls(key)

    @classmethod
    def from_pkcs12(cls, data: bytes, password: str | bytes | None) -> RequestSigner:
        _h, _s, _p, rsa = _crypto()
        from cryptography.hazmat.primitives.serialization import pkcs12

        pw = password.encode() if isinstance(password, str) else password
        key, _cert, _chain = pkcs12.load_key_and_certificates(data, pw)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the PKCS#12 file holds no RSA private key")
        return cls(key)

    @classmethod
    def from_dotnet_xml(cls, xml: str) -> RequestSigner:
        """A key as .NET ``RSA.ToXmlString(true)`` writes it (``<RSAKeyValue>...``)."""
        _h, _s, _p, rsa = _crypto()
        root = ET.fromstring(xml.strip())
        if root.tag != "RSAKeyValue":
            raise ValueError("not an RSAKeyValue document")

        def num(name: str) -> int:
            node = root.find(name)
            if node is None or not (node.text or "").strip():
                raise ValueError(f"RSAKeyValue has no {name}")
            return int.from_bytes(base64.b64decode("".join((node.text or "").split())), "big")

        public = rsa.RSAPublicNumbers(num("Exponent"), num("Modulus"))
        private = rsa.RSAPrivateNumbers(
            num("P"), num("Q"), num("D"), num("DP"), num("DQ"), num("InverseQ"), public
        )
        return cls(private.private_key())

    def sign(self, text: str) -> str:
        hashes, _s, padding, _r = _crypto()
        raw = self.key.sign(text.encode("utf-16-le"), padding.PKCS1v15(), hashes.SHA1())
        return base64.b64encode(raw).decode("ascii")


# -- CSR helpers ----------------------------------------------------------------------------------


def generate_key(kind: Literal["rsa-2048", "rsa-3072", "rsa-4096", "ec-p256"] = "rsa-2048") -> Any:
    """A fresh key pair for a USERGENERATED certificate."""
    _h, _s, _p, rsa = _crypto()
    if kind == "ec-p256":
        from cryptography.hazmat.primitives.asymmetric import ec

        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=int(kind[4:]))


def make_csr(key: Any, common_name: str = "applicant") -> str:
    """A PKCS#10 request as the ``csr`` field wants it: base64 DER, no PEM header or newlines.
    (The CA builds the subject from the registered identity; the CSR's subject is ignored.)"""
    hashes, serialization, _p, _r = _crypto()
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .sign(key, hashes.SHA256())
    )
    return base64.b64encode(csr.public_bytes(serialization.Encoding.DER)).decode("ascii")


def csr_body(pem: str) -> str:
    """The base64 body of a PEM CSR (the form the ``csr`` field takes)."""
    lines = [ln.strip() for ln in pem.strip().splitlines() if ln and not ln.startswith("-----")]
    return "".join(lines)


# -- typed results --------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="allow")


class Person(_Model):
    national_code: str = Field(alias="NationalCode")
    name: str = Field(default="", alias="Name")
    last_name: str = Field(default="", alias="LastName")
    en_name: str = Field(default="", alias="EnName")
    en_last_name: str = Field(default="", alias="EnLastName")
    father_name: str = Field(default="", alias="FatherName")
    is_man: bool = Field(default=True, alias="IsMan")
    postal_code: str = Field(default="", alias="PostalCode")
    telephone: str = Field(default="", alias="Telephone")
    is_foreign: bool = Field(default=False, alias="IsForeign")
    birth_certificate_id: str = Field(default="", alias="BirthCertificateID")
    birth_date: str = Field(
        default="", alias="BirthDate", description="yyyy/mm/dd, Jalali or Gregorian"
    )
    city: str = Field(default="", alias="City")
    province_name: str = Field(default="", alias="ProvinceName")
    token_type: Literal["USERGENERATED", "P12"] = Field(default="USERGENERATED", alias="TokenType")
    password: str = Field(default="", alias="password")
    agency_sn: str = Field(default="", alias="AgencySN")
    email: str = Field(default="", alias="Email")


class CAProfile(_Model):
    profile_name: str = Field(alias="ProfileName")
    subject_dn_config: str = Field(alias="SubjectDNConfig")
    price: int = Field(alias="Price")
    face_auth: bool = Field(alias="FaceAuth")
    input_type: str = Field(alias="InputType")
    approval: bool = Field(alias="Approval")
    product_id: int = Field(alias="ProductId")
    description: str = Field(alias="Description")


class Availability(_Model):
    is_available: bool = Field(alias="IsAvailable")
    description: str = Field(default="", alias="Description")


class Registration(_Model):
    tracking_code: str
    identity: dict[str, Any]

    @property
    def certificate(self) -> str | None:
        value = self.identity.get("Certificate")
        return str(value) if value else None


class IssuedCertificate(_Model):
    certificate: str = Field(alias="Certificate")
    payment_status: str = Field(alias="PaymentStatus")
    cn: str = Field(alias="CN")
    issuer_name: str = Field(alias="IssuerName")
    valid_from: str = Field(alias="ValidFrom")
    valid_to: str = Field(alias="ValidTo")
    p12: str | None = Field(default=None, alias="P12")

    @property
    def der(self) -> bytes:
        return base64.b64decode(self.certificate)


class CertificateItem(_Model):
    id: int = Field(alias="Id")
    tracking_code: str = Field(alias="TrackingCode")
    ca_name: str = Field(alias="CAName")
    profile_name: str = Field(alias="ProfileName")
    serial_number: str = Field(alias="SerialNumber")
    subject: str = Field(alias="Subject")
    issuer: str = Field(alias="Issuer")
    certificate: str = Field(alias="Certificate")
    valid_from: str = Field(alias="ValidFrom")
    valid_to: str = Field(alias="ValidTo")
    status: str = Field(alias="Status")


class HistoryItem(_Model):
    id: int = Field(alias="Id")
    tracking_code: str = Field(alias="TrackingCode")
    status: Literal["Registered", "Issued", "Revoked"] = Field(alias="Status")
    issuer: str = Field(alias="Issuer")
    certificate: str = Field(alias="Certificate")
    register_date: str = Field(alias="RegisterDate")
    issue_date: str = Field(alias="IssueDate")
    revoke_date: str = Field(alias="RevokeDate")


class ReportRow(_Model):
    ca_name: str = Field(alias="caName")
    profile_name: str = Field(alias="profileName")
    status: bool
    count: int
    register_count: int = Field(alias="RegisterCount")
    issue_count: int = Field(alias="IssueCount")
    revoke_count: int = Field(alias="RevokeCount")
    id: int | None = None


# -- parsing --------------------------------------------------------------------------------------


def _checked(response: httpx.Response) -> Any:
    body = json_body(response)
    if isinstance(body, dict):
        code = body.get("ErrorCode")
        failed = body.get("IsSuccess") is False or body.get("ResultCode") is False
        if (
            (isinstance(code, int) and code != 0)
            or response.status_code >= 400
            or (failed and code not in (None, 0))
        ):
            raise PendarError(
                int(code or 0),
                str(body.get("ErrorMessage") or body.get("Message") or ""),
                detail=str(body.get("Description") or ""),
                status_code=response.status_code,
                body=body,
            )
    elif response.status_code >= 400:
        raise PendarError(0, str(body), status_code=response.status_code, body=body)
    return body


class _Calls:
    """Builds each method's Call (sans-IO); shared by the sync and async clients."""

    def __init__(
        self,
        customer_code: str,
        license_number: str,
        signer: RequestSigner | None,
        report_key: str | None,
    ) -> None:
        self.code = customer_code
        self.customercode = f"{customer_code}-{license_number}"
        self.signer = signer
        self.report_key = report_key

    def sign(self, text: str) -> str:
        if self.signer is None:
            raise ValueError("this call is signed: give the client a RequestSigner")
        return self.signer.sign(text)

    @staticmethod
    def _post(method: str, body: dict[str, Any], parse: Any) -> Call[Any]:
        return Call("POST", f"/api/{method}", parse, json=body, authenticated=False)

    @staticmethod
    def _get(method: str, params: dict[str, Any], parse: Any) -> Call[Any]:
        return Call("GET", f"/api/{method}", parse, params=params, authenticated=False)

    def get_version(self) -> Call[str]:
        return self._get("GetVersion", {}, lambda r: str(_checked(r)))

    def get_ca_list(self) -> Call[list[str]]:
        return self._get(
            "GetCAList",
            {"Customercode": self.customercode},
            lambda r: [str(x) for x in _checked(r)["CAList"]],
        )

    def get_ca_profile_info(self, ca_name: str) -> Call[list[CAProfile]]:
        return self._get(
            "GetCAProfileInfo",
            {"Customercode": self.customercode, "caName": ca_name},
            lambda r: [CAProfile.model_validate(p) for p in _checked(r)["Profile"]],
        )

    def is_available(self, ca_name: str) -> Call[Availability]:
        return self._get(
            "IsAvailable", {"caName": ca_name}, lambda r: Availability.model_validate(_checked(r))
        )

    def register_info(self, ca_name: str, profile_name: str, person: Person) -> Call[Registration]:
        data = person.model_dump(by_alias=True)

        def parse(r: httpx.Response) -> Registration:
            body = _checked(r)
            return Registration(
                tracking_code=str(body["TrackingCode"]),
                identity=json.loads(body["Description"] or "{}"),
            )

        return self._post(
            "RegisterInfo",
            {
                "caName": ca_name,
                "customercode": self.customercode,
                "profileName": profile_name,
                "signature": self.sign(f"{self.customercode}-{person.national_code}"),
                "personData": data,
            },
            parse,
        )

    def get_tracking_code_info(
        self, national_code: str, tracking_code: str
    ) -> Call[dict[str, Any]]:
        return self._post(
            "GetTrackingCodeInfo",
            {
                "nationalCode": national_code,
                "trackingCode": tracking_code,
                "customercode": self.customercode,
                "sign": self.sign(national_code + tracking_code),
            },
            lambda r: dict(json.loads(_checked(r)["Description"])),
        )

    def issue_certificate(
        self,
        ca_name: str,
        profile_name: str,
        tracking_code: str,
        csr: str | None,
        payment_id: str = "",
        password: str = "",
    ) -> Call[IssuedCertificate]:
        csr_value = csr if csr is not None else "none"
        return self._post(
            "IssueCertificateByTrackingCode",
            {
                "caName": ca_name,
                "profileName": profile_name,
                "trackingCode": tracking_code,
                "csr": csr_value,
                "paymentId": payment_id,
                "signature": self.sign(csr_value),
                "customercode": self.customercode,
                "password": password,
            },
            lambda r: IssuedCertificate.model_validate(_checked(r)),
        )

    def revoke_certificate(self, certificate: str, reason: int = 0) -> Call[str]:
        return self._post(
            "RevokeCertificate",
            {
                "certificate": certificate,
                "signature": self.sign(certificate),
                "customercode": self.customercode,
                "revokeCertReason": reason,
            },
            lambda r: str(_checked(r).get("Description", "")),
        )

    def is_approved(self, tracking_code: str) -> Call[bool]:
        return self._post(
            "IsApproved", {"trackingCode": tracking_code}, lambda r: bool(_checked(r)["ResultCode"])
        )

    def request_approve(
        self,
        national_code: str,
        tracking_code: str,
        approver: str,
        approver_sign: str = "",
        order_id: str = "",
    ) -> Call[bool]:
        return self._post(
            "RequestApprove",
            {
                "nationalCode": national_code,
                "trackingCode": tracking_code,
                "customercode": self.customercode,
                "approver": approver,
                "sign": self.sign(national_code + tracking_code + approver),
                "approverSign": approver_sign,
                "orderId": order_id,
            },
            lambda r: bool(_checked(r)["ResultCode"]),
        )

    def received_cert_confirmation(self, certificate: str, tracking_code: str) -> Call[bool]:
        return self._post(
            "RecievedCertConfirmation",
            {
                "certificate": certificate,
                "signature": self.sign(certificate),
                "customercode": self.customercode,
                "trackingCode": tracking_code,
            },
            lambda r: bool(_checked(r)["IsSuccess"]),
        )

    def get_all_cert(self, national_code: str) -> Call[list[CertificateItem]]:
        return self._get(
            "GetAllCert",
            {"SerialNumber": national_code},
            lambda r: [CertificateItem.model_validate(c) for c in _checked(r)],
        )

    def get_all_mobile_cert(
        self,
        national_code: str | None = None,
        tracking_code: str | None = None,
        ca_name: str | None = None,
        customer_code: str | None = None,
    ) -> Call[list[CertificateItem]]:
        params = {
            "NationalCode": national_code,
            "TrackingCode": tracking_code,
            "CAName": ca_name,
            "CustomerCode": customer_code,
        }
        return self._get(
            "GetAllMobileCert",
            params,
            lambda r: [CertificateItem.model_validate(c) for c in _checked(r)],
        )

    def get_user_cert_history(
        self, national_code: str, rnd: str | None = None
    ) -> Call[list[HistoryItem]]:
        rnd = rnd or secrets.token_hex(8)
        return self._post(
            "GetUserCertHistory",
            {
                "SerialNumber": national_code,
                "customercode": self.customercode,
                "signature": self.sign(national_code + rnd),
                "rnd": rnd,
            },
            lambda r: [HistoryItem.model_validate(c) for c in _checked(r)["CertList"]],
        )

    def _report_key(self) -> str:
        if not self.report_key:
            raise ValueError("reports need the customer's report key")
        return self.report_key

    def issuing_report(
        self, start: date, end: date, type: ReportType = "PerCA", after_id: int | None = None
    ) -> Call[list[ReportRow]]:
        body: dict[str, Any] = {
            "reportkey": self._report_key(),
            "customercode": self.code,
            "startdate": start.strftime("%Y/%m/%d"),
            "enddate": end.strftime("%Y/%m/%d"),
            "type": type,
        }
        if after_id is not None:
            body["id"] = str(after_id)
        return self._post(
            "IssuingReport", body, lambda r: [ReportRow.model_validate(x) for x in _checked(r)]
        )

    def get_credit(self) -> Call[int]:
        return self._post(
            "GetCredit",
            {"reportkey": self._report_key(), "customercode": self.code},
            lambda r: int(_checked(r)["Credit"]),
        )


class PendarClient:
    """Synchronous client. ``signer`` signs requests; ``report_key`` enables the reports."""

    def __init__(
        self,
        customer_code: str,
        license_number: str,
        *,
        signer: RequestSigner | None = None,
        report_key: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.calls = _Calls(customer_code, license_number, signer, report_key)
        self._t = SyncTransport(
            base_url, transport=transport, http_client=http_client, timeout=timeout
        )

    def close(self) -> None:
        self._t.close()

    def __enter__(self) -> PendarClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_version(self) -> str:
        return self._t.call(self.calls.get_version())

    def get_ca_list(self) -> list[str]:
        return self._t.call(self.calls.get_ca_list())

    def get_ca_profile_info(self, ca_name: str) -> list[CAProfile]:
        return self._t.call(self.calls.get_ca_profile_info(ca_name))

    def is_available(self, ca_name: str) -> Availability:
        return self._t.call(self.calls.is_available(ca_name))

    def register_info(self, ca_name: str, profile_name: str, person: Person) -> Registration:
        return self._t.call(self.calls.register_info(ca_name, profile_name, person))

    def get_tracking_code_info(self, national_code: str, tracking_code: str) -> dict[str, Any]:
        return self._t.call(self.calls.get_tracking_code_info(national_code, tracking_code))

    def issue_certificate(
        self,
        ca_name: str,
        profile_name: str,
        tracking_code: str,
        csr: str | None,
        payment_id: str = "",
        password: str = "",
    ) -> IssuedCertificate:
        return self._t.call(
            self.calls.issue_certificate(
                ca_name, profile_name, tracking_code, csr, payment_id, password
            )
        )

    def revoke_certificate(self, certificate: str, reason: int = 0) -> str:
        return self._t.call(self.calls.revoke_certificate(certificate, reason))

    def is_approved(self, tracking_code: str) -> bool:
        return self._t.call(self.calls.is_approved(tracking_code))

    def request_approve(
        self,
        national_code: str,
        tracking_code: str,
        approver: str,
        approver_sign: str = "",
        order_id: str = "",
    ) -> bool:
        return self._t.call(
            self.calls.request_approve(
                national_code, tracking_code, approver, approver_sign, order_id
            )
        )

    def received_cert_confirmation(self, certificate: str, tracking_code: str) -> bool:
        return self._t.call(self.calls.received_cert_confirmation(certificate, tracking_code))

    def get_all_cert(self, national_code: str) -> list[CertificateItem]:
        return self._t.call(self.calls.get_all_cert(national_code))

    def get_all_mobile_cert(
        self,
        national_code: str | None = None,
        tracking_code: str | None = None,
        ca_name: str | None = None,
        customer_code: str | None = None,
    ) -> list[CertificateItem]:
        return self._t.call(
            self.calls.get_all_mobile_cert(national_code, tracking_code, ca_name, customer_code)
        )

    def get_user_cert_history(
        self, national_code: str, rnd: str | None = None
    ) -> list[HistoryItem]:
        return self._t.call(self.calls.get_user_cert_history(national_code, rnd))

    def issuing_report(
        self, start: date, end: date, type: ReportType = "PerCA", after_id: int | None = None
    ) -> list[ReportRow]:
        return self._t.call(self.calls.issuing_report(start, end, type, after_id))

    def get_credit(self) -> int:
        return self._t.call(self.calls.get_credit())


class AsyncPendarClient:
    """Asynchronous client with the same methods as :class:`PendarClient`."""

    def __init__(
        self,
        customer_code: str,
        license_number: str,
        *,
        signer: RequestSigner | None = None,
        report_key: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.calls = _Calls(customer_code, license_number, signer, report_key)
        self._t = AsyncTransport(
            base_url, transport=transport, http_client=http_client, timeout=timeout
        )

    async def aclose(self) -> None:
        await self._t.aclose()

    async def __aenter__(self) -> AsyncPendarClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def get_version(self) -> str:
        return await self._t.call(self.calls.get_version())

    async def get_ca_list(self) -> list[str]:
        return await self._t.call(self.calls.get_ca_list())

    async def get_ca_profile_info(self, ca_name: str) -> list[CAProfile]:
        return await self._t.call(self.calls.get_ca_profile_info(ca_name))

    async def is_available(self, ca_name: str) -> Availability:
        return await self._t.call(self.calls.is_available(ca_name))

    async def register_info(self, ca_name: str, profile_name: str, person: Person) -> Registration:
        return await self._t.call(self.calls.register_info(ca_name, profile_name, person))

    async def get_tracking_code_info(
        self, national_code: str, tracking_code: str
    ) -> dict[str, Any]:
        return await self._t.call(self.calls.get_tracking_code_info(national_code, tracking_code))

    async def issue_certificate(
        self,
        ca_name: str,
        profile_name: str,
        tracking_code: str,
        csr: str | None,
        payment_id: str = "",
        password: str = "",
    ) -> IssuedCertificate:
        return await self._t.call(
            self.calls.issue_certificate(
                ca_name, profile_name, tracking_code, csr, payment_id, password
            )
        )

    async def revoke_certificate(self, certificate: str, reason: int = 0) -> str:
        return await self._t.call(self.calls.revoke_certificate(certificate, reason))

    async def is_approved(self, tracking_code: str) -> bool:
        return await self._t.call(self.calls.is_approved(tracking_code))

    async def request_approve(
        self,
        national_code: str,
        tracking_code: str,
        approver: str,
        approver_sign: str = "",
        order_id: str = "",
    ) -> bool:
        return await self._t.call(
            self.calls.request_approve(
                national_code, tracking_code, approver, approver_sign, order_id
            )
        )

    async def received_cert_confirmation(self, certificate: str, tracking_code: str) -> bool:
        return await self._t.call(self.calls.received_cert_confirmation(certificate, tracking_code))

    async def get_all_cert(self, national_code: str) -> list[CertificateItem]:
        return await self._t.call(self.calls.get_all_cert(national_code))

    async def get_all_mobile_cert(
        self,
        national_code: str | None = None,
        tracking_code: str | None = None,
        ca_name: str | None = None,
        customer_code: str | None = None,
    ) -> list[CertificateItem]:
        return await self._t.call(
            self.calls.get_all_mobile_cert(national_code, tracking_code, ca_name, customer_code)
        )

    async def get_user_cert_history(
        self, national_code: str, rnd: str | None = None
    ) -> list[HistoryItem]:
        return await self._t.call(self.calls.get_user_cert_history(national_code, rnd))

    async def issuing_report(
        self, start: date, end: date, type: ReportType = "PerCA", after_id: int | None = None
    ) -> list[ReportRow]:
        return await self._t.call(self.calls.issuing_report(start, end, type, after_id))

    async def get_credit(self) -> int:
        return await self._t.call(self.calls.get_credit())


__all__ = [
    "AsyncPendarClient",
    "Availability",
    "CAProfile",
    "CertificateItem",
    "HistoryItem",
    "IssuedCertificate",
    "PendarClient",
    "PendarError",
    "Person",
    "Registration",
    "ReportRow",
    "RequestSigner",
    "csr_body",
    "generate_key",
    "make_csr",
]
