"""The world: the reference registry the inquiry surfaces answer from.

Every table is keyed by the identifier the surfaces look records up by (national code, mobile,
card number, IBAN, postal code, FIDA, guild code, legal id), so each hot lookup is one
primary-key probe. Identifiers are stored in their canonical ASCII form (see
:mod:`pishkhan.iran`); Jalali dates as 8-character ``YYYYMMDD`` strings; money as integer rials.

Cross-references between kinds (a card's holder, a deposit's owners, a SIM's owner) are plain
indexed columns rather than foreign keys, because the registries they model are independent
in reality (a SIM can be registered to a national code the civil registry does not know, which
is exactly what some documented errors need); :mod:`pishkhan.world.service` validates them on
write. The two structural relations, a card's deposit and a deposit's owners, are foreign keys.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from pishkhan.core.db import JSONType, metadata

GENDERS = ("MALE", "FEMALE")
CARD_TYPES = (
    "DEBIT",
    "CREDIT",
    "SPECIAL",
    "GIFT_CARD",
    "ONLINE_PREPAID",
    "E_MONEY",
    "INSTALLMENT_CARD",
    "UNKNOWN",
)
CARD_STATUSES = (
    "ACTIVE",
    "LOST",
    "STOLEN",
    "EXPIRED",
    "INACTIVE",
    "BLACKLISTED",
    # Fixture-only statuses for the remaining documented card errors.
    "OWNER_NOT_AUTHORIZED",
    "ACCOUNT_NOT_VALID",
)
DEPOSIT_STATUSES = ("ACTIVE", "BLOCK_WITH_DEPOSIT", "BLOCK_WITHOUT_DEPOSIT", "IDLE", "UNKNOWN")
ACCOUNT_TYPES = ("SAVINGS", "SHORT_TERM", "LONG_TERM", "CURRENT", "GHARZOLHASANEH")
OWNER_TYPES = ("PERSON", "LEGAL")
OPERATORS = ("MCI", "MTN_IRANCELL", "RIGHTEL", "OTHER")
FOREIGNER_GENDERS = ("MALE", "FEMALE", "UNKNOWN")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} in ({', '.join(repr(v) for v in values)})"


world_people = Table(
    "world_people",
    metadata,
    Column("national_code", String(10), primary_key=True),
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("first_name_en", String(100), nullable=False),
    Column("last_name_en", String(100), nullable=False),
    Column("father_name", String(100), nullable=False),
    Column("father_name_en", String(100), nullable=False),
    # Jalali YYYYMMDD (the format Jibit's birthDate uses).
    Column("birth_date", String(8), nullable=False),
    Column("gender", String(6), nullable=False),
    Column("alive", Boolean, nullable=False),
    Column("death_date", String(8), nullable=True),
    # شماره شناسنامه: equal to the national code for people registered since 1368.
    Column("birth_certificate_number", String(10), nullable=False),
    Column("birth_place", String(100), nullable=True),
    # Home address (a key of world_addresses), if known.
    Column("postal_code", String(10), nullable=True),
    # Inquiries about this code are refused (Jibit nationalCode.black_listed).
    Column("blacklisted", Boolean, nullable=False),
    CheckConstraint(_in("gender", GENDERS), name="gender"),
)

world_sims = Table(
    "world_sims",
    metadata,
    # Canonical 09xxxxxxxxx.
    Column("mobile", String(11), primary_key=True),
    Column("national_code", String(10), nullable=False, index=True),
    Column("operator", String(16), nullable=False),
    # Jibit mobileNumber.black_listed.
    Column("blacklisted", Boolean, nullable=False),
    CheckConstraint(_in("operator", OPERATORS), name="operator"),
)

world_deposits = Table(
    "world_deposits",
    metadata,
    Column("iban", String(26), primary_key=True),
    # Bank id of pishkhan.iran's bank table (Jibit's upper-case id, e.g. MELLI).
    Column("bank", String(24), nullable=False),
    Column("deposit_number", String(32), nullable=False),
    Column("status", String(24), nullable=False),
    Column("account_type", String(16), nullable=False),
    Column("joint", Boolean, nullable=False),
    Column("balance", BigInteger, nullable=False),
    # Jalali YYYYMMDD.
    Column("opened_on", String(8), nullable=True),
    CheckConstraint(_in("status", DEPOSIT_STATUSES), name="status"),
    CheckConstraint(_in("account_type", ACCOUNT_TYPES), name="account_type"),
    Index("ix_world_deposits_bank_number", "bank", "deposit_number", unique=True),
)

world_deposit_owners = Table(
    "world_deposit_owners",
    metadata,
    Column(
        "iban",
        String(26),
        ForeignKey("world_deposits.iban", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("position", Integer, primary_key=True),
    # A person's national code (10 digits) or a legal entity's national id (11 digits).
    Column("national_code", String(11), nullable=False, index=True),
    Column("owner_type", String(8), nullable=False),
    CheckConstraint(_in("owner_type", OWNER_TYPES), name="owner_type"),
)

world_cards = Table(
    "world_cards",
    metadata,
    Column("number", String(16), primary_key=True),
    Column("bank", String(24), nullable=False),
    Column("type", String(20), nullable=False),
    Column("status", String(24), nullable=False),
    # Jalali YYYYMM of the last valid month.
    Column("expiry", String(6), nullable=False),
    Column("holder_national_code", String(11), nullable=True, index=True),
    Column(
        "deposit_iban",
        String(26),
        ForeignKey("world_deposits.iban", ondelete="SET NULL"),
        nullable=True,
        index=True,
    ),
    CheckConstraint(_in("type", CARD_TYPES), name="type"),
    CheckConstraint(_in("status", CARD_STATUSES), name="status"),
)

world_addresses = Table(
    "world_addresses",
    metadata,
    Column("postal_code", String(10), primary_key=True),
    Column("province", String(60), nullable=False),
    # شهرستان (Jibit's "district").
    Column("district", String(60), nullable=False),
    Column("city", String(60), nullable=False),
    Column("locality", String(100), nullable=True),
    Column("street", String(200), nullable=False),
    Column("number", String(20), nullable=False),
    Column("floor", String(20), nullable=False),
    Column("unit", String(20), nullable=True),
    Column("address", Text, nullable=False),
    Column("latitude", Float, nullable=False),
    Column("longitude", Float, nullable=False),
)

world_foreigners = Table(
    "world_foreigners",
    metadata,
    Column("fida", String(16), primary_key=True),
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("father_name", String(100), nullable=True),
    Column("ancestor_name", String(100), nullable=True),
    Column("birth_date", String(8), nullable=True),
    Column("gender", String(8), nullable=False),
    Column("birth_place_country", String(60), nullable=True),
    Column("birth_place_city", String(60), nullable=True),
    Column("nationality", String(60), nullable=False),
    # [{"type", "code", "issue_date", "expiration_date"}, ...]
    Column("documents", JSONType, nullable=False),
    # Jibit fida.black_listed.
    Column("blacklisted", Boolean, nullable=False),
    CheckConstraint(_in("gender", FOREIGNER_GENDERS), name="gender"),
)

# Guild (business) licenses: every field of Jibit's CorporationIdentityInfo, in snake case.
world_guilds = Table(
    "world_guilds",
    metadata,
    Column("code", String(10), primary_key=True),
    Column("lic_issue_date", String(10), nullable=True),
    Column("lic_expire_date", String(10), nullable=True),
    Column("lic_type", String(60), nullable=True),
    Column("lic_time", String(60), nullable=True),
    Column("address", Text, nullable=True),
    Column("blue_plaque", String(20), nullable=True),
    Column("registered_plaque", String(40), nullable=True),
    Column("postal_code", String(10), nullable=True),
    Column("area", BigInteger, nullable=True),
    Column("union_name", String(200), nullable=True),
    Column("union_id", BigInteger, nullable=True),
    Column("guild_id", BigInteger, nullable=True),
    Column("convent_id", BigInteger, nullable=True),
    Column("convent_name", String(200), nullable=True),
    Column("city_id", BigInteger, nullable=True),
    Column("board_title", String(200), nullable=True),
    Column("corporate_identity", String(40), nullable=True),
    Column("lic_state", String(60), nullable=True),
    Column("tel", String(20), nullable=True),
    Column("isic", String(20), nullable=True),
    Column("company_national_code", String(11), nullable=True),
    Column("isic_name", String(200), nullable=True),
    Column("hc_license_request_type_name", String(100), nullable=True),
    Column("has_expire_letter", String(10), nullable=True),
    Column("expire_letter_date", String(10), nullable=True),
    Column("first_name", String(100), nullable=True),
    Column("last_name", String(100), nullable=True),
    Column("father_name", String(100), nullable=True),
    Column("national_code", String(10), nullable=True, index=True),
    Column("is_male", String(10), nullable=True),
    Column("mobile", String(11), nullable=True),
    Column("type_name", String(60), nullable=True),
    Column("type_code", String(20), nullable=True),
    Column("birth_date", String(10), nullable=True),
    Column("identity_no", String(10), nullable=True),
    Column("country", String(60), nullable=True),
    Column("religion", String(60), nullable=True),
    Column("military_state", String(100), nullable=True),
    Column("education_level", String(100), nullable=True),
)

world_military = Table(
    "world_military",
    metadata,
    Column("national_code", String(10), primary_key=True),
    Column("qualified", Boolean, nullable=False),
    # COMPLETED, EXEMPT, EDUCATIONAL_DEFERMENT, SERVING, ELIGIBLE, ABSENT
    Column("status", String(24), nullable=False),
    Column("description", String(200), nullable=False),
)

world_sana = Table(
    "world_sana",
    metadata,
    Column("national_code", String(10), primary_key=True),
    Column("registered", Boolean, nullable=False),
    Column("registered_on", String(8), nullable=True),
)

world_legal_entities = Table(
    "world_legal_entities",
    metadata,
    Column("national_id", String(11), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("name_en", String(200), nullable=True),
    Column("registration_number", String(20), nullable=False),
    Column("registration_date", String(8), nullable=False),
    Column("entity_type", String(60), nullable=False),
    Column("status", String(16), nullable=False),
    Column("postal_code", String(10), nullable=True),
    Column("manager_national_code", String(10), nullable=True),
    CheckConstraint(_in("status", ("ACTIVE", "DISSOLVED", "SUSPENDED")), name="status"),
)

# Per-bank state of the world's banking system (a bank that is "not active" answers Jibit's
# card.source_bank_is_not_active; a provider that is not active card.provider_is_not_active).
world_banks = Table(
    "world_banks",
    metadata,
    Column("bank", String(24), primary_key=True),
    Column("active", Boolean, nullable=False),
    Column("provider_active", Boolean, nullable=False),
    Column("card_to_iban_available", Boolean, nullable=False),
)

#: Every world table, parents before children (insert order; reverse for delete).
WORLD_TABLES: tuple[Table, ...] = (
    world_people,
    world_sims,
    world_addresses,
    world_legal_entities,
    world_banks,
    world_deposits,
    world_deposit_owners,
    world_cards,
    world_foreigners,
    world_guilds,
    world_military,
    world_sana,
)
