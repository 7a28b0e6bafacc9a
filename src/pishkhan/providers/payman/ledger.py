"""The double-entry ledger of money moved by pays.

Every successful pay debits the person's deposit account (``deposit:<IBAN>``) and credits the
merchant's settlement account at the same bank (``merchant:<customer id>:<bank code>``); a
reversal writes the mirror entries. The entries of each movement sum to zero, so the whole
ledger always sums to zero, and each deposit's ledger total equals the change of its balance.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from .tables import payman_ledger_entries


def deposit_account(iban: str) -> str:
    return f"deposit:{iban}"


def merchant_account(customer_id: int, bank_code: str) -> str:
    return f"merchant:{customer_id}:{bank_code}"


def settlement_deposit_number(customer_id: int, bank_code: str) -> str:
    """The merchant's settlement deposit at a bank (deterministic, e.g. ``849-40-4443333-1``)."""
    seed = sum(ord(c) for c in bank_code) * 7919 + customer_id * 104729
    return f"{100 + customer_id % 900:03d}-40-{seed % 10_000_000:07d}-1"


def post_transfer(
    conn: Connection,
    *,
    transaction_id: int,
    debit: str,
    credit: str,
    amount: int,
    kind: str,
    at: datetime,
) -> None:
    conn.execute(
        insert(payman_ledger_entries),
        [
            {
                "transaction_id": transaction_id,
                "account": debit,
                "amount": -amount,
                "kind": kind,
                "at": at,
            },
            {
                "transaction_id": transaction_id,
                "account": credit,
                "amount": amount,
                "kind": kind,
                "at": at,
            },
        ],
    )


def total(conn: Connection) -> int:
    """The sum of every entry: zero in a balanced ledger."""
    return int(
        conn.execute(
            select(func.coalesce(func.sum(payman_ledger_entries.c.amount), 0))
        ).scalar_one()
    )


def account_balance(conn: Connection, account: str) -> int:
    return int(
        conn.execute(
            select(func.coalesce(func.sum(payman_ledger_entries.c.amount), 0)).where(
                payman_ledger_entries.c.account == account
            )
        ).scalar_one()
    )
