"""What the Jibit surface needs to know about a customer: its status, IP allowlist, credential
version and per-service price rules, found through the process's credential cache
(:mod:`pishkhan.tenants.cache`: a disable, an allowlist, a rotation or a price changed is seen by
the next request of every process).
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.engine import Connection

from pishkhan.tenants.billing import PriceRule, PriceRules
from pishkhan.tenants.cache import Lookup
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


#: Customers by id (access and refresh tokens) and by API key (token generation), kept in the
#: process's credential cache (:mod:`pishkhan.tenants.cache`).
BY_ID: Final[Lookup[int, CustomerInfo]] = Lookup(
    "jibit.customer_id",
    lambda conn, customer_id, _epoch: _load(conn, customers.c.id == customer_id),
)
BY_API_KEY: Final[Lookup[str, CustomerInfo]] = Lookup(
    "jibit.api_key",
    lambda conn, api_key, _epoch: _load(conn, jibit_credentials.c.api_key == api_key),
)
