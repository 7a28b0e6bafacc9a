"""The Jibit wire: request parsing, and the models of the bodies the document is made of.

* Parsing. Parameters arrive as a flat mapping (query string, JSON body, or both: the query
  wins). A value that is missing, ``null``, empty or the literal string ``None`` is absent.
  Identifiers are validated with :mod:`pishkhan.iran` (checksums, Luhn, mod-97, Jalali dates);
  each bad value raises the :class:`JibitError` the document gives it.
* Answers. The rules (``cards``, ``ibans``, ``matching`` ...) build each answer body as a plain
  dict with the document's field names and casing, serialised with orjson: no model on the hot
  path. The few bodies that are not one rule's (token pair, health, a guild's fields) are here.
* Models. The pydantic models below describe those bodies (and the request bodies) exactly;
  the surface's OpenAPI document is generated from them (``routes.openapi``), and
  ``tests/wire/jibit/test_jibit_wire_models.py`` checks every route's answers against them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Final, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, RootModel, WithJsonSchema, create_model

from pishkhan import iran
from pishkhan.iran import InvalidIdentifier
from pishkhan.iran.canonical import fold_digits
from pishkhan.providers.jibit.errors import CATALOGUE, JibitError
from pishkhan.world.tables import CARD_TYPES, DEPOSIT_STATUSES, FOREIGNER_GENDERS

Params = Mapping[str, Any]
Body = dict[str, Any]
Schema = dict[str, Any]

# -- request parsing ------------------------------------------------------------------------

_ABSENT: Final = frozenset({"", "None", "none", "null"})
_TRUE: Final = frozenset({"true", "True", "TRUE", "1", "yes"})
_FALSE: Final = frozenset({"false", "False", "FALSE", "0", "no", "", "None", "null"})
_DEPOSIT_RE: Final = re.compile(r"[0-9][0-9./-]{0,39}", re.ASCII)
_DIGITS10: Final = re.compile(r"[0-9]{10}", re.ASCII)
_FIDA_RE: Final = re.compile(r"[0-9]{6,16}", re.ASCII)
MAX_NAME: Final = 200
MAX_API_KEY: Final = 64
MAX_SECRET_KEY: Final = 128
MAX_TRACK_ID: Final = 50


def track_id(raw: str | None) -> str | None:
    """The ``X-TRACK-ID`` as usage events keep it (at most :data:`MAX_TRACK_ID` characters)."""
    return raw[:MAX_TRACK_ID] if raw else None


def merged_params(query: Mapping[str, str], raw_body: bytes | None) -> dict[str, Any]:
    """Query parameters; with ``raw_body`` (matching, similarity) also a JSON object body (the
    query wins). A body that is not a JSON object is refused unless the query has parameters."""
    merged: dict[str, Any] = {}
    if raw_body is not None and raw_body.strip():
        try:
            data = orjson.loads(raw_body)
        except orjson.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            merged.update(data)
        elif not query:
            raise JibitError("invalid.request_body")
    merged.update(query)
    return merged


def json_object(raw: bytes) -> dict[str, Any]:
    """A request body that must be a JSON object (the token endpoints)."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise JibitError("invalid.request_body") from None
    if not isinstance(data, dict):
        raise JibitError("invalid.request_body")
    return data


def _string(data: dict[str, Any], key: str, max_length: int | None = None) -> str:
    value = data.get(key)
    if value is None or value == "":
        raise JibitError(f"{key}.is_required")
    if not isinstance(value, str):
        raise JibitError("invalid.request_body")
    if max_length is not None and len(value) > max_length:
        raise JibitError(f"{key}.length_exceeded")
    return value


def token_request(data: dict[str, Any]) -> tuple[str, str]:
    """``(apiKey, secretKey)`` of a generate request, checked in the document's order."""
    api_key = _string(data, "apiKey", MAX_API_KEY)
    return api_key, _string(data, "secretKey", MAX_SECRET_KEY)


def refresh_request(data: dict[str, Any]) -> tuple[str, str]:
    """``(accessToken, refreshToken)`` of a refresh request."""
    return _string(data, "accessToken"), _string(data, "refreshToken")


def get(params: Params, key: str) -> str | None:
    """The parameter as a stripped string, or None when absent."""
    value = params.get(key)
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).strip()
    return None if text in _ABSENT else text


def flag(params: Params, key: str) -> bool:
    """A boolean flag: true/"true"/1 or false/"false"/0/empty; anything else is a bad request."""
    value = params.get(key)
    if value is None or value is False:
        return False
    if value is True:
        return True
    if isinstance(value, int | float):
        if value in (0, 1):
            return bool(value)
        raise JibitError("invalid.request_body")
    text = str(value).strip()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise JibitError("invalid.request_body")


def _identifier(raw: str | None, field: str, parse: Any, missing: str | None = None) -> Any:
    """``parse(raw)``; ``{field}.is_required`` (or ``missing``) when absent, ``{field}.not_valid``
    when ``parse`` refuses it."""
    if raw is None:
        raise JibitError(missing or f"{field}.is_required")
    try:
        return parse(raw)
    except InvalidIdentifier:
        raise JibitError(f"{field}.not_valid") from None


def card_number(raw: str | None) -> str:
    number: str = _identifier(raw, "card", iran.parse_card_number).number
    return number


def iban(raw: str | None) -> str:
    value: str = _identifier(raw, "iban", iran.parse_iban).value
    return value


def national_code(raw: str | None) -> str:
    code: str = _identifier(raw, "nationalCode", iran.parse_national_code)
    return code


def birth_date(raw: str | None) -> str:
    """A Jalali birth date (``yyyyMMdd``; ``yyyy/MM/dd`` tolerated) in compact form."""
    day: str = _identifier(raw, "birthDate", iran.parse_jalali).compact()
    return day


def mobile(raw: str | None) -> str:
    number: str = _identifier(raw, "mobileNumber", iran.normalize_mobile)
    return number


def postal_code(raw: str | None) -> str:
    code: str = _identifier(raw, "postalCode", iran.parse_postal_code, "postalCode.not_valid")
    return code


def bank(raw: str | None) -> tuple[str, ...]:
    """The table rows (bank keys) of a Jibit bank id (upper case as documented; lower case
    tolerated)."""
    if raw is None:
        raise JibitError("bank.not_valid")
    jibit_id = raw.strip().upper()
    if iran.by_jibit_id(jibit_id) is None:
        raise JibitError("bank.not_valid")
    return tuple(b.key for b in iran.banks_for_jibit_id(jibit_id))


def deposit_number(raw: str | None) -> str:
    """An account number as the bank formats it; an IBAN or a card number is refused."""
    if raw is None:
        raise JibitError("deposit.is_required")
    text = fold_digits(raw).replace(" ", "")
    if iran.is_valid_iban(text):
        raise JibitError("iban.provided")
    if len(text) == 16 and text.isascii() and text.isdigit() and iran.luhn_ok(text):
        raise JibitError("card_number.provided")
    if _DEPOSIT_RE.fullmatch(text) is None or sum(ch.isdigit() for ch in text) > 19:
        raise JibitError("deposit.not_valid")
    return text


def _digits(raw: str | None, field: str, pattern: re.Pattern[str]) -> str:
    if raw is None:
        raise JibitError(f"{field}.is_required")
    text = fold_digits(raw).replace(" ", "")
    if pattern.fullmatch(text) is None:
        raise JibitError(f"{field}.not_valid")
    return text


def fida(raw: str | None) -> str:
    return _digits(raw, "fida", _FIDA_RE)


def corporation_code(raw: str | None) -> str:
    return _digits(raw, "corporation_code", _DIGITS10)


def name(raw: str | None) -> str | None:
    if raw is not None and len(raw) > MAX_NAME:
        raise JibitError("invalid.request_body")
    return raw


def card_to_iban_report(query: Params) -> None:
    """The availability report's ``cardToIBAN``: absent or true (the only report there is)."""
    if query.get("cardToIBAN") is not None and not flag(query, "cardToIBAN"):
        raise JibitError("invalid.request_body")


def report_day(raw: str | None, today: date) -> date:
    """The daily report's ``yearMonthDay`` (Jalali ``yyMMdd``) as a Gregorian date."""
    if raw is None:
        raise JibitError("invalid.request_body")
    try:
        return iran.parse_jalali_yymmdd(raw, today).to_gregorian()
    except iran.InvalidIdentifier:
        raise JibitError("invalid.request_body") from None


# -- answer bodies --------------------------------------------------------------------------

HEALTH: Final = b'{"outcome":"UP","checks":[]}'


def token_pair(access: str, refresh: str) -> bytes:
    return orjson.dumps({"accessToken": access, "refreshToken": refresh})


#: CorporationIdentityInfo field -> world_guilds column, in the document's order.
GUILD_FIELDS: Final = (
    ("licIssueDate", "lic_issue_date"),
    ("licExpireDate", "lic_expire_date"),
    ("licType", "lic_type"),
    ("licTime", "lic_time"),
    ("address", "address"),
    ("bluePlaque", "blue_plaque"),
    ("registeredPlaque", "registered_plaque"),
    ("postalCode", "postal_code"),
    ("area", "area"),
    ("unionName", "union_name"),
    ("unionId", "union_id"),
    ("guildId", "guild_id"),
    ("conventId", "convent_id"),
    ("conventName", "convent_name"),
    ("cityId", "city_id"),
    ("boardTitle", "board_title"),
    ("corporateIdentity", "corporate_identity"),
    ("licState", "lic_state"),
    ("tel", "tel"),
    ("isic", "isic"),
    ("companyNationalCode", "company_national_code"),
    ("isicName", "isic_name"),
    ("hcLicenseRequestTypeName", "hc_license_request_type_name"),
    ("hasExpireLetter", "has_expire_letter"),
    ("expireLetterDate", "expire_letter_date"),
    ("code", "code"),
    ("firstName", "first_name"),
    ("lastName", "last_name"),
    ("fatherName", "father_name"),
    ("nationalCode", "national_code"),
    ("isMale", "is_male"),
    ("mobile", "mobile"),
    ("typeName", "type_name"),
    ("typeCode", "type_code"),
    ("birthDate", "birth_date"),
    ("identityNo", "identity_no"),
    ("country", "country"),
    ("religion", "religion"),
    ("militaryState", "military_state"),
    ("educationLevel", "education_level"),
)
#: The guild fields the document types as numbers (``long``).
GUILD_LONGS: Final = frozenset({"area", "unionId", "guildId", "conventId", "cityId"})


def guild_info(row: Mapping[Any, Any], tracker_id: str) -> Body:
    """ "Each field is shown when it is available": absent (null) fields are omitted."""
    info: Body = {k: row[col] for k, col in GUILD_FIELDS if row[col] is not None}
    info["providerTrackerId"] = tracker_id
    return info


# -- models (the document) ------------------------------------------------------------------


def _plain(schema: Schema, _cls: Any = None) -> None:
    """Keep a model's schema as the document writes it: no generated titles, no null
    defaults (an optional field is simply not required)."""
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
        if "default" in prop and prop["default"] is None:
            del prop["default"]


class Answer(BaseModel):
    """An answer body: exactly these fields."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_plain)


class RequestBody(BaseModel):
    """A request body: these fields; others are ignored."""

    model_config = ConfigDict(json_schema_extra=_plain)


JIBIT_BANKS: Final = sorted(iran.jibit_ids() | {"UNKNOWN"})
STR: Final[Schema] = {"type": "string"}
BANK: Final[Schema] = {"type": "string", "enum": JIBIT_BANKS}
FLAG: Final[Schema] = {
    "type": ["boolean", "string", "integer"],
    "description": 'true/"true"/1 or false',
}

Bank = Annotated[str, WithJsonSchema(BANK)]
CardType = Annotated[str, WithJsonSchema({"type": "string", "enum": list(CARD_TYPES)})]
NullableStr = Annotated[str | None, WithJsonSchema({"type": ["string", "null"]})]
Percentage = Annotated[
    int | None, WithJsonSchema({"type": "integer", "minimum": 0, "maximum": 100})
]
Param = Annotated[str | None, WithJsonSchema(STR)]


class Error(Answer):
    code: Annotated[str, WithJsonSchema({"type": "string", "enum": sorted(CATALOGUE)})]
    message: str = Field(description="Persian, as the document words it")


class TokenRequest(RequestBody):
    apiKey: str
    secretKey: str


class RefreshRequest(RequestBody):
    accessToken: str
    refreshToken: str


class TokenPair(Answer):
    accessToken: str
    refreshToken: str


class CardInfo(Answer):
    bank: Bank
    type: CardType
    ownerName: str
    depositNumber: str


class CardInquiry(Answer):
    number: str
    cardInfo: CardInfo


class DepositInfo(Answer):
    bank: Bank
    depositNumber: str


class CardToDeposit(Answer):
    number: str
    type: CardType
    depositInfo: DepositInfo


class Owner(Answer):
    firstName: str
    lastName: str


class IbanInfo(Answer):
    bank: Bank
    depositNumber: str
    iban: str
    status: Annotated[str, WithJsonSchema({"type": "string", "enum": list(DEPOSIT_STATUSES)})]
    owners: list[Owner]


class CardToIban(Answer):
    number: str
    type: CardType
    ibanInfo: IbanInfo


def _one_of(schema: Schema, _cls: Any = None) -> None:
    _plain(schema)
    schema["oneOf"] = schema.pop("anyOf")


class CardResponse(RootModel[CardInquiry | CardToDeposit | CardToIban]):
    """CardInquiry without flags, CardToDeposit with deposit=true, CardToIban with iban=true"""

    model_config = ConfigDict(json_schema_extra=_one_of)


class IbanInquiry(Answer):
    value: str
    ibanInfo: IbanInfo


class DepositToIBANInfo(Answer):
    bank: Bank
    iban: str


class DepositToIban(Answer):
    number: str
    depositToIBANInfo: DepositToIBANInfo
    ibanInfo: IbanInfo


class AvailabilityReport(Answer):
    availabilityReport: dict[str, Literal["AVAILABLE", "NOT_AVAILABLE"]] = Field(
        description="bank id -> AVAILABLE or NOT_AVAILABLE"
    )


class Matching(Answer):
    matched: bool


#: The matching parameters, in the document's order (query string or JSON body).
MATCHING_PARAMS: Final = (
    "cardNumber",
    "bank",
    "depositNumber",
    "iban",
    "nationalCode",
    "birthDate",
    "name",
    "mobileNumber",
)


def _fields(names: tuple[str, ...], kind: Any) -> dict[str, Any]:
    """Optional fields of one kind (absent when not given), for ``create_model``."""
    return {n: (kind, None) for n in names}


MatchingRequest: type[RequestBody] = create_model(
    "MatchingRequest",
    __base__=RequestBody,
    __doc__="The same parameters as the query string (POST, or GET with a JSON body); "
    "the query string wins when both are present.",
    **_fields(MATCHING_PARAMS, Param),
)


class AddressInfo(Answer):
    postalCode: str
    address: str
    Province: str
    district: str
    street: str
    no: str
    floor: str
    # Extra keys one public client reads (harmless to the others).
    province: str
    city: str
    number: str


class PostalInquiry(Answer):
    code: str
    addressInfo: AddressInfo


class WGSInfo(Answer):
    postalCode: str
    latitude: float
    longitude: float


class WgsInquiry(Answer):
    code: str
    wgsInfo: WGSInfo


#: Similarity's request name -> its answer field.
SIMILARITY_FIELDS: Final = (
    ("firstName", "firstNameSimilarityPercentage"),
    ("lastName", "lastNameSimilarityPercentage"),
    ("fullName", "fullNameSimilarityPercentage"),
    ("fatherName", "fatherNameSimilarityPercentage"),
)
SimilarityRequest: type[RequestBody] = create_model(
    "SimilarityRequest",
    __base__=RequestBody,
    **_fields(
        ("nationalCode", "birthDate", *(k for k, _ in SIMILARITY_FIELDS), "checkAliveness"),
        Param,
    ),
)
Similarity: type[Answer] = create_model(
    "Similarity",
    __base__=Answer,
    __doc__="one percentage per name supplied",
    **_fields(tuple(out for _, out in SIMILARITY_FIELDS), Percentage),
)


class IdentificationDocument(Answer):
    type: NullableStr
    code: NullableStr
    issueDate: NullableStr
    expirationDate: NullableStr


class ForeignerIdentityInfo(Answer):
    fida: str
    firstName: str
    lastName: str
    fatherName: NullableStr
    birthDate: NullableStr
    ancestorName: NullableStr
    gender: Annotated[str, WithJsonSchema({"type": "string", "enum": list(FOREIGNER_GENDERS)})]
    birthPlaceCountry: NullableStr
    birthPlaceCity: NullableStr
    nationality: str
    identificationDocuments: list[IdentificationDocument]


class ForeignerInquiry(Answer):
    fida: str
    foreignerIdentityInfo: ForeignerIdentityInfo


def _guild_field(long: bool) -> Any:
    return Annotated[
        (int if long else str) | None, WithJsonSchema({"type": "integer" if long else "string"})
    ]


_GUILD_MODEL_FIELDS: Final[dict[str, Any]] = {
    **{k: (_guild_field(k in GUILD_LONGS), None) for k, _ in GUILD_FIELDS},
    "providerTrackerId": (str, ...),
}
CorporationIdentityInfo: type[Answer] = create_model(
    "CorporationIdentityInfo",
    __base__=Answer,
    __doc__="fields the registry does not have are omitted",
    **_GUILD_MODEL_FIELDS,
)


class CorporationInquiry(Answer):
    code: str
    corporationIdentityInfo: CorporationIdentityInfo  # type: ignore[valid-type]


class MilitaryServiceQualification(Answer):
    nationalCode: str
    qualified: bool
    description: str
    providerTrackerId: str


class MilitaryInquiry(Answer):
    nationalCode: str
    militaryServiceQualificationInfo: MilitaryServiceQualification


class SanaInquiry(Answer):
    nationalCode: str
    mobileNumber: str
    registered: bool
    matched: bool


class Balance(Answer):
    balanceType: Literal["PRF", "POF"]
    currency: str
    amount: int


class Balances(Answer):
    balances: list[Balance]


class ServiceUsage(Answer):
    Service: str
    persianName: str
    count: int


class Report(Answer):
    services: list[ServiceUsage]


class DailyReport(Answer):
    report: list[Report]


class Health(Answer):
    outcome: Annotated[str, WithJsonSchema({"type": "string", "enum": ["UP"]})]
    checks: list[Any]
