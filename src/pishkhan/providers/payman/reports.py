"""The report calls (App-Key and client headers; the bearer token optional): mandate search,
a mandate's remaining limits, transaction lists and statistics, and the health of each bank's
services."""

from __future__ import annotations

from typing import Any

from pishkhan.iran.banks import by_payman_code

from . import lifecycle, limits, sandbox, sql
from .access import PaymanService
from .errors import PaymanError, invalid
from .merchants import Merchant
from .tables import payman_mandates, payman_transactions
from .wire import (
    as_utc,
    epoch_ms,
    get_amount,
    get_instant,
    get_int,
    get_list,
    get_str,
    mask_deposit,
    merchant_transaction,
    search_item,
    transaction_item,
)

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


def _filter(body: dict[str, Any]) -> dict[str, Any]:
    """The body's ``filter`` object (absent, ``null`` or ``[]``: no filter)."""
    raw = body.get("filter")
    if raw not in (None, []) and not isinstance(raw, dict):
        raise invalid(
            "$.filter", "The JSON value could not be converted to Filter. Path: $.filter."
        )
    return raw if isinstance(raw, dict) else {}


def search(svc: PaymanService, merchant: Merchant, body: dict[str, Any]) -> dict[str, Any]:
    """The merchant's mandates matching the filter, newest first (expired ones marked so first)."""
    offset = get_int(body, "offset", "$.offset", required=True)
    length = get_int(body, "length", "$.length", required=True)
    assert offset is not None and length is not None
    if offset < 0 or not 0 < length <= 1000:
        raise invalid(
            "$.length" if offset >= 0 else "$.offset", "offset >= 0 and 1 <= length <= 1000"
        )
    flt = _filter(body)
    t = payman_mandates.c
    conds: list[Any] = [t.customer_id == merchant.customer_id]
    f = "$.filter."
    bank = get_str(flt, "bank_code", f + "bank_code")
    if bank:
        conds.append(t.bank_code == bank.upper())
    payman_id = get_str(flt, "payman_id", f + "payman_id")
    if payman_id:
        conds.append(t.payman_id == payman_id)
    for key, column, end in (
        ("expiration_date_from", t.expiration_date, False),
        ("expiration_date_to", t.expiration_date, True),
        ("start_date_from", t.start_date, False),
        ("start_date_to", t.start_date, True),
    ):
        value = get_instant(flt, key, f + key, date_only_end=end)
        if value is not None:
            conds.append(column <= value if end else column >= value)
    for key, column in (
        ("max_daily_transactions_count_from", t.max_daily_count),
        ("max_daily_transactions_count_to", t.max_daily_count),
        ("max_monthly_transactions_count_from", t.max_monthly_count),
        ("max_monthly_transactions_count_to", t.max_monthly_count),
    ):
        ivalue = get_int(flt, key, f + key)
        if ivalue is not None:
            conds.append(column >= ivalue if key.endswith("_from") else column <= ivalue)
    for key in ("transaction_max_amount_from", "transaction_max_amount_to"):
        avalue = get_amount(flt, key, f + key)
        if avalue is not None:
            conds.append(
                t.max_amount >= avalue if key.endswith("_from") else t.max_amount <= avalue
            )
    statuses = get_list(flt, "statuses", f + "statuses")
    if statuses:
        conds.append(t.status.in_([lifecycle.canonical_status(str(s)) for s in statuses]))
    user_ids = get_list(flt, "user_ids", f + "user_ids")
    if user_ids:
        conds.append(t.user_id.in_([str(u) for u in user_ids]))
    perms_raw = get_list(flt, "permission_ids", f + "permission_ids") or []
    perms = {
        get_int({"v": p}, "v", f"{f}permission_ids[{i}]", required=True)
        for i, p in enumerate(perms_raw)
    }
    now = svc.rt.clock.now_utc()
    with svc.rt.db.write() as conn:
        lifecycle.sweep_expired(conn, merchant.customer_id, now)
        if perms:
            # permission_ids is a JSON list: filter before paging so total_records and the
            # page agree.
            matching = [
                row
                for row in sql.mandates_matching(conn, conds)
                if perms & set(row["permission_ids"] or ())
            ]
            total, rows = len(matching), matching[offset : offset + length]
        else:
            total, rows = sql.mandate_page(conn, conds, offset, length)
    # The document's sample gives the institution's id as creditor_id (its App-Key there,
    # equal to its client_id); the App-Key is a secret stored hashed here.
    results = [search_item(row, merchant.name, merchant.client_id) for row in rows]
    return {"results": results, "total_records": total}


def report(svc: PaymanService, merchant: Merchant, payman_id: str) -> dict[str, Any]:
    """A mandate's remaining limits today and this month."""
    now = svc.rt.clock.now_utc()
    with svc.rt.db.write() as conn:
        row = lifecycle.owned(conn, merchant, "payman_id", payman_id)
        row = lifecycle.expire_if_due(conn, row, now)
    now_teh = svc.rt.clock.now()
    usage = limits.usage_of(row, now_teh.date())
    daily_max = row["daily_max_amount"]
    expiration = as_utc(row["expiration_date"])
    remaining_days = max(0, (expiration - now).days) if row["status"] == "ACTIVE" else 0
    out: dict[str, Any] = {
        "payman_id": row["payman_id"],
        "expiration_date": epoch_ms(row["expiration_date"]),
        "start_date": epoch_ms(row["start_date"]),
        "remaining_daily_transactions_count": max(0, row["max_daily_count"] - usage.day_count),
    }
    if row["max_monthly_count"] is not None:
        out["remaining_monthly_transactions_count"] = max(
            0, row["max_monthly_count"] - usage.month_count
        )
    out["end_of_current_month"] = limits.end_of_month_ms(now_teh)
    out["max_daily_transactions_count"] = row["max_daily_count"]
    if row["max_monthly_count"] is not None:
        out["max_monthly_transactions_count"] = row["max_monthly_count"]
    out.update(
        {
            "remaining_days": remaining_days,
            "remaining_daily_transaction_amount": max(0, daily_max - usage.day_amount)
            if daily_max
            else 0,
            "daily_transaction_max_amount": daily_max or 0,
            "status": row["status"],
            "deposit_number": mask_deposit(row["deposit_number"]),
        }
    )
    return out


def transactions(svc: PaymanService, merchant: Merchant, body: dict[str, Any]) -> dict[str, Any]:
    offset, length = _page(body)
    flt = _filter(body)
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
        conds.append(
            payman_mandates.c.status.in_([lifecycle.canonical_status(str(s)) for s in mstat])
        )
    tstat = get_list(flt, "transaction_statuses", f + "transaction_statuses")
    if tstat:
        conds.append(t.status.in_([str(s).upper() for s in tstat]))
    with svc.rt.db.read() as conn:
        total, rows = sql.transaction_page(conn, conds, offset, length)
    return {"results": [transaction_item(r) for r in rows], "total_records": total}


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
        rows = sql.transactions_in_order(conn, conds, offset, length)
    return [merchant_transaction(r) for r in rows]


def statistics(svc: PaymanService, merchant: Merchant, body: dict[str, Any]) -> dict[str, Any]:
    start, end = _range(body)
    with svc.rt.db.read() as conn:
        rows = sql.totals_by_bank(conn, merchant.customer_id, start, end)
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
