"""Identity matching (``info-matching/*``): does a mobile number, card or IBAN belong to a
national id, answered from the world and charged to the ``paystar.open_banking`` wallet.

Checks run in this order; the first that fails decides the status:
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

import re
from collections.abc import Callable
from datetime import date
from typing import Final

from sqlalchemy.engine import Connection

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

from . import api_keys, applications, sandbox, sql
from .api_keys import ApiKeySigner
from .applications import Application
from .errors import PaystarFailure, Status
from .wire import (
    CARD_NATIONAL_ID,
    IBAN_NATIONAL_ID,
    MOBILE_NATIONAL_ID,
    Fields,
    MatchData,
    Outcome,
    text_field,
)

SURFACE: Final = "paystar"

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


def _national_id(fields: Fields) -> str:
    raw = fields.get("national_id")
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
        raw = f"{raw:010d}"  # a JSON number lost its leading zeros
    text = text_field({"v": raw}, "v")
    if text is None:
        raise PaystarFailure(Status.INVALID_INPUT)
    try:
        return parse_national_code(text)
    except InvalidIdentifier:
        raise PaystarFailure(Status.INVALID_INPUT) from None


def _required(fields: Fields, name: str) -> str:
    value = text_field(fields, name)
    if value is None:
        raise PaystarFailure(Status.INVALID_INPUT)
    return value


#: The document's ``date_format Y-m-d`` (a Laravel rule: the value must read back exactly in that
#: format, so ``1981/06/21``, ``1981-6-21`` or a time part are refused).
_BIRTH_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def _birth_date(fields: Fields, today: date) -> str:
    """The Gregorian ``birth_date`` (strictly ``Y-m-d``) as the registry's Jalali ``YYYYMMDD``."""
    raw = _required(fields, "birth_date")
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
Matcher = Callable[[Fields, date], Callable[[Connection], bool]]


def _match_mobile(fields: Fields, _today: date) -> Callable[[Connection], bool]:
    national_id = _national_id(fields)
    try:
        mobile = parse_mobile(_required(fields, "mobile_number")).number
    except InvalidIdentifier:
        raise PaystarFailure(Status.INVALID_INPUT) from None
    return lambda conn: sql.sim_owner(conn, mobile) == national_id


def _owned_with_birth_date(
    field: str,
    parse: Callable[[str], str],
    owns: Callable[[Connection, str, str], bool],
) -> Matcher:
    """A matcher for ``national_id`` + an instrument (``field``) + ``birth_date``: the person
    owns the instrument and the registry's birth date is the one given."""

    def validate(fields: Fields, today: date) -> Callable[[Connection], bool]:
        national_id = _national_id(fields)
        try:
            instrument = parse(_required(fields, field))
        except InvalidIdentifier:
            raise PaystarFailure(Status.INVALID_INPUT) from None
        born = _birth_date(fields, today)

        def matched(conn: Connection) -> bool:
            return (
                owns(conn, instrument, national_id)
                and sql.person_birth_date(conn, national_id) == born
            )

        return matched

    return validate


MATCHERS: Final[dict[str, Matcher]] = {
    MOBILE_NATIONAL_ID: _match_mobile,
    CARD_NATIONAL_ID: _owned_with_birth_date(
        "card_number", lambda raw: parse_card_number(raw).number, sql.card_belongs_to
    ),
    IBAN_NATIONAL_ID: _owned_with_birth_date(
        "iban", lambda raw: parse_iban(raw).value, sql.deposit_owned_by
    ),
}


def match(
    runtime: Runtime,
    signer: ApiKeySigner,
    service: str,
    fields: Fields | None,
    authorization: str | None,
    client_ip: str,
    track_id: str | None = None,
) -> Outcome:
    """One matching call of ``service``."""
    fault = sandbox.suffered(runtime.state, service)
    try:
        application_id, access_password = applications.required(
            fields, "application_id", "access_password"
        )
    except PaystarFailure as failure:
        return Outcome(failure.status)
    assert fields is not None
    clock = runtime.clock
    with runtime.db.write() as conn:
        try:
            app = applications.load(conn, application_id)
        except PaystarFailure as failure:
            return Outcome(failure.status)  # no customer to record it for
        try:
            applications.require_active(app)
            api_keys.require_key(signer, authorization, app, clock.now_utc())
            applications.admit(app, access_password, client_ip)
            return _match(runtime, conn, app, service, fields, fault, track_id)
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
    runtime: Runtime,
    conn: Connection,
    app: Application,
    service: str,
    fields: Fields,
    fault: str | None,
    track_id: str | None,
) -> Outcome:
    """The checks after the caller is admitted: settings, service, fields, credit, upstream;
    then the world's answer, charged."""
    clock = runtime.clock
    credit = sql.credit(conn, app.customer_id)
    if not app.services or credit is None:
        raise PaystarFailure(Status.SETTINGS_NOT_FOUND)
    rule = billing.price_rule(conn, app.customer_id, SURFACE, service, DEFAULT_PRICES[service])
    if service not in app.services or not rule.enabled:
        raise PaystarFailure(Status.SERVICE_NOT_ENABLED)
    answer = MATCHERS[service](fields, clock.today())
    if credit < rule.price:
        raise PaystarFailure(Status.INSUFFICIENT_CREDIT)
    if fault == sandbox.UPSTREAM_ERROR:
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
    return Outcome(Status.SUCCESS, MatchData(is_matched=is_matched))
