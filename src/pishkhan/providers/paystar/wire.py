"""Paystar's wire: the models of what comes in and goes out (the document's exact snake_case
field names), from which the surface's OpenAPI document is generated, and the reading of a
request's fields and the rendering of an answer.

Requests are read tolerantly (:func:`text_field`): a body is a JSON object or a form; a field
may be a JSON string or a JSON integer (PHP clients send numeric ids as numbers); surrounding
whitespace is ignored; an empty value counts as absent. The rules read the fields in their own
order (the first failing check decides the status), so the request models describe the wire for
the document and do not parse it.

Every answer is ``{"status": <int>, "data": <object|null>, "message": "<Persian>"}``; business
outcomes come back with HTTP 200 (clients check ``status === 1``), a server error with HTTP 500
and status 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, RootModel
from starlette.requests import Request
from starlette.responses import Response

from .errors import TABLE_MESSAGES, Status, http_status_of, message_of

#: Services of the open-banking matching surface (also the billing service names).
MOBILE_NATIONAL_ID: Final = "mobile-national-id"
CARD_NATIONAL_ID: Final = "card-national-id"
IBAN_NATIONAL_ID: Final = "iban-national-id"
SERVICES: Final[tuple[str, ...]] = (MOBILE_NATIONAL_ID, CARD_NATIONAL_ID, IBAN_NATIONAL_ID)

_FORM_TYPES: Final = ("application/x-www-form-urlencoded", "multipart/form-data")
#: The media types a request body is read from (JSON, or a form as Laravel reads them).
BODY_MEDIA: Final = ("application/json", *_FORM_TYPES)

# -- in -------------------------------------------------------------------------------------

Fields = dict[str, Any]


async def read_fields(request: Request) -> Fields | None:
    """The request's fields: a JSON object or a form; None when the body is malformed."""
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith(_FORM_TYPES):
        try:
            form = await request.form()
        except Exception:  # a malformed form is bad input, not a server error
            return None
        return {k: v for k, v in form.items() if isinstance(v, str)}
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def text_field(fields: Fields, name: str) -> str | None:
    """A string field that may arrive as a string or an integer; None when absent or empty."""
    value = fields.get(name)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


StrOrInt = str | int


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


#: Each matching service's request body.
MATCH_REQUESTS: Final[dict[str, type[Credentials]]] = {
    MOBILE_NATIONAL_ID: MobileNationalIdRequest,
    CARD_NATIONAL_ID: CardNationalIdRequest,
    IBAN_NATIONAL_ID: IbanNationalIdRequest,
}

# -- out ------------------------------------------------------------------------------------


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


def _message_of_each_status(schema: dict[str, Any]) -> None:
    # Each status comes with its own line of the table.
    schema["oneOf"] = [
        {"properties": {"status": {"const": n}, "message": {"const": TABLE_MESSAGES[Status(n)]}}}
        for n in range(2, 14)
    ]


class FailureResponse(BaseModel):
    """A business failure (HTTP 200): the status and its message in the status table."""

    model_config = ConfigDict(json_schema_extra=_message_of_each_status)

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


def _one_of(schema: dict[str, Any]) -> None:
    # Success (status 1) and failure (2..13) exclude each other: exactly one holds.
    schema["oneOf"] = schema.pop("anyOf")


class RefreshApiKeyAnswer(RootModel[RefreshApiKeyResponse | FailureResponse]):
    """Every business outcome of refresh-api-key (HTTP 200): a new key or a failure."""

    model_config = ConfigDict(json_schema_extra=_one_of)


class MatchAnswer(RootModel[MatchResponse | FailureResponse]):
    """Every business outcome of a matching call (HTTP 200): is_matched or a failure."""

    model_config = ConfigDict(json_schema_extra=_one_of)


@dataclass(frozen=True)
class Outcome:
    """What a rule answers: a status and, on success, its data."""

    status: Status
    data: ApiKeyData | MatchData | None = None


def render(outcome: Outcome) -> Response:
    body = {
        "status": int(outcome.status),
        "data": None if outcome.data is None else outcome.data.model_dump(),
        "message": message_of(outcome.status),
    }
    return Response(
        orjson.dumps(body),
        status_code=http_status_of(outcome.status),
        media_type="application/json",
    )
