"""Fixtures ("magic values"): fixed records present in every seeded world.

Each fixture makes one documented inquiry outcome reachable with a known identifier. The
identifiers are built from small serial numbers with valid check digits, so they are easy to
recognise (national codes ``00000000NN``-``00000001NN``, mobiles ``0912000NNNN``, cards
``<BIN>0000000NN?``). The generator never draws these values, and ``docs/fixtures.md`` lists
them (a test checks the page against :data:`CATALOGUE`).

:func:`fixture_rows` returns the records as rows per table; :data:`CATALOGUE` describes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from pishkhan.iran import build_iban, by_bin, by_key, legal_id_check_digit, payman_banks

from .layouts import account_digits, format_deposit_number, luhn_complete, national_code_from_body
from .records import birth_certificate_number, person_row

Row = dict[str, Any]


def _nc(serial: int) -> str:
    return national_code_from_body(f"{serial:09d}")


def _card(bin6: str, serial: int) -> str:
    return luhn_complete(f"{bin6}{serial:09d}")


def _legal(serial: int) -> str:
    body = f"1{serial:07d}01"
    return body + legal_id_check_digit(body)


def _deposit(bank_key: str, serial: int) -> tuple[str, str]:
    bank = by_key(bank_key)
    assert bank is not None, bank_key
    number = format_deposit_number(bank_key, serial)
    iban = build_iban(bank.sheba_code, account_digits(number).zfill(19))
    return number, iban


# -- identifiers -----------------------------------------------------------------------------

NC_OK: Final = _nc(1)
NC_FEMALE: Final = _nc(2)
NC_DEAD: Final = _nc(3)
NC_NO_IDENTITY: Final = _nc(4)
NC_MILITARY_EXEMPT: Final = _nc(5)
NC_MILITARY_ABSENT: Final = _nc(6)
NC_BLACKLISTED: Final = _nc(7)
NC_PAYMAN_EMPTY: Final = _nc(120)
NC_PAYMAN_CURRENT_ONLY: Final = _nc(121)

MOBILE_OK: Final = "09120000001"
MOBILE_FEMALE: Final = "09350000002"
MOBILE_MILITARY_EXEMPT: Final = "09120000005"
MOBILE_MILITARY_ABSENT: Final = "09120000006"
MOBILE_BLACKLISTED_PERSON: Final = "09120000007"
MOBILE_BLACKLISTED: Final = "09120000009"
MOBILE_UNKNOWN: Final = "09120000099"
MOBILE_PAYMAN_EMPTY: Final = "09120000120"
MOBILE_PAYMAN_CURRENT_ONLY: Final = "09120000121"

CARD_ACTIVE: Final = _card("603799", 1)  # MELLI
CARD_LOST: Final = _card("610433", 2)  # MELLAT
CARD_STOLEN: Final = _card("627353", 3)  # TEJARAT
CARD_EXPIRED: Final = _card("603769", 4)  # SADERAT
CARD_INACTIVE: Final = _card("589210", 5)  # SEPAH
CARD_BLACKLISTED: Final = _card("622106", 6)  # PARSIAN
CARD_OWNER_NOT_AUTHORIZED: Final = _card("502229", 7)  # PASARGAD
CARD_ACCOUNT_NOT_VALID: Final = _card("603770", 8)  # KESHAVARZI
CARD_BANK_INACTIVE: Final = _card("636797", 9)  # MARKAZI (bank marked inactive)
CARD_PROVIDER_INACTIVE: Final = _card("581874", 10)  # IRAN_VENEZUELA (provider inactive)
CARD_CREDIT: Final = _card("610433", 11)  # MELLAT credit card
CARD_GIFT: Final = _card("621986", 12)  # SAMAN gift card
CARD_NO_HOLDER: Final = _card("603799", 13)  # MELLI, no holder on record
CARD_HOLDER_NOT_OWNER: Final = _card("603799", 14)  # MELLI, holder does not own its deposit
CARD_UNKNOWN: Final = _card("603799", 999)  # valid, not in the world

DEPOSIT_ACTIVE, IBAN_ACTIVE = _deposit("MELLI", 101)
DEPOSIT_JOINT, IBAN_JOINT = _deposit("MELLAT", 102)
DEPOSIT_BLOCK_WITH, IBAN_BLOCK_WITH = _deposit("TEJARAT", 103)
DEPOSIT_BLOCK_WITHOUT, IBAN_BLOCK_WITHOUT = _deposit("SADERAT", 104)
DEPOSIT_IDLE, IBAN_IDLE = _deposit("SEPAH", 105)
DEPOSIT_STATUS_UNKNOWN, IBAN_STATUS_UNKNOWN = _deposit("REFAH", 106)
DEPOSIT_NO_OWNER, IBAN_NO_OWNER = _deposit("MASKAN", 107)
DEPOSIT_SAMAN, IBAN_SAMAN = _deposit("SAMAN", 108)
DEPOSIT_LEGAL, IBAN_LEGAL = _deposit("PASARGAD", 109)
DEPOSIT_UNKNOWN, IBAN_UNKNOWN = _deposit("MELLI", 999)  # valid, not in the world
DEPOSIT_PAYMAN_EMPTY, IBAN_PAYMAN_EMPTY = _deposit("MELLI", 220)
DEPOSIT_PAYMAN_CURRENT, IBAN_PAYMAN_CURRENT = _deposit("MELLAT", 221)

POSTAL_OK: Final = "1313131313"
POSTAL_SHOP: Final = "8131131314"
POSTAL_UNKNOWN: Final = "1313131319"

FIDA_OK: Final = "800000000001"
FIDA_BLACKLISTED: Final = "800000000002"
FIDA_UNKNOWN: Final = "800000000009"

GUILD_OK: Final = "1000000001"
GUILD_UNKNOWN: Final = "1000000009"

LEGAL_OK: Final = _legal(1)

BANK_INACTIVE: Final = "MARKAZI"
BANK_PROVIDER_INACTIVE: Final = "IRAN_VENEZUELA"
BANK_CARD_TO_IBAN_UNAVAILABLE: Final = "KHAVARMIANEH"

PAYMAN_BALANCE: Final = 10_000_000_000  # rials (one billion toman)


@dataclass(frozen=True)
class PaymanFixture:
    """A person with one funded, non-joint, short-term deposit at one Payman bank."""

    bank_key: str
    payman_code: str
    national_code: str
    mobile: str
    deposit_number: str
    iban: str
    balance: int


def _payman_fixtures() -> tuple[PaymanFixture, ...]:
    out = []
    for i, bank in enumerate(payman_banks()):
        assert bank.payman_code is not None
        number, iban = _deposit(bank.key, 201 + i)
        out.append(
            PaymanFixture(
                bank_key=bank.key,
                payman_code=bank.payman_code,
                national_code=_nc(101 + i),
                mobile=f"09120000{101 + i:03d}",
                deposit_number=number,
                iban=iban,
                balance=PAYMAN_BALANCE,
            )
        )
    return tuple(out)


PAYMAN: Final = _payman_fixtures()


# -- the catalogue -----------------------------------------------------------------------


@dataclass(frozen=True)
class Fixture:
    """One documented magic value: what to send and what it triggers."""

    name: str
    kind: str
    key: str
    summary: str
    triggers: tuple[str, ...] = field(default=())
    extra: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "key": self.key,
            "summary": self.summary,
            "triggers": list(self.triggers),
            **({"extra": self.extra} if self.extra else {}),
        }


def _catalogue() -> tuple[Fixture, ...]:
    f = Fixture
    items = [
        f(
            "person.ok",
            "person",
            NC_OK,
            "Alive man born 1360/03/31 (علی رضایی / Ali Rezaei, father محمد); SIM, address, "
            "cards and deposits below; Sana registered; military service completed; guild holder.",
            (
                "Jibit similarity/matching with birthDate=13600331: matched / 100%",
                "Jibit msq: qualified=true (COMPLETED)",
                f"Jibit sana with mobile {MOBILE_OK}: registered=true, matched=true",
                f"Shahkar (Jibit, Paystar) with {MOBILE_OK}: matched",
            ),
            {"mobile": MOBILE_OK, "birth_date": "13600331", "postal_code": POSTAL_OK},
        ),
        f(
            "person.female",
            "person",
            NC_FEMALE,
            "Alive woman born 1365/07/15 (مریم احمدی / Maryam Ahmadi); joint owner of the joint "
            "deposit; Sana not registered; no military record.",
            (
                "Jibit msq: qualified=true (women always qualify, per the document)",
                f"Jibit sana with mobile {MOBILE_FEMALE}: registered=false, matched=true",
            ),
            {"mobile": MOBILE_FEMALE, "birth_date": "13650715"},
        ),
        f(
            "person.dead",
            "person",
            NC_DEAD,
            "Dead man (حسین کریمی), born 1320/11/05, died 1401/05/12.",
            ("identity inquiries: alive=false / death date 14010512",),
        ),
        f(
            "national_code.no_identity",
            "national_code",
            NC_NO_IDENTITY,
            "Valid national code with no record anywhere in the world.",
            (
                "Jibit similarity and *-with-nationalCode matching: identity_info.not_found",
                "Shahkar: matched=false",
            ),
        ),
        f(
            "person.military_exempt",
            "person",
            NC_MILITARY_EXEMPT,
            "Man with a permanent exemption (EXEMPT).",
            ("Jibit msq: qualified=true",),
            {"mobile": MOBILE_MILITARY_EXEMPT},
        ),
        f(
            "person.military_absent",
            "person",
            NC_MILITARY_ABSENT,
            "Man absent from military service (ABSENT).",
            ("Jibit msq: qualified=false",),
            {"mobile": MOBILE_MILITARY_ABSENT},
        ),
        f(
            "person.blacklisted",
            "person",
            NC_BLACKLISTED,
            "National code whose inquiries are refused.",
            ("Jibit sana: nationalCode.black_listed",),
            {"mobile": MOBILE_BLACKLISTED_PERSON},
        ),
        f(
            "sim.ok",
            "sim",
            MOBILE_OK,
            f"MCI SIM owned by {NC_OK}.",
            (f"Shahkar with {NC_OK}: matched=true",),
        ),
        f(
            "sim.other_owner",
            "sim",
            MOBILE_OK,
            f"The same SIM asked with {NC_FEMALE} (it belongs to {NC_OK}).",
            (
                f"Shahkar with {NC_FEMALE}: matched=false",
                f"Jibit sana with {NC_FEMALE}: mobileNumber.not_valid "
                "(sandbox sana_mismatch=matched_false: matched=false)",
            ),
        ),
        f(
            "sim.blacklisted",
            "sim",
            MOBILE_BLACKLISTED,
            f"Blacklisted SIM (owner {NC_MILITARY_EXEMPT}).",
            ("Jibit sana: mobileNumber.black_listed",),
        ),
        f(
            "sim.unknown",
            "sim",
            MOBILE_UNKNOWN,
            "Valid mobile with no SIM record.",
            (
                "Shahkar: matched=false",
                "Jibit sana: mobileNumber.not_valid "
                "(sandbox sana_mismatch=matched_false: matched=false)",
            ),
        ),
        f(
            "card.active",
            "card",
            CARD_ACTIVE,
            f"MELLI DEBIT card of {NC_OK}, ACTIVE, on deposit {DEPOSIT_ACTIVE} ({IBAN_ACTIVE}).",
            (
                "Jibit card inquiry / card-to-deposit / card-to-IBAN: success",
                f"card matching with {NC_OK} + 13600331 or name «علی رضایی»: matched=true",
            ),
        ),
        f(
            "card.lost",
            "card",
            CARD_LOST,
            "MELLAT DEBIT card registered as lost.",
            ("Jibit card services: card.registered_as_lost",),
        ),
        f(
            "card.stolen",
            "card",
            CARD_STOLEN,
            "TEJARAT DEBIT card registered as stolen.",
            ("Jibit card services: card.registered_as_stolen",),
        ),
        f(
            "card.expired",
            "card",
            CARD_EXPIRED,
            "SADERAT DEBIT card expired 1400/12.",
            ("Jibit card services: card.is_expired",),
        ),
        f(
            "card.inactive",
            "card",
            CARD_INACTIVE,
            "SEPAH DEBIT card, inactive.",
            ("Jibit card services: card.not_active",),
        ),
        f(
            "card.blacklisted",
            "card",
            CARD_BLACKLISTED,
            "PARSIAN DEBIT card, blacklisted.",
            ("Jibit card services: card.black_listed",),
        ),
        f(
            "card.owner_not_authorized",
            "card",
            CARD_OWNER_NOT_AUTHORIZED,
            "PASARGAD DEBIT card whose holder's identity the bank rejects.",
            ("Jibit card services: card.owner_not_authorized",),
        ),
        f(
            "card.account_not_valid",
            "card",
            CARD_ACCOUNT_NOT_VALID,
            "KESHAVARZI DEBIT card with no valid account behind it.",
            ("Jibit card services: card.account_number_not_valid",),
        ),
        f(
            "card.bank_inactive",
            "card",
            CARD_BANK_INACTIVE,
            f"Card on a {BANK_INACTIVE} BIN; that bank is marked inactive in world_banks.",
            ("Jibit card services: card.source_bank_is_not_active",),
        ),
        f(
            "card.provider_inactive",
            "card",
            CARD_PROVIDER_INACTIVE,
            f"Card on an {BANK_PROVIDER_INACTIVE} BIN; that bank's provider is marked inactive.",
            ("Jibit card services: card.provider_is_not_active",),
        ),
        f(
            "card.credit",
            "card",
            CARD_CREDIT,
            f"MELLAT CREDIT card of {NC_OK}, ACTIVE.",
            ("Jibit card inquiry: type CREDIT", "Jibit card-to-IBAN: card_type.not_supported"),
        ),
        f(
            "card.gift",
            "card",
            CARD_GIFT,
            f"SAMAN GIFT_CARD of {NC_OK}, ACTIVE.",
            ("Jibit card inquiry: type GIFT_CARD", "Jibit card-to-IBAN: card_type.not_supported"),
        ),
        f(
            "card.no_holder",
            "card",
            CARD_NO_HOLDER,
            f"MELLI DEBIT card, ACTIVE, on deposit {DEPOSIT_ACTIVE}, with no holder on record.",
            (
                f"Jibit card matching with {NC_OK} + 13600331: matching.unknown",
                "Jibit card inquiry: success, ownerName empty",
                "Jibit card-to-IBAN: conversion.failed",
            ),
        ),
        f(
            "card.holder_not_owner",
            "card",
            CARD_HOLDER_NOT_OWNER,
            f"MELLI DEBIT card of {NC_FEMALE}, ACTIVE, on deposit {DEPOSIT_ACTIVE} ({IBAN_ACTIVE}), "
            f"which only {NC_OK} owns.",
            (
                "Jibit card-to-IBAN: conversion.failed",
                "Jibit card inquiry / card-to-deposit: success",
            ),
        ),
        f(
            "card.unknown",
            "card",
            CARD_UNKNOWN,
            "Valid (Luhn) MELLI card number not in the world.",
            ("card services: not found",),
        ),
        f(
            "iban.active",
            "deposit",
            IBAN_ACTIVE,
            f"MELLI deposit {DEPOSIT_ACTIVE} of {NC_OK}, ACTIVE, SHORT_TERM, 5,000,000,000 rials.",
            (
                "Jibit IBAN inquiry: status ACTIVE, owner علی رضایی",
                f"Jibit deposit-to-IBAN bank=MELLI&number={DEPOSIT_ACTIVE}: this IBAN",
            ),
        ),
        f(
            "iban.joint",
            "deposit",
            IBAN_JOINT,
            f"MELLAT joint SAVINGS deposit {DEPOSIT_JOINT} owned by {NC_OK} and {NC_FEMALE}.",
            (
                "Jibit IBAN inquiry: two owners",
                "Payman mandate on it: 2110 (joint accounts are refused)",
            ),
        ),
        f(
            "iban.block_with_deposit",
            "deposit",
            IBAN_BLOCK_WITH,
            f"TEJARAT deposit {DEPOSIT_BLOCK_WITH}, BLOCK_WITH_DEPOSIT.",
            ("Jibit IBAN inquiry: status BLOCK_WITH_DEPOSIT",),
        ),
        f(
            "iban.block_without_deposit",
            "deposit",
            IBAN_BLOCK_WITHOUT,
            f"SADERAT deposit {DEPOSIT_BLOCK_WITHOUT}, BLOCK_WITHOUT_DEPOSIT.",
            ("Jibit IBAN inquiry: status BLOCK_WITHOUT_DEPOSIT",),
        ),
        f(
            "iban.idle",
            "deposit",
            IBAN_IDLE,
            f"SEPAH deposit {DEPOSIT_IDLE}, IDLE.",
            ("Jibit IBAN inquiry: status IDLE",),
        ),
        f(
            "iban.status_unknown",
            "deposit",
            IBAN_STATUS_UNKNOWN,
            f"REFAH deposit {DEPOSIT_STATUS_UNKNOWN}, status UNKNOWN.",
            ("Jibit IBAN inquiry: status UNKNOWN",),
        ),
        f(
            "iban.no_owner",
            "deposit",
            IBAN_NO_OWNER,
            f"MASKAN deposit {DEPOSIT_NO_OWNER} with no owner on record.",
            ("Jibit IBAN inquiry / matching: iban.owner_not_found",),
        ),
        f(
            "iban.legal",
            "deposit",
            IBAN_LEGAL,
            f"PASARGAD CURRENT deposit {DEPOSIT_LEGAL} owned by legal entity {LEGAL_OK}.",
            ("Jibit IBAN inquiry: owner is the company name",),
        ),
        f(
            "iban.unknown",
            "deposit",
            IBAN_UNKNOWN,
            "Valid MELLI IBAN not in the world.",
            ("Jibit IBAN inquiry / matching: iban.not_found",),
            {"deposit_number": DEPOSIT_UNKNOWN},
        ),
        f(
            "postal.ok",
            "address",
            POSTAL_OK,
            "Tehran, Vanak: full address, floor 3, coordinates 35.7580, 51.4097.",
            ("Jibit postal and postal/wgs: success",),
        ),
        f(
            "postal.unknown",
            "postal_code",
            POSTAL_UNKNOWN,
            "Valid postal code with no address.",
            ("Jibit postal and postal/wgs: postalCode.not_found",),
        ),
        f(
            "foreigner.ok",
            "foreigner",
            FIDA_OK,
            "Afghan national (احمد احمدزی) with an Amayesh card and a passport.",
            ("Jibit foreigners/identity: success with 2 identificationDocuments",),
        ),
        f(
            "foreigner.blacklisted",
            "foreigner",
            FIDA_BLACKLISTED,
            "Blacklisted FIDA.",
            ("Jibit foreigners/identity: fida.black_listed",),
        ),
        f(
            "foreigner.unknown",
            "fida",
            FIDA_UNKNOWN,
            "FIDA with no record.",
            ("Jibit foreigners/identity: not found",),
        ),
        f(
            "guild.ok",
            "guild",
            GUILD_OK,
            f"Supermarket license (سوپرمارکت نیکان) held by {NC_OK}, every field filled.",
            ("Jibit corporation/identity: success",),
        ),
        f(
            "guild.unknown",
            "guild",
            GUILD_UNKNOWN,
            "Guild code with no license.",
            ("Jibit corporation/identity: corporation_identity_info.not_found",),
        ),
        f(
            "legal.ok",
            "legal_entity",
            LEGAL_OK,
            f"Company شرکت پارس داده سهامی خاص, managed by {NC_OK}.",
            ("owner of iban.legal",),
        ),
        f(
            "bank.inactive",
            "bank",
            BANK_INACTIVE,
            "Bank marked inactive.",
            ("Jibit card services on its cards: card.source_bank_is_not_active",),
        ),
        f(
            "bank.provider_inactive",
            "bank",
            BANK_PROVIDER_INACTIVE,
            "Bank whose inquiry provider is inactive.",
            ("Jibit card services on its cards: card.provider_is_not_active",),
        ),
        f(
            "bank.card_to_iban_unavailable",
            "bank",
            BANK_CARD_TO_IBAN_UNAVAILABLE,
            "Card-to-IBAN service marked unavailable for this bank.",
            ("Jibit services/availability?cardToIBAN=true: NOT_AVAILABLE",),
        ),
    ]
    for p in PAYMAN:
        items.append(
            f(
                f"payman.{p.bank_key.lower()}",
                "person",
                p.national_code,
                f"Payman user at {p.payman_code}: SIM {p.mobile}, deposit {p.deposit_number} "
                f"({p.iban}), SHORT_TERM, ACTIVE, {p.balance:,} rials.",
                ("Payman mandate creation and pay succeed at this bank",),
                {
                    "mobile": p.mobile,
                    "deposit_number": p.deposit_number,
                    "iban": p.iban,
                    "payman_code": p.payman_code,
                },
            )
        )
    items.append(
        f(
            "payman.empty",
            "person",
            NC_PAYMAN_EMPTY,
            f"Payman user at MELIIR whose only deposit {DEPOSIT_PAYMAN_EMPTY} has 0 rials.",
            ("Payman pay: 003 (insufficient balance)",),
            {
                "mobile": MOBILE_PAYMAN_EMPTY,
                "deposit_number": DEPOSIT_PAYMAN_EMPTY,
                "iban": IBAN_PAYMAN_EMPTY,
            },
        )
    )
    items.append(
        f(
            "payman.current_only",
            "person",
            NC_PAYMAN_CURRENT_ONLY,
            f"Payman user at BKMTIR whose only deposit {DEPOSIT_PAYMAN_CURRENT} is CURRENT.",
            ("Payman mandate creation: 2110 (no eligible deposit)",),
            {
                "mobile": MOBILE_PAYMAN_CURRENT_ONLY,
                "deposit_number": DEPOSIT_PAYMAN_CURRENT,
                "iban": IBAN_PAYMAN_CURRENT,
            },
        )
    )
    return tuple(items)


CATALOGUE: Final = _catalogue()


# -- the records ---------------------------------------------------------------------------


def _person(
    nc: str,
    first: tuple[str, str],
    last: tuple[str, str],
    father: tuple[str, str],
    birth: str,
    gender: str,
    *,
    death: str | None = None,
    postal: str | None = None,
    blacklisted: bool = False,
    birth_place: str = "تهران",
) -> Row:
    return person_row(
        nc,
        first,
        last,
        father,
        birth,
        gender,
        certificate=birth_certificate_number(nc, birth, lambda: str(int(nc[5:9]) + 100)),
        death_date=death,
        birth_place=birth_place,
        postal_code=postal,
        blacklisted=blacklisted,
    )


def _sim(mobile: str, nc: str, operator: str = "MCI", blacklisted: bool = False) -> Row:
    return {"mobile": mobile, "national_code": nc, "operator": operator, "blacklisted": blacklisted}


def _deposit_row(
    iban: str,
    bank: str,
    number: str,
    status: str,
    account_type: str,
    balance: int,
    joint: bool = False,
) -> Row:
    return {
        "iban": iban,
        "bank": bank,
        "deposit_number": number,
        "status": status,
        "account_type": account_type,
        "joint": joint,
        "balance": balance,
        "opened_on": "13950101",
    }


def _owner(iban: str, position: int, nc: str, owner_type: str = "PERSON") -> Row:
    return {"iban": iban, "position": position, "national_code": nc, "owner_type": owner_type}


def _card_row(
    number: str, type_: str, status: str, holder: str | None, deposit: str | None, expiry: str
) -> Row:
    bank = by_bin(number)
    return {
        "number": number,
        "bank": bank.key if bank else "UNKNOWN",
        "type": type_,
        "status": status,
        "expiry": expiry,
        "holder_national_code": holder,
        "deposit_iban": deposit,
    }


def fixture_rows() -> dict[str, list[Row]]:
    """Every fixture record, as rows per world table (insert in WORLD_TABLES order)."""
    ali = ("علی", "Ali")
    mohammad = ("محمد", "Mohammad")
    people = [
        _person(NC_OK, ali, ("رضایی", "Rezaei"), mohammad, "13600331", "MALE", postal=POSTAL_OK),
        _person(
            NC_FEMALE,
            ("مریم", "Maryam"),
            ("احمدی", "Ahmadi"),
            ("حسن", "Hassan"),
            "13650715",
            "FEMALE",
            postal=POSTAL_OK,
        ),
        _person(
            NC_DEAD,
            ("حسین", "Hossein"),
            ("کریمی", "Karimi"),
            ("عباس", "Abbas"),
            "13201105",
            "MALE",
            death="14010512",
        ),
        _person(
            NC_MILITARY_EXEMPT,
            ("رضا", "Reza"),
            ("موسوی", "Mousavi"),
            ("جعفر", "Jafar"),
            "13700210",
            "MALE",
        ),
        _person(
            NC_MILITARY_ABSENT,
            ("امیر", "Amir"),
            ("جعفری", "Jafari"),
            ("اکبر", "Akbar"),
            "13750918",
            "MALE",
        ),
        _person(
            NC_BLACKLISTED,
            ("سعید", "Saeed"),
            ("کاظمی", "Kazemi"),
            ("ناصر", "Naser"),
            "13580101",
            "MALE",
            blacklisted=True,
        ),
        _person(
            NC_PAYMAN_EMPTY,
            ("نرگس", "Narges"),
            ("صادقی", "Sadeghi"),
            ("مجید", "Majid"),
            "13720505",
            "FEMALE",
        ),
        _person(
            NC_PAYMAN_CURRENT_ONLY,
            ("بهزاد", "Behzad"),
            ("نوری", "Nouri"),
            ("مسعود", "Masoud"),
            "13631120",
            "MALE",
        ),
    ]
    payman_names = (
        (("محمد", "Mohammad"), ("حسینی", "Hosseini"), "MALE"),
        (("زهرا", "Zahra"), ("محمدی", "Mohammadi"), "FEMALE"),
        (("مهدی", "Mahdi"), ("قاسمی", "Ghasemi"), "MALE"),
        (("فاطمه", "Fatemeh"), ("کریمی", "Karimi"), "FEMALE"),
        (("حسن", "Hassan"), ("رحیمی", "Rahimi"), "MALE"),
        (("سارا", "Sara"), ("هاشمی", "Hashemi"), "FEMALE"),
        (("امید", "Omid"), ("صالحی", "Salehi"), "MALE"),
        (("لیلا", "Leila"), ("نجفی", "Najafi"), "FEMALE"),
        (("وحید", "Vahid"), ("امینی", "Amini"), "MALE"),
        (("الهام", "Elham"), ("زارعی", "Zarei"), "FEMALE"),
        (("مسعود", "Masoud"), ("باقری", "Bagheri"), "MALE"),
        (("نیلوفر", "Niloufar"), ("یوسفی", "Yousefi"), "FEMALE"),
        (("جواد", "Javad"), ("طاهری", "Taheri"), "MALE"),
        (("مینا", "Mina"), ("کیانی", "Kiani"), "FEMALE"),
    )
    for i, p in enumerate(PAYMAN):
        first, last, gender = payman_names[i % len(payman_names)]
        people.append(
            _person(
                p.national_code,
                first,
                last,
                ("احمد", "Ahmad"),
                f"13{60 + i:02d}0{1 + i % 9}1{i % 10}",
                gender,
            )
        )

    sims = [
        _sim(MOBILE_OK, NC_OK),
        _sim(MOBILE_FEMALE, NC_FEMALE, "MTN_IRANCELL"),
        _sim(MOBILE_MILITARY_EXEMPT, NC_MILITARY_EXEMPT),
        _sim(MOBILE_MILITARY_ABSENT, NC_MILITARY_ABSENT),
        _sim(MOBILE_BLACKLISTED_PERSON, NC_BLACKLISTED),
        _sim(MOBILE_BLACKLISTED, NC_MILITARY_EXEMPT, blacklisted=True),
        _sim(MOBILE_PAYMAN_EMPTY, NC_PAYMAN_EMPTY),
        _sim(MOBILE_PAYMAN_CURRENT_ONLY, NC_PAYMAN_CURRENT_ONLY),
    ] + [_sim(p.mobile, p.national_code) for p in PAYMAN]

    addresses: list[Row] = [
        {
            "postal_code": POSTAL_OK,
            "province": "تهران",
            "district": "تهران",
            "city": "تهران",
            "locality": "محله ونک",
            "street": "خیابان ملاصدرا، کوچه شیراز شمالی",
            "number": "12",
            "floor": "3",
            "unit": "6",
            "address": "تهران، محله ونک، خیابان ملاصدرا، کوچه شیراز شمالی، پلاک ۱۲، طبقه ۳، واحد ۶",
            "latitude": 35.7580,
            "longitude": 51.4097,
        },
        {
            "postal_code": POSTAL_SHOP,
            "province": "اصفهان",
            "district": "اصفهان",
            "city": "اصفهان",
            "locality": "محله مرکزی",
            "street": "خیابان چهارباغ عباسی",
            "number": "48",
            "floor": "همکف",
            "unit": None,
            "address": "اصفهان، محله مرکزی، خیابان چهارباغ عباسی، پلاک ۴۸، همکف",
            "latitude": 32.6539,
            "longitude": 51.6660,
        },
    ]

    legal_entities = [
        {
            "national_id": LEGAL_OK,
            "name": "شرکت پارس داده سهامی خاص",
            "name_en": "Pars Dadeh PJS",
            "registration_number": "123456",
            "registration_date": "13900615",
            "entity_type": "سهامی خاص",
            "status": "ACTIVE",
            "postal_code": POSTAL_OK,
            "manager_national_code": NC_OK,
        }
    ]

    banks = [
        {
            "bank": BANK_INACTIVE,
            "active": False,
            "provider_active": True,
            "card_to_iban_available": True,
        },
        {
            "bank": BANK_PROVIDER_INACTIVE,
            "active": True,
            "provider_active": False,
            "card_to_iban_available": True,
        },
        {
            "bank": BANK_CARD_TO_IBAN_UNAVAILABLE,
            "active": True,
            "provider_active": True,
            "card_to_iban_available": False,
        },
    ]

    deposits = [
        _deposit_row(IBAN_ACTIVE, "MELLI", DEPOSIT_ACTIVE, "ACTIVE", "SHORT_TERM", 5_000_000_000),
        _deposit_row(
            IBAN_JOINT, "MELLAT", DEPOSIT_JOINT, "ACTIVE", "SAVINGS", 2_000_000_000, joint=True
        ),
        _deposit_row(
            IBAN_BLOCK_WITH,
            "TEJARAT",
            DEPOSIT_BLOCK_WITH,
            "BLOCK_WITH_DEPOSIT",
            "SHORT_TERM",
            150_000_000,
        ),
        _deposit_row(
            IBAN_BLOCK_WITHOUT,
            "SADERAT",
            DEPOSIT_BLOCK_WITHOUT,
            "BLOCK_WITHOUT_DEPOSIT",
            "SAVINGS",
            80_000_000,
        ),
        _deposit_row(IBAN_IDLE, "SEPAH", DEPOSIT_IDLE, "IDLE", "GHARZOLHASANEH", 1_200_000),
        _deposit_row(IBAN_STATUS_UNKNOWN, "REFAH", DEPOSIT_STATUS_UNKNOWN, "UNKNOWN", "SAVINGS", 0),
        _deposit_row(IBAN_NO_OWNER, "MASKAN", DEPOSIT_NO_OWNER, "ACTIVE", "SAVINGS", 10_000_000),
        _deposit_row(IBAN_SAMAN, "SAMAN", DEPOSIT_SAMAN, "ACTIVE", "SHORT_TERM", 30_000_000),
        _deposit_row(IBAN_LEGAL, "PASARGAD", DEPOSIT_LEGAL, "ACTIVE", "CURRENT", 90_000_000_000),
        _deposit_row(IBAN_PAYMAN_EMPTY, "MELLI", DEPOSIT_PAYMAN_EMPTY, "ACTIVE", "SHORT_TERM", 0),
        _deposit_row(
            IBAN_PAYMAN_CURRENT,
            "MELLAT",
            DEPOSIT_PAYMAN_CURRENT,
            "ACTIVE",
            "CURRENT",
            PAYMAN_BALANCE,
        ),
    ] + [
        _deposit_row(p.iban, p.bank_key, p.deposit_number, "ACTIVE", "SHORT_TERM", p.balance)
        for p in PAYMAN
    ]
    owners = [
        _owner(IBAN_ACTIVE, 1, NC_OK),
        _owner(IBAN_JOINT, 1, NC_OK),
        _owner(IBAN_JOINT, 2, NC_FEMALE),
        _owner(IBAN_BLOCK_WITH, 1, NC_OK),
        _owner(IBAN_BLOCK_WITHOUT, 1, NC_OK),
        _owner(IBAN_IDLE, 1, NC_OK),
        _owner(IBAN_STATUS_UNKNOWN, 1, NC_OK),
        _owner(IBAN_SAMAN, 1, NC_OK),
        _owner(IBAN_LEGAL, 1, LEGAL_OK, "LEGAL"),
        _owner(IBAN_PAYMAN_EMPTY, 1, NC_PAYMAN_EMPTY),
        _owner(IBAN_PAYMAN_CURRENT, 1, NC_PAYMAN_CURRENT_ONLY),
    ] + [_owner(p.iban, 1, p.national_code) for p in PAYMAN]

    future = "140812"
    cards = [
        _card_row(CARD_ACTIVE, "DEBIT", "ACTIVE", NC_OK, IBAN_ACTIVE, future),
        _card_row(CARD_LOST, "DEBIT", "LOST", NC_OK, IBAN_JOINT, future),
        _card_row(CARD_STOLEN, "DEBIT", "STOLEN", NC_OK, IBAN_BLOCK_WITH, future),
        _card_row(CARD_EXPIRED, "DEBIT", "EXPIRED", NC_OK, IBAN_BLOCK_WITHOUT, "140012"),
        _card_row(CARD_INACTIVE, "DEBIT", "INACTIVE", NC_OK, IBAN_IDLE, future),
        _card_row(CARD_BLACKLISTED, "DEBIT", "BLACKLISTED", NC_OK, None, future),
        _card_row(CARD_OWNER_NOT_AUTHORIZED, "DEBIT", "OWNER_NOT_AUTHORIZED", NC_OK, None, future),
        _card_row(CARD_ACCOUNT_NOT_VALID, "DEBIT", "ACCOUNT_NOT_VALID", NC_OK, None, future),
        _card_row(CARD_BANK_INACTIVE, "DEBIT", "ACTIVE", NC_OK, None, future),
        _card_row(CARD_PROVIDER_INACTIVE, "DEBIT", "ACTIVE", NC_OK, None, future),
        _card_row(CARD_CREDIT, "CREDIT", "ACTIVE", NC_OK, IBAN_JOINT, future),
        _card_row(CARD_GIFT, "GIFT_CARD", "ACTIVE", NC_OK, IBAN_SAMAN, future),
        _card_row(CARD_NO_HOLDER, "DEBIT", "ACTIVE", None, IBAN_ACTIVE, future),
        _card_row(CARD_HOLDER_NOT_OWNER, "DEBIT", "ACTIVE", NC_FEMALE, IBAN_ACTIVE, future),
    ]

    foreigners: list[Row] = [
        {
            "fida": FIDA_OK,
            "first_name": "احمد",
            "last_name": "احمدزی",
            "father_name": "عبدالله",
            "ancestor_name": "گل‌محمد",
            "birth_date": "13680405",
            "gender": "MALE",
            "birth_place_country": "افغانستان",
            "birth_place_city": "هرات",
            "nationality": "Afghan",
            "documents": [
                {
                    "type": "کارت آمایش",
                    "code": "AM-1234567",
                    "issue_date": "14010101",
                    "expiration_date": "14041229",
                },
                {
                    "type": "گذرنامه",
                    "code": "P01234567",
                    "issue_date": "14000510",
                    "expiration_date": "14050509",
                },
            ],
            "blacklisted": False,
        },
        {
            "fida": FIDA_BLACKLISTED,
            "first_name": "علی",
            "last_name": "هراتی",
            "father_name": "محمد",
            "ancestor_name": None,
            "birth_date": "13700101",
            "gender": "MALE",
            "birth_place_country": "افغانستان",
            "birth_place_city": "کابل",
            "nationality": "Afghan",
            "documents": [],
            "blacklisted": True,
        },
    ]

    guilds = [
        {
            "code": GUILD_OK,
            "lic_issue_date": "1399/05/12",
            "lic_expire_date": "1404/05/11",
            "lic_type": "پروانه کسب دائم",
            "lic_time": "5 ساله",
            "address": addresses[1]["address"],
            "blue_plaque": "48",
            "registered_plaque": "1234/56",
            "postal_code": POSTAL_SHOP,
            "area": 45,
            "union_name": "اتحادیه بقالان و سوپرمارکت‌ها",
            "union_id": 101,
            "guild_id": 101,
            "convent_id": 10,
            "convent_name": "مجمع امور صنفی اصفهان",
            "city_id": 81,
            "board_title": "سوپرمارکت نیکان",
            "corporate_identity": "حقیقی",
            "lic_state": "فعال",
            "tel": "03132223344",
            "isic": "4711",
            "company_national_code": None,
            "isic_name": "خرده‌فروشی مواد غذایی",
            "hc_license_request_type_name": "صدور",
            "has_expire_letter": "false",
            "expire_letter_date": None,
            "first_name": "علی",
            "last_name": "رضایی",
            "father_name": "محمد",
            "national_code": NC_OK,
            "is_male": "true",
            "mobile": MOBILE_OK,
            "type_name": "حقیقی",
            "type_code": "1",
            "birth_date": "1360/03/31",
            "identity_no": people[0]["birth_certificate_number"],
            "country": "ایران",
            "religion": "اسلام",
            "military_state": "پایان خدمت",
            "education_level": "کارشناسی",
        }
    ]

    military = [
        {
            "national_code": NC_OK,
            "qualified": True,
            "status": "COMPLETED",
            "description": "دارای کارت پایان خدمت",
        },
        {
            "national_code": NC_MILITARY_EXEMPT,
            "qualified": True,
            "status": "EXEMPT",
            "description": "دارای معافیت دائم",
        },
        {
            "national_code": NC_MILITARY_ABSENT,
            "qualified": False,
            "status": "ABSENT",
            "description": "مشمول غایب",
        },
    ]
    sana = [
        {"national_code": NC_OK, "registered": True, "registered_on": "13980101"},
        {"national_code": NC_FEMALE, "registered": False, "registered_on": None},
        {"national_code": NC_MILITARY_EXEMPT, "registered": True, "registered_on": "13990210"},
    ] + [
        {"national_code": p.national_code, "registered": True, "registered_on": "14000101"}
        for p in PAYMAN
    ]
    return {
        "world_people": people,
        "world_sims": sims,
        "world_addresses": addresses,
        "world_legal_entities": legal_entities,
        "world_banks": banks,
        "world_deposits": deposits,
        "world_deposit_owners": owners,
        "world_cards": cards,
        "world_foreigners": foreigners,
        "world_guilds": guilds,
        "world_military": military,
        "world_sana": sana,
    }


def reserved_keys() -> dict[str, set[str]]:
    """Identifiers the generator must never draw (fixture records and the 'unknown' values)."""
    rows = fixture_rows()
    national_codes = {r["national_code"] for r in rows["world_people"]} | {NC_NO_IDENTITY}
    return {
        "national_code": national_codes,
        "mobile": {r["mobile"] for r in rows["world_sims"]} | {MOBILE_UNKNOWN},
        "card": {r["number"] for r in rows["world_cards"]} | {CARD_UNKNOWN},
        "iban": {r["iban"] for r in rows["world_deposits"]} | {IBAN_UNKNOWN},
        "postal_code": {r["postal_code"] for r in rows["world_addresses"]} | {POSTAL_UNKNOWN},
        "fida": {r["fida"] for r in rows["world_foreigners"]} | {FIDA_UNKNOWN},
        "guild": {r["code"] for r in rows["world_guilds"]} | {GUILD_UNKNOWN},
        "legal_id": {r["national_id"] for r in rows["world_legal_entities"]},
    }
