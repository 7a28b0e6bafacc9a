"""A mandate's life: its states, internal status codes, and every transition (a conditional
update recorded in the mandate's history), expiry included."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy.engine import Connection, RowMapping

from . import sql
from .errors import PaymanError
from .merchants import Merchant
from .wire import as_utc

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

LIVE_STATUSES: Final = ("WAITING_FOR_CONFIRM", "ACTIVE", "DEACTIVE")
FINAL_STATUSES: Final = ("CANCELLED", "EXPIRED")
STATUS_ALIASES: Final = {"WATING_FOR_CONFIRM": "WAITING_FOR_CONFIRM", "CANCELED": "CANCELLED"}


def canonical_status(text: str) -> str:
    upper = text.strip().upper()
    return STATUS_ALIASES.get(upper, upper)


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
    if not sql.update_mandate_from(conn, row["id"], row["status"], values):
        return False
    sql.add_history(conn, row["id"], now, row["status"], to_status, internal, actor, data)
    return True


def record_creation(conn: Connection, mandate_id: int, now: datetime, actor: str) -> None:
    sql.add_history(conn, mandate_id, now, None, "INITIALIZING", INTERNAL_CREATING, actor, None)


def is_expired(row: RowMapping, now: datetime) -> bool:
    return row["status"] in LIVE_STATUSES and as_utc(row["expiration_date"]) <= now


def expire_if_due(conn: Connection, row: RowMapping, now: datetime) -> RowMapping:
    """Persist EXPIRED for a live mandate past its expiration date; the fresh row."""
    if is_expired(row, now):
        _expire(conn, row, now)
        return reread(conn, row)
    return row


def sweep_expired(conn: Connection, customer_id: int, now: datetime) -> None:
    """Persist EXPIRED for every live mandate of the merchant past its expiration date."""
    for row in sql.mandates_due(conn, customer_id, LIVE_STATUSES, now):
        _expire(conn, row, now)


def _expire(conn: Connection, row: RowMapping, now: datetime) -> None:
    transition(conn, row, "EXPIRED", INTERNAL_EXPIRED, actor="clock", now=now)


def reread(conn: Connection, row: RowMapping) -> RowMapping:
    """The mandate of ``row`` as it is now (after a transition)."""
    fresh = sql.mandate_by(conn, "id", row["id"], lock=False)
    assert fresh is not None
    return fresh


def owned(
    conn: Connection, merchant: Merchant, column: str, value: str, *, foreign_code: str = "2055"
) -> RowMapping:
    """The merchant's mandate by ``column`` (locked): 2014 when there is none, ``foreign_code``
    when it is another merchant's."""
    row = sql.mandate_by(conn, column, value)
    if row is None:
        raise PaymanError("2014")
    if row["customer_id"] != merchant.customer_id:
        raise PaymanError(foreign_code)
    return row
