"""Paystar wire models, with the document's exact (snake_case) field names.

Requests are read tolerantly (:func:`text_field`): a field may be a JSON string or a JSON
integer (PHP clients send numeric ids as numbers); surrounding whitespace is ignored; an empty
value counts as absent. The pydantic models below describe the wire for the OpenAPI document.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .errors import TABLE_MESSAGES, Status

StrOrInt = str | int

#: Services of the open-banking matching surface (also the billing service names).
MOBILE_NATIONAL_ID = "mobile-national-id"
CARD_NATIONAL_ID = "card-national-id"
IBAN_NATIONAL_ID = "iban-national-id"
SERVICES: tuple[str, ...] = (MOBILE_NATIONAL_ID, CARD_NATIONAL_ID, IBAN_NATIONAL_ID)


def text_field(body: dict[str, Any], name: str) -> str | None:
    """A string field that may arrive as a string or an integer; None when absent or empty."""
    value = body.get(name)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow")


class Credentials(_Wire):
    application_id: StrOrInt = Field(description="شناسه اپلیکیشن (application id)")
    access_password: str = Field(description="رمز دسترسی اپلیکیشن (access password)")


class RefreshApiKeyRequest(Credentials):
    refresh_token: str = Field(description="توکن بازیابی API key (refresh token)")


class MobileNationalIdRequest(Credentials):
    national_id: StrOrInt = Field(description="کد ملی: 10 digits with a valid check digit")
    mobile_number: StrOrInt = Field(
        description="شماره موبایل: 09xxxxxxxxx, 9xxxxxxxxx, +989xxxxxxxxx or 00989xxxxxxxxx"
    )


def _birth_date_field() -> Any:
    return Field(
        pattern=r"^\d{4}-\d{2}-\d{2}$",
        description="تاریخ تولد میلادی, exactly Y-m-d (e.g. 1981-06-21), not in the future",
    )


class CardNationalIdRequest(Credentials):
    national_id: StrOrInt = Field(description="کد ملی")
    card_number: StrOrInt = Field(description="شماره کارت: 16 digits, Luhn-valid")
    birth_date: str = _birth_date_field()


class IbanNationalIdRequest(Credentials):
    national_id: StrOrInt = Field(description="کد ملی")
    iban: str = Field(description="شبا: IR + 24 digits (the 24 digits alone are accepted)")
    birth_date: str = _birth_date_field()


class ApiKeyData(BaseModel):
    api_key: str
    api_key_expire_date: str = Field(
        pattern=r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$",
        description="Tehran time, YYYY-MM-DD HH:MM:SS; the key is valid 24 hours",
    )


SuccessMessage = Literal["درخواست با موفقیت انجام شد"]


class RefreshApiKeyResponse(BaseModel):
    status: Literal[1]
    data: ApiKeyData
    message: SuccessMessage


class MatchData(BaseModel):
    is_matched: bool


class MatchResponse(BaseModel):
    status: Literal[1]
    data: MatchData
    message: SuccessMessage


class FailureResponse(BaseModel):
    """A business failure (HTTP 200)."""

    status: Literal[2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]
    data: None
    message: str = Field(
        description="the status table's Persian text for this status",
        json_schema_extra={
            "enum": [TABLE_MESSAGES[Status(n)] for n in range(2, 14)],
        },
    )


class ServerErrorResponse(BaseModel):
    """A server error (HTTP 500)."""

    status: Literal[0]
    data: None
    message: Literal["خطای سرور"]
