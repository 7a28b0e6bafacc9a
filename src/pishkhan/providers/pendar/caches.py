"""This process's caches of the Pendar surface: accounts (with their price rules) by customer
code and CA availability by CA id.

Customers (with their Pendar price rules) and CA availability are read at most once per ``ttl``
seconds per process (the sandbox state refresh interval, 1 s by default; 0 in tests), like the
Jibit surface's tenancy cache: disabling a customer, rotating its key, changing its grants or a
price, or marking a CA unavailable takes effect everywhere within that interval. The admin API
of this process drops the caches at once (:func:`forget`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.engine import Connection

from pishkhan.core.caches import PerDatabase, remember
from pishkhan.core.db import Database
from pishkhan.runtime import Runtime
from pishkhan.tenants.billing import PriceRule, PriceRules
from pishkhan.tenants.tables import customers, pendar_accounts

from .tables import pendar_cas

SURFACE: Final = "pendar"


@dataclass(frozen=True)
class AccountRow:
    customer_id: int
    customer_code: str
    license_number: str
    public_key_pem: str
    report_key_hash: str
    settings: dict[str, Any]
    active: bool
    rules: PriceRules = field(default_factory=lambda: PriceRules({}))

    def rule(self, service: str, default_price: int) -> PriceRule:
        return self.rules.rule(service, default_price)


def _load_account(conn: Connection, code: str) -> AccountRow | None:
    row = conn.execute(
        select(
            pendar_accounts.c.customer_id,
            pendar_accounts.c.customer_code,
            pendar_accounts.c.license_number,
            pendar_accounts.c.public_key_pem,
            pendar_accounts.c.report_key_hash,
            pendar_accounts.c.settings,
            customers.c.status,
        )
        .join(customers, customers.c.id == pendar_accounts.c.customer_id)
        .where(pendar_accounts.c.customer_code == code)
    ).first()
    if row is None:
        return None
    rules = PriceRules.load(conn, int(row[0]), SURFACE)
    return AccountRow(
        int(row[0]),
        row[1],
        row[2],
        row[3],
        row[4],
        dict(row[5] or {}),
        row[6] == "active",
        rules,
    )


class Caches:
    """Accounts by customer code and CA availability by CA id, each kept ``ttl`` seconds."""

    def __init__(self, db: Database, ttl: float) -> None:
        self._db = db
        self._ttl = ttl
        self._accounts: dict[str, tuple[float, AccountRow | None]] = {}
        self._available: tuple[float, dict[int, bool]] | None = None
        self._lock = threading.Lock()

    def account(self, code: str) -> AccountRow | None:
        """The account of a (digit-folded) customer code, or None."""
        hit = self._accounts.get(code)
        now = time.monotonic()
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        with self._db.read() as conn:
            found = _load_account(conn, code)
        with self._lock:
            remember(self._accounts, code, (now, found), 10_000)
        return found

    def available(self, ca_id: int) -> bool:
        hit = self._available
        now = time.monotonic()
        if hit is None or now - hit[0] >= self._ttl:
            with self._db.read() as conn:
                rows = conn.execute(select(pendar_cas.c.id, pendar_cas.c.available)).all()
            hit = self._available = (now, {int(r[0]): bool(r[1]) for r in rows})
        return hit[1].get(ca_id, False)

    def clear(self) -> None:
        with self._lock:
            self._accounts.clear()
            self._available = None


_caches: PerDatabase[Caches] = PerDatabase()


def caches(runtime: Runtime) -> Caches:
    return _caches.get(runtime.db, Caches, runtime.db, runtime.state.refresh_seconds)


def forget(runtime: Runtime) -> None:
    """Drop this process's cached accounts and availability (after an admin change)."""
    found = _caches.peek(runtime.db)
    if found is not None:
        found.clear()
