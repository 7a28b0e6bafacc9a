"""Wire schemas of the Jibit surface (JSON Schema, for the OpenAPI 3.1 document).

The handlers build their bodies by hand (orjson, no pydantic on the hot path); these schemas
describe exactly those bodies, with the document's field names and casing.
"""

from __future__ import annotations

from typing import Any, Final

from pishkhan import iran
from pishkhan.providers.jibit.errors import CATALOGUE
from pishkhan.world.tables import CARD_TYPES, DEPOSIT_STATUSES, FOREIGNER_GENDERS

Schema = dict[str, Any]

STR: Final[Schema] = {"type": "string"}
BOOL: Final[Schema] = {"type": "boolean"}
INT: Final[Schema] = {"type": "integer"}
NULLABLE_STR: Final[Schema] = {"type": ["string", "null"]}
JIBIT_BANKS: Final = sorted(iran.jibit_ids() | {"UNKNOWN"})


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(props: dict[str, Schema], required: list[str] | None = None, **extra: Any) -> Schema:
    return {
        "type": "object",
        "properties": props,
        "required": list(props) if required is None else required,
        **extra,
    }


BANK: Final[Schema] = {"type": "string", "enum": JIBIT_BANKS}
CARD_TYPE: Final[Schema] = {"type": "string", "enum": list(CARD_TYPES)}

COMPONENTS: Final[dict[str, Schema]] = {
    "Error": obj(
        {
            "code": {"type": "string", "enum": sorted(CATALOGUE)},
            "message": {"type": "string", "description": "Persian, as the document words it"},
        },
        additionalProperties=False,
    ),
    "TokenRequest": obj({"apiKey": STR, "secretKey": STR}),
    "RefreshRequest": obj({"accessToken": STR, "refreshToken": STR}),
    "TokenPair": obj({"accessToken": STR, "refreshToken": STR}, additionalProperties=False),
    "CardInfo": obj(
        {"bank": BANK, "type": CARD_TYPE, "ownerName": STR, "depositNumber": STR},
        additionalProperties=False,
    ),
    "CardInquiry": obj({"number": STR, "cardInfo": ref("CardInfo")}, additionalProperties=False),
    "DepositInfo": obj({"bank": BANK, "depositNumber": STR}, additionalProperties=False),
    "CardToDeposit": obj(
        {"number": STR, "type": CARD_TYPE, "depositInfo": ref("DepositInfo")},
        additionalProperties=False,
    ),
    "Owner": obj({"firstName": STR, "lastName": STR}, additionalProperties=False),
    "IbanInfo": obj(
        {
            "bank": BANK,
            "depositNumber": STR,
            "iban": STR,
            "status": {"type": "string", "enum": list(DEPOSIT_STATUSES)},
            "owners": {"type": "array", "items": ref("Owner")},
        },
        additionalProperties=False,
    ),
    "CardToIban": obj(
        {"number": STR, "type": CARD_TYPE, "ibanInfo": ref("IbanInfo")},
        additionalProperties=False,
    ),
    "CardResponse": {
        "oneOf": [ref("CardInquiry"), ref("CardToDeposit"), ref("CardToIban")],
        "description": "CardInquiry without flags, CardToDeposit with deposit=true, "
        "CardToIban with iban=true",
    },
    "IbanInquiry": obj({"value": STR, "ibanInfo": ref("IbanInfo")}, additionalProperties=False),
    "DepositToIBANInfo": obj({"bank": BANK, "iban": STR}, additionalProperties=False),
    "DepositToIban": obj(
        {"number": STR, "depositToIBANInfo": ref("DepositToIBANInfo"), "ibanInfo": ref("IbanInfo")},
        additionalProperties=False,
    ),
    "AvailabilityReport": obj(
        {
            "availabilityReport": {
                "type": "object",
                "description": "bank id -> AVAILABLE or NOT_AVAILABLE",
                "additionalProperties": {"type": "string", "enum": ["AVAILABLE", "NOT_AVAILABLE"]},
            }
        },
        additionalProperties=False,
    ),
    "Matching": obj({"matched": BOOL}, additionalProperties=False),
    "MatchingRequest": {
        "type": "object",
        "description": "The same parameters as the query string (POST, or GET with a JSON body); "
        "the query string wins when both are present.",
        "properties": {
            k: STR
            for k in (
                "cardNumber",
                "bank",
                "depositNumber",
                "iban",
                "nationalCode",
                "birthDate",
                "name",
                "mobileNumber",
            )
        },
    },
    "AddressInfo": obj(
        {
            "postalCode": STR,
            "address": STR,
            "Province": STR,
            "district": STR,
            "street": STR,
            "no": STR,
            "floor": STR,
            "province": STR,
            "city": STR,
            "number": STR,
        },
        additionalProperties=False,
    ),
    "PostalInquiry": obj(
        {"code": STR, "addressInfo": ref("AddressInfo")}, additionalProperties=False
    ),
    "WGSInfo": obj(
        {"postalCode": STR, "latitude": {"type": "number"}, "longitude": {"type": "number"}},
        additionalProperties=False,
    ),
    "WgsInquiry": obj({"code": STR, "wgsInfo": ref("WGSInfo")}, additionalProperties=False),
    "SimilarityRequest": {
        "type": "object",
        "properties": {
            k: STR
            for k in (
                "nationalCode",
                "birthDate",
                "firstName",
                "lastName",
                "fullName",
                "fatherName",
                "checkAliveness",
            )
        },
    },
    "Similarity": obj(
        {
            k: {"type": "integer", "minimum": 0, "maximum": 100}
            for k in (
                "firstNameSimilarityPercentage",
                "lastNameSimilarityPercentage",
                "fullNameSimilarityPercentage",
                "fatherNameSimilarityPercentage",
            )
        },
        required=[],
        additionalProperties=False,
        description="one percentage per name supplied",
    ),
    "IdentificationDocument": obj(
        {
            "type": NULLABLE_STR,
            "code": NULLABLE_STR,
            "issueDate": NULLABLE_STR,
            "expirationDate": NULLABLE_STR,
        },
        additionalProperties=False,
    ),
    "ForeignerIdentityInfo": obj(
        {
            "fida": STR,
            "firstName": STR,
            "lastName": STR,
            "fatherName": NULLABLE_STR,
            "birthDate": NULLABLE_STR,
            "ancestorName": NULLABLE_STR,
            "gender": {"type": "string", "enum": list(FOREIGNER_GENDERS)},
            "birthPlaceCountry": NULLABLE_STR,
            "birthPlaceCity": NULLABLE_STR,
            "nationality": STR,
            "identificationDocuments": {"type": "array", "items": ref("IdentificationDocument")},
        },
        additionalProperties=False,
    ),
    "ForeignerInquiry": obj(
        {"fida": STR, "foreignerIdentityInfo": ref("ForeignerIdentityInfo")},
        additionalProperties=False,
    ),
    "MilitaryServiceQualification": obj(
        {"nationalCode": STR, "qualified": BOOL, "description": STR, "providerTrackerId": STR},
        additionalProperties=False,
    ),
    "MilitaryInquiry": obj(
        {
            "nationalCode": STR,
            "militaryServiceQualificationInfo": ref("MilitaryServiceQualification"),
        },
        additionalProperties=False,
    ),
    "SanaInquiry": obj(
        {"nationalCode": STR, "mobileNumber": STR, "registered": BOOL, "matched": BOOL},
        additionalProperties=False,
    ),
    "Balance": obj(
        {"balanceType": {"type": "string", "enum": ["PRF", "POF"]}, "currency": STR, "amount": INT},
        additionalProperties=False,
    ),
    "Balances": obj(
        {"balances": {"type": "array", "items": ref("Balance")}}, additionalProperties=False
    ),
    "ServiceUsage": obj(
        {"Service": STR, "persianName": STR, "count": INT}, additionalProperties=False
    ),
    "Report": obj(
        {"services": {"type": "array", "items": ref("ServiceUsage")}}, additionalProperties=False
    ),
    "DailyReport": obj(
        {"report": {"type": "array", "items": ref("Report")}}, additionalProperties=False
    ),
    "Health": obj(
        {"outcome": {"type": "string", "enum": ["UP"]}, "checks": {"type": "array", "items": {}}},
        additionalProperties=False,
    ),
}


def guild_schema(fields: tuple[tuple[str, str], ...]) -> Schema:
    longs = {"area", "unionId", "guildId", "conventId", "cityId"}
    props: dict[str, Schema] = {k: (INT if k in longs else STR) for k, _ in fields}
    props["providerTrackerId"] = STR
    return obj(
        props,
        required=["providerTrackerId"],
        additionalProperties=False,
        description="fields the registry does not have are omitted",
    )
