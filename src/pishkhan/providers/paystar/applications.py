"""A Paystar application: the caller's identity (``application_id`` + ``access_password``),
where it may call from (its IP allowlist) and which matching services it has.

Both capabilities (:mod:`.api_keys`' refresh and :mod:`.matching`) identify the caller with
these checks, each in its own order around them.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy.engine import Connection

from pishkhan.core.ids import verify_secret

from . import sql
from .errors import PaystarFailure, Status
from .wire import Fields, text_field


@dataclass(frozen=True)
class Application:
    customer_id: int
    application_id: str
    access_password_hash: str
    refresh_token_hash: str
    allowed_ips: tuple[str, ...]
    active: bool
    services: tuple[str, ...]


def required(fields: Fields | None, *names: str) -> tuple[str, ...]:
    """The named text fields, or status 10 when the body is malformed or one is missing."""
    if fields is None:
        raise PaystarFailure(Status.INVALID_INPUT)
    values = tuple(text_field(fields, name) for name in names)
    if any(value is None for value in values):
        raise PaystarFailure(Status.INVALID_INPUT)
    return values  # type: ignore[return-value]  # no None left


def load(conn: Connection, application_id: str) -> Application:
    """The application (joined with its customer), or status 2 when there is none."""
    row = sql.application(conn, application_id)
    if row is None:
        raise PaystarFailure(Status.APPLICATION_NOT_FOUND)
    return Application(
        customer_id=int(row["customer_id"]),
        application_id=str(row["application_id"]),
        access_password_hash=str(row["access_password_hash"]),
        refresh_token_hash=str(row["refresh_token_hash"]),
        allowed_ips=tuple(str(ip) for ip in (row["allowed_ips"] or ())),
        active=row["status"] == "active" and row["customer_status"] == "active",
        services=tuple(str(s) for s in (row["services"] or ())),
    )


def require_active(app: Application) -> None:
    """Status 3 when the application or its customer is disabled."""
    if not app.active:
        raise PaystarFailure(Status.APPLICATION_NOT_ACTIVE)


def admit(app: Application, access_password: str, client_ip: str) -> None:
    """Status 6 for a wrong ``access_password``, then 7 for a caller's IP not allowed."""
    if not verify_secret(access_password, app.access_password_hash):
        raise PaystarFailure(Status.WRONG_PASSWORD)
    if not ip_allowed(app.allowed_ips, client_ip):
        raise PaystarFailure(Status.IP_NOT_ALLOWED)


@lru_cache(maxsize=1024)
def _network(entry: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(entry.strip(), strict=False)
    except ValueError:
        return None


def ip_allowed(allowed: tuple[str, ...], client_ip: str) -> bool:
    """An empty allowlist admits everyone; entries are addresses or CIDR networks.

    A client address that is not an IP (e.g. a test client's ``testclient``) matches only an
    entry spelled the same way.
    """
    if not allowed:
        return True
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return client_ip in allowed
    for entry in allowed:
        network = _network(entry)
        if network is not None and address.version == network.version and address in network:
            return True
    return False
