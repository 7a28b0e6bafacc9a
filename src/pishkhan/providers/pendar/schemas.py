"""Wire models of the Pendar document, with its exact field names (for the OpenAPI document).

The server binds names case-insensitively; these models show the document's casing."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .signatures import RULES


def _signed(method: str) -> Any:
    """The field carrying ``method``'s request signature, described by its rule."""
    return Field(description=RULES[method].description)


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


def envelope(extra: dict[str, Any], *, result: bool = False) -> dict[str, Any]:
    """A response schema: the method's fields plus ErrorCode/ErrorMessage."""
    props: dict[str, Any] = dict(extra)
    if result:
        props.update({"ResultCode": {"type": "boolean"}, "Message": {"type": "string"}})
    props.update({"ErrorCode": {"type": "integer"}, "ErrorMessage": {"type": "string"}})
    return {"type": "object", "properties": props}
