"""The rules of the Jibit surface (no HTTP): what each inquiry answers from the world.

Each inquiry is a pair: a ``parse_*`` function that validates the parameters (no database) and
returns a ``work(conn)`` closure that reads the world and returns the response body, raising
:class:`JibitError` for a documented error. The routes run ``work`` and the billing in one
transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection, Row

from pishkhan import iran
from pishkhan.core.ids import new_request_id
from pishkhan.providers.jibit import lookups
from pishkhan.providers.jibit import params as p
from pishkhan.providers.jibit.errors import JibitError
from pishkhan.tenants.billing import daily_counts
from pishkhan.tenants.tables import wallets

Body = dict[str, Any]
Work = Callable[[Connection], Body]


@dataclass(frozen=True)
class Service:
    name: str
    persian_name: str
    price: int  # default price in rials; per-customer service_prices rows override it


SERVICES: Final[dict[str, Service]] = {
    s.name: s
    for s in (
        Service("CARD_INQUIRY", "استعلام کارت", 1_500),
        Service("CARD_TO_DEPOSIT", "تبدیل کارت به حساب", 2_500),
        Service("CARD_TO_IBAN", "تبدیل کارت به شبا", 3_000),
        Service("IBAN_INQUIRY", "استعلام شبا", 2_000),
        Service("DEPOSIT_TO_IBAN", "تبدیل حساب به شبا", 3_000),
        Service("MATCHING_CARD_NATIONAL_CODE", "تطابق کارت با کدملی", 4_000),
        Service("MATCHING_DEPOSIT_NATIONAL_CODE", "تطابق شماره حساب با کدملی", 4_000),
        Service("MATCHING_IBAN_NATIONAL_CODE", "تطابق شبا با کدملی", 4_000),
        Service("MATCHING_CARD_NAME", "تطابق کارت با نام و نام\u200cخانوادگی", 3_000),
        Service("MATCHING_DEPOSIT_NAME", "تطابق شماره حساب با نام و نام\u200cخانوادگی", 3_000),
        Service("MATCHING_IBAN_NAME", "تطابق شبا با نام و نام\u200cخانوادگی", 3_000),
        Service("MATCHING_SHAHKAR", "تطابق کدملی با شماره موبایل (شاهکار)", 2_500),
        Service("POSTAL_ADDRESS", "استعلام کدپستی", 2_000),
        Service("POSTAL_WGS", "استعلام مختصات جغرافیایی با کدپستی", 2_000),
        Service("IDENTITY_SIMILARITY", "ثبت احوال مقایسه\u200cای", 5_000),
        Service("FOREIGNER_IDENTITY", "استعلام اطلاعات اتباع خارجی", 5_000),
        Service("CORPORATION_IDENTITY", "استعلام اطلاعات صنف", 5_000),
        Service("MILITARY_SERVICE", "استعلام نظام وظیفه", 4_000),
        Service("SANA", "استعلام کد ثنا", 4_000),
    )
}

#: A name matches when its similarity to the registry's name is at least this (0..100).
NAME_MATCH_THRESHOLD: Final = 90

_CARD_STATUS_ERRORS: Final[dict[str, str]] = {
    "LOST": "card.registered_as_lost",
    "STOLEN": "card.registered_as_stolen",
    "EXPIRED": "card.is_expired",
    "INACTIVE": "card.not_active",
    "BLACKLISTED": "card.black_listed",
    "OWNER_NOT_AUTHORIZED": "card.owner_not_authorized",
    "ACCOUNT_NOT_VALID": "card.account_number_not_valid",
}


def jibit_bank(bank_key: str | None) -> str:
    bank = iran.by_key(bank_key) if bank_key else None
    return iran.jibit_id_of(bank)


@functools.lru_cache(maxsize=64)
def this_month(today: date) -> str:
    j = iran.to_jalali(today)
    return f"{j.year:04d}{j.month:02d}"


# -- cards -----------------------------------------------------------------------------------


def checked_card(conn: Connection, number: str, month: str) -> lookups.CardRow:
    """The card's row after the checks every card service makes, in this order: known card,
    bank active, provider active, card status, expiry."""
    row = lookups.card(conn, number)
    if row is None:
        raise JibitError("card.not_valid")
    if row.bank_active is False:
        raise JibitError("card.source_bank_is_not_active")
    if row.provider_active is False:
        raise JibitError("card.provider_is_not_active")
    code = _CARD_STATUS_ERRORS.get(row.status)
    if code is not None:
        raise JibitError(code)
    if row.expiry < month:
        raise JibitError("card.is_expired")
    return row


def _owner_name(row: lookups.CardRow) -> str:
    if row.first_name is not None:
        return f"{row.first_name} {row.last_name}"
    return str(row.legal_name or "")


def card_flags(params: p.Params) -> str:
    """Which card service the flags select: CARD_INQUIRY, CARD_TO_DEPOSIT or CARD_TO_IBAN."""
    deposit = p.flag(params, "deposit")
    iban = p.flag(params, "iban")
    national_code = p.flag(params, "nationalCode")
    if deposit + iban + national_code > 1:
        raise JibitError("parameters.not_acceptable")
    if national_code:
        # Card-to-national-code exists in the live API but not in the document.
        raise JibitError("handler.not_found")
    if deposit:
        return "CARD_TO_DEPOSIT"
    if iban:
        return "CARD_TO_IBAN"
    return "CARD_INQUIRY"


def _iban_info(dep: lookups.Deposit) -> Body:
    return {
        "bank": jibit_bank(dep.bank),
        "depositNumber": dep.deposit_number,
        "iban": dep.iban,
        "status": dep.status,
        "owners": [{"firstName": o.first_name, "lastName": o.last_name} for o in dep.owners],
    }


def parse_card(params: p.Params, service: str, month: str) -> Work:
    number = p.card_number(p.get(params, "number")).number

    def inquiry(conn: Connection) -> Body:
        row = checked_card(conn, number, month)
        if row.deposit_number is None:
            raise JibitError("card.account_number_not_valid")
        return {
            "number": number,
            "cardInfo": {
                "bank": jibit_bank(row.bank),
                "type": row.type,
                "ownerName": _owner_name(row),
                "depositNumber": row.deposit_number,
            },
        }

    def to_deposit(conn: Connection) -> Body:
        row = checked_card(conn, number, month)
        if row.deposit_number is None:
            raise JibitError("card.account_number_not_valid")
        return {
            "number": number,
            "type": row.type,
            "depositInfo": {
                "bank": jibit_bank(row.deposit_bank),
                "depositNumber": row.deposit_number,
            },
        }

    def to_iban(conn: Connection) -> Body:
        row = checked_card(conn, number, month)
        if row.type != "DEBIT":
            raise JibitError("card_type.not_supported")
        if row.card_to_iban_available is False:
            raise JibitError("providers.not_available")
        if row.deposit_iban is None:
            raise JibitError("iban.not_found")
        if not iran.is_valid_iban(row.deposit_iban):
            raise JibitError("iban.not_valid")
        dep = lookups.deposit_by_iban(conn, row.deposit_iban)
        if dep is None:
            raise JibitError("iban.not_found")
        if not dep.owners:
            raise JibitError("iban.owner_not_found")
        if row.holder_national_code not in {o.national_code for o in dep.owners}:
            raise JibitError("conversion.failed")
        return {"number": number, "type": row.type, "ibanInfo": _iban_info(dep)}

    return {"CARD_INQUIRY": inquiry, "CARD_TO_DEPOSIT": to_deposit, "CARD_TO_IBAN": to_iban}[
        service
    ]


# -- IBANs and deposits ----------------------------------------------------------------------


def _found_deposit(dep: lookups.Deposit | None) -> lookups.Deposit:
    if dep is None:
        raise JibitError("iban.not_found")
    if not dep.owners:
        raise JibitError("iban.owner_not_found")
    return dep


def parse_iban(params: p.Params) -> Work:
    value = p.iban(p.get(params, "value")).value

    def work(conn: Connection) -> Body:
        dep = _found_deposit(lookups.deposit_by_iban(conn, value))
        return {"value": value, "ibanInfo": _iban_info(dep)}

    return work


def parse_deposit_to_iban(params: p.Params) -> Work:
    if not p.flag(params, "iban"):
        raise JibitError("invalid.request_body")
    _jibit_id, keys = p.bank(p.get(params, "bank"))
    number = p.deposit_number(p.get(params, "number"))

    def work(conn: Connection) -> Body:
        dep = _found_deposit(lookups.deposit_by_number(conn, keys, number))
        return {
            "number": number,
            "depositToIBANInfo": {"bank": jibit_bank(dep.bank), "iban": dep.iban},
            "ibanInfo": _iban_info(dep),
        }

    return work


def availability(conn: Connection) -> Body:
    states = lookups.bank_states(conn)
    report: dict[str, str] = {}
    for bank in iran.all_banks():
        if bank.jibit_id != bank.key:
            continue
        st = states.get(bank.key)
        ok = st is None or (st.active and st.provider_active and st.card_to_iban_available)
        report[bank.key] = "AVAILABLE" if ok else "NOT_AVAILABLE"
    return {"availabilityReport": report}


# -- matching --------------------------------------------------------------------------------


def _matched(value: bool) -> Body:
    return {"matched": value}


def _person_with_birth_date(conn: Connection, nc: str, birth: str) -> Row[Any]:
    person = lookups.person(conn, nc)
    if person is None or person.birth_date != birth:
        raise JibitError("identity_info.not_found")
    return person


def _name_matches(name: str, *candidates: str) -> bool:
    return any(
        c and (iran.names_equal(name, c) or iran.similarity(name, c) >= NAME_MATCH_THRESHOLD)
        for c in candidates
    )


def _owner_names(dep: lookups.Deposit) -> list[str]:
    return [f"{o.first_name} {o.last_name}".strip() for o in dep.owners]


def matching_service(params: p.Params) -> str | None:
    """Which of the seven matching services the present parameters select (None: none)."""
    has = {
        k
        for k in (
            "cardNumber",
            "depositNumber",
            "iban",
            "nationalCode",
            "birthDate",
            "name",
            "mobileNumber",
        )
        if p.get(params, k) is not None
    }
    identity = {"nationalCode", "birthDate"} <= has
    if "cardNumber" in has and identity:
        return "MATCHING_CARD_NATIONAL_CODE"
    if "depositNumber" in has and identity:
        return "MATCHING_DEPOSIT_NATIONAL_CODE"
    if "iban" in has and identity:
        return "MATCHING_IBAN_NATIONAL_CODE"
    if "cardNumber" in has and "name" in has:
        return "MATCHING_CARD_NAME"
    if "depositNumber" in has and "name" in has:
        return "MATCHING_DEPOSIT_NAME"
    if "iban" in has and "name" in has:
        return "MATCHING_IBAN_NAME"
    if "nationalCode" in has and "mobileNumber" in has:
        return "MATCHING_SHAHKAR"
    return None


def parse_matching(params: p.Params, service: str, month: str) -> Work:
    g = p.get
    if service == "MATCHING_CARD_NATIONAL_CODE":
        number = p.card_number(g(params, "cardNumber")).number
        nc = p.national_code(g(params, "nationalCode"))
        birth = p.birth_date(g(params, "birthDate"))

        def card_nc(conn: Connection) -> Body:
            row = checked_card(conn, number, month)
            _person_with_birth_date(conn, nc, birth)
            if row.holder_national_code is None:
                raise JibitError("matching.unknown")
            return _matched(row.holder_national_code == nc)

        return card_nc
    if service == "MATCHING_DEPOSIT_NATIONAL_CODE":
        _jid, keys = p.bank(g(params, "bank"))
        number_d = p.deposit_number(g(params, "depositNumber"))
        nc = p.national_code(g(params, "nationalCode"))
        birth = p.birth_date(g(params, "birthDate"))

        def deposit_nc(conn: Connection) -> Body:
            dep = _found_deposit(lookups.deposit_by_number(conn, keys, number_d))
            _person_with_birth_date(conn, nc, birth)
            return _matched(nc in {o.national_code for o in dep.owners})

        return deposit_nc
    if service == "MATCHING_IBAN_NATIONAL_CODE":
        value = p.iban(g(params, "iban")).value
        nc = p.national_code(g(params, "nationalCode"))
        birth = p.birth_date(g(params, "birthDate"))

        def iban_nc(conn: Connection) -> Body:
            dep = _found_deposit(lookups.deposit_by_iban(conn, value))
            _person_with_birth_date(conn, nc, birth)
            return _matched(nc in {o.national_code for o in dep.owners})

        return iban_nc
    if service == "MATCHING_CARD_NAME":
        number = p.card_number(g(params, "cardNumber")).number
        name = p.name(g(params, "name")) or ""

        def card_name(conn: Connection) -> Body:
            row = checked_card(conn, number, month)
            return _matched(_name_matches(name, _owner_name(row)))

        return card_name
    if service == "MATCHING_DEPOSIT_NAME":
        # The document lists only deposit.not_valid here: an unknown bank or deposit is that.
        try:
            _jid, keys = p.bank(g(params, "bank"))
        except JibitError:
            raise JibitError("deposit.not_valid") from None
        number_d = p.deposit_number(g(params, "depositNumber"))
        name = p.name(g(params, "name")) or ""

        def deposit_name(conn: Connection) -> Body:
            dep = lookups.deposit_by_number(conn, keys, number_d)
            if dep is None:
                raise JibitError("deposit.not_valid")
            return _matched(_name_matches(name, *_owner_names(dep)))

        return deposit_name
    if service == "MATCHING_IBAN_NAME":
        try:
            value = p.iban(g(params, "iban")).value
        except JibitError:
            raise JibitError("iban.not_valid") from None
        name = p.name(g(params, "name")) or ""

        def iban_name(conn: Connection) -> Body:
            dep = _found_deposit(lookups.deposit_by_iban(conn, value))
            return _matched(_name_matches(name, *_owner_names(dep)))

        return iban_name
    if service == "MATCHING_SHAHKAR":
        nc = p.national_code(g(params, "nationalCode"))
        mobile = p.mobile(g(params, "mobileNumber"))

        def shahkar(conn: Connection) -> Body:
            sim = lookups.sim(conn, mobile)
            return _matched(sim is not None and sim.national_code == nc)

        return shahkar
    raise JibitError("handler.not_found")


# -- postal ----------------------------------------------------------------------------------


def parse_postal(params: p.Params, wgs: bool) -> Work:
    code = p.postal_code(p.get(params, "code"))

    def work(conn: Connection) -> Body:
        row = lookups.address(conn, code)
        if row is None:
            raise JibitError("postalCode.not_found")
        if wgs:
            return {
                "code": code,
                "wgsInfo": {
                    "postalCode": code,
                    "latitude": float(row.latitude),
                    "longitude": float(row.longitude),
                },
            }
        return {
            "code": code,
            "addressInfo": {
                "postalCode": code,
                "address": row.address,
                "Province": row.province,
                "district": row.district,
                "street": row.street,
                "no": row.number,
                "floor": row.floor,
                # Extra keys one public client reads (harmless to the others).
                "province": row.province,
                "city": row.city,
                "number": row.number,
            },
        }

    return work


# -- identity --------------------------------------------------------------------------------

SIMILARITY_FIELDS: Final = (
    ("firstName", "firstNameSimilarityPercentage"),
    ("lastName", "lastNameSimilarityPercentage"),
    ("fullName", "fullNameSimilarityPercentage"),
    ("fatherName", "fatherNameSimilarityPercentage"),
)


def parse_similarity(params: p.Params) -> Work:
    nc = p.national_code(p.get(params, "nationalCode"))
    birth = p.birth_date(p.get(params, "birthDate"))
    given = {k: p.name(p.get(params, k)) for k, _ in SIMILARITY_FIELDS}
    if not any(given.values()):
        raise JibitError("query_parameters.not_provided")

    def work(conn: Connection) -> Body:
        person = _person_with_birth_date(conn, nc, birth)
        actual = {
            "firstName": person.first_name,
            "lastName": person.last_name,
            "fullName": f"{person.first_name} {person.last_name}",
            "fatherName": person.father_name,
        }
        return {
            out: iran.similarity(value, actual[key])
            for key, out in SIMILARITY_FIELDS
            if (value := given[key]) is not None
        }

    return work


def parse_foreigner(params: p.Params) -> Work:
    fida = p.fida(p.get(params, "fida"))

    def work(conn: Connection) -> Body:
        row = lookups.foreigner(conn, fida)
        if row is None:
            # The document has no "not found" code for FIDA: the registry calls it not valid.
            raise JibitError("fida.not_valid")
        if row.blacklisted:
            raise JibitError("fida.black_listed")
        return {
            "fida": fida,
            "foreignerIdentityInfo": {
                "fida": row.fida,
                "firstName": row.first_name,
                "lastName": row.last_name,
                "fatherName": row.father_name,
                "birthDate": row.birth_date,
                "ancestorName": row.ancestor_name,
                "gender": row.gender,
                "birthPlaceCountry": row.birth_place_country,
                "birthPlaceCity": row.birth_place_city,
                "nationality": row.nationality,
                "identificationDocuments": [
                    {
                        "type": d.get("type"),
                        "code": d.get("code"),
                        "issueDate": d.get("issueDate"),
                        "expirationDate": d.get("expirationDate"),
                    }
                    for d in (row.documents or [])
                ],
            },
        }

    return work


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


def parse_guild(params: p.Params) -> Work:
    code = p.corporation_code(p.get(params, "code"))

    def work(conn: Connection) -> Body:
        row = lookups.guild(conn, code)
        if row is None:
            raise JibitError("corporation_identity_info.not_found")
        m = row._mapping
        # "Each field is shown when it is available": absent (null) fields are omitted.
        info: Body = {k: m[col] for k, col in GUILD_FIELDS if m[col] is not None}
        info["providerTrackerId"] = new_request_id()
        return {"code": code, "corporationIdentityInfo": info}

    return work


FEMALE_DESCRIPTION: Final = "بانوان مشمول خدمت نظام وظیفه نیستند"
NO_RECORD_DESCRIPTION: Final = "سابقه\u200cای در سامانه نظام وظیفه یافت نشد"


def parse_military(params: p.Params) -> Work:
    nc = p.national_code(p.get(params, "nationalCode"))

    def work(conn: Connection) -> Body:
        person = lookups.person(conn, nc)
        if person is None:
            raise JibitError("nationalCode.not_valid")
        if person.gender == "FEMALE":
            qualified, description = True, FEMALE_DESCRIPTION
        else:
            row = lookups.military(conn, nc)
            if row is None:
                qualified, description = False, NO_RECORD_DESCRIPTION
            else:
                qualified, description = bool(row.qualified), row.description
        return {
            "nationalCode": nc,
            "militaryServiceQualificationInfo": {
                "nationalCode": nc,
                "qualified": qualified,
                "description": description,
                "providerTrackerId": new_request_id(),
            },
        }

    return work


#: Sana's error when SIM ownership and national code do not match (the document's note says
#: the service fails and names no code; docs/jibit.md says why this one).
SANA_MISMATCH_CODE: Final = "mobileNumber.not_valid"


def parse_sana(params: p.Params, *, mismatch_error: bool = True) -> Work:
    """Sana. When the SIM is not the person's (or is unknown), the document's note says the
    service fails: :data:`SANA_MISMATCH_CODE`; with ``mismatch_error=False`` (the sandbox
    switch ``sana_mismatch: matched_false``) 200 ``matched: false, registered: false``."""
    nc = p.national_code(p.get(params, "nationalCode"))
    mobile = p.mobile(p.get(params, "mobileNumber"))

    def work(conn: Connection) -> Body:
        person = lookups.person(conn, nc)
        if person is None:
            raise JibitError("nationalCode.not_valid")
        if person.blacklisted:
            raise JibitError("nationalCode.black_listed")
        sim = lookups.sim(conn, mobile)
        if sim is not None and sim.blacklisted:
            raise JibitError("mobileNumber.black_listed")
        matched = sim is not None and sim.national_code == nc
        if not matched and mismatch_error:
            raise JibitError(SANA_MISMATCH_CODE)
        registered = False
        if matched:
            row = lookups.sana(conn, nc)
            registered = bool(row is not None and row.registered)
        return {
            "nationalCode": nc,
            "mobileNumber": mobile,
            "registered": registered,
            "matched": matched,
        }

    return work


# -- account ---------------------------------------------------------------------------------


def balances(conn: Connection, customer_id: int) -> Body:
    rows = {
        r.wallet: int(r.balance)
        for r in conn.execute(
            select(wallets.c.wallet, wallets.c.balance).where(
                and_(
                    wallets.c.customer_id == customer_id,
                    wallets.c.wallet.in_(("jibit.PRF", "jibit.POF")),
                )
            )
        )
    }
    return {
        "balances": [
            {"balanceType": kind, "currency": "IRR", "amount": rows.get(f"jibit.{kind}", 0)}
            for kind in ("PRF", "POF")
        ]
    }


def parse_report_day(raw: str | None, today: date) -> date:
    if raw is None:
        raise JibitError("invalid.request_body")
    try:
        return iran.parse_jalali_yymmdd(raw, today).to_gregorian()
    except iran.InvalidIdentifier:
        raise JibitError("invalid.request_body") from None


def daily_report(conn: Connection, customer_id: int, day: date) -> Body:
    counts = daily_counts(conn, customer_id, "jibit", day)
    services = [
        {"Service": s.name, "persianName": s.persian_name, "count": counts[s.name]}
        for s in SERVICES.values()
        if counts.get(s.name)
    ]
    return {"report": [{"services": services}]}
