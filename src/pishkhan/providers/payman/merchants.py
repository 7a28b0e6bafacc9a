"""Who is calling: merchants (Payman clients) by App-Key and client id, cached per process.

The cache is loaded with the value of the credential epoch (``pishkhan.tenants.credentials``)
it was read at; every change of a customer's credentials or status moves the epoch in its own
transaction. :meth:`MerchantDirectory.by_app_key` and friends read the epoch first and reload
when it moved, so a new customer works at once and a rotated, disabled or changed one is seen
as such by the very next request, in every process. :meth:`MerchantDirectory.cached` answers
without reading anything (the PostgreSQL pay, whose statement checks the epoch itself).

App-Keys are stored hashed: the cache is keyed by the hash of the header's value.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import select

from pishkhan.core.caches import remember
from pishkhan.core.db import Database
from pishkhan.core.ids import hash_secret
from pishkhan.tenants import credentials
from pishkhan.tenants.tables import customers, payman_clients


class CacheMiss(LookupError):
    """The merchant cache cannot answer without reading the database."""


class StaleCredentials(Exception):
    """The credential epoch moved since the merchant was read: authenticate again."""


@dataclass(frozen=True, slots=True)
class Merchant:
    customer_id: int
    client_id: str
    app_key_hash: str
    name: str
    active: bool
    redirect_urls: tuple[str, ...]
    allowed_banks: frozenset[str]
    generation: int
    secret_hash: str
    #: the credential epoch this record was read at
    epoch: int

    def may_use(self, bank_code: str) -> bool:
        return not self.allowed_banks or bank_code in self.allowed_banks


class MerchantDirectory:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._epoch = credentials.epoch(db)
        self._by_app_key: dict[str, Merchant] = {}
        self._by_client_id: dict[str, Merchant] = {}
        self._by_customer: dict[int, Merchant] = {}
        self._hashes: dict[str, str] = {}
        #: the epoch the maps were loaded at (-1: never loaded)
        self.loaded_epoch = -1
        self._lock = threading.Lock()

    def _reload(self) -> None:
        with self._db.read() as conn:
            # The epoch first: a change committed between the two reads leaves the maps newer
            # than the epoch recorded, never older (the next check reloads once more).
            epoch = credentials.read(conn)
            rows = conn.execute(
                select(
                    payman_clients.c.customer_id,
                    payman_clients.c.client_id,
                    payman_clients.c.app_key_hash,
                    payman_clients.c.redirect_urls,
                    payman_clients.c.allowed_banks,
                    payman_clients.c.generation,
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
                app_key_hash=r.app_key_hash,
                name=r.name,
                active=r.status == "active",
                redirect_urls=tuple(r.redirect_urls or ()),
                allowed_banks=frozenset(str(b).upper() for b in (r.allowed_banks or ())),
                generation=int(r.generation),
                secret_hash=r.client_secret_hash,
                epoch=epoch,
            )
            by_app[m.app_key_hash] = m
            by_client[m.client_id.lower()] = m
            by_customer[m.customer_id] = m
        self._by_app_key, self._by_client_id, self._by_customer = by_app, by_client, by_customer
        self.loaded_epoch = epoch

    def current_epoch(self) -> int:
        """The credential epoch now (one single-row read)."""
        return self._epoch.current()

    def refresh(self) -> None:
        """Reload the cache if the credential epoch moved since it was loaded (one single-row
        read; :meth:`peek` then answers as the database does now)."""
        current = self._epoch.current()
        if current != self.loaded_epoch:
            with self._lock:
                if current != self.loaded_epoch:
                    self._reload()

    def peek(self, table: str, key: object) -> Merchant | None:
        """The entry as loaded, reading nothing (after :meth:`refresh`)."""
        if table == "_by_app_key":
            key = self.key_hash(str(key))
        return getattr(self, table).get(key)  # type: ignore[no-any-return]

    def key_hash(self, app_key: str) -> str:
        """The stored form of an App-Key (kept for the keys seen lately: a merchant sends the
        same one on every call)."""
        found = self._hashes.get(app_key)
        if found is None:
            found = remember(self._hashes, app_key, hash_secret(app_key), 4096)
        return found

    def by_app_key(self, app_key: str) -> Merchant | None:
        self.refresh()
        return self.peek("_by_app_key", app_key)

    def by_client_id(self, client_id: str) -> Merchant | None:
        self.refresh()
        return self.peek("_by_client_id", client_id.lower())

    def by_customer(self, customer_id: int) -> Merchant | None:
        self.refresh()
        return self.peek("_by_customer", customer_id)

    def cached(self, table: str, key: object) -> Merchant:
        """The entry from the cache alone, never reading the database: :class:`CacheMiss` when
        the cache was never loaded or lacks the key (the caller then takes the way of
        :meth:`by_app_key` and friends, off the event loop). The entry may be stale: the
        caller checks its ``epoch`` where it writes (the PostgreSQL pay's statement)."""
        if self.loaded_epoch < 0:
            raise CacheMiss(table)
        found = self.peek(table, key)
        if found is None:
            raise CacheMiss(table)
        return found

    def check(self, merchant: Merchant) -> None:
        """:class:`StaleCredentials` unless the epoch is still the one ``merchant`` was read
        at (one single-row read)."""
        if self._epoch.current() != merchant.epoch:
            raise StaleCredentials(merchant.customer_id)
