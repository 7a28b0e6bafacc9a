"""The merchant's mandate calls: create and update (each opens a consent page), getId
(activation), create/trace, and status/change; the rules of a contract's terms."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError

from pishkhan.core.ids import new_code
from pishkhan.iran.banks import by_payman_code
from pishkhan.iran.errors import InvalidIdentifier
from pishkhan.iran.mobile import normalize_mobile
from pishkhan.iran.national_code import parse_national_code
from pishkhan.tenants import billing

from . import consent, lifecycle, sandbox, sql
from .access import PaymanService
from .errors import PaymanError, invalid
from .merchants import Merchant
from .wire import (
    CLIENT_HEADERS,
    PERMISSIONS,
    as_utc,
    epoch_ms,
    get_amount,
    get_instant,
    get_int,
    get_list,
    get_str,
    mask_deposit,
    trace_json,
)

SURFACE: Final = "payman"
START_DATE_GRACE: Final = timedelta(minutes=10)
MAX_DAILY_COUNT: Final = 1000
MAX_MONTHLY_COUNT: Final = 31_000
PERMISSION_IDS: Final = frozenset(p["id"] for p in PERMISSIONS)
START_DATE_INFO: Final = "مقدار وارد شده برای فیلد StartDate بایستی بزرگتر از فیلد Now باشد"
#: The request headers a mandate keeps (its ``client_info``).
KEPT_HEADERS: Final = (*CLIENT_HEADERS, "Client-User-Id", "Device-Id")


def _limits(
    obj: Mapping[str, Any], prefix: str, *, daily_required: bool
) -> tuple[int | None, int | None, int | None, int | None]:
    """A contract's limits as create and update send them: (max daily count, max monthly
    count, max amount per transaction, max daily amount)."""
    return (
        get_int(
            obj,
            "max_daily_transaction_count",
            prefix + "max_daily_transaction_count",
            required=daily_required,
        ),
        get_int(obj, "max_monthly_transaction_count", prefix + "max_monthly_transaction_count"),
        get_amount(obj, "max_transaction_amount", prefix + "max_transaction_amount", code="027"),
        get_amount(
            obj, "daily_max_transaction_amount", prefix + "daily_max_transaction_amount", code="027"
        ),
    )


def _person(headers: Mapping[str, str]) -> tuple[str, str | None]:
    """The person the merchant names: ``Mobile-no`` (required) and ``National-code``."""
    raw_mobile = headers.get("mobile-no", "").strip()
    if not raw_mobile:
        raise PaymanError("2077", reference="Mobile-no")
    try:
        mobile = normalize_mobile(raw_mobile)
    except InvalidIdentifier as exc:
        raise PaymanError("2078", reference="Mobile-no") from exc
    raw_nc = headers.get("national-code", "").strip()
    national_code: str | None = None
    if raw_nc:
        try:
            national_code = parse_national_code(raw_nc)
        except InvalidIdentifier as exc:
            raise PaymanError("1028", reference="National-code") from exc
    return mobile, national_code


def _redirect(merchant: Merchant, sent: str) -> str:
    """``sent`` if it is one of the merchant's redirect addresses (scheme, host and path), else
    the merchant's first."""
    if not merchant.redirect_urls:
        raise PaymanError("2203", reference="redirect_url")

    def key(url: str) -> tuple[str, str, str]:
        parts = urlsplit(url.strip())
        return parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/")

    wanted = key(sent)
    for url in merchant.redirect_urls:
        if key(url) == wanted:
            return sent.strip()
    return merchant.redirect_urls[0]


def _contract_rules(
    *,
    bank_code: str,
    start: datetime,
    expiration: datetime,
    max_daily: int,
    max_monthly: int | None,
    max_amount: int | None,
    daily_max: int | None,
    now: datetime,
    prefix: str,
) -> None:
    if expiration <= start or expiration <= now:
        raise PaymanError("2008", reference=f"{prefix}expiration_date")
    if bank_code == "BTEJIR" and expiration - start > timedelta(days=365):
        raise PaymanError("2167")
    if max_daily < 1:
        raise invalid(f"{prefix}max_daily_transaction_count", "must be at least 1")
    if max_monthly is not None and max_monthly < 1:
        raise invalid(f"{prefix}max_monthly_transaction_count", "must be at least 1")
    if max_daily > MAX_DAILY_COUNT or (max_monthly or 0) > MAX_MONTHLY_COUNT:
        raise PaymanError("2013")
    if max_monthly is not None and max_monthly < max_daily:
        raise PaymanError("2216")
    if max_amount is None and daily_max is None:
        raise PaymanError("2226")
    for name, value in (
        ("max_transaction_amount", max_amount),
        ("daily_max_transaction_amount", daily_max),
    ):
        if value is not None and value <= 0:
            raise PaymanError("027", reference=f"{prefix}{name}")
    if max_amount is not None and daily_max is not None and daily_max < max_amount:
        raise PaymanError("2126")


def _page_location(
    svc: PaymanService,
    token: str,
    bank_code: str,
    merchant: Merchant,
    mobile: str,
    national_code: str | None,
) -> str:
    return consent.page_location(
        svc.rt.settings.effective_base_url,
        token,
        bank_code,
        merchant.client_id,
        mobile,
        national_code,
    )


# -- create ----------------------------------------------------------------------------------


def create(
    svc: PaymanService, merchant: Merchant, headers: Mapping[str, str], body: dict[str, Any]
) -> str:
    """A new mandate (INITIALIZING) and its consent page; the page's address."""
    now = svc.rt.clock.now_utc()
    payman = body.get("payman")
    if not isinstance(payman, dict):
        raise invalid("payman", "The payman field is required.")
    trace_id = get_str(body, "trace_id", "trace_id", required=True, max_len=35)
    sent_redirect = get_str(body, "redirect_url", "redirect_url", required=True)
    bank_code = (get_str(payman, "bank_code", "payman.bank_code", required=True) or "").upper()
    user_id = get_str(payman, "user_id", "payman.user_id", required=True, max_len=100)
    perms_raw = get_list(payman, "permission_ids", "payman.permission_ids")
    if not perms_raw:
        raise invalid("payman.permission_ids", "The permission_ids field is required.")
    permission_ids: list[int] = []
    for i, p in enumerate(perms_raw):
        value = get_int({"v": p}, "v", f"payman.permission_ids[{i}]", required=True)
        assert value is not None
        if value not in PERMISSION_IDS:
            raise PaymanError("2017", reference=f"payman.permission_ids[{i}]")
        permission_ids.append(value)
    contract = payman.get("contract")
    if not isinstance(contract, dict):
        raise invalid("payman.contract", "The contract field is required.")
    p = "payman.contract."
    expiration = get_instant(contract, "expiration_date", p + "expiration_date", required=True)
    start = get_instant(contract, "start_date", p + "start_date", now=now) or now
    max_daily, max_monthly, max_amount, daily_max = _limits(contract, p, daily_required=True)
    assert expiration is not None and max_daily is not None and trace_id and user_id
    bank = by_payman_code(bank_code)
    if bank is None:
        raise PaymanError("2023", reference="payman.bank_code")
    if not merchant.may_use(bank_code):
        raise PaymanError("2205")
    if start < now - START_DATE_GRACE:
        raise invalid(p + "start_date", START_DATE_INFO)
    _contract_rules(
        bank_code=bank_code,
        start=start,
        expiration=expiration,
        max_daily=max_daily,
        max_monthly=max_monthly,
        max_amount=max_amount,
        daily_max=daily_max,
        now=now,
        prefix=p,
    )
    mobile, national_code = _person(headers)
    redirect_url = _redirect(merchant, sent_redirect or "")
    sandbox.require_open(svc.rt.state, bank_code, "create")
    client_info = {
        name: headers.get(name.lower()) for name in KEPT_HEADERS if headers.get(name.lower())
    }
    token = secrets.token_urlsafe(24)
    with svc.rt.db.write() as conn:
        if sql.mandate_by_trace(conn, merchant.customer_id, trace_id) is not None:
            raise PaymanError("2049", reference="trace_id")
        if national_code and sql.user_has_other_national_code(
            conn, merchant.customer_id, user_id, national_code
        ):
            raise PaymanError("133", reference="payman.user_id")
        charged = billing.charge(
            conn,
            svc.rt.clock,
            customer_id=merchant.customer_id,
            surface=SURFACE,
            service="create",
            default_price=0,
            track_id=trace_id,
        )
        if not charged.ok:
            raise PaymanError("2019")
        try:
            with conn.begin_nested():
                mandate_id = sql.insert_mandate(
                    conn,
                    {
                        "customer_id": merchant.customer_id,
                        "payman_code": new_code(12),
                        "payman_id": None,
                        "trace_id": trace_id,
                        "bank_code": bank_code,
                        "user_id": user_id,
                        "permission_ids": permission_ids,
                        "status": "INITIALIZING",
                        "internal_status": lifecycle.INTERNAL_CREATING,
                        "national_code": national_code,
                        "mobile": mobile,
                        "redirect_url": redirect_url,
                        "start_date": start,
                        "expiration_date": expiration,
                        "max_daily_count": max_daily,
                        "max_monthly_count": max_monthly,
                        "max_amount": max_amount,
                        "daily_max_amount": daily_max,
                        "client_info": client_info,
                        "created_at": now,
                        "updated_at": now,
                    },
                )
        except IntegrityError as exc:
            raise PaymanError("2049", reference="trace_id") from exc
        lifecycle.record_creation(conn, mandate_id, now, actor="merchant")
        consent.open_page(conn, token, mandate_id, "create", {}, redirect_url, now)
    return _page_location(svc, token, bank_code, merchant, mobile, national_code)


# -- getId, create/trace ---------------------------------------------------------------------


def get_id(svc: PaymanService, merchant: Merchant, payman_code: str | None) -> dict[str, Any]:
    """Activate a mandate the person confirmed: it gets its ``payman_id``."""
    if not payman_code:
        raise invalid("payman_code", "The payman_code field is required.")
    now = svc.rt.clock.now_utc()
    with svc.rt.db.write() as conn:
        row = lifecycle.owned(conn, merchant, "payman_code", payman_code, foreign_code="2014")
        row = lifecycle.expire_if_due(conn, row, now)
        if row["status"] == "EXPIRED":
            raise PaymanError("2006")
        if row["status"] == "ACTIVE":
            raise PaymanError("2046")
        if row["status"] != "WAITING_FOR_CONFIRM":
            raise PaymanError("2010")
        payman_id = new_code(12)
        lifecycle.transition(
            conn,
            row,
            "ACTIVE",
            lifecycle.INTERNAL_ACTIVATED,
            actor="merchant",
            now=now,
            extra={"payman_id": payman_id, "activated_at": now},
        )
    return {
        "payman_id": payman_id,
        "status": "ACTIVE",
        "deposit_number": mask_deposit(row["deposit_number"]),
    }


def create_trace(svc: PaymanService, merchant: Merchant, trace_id: str | None) -> dict[str, Any]:
    """The mandate created with ``trace_id`` (its open pages timed out first)."""
    if not trace_id:
        raise invalid("trace-id", "The trace-id field is required.")
    now = svc.rt.clock.now_utc()
    with svc.rt.db.write() as conn:
        row = sql.mandate_by_trace(conn, merchant.customer_id, trace_id)
        if row is None:
            raise PaymanError("2021")
        if row["status"] == "INITIALIZING":
            if not consent.expire_open_consents(conn, row, now):
                raise PaymanError("2014")
            row = lifecycle.reread(conn, row)
        row = lifecycle.expire_if_due(conn, row, now)
    return trace_json(row)


# -- status/change and update ----------------------------------------------------------------


def status_change(svc: PaymanService, merchant: Merchant, body: dict[str, Any]) -> dict[str, Any]:
    raw_status = get_str(body, "new_status", "new_status", required=True) or ""
    payman_id = get_str(body, "payman_id", "payman_id", required=True) or ""
    new_status = lifecycle.canonical_status(raw_status)
    if new_status not in ("ACTIVE", "DEACTIVE", "CANCELLED"):
        raise PaymanError("2183", reference="new_status")
    now = svc.rt.clock.now_utc()
    with svc.rt.db.write() as conn:
        row = lifecycle.owned(conn, merchant, "payman_id", payman_id)
        row = lifecycle.expire_if_due(conn, row, now)
        status = row["status"]
        if status == "CANCELLED":
            raise PaymanError("2185")
        if status == "EXPIRED" and new_status == "ACTIVE":
            raise PaymanError("2165")
        if status not in ("ACTIVE", "DEACTIVE") or status == new_status:
            raise PaymanError("2016")
        if not lifecycle.transition(
            conn,
            row,
            new_status,
            lifecycle.INTERNAL_BY_SERVICE[new_status],
            actor="merchant",
            now=now,
        ):
            raise PaymanError("2182")
    return {"payman_id": payman_id, "status": new_status}


def update(
    svc: PaymanService, merchant: Merchant, headers: Mapping[str, str], body: dict[str, Any]
) -> str:
    """A consent page for new terms of an active or deactivated mandate; the page's address."""
    now = svc.rt.clock.now_utc()
    payman_id = get_str(body, "payman_id", "payman_id", required=True) or ""
    expiration = get_instant(body, "expiration_date", "expiration_date")
    max_daily, max_monthly, max_amount, daily_max = _limits(body, "", daily_required=False)
    sent_redirect = get_str(body, "redirect_url", "redirect_url")
    mobile, national_code = _person(headers)
    token = secrets.token_urlsafe(24)
    with svc.rt.db.write() as conn:
        row = lifecycle.owned(conn, merchant, "payman_id", payman_id)
        row = lifecycle.expire_if_due(conn, row, now)
        if row["status"] == "CANCELLED":
            raise PaymanError("20952")
        if row["status"] == "EXPIRED":
            raise PaymanError("2006")
        if row["status"] not in ("ACTIVE", "DEACTIVE"):
            raise PaymanError("2010")
        if not merchant.may_use(row["bank_code"]):
            raise PaymanError("2205")
        sandbox.require_open(svc.rt.state, row["bank_code"], "create")
        if expiration is not None and expiration < as_utc(row["expiration_date"]):
            raise PaymanError("20948", reference="expiration_date")
        new: dict[str, Any] = {
            "expiration_date": expiration or as_utc(row["expiration_date"]),
            "max_daily": max_daily if max_daily is not None else row["max_daily_count"],
            "max_monthly": max_monthly if max_monthly is not None else row["max_monthly_count"],
            "max_amount": max_amount if max_amount is not None else row["max_amount"],
            "daily_max": daily_max if daily_max is not None else row["daily_max_amount"],
        }
        _contract_rules(
            bank_code=row["bank_code"],
            start=as_utc(row["start_date"]),
            expiration=new["expiration_date"],
            max_daily=new["max_daily"],
            max_monthly=new["max_monthly"],
            max_amount=new["max_amount"],
            daily_max=new["daily_max"],
            now=now,
            prefix="",
        )
        redirect_url = _redirect(merchant, sent_redirect) if sent_redirect else row["redirect_url"]
        changes = {
            "expiration_date": epoch_ms(new["expiration_date"]),
            "max_daily_count": new["max_daily"],
            "max_monthly_count": new["max_monthly"],
            "max_amount": new["max_amount"],
            "daily_max_amount": new["daily_max"],
            "mobile": mobile,
            "national_code": national_code,
        }
        consent.open_page(conn, token, row["id"], "update", changes, redirect_url, now)
    return _page_location(svc, token, row["bank_code"], merchant, mobile, national_code)
