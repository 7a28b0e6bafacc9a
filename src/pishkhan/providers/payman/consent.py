"""The bank consent page ("OAuth page"): real HTML served by pishkhan.

The person signs in to the bank with national code and mobile, sees the contract terms in
Persian, picks a deposit and approves or cancels; the browser is then sent back to the
merchant's ``redirect_url`` with ``payman_code`` and ``status`` (``CREATED``/``UPDATED``,
``CANCELED`` with code 2156, ``INTERNAL_ERROR`` with the error code, ``TIMEOUT`` when the page
expired). A page is single use, expires after ten minutes, refuses to be framed
(``X-Frame-Options: DENY``, CSP ``frame-ancestors 'none'``; the document forbids web views)
and is bound to the browser that signed in by an HttpOnly cookie.

The answer to a form post is a 303 to the merchant, usually on another origin. Browsers apply
the page's CSP ``form-action`` to that redirect too, so a page with a form allows ``'self'``
and the one origin of this consent's ``redirect_url`` (``PageResult.merchant_origin``), nothing
else. A page left open reloads itself (``<meta http-equiv="refresh">``, no script) when it
expires, and the reload sends the browser to the merchant with ``status=TIMEOUT``.

Ownership checks at sign-in: the national code must match the merchant's ``National-code``
(2097), the mobile its ``Mobile-no`` (2098), and the SIM registry must give that mobile to the
person signing in (2035). On update the person must own the mandate's deposit (004). A person
without an active, single-owner, non-current deposit at the bank gets 2110.
"""

from __future__ import annotations

import hashlib
import html
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import urlencode

from persiantools.jdatetime import JalaliDateTime
from sqlalchemy.engine import Connection, RowMapping

from pishkhan.core.clock import TEHRAN
from pishkhan.iran.banks import by_payman_code
from pishkhan.iran.errors import InvalidIdentifier
from pishkhan.iran.mobile import normalize_mobile
from pishkhan.iran.national_code import parse_national_code
from pishkhan.web.pages import csp_origin

from . import lifecycle, sql
from .errors import CATALOGUE
from .wire import as_utc, mask_deposit, utc_from_ms

COOKIE = "payman_consent"
#: How long a consent page stays open.
CONSENT_TTL: Final = timedelta(minutes=10)
#: The consent page's path (its links carry ``boom_token`` and ``bank_id``).
PAGE_PATH: Final = "/payman-bank/oauth/authorize"


@dataclass(frozen=True)
class PageResult:
    """What the HTTP layer sends: an HTML page or a redirect (and maybe a cookie).

    ``merchant_origin``: the origin a page's forms may end at besides its own (the merchant's
    redirect origin, for a page with a form).
    """

    status: int
    html: str = ""
    location: str | None = None
    cookie: str | None = None
    merchant_origin: str | None = None


@dataclass(frozen=True)
class Expiry:
    """When an open page expires: the seconds left (its reload timer), its own address to
    reload, and the Tehran wall-clock time shown to the person."""

    seconds: int
    reload_url: str
    until: str

    @classmethod
    def of(cls, consent: RowMapping, mandate: RowMapping, now: datetime) -> Expiry:
        expires = as_utc(consent["expires_at"])
        # A second past the expiry, so that the reload finds the page expired.
        seconds = max(1, math.ceil((expires - now).total_seconds()) + 1)
        query = urlencode({"boom_token": consent["token"], "bank_id": mandate["bank_code"]})
        return cls(
            seconds,
            f"{PAGE_PATH}?{query}",
            expires.astimezone(TEHRAN).strftime("%H:%M"),
        )


def _hash(value: str) -> str:
    return "sha256$" + hashlib.sha256(value.encode()).hexdigest()


def back_url(consent: RowMapping, mandate: RowMapping, status: str, code: str | None) -> str:
    base = consent["redirect_url"]
    params: dict[str, str] = {"payman_code": mandate["payman_code"], "status": status}
    if consent["kind"] == "update" and mandate["payman_id"]:
        params["payman_id"] = mandate["payman_id"]
    if code:
        params["code"] = code
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}{urlencode(params)}"


def open_page(
    conn: Connection,
    token: str,
    mandate_id: int,
    kind: str,
    changes: dict[str, Any],
    redirect_url: str,
    now: datetime,
) -> None:
    """Open the consent page of ``token`` for a mandate's creation or update (``kind``)."""
    sql.open_consent(
        conn,
        {
            "token": token,
            "mandate_id": mandate_id,
            "kind": kind,
            "changes": changes,
            "stage": "OPEN",
            "redirect_url": redirect_url,
            "expires_at": now + CONSENT_TTL,
            "created_at": now,
        },
    )


def page_location(
    base_url: str,
    token: str,
    bank_code: str,
    client_id: str,
    mobile: str,
    national_code: str | None,
) -> str:
    """The consent page's address that create and update send the merchant to."""
    query = {
        "bank_id": bank_code,
        "boom_token": token,
        "response_type": "code",
        "client_id": client_id,
        "mobile": mobile,
    }
    if national_code:
        query["national_code"] = national_code
    return f"{base_url}{PAGE_PATH}?{urlencode(query)}"


def webview_refusal(user_agent: str) -> PageResult | None:
    """The page that refuses an Android web view (the document forbids them), else ``None``."""
    if "; wv)" not in user_agent:
        return None
    return PageResult(
        403,
        page_message(
            "مرورگر پشتیبانی نمی‌شود",
            "این صفحه باید در مرورگر باز شود و در وب‌ویو قابل استفاده نیست.",
        ),
    )


def _open(
    conn: Connection, token: str, now: datetime
) -> PageResult | tuple[RowMapping, RowMapping]:
    """The page of ``token`` and its mandate (both locked) while it is open; else the page
    that says why not (unknown, used, or expired: then closed)."""
    consent = sql.consent_by_token(conn, token)
    if consent is None:
        return PageResult(404, page_message("صفحه یافت نشد", "این درخواست معتبر نیست."))
    mandate = sql.mandate_by(conn, "id", consent["mandate_id"])
    assert mandate is not None
    done = _closed_or_expired(conn, consent, mandate, now)
    if done is not None:
        return done
    return consent, mandate


def _close(conn: Connection, consent: RowMapping, outcome: str, now: datetime) -> None:
    sql.update_consent(
        conn, consent["token"], {"stage": "DONE", "outcome": outcome, "completed_at": now}
    )


def _finish(
    conn: Connection,
    consent: RowMapping,
    mandate: RowMapping,
    status: str,
    code: str | None,
    now: datetime,
    *,
    cancel_internal: str | None = None,
) -> PageResult:
    """Close the page; a failed create cancels its mandate (CANCELLED is final)."""
    _close(conn, consent, status, now)
    if consent["kind"] == "create" and cancel_internal and mandate["status"] == "INITIALIZING":
        lifecycle.transition(
            conn, mandate, "CANCELLED", cancel_internal, actor="bank", now=now, data={"code": code}
        )
    return PageResult(302, location=back_url(consent, mandate, status, code))


def expire_open_consents(conn: Connection, mandate: RowMapping, now: datetime) -> bool:
    """Time out the expired open pages of a mandate; True if the mandate was cancelled."""
    rows = sql.expired_open_consents(conn, mandate["id"], now)
    cancelled = False
    for consent in rows:
        _close(conn, consent, "TIMEOUT", now)
        if consent["kind"] == "create" and mandate["status"] == "INITIALIZING":
            cancelled = lifecycle.transition(
                conn, mandate, "CANCELLED", lifecycle.INTERNAL_PAGE_EXPIRED, actor="bank", now=now
            )
    return cancelled


def _bank_key(mandate: RowMapping) -> str:
    bank = by_payman_code(mandate["bank_code"])
    return bank.key if bank else ""


def login(
    conn: Connection, token: str, national_code_raw: str, mobile_raw: str, now: datetime
) -> PageResult | tuple[RowMapping, RowMapping, str]:
    """Sign in; on success the consent is LOGGED_IN and a session cookie value is returned."""
    opened = _open(conn, token, now)
    if isinstance(opened, PageResult):
        return opened
    consent, mandate = opened
    try:
        national_code = parse_national_code(national_code_raw)
        mobile = normalize_mobile(mobile_raw)
    except InvalidIdentifier:
        national_code = ""
    if not national_code or not sql.person_exists(conn, national_code):
        return _form_page(conn, consent, mandate, now, CATALOGUE["2112"][1])
    expected_nc = mandate["national_code"]
    expected_mobile = mandate["mobile"]
    if consent["kind"] == "update":
        changes = consent["changes"] or {}
        expected_nc = changes.get("national_code") or expected_nc
        expected_mobile = changes.get("mobile") or expected_mobile
    refused: str | None = None  # the code the sign-in is refused with (the page closes)
    if expected_nc and national_code != expected_nc:
        refused = "2097"
    elif mobile != expected_mobile:
        refused = "2098"
    elif sql.sim_owner(conn, mobile) != national_code:
        refused = "2035"
    elif consent["kind"] == "update":
        if mandate["owner_national_code"] != national_code:
            # the mandate stays as it is: no cancellation
            return _finish(conn, consent, mandate, "INTERNAL_ERROR", "004", now)
    elif not sql.eligible_deposits(conn, national_code, _bank_key(mandate)):
        refused = "2110"
    if refused is not None:
        return _finish(
            conn, consent, mandate, "INTERNAL_ERROR", refused, now, cancel_internal=refused
        )
    session = secrets.token_urlsafe(24)
    sql.update_consent(
        conn,
        token,
        {
            "stage": "LOGGED_IN",
            "session_hash": _hash(session),
            "login_national_code": national_code,
            "login_mobile": mobile,
        },
    )
    return consent, mandate, session


def _closed_or_expired(
    conn: Connection, consent: RowMapping, mandate: RowMapping, now: datetime
) -> PageResult | None:
    if consent["stage"] == "DONE":
        return PageResult(
            410, page_message("این صفحه قبلا استفاده شده است", "این درخواست قبلا انجام شده است.")
        )
    if as_utc(consent["expires_at"]) <= now:
        return _finish(
            conn,
            consent,
            mandate,
            "TIMEOUT",
            None,
            now,
            cancel_internal=lifecycle.INTERNAL_PAGE_EXPIRED,
        )
    return None


def decide(
    conn: Connection,
    token: str,
    session: str | None,
    action: str,
    deposit_iban: str | None,
    now: datetime,
    *,
    trusted: bool = False,
) -> PageResult:
    """Approve (with the chosen deposit) or cancel a signed-in page."""
    opened = _open(conn, token, now)
    if isinstance(opened, PageResult):
        return opened
    consent, mandate = opened
    # Cancelling needs no sign-in (the login page offers it): ``trusted`` skips the session.
    cancelling = action == "cancel" and trusted
    if not cancelling and (
        consent["stage"] != "LOGGED_IN"
        or (not trusted and (not session or _hash(session) != consent["session_hash"]))
    ):
        return PageResult(403, page_message("دسترسی غیرمجاز", "ابتدا وارد حساب بانکی خود شوید."))
    if action == "cancel":
        return _finish(
            conn,
            consent,
            mandate,
            "CANCELED",
            "2156",
            now,
            cancel_internal=lifecycle.INTERNAL_USER_CANCELLED,
        )
    if action != "approve":
        return PageResult(400, page_message("درخواست نامعتبر", "عملیات نامعتبر است."))
    login_nc = consent["login_national_code"]
    if consent["kind"] == "update":
        changes = consent["changes"] or {}
        _close(conn, consent, "UPDATED", now)
        lifecycle.transition(
            conn,
            mandate,
            mandate["status"],
            lifecycle.INTERNAL_UPDATED,
            actor="bank",
            now=now,
            extra={
                "expiration_date": utc_from_ms(int(changes["expiration_date"])),
                "max_daily_count": changes["max_daily_count"],
                "max_monthly_count": changes["max_monthly_count"],
                "max_amount": changes["max_amount"],
                "daily_max_amount": changes["daily_max_amount"],
                "redirect_url": consent["redirect_url"],
            },
            data={"changes": changes},
        )
        return PageResult(302, location=back_url(consent, mandate, "UPDATED", None))
    deposits = sql.eligible_deposits(conn, login_nc, _bank_key(mandate))
    chosen = next((d for d in deposits if d["iban"] == deposit_iban), None)
    if chosen is None and deposit_iban is None and len(deposits) == 1:
        chosen = deposits[0]
    if chosen is None:
        return _form_page(conn, consent, mandate, now, "یک سپرده را انتخاب کنید.", deposits)
    card = sql.active_card(conn, chosen["iban"])
    _close(conn, consent, "CREATED", now)
    lifecycle.transition(
        conn,
        mandate,
        "WAITING_FOR_CONFIRM",
        lifecycle.INTERNAL_WAITING,
        actor="bank",
        now=now,
        extra={
            "deposit_iban": chosen["iban"],
            "deposit_number": chosen["deposit_number"],
            "card_number": card,
            "owner_national_code": login_nc,
            "national_code": mandate["national_code"] or login_nc,
        },
    )
    return PageResult(302, location=back_url(consent, mandate, "CREATED", None))


def show(conn: Connection, token: str, session: str | None, now: datetime) -> PageResult:
    opened = _open(conn, token, now)
    if isinstance(opened, PageResult):
        return opened
    consent, mandate = opened
    if consent["stage"] == "LOGGED_IN" and session and _hash(session) == consent["session_hash"]:
        deposits = (
            []
            if consent["kind"] == "update"
            else sql.eligible_deposits(conn, consent["login_national_code"], _bank_key(mandate))
        )
        return _form_page(conn, consent, mandate, now, None, deposits)
    return _form_page(conn, consent, mandate, now, None)


def _form_page(
    conn: Connection,
    consent: RowMapping,
    mandate: RowMapping,
    now: datetime,
    error: str | None,
    deposits: list[RowMapping] | None = None,
) -> PageResult:
    """The sign-in page, or with ``deposits`` (signed in) the approval page.

    Its forms may end at the merchant's redirect origin (see the module docstring), and it
    reloads itself once it has expired.
    """
    merchant = sql.customer_name(conn, mandate["customer_id"])
    expiry = Expiry.of(consent, mandate, now)
    text = render_form(consent, mandate, error, merchant, expiry, deposits)
    return PageResult(200, text, merchant_origin=csp_origin(consent["redirect_url"]))


# -- HTML ------------------------------------------------------------------------------------

CSS = """
*{box-sizing:border-box}body{margin:0;font-family:Vazirmatn,Tahoma,'Segoe UI',sans-serif;
background:#eef2f7;color:#1d2733;line-height:1.8}main{max-width:28rem;margin:0 auto;padding:1rem}
.card{background:#fff;border-radius:12px;box-shadow:0 2px 10px rgba(0,0,0,.08);padding:1.25rem;
margin-bottom:1rem}h1{font-size:1.2rem;margin:0 0 .5rem}h2{font-size:1rem;margin:0 0 .5rem}
dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem .75rem;margin:0}dt{color:#5b6775}
dd{margin:0;font-weight:600}label{display:block;margin:.6rem 0 .2rem}input[type=text],
input[type=tel]{width:100%;padding:.7rem;border:1px solid #c5ced8;border-radius:8px;
font-size:1rem;direction:ltr;text-align:left}button{width:100%;padding:.8rem;border:0;
border-radius:8px;font-size:1rem;margin-top:.8rem;cursor:pointer}.ok{background:#0a7d4f;color:#fff}
.no{background:#e9edf2;color:#8a1c1c}.err{background:#fdecec;color:#8a1c1c;padding:.6rem;
border-radius:8px}.dep{display:flex;gap:.5rem;align-items:center;padding:.5rem;border:1px solid
#d8dee5;border-radius:8px;margin:.3rem 0}.muted{color:#5b6775;font-size:.9rem}
"""


def _jalali(value: datetime) -> str:
    local = as_utc(value).astimezone(TEHRAN)
    return str(JalaliDateTime(local.replace(tzinfo=None)).strftime("%Y/%m/%d"))  # type: ignore[no-untyped-call]


def _rials(value: int | None) -> str:
    return "نامحدود" if value is None else f"{value:,} ریال"


def _page(title: str, body: str, expiry: Expiry | None = None) -> str:
    refresh = (
        '<meta http-equiv="refresh" id="expiry-reload" '
        f'content="{html.escape(f"{expiry.seconds};url={expiry.reload_url}")}">'
        if expiry is not None
        else ""
    )
    return (
        '<!DOCTYPE html><html lang="fa" dir="rtl"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"{refresh}<title>{html.escape(title)}</title><style>{CSS}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def _expiry_note(expiry: Expiry | None) -> str:
    if expiry is None:
        return ""
    return (
        f'<p class="muted" id="expires">این صفحه تا ساعت <span dir="ltr">{expiry.until}</span> '
        "(به وقت تهران) معتبر است؛ پس از آن به سایت پذیرنده بازگردانده می‌شوید.</p>"
    )


def page_message(title: str, text: str) -> str:
    return _page(
        title, f'<div class="card"><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></div>'
    )


def _terms(consent: RowMapping, mandate: RowMapping, merchant: str) -> str:
    bank = by_payman_code(mandate["bank_code"])
    bank_name = bank.name_fa if bank else mandate["bank_code"]
    changes: dict[str, Any] = dict(consent["changes"] or {}) if consent["kind"] == "update" else {}
    expiration = (
        utc_from_ms(int(changes["expiration_date"])) if changes else mandate["expiration_date"]
    )
    # an update's page shows the new terms (its changes hold every term), a creation's the
    # mandate's
    daily, monthly, max_amount, daily_amount = (
        changes.get(name, mandate[name])
        for name in ("max_daily_count", "max_monthly_count", "max_amount", "daily_max_amount")
    )
    title = (
        "ویرایش قرارداد پرداخت مستقیم"
        if consent["kind"] == "update"
        else "قرارداد پرداخت مستقیم (پیمان)"
    )
    rows = [
        ("پذیرنده", merchant),
        ("بانک", bank_name),
        ("کد پیمان", mandate["payman_code"]),
        ("تاریخ شروع", _jalali(mandate["start_date"])),
        ("تاریخ پایان", _jalali(expiration)),
        ("سقف مبلغ هر تراکنش", _rials(max_amount)),
        ("سقف مبلغ روزانه", _rials(daily_amount)),
        ("سقف تعداد تراکنش روزانه", str(daily)),
        ("سقف تعداد تراکنش ماهانه", "نامحدود" if monthly is None else str(monthly)),
    ]
    dl = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(str(v))}</dd>" for k, v in rows)
    return (
        f'<div class="card"><h1>{html.escape(title)}</h1>'
        f'<p class="muted" id="merchant">با تایید این قرارداد به «{html.escape(merchant)}» '
        "اجازه می‌دهید در محدوده‌های زیر از سپرده شما برداشت کند.</p>"
        f'<dl id="terms">{dl}</dl></div>'
    )


def render_form(
    consent: RowMapping,
    mandate: RowMapping,
    error: str | None,
    merchant: str,
    expiry: Expiry,
    deposits: list[RowMapping] | None,
) -> str:
    """The sign-in page, or with ``deposits`` (signed in) the approval page: the terms, then
    the form (with ``error`` above it) and when the page expires."""
    err = f'<p class="err" id="error">{html.escape(error)}</p>' if error else ""
    token = html.escape(consent["token"])
    if deposits is None:
        title = "ورود به بانک"
        form = (
            '<div class="card"><h2>ورود به بانک</h2>'
            f"{err}"
            '<form method="post" action="/payman-bank/oauth/login" id="login">'
            f'<input type="hidden" name="boom_token" value="{token}">'
            '<label for="national_code">کد ملی</label>'
            '<input type="text" inputmode="numeric" id="national_code" name="national_code" '
            'autocomplete="off" required maxlength="10">'
            '<label for="mobile">شماره همراه</label>'
            '<input type="tel" id="mobile" name="mobile" autocomplete="off" required maxlength="13">'
            '<button class="ok" type="submit" id="login-submit">ورود</button></form>'
            '<form method="post" action="/payman-bank/oauth/decide">'
            f'<input type="hidden" name="boom_token" value="{token}">'
            '<input type="hidden" name="action" value="cancel">'
            '<button class="no" type="submit" id="cancel-login">انصراف</button></form>'
        )
    else:
        title = "تایید قرارداد"
        form = (
            '<div class="card">'
            f"{err}"
            '<form method="post" action="/payman-bank/oauth/decide" id="approve">'
            f'<input type="hidden" name="boom_token" value="{token}">'
            f"{_deposit_choice(consent, mandate, deposits)}"
            '<button class="ok" type="submit" name="action" value="approve" id="approve-submit">'
            "تایید قرارداد</button>"
            '<button class="no" type="submit" name="action" value="cancel" id="cancel">'
            "انصراف</button></form>"
        )
    body = _terms(consent, mandate, merchant) + form + f"{_expiry_note(expiry)}</div>"
    return _page(title, body, expiry)


def _deposit_choice(consent: RowMapping, mandate: RowMapping, deposits: list[RowMapping]) -> str:
    """An update's deposit (the mandate's, masked), or a creation's choice of deposits."""
    if consent["kind"] == "update":
        masked = html.escape(mask_deposit(mandate["deposit_number"]) or "")
        return f'<p>سپرده: <b dir="ltr">{masked}</b></p>'
    items = []
    for i, d in enumerate(deposits):
        checked = " checked" if i == 0 else ""
        items.append(
            '<label class="dep"><input type="radio" name="deposit" '
            f'value="{html.escape(d["iban"])}"{checked}>'
            f'<span dir="ltr">{html.escape(d["deposit_number"])}</span></label>'
        )
    return "<h2>انتخاب سپرده</h2>" + "".join(items)
