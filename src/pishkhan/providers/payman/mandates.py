"""Mandate states, transitions (with history) and the wire shapes of a mandate."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.engine import Connection, RowMapping

from .errors import CATALOGUE
from .schemas import as_utc, epoch_ms
from .tables import payman_mandate_history, payman_mandates

# Internal status codes (their texts are the catalogue's messages).
INTERNAL_CREATING = "2195"  # ایجاد قرارداد پیمان وب ویو
INTERNAL_WAITING = "2159"  # در انتظار فعالسازی قرارداد پیمان
INTERNAL_ACTIVATED = "2160"  # قرارداد پیمان فعال شده
INTERNAL_BY_SERVICE = {"CANCELLED": "2192", "DEACTIVE": "2193", "ACTIVE": "2194"}
INTERNAL_USER_CANCELLED = "2156"
INTERNAL_PAGE_EXPIRED = "2169"
INTERNAL_EXPIRED = "2006"
INTERNAL_UPDATED = "2171"  # بروزرسانی پیمان وب ویو
INTERNAL_PANEL_CANCELLED = "2180"

LIVE_STATUSES = ("WAITING_FOR_CONFIRM", "ACTIVE", "DEACTIVE")
FINAL_STATUSES = ("CANCELLED", "EXPIRED")
STATUS_ALIASES = {"WATING_FOR_CONFIRM": "WAITING_FOR_CONFIRM", "CANCELED": "CANCELLED"}


def canonical_status(text: str) -> str:
    upper = text.strip().upper()
    return STATUS_ALIASES.get(upper, upper)


def internal_text(code: str) -> str:
    return CATALOGUE[code][1]


def transition(
    conn: Connection,
    row: RowMapping,
    to_status: str,
    internal: str,
    *,
    actor: str,
    now: datetime,
    extra: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> bool:
    """Move a mandate from the status in ``row`` to ``to_status`` (a conditional UPDATE, so a
    concurrent change makes it return False), recording the transition in the history."""
    values: dict[str, Any] = {"status": to_status, "internal_status": internal, "updated_at": now}
    values.update(extra or {})
    changed = conn.execute(
        update(payman_mandates)
        .where(and_(payman_mandates.c.id == row["id"], payman_mandates.c.status == row["status"]))
        .values(**values)
    ).rowcount
    if changed != 1:
        return False
    conn.execute(
        insert(payman_mandate_history).values(
            mandate_id=row["id"],
            at=now,
            from_status=row["status"],
            to_status=to_status,
            internal_status=internal,
            actor=actor,
            data=data,
        )
    )
    return True


def record_creation(conn: Connection, mandate_id: int, now: datetime, actor: str) -> None:
    conn.execute(
        insert(payman_mandate_history).values(
            mandate_id=mandate_id,
            at=now,
            from_status=None,
            to_status="INITIALIZING",
            internal_status=INTERNAL_CREATING,
            actor=actor,
            data=None,
        )
    )


def is_expired(row: RowMapping, now: datetime) -> bool:
    return row["status"] in LIVE_STATUSES and as_utc(row["expiration_date"]) <= now


def expire_if_due(conn: Connection, row: RowMapping, now: datetime) -> RowMapping:
    """Persist EXPIRED for a live mandate past its expiration date; the fresh row."""
    if is_expired(row, now):
        transition(conn, row, "EXPIRED", INTERNAL_EXPIRED, actor="clock", now=now)
        return (
            conn.execute(select(payman_mandates).where(payman_mandates.c.id == row["id"]))
            .mappings()
            .one()
        )
    return row


def sweep_expired(conn: Connection, customer_id: int, now: datetime) -> None:
    rows = (
        conn.execute(
            select(payman_mandates).where(
                and_(
                    payman_mandates.c.customer_id == customer_id,
                    payman_mandates.c.status.in_(LIVE_STATUSES),
                    payman_mandates.c.expiration_date <= now,
                )
            )
        )
        .mappings()
        .all()
    )
    for row in rows:
        transition(conn, row, "EXPIRED", INTERNAL_EXPIRED, actor="clock", now=now)


def mask_deposit(number: str | None) -> str | None:
    """``2137**********97-1``: the first four and last four characters kept."""
    if not number:
        return None
    if len(number) <= 8:
        return number
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_card(number: str | None) -> str | None:
    if not number or len(number) != 16:
        return None
    return number[:6] + "******" + number[-4:]


def contract_json(row: RowMapping, *, with_amounts: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "expiration_date": epoch_ms(row["expiration_date"]),
        "start_date": epoch_ms(row["start_date"]),
        "max_daily_transaction_count": row["max_daily_count"],
    }
    if row["max_monthly_count"] is not None:
        out["max_monthly_transaction_count"] = row["max_monthly_count"]
    if with_amounts:
        if row["max_amount"] is not None:
            out["max_transaction_amount"] = row["max_amount"]
        if row["daily_max_amount"] is not None:
            out["daily_max_transaction_amount"] = row["daily_max_amount"]
    out["currency"] = "IRR"
    return out


def trace_json(row: RowMapping) -> dict[str, Any]:
    """create/trace: the document's sample fields (plus payman_code before activation)."""
    out: dict[str, Any] = {
        "bank_code": row["bank_code"],
        "user_id": row["user_id"],
        "payman_id": row["payman_id"],
    }
    if row["payman_id"] is None:
        out["payman_code"] = row["payman_code"]
    out.update(
        {
            "status": row["status"],
            "internal_status": internal_text(row["internal_status"]),
            "permission_ids": list(row["permission_ids"]),
            "contract": contract_json(row),
        }
    )
    card = mask_card(row["card_number"])
    if card:
        out["card_number"] = card
    out["over_draft"] = {"status": "DEACTIVE"}
    return out
