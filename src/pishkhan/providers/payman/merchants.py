"""Who is calling: merchants (Payman clients) by app-key and client id, cached per process.

The cache is refreshed at most every two seconds and on a miss, so a new customer works at
once and a disabled one stops within two seconds on every process.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import select

from pishkhan.core.db import Database
from pishkhan.tenants.tables import customers, payman_clients

from .schemas import as_utc

REFRESH_SECONDS = 2.0


class CacheMiss(LookupError):
    """The merchant cache cannot answer without reading the database."""


@dataclass(frozen=True, slots=True)
class Merchant:
    customer_id: int
    client_id: str
    app_key: str
    name: str
    active: bool
    redirect_urls: tuple[str, ...]
    allowed_banks: frozenset[str]
    generation: int
    secret_hash: str

    def may_use(self, bank_code: str) -> bool:
        return not self.allowed_banks or bank_code in self.allowed_banks


class MerchantDirectory:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._by_app_key: dict[str, Merchant] = {}
        self._by_client_id: dict[str, Merchant] = {}
        self._by_customer: dict[int, Merchant] = {}
        self._loaded = float("-inf")
        self._lock = threading.Lock()

    def _reload(self) -> None:
        with self._db.read() as conn:
            rows = conn.execute(
                select(
                    payman_clients.c.customer_id,
                    payman_clients.c.client_id,
                    payman_clients.c.app_key,
                    payman_clients.c.redirect_urls,
                    payman_clients.c.allowed_banks,
                    payman_clients.c.rotated_at,
                    payman_clients.c.client_secret_hash,
                    customers.c.name,
                    customers.c.status,
                ).join(customers, customers.c.id == payman_clients.c.customer_id)
            ).all()
        by_app: dict[str, Merchant] = {}
        by_client: dict[str, Merchant] = {}
        by_customer: dict[int, Merchant] = {}
        for r in rows:
            m = Merchant(
                customer_id=int(r.customer_id),
                client_id=r.client_id,
                app_key=r.app_key,
                name=r.name,
                active=r.status == "active",
                redirect_urls=tuple(r.redirect_urls or ()),
                allowed_banks=frozenset(str(b).upper() for b in (r.allowed_banks or ())),
                generation=int(as_utc(r.rotated_at).timestamp()),
                secret_hash=r.client_secret_hash,
            )
            by_app[m.app_key] = m
            by_client[m.client_id.lower()] = m
            by_customer[m.customer_id] = m
        self._by_app_key, self._by_client_id, self._by_customer = by_app, by_client, by_customer
        self._loaded = time.monotonic()

    def _fresh(self, force: bool = False) -> None:
        if force or time.monotonic() - self._loaded >= REFRESH_SECONDS:
            with self._lock:
                if force or time.monotonic() - self._loaded >= REFRESH_SECONDS:
                    self._reload()

    def _lookup(self, table: str, key: object) -> Merchant | None:
        self._fresh()
        found = getattr(self, table).get(key)
        if found is None:
            self._fresh(force=True)
            found = getattr(self, table).get(key)
        return found  # type: ignore[no-any-return]

    def by_app_key(self, app_key: str) -> Merchant | None:
        return self._lookup("_by_app_key", app_key)

    def by_client_id(self, client_id: str) -> Merchant | None:
        return self._lookup("_by_client_id", client_id.lower())

    def by_customer(self, customer_id: int) -> Merchant | None:
        return self._lookup("_by_customer", customer_id)

    def cached(self, table: str, key: object) -> Merchant:
        """The entry from the cache alone, never reading the database: :class:`CacheMiss` when
        the cache is due for a refresh or lacks the key (the caller then takes the way of
        :meth:`by_app_key` and friends, off the event loop)."""
        if time.monotonic() - self._loaded >= REFRESH_SECONDS:
            raise CacheMiss(table)
        found = getattr(self, table).get(key)
        if found is None:
            raise CacheMiss(table)
        return found  # type: ignore[no-any-return]

    def invalidate(self) -> None:
        self._loaded = float("-inf")
