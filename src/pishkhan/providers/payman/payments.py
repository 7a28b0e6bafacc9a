"""Pay (direct debit) and its trace; settling and reversing payments (sandbox controls).

One pay is one transaction, and its rules are written once, as a transaction script
(:func:`_script`, run by ``pishkhan.core.pgpipeline``): the mandate row and its deposit's row are
locked (``FOR UPDATE``; SQLite serializes writers), the credential epoch is checked (a merchant
read before a rotation or a disable is authenticated again), every rule is checked against the
rows, then the deposit is debited, the transaction row claims ``(merchant, trace_id)`` (a unique
constraint: a concurrent duplicate fails, everything rolls back, and the pay runs again to answer
2049), the ledger gets its two entries and the mandate's counters move. A refusal raises before
anything is written, except the bank-side failures (003 insufficient balance, a forced FAILED),
which record a failed transaction under the trace id.

:func:`pay` runs the script statement by statement on a SQLAlchemy connection (SQLite, or any
database off the event loop); :func:`pay_async` runs it on PostgreSQL awaited on the event
loop, each of its two batches one pipelined round trip.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

import psycopg
from sqlalchemy import and_, select, update
from sqlalchemy.engine import Connection, RowMapping

from pishkhan.core.caches import remember
from pishkhan.core.clock import TEHRAN
from pishkhan.core.db import DriverSQL
from pishkhan.core.pgpipeline import Batch, PlannedEachRun, Script, pipeline, run_sync
from pishkhan.iran.banks import by_payman_code
from pishkhan.tenants.credentials import CURRENT_SQL
from pishkhan.world.tables import world_deposits

from . import ledger, limits, sandbox
from .errors import PaymanError, invalid
from .mandates import mask_card, mask_deposit
from .merchants import Merchant, StaleCredentials
from .schemas import as_utc, epoch_ms, get_amount, get_instant, get_str
from .service import PaymanService
from .tables import payman_mandates, payman_transactions

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


# The pay transaction is pre-written SQL on the DBAPI connection (``DriverSQL``): building
# SQLAlchemy constructs per call cost more CPU than everything else a pay does. Two batches:
# first the reads under the locks (the mandate row, its deposit's row; then, with a snapshot
# taken after the locks, the credential epoch and whether the trace id is taken), then the
# writes (the debit, the transaction row, its two ledger entries, the counters). On PostgreSQL
# each batch is one pipeline (``pishkhan.core.pgpipeline``), the first with ``BEGIN``, the
# second with ``COMMIT``: two round trips, the rules between them in Python.
_MANDATE_COLUMNS = (
    "id", "customer_id", "bank_code", "status", "start_date", "expiration_date",
    "deposit_iban", "deposit_number", "max_amount", "max_daily_count", "max_monthly_count",
    "daily_max_amount", "day_key", "day_count", "day_amount", "month_key", "month_count",
)  # fmt: skip
_MANDATE_SQL = (
    "SELECT " + ", ".join(_MANDATE_COLUMNS) + " FROM payman_mandates WHERE payman_id = :pid"
)
_DEPOSIT_SQL = (
    "SELECT status, balance FROM world_deposits "
    "WHERE iban = (SELECT deposit_iban FROM payman_mandates WHERE payman_id = :pid)"
)
_FORCED_SQL = (
    "SELECT id, remaining, outcome FROM payman_forced_outcomes "
    "WHERE payman_id = :pid OR payman_id IS NULL ORDER BY payman_id IS NULL, id LIMIT 1"
)
_TXN_ID = "(SELECT id FROM payman_transactions WHERE customer_id = :cid AND trace_id = :trace)"
_SQL: Final = {
    # SQLite serializes writers (the transaction begins IMMEDIATE): no row locks there.
    "mandate": DriverSQL(_MANDATE_SQL),
    "mandate_pg": DriverSQL(_MANDATE_SQL + " FOR UPDATE"),
    "deposit": DriverSQL(_DEPOSIT_SQL),
    "deposit_pg": DriverSQL(_DEPOSIT_SQL + " FOR UPDATE"),
    "forced": DriverSQL(_FORCED_SQL),
    "forced_pg": DriverSQL(_FORCED_SQL + " FOR UPDATE"),
    "forced_used": DriverSQL("DELETE FROM payman_forced_outcomes WHERE id = :id"),
    "forced_left": DriverSQL(
        "UPDATE payman_forced_outcomes SET remaining = :remaining WHERE id = :id"
    ),
    # the credential epoch (the merchant must have been read at it) and the trace id's pay
    "seen": PlannedEachRun(f"SELECT ({CURRENT_SQL}), " + _TXN_ID.replace("id FROM", "1 FROM", 1)),
    "debit": DriverSQL("UPDATE world_deposits SET balance = balance - :amount WHERE iban = :iban"),
    # A taken trace id (a concurrent pay committed it after this one's reads) or reference id
    # raises the unique constraint's error: the transaction rolls back and the pay runs again.
    "insert": DriverSQL(
        "INSERT INTO payman_transactions (customer_id, mandate_id, payman_id, trace_id, "
        "reference_id, batch_id, amount, commission_amount, description, pay_id, status, "
        "error_code, transaction_type, source_bank, source_iban, source_deposit, "
        "destination_bank, destination_deposit, client_date, created_at, updated_at) VALUES "
        "(:customer_id, :mandate_id, :payman_id, :trace_id, :reference_id, :batch_id, :amount, "
        ":commission_amount, :description, :pay_id, :status, :error_code, :transaction_type, "
        ":source_bank, :source_iban, :source_deposit, :destination_bank, :destination_deposit, "
        ":client_date, :created_at, :updated_at)"
    ),
    "ledger": PlannedEachRun(
        "INSERT INTO payman_ledger_entries (transaction_id, account, amount, kind, at) VALUES "
        f"({_TXN_ID}, :debit, :minus, 'PAY', :at), ({_TXN_ID}, :credit, :amount, 'PAY', :at)"
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
    row = dict(zip(_MANDATE_COLUMNS, raw, strict=True))
    row["start_date"] = _from_db_time(row["start_date"])
    row["expiration_date"] = _from_db_time(row["expiration_date"])
    if isinstance(row["day_key"], str):
        row["day_key"] = date.fromisoformat(row["day_key"])
    return row


#: What a pay's script returns: the transaction row's values, and the bank-side failure it
#: recorded (answered after the commit), if any.
Paid = tuple[dict[str, Any], PaymanError | None]


def _script(
    svc: PaymanService,
    merchant: Merchant,
    req: PayRequest,
    now: datetime,
    *,
    postgres: bool,
    attempt: int,
) -> Script[Paid]:
    """One pay as a transaction script (``pishkhan.core.pgpipeline``): the only definition of
    the pay's rules, run by :func:`pay` and :func:`pay_async` alike. Raises PaymanError (or
    StaleCredentials) with nothing written."""
    pg = "_pg" if postgres else ""
    cid = merchant.customer_id
    mandate, deposit, seen = yield Batch(
        [
            (_SQL["mandate" + pg], {"pid": req.payman_id}),
            (_SQL["deposit" + pg], {"pid": req.payman_id}),
            (_SQL["seen"], {"cid": cid, "trace": req.trace_id}),
        ]
    )
    epoch, trace_taken = seen[0]
    if (epoch or 0) != merchant.epoch:
        raise StaleCredentials(cid)
    row = _check_mandate(svc, merchant, _mandate_row(mandate[0]) if mandate else None, req, now)
    if trace_taken is not None:
        raise PaymanError("2049", reference="trace_id")
    now_teh = now.astimezone(TEHRAN)
    today = now_teh.date()
    usage = limits.usage_of(row, today)
    limits.check(row, usage, req.amount)
    if not deposit:
        raise PaymanError("10110")
    deposit_status, balance = deposit[0]
    if deposit_status != "ACTIVE":
        raise PaymanError("004")
    writes = Batch(last=True)
    outcome = "SUCCEED"
    if sandbox.forced_outcomes_exist(svc.rt.state):
        (forced,) = yield Batch([(_SQL["forced" + pg], {"pid": req.payman_id})])
        if forced:
            forced_id, remaining, outcome = forced[0]
            if remaining is not None and remaining <= 1:
                writes.append((_SQL["forced_used"], {"id": forced_id}))
            elif remaining is not None:
                writes.append((_SQL["forced_left"], {"id": forced_id, "remaining": remaining - 1}))
    status, error_code = outcome, None
    iban = row["deposit_iban"]
    bank_code = row["bank_code"]
    if outcome == "SUCCEED":
        if balance >= req.amount:
            writes.append((_SQL["debit"], {"iban": iban, "amount": req.amount}))
        else:
            status, error_code = "BALANCE_FAILED", "003"
    elif outcome == "FAILED":
        error_code = "2072"
    values = {
        "customer_id": cid,
        "mandate_id": row["id"],
        "payman_id": req.payman_id,
        "trace_id": req.trace_id,
        "reference_id": _reference(now, attempt),
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
        "destination_deposit": _settlement(cid, bank_code),
        "client_date": req.client_date,
        "created_at": now,
        "updated_at": now,
    }
    writes.append((_SQL["insert"], values))
    if status == "SUCCEED":
        ledger_entries = {
            "cid": cid,
            "trace": req.trace_id,
            "debit": ledger.deposit_account(iban),
            "credit": ledger.merchant_account(cid, bank_code),
            "amount": req.amount,
            "minus": -req.amount,
            "at": now,
        }
        writes.append((_SQL["ledger"], ledger_entries))
    if error_code is None:
        writes.append(
            (_SQL["count"], {**limits.counted(usage, req.amount, today), "id": row["id"]})
        )
    yield writes
    return values, None if error_code is None else PaymanError(error_code)


_SETTLEMENT: dict[tuple[int, str], str] = {}


def _settlement(customer_id: int, bank_code: str) -> str:
    """The merchant's settlement deposit at the bank (kept: a merchant's pays repeat them)."""
    key = (customer_id, bank_code)
    found = _SETTLEMENT.get(key)
    if found is None:
        found = remember(
            _SETTLEMENT, key, ledger.settlement_deposit_number(customer_id, bank_code), 4096
        )
    return found


def _answer(paid: Paid, now: datetime) -> dict[str, Any]:
    values, failure = paid
    if failure is not None:
        raise RecordedFailure(failure)
    return pay_json(values, int(now.timestamp() * 1000))


_TAKEN: Final = (psycopg.IntegrityError, sqlite3.IntegrityError)


def pay(svc: PaymanService, merchant: Merchant, body: dict[str, Any]) -> dict[str, Any]:
    """Debit a mandate (any database, off the event loop); raises PaymanError,
    StaleCredentials when the credential epoch moved since ``merchant`` was read, or
    RecordedFailure after committing a bank-side failure."""
    rt = svc.rt
    now = rt.clock.now_utc()
    req = parse_pay(body, now)
    for attempt in range(REFERENCE_ATTEMPTS):
        try:
            with rt.db.write() as conn:
                script = _script(
                    svc, merchant, req, now, postgres=rt.db.is_postgres, attempt=attempt
                )
                paid = run_sync(conn, script)
        except _TAKEN:
            continue  # the trace id (the next attempt answers 2049) or the reference was taken
        return _answer(paid, now)
    raise PaymanError("2000")


async def pay_async(svc: PaymanService, merchant: Merchant, body: dict[str, Any]) -> dict[str, Any]:
    """:func:`pay` on PostgreSQL, awaited on the event loop: the same script, each of its
    batches one pipelined round trip (``pishkhan.core.pgpipeline``)."""
    rt = svc.rt
    now = rt.clock.now_utc()
    req = parse_pay(body, now)
    runner = pipeline(rt.db)
    for attempt in range(REFERENCE_ATTEMPTS):
        try:
            paid = await runner.run(
                _script(svc, merchant, req, now, postgres=True, attempt=attempt)
            )
        except psycopg.IntegrityError:
            continue  # the trace id (the next attempt answers 2049) or the reference was taken
        return _answer(paid, now)
    raise PaymanError("2000")


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
