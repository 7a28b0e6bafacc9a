"""Access to the Payman surface: the OAuth token endpoint (client credentials) and the
authentication of every call (bearer token, App-Key, required client headers), on
:class:`PaymanService`, the surface's per-process state that every rule receives."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from pishkhan.core.ids import verify_secret
from pishkhan.runtime import Runtime
from pishkhan.tenants import cache
from pishkhan.tenants.cache import CacheMiss

from .errors import PaymanError, invalid
from .merchants import BY_APP_KEY, BY_CLIENT_ID, BY_CUSTOMER, Merchant, key_hash
from .pgpay import PgPayer
from .tokens import SCOPE, TOKEN_LIFETIME_SECONDS, TOKEN_TYPE, TokenSigner

#: The platforms ``Client-Platform-Type`` may name (2032 otherwise).
PLATFORMS: Final = frozenset({"windows", "android", "ios", "web"})


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
