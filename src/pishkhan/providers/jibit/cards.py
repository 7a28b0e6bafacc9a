"""Card services: card inquiry, card to deposit, card to IBAN, and the card-to-IBAN
availability report (no HTTP).

Like every inquiry's rule, ``parse_card`` validates the parameters (no database) and returns a
``work(conn)`` closure that reads the world and returns the answer body (the shape of
``wire.CardResponse``), raising :class:`JibitError` for a documented error; the routes run
``work`` and the billing (``billing.serve``) in one transaction.
"""

from __future__ import annotations

import functools
from datetime import date
from typing import Final

from sqlalchemy.engine import Connection

from pishkhan import iran
from pishkhan.providers.jibit import sql, wire
from pishkhan.providers.jibit.billing import Body, Work
from pishkhan.providers.jibit.errors import JibitError
from pishkhan.providers.jibit.ibans import found_deposit, iban_info, jibit_bank

_CARD_STATUS_ERRORS: Final[dict[str, str]] = {
    "LOST": "card.registered_as_lost",
    "STOLEN": "card.registered_as_stolen",
    "EXPIRED": "card.is_expired",
    "INACTIVE": "card.not_active",
    "BLACKLISTED": "card.black_listed",
    "OWNER_NOT_AUTHORIZED": "card.owner_not_authorized",
    "ACCOUNT_NOT_VALID": "card.account_number_not_valid",
}


@functools.lru_cache(maxsize=64)
def this_month(today: date) -> str:
    """The Jalali ``yyyyMM`` a card's expiry is compared with."""
    j = iran.to_jalali(today)
    return f"{j.year:04d}{j.month:02d}"


def checked_card(conn: Connection, number: str, month: str) -> sql.CardRow:
    """The card's row after the checks every card service makes, in this order: known card,
    bank active, provider active, card status, expiry."""
    row = sql.card(conn, number)
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


def owner_name(row: sql.CardRow) -> str:
    if row.first_name is not None:
        return f"{row.first_name} {row.last_name}"
    return str(row.legal_name or "")


def card_service(params: wire.Params) -> str:
    """Which card service the flags select: CARD_INQUIRY, CARD_TO_DEPOSIT or CARD_TO_IBAN."""
    deposit = wire.flag(params, "deposit")
    iban = wire.flag(params, "iban")
    national_code = wire.flag(params, "nationalCode")
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


def _with_deposit(conn: Connection, number: str, month: str) -> sql.CardRow:
    row = checked_card(conn, number, month)
    if row.deposit_number is None:
        raise JibitError("card.account_number_not_valid")
    return row


def parse_card(params: wire.Params, service: str, month: str) -> Work:
    number = wire.card_number(wire.get(params, "number"))

    def inquiry(conn: Connection) -> Body:
        row = _with_deposit(conn, number, month)
        return {
            "number": number,
            "cardInfo": {
                "bank": jibit_bank(row.bank),
                "type": row.type,
                "ownerName": owner_name(row),
                "depositNumber": row.deposit_number,
            },
        }

    def to_deposit(conn: Connection) -> Body:
        row = _with_deposit(conn, number, month)
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
        dep = found_deposit(sql.deposit_by_iban(conn, row.deposit_iban))
        if row.holder_national_code not in {o.national_code for o in dep.owners}:
            raise JibitError("conversion.failed")
        return {"number": number, "type": row.type, "ibanInfo": iban_info(dep)}

    return {"CARD_INQUIRY": inquiry, "CARD_TO_DEPOSIT": to_deposit, "CARD_TO_IBAN": to_iban}[
        service
    ]


def availability(conn: Connection) -> Body:
    """Card-to-IBAN availability per bank (each Jibit bank id once)."""
    states = sql.bank_states(conn)
    report: dict[str, str] = {}
    for bank in iran.all_banks():
        if bank.jibit_id != bank.key:
            continue
        st = states.get(bank.key)
        ok = st is None or (st.active and st.provider_active and st.card_to_iban_available)
        report[bank.key] = "AVAILABLE" if ok else "NOT_AVAILABLE"
    return {"availabilityReport": report}
