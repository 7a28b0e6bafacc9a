"""The Jibit surface's SQL: read-only queries of the world registry (one statement per lookup)
and of the customer's wallets.

Statements are built once at import with bind parameters, so SQLAlchemy compiles each once; the
card lookup (the hot path) is pre-written SQL run on the DBAPI cursor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, select
from sqlalchemy.engine import Connection, Row

from pishkhan.core.db import DriverSQL
from pishkhan.tenants.tables import wallets
from pishkhan.world.tables import (
    world_addresses,
    world_banks,
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

_d = world_deposits.c
_p, _l, _o = world_people.c, world_legal_entities.c, world_deposit_owners.c

# The card lookup is on the hot path (every card service and card matching): pre-written SQL
# run on the DBAPI cursor (see ``pishkhan.core.db.DriverSQL``); the columns are CardRow's.
_CARD = DriverSQL(
    "SELECT c.number, c.bank, c.type, c.status, c.expiry, c.holder_national_code, "
    "c.deposit_iban, b.active, b.provider_active, b.card_to_iban_available, "
    "d.deposit_number, d.status, d.bank, p.first_name, p.last_name, l.name "
    "FROM world_cards AS c "
    "LEFT OUTER JOIN world_banks AS b ON b.bank = c.bank "
    "LEFT OUTER JOIN world_deposits AS d ON d.iban = c.deposit_iban "
    "LEFT OUTER JOIN world_people AS p ON p.national_code = c.holder_national_code "
    "LEFT OUTER JOIN world_legal_entities AS l ON l.national_id = c.holder_national_code "
    "WHERE c.number = :number"
)


class CardRow(NamedTuple):
    """A card with its bank's switches, its deposit and its holder's name (None: no such row)."""

    number: str
    bank: str
    type: str
    status: str
    expiry: str
    holder_national_code: str | None
    deposit_iban: str | None
    bank_active: bool | None
    provider_active: bool | None
    card_to_iban_available: bool | None
    deposit_number: str | None
    deposit_status: str | None
    deposit_bank: str | None
    first_name: str | None
    last_name: str | None
    legal_name: str | None


def _bool(value: Any) -> bool | None:
    return None if value is None else bool(value)  # SQLite stores booleans as 0/1


_DEPOSIT_COLS = (
    _d.iban,
    _d.bank,
    _d.deposit_number,
    _d.status,
    _o.position,
    _o.national_code,
    _p.first_name,
    _p.last_name,
    _l.name.label("legal_name"),
)
_DEPOSIT_FROM = (
    world_deposits.outerjoin(world_deposit_owners, _o.iban == _d.iban)
    .outerjoin(world_people, _p.national_code == _o.national_code)
    .outerjoin(world_legal_entities, _l.national_id == _o.national_code)
)
_DEPOSIT_BY_IBAN = (
    select(*_DEPOSIT_COLS)
    .select_from(_DEPOSIT_FROM)
    .where(_d.iban == bindparam("iban"))
    .order_by(_o.position)
)
_DEPOSIT_BY_NUMBER = (
    select(*_DEPOSIT_COLS)
    .select_from(_DEPOSIT_FROM)
    .where(
        and_(_d.bank.in_(bindparam("banks", expanding=True)), _d.deposit_number == bindparam("n"))
    )
    .order_by(_d.iban, _o.position)
)


@dataclass(frozen=True)
class Owner:
    national_code: str
    first_name: str
    last_name: str


@dataclass(frozen=True)
class Deposit:
    iban: str
    bank: str
    deposit_number: str
    status: str
    owners: tuple[Owner, ...]


def card(conn: Connection, number: str) -> CardRow | None:
    r = _CARD.run(conn, {"number": number}).fetchone()
    if r is None:
        return None
    return CardRow(
        r[0], r[1], r[2], r[3], r[4], r[5], r[6], _bool(r[7]), _bool(r[8]), _bool(r[9]),
        r[10], r[11], r[12], r[13], r[14], r[15],
    )  # fmt: skip


def _owner(row: Row[Any]) -> Owner | None:
    if row.national_code is None:
        return None
    if row.first_name is not None:
        return Owner(row.national_code, row.first_name, row.last_name)
    if row.legal_name is not None:
        return Owner(row.national_code, row.legal_name, "")
    return Owner(row.national_code, "", "")


def _deposit(rows: Iterable[Row[Any]]) -> Deposit | None:
    first: Row[Any] | None = None
    owners: list[Owner] = []
    for row in rows:
        if first is None:
            first = row
        elif row.iban != first.iban:
            break
        owner = _owner(row)
        if owner is not None:
            owners.append(owner)
    if first is None:
        return None
    return Deposit(first.iban, first.bank, first.deposit_number, first.status, tuple(owners))


def deposit_by_iban(conn: Connection, iban: str) -> Deposit | None:
    return _deposit(conn.execute(_DEPOSIT_BY_IBAN, {"iban": iban}))


def deposit_by_number(conn: Connection, bank_keys: Iterable[str], number: str) -> Deposit | None:
    return _deposit(conn.execute(_DEPOSIT_BY_NUMBER, {"banks": list(bank_keys), "n": number}))


_PERSON = select(world_people).where(_p.national_code == bindparam("nc"))
_SIM = select(world_sims).where(world_sims.c.mobile == bindparam("m"))
_ADDRESS = select(world_addresses).where(world_addresses.c.postal_code == bindparam("code"))
_FOREIGNER = select(world_foreigners).where(world_foreigners.c.fida == bindparam("fida"))
_GUILD = select(world_guilds).where(world_guilds.c.code == bindparam("code"))
_MILITARY = select(world_military).where(world_military.c.national_code == bindparam("nc"))
_SANA = select(world_sana).where(world_sana.c.national_code == bindparam("nc"))
_BANKS = select(world_banks)


def person(conn: Connection, national_code: str) -> Row[Any] | None:
    return conn.execute(_PERSON, {"nc": national_code}).first()


def sim(conn: Connection, mobile: str) -> Row[Any] | None:
    return conn.execute(_SIM, {"m": mobile}).first()


def address(conn: Connection, postal_code: str) -> Row[Any] | None:
    return conn.execute(_ADDRESS, {"code": postal_code}).first()


def foreigner(conn: Connection, fida: str) -> Row[Any] | None:
    return conn.execute(_FOREIGNER, {"fida": fida}).first()


def guild(conn: Connection, code: str) -> Row[Any] | None:
    return conn.execute(_GUILD, {"code": code}).first()


def military(conn: Connection, national_code: str) -> Row[Any] | None:
    return conn.execute(_MILITARY, {"nc": national_code}).first()


def sana(conn: Connection, national_code: str) -> Row[Any] | None:
    return conn.execute(_SANA, {"nc": national_code}).first()


def bank_states(conn: Connection) -> dict[str, Row[Any]]:
    return {r.bank: r for r in conn.execute(_BANKS)}


_WALLETS = select(wallets.c.wallet, wallets.c.balance).where(
    and_(
        wallets.c.customer_id == bindparam("customer"),
        wallets.c.wallet.in_(("jibit.PRF", "jibit.POF")),
    )
)


def jibit_balances(conn: Connection, customer_id: int) -> dict[str, int]:
    """The customer's Jibit wallets: ``jibit.PRF``/``jibit.POF`` -> balance (absent: no row)."""
    return {r.wallet: int(r.balance) for r in conn.execute(_WALLETS, {"customer": customer_id})}
