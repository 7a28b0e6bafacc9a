"""Who is calling: merchants (Payman clients) by App-Key, client id and customer id.

Merchants are found through the process's credential cache (:mod:`pishkhan.tenants.cache`),
always with the credential epoch read first (``max_age=0``, whatever
``PISHKHAN_CREDENTIAL_REFRESH`` says): a new customer works at once, and a rotated, disabled or
changed one is seen as such by the very next request, in every process. The PostgreSQL pay
takes its merchant from the cache without reading anything (:meth:`~pishkhan.tenants.cache.
Generation.cached`) and checks the epoch the merchant was read at (:attr:`Merchant.epoch`) in
its own statement.

App-Keys are stored hashed: they are looked up by the hash of the header's value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from pishkhan.core.caches import remember
from pishkhan.core.ids import hash_secret
from pishkhan.tenants.cache import Lookup
from pishkhan.tenants.tables import customers, payman_clients


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


def _load(conn: Connection, where: Any, epoch: int) -> Merchant | None:
    r = conn.execute(
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
        )
        .join(customers, customers.c.id == payman_clients.c.customer_id)
        .where(where)
    ).first()
    if r is None:
        return None
    return Merchant(
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


#: Merchants by the stored hash of their App-Key (:func:`key_hash`).
BY_APP_KEY: Final[Lookup[str, Merchant]] = Lookup(
    "payman.app_key",
    lambda conn, key_hash, epoch: _load(conn, payman_clients.c.app_key_hash == key_hash, epoch),
)
#: Merchants by client id, in lower case (client ids are matched without regard to case).
BY_CLIENT_ID: Final[Lookup[str, Merchant]] = Lookup(
    "payman.client_id",
    lambda conn, client_id, epoch: _load(
        conn, func.lower(payman_clients.c.client_id) == client_id, epoch
    ),
)
BY_CUSTOMER: Final[Lookup[int, Merchant]] = Lookup(
    "payman.customer_id",
    lambda conn, customer_id, epoch: _load(
        conn, payman_clients.c.customer_id == customer_id, epoch
    ),
)

_hashes: dict[str, str] = {}


def key_hash(app_key: str) -> str:
    """The stored form of an App-Key (kept for the keys seen lately: a merchant sends the same
    one on every call)."""
    found = _hashes.get(app_key)
    if found is None:
        found = remember(_hashes, app_key, hash_secret(app_key), 4096)
    return found
