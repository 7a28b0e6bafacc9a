"""Payman's SQL statements outside the pay (mandates, their history, consent pages, search and
reports), each written once; the rules call these and hold no statement of their own."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, insert, select, update
from sqlalchemy.engine import Connection, RowMapping

from pishkhan.tenants.tables import customers
from pishkhan.world.tables import (
    world_cards,
    world_deposit_owners,
    world_deposits,
    world_people,
    world_sims,
)

from .tables import payman_consents, payman_mandate_history, payman_mandates, payman_transactions

Condition = ColumnElement[bool]

# -- mandates --------------------------------------------------------------------------------


def mandate_by(
    conn: Connection, column: str, value: Any, *, lock: bool = True
) -> RowMapping | None:
    """The mandate whose ``column`` (``id``, ``payman_id``, ``payman_code``) is ``value``,
    locked for the transaction unless ``lock`` is false."""
    stmt = select(payman_mandates).where(getattr(payman_mandates.c, column) == value)
    if lock:
        stmt = stmt.with_for_update()
    return conn.execute(stmt).mappings().first()


def mandate_by_trace(conn: Connection, customer_id: int, trace_id: str) -> RowMapping | None:
    """The merchant's mandate created with ``trace_id``, locked."""
    t = payman_mandates.c
    return (
        conn.execute(
            select(payman_mandates)
            .where(and_(t.customer_id == customer_id, t.trace_id == trace_id))
            .with_for_update()
        )
        .mappings()
        .first()
    )


def user_has_other_national_code(
    conn: Connection, customer_id: int, user_id: str, national_code: str
) -> bool:
    """Whether another mandate of the merchant's ``user_id`` names another person."""
    t = payman_mandates.c
    return (
        conn.execute(
            select(t.national_code)
            .where(
                and_(
                    t.customer_id == customer_id,
                    t.user_id == user_id,
                    t.national_code.is_not(None),
                    t.national_code != national_code,
                )
            )
            .limit(1)
        ).first()
        is not None
    )


def insert_mandate(conn: Connection, values: dict[str, Any]) -> int:
    return int(
        conn.execute(
            insert(payman_mandates).values(**values).returning(payman_mandates.c.id)
        ).scalar_one()
    )


def update_mandate_from(
    conn: Connection, mandate_id: int, status: str, values: dict[str, Any]
) -> bool:
    """Set ``values`` on the mandate if it still has ``status``; whether it did."""
    t = payman_mandates.c
    changed = conn.execute(
        update(payman_mandates).where(and_(t.id == mandate_id, t.status == status)).values(**values)
    ).rowcount
    return bool(changed == 1)


def add_history(
    conn: Connection,
    mandate_id: int,
    at: datetime,
    from_status: str | None,
    to_status: str,
    internal_status: str,
    actor: str,
    data: dict[str, Any] | None,
) -> None:
    conn.execute(
        insert(payman_mandate_history).values(
            mandate_id=mandate_id,
            at=at,
            from_status=from_status,
            to_status=to_status,
            internal_status=internal_status,
            actor=actor,
            data=data,
        )
    )


def mandates_due(
    conn: Connection, customer_id: int, statuses: Sequence[str], now: datetime
) -> list[RowMapping]:
    """The merchant's mandates in ``statuses`` whose expiration date has come."""
    t = payman_mandates.c
    return list(
        conn.execute(
            select(payman_mandates).where(
                and_(t.customer_id == customer_id, t.status.in_(statuses), t.expiration_date <= now)
            )
        )
        .mappings()
        .all()
    )


def mandates_matching(conn: Connection, conds: Sequence[Condition]) -> list[RowMapping]:
    """Every mandate matching ``conds``, newest first."""
    return list(conn.execute(_mandate_search(conds)).mappings().all())


def mandate_page(
    conn: Connection, conds: Sequence[Condition], offset: int, length: int
) -> tuple[int, list[RowMapping]]:
    """(how many mandates match ``conds``, the page of them from ``offset``), newest first."""
    total = conn.execute(
        select(func.count()).select_from(payman_mandates).where(and_(*conds))
    ).scalar_one()
    rows = conn.execute(_mandate_search(conds).offset(offset).limit(length)).mappings().all()
    return int(total), list(rows)


def _mandate_search(conds: Sequence[Condition]) -> Any:
    return select(payman_mandates).where(and_(*conds)).order_by(payman_mandates.c.id.desc())


# -- consent pages ---------------------------------------------------------------------------


def open_consent(conn: Connection, values: dict[str, Any]) -> None:
    conn.execute(insert(payman_consents).values(**values))


def consent_by_token(conn: Connection, token: str) -> RowMapping | None:
    """The consent page of ``token``, locked."""
    return (
        conn.execute(
            select(payman_consents).where(payman_consents.c.token == token).with_for_update()
        )
        .mappings()
        .first()
    )


def update_consent(conn: Connection, token: str, values: dict[str, Any]) -> None:
    conn.execute(update(payman_consents).where(payman_consents.c.token == token).values(**values))


def expired_open_consents(conn: Connection, mandate_id: int, now: datetime) -> list[RowMapping]:
    c = payman_consents.c
    return list(
        conn.execute(
            select(payman_consents).where(
                and_(c.mandate_id == mandate_id, c.stage != "DONE", c.expires_at <= now)
            )
        )
        .mappings()
        .all()
    )


def eligible_deposits(conn: Connection, national_code: str, bank_key: str) -> list[RowMapping]:
    """The person's deposits at the bank a mandate may use: active, single owner, not current."""
    d = world_deposits.c
    return list(
        conn.execute(
            select(d.iban, d.deposit_number, d.account_type)
            .join(world_deposit_owners, world_deposit_owners.c.iban == d.iban)
            .where(
                and_(
                    world_deposit_owners.c.national_code == national_code,
                    d.bank == bank_key,
                    d.status == "ACTIVE",
                    d.joint.is_(False),
                    d.account_type != "CURRENT",
                )
            )
            .order_by(d.deposit_number)
        ).mappings()
    )


def person_exists(conn: Connection, national_code: str) -> bool:
    return (
        conn.execute(
            select(world_people.c.national_code).where(
                world_people.c.national_code == national_code
            )
        ).first()
        is not None
    )


def sim_owner(conn: Connection, mobile: str) -> str | None:
    owner = conn.execute(
        select(world_sims.c.national_code).where(world_sims.c.mobile == mobile)
    ).scalar_one_or_none()
    return None if owner is None else str(owner)


def active_card(conn: Connection, deposit_iban: str) -> str | None:
    """An active card of the deposit, if it has one."""
    card = conn.execute(
        select(world_cards.c.number)
        .where(and_(world_cards.c.deposit_iban == deposit_iban, world_cards.c.status == "ACTIVE"))
        .limit(1)
    ).scalar_one_or_none()
    return None if card is None else str(card)


def customer_name(conn: Connection, customer_id: int) -> str:
    name = conn.execute(
        select(customers.c.name).where(customers.c.id == customer_id)
    ).scalar_one_or_none()
    return str(name or "")


# -- reports ---------------------------------------------------------------------------------


def transaction_page(
    conn: Connection, conds: Sequence[Condition], offset: int, length: int
) -> tuple[int, list[RowMapping]]:
    """(how many payments match ``conds``, which may name the mandate's columns too, and the
    page of them from ``offset``), newest first."""
    t = payman_transactions.c
    joined = payman_transactions.join(payman_mandates, payman_mandates.c.id == t.mandate_id)
    total = conn.execute(select(func.count()).select_from(joined).where(and_(*conds))).scalar_one()
    rows = (
        conn.execute(
            select(payman_transactions)
            .select_from(joined)
            .where(and_(*conds))
            .order_by(t.id.desc())
            .offset(offset)
            .limit(length)
        )
        .mappings()
        .all()
    )
    return int(total), list(rows)


def transactions_in_order(
    conn: Connection, conds: Sequence[Condition], offset: int, length: int
) -> list[RowMapping]:
    """The page from ``offset`` of the payments matching ``conds``, oldest first."""
    return list(
        conn.execute(
            select(payman_transactions)
            .where(and_(*conds))
            .order_by(payman_transactions.c.id)
            .offset(offset)
            .limit(length)
        )
        .mappings()
        .all()
    )


def totals_by_bank(conn: Connection, customer_id: int, start: datetime, end: datetime) -> list[Any]:
    """(bank, transaction type, amount, count) of the merchant's successful payments."""
    t = payman_transactions.c
    return list(
        conn.execute(
            select(t.source_bank, t.transaction_type, func.sum(t.amount), func.count())
            .where(
                and_(
                    t.customer_id == customer_id,
                    t.status == "SUCCEED",
                    t.created_at >= start,
                    t.created_at <= end,
                )
            )
            .group_by(t.source_bank, t.transaction_type)
        ).all()
    )
