"""Pydantic models of world records, one per kind: validation for the control plane, the CLI
and imports, and the values lookups return.

Identifiers are canonicalized with :mod:`pishkhan.iran` (Persian digits, spaces and dashes
are accepted on input; the stored form is canonical ASCII). Jalali dates are accepted as
``13600331``, ``1360/03/31`` or ``1360-03-31`` and stored compact. Validation errors name the
field and say what is wrong.

Lookups build these models with ``model_construct`` (no validation) from database rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Final, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import Table

from pishkhan.iran import (
    Bank,
    by_bin,
    by_jibit_id,
    by_key,
    by_payman_code,
    by_sheba_code,
    canonicalize,
    fold_arabic_letters,
    is_ascii_digits,
    normalize_mobile,
    parse_card_number,
    parse_iban,
    parse_jalali,
    parse_legal_id,
    parse_mobile,
    parse_national_code,
    parse_postal_code,
)

from . import tables as t
from .layouts import iban_for_deposit

Row = dict[str, Any]

Gender = Literal["MALE", "FEMALE"]
CardType = Literal[
    "DEBIT",
    "CREDIT",
    "SPECIAL",
    "GIFT_CARD",
    "ONLINE_PREPAID",
    "E_MONEY",
    "INSTALLMENT_CARD",
    "UNKNOWN",
]
CardStatus = Literal[
    "ACTIVE",
    "LOST",
    "STOLEN",
    "EXPIRED",
    "INACTIVE",
    "BLACKLISTED",
    "OWNER_NOT_AUTHORIZED",
    "ACCOUNT_NOT_VALID",
]
DepositStatus = Literal["ACTIVE", "BLOCK_WITH_DEPOSIT", "BLOCK_WITHOUT_DEPOSIT", "IDLE", "UNKNOWN"]
AccountType = Literal["SAVINGS", "SHORT_TERM", "LONG_TERM", "CURRENT", "GHARZOLHASANEH"]
OwnerType = Literal["PERSON", "LEGAL"]
OperatorName = Literal["MCI", "MTN_IRANCELL", "RIGHTEL", "OTHER"]
MilitaryStatus = Literal["COMPLETED", "EXEMPT", "EDUCATIONAL_DEFERMENT", "SERVING", "ABSENT"]
LegalStatus = Literal["ACTIVE", "DISSOLVED", "SUSPENDED"]

MILITARY_DEFAULTS: dict[str, tuple[bool, str]] = {
    "COMPLETED": (True, "دارای کارت پایان خدمت"),
    "EXEMPT": (True, "دارای معافیت دائم"),
    "EDUCATIONAL_DEFERMENT": (True, "دارای معافیت تحصیلی"),
    "SERVING": (True, "در حال خدمت"),
    "ABSENT": (False, "مشمول غایب"),
}

# Iran's bounding box (with a margin) for address coordinates.
LAT_RANGE = (24.0, 40.5)
LON_RANGE = (43.5, 63.5)


# -- field helpers ---------------------------------------------------------------------------


def jalali(value: str) -> str:
    """A Jalali date in any accepted form -> ``YYYYMMDD``."""
    return parse_jalali(value).compact()


def jalali_yyyymm(value: str) -> str:
    """``140508``, ``1405/08`` or ``1405-8`` -> ``140508``."""
    text = canonicalize(value).replace("/", "")
    if len(text) == 5 and is_ascii_digits(text):
        text = text[:4] + "0" + text[4]
    if len(text) != 6 or not is_ascii_digits(text) or not 1 <= int(text[4:]) <= 12:
        raise ValueError("expected a Jalali year and month, yyyyMM (e.g. 140508)")
    return text


def national_code_or_legal_id(value: str) -> str:
    """A person's national code (10 digits) or a legal entity's national id (11 digits)."""
    text = canonicalize(value)
    if len(text) == 11:
        return parse_legal_id(value)
    return parse_national_code(value)


def persian_text(value: str) -> str:
    out = " ".join(fold_arabic_letters(value).split())
    if not out:
        raise ValueError("must not be empty")
    return out


def optional_text(value: str | None) -> str | None:
    if value is None:
        return None
    out = " ".join(value.split())
    return out or None


def resolve_bank(value: str) -> Bank:
    """A bank of the table by key (``BLU``), Jibit id (``SAMAN``) or Payman code (``SABCIR``)."""
    text = value.strip().upper()
    bank = by_key(text) or by_jibit_id(text) or by_payman_code(text)
    if bank is None:
        raise ValueError(f"unknown bank {value!r} (use a bank key such as MELLI or BLU)")
    return bank


def parse_fida(value: str) -> str:
    """FIDA (شناسه فراگیر اتباع): 10 to 16 digits (issued ones have 12)."""
    text = canonicalize(value)
    if not is_ascii_digits(text) or not 10 <= len(text) <= 16:
        raise ValueError("FIDA must be 10 to 16 digits")
    return text


def guild_code(value: str) -> str:
    """Guild (corporation) code: exactly 10 digits."""
    text = canonicalize(value)
    if not is_ascii_digits(text) or len(text) != 10:
        raise ValueError("guild code must be 10 digits")
    return text


def check(*fields: str, fn: Callable[[Any], Any], optional: bool = False) -> Any:
    """A pydantic field validator applying ``fn`` (``None`` passes through if ``optional``)."""

    def validate(value: Any) -> Any:
        if optional and value is None:
            return None
        return fn(value)

    return field_validator(*fields)(staticmethod(validate))


# -- base ------------------------------------------------------------------------------------


class Record(BaseModel):
    """A world record of one kind."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=False)

    kind: ClassVar[str]
    table: ClassVar[Table]
    key_field: ClassVar[str]
    #: Parser for the key (used to canonicalize keys given on the command line / URL).
    key_parser: ClassVar[Any]

    @property
    def key(self) -> str:
        return str(getattr(self, self.key_field))

    def row(self) -> Row:
        """The record as a row of its table."""
        return self.model_dump(mode="python")

    def to_json(self) -> dict[str, Any]:
        """The record as a JSON object (with its ``kind``)."""
        return {"kind": self.kind, **self.model_dump(mode="json")}

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls.model_construct(**dict(row._mapping if hasattr(row, "_mapping") else row))

    @classmethod
    def parse_key(cls, raw: str) -> str:
        try:
            return str(cls.key_parser(raw))
        except ValueError as exc:
            raise ValueError(f"invalid {cls.kind} key {raw!r}: {exc}") from None


# -- kinds -----------------------------------------------------------------------------------


#: From this Jalali date on, a newborn's birth certificate number is their national code.
CERTIFICATE_IS_NATIONAL_CODE_FROM: Final = "13680101"


def birth_certificate_number(national_code: str, birth_date: str, older: Callable[[], str]) -> str:
    """The national code for anyone born since 1368; ``older()`` (called only then) gives an
    older person's number."""
    return national_code if birth_date >= CERTIFICATE_IS_NATIONAL_CODE_FROM else older()


def person_row(
    national_code: str,
    first: tuple[str, str],
    last: tuple[str, str],
    father: tuple[str, str],
    birth_date: str,
    gender: str,
    *,
    certificate: str,
    death_date: str | None = None,
    birth_place: str | None = None,
    postal_code: str | None = None,
    blacklisted: bool = False,
) -> dict[str, Any]:
    """A ``world_people`` row from (Persian, Latin) name pairs."""
    return {
        "national_code": national_code,
        "first_name": first[0],
        "last_name": last[0],
        "first_name_en": first[1],
        "last_name_en": last[1],
        "father_name": father[0],
        "father_name_en": father[1],
        "birth_date": birth_date,
        "gender": gender,
        "alive": death_date is None,
        "death_date": death_date,
        "birth_certificate_number": certificate,
        "birth_place": birth_place,
        "postal_code": postal_code,
        "blacklisted": blacklisted,
    }


class PersonRecord(Record):
    kind: ClassVar[str] = "person"
    table: ClassVar[Table] = t.world_people
    key_field: ClassVar[str] = "national_code"
    key_parser: ClassVar[Any] = staticmethod(parse_national_code)

    national_code: str
    first_name: str
    last_name: str
    first_name_en: str
    last_name_en: str
    father_name: str
    father_name_en: str = ""
    birth_date: str
    gender: Gender
    alive: bool | None = None
    death_date: str | None = None
    birth_certificate_number: str | None = None
    birth_place: str | None = None
    postal_code: str | None = None
    blacklisted: bool = False

    v_national = check("national_code", fn=parse_national_code)
    v_names = check("first_name", "last_name", "father_name", fn=persian_text)
    v_latin = check(
        "first_name_en", "last_name_en", "father_name_en", fn=lambda v: " ".join(v.split())
    )
    v_dates = check("birth_date", "death_date", fn=jalali, optional=True)
    v_postal = check("postal_code", fn=parse_postal_code, optional=True)
    v_place = check("birth_place", fn=optional_text)

    @field_validator("birth_certificate_number")
    @classmethod
    def _certificate(cls, v: str | None) -> str | None:
        if v is None:
            return None
        text = canonicalize(v)
        if not is_ascii_digits(text) or len(text) > 10:
            raise ValueError("birth certificate number must be 1 to 10 digits")
        return text

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not self.first_name_en or not self.last_name_en:
            raise ValueError("first_name_en and last_name_en (Latin names) are required")
        if self.death_date is not None:
            if self.alive:
                raise ValueError("a person with a death_date is not alive (alive must be false)")
            self.alive = False
            if self.death_date < self.birth_date:
                raise ValueError("death_date is before birth_date")
        elif self.alive is None:
            self.alive = True
        if self.birth_certificate_number is None:
            # Since 1368 the birth certificate number is the national code.
            self.birth_certificate_number = self.national_code
        return self


class SimRecord(Record):
    kind: ClassVar[str] = "sim"
    table: ClassVar[Table] = t.world_sims
    key_field: ClassVar[str] = "mobile"
    key_parser: ClassVar[Any] = staticmethod(normalize_mobile)

    mobile: str
    national_code: str
    operator: OperatorName | None = None
    blacklisted: bool = False

    v_mobile = check("mobile", fn=normalize_mobile)
    v_national = check("national_code", fn=parse_national_code)

    @model_validator(mode="after")
    def _operator(self) -> Self:
        if self.operator is None:
            self.operator = parse_mobile(self.mobile).operator.value
        return self


class CardRecord(Record):
    kind: ClassVar[str] = "card"
    table: ClassVar[Table] = t.world_cards
    key_field: ClassVar[str] = "number"
    key_parser: ClassVar[Any] = staticmethod(lambda v: parse_card_number(v).number)

    number: str
    bank: str | None = None
    type: CardType = "DEBIT"
    status: CardStatus = "ACTIVE"
    expiry: str = "140912"
    holder_national_code: str | None = None
    deposit_iban: str | None = None

    v_number = check("number", fn=lambda v: parse_card_number(v).number)
    v_expiry = check("expiry", fn=jalali_yyyymm)
    v_holder = check("holder_national_code", fn=national_code_or_legal_id, optional=True)
    v_iban = check("deposit_iban", fn=lambda v: parse_iban(v).value, optional=True)

    @model_validator(mode="after")
    def _bank(self) -> Self:
        bin_bank = by_bin(self.number)
        if self.bank is None or self.bank.upper() == "UNKNOWN":
            self.bank = bin_bank.key if bin_bank is not None else "UNKNOWN"
            return self
        bank = resolve_bank(self.bank)
        if bin_bank is not None and bank.jibit_id != bin_bank.jibit_id:
            raise ValueError(
                f"bank {bank.key} does not match the card's BIN {self.number[:6]} ({bin_bank.key})"
            )
        self.bank = bank.key
        return self


class OwnerRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    national_code: str
    owner_type: OwnerType | None = None

    v_code = check("national_code", fn=national_code_or_legal_id)

    @model_validator(mode="after")
    def _type(self) -> Self:
        inferred = "LEGAL" if len(self.national_code) == 11 else "PERSON"
        if self.owner_type is None:
            self.owner_type = inferred  # type: ignore[assignment]
        elif self.owner_type != inferred:
            raise ValueError(f"owner_type {self.owner_type} does not fit {self.national_code}")
        return self


class DepositRecord(Record):
    kind: ClassVar[str] = "deposit"
    table: ClassVar[Table] = t.world_deposits
    key_field: ClassVar[str] = "iban"
    key_parser: ClassVar[Any] = staticmethod(lambda v: parse_iban(v).value)

    iban: str | None = None
    bank: str
    deposit_number: str
    status: DepositStatus = "ACTIVE"
    account_type: AccountType = "SHORT_TERM"
    joint: bool | None = None
    balance: int = Field(default=0, ge=0)
    opened_on: str | None = None
    owners: list[OwnerRecord] = Field(default_factory=list)

    v_iban = check("iban", fn=lambda v: parse_iban(v).value, optional=True)
    v_opened = check("opened_on", fn=jalali, optional=True)

    @field_validator("deposit_number")
    @classmethod
    def _number(cls, v: str) -> str:
        text = "".join(v.split())
        digits = sum(ch.isdigit() for ch in text)
        if not text or digits == 0 or digits > 19:
            raise ValueError("deposit_number must have 1 to 19 digits")
        if any(not (ch.isascii() and (ch.isdigit() or ch in "-./")) for ch in text):
            raise ValueError("deposit_number may hold only digits and - . / separators")
        if len(text) == 16 and text.isdigit():
            raise ValueError("that is a card number, not a deposit number")
        return text

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        bank = resolve_bank(self.bank)
        self.bank = bank.key
        expected = iban_for_deposit(bank, self.deposit_number)
        if self.iban is None:
            self.iban = expected
        else:
            iban_bank = by_sheba_code(self.iban[4:7])
            if iban_bank is None or iban_bank.jibit_id != bank.jibit_id:
                raise ValueError(f"IBAN {self.iban} does not belong to bank {bank.key}")
        seen: set[str] = set()
        for owner in self.owners:
            if owner.national_code in seen:
                raise ValueError(f"owner {owner.national_code} is listed twice")
            seen.add(owner.national_code)
        joint = len(self.owners) > 1
        if self.joint is None:
            self.joint = joint
        elif self.joint != joint:
            raise ValueError("joint must be true exactly when the deposit has several owners")
        return self

    def row(self) -> Row:
        return self.model_dump(mode="python", exclude={"owners"})

    def owner_rows(self) -> list[Row]:
        return [
            {
                "iban": self.iban,
                "position": i,
                "national_code": o.national_code,
                "owner_type": o.owner_type,
            }
            for i, o in enumerate(self.owners, start=1)
        ]

    @classmethod
    def from_row(cls, row: Any, owners: list[Row] | None = None) -> Self:
        data = dict(row._mapping if hasattr(row, "_mapping") else row)
        data["owners"] = [
            OwnerRecord.model_construct(
                national_code=o["national_code"], owner_type=o["owner_type"]
            )
            for o in owners or []
        ]
        return cls.model_construct(**data)


class AddressRecord(Record):
    kind: ClassVar[str] = "address"
    table: ClassVar[Table] = t.world_addresses
    key_field: ClassVar[str] = "postal_code"
    key_parser: ClassVar[Any] = staticmethod(parse_postal_code)

    postal_code: str
    province: str
    district: str
    city: str
    locality: str | None = None
    street: str
    number: str
    floor: str = "همکف"
    unit: str | None = None
    address: str | None = None
    latitude: float = Field(ge=LAT_RANGE[0], le=LAT_RANGE[1])
    longitude: float = Field(ge=LON_RANGE[0], le=LON_RANGE[1])

    v_postal = check("postal_code", fn=parse_postal_code)
    v_texts = check("province", "district", "city", "street", "number", "floor", fn=persian_text)
    v_optional = check("locality", "unit", "address", fn=optional_text)

    @model_validator(mode="after")
    def _full(self) -> Self:
        if self.address is None:
            parts = [self.province, self.city]
            if self.locality:
                parts.append(self.locality)
            parts += [self.street, f"پلاک {self.number}"]
            parts.append("همکف" if self.floor == "همکف" else f"طبقه {self.floor}")
            if self.unit:
                parts.append(f"واحد {self.unit}")
            self.address = "، ".join(parts)
        return self


class DocumentRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: str = Field(min_length=1)
    code: str = Field(min_length=1)
    issue_date: str | None = None
    expiration_date: str | None = None

    v_dates = check("issue_date", "expiration_date", fn=jalali, optional=True)


class ForeignerRecord(Record):
    kind: ClassVar[str] = "foreigner"
    table: ClassVar[Table] = t.world_foreigners
    key_field: ClassVar[str] = "fida"
    key_parser: ClassVar[Any] = staticmethod(parse_fida)

    fida: str
    first_name: str
    last_name: str
    father_name: str | None = None
    ancestor_name: str | None = None
    birth_date: str | None = None
    gender: Literal["MALE", "FEMALE", "UNKNOWN"] = "UNKNOWN"
    birth_place_country: str | None = None
    birth_place_city: str | None = None
    nationality: str
    documents: list[DocumentRecord] = Field(default_factory=list)
    blacklisted: bool = False

    v_fida = check("fida", fn=parse_fida)
    v_names = check("first_name", "last_name", "nationality", fn=persian_text)
    v_optional = check(
        "father_name", "ancestor_name", "birth_place_country", "birth_place_city", fn=optional_text
    )
    v_birth = check("birth_date", fn=jalali, optional=True)

    @classmethod
    def from_row(cls, row: Any) -> Self:
        data = dict(row._mapping if hasattr(row, "_mapping") else row)
        data["documents"] = [DocumentRecord.model_construct(**d) for d in data["documents"] or []]
        return cls.model_construct(**data)


def _bool_text(value: str) -> str:
    text = value.strip().lower()
    if text not in ("true", "false"):
        raise ValueError("must be 'true' or 'false'")
    return text


class GuildRecord(Record):
    kind: ClassVar[str] = "guild"
    table: ClassVar[Table] = t.world_guilds
    key_field: ClassVar[str] = "code"
    key_parser: ClassVar[Any] = staticmethod(guild_code)

    code: str
    lic_issue_date: str | None = None
    lic_expire_date: str | None = None
    lic_type: str | None = None
    lic_time: str | None = None
    address: str | None = None
    blue_plaque: str | None = None
    registered_plaque: str | None = None
    postal_code: str | None = None
    area: int | None = Field(default=None, ge=0)
    union_name: str | None = None
    union_id: int | None = None
    guild_id: int | None = None
    convent_id: int | None = None
    convent_name: str | None = None
    city_id: int | None = None
    board_title: str | None = None
    corporate_identity: str | None = None
    lic_state: str | None = None
    tel: str | None = None
    isic: str | None = None
    company_national_code: str | None = None
    isic_name: str | None = None
    hc_license_request_type_name: str | None = None
    has_expire_letter: str | None = None
    expire_letter_date: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    father_name: str | None = None
    national_code: str | None = None
    is_male: str | None = None
    mobile: str | None = None
    type_name: str | None = None
    type_code: str | None = None
    birth_date: str | None = None
    identity_no: str | None = None
    country: str | None = None
    religion: str | None = None
    military_state: str | None = None
    education_level: str | None = None

    v_code = check("code", fn=guild_code)
    v_national = check("national_code", fn=parse_national_code, optional=True)
    v_company = check("company_national_code", fn=parse_legal_id, optional=True)
    v_postal = check("postal_code", fn=parse_postal_code, optional=True)
    v_mobile = check("mobile", fn=normalize_mobile, optional=True)
    v_slashed = check(
        "lic_issue_date",
        "lic_expire_date",
        "expire_letter_date",
        "birth_date",
        fn=lambda v: parse_jalali(v).slashed(),
        optional=True,
    )
    v_bools = check("is_male", "has_expire_letter", fn=_bool_text, optional=True)


class MilitaryRecord(Record):
    kind: ClassVar[str] = "military"
    table: ClassVar[Table] = t.world_military
    key_field: ClassVar[str] = "national_code"
    key_parser: ClassVar[Any] = staticmethod(parse_national_code)

    national_code: str
    status: MilitaryStatus
    qualified: bool | None = None
    description: str | None = None

    v_national = check("national_code", fn=parse_national_code)

    @model_validator(mode="after")
    def _defaults(self) -> Self:
        qualified, description = MILITARY_DEFAULTS[self.status]
        if self.qualified is None:
            self.qualified = qualified
        if not self.description:
            self.description = description
        return self


class SanaRecord(Record):
    kind: ClassVar[str] = "sana"
    table: ClassVar[Table] = t.world_sana
    key_field: ClassVar[str] = "national_code"
    key_parser: ClassVar[Any] = staticmethod(parse_national_code)

    national_code: str
    registered: bool
    registered_on: str | None = None

    v_national = check("national_code", fn=parse_national_code)
    v_date = check("registered_on", fn=jalali, optional=True)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not self.registered and self.registered_on is not None:
            raise ValueError("registered_on is set but registered is false")
        return self


class LegalEntityRecord(Record):
    kind: ClassVar[str] = "legal_entity"
    table: ClassVar[Table] = t.world_legal_entities
    key_field: ClassVar[str] = "national_id"
    key_parser: ClassVar[Any] = staticmethod(parse_legal_id)

    national_id: str
    name: str
    name_en: str | None = None
    registration_number: str
    registration_date: str
    entity_type: str
    status: LegalStatus = "ACTIVE"
    postal_code: str | None = None
    manager_national_code: str | None = None

    v_id = check("national_id", fn=parse_legal_id)
    v_name = check("name", "entity_type", fn=persian_text)
    v_date = check("registration_date", fn=jalali)
    v_postal = check("postal_code", fn=parse_postal_code, optional=True)
    v_manager = check("manager_national_code", fn=parse_national_code, optional=True)

    @field_validator("registration_number")
    @classmethod
    def _registration(cls, v: str) -> str:
        text = canonicalize(v)
        if not is_ascii_digits(text) or len(text) > 20:
            raise ValueError("registration_number must be 1 to 20 digits")
        return text


class BankStateRecord(Record):
    kind: ClassVar[str] = "bank"
    table: ClassVar[Table] = t.world_banks
    key_field: ClassVar[str] = "bank"
    key_parser: ClassVar[Any] = staticmethod(lambda v: resolve_bank(v).key)

    bank: str
    active: bool = True
    provider_active: bool = True
    card_to_iban_available: bool = True

    v_bank = check("bank", fn=lambda v: resolve_bank(v).key)


#: Every kind, in dependency order (import and insert order).
KINDS: dict[str, type[Record]] = {
    cls.kind: cls
    for cls in (
        PersonRecord,
        SimRecord,
        AddressRecord,
        LegalEntityRecord,
        BankStateRecord,
        DepositRecord,
        CardRecord,
        ForeignerRecord,
        GuildRecord,
        MilitaryRecord,
        SanaRecord,
    )
}
