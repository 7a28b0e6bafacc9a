"""Hot-path lookups for the surfaces: one indexed query each, no validation.

Every function takes an open Connection and canonical identifiers (parse the request's input
with :mod:`pishkhan.iran` first) and returns record models built without validation, or
``None`` when the world has no such record. Statements are built once at import so each call
only binds parameters.

Money: :func:`debit_deposit` / :func:`credit_deposit` change a deposit's balance atomically
(a conditional UPDATE), for Payman's pay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from pishkhan.iran import banks_for_jibit_id, by_key, by_payman_code

from .records import (
    AddressRecord,
    BankStateRecord,
    CardRecord,
    DepositRecord,
    ForeignerRecord,
    GuildRecord,
    LegalEntityRecord,
    MilitaryRecord,
    PersonRecord,
    SanaRecord,
    SimRecord,
)
from .tables import (
    world_addresses,
    world_banks,
    world_cards,
    world_deposit_owners,
    world_deposits,
    world_foreigners,
    world_guilds,
    world_legal_entities,
    world_military,
    world_people,
    world_sana,
    world_sims,
)

_PERSON: Final = select(world_people).where(world_people.c.national_code == bindparam("k"))
_SIM: Final = select(world_sims).where(world_sims.c.mobile == bindparam("k"))
_SIMS_OF: Final = (
    select(world_sims)
    .where(world_sims.c.national_code == bindparam("k"))
    .order_by(world_sims.c.mobile)
)
_CARD: Final = select(world_cards).where(world_cards.c.number == bindparam("k"))
_CARDS_OF: Final = (
    select(world_cards)
    .where(world_cards.c.holder_national_code == bindparam("k"))
    .order_by(world_cards.c.number)
)
_DEPOSIT: Final = select(world_deposits).where(world_deposits.c.iban == bindparam("k"))
_DEPOSIT_BY_NUMBER: Final = select(world_deposits).where(
    world_deposits.c.bank.in_(bindparam("banks", expanding=True)),
    world_deposits.c.deposit_number == bindparam("number"),
)
_OWNERS: Final = (
    select(world_deposit_owners.c.national_code, world_deposit_owners.c.owner_type)
    .where(world_deposit_owners.c.iban == bindparam("k"))
    .order_by(world_deposit_owners.c.position)
)
_DEPOSITS_OF: Final = (
    select(world_deposits)
    .join(world_deposit_owners, world_deposit_owners.c.iban == world_deposits.c.iban)
    .where(world_deposit_owners.c.national_code == bindparam("k"))
    .order_by(world_deposits.c.iban)
)
_OWNER_NAMES: Final = (
    select(
        world_deposit_owners.c.national_code,
        world_deposit_owners.c.owner_type,
        world_people.c.first_name,
        world_people.c.last_name,
        world_legal_entities.c.name,
    )
    .select_from(world_deposit_owners)
    .outerjoin(world_people, world_people.c.national_code == world_deposit_owners.c.national_code)
    .outerjoin(
        world_legal_entities,
        world_legal_entities.c.national_id == world_deposit_owners.c.national_code,
    )
    .where(world_deposit_owners.c.iban == bindparam("k"))
    .order_by(world_deposit_owners.c.position)
)
_ADDRESS: Final = select(world_addresses).where(world_addresses.c.postal_code == bindparam("k"))
_FOREIGNER: Final = select(world_foreigners).where(world_foreigners.c.fida == bindparam("k"))
_GUILD: Final = select(world_guilds).where(world_guilds.c.code == bindparam("k"))
_MILITARY: Final = select(world_military).where(world_military.c.national_code == bindparam("k"))
_SANA: Final = select(world_sana).where(world_sana.c.national_code == bindparam("k"))
_LEGAL: Final = select(world_legal_entities).where(
    world_legal_entities.c.national_id == bindparam("k")
)
_BANK: Final = select(world_banks).where(world_banks.c.bank == bindparam("k"))
_BANKS: Final = select(world_banks).order_by(world_banks.c.bank)


def _one(conn: Connection, stmt: Any, key: str) -> dict[str, Any] | None:
    row = conn.execute(stmt, {"k": key}).mappings().first()
    return dict(row) if row is not None else None


def person(conn: Connection, national_code: str) -> PersonRecord | None:
    """The civil-registry record of a national code."""
    row = _one(conn, _PERSON, national_code)
    return PersonRecord.from_row(row) if row else None


def sim(conn: Connection, mobile: str) -> SimRecord | None:
    """The SIM registration of a canonical ``09...`` mobile (Shahkar)."""
    row = _one(conn, _SIM, mobile)
    return SimRecord.from_row(row) if row else None


def sim_matches(conn: Connection, national_code: str, mobile: str) -> bool:
    """Shahkar: is ``mobile`` registered to ``national_code``?"""
    found = sim(conn, mobile)
    return found is not None and found.national_code == national_code


def sims_of(conn: Connection, national_code: str) -> list[SimRecord]:
    return [SimRecord.from_row(r) for r in conn.execute(_SIMS_OF, {"k": national_code}).mappings()]


def card(conn: Connection, number: str) -> CardRecord | None:
    """A card by its 16-digit number."""
    row = _one(conn, _CARD, number)
    return CardRecord.from_row(row) if row else None


def cards_of(conn: Connection, national_code: str) -> list[CardRecord]:
    return [
        CardRecord.from_row(r) for r in conn.execute(_CARDS_OF, {"k": national_code}).mappings()
    ]


def _deposit_from(conn: Connection, row: dict[str, Any]) -> DepositRecord:
    owners = [dict(o) for o in conn.execute(_OWNERS, {"k": row["iban"]}).mappings()]
    return DepositRecord.from_row(row, owners)


def deposit(conn: Connection, iban: str) -> DepositRecord | None:
    """A deposit (with its owners) by canonical IBAN."""
    row = _one(conn, _DEPOSIT, iban)
    return _deposit_from(conn, row) if row else None


def bank_keys(bank: str) -> list[str]:
    """Bank-table keys a bank name may mean: a key (``BLU``), a Jibit id (``SAMAN`` covers
    ``SAMAN`` and ``BLU``; ``SEPAH`` covers the banks merged into it) or a Payman code."""
    text = bank.strip().upper()
    keys = [b.key for b in banks_for_jibit_id(text)]
    if keys:
        return keys
    found = by_key(text) or by_payman_code(text)
    return [found.key] if found is not None else []


def deposit_by_number(conn: Connection, bank: str, deposit_number: str) -> DepositRecord | None:
    """A deposit by bank (key, Jibit id or Payman code) and account number, as formatted by
    the bank (``849-40-4443333-1``); a number without separators also matches when unique."""
    keys = bank_keys(bank)
    if not keys:
        return None
    rows = [
        dict(r)
        for r in conn.execute(
            _DEPOSIT_BY_NUMBER, {"banks": keys, "number": deposit_number}
        ).mappings()
    ]
    if rows:
        return _deposit_from(conn, rows[0])
    if deposit_number.isdigit() and len(keys) >= 1:
        # Tolerate a number typed without the bank's separators: try the IBAN it maps to.
        from .layouts import iban_for_deposit

        for key in keys:
            b = by_key(key)
            if b is None or len(deposit_number) > 19:
                continue
            found = deposit(conn, iban_for_deposit(b, deposit_number))
            if found is not None and found.bank in keys:
                return found
    return None


def deposits_of(conn: Connection, national_code: str) -> list[DepositRecord]:
    """Every deposit ``national_code`` (a person or a legal entity) owns or co-owns."""
    return [
        _deposit_from(conn, dict(r))
        for r in conn.execute(_DEPOSITS_OF, {"k": national_code}).mappings()
    ]


@dataclass(frozen=True, slots=True)
class OwnerName:
    """A deposit owner's name as Jibit shows it (a company: its name as ``first_name``)."""

    national_code: str
    owner_type: str
    first_name: str
    last_name: str
    known: bool


def owner_names(conn: Connection, iban: str) -> list[OwnerName]:
    """The owners of a deposit with their names, in position order (empty: no owner)."""
    out = []
    for r in conn.execute(_OWNER_NAMES, {"k": iban}).mappings():
        if r["owner_type"] == "LEGAL":
            name = r["name"]
            out.append(OwnerName(r["national_code"], "LEGAL", name or "", "", name is not None))
        else:
            known = r["first_name"] is not None
            out.append(
                OwnerName(
                    r["national_code"], "PERSON", r["first_name"] or "", r["last_name"] or "", known
                )
            )
    return out


def holder_name(conn: Connection, national_code: str | None) -> tuple[str, str] | None:
    """(first name, last name) of a person, or (company name, "") of a legal entity."""
    if national_code is None:
        return None
    if len(national_code) == 11:
        entity = legal_entity(conn, national_code)
        return (entity.name, "") if entity else None
    p = person(conn, national_code)
    return (p.first_name, p.last_name) if p else None


def address(conn: Connection, postal_code: str) -> AddressRecord | None:
    row = _one(conn, _ADDRESS, postal_code)
    return AddressRecord.from_row(row) if row else None


def foreigner(conn: Connection, fida: str) -> ForeignerRecord | None:
    row = _one(conn, _FOREIGNER, fida)
    return ForeignerRecord.from_row(row) if row else None


def guild(conn: Connection, code: str) -> GuildRecord | None:
    row = _one(conn, _GUILD, code)
    return GuildRecord.from_row(row) if row else None


def military(conn: Connection, national_code: str) -> MilitaryRecord | None:
    """The military-service record (men only; women have none and qualify by rule)."""
    row = _one(conn, _MILITARY, national_code)
    return MilitaryRecord.from_row(row) if row else None


def sana(conn: Connection, national_code: str) -> SanaRecord | None:
    row = _one(conn, _SANA, national_code)
    return SanaRecord.from_row(row) if row else None


def legal_entity(conn: Connection, national_id: str) -> LegalEntityRecord | None:
    row = _one(conn, _LEGAL, national_id)
    return LegalEntityRecord.from_row(row) if row else None


def bank_state(conn: Connection, bank_key: str) -> BankStateRecord:
    """A bank's state; a bank without a row is fully active."""
    row = _one(conn, _BANK, bank_key)
    if row is None:
        return BankStateRecord.model_construct(
            bank=bank_key, active=True, provider_active=True, card_to_iban_available=True
        )
    return BankStateRecord.from_row(row)


def bank_states(conn: Connection) -> dict[str, BankStateRecord]:
    return {r["bank"]: BankStateRecord.from_row(dict(r)) for r in conn.execute(_BANKS).mappings()}


def debit_deposit(conn: Connection, iban: str, amount: int) -> int | None:
    """Take ``amount`` rials from a deposit if its balance covers it; the new balance, or
    ``None`` (insufficient balance or no such deposit). Atomic under concurrency."""
    if amount < 0:
        raise ValueError("amount must not be negative")
    stmt = (
        world_deposits.update()
        .where(world_deposits.c.iban == iban, world_deposits.c.balance >= amount)
        .values(balance=world_deposits.c.balance - amount)
        .returning(world_deposits.c.balance)
    )
    row = conn.execute(stmt).first()
    return int(row[0]) if row is not None else None


def credit_deposit(conn: Connection, iban: str, amount: int) -> int | None:
    """Add ``amount`` rials to a deposit; the new balance, or ``None`` if there is none."""
    if amount < 0:
        raise ValueError("amount must not be negative")
    stmt = (
        world_deposits.update()
        .where(world_deposits.c.iban == iban)
        .values(balance=world_deposits.c.balance + amount)
        .returning(world_deposits.c.balance)
    )
    row = conn.execute(stmt).first()
    return int(row[0]) if row is not None else None
