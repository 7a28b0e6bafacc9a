"""The rules of the Paystar open-banking surface (no HTTP).

Checks run in this order; the first that fails decides the status:

refresh-api-key
    10 malformed body or a missing field -> 2 unknown ``application_id`` -> 3 application or
    customer disabled -> 6 wrong ``access_password`` -> 7 caller's IP not allowed ->
    13 wrong ``refresh_token`` -> 1 (a new key).

info-matching/*
    10 malformed body or missing ``application_id``/``access_password`` -> 2 -> 3 ->
    4 missing, forged or foreign ``Authorization: Bearer`` key -> 5 expired key -> 6 -> 7 ->
    12 no open-banking settings (no services configured, or no open-banking wallet) ->
    8 this service not enabled (not in the application's services, or its price rule
    disabled) -> 10 invalid national id, mobile, card, IBAN or birth date ->
    9 wallet credit below the price -> 11 upstream provider failing (sandbox fault) ->
    8 the service's daily limit reached (counted when charging) ->
    1 with ``is_matched`` from the world, charged to the ``paystar.open_banking`` wallet.

A matching call runs in one transaction: the world lookup, the debit and the usage record
commit together. Failures after the application is identified are recorded as uncharged usage.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, Final

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from pishkhan.core.ids import verify_secret
from pishkhan.iran import (
    InvalidIdentifier,
    parse_card_number,
    parse_iban,
    parse_mobile,
    parse_national_code,
    to_jalali,
)
from pishkhan.runtime import Runtime
from pishkhan.tenants import billing
from pishkhan.tenants.tables import customers, paystar_applications, wallets

from . import faults, lookups
from .api_keys import ApiKeySigner, KeyCheck, generation
from .errors import PaystarFailure, Status
from .schemas import CARD_NATIONAL_ID, IBAN_NATIONAL_ID, MOBILE_NATIONAL_ID, text_field

SURFACE: Final = "paystar"
WALLET: Final = "paystar.open_banking"

#: Price per successful call (rials) unless the customer has a price rule for the service.
DEFAULT_PRICES: Final[dict[str, int]] = {
    MOBILE_NATIONAL_ID: 15_000,
    CARD_NATIONAL_ID: 20_000,
    IBAN_NATIONAL_ID: 20_000,
}


def usage_outcome(status: Status) -> str:
    """The ``usage_events.outcome`` of a failed call (billing's own names where they exist)."""
    if status is Status.INSUFFICIENT_CREDIT:
        return billing.ChargeOutcome.INSUFFICIENT_FUNDS.value
    return status.name.lower()


class InjectedServerError(RuntimeError):
    """Raised by the ``server_error`` sandbox fault; the route answers status 0."""


@dataclass(frozen=True)
class Outcome:
    status: Status
    data: dict[str, Any] | None = None


@dataclass(frozen=True)
class Application:
    customer_id: int
    application_id: str
    access_password_hash: str
    refresh_token_hash: str
    allowed_ips: tuple[str, ...]
    active: bool
    services: tuple[str, ...]

    @property
    def generation(self) -> str:
        return generation(self.access_password_hash, self.refresh_token_hash)


def _load_application(conn: Connection, application_id: str) -> Application | None:
    row = conn.execute(
        select(
            paystar_applications.c.customer_id,
            paystar_applications.c.application_id,
            paystar_applications.c.access_password_hash,
            paystar_applications.c.refresh_token_hash,
            paystar_applications.c.allowed_ips,
            paystar_applications.c.status,
            paystar_applications.c.services,
            customers.c.status,
        )
        .select_from(
            paystar_applications.join(
                customers, customers.c.id == paystar_applications.c.customer_id
            )
        )
        .where(paystar_applications.c.application_id == application_id)
    ).first()
    if row is None:
        return None
    return Application(
        customer_id=int(row[0]),
        application_id=str(row[1]),
        access_password_hash=str(row[2]),
        refresh_token_hash=str(row[3]),
        allowed_ips=tuple(str(ip) for ip in (row[4] or ())),
        active=row[5] == "active" and row[7] == "active",
        services=tuple(str(s) for s in (row[6] or ())),
    )


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


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, rest = authorization.strip().partition(" ")
    if scheme.lower() == "bearer":
        return rest.strip() or None
    # A bare key (no scheme) is accepted too.
    return authorization.strip() if not rest else None


def _national_id(body: dict[str, Any]) -> str:
    raw = body.get("national_id")
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
        raw = f"{raw:010d}"  # a JSON number lost its leading zeros
    text = text_field({"v": raw}, "v")
    if text is None:
        raise PaystarFailure(Status.INVALID_INPUT)
    try:
        return parse_national_code(text)
    except InvalidIdentifier:
        raise PaystarFailure(Status.INVALID_INPUT) from None


def _required(body: dict[str, Any], name: str) -> str:
    value = text_field(body, name)
    if value is None:
        raise PaystarFailure(Status.INVALID_INPUT)
    return value


#: The document's ``date_format Y-m-d`` (a Laravel rule: the value must read back exactly in that
#: format, so ``1981/06/21``, ``1981-6-21`` or a time part are refused).
_BIRTH_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def _birth_date(body: dict[str, Any], today: date) -> str:
    """The Gregorian ``birth_date`` (strictly ``Y-m-d``) as the registry's Jalali ``YYYYMMDD``."""
    raw = _required(body, "birth_date")
    if not _BIRTH_DATE.fullmatch(raw):
        raise PaystarFailure(Status.INVALID_INPUT)
    try:
        born = date.fromisoformat(raw)
    except ValueError:
        raise PaystarFailure(Status.INVALID_INPUT) from None
    if born > today or born.year < 1900:
        raise PaystarFailure(Status.INVALID_INPUT)
    return to_jalali(born).compact()


# Each matcher validates its fields (status 10) and returns a function answering is_matched.
Matcher = Callable[[dict[str, Any], date], Callable[[Connection], bool]]


def _match_mobile(body: dict[str, Any], _today: date) -> Callable[[Connection], bool]:
    national_id = _national_id(body)
    try:
        mobile = parse_mobile(_required(body, "mobile_number")).number
    except InvalidIdentifier:
        raise PaystarFailure(Status.INVALID_INPUT) from None
    return lambda conn: lookups.sim_owner(conn, mobile) == national_id


def _owned_with_birth_date(
    field: str,
    parse: Callable[[str], str],
    owns: Callable[[Connection, str, str], bool],
) -> Matcher:
    """A matcher for ``national_id`` + an instrument (``field``) + ``birth_date``: the person
    owns the instrument and the registry's birth date is the one given."""

    def validate(body: dict[str, Any], today: date) -> Callable[[Connection], bool]:
        national_id = _national_id(body)
        try:
            instrument = parse(_required(body, field))
        except InvalidIdentifier:
            raise PaystarFailure(Status.INVALID_INPUT) from None
        born = _birth_date(body, today)

        def matched(conn: Connection) -> bool:
            return (
                owns(conn, instrument, national_id)
                and lookups.person_birth_date(conn, national_id) == born
            )

        return matched

    return validate


MATCHERS: Final[dict[str, Matcher]] = {
    MOBILE_NATIONAL_ID: _match_mobile,
    CARD_NATIONAL_ID: _owned_with_birth_date(
        "card_number", lambda raw: parse_card_number(raw).number, lookups.card_belongs_to
    ),
    IBAN_NATIONAL_ID: _owned_with_birth_date(
        "iban", lambda raw: parse_iban(raw).value, lookups.deposit_owned_by
    ),
}


def _credit(conn: Connection, customer_id: int) -> int | None:
    row = conn.execute(
        select(wallets.c.balance, wallets.c.credit_limit).where(
            and_(wallets.c.customer_id == customer_id, wallets.c.wallet == WALLET)
        )
    ).first()
    return None if row is None else int(row[0]) + int(row[1])


class PaystarService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.signer = ApiKeySigner(runtime.settings.token_secret)

    # -- refresh-api-key ----------------------------------------------------------------

    def refresh_api_key(self, body: dict[str, Any] | None, client_ip: str) -> Outcome:
        if faults.fault_for(self.runtime.state, faults.REFRESH) == faults.SERVER_ERROR:
            raise InjectedServerError("sandbox fault: server_error on refresh-api-key")
        if body is None:
            return Outcome(Status.INVALID_INPUT)
        application_id = text_field(body, "application_id")
        access_password = text_field(body, "access_password")
        refresh_token = text_field(body, "refresh_token")
        if application_id is None or access_password is None or refresh_token is None:
            return Outcome(Status.INVALID_INPUT)
        with self.runtime.db.read() as conn:
            app = _load_application(conn, application_id)
        if app is None:
            return Outcome(Status.APPLICATION_NOT_FOUND)
        if not app.active:
            return Outcome(Status.APPLICATION_NOT_ACTIVE)
        if not verify_secret(access_password, app.access_password_hash):
            return Outcome(Status.WRONG_PASSWORD)
        if not ip_allowed(app.allowed_ips, client_ip):
            return Outcome(Status.IP_NOT_ALLOWED)
        if not verify_secret(refresh_token, app.refresh_token_hash):
            return Outcome(Status.WRONG_REFRESH_TOKEN)
        issued = self.signer.issue(app.application_id, app.generation, self.runtime.clock.now_utc())
        return Outcome(
            Status.SUCCESS,
            {"api_key": issued.api_key, "api_key_expire_date": issued.expire_date},
        )

    # -- info-matching/* ----------------------------------------------------------------

    def match(
        self,
        service: str,
        body: dict[str, Any] | None,
        authorization: str | None,
        client_ip: str,
        track_id: str | None = None,
    ) -> Outcome:
        fault = faults.fault_for(self.runtime.state, service)
        if fault == faults.SERVER_ERROR:
            raise InjectedServerError(f"sandbox fault: server_error on {service}")
        if body is None:
            return Outcome(Status.INVALID_INPUT)
        application_id = text_field(body, "application_id")
        access_password = text_field(body, "access_password")
        if application_id is None or access_password is None:
            return Outcome(Status.INVALID_INPUT)
        clock = self.runtime.clock
        with self.runtime.db.write() as conn:
            app = _load_application(conn, application_id)
            if app is None:
                return Outcome(Status.APPLICATION_NOT_FOUND)
            try:
                return self._match(
                    conn, app, service, body, authorization, access_password, client_ip,
                    fault, track_id,
                )  # fmt: skip
            except PaystarFailure as failure:
                if not failure.recorded:
                    billing.record_failure(
                        conn,
                        clock,
                        customer_id=app.customer_id,
                        surface=SURFACE,
                        service=service,
                        outcome=usage_outcome(failure.status),
                        track_id=track_id,
                    )
                return Outcome(failure.status)

    def _match(
        self,
        conn: Connection,
        app: Application,
        service: str,
        body: dict[str, Any],
        authorization: str | None,
        access_password: str,
        client_ip: str,
        fault: str | None,
        track_id: str | None,
    ) -> Outcome:
        clock = self.runtime.clock
        if not app.active:
            raise PaystarFailure(Status.APPLICATION_NOT_ACTIVE)
        api_key = _bearer(authorization)
        if api_key is None:
            raise PaystarFailure(Status.WRONG_TOKEN)
        checked = self.signer.check(api_key, app.application_id, app.generation, clock.now_utc())
        if checked == KeyCheck.WRONG:
            raise PaystarFailure(Status.WRONG_TOKEN)
        if checked == KeyCheck.EXPIRED:
            raise PaystarFailure(Status.EXPIRED_TOKEN)
        if not verify_secret(access_password, app.access_password_hash):
            raise PaystarFailure(Status.WRONG_PASSWORD)
        if not ip_allowed(app.allowed_ips, client_ip):
            raise PaystarFailure(Status.IP_NOT_ALLOWED)
        credit = _credit(conn, app.customer_id)
        if not app.services or credit is None:
            raise PaystarFailure(Status.SETTINGS_NOT_FOUND)
        rule = billing.price_rule(conn, app.customer_id, SURFACE, service, DEFAULT_PRICES[service])
        if service not in app.services or not rule.enabled:
            raise PaystarFailure(Status.SERVICE_NOT_ENABLED)
        answer = MATCHERS[service](body, clock.today())
        if credit < rule.price:
            raise PaystarFailure(Status.INSUFFICIENT_CREDIT)
        if fault == faults.UPSTREAM_ERROR:
            raise PaystarFailure(Status.PROVIDER_ERROR)
        is_matched = answer(conn)
        charged = billing.charge(
            conn,
            clock,
            customer_id=app.customer_id,
            surface=SURFACE,
            service=service,
            default_price=DEFAULT_PRICES[service],
            track_id=track_id,
            rule=rule,
        )
        if not charged.ok:
            # charge() has recorded the refusal itself.
            status = (
                Status.INSUFFICIENT_CREDIT
                if charged.outcome is billing.ChargeOutcome.INSUFFICIENT_FUNDS
                else Status.SERVICE_NOT_ENABLED
            )
            raise PaystarFailure(status, recorded=True)
        return Outcome(Status.SUCCESS, {"is_matched": is_matched})
