"""The rules and transactions of the Payman surface (no HTTP): tokens, mandates, reports."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from sqlalchemy import and_, func, insert, select
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from pishkhan.core.ids import new_code, verify_secret
from pishkhan.iran.banks import by_payman_code
from pishkhan.iran.errors import InvalidIdentifier
from pishkhan.iran.mobile import normalize_mobile
from pishkhan.iran.national_code import parse_national_code
from pishkhan.runtime import Runtime
from pishkhan.tenants import billing, cache
from pishkhan.tenants.cache import CacheMiss

from . import limits, mandates, sandbox
from .errors import PaymanError, invalid
from .merchants import BY_APP_KEY, BY_CLIENT_ID, BY_CUSTOMER, Merchant, key_hash
from .pgpay import PgPayer
from .schemas import (
    as_utc,
    epoch_ms,
    get_amount,
    get_instant,
    get_int,
    get_list,
    get_str,
    present,
)
from .tables import payman_consents, payman_mandates
from .tokens import SCOPE, TOKEN_LIFETIME_SECONDS, TOKEN_TYPE, TokenSigner

SURFACE = "payman"
CONSENT_TTL = timedelta(minutes=10)
START_DATE_GRACE = timedelta(minutes=10)
MAX_DAILY_COUNT = 1000
MAX_MONTHLY_COUNT = 31_000
PERMISSIONS = (1, 2)
CLIENT_HEADERS = (
    "Client-Device-Id",
    "Client-Ip-Address",
    "Client-User-Agent",
    "Client-Platform-Type",
)
REPORT_HEADERS = (*CLIENT_HEADERS, "Client-User-Id")
PLATFORMS = frozenset({"windows", "android", "ios", "web"})
START_DATE_INFO = "مقدار وارد شده برای فیلد StartDate بایستی بزرگتر از فیلد Now باشد"


def _code(n: int = 12) -> str:
    return new_code(n)


class PaymanService:
    """One per process: the runtime plus the credential cache and the token signer."""

    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.credentials = cache.of(runtime.db, runtime.settings.credential_refresh)
        self.signer = TokenSigner(runtime.settings.token_secret or "pishkhan-dev-secret")
        self.started_ms = runtime.clock.millis()
        # PostgreSQL: pays run as one call of payman_pay on the event loop (payments.pay_async).
        self.pg_payer = PgPayer.for_engine(runtime.db.engine) if runtime.db.is_postgres else None

    # -- authentication ------------------------------------------------------------------

    def issue_token(self, form: Mapping[str, str]) -> dict[str, Any]:
        fields = {k.strip().lower(): v for k, v in form.items()}
        client_id = (fields.get("client_id") or "").strip()
        secret = fields.get("client_secret") or ""
        grant = (fields.get("grant_type") or "").strip().lower()
        if not client_id or not secret:
            raise PaymanError("2009")
        if grant != "client_credentials":
            raise invalid("grant_type", "grant_type must be client_credentials")
        merchant = self.credentials.find(BY_CLIENT_ID, client_id.lower(), max_age=0)
        if merchant is None or not verify_secret(secret, merchant.secret_hash):
            raise PaymanError("2009")
        if not merchant.active:
            raise PaymanError("2015")
        token = self.signer.issue(
            merchant.customer_id, merchant.client_id, merchant.generation, self.rt.clock.timestamp()
        )
        return {
            "access_token": token,
            "token_type": TOKEN_TYPE,
            "scope": SCOPE,
            "expires_in": TOKEN_LIFETIME_SECONDS,
        }

    def authenticate(
        self,
        headers: Mapping[str, str],
        required: tuple[str, ...] = (),
        *,
        token_required: bool = True,
    ) -> Merchant:
        """The merchant behind the bearer token and App-key; required headers checked."""
        found = self.credentials.fresh(max_age=0)  # one read of the epoch for both lookups
        return self._authenticate(
            headers,
            required,
            token_required,
            lambda customer_id: found.get(BY_CUSTOMER, customer_id),
            lambda app_key: found.get(BY_APP_KEY, key_hash(app_key)),
        )

    def authenticate_cached(self, headers: Mapping[str, str]) -> Merchant | None:
        """:meth:`authenticate` (no required headers, token required) answered from the merchant
        cache alone, so it may run on the event loop: ``None`` when that would need the
        database (the caller then runs :meth:`authenticate` in the threadpool)."""
        kept = self.credentials.latest()
        try:
            return self._authenticate(
                headers,
                (),
                True,
                lambda customer_id: kept.cached(BY_CUSTOMER, customer_id),
                lambda app_key: kept.cached(BY_APP_KEY, key_hash(app_key)),
            )
        except (CacheMiss, PaymanError):
            # A refusal too is decided against the database as it is now: the entries kept may
            # predate a change (a token of a rotation made through another process).
            return None

    def _authenticate(
        self,
        headers: Mapping[str, str],
        required: tuple[str, ...],
        token_required: bool,
        by_customer: Callable[[int], Merchant | None],
        by_app_key: Callable[[str], Merchant | None],
    ) -> Merchant:
        auth = headers.get("authorization", "").strip()
        merchant: Merchant | None = None
        if auth or token_required:
            scheme, _, token = auth.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise PaymanError("2067", reference="Authorization")
            claims = self.signer.verify(token, self.rt.clock.timestamp())
            if claims is None:
                raise PaymanError("2069", reference="Authorization")
            merchant = by_customer(claims.customer_id)
            if merchant is None or merchant.generation != claims.generation:
                raise PaymanError("2069", reference="Authorization")
        app_key = headers.get("app-key", "").strip()
        if not app_key:
            raise PaymanError("2068", reference="App-Key")
        by_key = by_app_key(app_key)
        if by_key is None or not verify_secret(app_key, by_key.app_key_hash):
            raise PaymanError("2002", reference="App-Key")
        if merchant is not None and by_key.customer_id != merchant.customer_id:
            raise PaymanError("2053", reference="App-Key")
        for name in required:
            if not headers.get(name.lower(), "").strip():
                raise PaymanError("2066", reference=name)
        platform = headers.get("client-platform-type")
        if platform is not None and platform.strip() and platform.strip().lower() not in PLATFORMS:
            raise PaymanError("2032", reference="Client-Platform-Type")
        if not by_key.active:
            raise PaymanError("2015")
        return by_key

    def _person_headers(self, headers: Mapping[str, str]) -> tuple[str, str | None]:
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

    def _bank_open(self, bank_code: str, service: str) -> None:
        status, rate = sandbox.bank_state(self.rt.state, bank_code, service)
        if status == "inaccessible":
            raise PaymanError("2500")
        if status == "unstable" and sandbox.unstable_fails(rate):
            raise PaymanError("2000")

    # -- contract validation -------------------------------------------------------------

    def _redirect(self, merchant: Merchant, sent: str) -> str:
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
        self,
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

    def _consent_location(
        self, token: str, bank_code: str, merchant: Merchant, mobile: str, national_code: str | None
    ) -> str:
        query = {
            "bank_id": bank_code,
            "boom_token": token,
            "response_type": "code",
            "client_id": merchant.client_id,
            "mobile": mobile,
        }
        if national_code:
            query["national_code"] = national_code
        return (
            f"{self.rt.settings.effective_base_url}/payman-bank/oauth/authorize?{urlencode(query)}"
        )

    # -- create ----------------------------------------------------------------------------

    def create(self, merchant: Merchant, headers: Mapping[str, str], body: dict[str, Any]) -> str:
        now = self.rt.clock.now_utc()
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
            if value not in PERMISSIONS:
                raise PaymanError("2017", reference=f"payman.permission_ids[{i}]")
            permission_ids.append(int(value))
        contract = payman.get("contract")
        if not isinstance(contract, dict):
            raise invalid("payman.contract", "The contract field is required.")
        p = "payman.contract."
        expiration = get_instant(contract, "expiration_date", p + "expiration_date", required=True)
        start = get_instant(contract, "start_date", p + "start_date", now=now) or now
        max_daily = get_int(
            contract,
            "max_daily_transaction_count",
            p + "max_daily_transaction_count",
            required=True,
        )
        max_monthly = get_int(
            contract, "max_monthly_transaction_count", p + "max_monthly_transaction_count"
        )
        max_amount = get_amount(
            contract, "max_transaction_amount", p + "max_transaction_amount", code="027"
        )
        daily_max = get_amount(
            contract, "daily_max_transaction_amount", p + "daily_max_transaction_amount", code="027"
        )
        assert expiration is not None and max_daily is not None and trace_id and user_id
        bank = by_payman_code(bank_code)
        if bank is None:
            raise PaymanError("2023", reference="payman.bank_code")
        if not merchant.may_use(bank_code):
            raise PaymanError("2205")
        if start < now - START_DATE_GRACE:
            raise invalid(p + "start_date", START_DATE_INFO)
        self._contract_rules(
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
        mobile, national_code = self._person_headers(headers)
        redirect_url = self._redirect(merchant, sent_redirect or "")
        self._bank_open(bank_code, "create")
        client_info = {
            name: headers.get(name.lower())
            for name in (*CLIENT_HEADERS, "Client-User-Id", "Device-Id")
            if headers.get(name.lower())
        }
        token = secrets.token_urlsafe(24)
        with self.rt.db.write() as conn:
            if conn.execute(
                select(payman_mandates.c.id).where(
                    and_(
                        payman_mandates.c.customer_id == merchant.customer_id,
                        payman_mandates.c.trace_id == trace_id,
                    )
                )
            ).first():
                raise PaymanError("2049", reference="trace_id")
            if national_code:
                other = conn.execute(
                    select(payman_mandates.c.national_code)
                    .where(
                        and_(
                            payman_mandates.c.customer_id == merchant.customer_id,
                            payman_mandates.c.user_id == user_id,
                            payman_mandates.c.national_code.is_not(None),
                            payman_mandates.c.national_code != national_code,
                        )
                    )
                    .limit(1)
                ).first()
                if other is not None:
                    raise PaymanError("133", reference="payman.user_id")
            charged = billing.charge(
                conn,
                self.rt.clock,
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
                    mandate_id = conn.execute(
                        insert(payman_mandates)
                        .values(
                            customer_id=merchant.customer_id,
                            payman_code=_code(),
                            payman_id=None,
                            trace_id=trace_id,
                            bank_code=bank_code,
                            user_id=user_id,
                            permission_ids=permission_ids,
                            status="INITIALIZING",
                            internal_status=mandates.INTERNAL_CREATING,
                            national_code=national_code,
                            mobile=mobile,
                            redirect_url=redirect_url,
                            start_date=start,
                            expiration_date=expiration,
                            max_daily_count=max_daily,
                            max_monthly_count=max_monthly,
                            max_amount=max_amount,
                            daily_max_amount=daily_max,
                            client_info=client_info,
                            created_at=now,
                            updated_at=now,
                        )
                        .returning(payman_mandates.c.id)
                    ).scalar_one()
            except IntegrityError as exc:
                raise PaymanError("2049", reference="trace_id") from exc
            mandates.record_creation(conn, mandate_id, now, actor="merchant")
            self._open_consent(conn, token, mandate_id, "create", {}, redirect_url, now)
        return self._consent_location(token, bank_code, merchant, mobile, national_code)

    def _open_consent(
        self,
        conn: Connection,
        token: str,
        mandate_id: int,
        kind: str,
        changes: dict[str, Any],
        redirect_url: str,
        now: datetime,
    ) -> None:
        conn.execute(
            insert(payman_consents).values(
                token=token,
                mandate_id=mandate_id,
                kind=kind,
                changes=changes,
                stage="OPEN",
                redirect_url=redirect_url,
                expires_at=now + CONSENT_TTL,
                created_at=now,
            )
        )

    # -- lookups -----------------------------------------------------------------------------

    def _mandate_by(
        self,
        conn: Connection,
        merchant: Merchant,
        column: str,
        value: str,
        *,
        lock: bool = True,
        foreign_code: str = "2055",
    ) -> RowMapping:
        stmt = select(payman_mandates).where(getattr(payman_mandates.c, column) == value)
        if lock:
            stmt = stmt.with_for_update()
        row = conn.execute(stmt).mappings().first()
        if row is None:
            raise PaymanError("2014")
        if row["customer_id"] != merchant.customer_id:
            raise PaymanError(foreign_code)
        return row

    def get_id(self, merchant: Merchant, payman_code: str | None) -> dict[str, Any]:
        if not payman_code:
            raise invalid("payman_code", "The payman_code field is required.")
        now = self.rt.clock.now_utc()
        with self.rt.db.write() as conn:
            row = self._mandate_by(conn, merchant, "payman_code", payman_code, foreign_code="2014")
            row = mandates.expire_if_due(conn, row, now)
            if row["status"] == "EXPIRED":
                raise PaymanError("2006")
            if row["status"] == "ACTIVE":
                raise PaymanError("2046")
            if row["status"] != "WAITING_FOR_CONFIRM":
                raise PaymanError("2010")
            payman_id = _code()
            mandates.transition(
                conn,
                row,
                "ACTIVE",
                mandates.INTERNAL_ACTIVATED,
                actor="merchant",
                now=now,
                extra={"payman_id": payman_id, "activated_at": now},
            )
        return {
            "payman_id": payman_id,
            "status": "ACTIVE",
            "deposit_number": mandates.mask_deposit(row["deposit_number"]),
        }

    def create_trace(self, merchant: Merchant, trace_id: str | None) -> dict[str, Any]:
        if not trace_id:
            raise invalid("trace-id", "The trace-id field is required.")
        now = self.rt.clock.now_utc()
        with self.rt.db.write() as conn:
            row = (
                conn.execute(
                    select(payman_mandates)
                    .where(
                        and_(
                            payman_mandates.c.customer_id == merchant.customer_id,
                            payman_mandates.c.trace_id == trace_id,
                        )
                    )
                    .with_for_update()
                )
                .mappings()
                .first()
            )
            if row is None:
                raise PaymanError("2021")
            if row["status"] == "INITIALIZING":
                from .consent import expire_open_consents

                if not expire_open_consents(conn, row, now):
                    raise PaymanError("2014")
                row = (
                    conn.execute(select(payman_mandates).where(payman_mandates.c.id == row["id"]))
                    .mappings()
                    .one()
                )
            row = mandates.expire_if_due(conn, row, now)
        return mandates.trace_json(row)

    # -- status change and update ------------------------------------------------------------

    def status_change(self, merchant: Merchant, body: dict[str, Any]) -> dict[str, Any]:
        raw_status = get_str(body, "new_status", "new_status", required=True) or ""
        payman_id = get_str(body, "payman_id", "payman_id", required=True) or ""
        new_status = mandates.canonical_status(raw_status)
        if new_status not in ("ACTIVE", "DEACTIVE", "CANCELLED"):
            raise PaymanError("2183", reference="new_status")
        now = self.rt.clock.now_utc()
        with self.rt.db.write() as conn:
            row = self._mandate_by(conn, merchant, "payman_id", payman_id)
            row = mandates.expire_if_due(conn, row, now)
            status = row["status"]
            if status == "CANCELLED":
                raise PaymanError("2185")
            if status == "EXPIRED" and new_status == "ACTIVE":
                raise PaymanError("2165")
            if status not in ("ACTIVE", "DEACTIVE") or status == new_status:
                raise PaymanError("2016")
            if not mandates.transition(
                conn,
                row,
                new_status,
                mandates.INTERNAL_BY_SERVICE[new_status],
                actor="merchant",
                now=now,
            ):
                raise PaymanError("2182")
        return {"payman_id": payman_id, "status": new_status}

    def update(self, merchant: Merchant, headers: Mapping[str, str], body: dict[str, Any]) -> str:
        now = self.rt.clock.now_utc()
        payman_id = get_str(body, "payman_id", "payman_id", required=True) or ""
        expiration = get_instant(body, "expiration_date", "expiration_date")
        max_daily = get_int(body, "max_daily_transaction_count", "max_daily_transaction_count")
        max_monthly = get_int(
            body, "max_monthly_transaction_count", "max_monthly_transaction_count"
        )
        max_amount = get_amount(
            body, "max_transaction_amount", "max_transaction_amount", code="027"
        )
        daily_max = get_amount(
            body, "daily_max_transaction_amount", "daily_max_transaction_amount", code="027"
        )
        sent_redirect = get_str(body, "redirect_url", "redirect_url")
        mobile, national_code = self._person_headers(headers)
        token = secrets.token_urlsafe(24)
        with self.rt.db.write() as conn:
            row = self._mandate_by(conn, merchant, "payman_id", payman_id)
            row = mandates.expire_if_due(conn, row, now)
            if row["status"] == "CANCELLED":
                raise PaymanError("20952")
            if row["status"] == "EXPIRED":
                raise PaymanError("2006")
            if row["status"] not in ("ACTIVE", "DEACTIVE"):
                raise PaymanError("2010")
            if not merchant.may_use(row["bank_code"]):
                raise PaymanError("2205")
            self._bank_open(row["bank_code"], "create")
            if expiration is not None and expiration < as_utc(row["expiration_date"]):
                raise PaymanError("20948", reference="expiration_date")
            new: dict[str, Any] = {
                "expiration_date": expiration or as_utc(row["expiration_date"]),
                "max_daily": max_daily if max_daily is not None else row["max_daily_count"],
                "max_monthly": max_monthly if max_monthly is not None else row["max_monthly_count"],
                "max_amount": max_amount if max_amount is not None else row["max_amount"],
                "daily_max": daily_max if daily_max is not None else row["daily_max_amount"],
            }
            self._contract_rules(
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
            redirect_url = (
                self._redirect(merchant, sent_redirect) if sent_redirect else row["redirect_url"]
            )
            changes = {
                "expiration_date": epoch_ms(new["expiration_date"]),
                "max_daily_count": new["max_daily"],
                "max_monthly_count": new["max_monthly"],
                "max_amount": new["max_amount"],
                "daily_max_amount": new["daily_max"],
                "mobile": mobile,
                "national_code": national_code,
            }
            self._open_consent(conn, token, row["id"], "update", changes, redirect_url, now)
        return self._consent_location(token, row["bank_code"], merchant, mobile, national_code)

    # -- search and report -------------------------------------------------------------------

    def search(self, merchant: Merchant, body: dict[str, Any]) -> dict[str, Any]:
        offset = get_int(body, "offset", "$.offset", required=True)
        length = get_int(body, "length", "$.length", required=True)
        assert offset is not None and length is not None
        if offset < 0 or not 0 < length <= 1000:
            raise invalid(
                "$.length" if offset >= 0 else "$.offset", "offset >= 0 and 1 <= length <= 1000"
            )
        raw_filter = body.get("filter")
        flt: dict[str, Any] = raw_filter if isinstance(raw_filter, dict) else {}
        if raw_filter not in (None, []) and not isinstance(raw_filter, dict):
            raise invalid(
                "$.filter", "The JSON value could not be converted to Filter. Path: $.filter."
            )
        t = payman_mandates.c
        conds: list[Any] = [t.customer_id == merchant.customer_id]
        f = "$.filter."
        bank = get_str(flt, "bank_code", f + "bank_code")
        if bank:
            conds.append(t.bank_code == bank.upper())
        payman_id = get_str(flt, "payman_id", f + "payman_id")
        if payman_id:
            conds.append(t.payman_id == payman_id)
        for key, column, end in (
            ("expiration_date_from", t.expiration_date, False),
            ("expiration_date_to", t.expiration_date, True),
            ("start_date_from", t.start_date, False),
            ("start_date_to", t.start_date, True),
        ):
            value = get_instant(flt, key, f + key, date_only_end=end)
            if value is not None:
                conds.append(column <= value if end else column >= value)
        for key, column in (
            ("max_daily_transactions_count_from", t.max_daily_count),
            ("max_daily_transactions_count_to", t.max_daily_count),
            ("max_monthly_transactions_count_from", t.max_monthly_count),
            ("max_monthly_transactions_count_to", t.max_monthly_count),
        ):
            ivalue = get_int(flt, key, f + key)
            if ivalue is not None:
                conds.append(column >= ivalue if key.endswith("_from") else column <= ivalue)
        for key in ("transaction_max_amount_from", "transaction_max_amount_to"):
            avalue = get_amount(flt, key, f + key)
            if avalue is not None:
                conds.append(
                    t.max_amount >= avalue if key.endswith("_from") else t.max_amount <= avalue
                )
        statuses = get_list(flt, "statuses", f + "statuses")
        if statuses:
            conds.append(t.status.in_([mandates.canonical_status(str(s)) for s in statuses]))
        user_ids = get_list(flt, "user_ids", f + "user_ids")
        if user_ids:
            conds.append(t.user_id.in_([str(u) for u in user_ids]))
        perms_raw = get_list(flt, "permission_ids", f + "permission_ids") or []
        perms = {
            get_int({"v": p}, "v", f"{f}permission_ids[{i}]", required=True)
            for i, p in enumerate(perms_raw)
        }
        now = self.rt.clock.now_utc()
        with self.rt.db.write() as conn:
            mandates.sweep_expired(conn, merchant.customer_id, now)
            query = select(payman_mandates).where(and_(*conds)).order_by(t.id.desc())
            if perms:
                # permission_ids is a JSON list: filter before paging so total_records and the
                # page agree.
                matching = [
                    row
                    for row in conn.execute(query).mappings().all()
                    if perms & set(row["permission_ids"] or ())
                ]
                total = len(matching)
                rows = matching[offset : offset + length]
            else:
                total = conn.execute(
                    select(func.count()).select_from(payman_mandates).where(and_(*conds))
                ).scalar_one()
                rows = list(conn.execute(query.offset(offset).limit(length)).mappings().all())
        results = []
        for row in rows:
            results.append(
                {
                    "payman_id": row["payman_id"],
                    "bank_code": row["bank_code"],
                    "user_id": row["user_id"],
                    "status": row["status"],
                    "creditor_title": merchant.name,
                    "trace_id": row["trace_id"],
                    # The document's sample gives the institution's id (its App-Key there,
                    # equal to its client_id); the App-Key is a secret stored hashed here.
                    "creditor_id": merchant.client_id,
                    "permission_ids": list(row["permission_ids"]),
                    "registration_date": epoch_ms(row["created_at"]),
                    "contract": mandates.contract_json(row),
                    "over_draft": {"status": "DEACTIVE"},
                }
            )
        return {"results": results, "total_records": int(total)}

    def report(self, merchant: Merchant, payman_id: str) -> dict[str, Any]:
        now = self.rt.clock.now_utc()
        with self.rt.db.write() as conn:
            row = self._mandate_by(conn, merchant, "payman_id", payman_id)
            row = mandates.expire_if_due(conn, row, now)
        now_teh = self.rt.clock.now()
        usage = limits.usage_of(row, now_teh.date())
        daily_max = row["daily_max_amount"]
        expiration = as_utc(row["expiration_date"])
        remaining_days = max(0, (expiration - now).days) if row["status"] == "ACTIVE" else 0
        out: dict[str, Any] = {
            "payman_id": row["payman_id"],
            "expiration_date": epoch_ms(row["expiration_date"]),
            "start_date": epoch_ms(row["start_date"]),
            "remaining_daily_transactions_count": max(0, row["max_daily_count"] - usage.day_count),
        }
        if row["max_monthly_count"] is not None:
            out["remaining_monthly_transactions_count"] = max(
                0, row["max_monthly_count"] - usage.month_count
            )
        out["end_of_current_month"] = limits.end_of_month_ms(now_teh)
        out["max_daily_transactions_count"] = row["max_daily_count"]
        if row["max_monthly_count"] is not None:
            out["max_monthly_transactions_count"] = row["max_monthly_count"]
        out.update(
            {
                "remaining_days": remaining_days,
                "remaining_daily_transaction_amount": max(0, daily_max - usage.day_amount)
                if daily_max
                else 0,
                "daily_transaction_max_amount": daily_max or 0,
                "status": row["status"],
                "deposit_number": mandates.mask_deposit(row["deposit_number"]),
            }
        )
        return out


def utcnow_from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


__all__ = ["CLIENT_HEADERS", "REPORT_HEADERS", "PaymanService", "present"]
