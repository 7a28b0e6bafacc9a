"""Pay (direct debit) and its trace; settling and reversing payments (sandbox controls).

One pay is one transaction: the mandate row is locked (``FOR UPDATE``; SQLite serializes
writers), every rule is checked against it, the person's deposit is debited with a conditional
UPDATE (``balance >= amount``), the transaction row claims ``(merchant, trace_id)`` (a unique
constraint: a concurrent duplicate fails and debits nothing), the ledger gets its two entries
and the mandate's counters move. A refusal raises before anything is written, except the
bank-side failures (003 insufficient balance, a forced FAILED), which record a failed
transaction under the trace id.

On PostgreSQL the same transaction is one call of the ``payman_pay`` function (migration 0006)
awaited on the event loop (:func:`pay_async`, ``pgpay``); :func:`pay` serves SQLite and the pays
the function defers to Python. Both give the same answers and leave the same state.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any, Final

from sqlalchemy import and_, delete, select, update
from sqlalchemy.engine import Connection, RowMapping
from starlette.concurrency import run_in_threadpool

from pishkhan.core.caches import remember
from pishkhan.core.clock import TEHRAN
from pishkhan.core.db import DriverSQL, driver_connection, sqlite_time
from pishkhan.iran.banks import by_payman_code
from pishkhan.tenants.cache import StaleCredentials
from pishkhan.world.tables import world_deposits

from . import ledger, limits, pgpay, sandbox
from .access import PaymanService
from .errors import PaymanError, invalid
from .merchants import Merchant
from .tables import payman_forced_outcomes, payman_mandates, payman_transactions
from .wire import as_utc, epoch_ms, get_amount, get_instant, get_str, mask_card, mask_deposit

# The document's footnote: these banks book pays as PAYMAN_PAYMENT, the others as NORMAL.
PAYMAN_PAYMENT_BANKS = frozenset({"BKMTIR", "MELIIR", "KESHIR", "BLUBIR"})
FORCEABLE = ("SUCCEED", "FAILED", "TIMEOUT", "IN_PROGRESS")
TRACE_MAX = 64
BATCH_EPOCH = datetime(2020, 1, 1).date()


@dataclass(frozen=True)
class PayRequest:
    trace_id: str
    payman_id: str
    amount: int
    description: str
    client_date: datetime | None
    pay_id: str | None
    commission: int | None


class RecordedFailure(Exception):
    """A bank-side failure recorded under the trace id: commit, then answer ``error``."""

    def __init__(self, error: PaymanError) -> None:
        super().__init__(error.code)
        self.error = error


def parse_pay(body: dict[str, Any], now: datetime) -> PayRequest:
    trace_id = get_str(body, "trace_id", "trace_id", required=True, max_len=TRACE_MAX)
    payman_id = get_str(body, "payman_id", "payman_id", required=True)
    amount = get_amount(body, "amount", "amount", required=True, code="027")
    description = get_str(body, "description", "description") or ""
    client_date = get_instant(body, "client_transaction_date", "client_transaction_date", now=now)
    pay_id = get_str(body, "pay_id", "pay_id")
    commission = get_amount(body, "commission_amount", "commission_amount", code="027")
    assert trace_id and payman_id and amount is not None
    if amount <= 0:
        raise PaymanError("027", reference="amount")
    return PayRequest(trace_id, payman_id, amount, description, client_date, pay_id, commission)


def transaction_type(bank_code: str) -> str:
    return "PAYMAN_PAYMENT" if bank_code in PAYMAN_PAYMENT_BANKS else "NORMAL"


def batch_id(bank_code: str, now_tehran: datetime) -> int:
    bank = by_payman_code(bank_code)
    index = sorted(sandbox.bank_codes()).index(bank_code) + 1 if bank else 0
    return ((now_tehran.date() - BATCH_EPOCH).days + 1) * 100 + index


REFERENCE_ATTEMPTS = 8


def _reference(now: datetime, attempt: int = 0) -> str:
    """The bank's reference: epoch microseconds, zero-padded to 20 digits (the document's
    ``00001748943275532294``). The clock's microseconds are replaced by random ones (the
    sandbox clock may be frozen or shared by many pays); a taken one is drawn again, further
    away on each attempt."""
    spread = 1_000_000 * 1000**attempt
    micros = int(now.timestamp()) * 1_000_000 + secrets.randbelow(spread)
    return f"{micros:020d}"


def _take_forced(conn: Connection, payman_id: str) -> str | None:
    row = (
        conn.execute(
            select(payman_forced_outcomes)
            .where(
                (payman_forced_outcomes.c.payman_id == payman_id)
                | payman_forced_outcomes.c.payman_id.is_(None)
            )
            .order_by(payman_forced_outcomes.c.payman_id.is_(None), payman_forced_outcomes.c.id)
            .limit(1)
            .with_for_update()
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    if row["remaining"] is not None:
        if row["remaining"] <= 1:
            conn.execute(
                delete(payman_forced_outcomes).where(payman_forced_outcomes.c.id == row["id"])
            )
        else:
            conn.execute(
                update(payman_forced_outcomes)
                .where(payman_forced_outcomes.c.id == row["id"])
                .values(remaining=row["remaining"] - 1)
            )
    return str(row["outcome"])


def _check_mandate(
    svc: PaymanService,
    merchant: Merchant,
    row: Mapping[Any, Any] | None,
    req: PayRequest,
    now: datetime,
) -> Mapping[Any, Any]:
    if row is None:
        raise PaymanError("2014")
    if row["customer_id"] != merchant.customer_id:
        raise PaymanError("2055")
    bank_code = row["bank_code"]
    if not merchant.may_use(bank_code):
        raise PaymanError("2205")
    state, rate = sandbox.bank_state(svc.rt.state, bank_code, "pay")
    if state == "inaccessible":
        raise PaymanError("2500")
    if state == "unstable" and sandbox.unstable_fails(rate):
        raise PaymanError("2000")
    bank = by_payman_code(bank_code)
    if (
        bank is not None
        and bank.pay_cutoff is not None
        and bank.pay_cutoff.contains(now.astimezone(TEHRAN).time())
    ):
        raise PaymanError("2121")
    status = row["status"]
    expiration = as_utc(row["expiration_date"])
    if status == "DEACTIVE":
        raise PaymanError("2058")
    if status == "CANCELLED":
        raise PaymanError("2154")
    if status == "EXPIRED" or (status == "ACTIVE" and expiration <= now):
        raise PaymanError("2006")
    if status != "ACTIVE":
        raise PaymanError("2010")
    if now < as_utc(row["start_date"]):
        raise PaymanError("2005")
    if req.client_date is not None:
        if req.client_date < as_utc(row["start_date"]) - timedelta(minutes=10):
            raise PaymanError("2059", reference="client_transaction_date")
        if req.client_date > expiration:
            raise PaymanError("2060", reference="client_transaction_date")
        if req.client_date < now - timedelta(days=30):
            raise PaymanError("2206", reference="client_transaction_date")
        if req.client_date > now + timedelta(days=1):
            raise PaymanError("2012", reference="client_transaction_date")
    if req.pay_id:
        raise PaymanError("1515", reference="pay_id")
    if req.commission:
        raise PaymanError("1516", reference="commission_amount")
    return row


# The pay transaction is pre-written SQL run on the DBAPI cursor (``DriverSQL``): building
# SQLAlchemy constructs per call cost more CPU than everything else a pay does, and the
# statements are few: lock the mandate (with its deposit's status and whether the trace id is
# taken, in the same round trip), debit, claim the trace id, two ledger entries, the counters.
_MANDATE_COLUMNS = (
    "id", "customer_id", "bank_code", "status", "start_date", "expiration_date",
    "deposit_iban", "deposit_number", "max_amount", "max_daily_count", "max_monthly_count",
    "daily_max_amount", "day_key", "day_count", "day_amount", "month_key", "month_count",
)  # fmt: skip
_LOCK_SQL = (
    "SELECT "
    + ", ".join(f"m.{c}" for c in _MANDATE_COLUMNS)
    + ", d.status, (SELECT 1 FROM payman_transactions AS t "
    "WHERE t.customer_id = :cid AND t.trace_id = :trace) "
    "FROM payman_mandates AS m LEFT OUTER JOIN world_deposits AS d ON d.iban = m.deposit_iban "
    "WHERE m.payman_id = :pid"
)
_SQL: Final = {
    "lock": DriverSQL(_LOCK_SQL),
    "lock_pg": DriverSQL(_LOCK_SQL + " FOR UPDATE OF m"),
    "debit": DriverSQL(
        "UPDATE world_deposits SET balance = balance - :amount "
        "WHERE iban = :iban AND balance >= :amount"
    ),
    # ON CONFLICT without a target: a taken trace id (or, rarely, reference id) inserts nothing
    # and raises no error, so the transaction stays usable to tell the two apart.
    "insert": DriverSQL(
        "INSERT INTO payman_transactions (customer_id, mandate_id, payman_id, trace_id, "
        "reference_id, batch_id, amount, commission_amount, description, pay_id, status, "
        "error_code, transaction_type, source_bank, source_iban, source_deposit, "
        "destination_bank, destination_deposit, client_date, created_at, updated_at) VALUES "
        "(:customer_id, :mandate_id, :payman_id, :trace_id, :reference_id, :batch_id, :amount, "
        ":commission_amount, :description, :pay_id, :status, :error_code, :transaction_type, "
        ":source_bank, :source_iban, :source_deposit, :destination_bank, :destination_deposit, "
        ":client_date, :created_at, :updated_at) ON CONFLICT DO NOTHING RETURNING id"
    ),
    "trace_taken": DriverSQL(
        "SELECT 1 FROM payman_transactions WHERE customer_id = :cid AND trace_id = :trace"
    ),
    "ledger": DriverSQL(
        "INSERT INTO payman_ledger_entries (transaction_id, account, amount, kind, at) VALUES "
        "(:tid, :debit, :minus, 'PAY', :at), (:tid, :credit, :amount, 'PAY', :at)"
    ),
    "count": DriverSQL(
        "UPDATE payman_mandates SET day_key = :day_key, day_count = :day_count, "
        "day_amount = :day_amount, month_key = :month_key, month_count = :month_count "
        "WHERE id = :id"
    ),
}


def _from_db_time(value: Any) -> datetime:
    """A DateTime column read on the DBAPI cursor (SQLite: naive UTC text) as aware UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return as_utc(value)


def _mandate_row(raw: tuple[Any, ...]) -> dict[str, Any]:
    row = dict(zip(_MANDATE_COLUMNS, raw, strict=False))
    row["start_date"] = _from_db_time(row["start_date"])
    row["expiration_date"] = _from_db_time(row["expiration_date"])
    if isinstance(row["day_key"], str):
        row["day_key"] = date.fromisoformat(row["day_key"])
    return row


def pay(svc: PaymanService, merchant: Merchant, body: dict[str, Any]) -> dict[str, Any]:
    """Debit a mandate; raises PaymanError, or RecordedFailure after committing a failure."""
    rt = svc.rt
    now = rt.clock.now_utc()
    req = parse_pay(body, now)
    now_teh = now.astimezone(TEHRAN)
    today = now_teh.date()
    failure: PaymanError | None = None
    with rt.db.write() as conn:
        raw = driver_connection(conn)
        postgres = conn.dialect.name == "postgresql"

        def run(name: str, params: dict[str, Any]) -> Any:
            sql = _SQL[name]
            return raw.execute(sql.pg if postgres else sql.sqlite, params)

        def db_time(value: datetime | None) -> Any:
            if value is None or postgres:
                return value
            return sqlite_time(value)

        found = run(
            "lock_pg" if postgres else "lock",
            {"pid": req.payman_id, "cid": merchant.customer_id, "trace": req.trace_id},
        ).fetchone()
        mandate = None if found is None else _mandate_row(found)
        row = _check_mandate(svc, merchant, mandate, req, now)
        deposit_status, trace_taken = found[-2], found[-1]
        if trace_taken is not None:
            raise PaymanError("2049", reference="trace_id")
        usage = limits.usage_of(row, today)
        limits.check(row, usage, req.amount)
        iban = row["deposit_iban"]
        if deposit_status is None:
            raise PaymanError("10110")
        if deposit_status != "ACTIVE":
            raise PaymanError("004")
        outcome = "SUCCEED"
        if sandbox.forced_outcomes_exist(rt.state):
            outcome = _take_forced(conn, req.payman_id) or "SUCCEED"
        status = outcome
        error_code: str | None = None
        if outcome == "SUCCEED":
            if run("debit", {"iban": iban, "amount": req.amount}).rowcount != 1:
                status, error_code = "BALANCE_FAILED", "003"
        elif outcome == "FAILED":
            error_code = "2072"
        bank_code = row["bank_code"]
        now_ms = int(now.timestamp() * 1000)
        values = {
            "customer_id": merchant.customer_id,
            "mandate_id": row["id"],
            "payman_id": req.payman_id,
            "trace_id": req.trace_id,
            "reference_id": _reference(now),
            "batch_id": batch_id(bank_code, now_teh),
            "amount": req.amount,
            "commission_amount": 0,
            "description": req.description,
            "pay_id": req.pay_id,
            "status": status,
            "error_code": error_code,
            "transaction_type": transaction_type(bank_code),
            "source_bank": bank_code,
            "source_iban": iban,
            "source_deposit": row["deposit_number"],
            "destination_bank": bank_code,
            "destination_deposit": ledger.settlement_deposit_number(
                merchant.customer_id, bank_code
            ),
            "client_date": req.client_date,
            "created_at": now,
            "updated_at": now,
        }
        params = {
            **values,
            "client_date": db_time(req.client_date),
            "created_at": db_time(now),
            "updated_at": db_time(now),
        }
        txn_id: int | None = None
        for attempt in range(REFERENCE_ATTEMPTS):
            inserted = run("insert", params).fetchone()
            if inserted is not None:
                txn_id = int(inserted[0])
                break
            if run("trace_taken", {"cid": merchant.customer_id, "trace": req.trace_id}).fetchone():
                # a concurrent pay with this trace id committed first: nothing of this one stays
                raise PaymanError("2049", reference="trace_id")
            params["reference_id"] = values["reference_id"] = _reference(now, attempt + 1)
        if txn_id is None:
            raise PaymanError("2000")
        if error_code is not None:
            failure = PaymanError(error_code)
        else:
            if status == "SUCCEED":
                run(
                    "ledger",
                    {
                        "tid": txn_id,
                        "debit": ledger.deposit_account(iban),
                        "credit": ledger.merchant_account(merchant.customer_id, bank_code),
                        "amount": req.amount,
                        "minus": -req.amount,
                        "at": db_time(now),
                    },
                )
            counted = limits.counted(usage, req.amount, today)
            if not postgres:
                counted["day_key"] = today.isoformat()
            run("count", {**counted, "id": row["id"]})
    if failure is not None:
        raise RecordedFailure(failure)
    return pay_json(values, now_ms)


# -- the PostgreSQL pay: one call of payman_pay (migration 0006) --------------------------------

# The error codes payman_pay answers that name a field (as _check_mandate and pay do).
_PG_REFERENCES: Final = {
    "2049": "trace_id",
    "2059": "client_transaction_date",
    "2060": "client_transaction_date",
    "2206": "client_transaction_date",
    "2012": "client_transaction_date",
}


@cache
def _bank_table() -> tuple[list[str], tuple[tuple[str, Any], ...]]:
    """The Payman bank codes sorted (batch_id's index is the position + 1) and each bank's
    cut-off window."""
    codes = sorted(sandbox.bank_codes())
    cutoffs = []
    for code in codes:
        bank = by_payman_code(code)
        cutoffs.append((code, bank.pay_cutoff if bank is not None else None))
    return codes, tuple(cutoffs)


_PAYMENT_BANKS: Final = sorted(PAYMAN_PAYMENT_BANKS)
_SETTLEMENT: dict[int, list[str]] = {}


def _settlement(customer_id: int) -> list[str]:
    """The merchant's settlement deposit at each bank of :func:`_bank_table`, in its order."""
    found = _SETTLEMENT.get(customer_id)
    if found is None:
        found = remember(
            _SETTLEMENT,
            customer_id,
            [ledger.settlement_deposit_number(customer_id, c) for c in _bank_table()[0]],
            4096,
        )
    return found


def _deferred_banks(svc: PaymanService, merchant: Merchant, now_teh: datetime) -> tuple[str, ...]:
    """The banks whose pays take the Python path now: the merchant may not use them (2205),
    the sandbox made them unstable or inaccessible (2000/2500), or they are in their cut-off
    window (2121). Usually none. Kept per merchant, bank switches and minute (the cut-off
    windows start and end on whole minutes; otherwise it is worked out for every pay)."""
    states = svc.rt.state.get(sandbox.BANKS_KEY)
    minute = now_teh.hour * 60 + now_teh.minute if _whole_minute_cutoffs() else -1
    key = (id(merchant), id(states), minute)
    hit = _DEFERRED.get(key)
    if hit is not None and hit[0] is merchant and hit[1] is states:
        return hit[2]
    at = now_teh.time().replace(tzinfo=None)
    allowed = merchant.allowed_banks
    out: list[str] = []
    for code, cutoff in _bank_table()[1]:
        if (
            (allowed and code not in allowed)
            or (cutoff is not None and cutoff.contains(at))
            or (states and sandbox.bank_state(svc.rt.state, code, "pay")[0] != "stable")
        ):
            out.append(code)
    found = tuple(out)
    if minute >= 0:
        remember(_DEFERRED, key, (merchant, states, found), 1024)
    return found


_DEFERRED: dict[tuple[int, int, int], tuple[Merchant, Any, tuple[str, ...]]] = {}


@cache
def _whole_minute_cutoffs() -> bool:
    return all(
        c is None or all(t.second == 0 and t.microsecond == 0 for t in (c.start, c.end))
        for _code, c in _bank_table()[1]
    )


_PAY_SQL: dict[tuple[int, date, tuple[str, ...]], bytes] = {}


def _pay_sql(customer_id: int, today: date, defer: tuple[str, ...]) -> bytes:
    key = (customer_id, today, defer)
    sql = _PAY_SQL.get(key)
    if sql is None:
        sql = pgpay.pay_sql(
            customer_id=customer_id,
            today=today,
            month=limits.month_key(today),
            batch_base=((today - BATCH_EPOCH).days + 1) * 100,
            banks=_bank_table()[0],
            settlement=_settlement(customer_id),
            payment_banks=_PAYMENT_BANKS,
            defer_banks=defer,
        )
        remember(_PAY_SQL, key, sql, 1024)
    return sql


async def pay_async(svc: PaymanService, merchant: Merchant, body: dict[str, Any]) -> dict[str, Any]:
    """:func:`pay` on PostgreSQL: one ``payman_pay`` call awaited on the event loop.

    What only Python knows (the request's fields, the sandbox clock, the merchant's banks, the
    bank switches and cut-off windows) is decided here and passed in; pays the function does
    not handle (forced outcomes, ``pay_id``/``commission_amount``, the banks of
    :func:`_deferred_banks`) run :func:`pay` in the threadpool, with the same answers.
    """
    payer = svc.pg_payer
    assert payer is not None
    rt = svc.rt
    now = rt.clock.now_utc()
    req = parse_pay(body, now)
    if req.pay_id or req.commission or sandbox.forced_outcomes_exist(rt.state):
        return await run_in_threadpool(_checked_pay, svc, merchant, body)
    now_teh = now.astimezone(TEHRAN)
    today = now_teh.date()
    customer_id = merchant.customer_id
    code, reference_id, batch = await payer.pay(
        _pay_sql(customer_id, today, _deferred_banks(svc, merchant, now_teh)),
        pgpay.pay_params(
            req.payman_id,
            req.trace_id,
            req.amount,
            req.description,
            req.client_date,
            now,
            _reference(now),
            int(now.timestamp()),
            merchant.epoch,
        ),
    )
    if code == "OK":
        now_ms = int(now.timestamp() * 1000)
        return pay_json(
            {
                "reference_id": reference_id,
                "trace_id": req.trace_id,
                "amount": req.amount,
                "batch_id": batch,
                "commission_amount": 0,
                "status": "SUCCEED",
            },
            now_ms,
        )
    if code == pgpay.STALE:
        raise StaleCredentials(customer_id)
    if code == "DEFER":
        return await run_in_threadpool(_checked_pay, svc, merchant, body)
    if code == "003":  # recorded as BALANCE_FAILED under the trace id
        raise RecordedFailure(PaymanError(code))
    raise PaymanError(code, reference=_PG_REFERENCES.get(code))


def _checked_pay(svc: PaymanService, merchant: Merchant, body: dict[str, Any]) -> dict[str, Any]:
    """:func:`pay` for a merchant taken from the cache unchecked (:meth:`PaymanService.
    authenticate_cached`): :class:`StaleCredentials` when the credential epoch moved since."""
    svc.credentials.check(merchant.epoch)
    return pay(svc, merchant, body)


def pay_json(values: dict[str, Any], now_ms: int) -> dict[str, Any]:
    return {
        "reference_id": values["reference_id"],
        "trace_id": values["trace_id"],
        "transaction_amount": values["amount"],
        "transaction_time": now_ms,
        "batch_id": values["batch_id"],
        "commission_amount": values["commission_amount"],
        "status": values["status"],
        "details": [
            {
                "reference_id": values["reference_id"],
                "trace_id": f"{values['trace_id']}_1",
                "amount": values["amount"],
                "transaction_time": now_ms,
                "transaction_detail_type": "MAIN",
                "status": values["status"],
            }
        ],
        "is_over_draft": False,
    }


def pay_trace(
    svc: PaymanService, merchant: Merchant, trace_id: str | None, day: str | None
) -> dict[str, Any]:
    if not trace_id:
        raise invalid("trace-id", "The trace-id field is required.")
    with svc.rt.db.read() as conn:
        row = (
            conn.execute(
                select(payman_transactions, payman_mandates.c.card_number)
                .join(payman_mandates, payman_mandates.c.id == payman_transactions.c.mandate_id)
                .where(
                    and_(
                        payman_transactions.c.customer_id == merchant.customer_id,
                        payman_transactions.c.trace_id == trace_id,
                    )
                )
            )
            .mappings()
            .first()
        )
    if row is None:
        raise PaymanError("2021")
    if day:
        wanted = get_instant({"d": day}, "d", "date")
        assert wanted is not None
        created = as_utc(row["created_at"]).astimezone(TEHRAN).date()
        if abs((wanted.astimezone(TEHRAN).date() - created).days) > 1:
            raise PaymanError("2021")
    out: dict[str, Any] = {
        "currency": "IRR",
        "description": row["description"],
        "destination_bank": row["destination_bank"],
        "destination_deposit": row["destination_deposit"],
        "source_bank": row["source_bank"],
        "source_deposit": mask_deposit(row["source_deposit"]),
        "transaction_type": row["transaction_type"],
    }
    card = mask_card(row["card_number"])
    if card:
        out["card_number"] = card
    out.update(
        {
            "error_type": row["error_code"] or "",
            "reference_id": row["reference_id"],
            "trace_id": row["trace_id"],
            "transaction_amount": row["amount"],
            "transaction_time": epoch_ms(row["created_at"]),
            "batch_id": row["batch_id"],
            "commission_amount": row["commission_amount"],
            "status": row["status"],
            "is_over_draft": False,
        }
    )
    if row["reconcile_status"] is not None:
        out["reconcile_status"] = row["reconcile_status"]
    if row["pay_id"]:
        out["pay_id"] = row["pay_id"]
    return out


# -- sandbox operations ------------------------------------------------------------------------


def _txn_for_update(conn: Connection, reference: str) -> RowMapping:
    row = (
        conn.execute(
            select(payman_transactions)
            .where(
                (payman_transactions.c.reference_id == reference)
                | (payman_transactions.c.trace_id == reference)
            )
            .with_for_update()
        )
        .mappings()
        .first()
    )
    if row is None:
        raise PaymanError("2030")
    return row


def settle(conn: Connection, now: datetime, reference: str, outcome: str) -> dict[str, Any]:
    """Finish an IN_PROGRESS/TIMEOUT payment as SUCCEED (debiting now) or FAILED."""
    row = _txn_for_update(conn, reference)
    if row["status"] not in ("IN_PROGRESS", "TIMEOUT"):
        raise PaymanError("2031")
    status = outcome
    if outcome == "SUCCEED":
        debited = conn.execute(
            update(world_deposits)
            .where(
                and_(
                    world_deposits.c.iban == row["source_iban"],
                    world_deposits.c.balance >= row["amount"],
                )
            )
            .values(balance=world_deposits.c.balance - row["amount"])
        ).rowcount
        if debited != 1:
            status = "BALANCE_FAILED"
        else:
            ledger.post_transfer(
                conn,
                transaction_id=row["id"],
                debit=ledger.deposit_account(row["source_iban"]),
                credit=ledger.merchant_account(row["customer_id"], row["source_bank"]),
                amount=row["amount"],
                kind="PAY",
                at=now,
            )
    conn.execute(
        update(payman_transactions)
        .where(payman_transactions.c.id == row["id"])
        .values(
            status=status, updated_at=now, error_code="003" if status == "BALANCE_FAILED" else None
        )
    )
    return {"reference_id": row["reference_id"], "trace_id": row["trace_id"], "status": status}


def reverse(conn: Connection, now: datetime, reference: str) -> dict[str, Any]:
    """Reverse a SUCCEED payment: the money goes back to the person's deposit."""
    row = _txn_for_update(conn, reference)
    if row["status"] == "REVERSED":
        raise PaymanError("2125")
    if row["status"] != "SUCCEED":
        raise PaymanError("2031")
    conn.execute(
        update(world_deposits)
        .where(world_deposits.c.iban == row["source_iban"])
        .values(balance=world_deposits.c.balance + row["amount"])
    )
    ledger.post_transfer(
        conn,
        transaction_id=row["id"],
        debit=ledger.merchant_account(row["customer_id"], row["source_bank"]),
        credit=ledger.deposit_account(row["source_iban"]),
        amount=row["amount"],
        kind="REVERSE",
        at=now,
    )
    conn.execute(
        update(payman_transactions)
        .where(payman_transactions.c.id == row["id"])
        .values(status="REVERSED", updated_at=now)
    )
    return {"reference_id": row["reference_id"], "trace_id": row["trace_id"], "status": "REVERSED"}


def reconcile(
    conn: Connection, now: datetime, reference: str, reconcile_status: int
) -> dict[str, Any]:
    row = _txn_for_update(conn, reference)
    conn.execute(
        update(payman_transactions)
        .where(payman_transactions.c.id == row["id"])
        .values(reconcile_status=reconcile_status, reconciled_at=now)
    )
    return {"reference_id": row["reference_id"], "reconcile_status": reconcile_status}


__all__ = [
    "FORCEABLE",
    "UTC",
    "RecordedFailure",
    "pay",
    "pay_async",
    "pay_trace",
    "reconcile",
    "reverse",
    "settle",
]
