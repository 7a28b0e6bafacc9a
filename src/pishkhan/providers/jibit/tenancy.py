"""What the Jibit surface needs to know about a customer, cached in process memory.

A customer's status, IP allowlist, credential version and per-service price rules are read at
most once per ``ttl`` seconds per process (the sandbox state refresh interval, 1 s by default),
so disabling a customer, changing its allowlist, rotating its secret or changing a price takes
effect everywhere within that interval without a database read per request.
"""

from __future__ import annotations

import hashlib
import ipaddress
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from pishkhan.core.caches import remember
from pishkhan.core.db import Database
from pishkhan.tenants.billing import PriceRule, PriceRules
from pishkhan.tenants.tables import customers, jibit_credentials

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class CustomerInfo:
    customer_id: int
    api_key: str
    secret_hash: str
    active: bool
    networks: tuple[IPNetwork, ...]
    credential_version: int
    rules: PriceRules = field(default_factory=lambda: PriceRules({}))

    def allows(self, host: str | None) -> bool:
        if not self.networks:
            return True
        if not host:
            return False
        try:
            addr = ipaddress.ip_address(host)
        except ValueError:
            return False
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        return any(addr in net for net in self.networks)

    def rule(self, service: str, default_price: int) -> PriceRule:
        return self.rules.rule(service, default_price)


def credential_version(secret_hash: str) -> int:
    """The version tokens carry (``cv``): 48 bits of a digest of the stored secret hash, so every
    rotation changes it (a new random secret). It was the rotation time in milliseconds, which
    two rotations in one instant (a frozen sandbox clock) shared, leaving older tokens valid."""
    return int(hashlib.sha256(secret_hash.encode("utf-8")).hexdigest()[:12], 16)


def _networks(raw: Any) -> tuple[IPNetwork, ...]:
    out: list[IPNetwork] = []
    for item in raw or ():
        try:
            out.append(ipaddress.ip_network(str(item).strip(), strict=False))
        except ValueError:
            continue  # an unparsable entry allows nothing
    return tuple(out)


def _load(conn: Connection, where: Any) -> CustomerInfo | None:
    row = conn.execute(
        select(
            customers.c.id,
            customers.c.status,
            customers.c.allowed_ips,
            jibit_credentials.c.api_key,
            jibit_credentials.c.secret_hash,
        )
        .select_from(customers.join(jibit_credentials))
        .where(where)
    ).first()
    if row is None:
        return None
    rules = PriceRules.load(conn, int(row.id), "jibit")
    return CustomerInfo(
        customer_id=int(row.id),
        api_key=row.api_key,
        secret_hash=row.secret_hash,
        active=row.status == "active",
        networks=_networks(row.allowed_ips),
        credential_version=credential_version(row.secret_hash),
        rules=rules,
    )


class CustomerCache:
    """Customers by id and by Jibit API key, each entry kept ``ttl`` seconds."""

    def __init__(self, db: Database, ttl: float) -> None:
        self._db = db
        self._ttl = ttl
        self._by_id: dict[int, tuple[float, CustomerInfo | None]] = {}
        self._by_key: dict[str, tuple[float, CustomerInfo | None]] = {}
        self._lock = threading.Lock()

    def by_id(self, customer_id: int) -> CustomerInfo | None:
        hit = self._by_id.get(customer_id)
        now = time.monotonic()
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        with self._db.read() as conn:
            info = _load(conn, customers.c.id == customer_id)
        with self._lock:
            remember(self._by_id, customer_id, (now, info), 10_000)
        return info

    def by_api_key(self, api_key: str) -> CustomerInfo | None:
        hit = self._by_key.get(api_key)
        now = time.monotonic()
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        with self._db.read() as conn:
            info = _load(conn, jibit_credentials.c.api_key == api_key)
        with self._lock:
            remember(self._by_key, api_key, (now, info), 10_000)
            if info is not None:
                self._by_id[info.customer_id] = (now, info)
        return info
