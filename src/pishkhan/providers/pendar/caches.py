"""This process's caches of the Pendar surface.

Accounts (with their Pendar price rules) come from the process's credential cache
(:mod:`pishkhan.tenants.cache`): disabling a customer, rotating its key, changing its grants,
switches or a price is seen by the next request of every process. CA availability is read at
most once per ``ttl`` seconds per process (the sandbox state refresh interval, 1 s by default;
0 in tests): marking a CA unavailable takes effect everywhere within that interval, and at once
in the process whose admin API made it (:func:`forget`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.engine import Connection

from pishkhan.core.caches import PerDatabase
from pishkhan.core.db import Database
from pishkhan.runtime import Runtime
from pishkhan.tenants import cache
from pishkhan.tenants.billing import PriceRule, PriceRules
from pishkhan.tenants.cache import Lookup
from pishkhan.tenants.tables import customers, pendar_accounts

from .tables import pendar_cas

SURFACE: Final = "pendar"


@dataclass(frozen=True)
class Account:
    customer_id: int
    customer_code: str
    license_number: str
    public_key_pem: str
    report_key_hash: str
    settings: dict[str, Any]
    active: bool
    rules: PriceRules = field(default_factory=lambda: PriceRules({}))

    @property
    def customercode(self) -> str:
        """``"<code>-<license>"``, as the customer signs it."""
        return f"{self.customer_code}-{self.license_number}"

    def rule(self, service: str, default_price: int) -> PriceRule:
        return self.rules.rule(service, default_price)


def load_account(conn: Connection, code: str, *, rules: bool = True) -> Account | None:
    """The account of a (digit-folded) customer code read on ``conn`` (with its price rules
    unless ``rules`` is false), or None."""
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
    return Account(
        int(row[0]),
        row[1],
        row[2],
        row[3],
        row[4],
        dict(row[5] or {}),
        row[6] == "active",
        PriceRules.load(conn, int(row[0]), SURFACE) if rules else PriceRules({}),
    )


#: Accounts by (digit-folded) customer code, in the credential cache.
ACCOUNTS: Final[Lookup[str, Account]] = Lookup(
    "pendar.customer_code", lambda conn, code, _epoch: load_account(conn, code)
)


def account(runtime: Runtime, code: str, *, checked: bool = False) -> Account | None:
    """The account of a (digit-folded) customer code from the credential cache, or None; the
    credential epoch is read first unless ``checked`` (this request's customer check just did)."""
    found = cache.of(runtime.db, runtime.settings.credential_refresh)
    return (found.latest() if checked else found.fresh()).get(ACCOUNTS, code)


class Caches:
    """CA availability by CA id, kept ``ttl`` seconds."""

    def __init__(self, db: Database, ttl: float) -> None:
        self._db = db
        self._ttl = ttl
        self._available: tuple[float, dict[int, bool]] | None = None

    def available(self, ca_id: int) -> bool:
        hit = self._available
        now = time.monotonic()
        if hit is None or now - hit[0] >= self._ttl:
            with self._db.read() as conn:
                rows = conn.execute(select(pendar_cas.c.id, pendar_cas.c.available)).all()
            hit = self._available = (now, {int(r[0]): bool(r[1]) for r in rows})
        return hit[1].get(ca_id, False)

    def clear(self) -> None:
        self._available = None


_caches: PerDatabase[Caches] = PerDatabase()


def caches(runtime: Runtime) -> Caches:
    return _caches.get(runtime.db, Caches, runtime.db, runtime.state.refresh_seconds)


def forget(runtime: Runtime) -> None:
    """Drop this process's CA availability (after an admin change)."""
    found = _caches.peek(runtime.db)
    if found is not None:
        found.clear()
