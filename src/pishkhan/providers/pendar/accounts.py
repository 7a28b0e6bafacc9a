"""The customer behind a request: its customer-code check, its transaction and audit entries,
and a refusal's usage record."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from pishkhan.core.ids import verify_secret
from pishkhan.iran import fold_digits
from pishkhan.runtime import Runtime
from pishkhan.tenants import billing

from . import caches
from . import errors as E
from .caches import Account
from .errors import PendarError
from .wire import Fields, field


def account(
    conn: Connection, customercode: str, *, bare: bool = False, status: int = 200
) -> Account:
    """The customer of ``"<code>-<license>"`` (or a bare ``<code>`` where ``bare``), read on
    ``conn``; 1203 otherwise."""
    return _checked_account(
        customercode, bare, status, lambda code: caches.load_account(conn, code, rules=False)
    )


def cached_account(
    runtime: Runtime, customercode: str, *, bare: bool = False, status: int = 200
) -> Account:
    """:func:`account` from the process's credential cache (see :func:`.caches.account`)."""
    return _checked_account(customercode, bare, status, lambda code: caches.account(runtime, code))


def _checked_account(
    customercode: str, bare: bool, status: int, find: Callable[[str], Account | None]
) -> Account:
    """The customer-code check: ``find`` gets the digit-folded code (1203 when the code is
    malformed, unknown, disabled or its license number differs)."""
    code, sep, license_number = customercode.strip().partition("-")
    if not code or (not sep and not bare):
        raise PendarError(E.CUSTOMER_INVALID, status=status)
    row = find(fold_digits(code))
    if row is None or not row.active or (sep and row.license_number != fold_digits(license_number)):
        raise PendarError(E.CUSTOMER_INVALID, status=status)
    return row


def failing(exc: PendarError, acct: Account | None) -> PendarError:
    """``exc`` tagged with the customer, once known (for the failure's usage record, see
    :func:`record_failure`)."""
    exc.customer_id = acct.customer_id if acct else None  # type: ignore[attr-defined]
    return exc


@contextmanager
def transaction(
    runtime: Runtime, data: Fields, *, report: bool = False
) -> Iterator[tuple[Connection, Account]]:
    """A write transaction for the customer of the request's ``customercode`` (1203 when there
    is none): with ``report``, a bare customer code whose ``reportkey`` must match (1203). A
    :class:`PendarError` raised inside is tagged with the customer (:func:`failing`); one
    raised by these checks is not (nobody's call to count)."""
    acct: Account | None = None
    try:
        with runtime.db.write() as conn:
            found = account(conn, field(data, "customercode"), bare=report)
            if report and not verify_secret(field(data, "reportkey"), found.report_key_hash):
                raise PendarError(E.CUSTOMER_INVALID)
            acct = found
            yield conn, acct
    except PendarError as exc:
        raise failing(exc, acct) from None


def audit(
    runtime: Runtime,
    conn: Connection,
    acct: Account,
    action: str,
    subject: str,
    data: dict[str, Any] | None = None,
    *,
    at: datetime | None = None,
) -> None:
    """The audit entry of the customer's operation, in its transaction."""
    runtime.audit.append(
        conn, actor=f"pendar:{acct.customer_code}", action=action, subject=subject, data=data, at=at
    )


def record_failure(runtime: Runtime, customer_id: int, method: str, code: int) -> None:
    """Count a refused call in the usage ledger (never charged), after its transaction rolled back."""
    with runtime.db.write() as conn:
        billing.record_failure(
            conn,
            runtime.clock,
            customer_id=customer_id,
            surface="pendar",
            service=method,
            outcome=str(code),
        )
