"""Transaction lists and statistics, and the health of each bank's services."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, or_, select

from pishkhan.iran.banks import by_payman_code

from . import sandbox
from .errors import PaymanError, invalid
from .mandates import canonical_status
from .merchants import Merchant
from .schemas import epoch_ms, get_amount, get_instant, get_int, get_list, get_str, tehran_iso
from .service import PaymanService
from .tables import payman_mandates, payman_transactions

DIRECT_DEBIT_TYPES = ("NORMAL", "PAYMAN_PAYMENT")


def _page(body: dict[str, Any]) -> tuple[int, int]:
    offset = get_int(body, "offset", "$.offset", required=True)
    length = get_int(body, "length", "$.length", required=True)
    assert offset is not None and length is not None
    if offset < 0:
        raise invalid("$.offset", "offset must not be negative")
    if not 0 < length <= 1000:
        raise invalid("$.length", "length must be between 1 and 1000")
    return offset, length


def _type_condition(value: str) -> Any:
    kind = value.strip().upper()
    t = payman_transactions.c
    if kind in ("DIRECT_DEBIT", "PAYMAN"):
        return t.transaction_type.in_(DIRECT_DEBIT_TYPES)
    return t.transaction_type == kind


def transactions(svc: PaymanService, merchant: Merchant, body: dict[str, Any]) -> dict[str, Any]:
    offset, length = _page(body)
    raw = body.get("filter")
    if raw not in (None, []) and not isinstance(raw, dict):
        raise invalid(
            "$.filter", "The JSON value could not be converted to Filter. Path: $.filter."
        )
    flt: dict[str, Any] = raw if isinstance(raw, dict) else {}
    t = payman_transactions.c
    conds: list[Any] = [t.customer_id == merchant.customer_id]
    f = "$.filter."
    for key, column in (("payman_ids", t.payman_id),):
        values = get_list(flt, key, f + key)
        if values:
            conds.append(column.in_([str(v) for v in values]))
    user_ids = get_list(flt, "user_ids", f + "user_ids")
    if user_ids:
        conds.append(payman_mandates.c.user_id.in_([str(u) for u in user_ids]))
    for key, column in (("trace_id", t.trace_id), ("reference_id", t.reference_id)):
        value = get_str(flt, key, f + key)
        if value:
            conds.append(column == value)
    kind = get_str(flt, "transaction_type", f + "transaction_type")
    if kind:
        conds.append(_type_condition(kind))
    low = get_amount(flt, "from_transaction_amount", f + "from_transaction_amount")
    high = get_amount(flt, "to_transaction_amount", f + "to_transaction_amount")
    if low is not None:
        conds.append(t.amount >= low)
    if high is not None:
        conds.append(t.amount <= high)
    start = get_instant(flt, "from_transaction_date", f + "from_transaction_date")
    end = get_instant(flt, "to_transaction_date", f + "to_transaction_date", date_only_end=True)
    if start is not None:
        conds.append(t.created_at >= start)
    if end is not None:
        conds.append(t.created_at <= end)
    note = get_str(flt, "note", f + "note")
    if note:
        conds.append(t.description.contains(note))
    for key, column in (
        ("source_bank_code", t.source_bank),
        ("destination_bank_code", t.destination_bank),
    ):
        value = get_str(flt, key, f + key)
        if value:
            conds.append(column == value.upper())
    mstat = get_list(flt, "payman_statuses", f + "payman_statuses")
    if mstat:
        conds.append(payman_mandates.c.status.in_([canonical_status(str(s)) for s in mstat]))
    tstat = get_list(flt, "transaction_statuses", f + "transaction_statuses")
    if tstat:
        conds.append(t.status.in_([str(s).upper() for s in tstat]))
    joined = payman_transactions.join(payman_mandates, payman_mandates.c.id == t.mandate_id)
    with svc.rt.db.read() as conn:
        total = conn.execute(
            select(func.count()).select_from(joined).where(and_(*conds))
        ).scalar_one()
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
    results = [
        {
            "commission_amount": r["commission_amount"],
            "currency": "IRR",
            "description": r["description"],
            "destination_bank_code": r["destination_bank"],
            "reference_id": r["reference_id"],
            "source_bank_code": r["source_bank"],
            "status": r["status"],
            "trace_id": r["trace_id"],
            "transaction_amount": r["amount"],
            "transaction_time": epoch_ms(r["created_at"]),
            "payman_id": r["payman_id"],
            "transaction_type": r["transaction_type"],
        }
        for r in rows
    ]
    return {"results": results, "total_records": int(total)}


def _range(body: dict[str, Any]) -> tuple[Any, Any]:
    start = get_instant(body, "start_date", "$.start_date", required=True)
    end = get_instant(body, "end_date", "$.end_date", required=True, date_only_end=True)
    assert start is not None and end is not None
    if end < start:
        raise PaymanError("2022", reference="$.end_date")
    return start, end


def merchant_transactions(
    svc: PaymanService, merchant: Merchant, body: dict[str, Any]
) -> list[dict[str, Any]]:
    offset, length = _page(body)
    start, end = _range(body)
    bank_code = (get_str(body, "bank_code", "$.bank_code", required=True) or "").upper()
    if by_payman_code(bank_code) is None:
        raise PaymanError("2084", reference="$.bank_code")
    reconciled_after = get_instant(body, "reconciled_after", "$.reconciled_after")
    reconcile_status = get_int(body, "reconcile_status", "$.reconcile_status")
    if reconcile_status is not None and reconcile_status not in (0, 1):
        raise PaymanError("2017", reference="$.reconcile_status")
    t = payman_transactions.c
    conds: list[Any] = [
        t.customer_id == merchant.customer_id,
        t.source_bank == bank_code,
        t.created_at >= start,
        t.created_at <= end,
    ]
    if reconciled_after is not None:
        conds.append(t.reconciled_at >= reconciled_after)
    if reconcile_status is not None:
        conds.append(t.reconcile_status == reconcile_status)
    with svc.rt.db.read() as conn:
        rows = (
            conn.execute(
                select(payman_transactions)
                .where(and_(*conds))
                .order_by(t.id)
                .offset(offset)
                .limit(length)
            )
            .mappings()
            .all()
        )
    out = []
    for r in rows:
        item: dict[str, Any] = {
            "commission_amount": r["commission_amount"],
            "currency": "IRR",
            "description": r["description"],
            "destination_bank": r["destination_bank"],
            "reference_id": r["reference_id"],
            "source_bank": r["source_bank"],
            "status": r["status"],
            "trace_id": r["trace_id"],
            "transaction_amount": r["amount"],
            "payman_id": r["payman_id"],
            "error_type": r["error_code"] or "",
            "transaction_type": r["transaction_type"],
            "server_date": tehran_iso(r["created_at"]),
            "client_date": tehran_iso(r["client_date"] or r["created_at"]),
        }
        if r["reconcile_status"] is not None:
            item["reconcile_status"] = r["reconcile_status"]
        out.append(item)
    return out


def statistics(svc: PaymanService, merchant: Merchant, body: dict[str, Any]) -> dict[str, Any]:
    start, end = _range(body)
    t = payman_transactions.c
    with svc.rt.db.read() as conn:
        rows = conn.execute(
            select(t.source_bank, t.transaction_type, func.sum(t.amount), func.count())
            .where(
                and_(
                    t.customer_id == merchant.customer_id,
                    t.status == "SUCCEED",
                    t.created_at >= start,
                    t.created_at <= end,
                )
            )
            .group_by(t.source_bank, t.transaction_type)
        ).all()
    results = sorted(
        (
            {
                "bank_code": r[0],
                "transaction_type": r[1],
                "total_amount": int(r[2] or 0),
                "total_count": int(r[3]),
                "count_of_over_draft_payment": 0,
            }
            for r in rows
        ),
        key=lambda x: (-x["total_count"], x["bank_code"]),
    )
    return {
        "total_amount": sum(r["total_amount"] for r in results),
        "total_records": sum(r["total_count"] for r in results),
        "results": results,
    }


def health(svc: PaymanService, merchant: Merchant) -> list[dict[str, Any]]:
    """Each bank's ``pay`` and ``create`` service state (banks the merchant may use)."""
    # Never-changed services report when this process started, but never later than the
    # sandbox clock's now (a clock frozen in the past must not see a future last_updated).
    since = min(svc.started_ms, svc.rt.clock.millis())
    out = []
    for code in sandbox.bank_codes():
        if not merchant.may_use(code):
            continue
        for service in sandbox.SERVICES:
            state, _ = sandbox.bank_state(svc.rt.state, code, service)
            out.append(
                {
                    "bank": code,
                    "service": service,
                    "status": sandbox.HEALTH_LABEL.get(state, state),
                    "last_updated": sandbox.last_updated(svc.rt.state, code, service, since),
                }
            )
    return out


__all__ = ["health", "merchant_transactions", "or_", "statistics", "transactions"]
