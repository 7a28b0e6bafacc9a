"""IBAN services: IBAN inquiry and deposit (account number) to IBAN (no HTTP); also the
``ibanInfo`` block every answer that names a deposit carries."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from pishkhan import iran
from pishkhan.providers.jibit import sql, wire
from pishkhan.providers.jibit.billing import Body, Work
from pishkhan.providers.jibit.errors import JibitError


def jibit_bank(bank_key: str | None) -> str:
    """The Jibit bank id of a bank key (``UNKNOWN`` for none)."""
    bank = iran.by_key(bank_key) if bank_key else None
    return iran.jibit_id_of(bank)


def iban_info(dep: sql.Deposit) -> Body:
    return {
        "bank": jibit_bank(dep.bank),
        "depositNumber": dep.deposit_number,
        "iban": dep.iban,
        "status": dep.status,
        "owners": [{"firstName": o.first_name, "lastName": o.last_name} for o in dep.owners],
    }


def found_deposit(dep: sql.Deposit | None) -> sql.Deposit:
    """A deposit that exists and has owners (``iban.not_found``, ``iban.owner_not_found``)."""
    if dep is None:
        raise JibitError("iban.not_found")
    if not dep.owners:
        raise JibitError("iban.owner_not_found")
    return dep


def parse_iban(params: wire.Params) -> Work:
    value = wire.iban(wire.get(params, "value"))

    def work(conn: Connection) -> Body:
        dep = found_deposit(sql.deposit_by_iban(conn, value))
        return {"value": value, "ibanInfo": iban_info(dep)}

    return work


def parse_deposit_to_iban(params: wire.Params) -> Work:
    if not wire.flag(params, "iban"):
        raise JibitError("invalid.request_body")
    keys = wire.bank(wire.get(params, "bank"))
    number = wire.deposit_number(wire.get(params, "number"))

    def work(conn: Connection) -> Body:
        dep = found_deposit(sql.deposit_by_number(conn, keys, number))
        return {
            "number": number,
            "depositToIBANInfo": {"bank": jibit_bank(dep.bank), "iban": dep.iban},
            "ibanInfo": iban_info(dep),
        }

    return work
