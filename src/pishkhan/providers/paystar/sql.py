"""The Paystar surface's SQL statements, each written once.

The application of a call (joined with its customer), the open-banking wallet's credit, and
the world lookups the matching services answer from (one or two primary-key probes each on
:mod:`pishkhan.world.tables`).
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import RowMapping, and_, select
from sqlalchemy.engine import Connection

from pishkhan.tenants.tables import customers, paystar_applications, wallets
from pishkhan.world.tables import world_cards, world_deposit_owners, world_people, world_sims

#: The wallet every Paystar call is charged to.
WALLET: Final = "paystar.open_banking"

_APPLICATION: Final = select(
    paystar_applications.c.customer_id,
    paystar_applications.c.application_id,
    paystar_applications.c.access_password_hash,
    paystar_applications.c.refresh_token_hash,
    paystar_applications.c.allowed_ips,
    paystar_applications.c.status,
    paystar_applications.c.services,
    customers.c.status.label("customer_status"),
).select_from(
    paystar_applications.join(customers, customers.c.id == paystar_applications.c.customer_id)
)


def application(conn: Connection, application_id: str) -> RowMapping | None:
    """The application's row (``customer_id``, ``application_id``, the secret hashes,
    ``allowed_ips``, ``status``, ``services``, ``customer_status``), if it exists."""
    query = _APPLICATION.where(paystar_applications.c.application_id == application_id)
    return conn.execute(query).mappings().first()


def credit(conn: Connection, customer_id: int) -> int | None:
    """Balance plus credit limit of the customer's open-banking wallet; None without one."""
    row = conn.execute(
        select(wallets.c.balance, wallets.c.credit_limit).where(
            and_(wallets.c.customer_id == customer_id, wallets.c.wallet == WALLET)
        )
    ).first()
    return None if row is None else int(row[0]) + int(row[1])


def sim_owner(conn: Connection, mobile: str) -> str | None:
    """The national code a SIM (canonical ``09...``) is registered to (Shahkar), if any."""
    value = conn.execute(
        select(world_sims.c.national_code).where(world_sims.c.mobile == mobile)
    ).scalar_one_or_none()
    return None if value is None else str(value)


def person_birth_date(conn: Connection, national_code: str) -> str | None:
    """A person's Jalali birth date (``YYYYMMDD``), if the registry knows them."""
    value = conn.execute(
        select(world_people.c.birth_date).where(world_people.c.national_code == national_code)
    ).scalar_one_or_none()
    return None if value is None else str(value)


def card_belongs_to(conn: Connection, card_number: str, national_code: str) -> bool:
    """The card exists and is held by ``national_code``.

    A card with no recorded holder belongs to the owners of its deposit.
    """
    row = conn.execute(
        select(world_cards.c.holder_national_code, world_cards.c.deposit_iban).where(
            world_cards.c.number == card_number
        )
    ).first()
    if row is None:
        return False
    holder, deposit_iban = row
    if holder is not None:
        return str(holder) == national_code
    if deposit_iban is None:
        return False
    return deposit_owned_by(conn, str(deposit_iban), national_code)


def deposit_owned_by(conn: Connection, iban: str, national_code: str) -> bool:
    """``national_code`` is one of the owners of the deposit with this IBAN (joint included)."""
    found = conn.execute(
        select(world_deposit_owners.c.position).where(
            and_(
                world_deposit_owners.c.iban == iban,
                world_deposit_owners.c.national_code == national_code,
            )
        )
    ).first()
    return found is not None
