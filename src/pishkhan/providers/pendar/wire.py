"""The wire of the Pendar surface: its models in and out, request parsing and answer rendering.

The request models carry the document's exact field names (the server binds names
case-insensitively; these models show the document's casing); each method's answer shape
(:class:`Answer`) gives both its error answer and its schema. The OpenAPI document
(``routes.openapi``) is generated from these.

Parsing: ASP.NET binds method names and JSON keys case-insensitively, GET methods read the query
string, and a POST body may also come URL-encoded (some mobile clients send
``URLEncoder.encode(json)``)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, TypeVar
from urllib.parse import unquote_plus

import orjson
from cryptography import x509
from pydantic import BaseModel, ConfigDict, Field
from starlette.types import Scope

from pishkhan.core.clock import TEHRAN
from pishkhan.web.asgi import query_map

from . import errors as E
from . import signatures
from .errors import PendarError

Fields = dict[str, Any]
_X509 = TypeVar("_X509", x509.Certificate, x509.CertificateSigningRequest)


def _signed(method: str) -> Any:
    """The field carrying ``method``'s request signature, described by its rule."""
    return Field(description=signatures.RULES[method].description)


class _M(BaseModel):
    model_config = ConfigDict(extra="allow")


class PersonData(_M):
    NationalCode: str
    Name: str = ""
    LastName: str = ""
    EnName: str = ""
    EnLastName: str = ""
    FatherName: str = ""
    IsMan: bool = True
    PostalCode: str = Field(default="", description="mandatory on the government CA (08)")
    Telephone: str = Field(description="mobile; 1104 when missing")
    IsForeign: bool = False
    BirthCertificateID: str = ""
    BirthDate: str = Field(default="", description="yyyy/mm/dd, Gregorian or Jalali")
    City: str = ""
    ProvinceName: str = ""
    TokenType: str = Field(default="USERGENERATED", description="USERGENERATED or P12")
    password: str = Field(default="", description="P12 only")
    AgencySN: str = ""
    Email: str = ""


class RegisterInfoRequest(_M):
    caName: str
    customercode: str = Field(description="CustomerCode-LicenseNumber")
    profileName: str
    signature: str = _signed("RegisterInfo")
    personData: PersonData


class GetTrackingCodeInfoRequest(_M):
    nationalCode: str
    trackingCode: str
    customercode: str
    sign: str = _signed("GetTrackingCodeInfo")


class IssueCertificateRequest(_M):
    caName: str
    profileName: str
    trackingCode: str
    csr: str = Field(description='base64 DER PKCS#10 (no PEM armour); "none" for P12')
    paymentId: str = ""
    signature: str = _signed("IssueCertificateByTrackingCode")
    customercode: str
    password: str = ""


class RevokeCertificateRequest(_M):
    certificate: str
    signature: str = _signed("RevokeCertificate")
    customercode: str
    revokeCertReason: int = Field(default=0, description="RFC 5280 reason code (not 7)")


class IsApprovedRequest(_M):
    trackingCode: str


class RequestApproveRequest(_M):
    nationalCode: str
    trackingCode: str
    customercode: str
    approver: str
    sign: str = _signed("RequestApprove")
    approverSign: str = Field(
        default="", description="Base64 CMS detached signature over the same bytes"
    )
    orderId: str = ""


class RecievedCertConfirmationRequest(_M):
    certificate: str
    signature: str = _signed("RecievedCertConfirmation")
    customercode: str
    trackingCode: str


class GetUserCertHistoryRequest(_M):
    SerialNumber: str
    customercode: str
    signature: str = _signed("GetUserCertHistory")
    rnd: str


class IssuingReportRequest(_M):
    reportkey: str
    customercode: str = Field(description="bare customer code")
    startdate: str = Field(description="Gregorian yyyy/mm/dd")
    enddate: str
    type: str = Field(description="PerCA, PerCA&Status or detail")
    id: str = Field(default="", description="detail: the last id of the previous page")


class GetCreditRequest(_M):
    reportkey: str
    customercode: str


# -- request helpers ------------------------------------------------------------------------------


def lower_keys(data: Any) -> Fields:
    """JSON objects bind case-insensitively (ASP.NET): lower-case every key, one level."""
    if not isinstance(data, dict):
        return {}
    return {str(k).lower(): v for k, v in data.items()}


def field(data: Fields, name: str) -> str:
    """A field as text: absent and null are empty; numbers and booleans as .NET prints them."""
    value = data.get(name.lower())
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return ""
    return str(value).strip()


def check_signature(method: str, public_key_pem: str, data: Fields) -> str:
    """The request's signature by the method's rule in :data:`signatures.RULES` (1200 when it
    does not verify); answers the signed text."""

    def get(name: str) -> str:
        outer, dot, inner = name.partition(".")
        return field(lower_keys(data.get(outer)), inner) if dot else field(data, name)

    text = signatures.RULES[method].verify(public_key_pem, get)
    if text is None:
        raise PendarError(E.SIGNATURE_INVALID)
    return text


def flag(data: Fields, name: str) -> bool | None:
    value = data.get(name.lower())
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "yes")


def utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def wire_time(value: datetime | None) -> str:
    """Tehran wall-clock ISO 8601 with offset (how .NET serializes a local DateTime)."""
    value = utc(value)
    if value is None:
        return ""
    return _tehran_text(value)


@functools.lru_cache(maxsize=256)
def _tehran_text(value: datetime) -> str:
    """Cached: every issuance answers two such times, shared by the issuances of a second."""
    return value.astimezone(TEHRAN).replace(microsecond=0).isoformat()


def dumps(data: Any) -> str:
    return orjson.dumps(data).decode("utf-8")


def _load(text: str, pem: Callable[[bytes], _X509], der: Callable[[bytes], _X509]) -> _X509 | None:
    """A PEM or base64 DER (no armour) object, or None when it is neither."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            return pem(text.encode("ascii"))
        raw = signatures.b64decode(text)
        return der(raw) if raw else None
    except (ValueError, UnicodeEncodeError):
        return None


def load_csr(text: str) -> x509.CertificateSigningRequest | None:
    return _load(text, x509.load_pem_x509_csr, x509.load_der_x509_csr)


def load_certificate(text: str) -> x509.Certificate | None:
    return _load(text, x509.load_pem_x509_certificate, x509.load_der_x509_certificate)


def fields(scope: Scope, body: bytes) -> Fields | None:
    """Query parameters and JSON body, keys lower-cased; the body wins. None: unreadable body.
    The query is decoded by the one rule of :func:`query_map` (``InvalidQuery``: not UTF-8)."""
    query = scope.get("query_string", b"")
    data = {k.lower(): v for k, v in query_map(query).items()} if query else {}
    raw = body.strip()
    if not raw:
        return data
    parsed: Any
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        try:
            parsed = orjson.loads(unquote_plus(raw.decode("utf-8")))
        except (orjson.JSONDecodeError, UnicodeDecodeError):
            return None
    if parsed is None:
        return data
    if not isinstance(parsed, dict):
        return None
    data.update(lower_keys(parsed))
    return data


# -- answers --------------------------------------------------------------------------------------

Schema = dict[str, Any]
#: A text field's schema.
TEXT: Final[Schema] = {"type": "string"}
_B: Final[Schema] = {"type": "boolean"}
_ARR: Final[Schema] = {"type": "array", "items": {"type": "object"}}


def envelope(extra: dict[str, Any], *, result: bool = False) -> dict[str, Any]:
    """A response schema: the method's fields plus ErrorCode/ErrorMessage."""
    props: dict[str, Any] = dict(extra)
    if result:
        props.update({"ResultCode": {"type": "boolean"}, "Message": {"type": "string"}})
    props.update({"ErrorCode": {"type": "integer"}, "ErrorMessage": {"type": "string"}})
    return {"type": "object", "properties": props}


@dataclass(frozen=True)
class Answer:
    """One method's answer shape, from which both its error answer and its schema in the
    document come.

    ``family``: ``"is"`` (``IsSuccess`` and the method's fields), ``"result"``
    (``ResultCode``/``Description``/``Message``), ``"available"`` (``IsAvailable``/``Description``)
    or ``"array"`` (a JSON array; an error is an ``"is"`` body). ``fields``: an ``"is"``
    answer's own fields, each with the value its error answer gives it (a list: an array).
    ``documented``: fields the schema describes beyond (or more precisely than) ``fields``;
    ``schema``: the whole schema where it is not an envelope."""

    family: str = "is"
    fields: tuple[tuple[str, Any], ...] = ()
    documented: tuple[tuple[str, Schema], ...] = ()
    schema: Schema | None = None

    def error(self, exc: PendarError) -> dict[str, Any]:
        """The method's own shape with ``ErrorCode``/``ErrorMessage`` (and the detail in
        ``Description`` where the method has one)."""
        if self.family == "result":
            return {
                "ResultCode": False,
                "Description": exc.detail,
                "Message": "Unsuccess",
                "ErrorCode": exc.code,
                "ErrorMessage": exc.message,
            }
        if self.family == "available":
            return {
                "IsAvailable": False,
                "Description": exc.detail,
                "ErrorCode": exc.code,
                "ErrorMessage": exc.message,
            }
        body: dict[str, Any] = {"IsSuccess": False}
        for key, default in self.fields:
            body[key] = list(default) if isinstance(default, list) else default
        if "Description" in body:
            body["Description"] = exc.detail
        body["ErrorCode"] = exc.code
        body["ErrorMessage"] = exc.message
        return body

    def document(self) -> Schema:
        """The answer's schema (an error answer has the same shape)."""
        if self.schema is not None:
            return self.schema
        if self.family == "array":
            return {"oneOf": [_ARR, envelope({"IsSuccess": _B})]}
        if self.family == "result":
            return envelope({"Description": TEXT}, result=True)
        if self.family == "available":
            return envelope({"IsAvailable": _B, "Description": TEXT})
        props: Schema = {"IsSuccess": _B}
        for key, default in self.fields:
            props[key] = _ARR if isinstance(default, list) else TEXT
        props.update(self.documented)
        return envelope(props)


#: Each method's answer (see :class:`Answer`).
ANSWERS: Final[dict[str, Answer]] = {
    "GetVersion": Answer(schema=TEXT),
    "GetCAList": Answer(
        fields=(("CAList", []),),
        documented=(
            ("CAList", {"type": "array", "items": TEXT, "description": "CA names, e.g. 01"}),
        ),
    ),
    "GetCAProfileInfo": Answer(fields=(("Profile", []),)),
    "IsAvailable": Answer("available"),
    "RegisterInfo": Answer(fields=(("TrackingCode", ""), ("Description", ""))),
    "GetTrackingCodeInfo": Answer("result"),
    "IssueCertificateByTrackingCode": Answer(
        fields=(
            ("Certificate", ""),
            ("PaymentStatus", ""),
            ("Description", ""),
            ("CN", ""),
            ("IssuerName", ""),
            ("ValidFrom", ""),
            ("ValidTo", ""),
        ),
        documented=(
            ("P12", {"type": "string", "description": "base64 PKCS#12 (P12 tokens only)"}),
        ),
    ),
    "RevokeCertificate": Answer(fields=(("Description", ""),)),
    "IsApproved": Answer("result"),
    "RequestApprove": Answer("result"),
    "RecievedCertConfirmation": Answer(fields=(("Description", ""),)),
    "GetAllCert": Answer("array"),
    "GetAllMobileCert": Answer("array"),
    "GetUserCertHistory": Answer(fields=(("CertList", []),)),
    "IssuingReport": Answer("array"),
    "GetCredit": Answer(fields=(("Credit", "0"), ("Description", ""))),
}

#: The request body of each POST method.
BODIES: Final[dict[str, type[BaseModel]]] = {
    "RegisterInfo": RegisterInfoRequest,
    "GetTrackingCodeInfo": GetTrackingCodeInfoRequest,
    "IssueCertificateByTrackingCode": IssueCertificateRequest,
    "RevokeCertificate": RevokeCertificateRequest,
    "IsApproved": IsApprovedRequest,
    "RequestApprove": RequestApproveRequest,
    "RecievedCertConfirmation": RecievedCertConfirmationRequest,
    "GetUserCertHistory": GetUserCertHistoryRequest,
    "IssuingReport": IssuingReportRequest,
    "GetCredit": GetCreditRequest,
}

#: The query parameters of each GET method (bound case-insensitively).
QUERY: Final[dict[str, list[str]]] = {
    "GetCAList": ["Customercode"],
    "GetCAProfileInfo": ["Customercode", "caName"],
    "IsAvailable": ["caName"],
    "GetAllCert": ["SerialNumber"],
    "GetAllMobileCert": ["NationalCode", "TrackingCode", "CAName", "CustomerCode"],
}

#: What a method's 200 answers, where more is to say than "the method's body".
SAYS: Final[dict[str, str]] = {
    "GetAllCert": "the active certificates ([] when there are none); ErrorCode 1103 when "
    "SerialNumber (the person's national code or national id) is missing",
    "GetAllMobileCert": "the active certificates ([] when there are none); ErrorCode 1103 when "
    "neither NationalCode nor TrackingCode is given (one of them is mandatory; TrackingCode "
    "wins when both are)",
}
