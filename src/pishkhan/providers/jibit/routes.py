"""Jibit identity inquiry (``/ide/v1``): URL -> handler; parse the request, render the response.

Per request, in this order (the order in which errors are answered):

1. authentication: ``Authorization: Bearer <accessToken>``, checked in memory (HMAC, expiry on
   the sandbox clock), then the customer's status, credential version and IP allowlist from the
   credential cache (``tenants.cache``: on PostgreSQL in the threadpool, as it reads the
   credential epoch) (``forbidden``; ``token.is_required`` on the services whose tables
   document it);
2. the sandbox latency, if set;
3. parameters, in the order of the document's parameter table (``*.is_required``, ``*.not_valid``,
   ``parameters.not_acceptable``, ``handler.not_found`` ...);
4. the sandbox fault switch of the service (``providers.not_available``);
5. the world (bank and provider state, the record's state, not found ...);
6. billing: daily limit (``daily_limit.reached``), then funds/service enabled (``forbidden``).

Steps 5 and 6 run in one database transaction; a failed call records a usage event and is never
charged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, Final, TypeVar

import orjson
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.routing import BaseRoute

from pishkhan import __version__
from pishkhan.core.group_commit import GroupCommit
from pishkhan.core.ids import verify_secret
from pishkhan.providers.jibit import params as p
from pishkhan.providers.jibit import sandbox, schemas, service
from pishkhan.providers.jibit.errors import JibitError, error_body, status_of
from pishkhan.providers.jibit.errors import body_refusal as body_refusal  # for app.py
from pishkhan.providers.jibit.hot import HotRequest as Request
from pishkhan.providers.jibit.hot import HotRoute, JsonResponse, method_not_allowed
from pishkhan.providers.jibit.schemas import ref
from pishkhan.providers.jibit.service import SERVICES, Body, Work
from pishkhan.providers.jibit.tenancy import BY_API_KEY, BY_ID, CustomerInfo
from pishkhan.providers.jibit.tokens import AccessTokenCache, TokenSigner
from pishkhan.runtime import Runtime
from pishkhan.tenants import cache
from pishkhan.tenants.billing import ChargeOutcome, charge, record_failure
from pishkhan.web.openapi import Op, build_document

#: The body of an unexpected failure's 500 (the request middleware's last resort).
SERVER_ERROR: Final = error_body("server.error")

log = logging.getLogger("pishkhan.jibit")
T = TypeVar("T")

PREFIX: Final = "/ide"
MAX_API_KEY: Final = 64
MAX_SECRET_KEY: Final = 128
MAX_TRACK_ID: Final = 50
TOKEN_REQUIRED_SERVICES: Final = frozenset({"CORPORATION_IDENTITY", "MILITARY_SERVICE", "SANA"})


def _response(content: bytes, status: int, track_id: str | None) -> Response:
    return JsonResponse(content, status, track_id)


def _error(exc: JibitError, track_id: str | None, svc: str | None = None) -> Response:
    return _response(error_body(exc.code, svc), exc.status, track_id)


class JibitApi:
    """The surface's handlers and the per-process state they share."""

    def __init__(self, runtime: Runtime, *, inline_sqlite: bool = True) -> None:
        self.rt = runtime
        self.signer = TokenSigner(runtime.settings.token_secret)
        self.access_tokens = AccessTokenCache(self.signer)
        self.customers = cache.of(runtime.db, runtime.settings.credential_refresh)
        # SQLite transactions of a few statements are faster inline than through the
        # threadpool (measured, see docs/jibit.md); PostgreSQL waits on the network.
        self.inline = inline_sqlite and runtime.db.is_sqlite
        self.group = GroupCommit(runtime.db, name="jibit") if self.inline else None

    # -- plumbing ----------------------------------------------------------------------------

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        if self.inline:
            return fn(*args)
        return await run_in_threadpool(fn, *args)

    async def _db_write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args, conn)`` in a write transaction.

        On SQLite the transactions of concurrent requests are committed together on the event
        loop (:class:`~pishkhan.core.group_commit.GroupCommit`: one ``COMMIT`` per batch of the
        requests read while it grew, instead of one per request; each job still
        all-or-nothing). Elsewhere each runs in its own transaction in the threadpool.
        """
        if self.group is not None:
            return await self.group.run(partial(fn, *args))
        return await run_in_threadpool(self._in_transaction, fn, *args)

    def _in_transaction(self, fn: Callable[..., T], *args: Any) -> T:
        with self.rt.db.write() as conn:
            return fn(*args, conn)

    @staticmethod
    def _track_id(request: Request) -> str | None:
        return request.headers.get("x-track-id")

    async def _params(self, request: Request, *, body: bool) -> dict[str, Any]:
        """Query parameters; for matching and similarity also a JSON body (the query wins)."""
        merged: dict[str, Any] = {}
        if body:
            raw = await request.body()
            if raw.strip():
                try:
                    data = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    data = None
                if isinstance(data, dict):
                    merged.update(data)
                elif not request.query_params:
                    raise JibitError("invalid.request_body")
        merged.update(request.query_params)
        return merged

    def _customer(self, request: Request, svc: str | None = None) -> CustomerInfo:
        header = request.headers.get("authorization") or ""
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        if not token or scheme.lower() != "bearer":
            if svc in TOKEN_REQUIRED_SERVICES:
                raise JibitError("token.is_required")
            raise JibitError("forbidden")
        claims = self.access_tokens.claims(token)
        if claims is None or claims.expires_at <= self.rt.clock.timestamp():
            raise JibitError("forbidden")
        customer = self.customers.find(BY_ID, claims.customer_id)
        if (
            customer is None
            or not customer.active
            or customer.credential_version != claims.credential_version
            or not customer.allows(request.client_host)
        ):
            raise JibitError("forbidden")
        return customer

    async def _latency(self) -> None:
        state = self.rt.state.get(sandbox.STATE_KEY)
        if state and state.get("latency_ms"):
            await asyncio.sleep(int(state["latency_ms"]) / 1000)

    def _check_fault(self, svc: str) -> None:
        state = self.rt.state.get(sandbox.STATE_KEY)
        if state:
            down = state.get("unavailable") or ()
            if "*" in down or svc in down:
                raise JibitError("providers.not_available")

    def _record(
        self, customer_id: int, svc: str, code: str, track_id: str | None, conn: Connection
    ) -> None:
        record_failure(
            conn,
            self.rt.clock,
            customer_id=customer_id,
            surface="jibit",
            service=svc,
            outcome=code,
            track_id=track_id[:MAX_TRACK_ID] if track_id else None,
        )

    def _serve(
        self,
        customer: CustomerInfo,
        svc: str,
        work: Work,
        track_id: str | None,
        conn: Connection,
    ) -> Body | JibitError:
        """The world lookup and the charge, in the caller's transaction."""
        definition = SERVICES[svc]
        track = track_id[:MAX_TRACK_ID] if track_id else None
        clock = self.rt.clock
        try:
            body = work(conn)
        except JibitError as exc:
            record_failure(
                conn,
                clock,
                customer_id=customer.customer_id,
                surface="jibit",
                service=svc,
                outcome=exc.code,
                track_id=track,
            )
            return exc
        result = charge(
            conn,
            clock,
            customer_id=customer.customer_id,
            surface="jibit",
            service=svc,
            track_id=track,
            rule=customer.rule(svc, definition.price),
        )
        if result.outcome is ChargeOutcome.CHARGED:
            return body
        if result.outcome is ChargeOutcome.DAILY_LIMIT:
            return JibitError("daily_limit.reached")
        return JibitError("forbidden")

    async def _inquiry(
        self,
        request: Request,
        choose: Callable[[dict[str, Any]], str],
        parse: Callable[[dict[str, Any], str], Work],
        *,
        body: bool = False,
        fixed_service: str | None = None,
    ) -> Response:
        """Authenticate, validate, check faults, then serve and bill one inquiry."""
        track_id = self._track_id(request)
        svc = fixed_service or "CARD_INQUIRY"
        try:
            customer = await self._db(self._customer, request, fixed_service)
        except JibitError as exc:
            return _error(exc, track_id, fixed_service)
        await self._latency()
        try:
            params = await self._params(request, body=body)
            svc = choose(params)
            work = parse(params, svc)
            self._check_fault(svc)
        except JibitError as exc:
            if exc.code != "handler.not_found":
                await self._db_write(self._record, customer.customer_id, svc, exc.code, track_id)
            return _error(exc, track_id, svc)
        result = await self._db_write(self._serve, customer, svc, work, track_id)
        if isinstance(result, JibitError):
            return _error(result, track_id, svc)
        return _response(orjson.dumps(result), 200, track_id)

    def _month(self) -> str:
        return service.this_month(self.rt.clock.today())

    # -- tokens ------------------------------------------------------------------------------

    @staticmethod
    async def _json_object(request: Request) -> dict[str, Any]:
        try:
            data = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            raise JibitError("invalid.request_body") from None
        if not isinstance(data, dict):
            raise JibitError("invalid.request_body")
        return data

    @staticmethod
    def _string(data: dict[str, Any], key: str, required: str) -> str:
        value = data.get(key)
        if value is None or value == "":
            raise JibitError(required)
        if not isinstance(value, str):
            raise JibitError("invalid.request_body")
        return value

    async def generate(self, request: Request) -> Response:
        """POST /v1/tokens/generate; the Authorization header is ignored."""
        track_id = self._track_id(request)
        try:
            data = await self._json_object(request)
            api_key = self._string(data, "apiKey", "apiKey.is_required")
            if len(api_key) > MAX_API_KEY:
                raise JibitError("apiKey.length_exceeded")
            secret = self._string(data, "secretKey", "secretKey.is_required")
            if len(secret) > MAX_SECRET_KEY:
                raise JibitError("secretKey.length_exceeded")
            customer = await self._db(self.customers.find, BY_API_KEY, api_key)
            if (
                customer is None
                or not customer.active
                or not verify_secret(secret, customer.secret_hash)
                or not customer.allows(request.client_host)
            ):
                raise JibitError("invalid.credentials")
        except JibitError as exc:
            return _error(exc, track_id)
        access, refresh = self.signer.issue_pair(
            customer.customer_id, customer.credential_version, self.rt.clock.timestamp()
        )
        return _response(
            orjson.dumps({"accessToken": access, "refreshToken": refresh}), 200, track_id
        )

    async def refresh(self, request: Request) -> Response:
        """POST /v1/tokens/refresh; the access token may have expired."""
        track_id = self._track_id(request)
        try:
            data = await self._json_object(request)
            access_raw = self._string(data, "accessToken", "accessToken.is_required")
            refresh_raw = self._string(data, "refreshToken", "refreshToken.is_required")
            now = self.rt.clock.timestamp()
            refresh_claims = self.signer.decode(refresh_raw)
            if (
                refresh_claims is None
                or refresh_claims.kind != "refresh"
                or refresh_claims.expires_at <= now
            ):
                raise JibitError("refreshToken.not_valid")
            access_claims = self.signer.decode(access_raw)
            if (
                access_claims is None
                or access_claims.kind != "access"
                or access_claims.pair_id != refresh_claims.pair_id
                or access_claims.customer_id != refresh_claims.customer_id
            ):
                raise JibitError("invalid.tokens_pair")
            customer = await self._db(self.customers.find, BY_ID, refresh_claims.customer_id)
            if customer is None or not customer.active or not customer.allows(request.client_host):
                raise JibitError("client.not_found")
            if customer.credential_version != refresh_claims.credential_version:
                raise JibitError("refreshToken.not_valid")
        except JibitError as exc:
            return _error(exc, track_id)
        access, refresh = self.signer.issue_pair(
            customer.customer_id, customer.credential_version, now
        )
        return _response(
            orjson.dumps({"accessToken": access, "refreshToken": refresh}), 200, track_id
        )

    # -- inquiries ---------------------------------------------------------------------------

    async def cards(self, request: Request) -> Response:
        month = self._month()
        return await self._inquiry(
            request, service.card_flags, lambda prm, svc: service.parse_card(prm, svc, month)
        )

    async def ibans(self, request: Request) -> Response:
        return await self._inquiry(
            request,
            lambda _: "IBAN_INQUIRY",
            lambda prm, _s: service.parse_iban(prm),
            fixed_service="IBAN_INQUIRY",
        )

    async def deposits(self, request: Request) -> Response:
        return await self._inquiry(
            request,
            lambda _: "DEPOSIT_TO_IBAN",
            lambda prm, _s: service.parse_deposit_to_iban(prm),
            fixed_service="DEPOSIT_TO_IBAN",
        )

    async def matching(self, request: Request) -> Response:
        month = self._month()

        def choose(prm: dict[str, Any]) -> str:
            svc = service.matching_service(prm)
            if svc is None:
                raise JibitError("handler.not_found")
            return svc

        return await self._inquiry(
            request, choose, lambda prm, svc: service.parse_matching(prm, svc, month), body=True
        )

    def _fixed(
        self, svc: str, parse: Callable[[dict[str, Any]], Work], *, body: bool = False
    ) -> Callable[[Request], Awaitable[Response]]:
        async def handler(request: Request) -> Response:
            return await self._inquiry(
                request, lambda _: svc, lambda prm, _s: parse(prm), body=body, fixed_service=svc
            )

        return handler

    def parse_sana(self, prm: dict[str, Any]) -> Work:
        """Sana, with the mismatch answer the sandbox switch selects (cached state)."""
        mismatch_error = sandbox.sana_mismatch_error(self.rt.state.get(sandbox.STATE_KEY))
        return service.parse_sana(prm, mismatch_error=mismatch_error)

    # -- account -----------------------------------------------------------------------------

    def _read(self, fn: Callable[..., Body], *args: Any) -> Body:
        with self.rt.db.read() as conn:
            return fn(conn, *args)

    async def _account(
        self, request: Request, build: Callable[[CustomerInfo, dict[str, Any]], Body]
    ) -> Response:
        track_id = self._track_id(request)
        try:
            customer = await self._db(self._customer, request)
            body = await self._db(build, customer, dict(request.query_params))
        except JibitError as exc:
            return _error(exc, track_id)
        return _response(orjson.dumps(body), 200, track_id)

    async def availability(self, request: Request) -> Response:
        def build(_c: CustomerInfo, prm: dict[str, Any]) -> Body:
            if prm.get("cardToIBAN") is not None and not p.flag(prm, "cardToIBAN"):
                raise JibitError("invalid.request_body")
            return self._read(service.availability)

        return await self._account(request, build)

    async def balances(self, request: Request) -> Response:
        return await self._account(
            request, lambda c, _prm: self._read(service.balances, c.customer_id)
        )

    async def daily_report(self, request: Request) -> Response:
        def build(c: CustomerInfo, prm: dict[str, Any]) -> Body:
            day = service.parse_report_day(p.get(prm, "yearMonthDay"), self.rt.clock.today())
            return self._read(service.daily_report, c.customer_id, day)

        return await self._account(request, build)

    # -- misc --------------------------------------------------------------------------------

    async def health(self, request: Request) -> Response:
        return _response(b'{"outcome":"UP","checks":[]}', 200, self._track_id(request))

    async def unrouted(self, allowed: dict[str, frozenset[str]], request: Request) -> Response:
        """The catch-all under ``/ide``: a path the surface serves, with another method, is
        405 (with ``Allow``); any other path is 404. Both ``handler.not_found`` in the
        envelope; nothing runs, nothing is recorded or charged."""
        track_id = self._track_id(request)
        methods = allowed.get(request.path)
        if methods is not None:
            return method_not_allowed(methods, track_id)
        return _response(error_body("handler.not_found"), 404, track_id)


def _guard(
    handler: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """Anything unexpected becomes ``server.error`` in Jibit's envelope."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except JibitError as exc:
            return _error(exc, request.headers.get("x-track-id"))
        except Exception:
            log.exception("jibit handler failed", extra={"fields": {"path": request.path}})
            return _response(
                error_body("server.error"),
                status_of("server.error"),
                request.headers.get("x-track-id"),
            )

    endpoint.__name__ = getattr(handler, "__name__", "endpoint")
    return endpoint


# -- route table and OpenAPI -----------------------------------------------------------------

ERR: Final = ref("Error")
AUTH: Final[list[dict[str, list[str]]]] = [{"bearer": []}]


def _errors(*codes: str) -> dict[int, tuple[str, Any]]:
    by_status: dict[int, list[str]] = {}
    for code in codes:
        by_status.setdefault(status_of(code), []).append(code)
    return {s: (", ".join(sorted(c)), ERR) for s, c in by_status.items()}


def _q(
    name: str, desc: str, required: bool = False, schema: Any = None
) -> tuple[str, Any, bool, str]:
    return (name, schema or schemas.STR, required, desc)


TRACK_HEADER: Final = (
    "X-TRACK-ID",
    {"type": "string", "maxLength": MAX_TRACK_ID},
    False,
    "echoed in the response header",
)
FLAG: Final = {"type": ["boolean", "string", "integer"], "description": 'true/"true"/1 or false'}
CARD_ERRORS: Final = (
    "invalid.request_body",
    "forbidden",
    "card.is_required",
    "card.not_valid",
    "parameters.not_acceptable",
    "daily_limit.reached",
    "card.not_active",
    "card.is_expired",
    "card.account_number_not_valid",
    "card.owner_not_authorized",
    "card.registered_as_lost",
    "card.registered_as_stolen",
    "card.source_bank_is_not_active",
    "card.black_listed",
    "card.provider_is_not_active",
    "providers.not_available",
    "server.error",
    "card_type.not_supported",
    "iban.not_found",
    "iban.not_valid",
    "iban.owner_not_found",
    "conversion.failed",
    "handler.not_found",
)
MATCHING_ERRORS: Final = (
    "invalid.request_body",
    "forbidden",
    "card.not_valid",
    "daily_limit.reached",
    "card.not_active",
    "card.is_expired",
    "card.account_number_not_valid",
    "card.owner_not_authorized",
    "card.registered_as_lost",
    "card.registered_as_stolen",
    "card.source_bank_is_not_active",
    "card.provider_is_not_active",
    "card.black_listed",
    "identity_info.not_found",
    "matching.unknown",
    "providers.not_available",
    "handler.not_found",
    "server.error",
    "bank.not_valid",
    "deposit.not_valid",
    "card_number.provided",
    "iban.provided",
    "iban.not_found",
    "iban.not_valid",
    "iban.owner_not_found",
    "birthDate.not_valid",
    "nationalCode.not_valid",
    "mobileNumber.not_valid",
)
MATCHING_QUERY: Final = (
    _q("cardNumber", "card number (card matching)"),
    _q("bank", "bank id (deposit matching)", schema=schemas.BANK),
    _q("depositNumber", "account number as the bank formats it (deposit matching)"),
    _q("iban", "IBAN (IBAN matching)"),
    _q("nationalCode", "10-digit national code"),
    _q("birthDate", "Jalali yyyyMMdd"),
    _q("name", "first and last name"),
    _q("mobileNumber", "mobile number (with nationalCode: Shahkar)"),
)


def build_routes(api: JibitApi) -> list[HotRoute]:
    v1 = f"{PREFIX}/v1"
    g = _guard
    return [
        HotRoute(
            f"{v1}/tokens/generate",
            g(api.generate),
            methods=["POST"],
            op=Op(
                summary="Generate an access token (24 h) and a refresh token (48 h)",
                body=ref("TokenRequest"),
                headers=(TRACK_HEADER,),
                security=[],
                tags=["tokens"],
                operation_id="generateToken",
                responses={
                    200: ("token pair", ref("TokenPair")),
                    **_errors(
                        "invalid.request_body",
                        "apiKey.is_required",
                        "apiKey.length_exceeded",
                        "secretKey.is_required",
                        "secretKey.length_exceeded",
                        "invalid.credentials",
                        "server.error",
                    ),
                },
            ),
        ),
        HotRoute(
            f"{v1}/tokens/refresh",
            g(api.refresh),
            methods=["POST"],
            op=Op(
                summary="Refresh a token pair (the access token may have expired)",
                body=ref("RefreshRequest"),
                headers=(TRACK_HEADER,),
                security=[],
                tags=["tokens"],
                operation_id="refreshToken",
                responses={
                    200: ("token pair", ref("TokenPair")),
                    **_errors(
                        "invalid.request_body",
                        "accessToken.is_required",
                        "refreshToken.is_required",
                        "refreshToken.not_valid",
                        "invalid.tokens_pair",
                        "client.not_found",
                        "server.error",
                    ),
                },
            ),
        ),
        HotRoute(
            f"{v1}/cards",
            g(api.cards),
            methods=["GET"],
            op=Op(
                summary="Card inquiry; card to deposit (deposit=true); card to IBAN (iban=true)",
                query=(
                    _q("number", "16-digit card number", True),
                    _q("deposit", "card to deposit", schema=FLAG),
                    _q("iban", "card to IBAN", schema=FLAG),
                    _q(
                        "nationalCode",
                        "card to national code (live API only: handler.not_found)",
                        schema=FLAG,
                    ),
                ),
                headers=(TRACK_HEADER,),
                tags=["cards"],
                operation_id="cards",
                responses={200: ("card", ref("CardResponse")), **_errors(*CARD_ERRORS)},
            ),
        ),
        HotRoute(
            f"{v1}/ibans",
            g(api.ibans),
            methods=["GET"],
            op=Op(
                summary="IBAN inquiry",
                query=(_q("value", "IBAN", True),),
                headers=(TRACK_HEADER,),
                tags=["ibans"],
                operation_id="ibanInquiry",
                responses={
                    200: ("IBAN", ref("IbanInquiry")),
                    **_errors(
                        "invalid.request_body",
                        "forbidden",
                        "iban.is_required",
                        "iban.not_valid",
                        "iban.not_found",
                        "iban.owner_not_found",
                        "daily_limit.reached",
                        "providers.not_available",
                        "server.error",
                    ),
                },
            ),
        ),
        HotRoute(
            f"{v1}/services/availability",
            g(api.availability),
            methods=["GET"],
            op=Op(
                summary="Card-to-IBAN availability per bank",
                query=(_q("cardToIBAN", "true (absent means true)", schema=FLAG),),
                headers=(TRACK_HEADER,),
                tags=["cards"],
                operation_id="cardToIbanAvailability",
                responses={
                    200: ("report", ref("AvailabilityReport")),
                    **_errors("invalid.request_body", "forbidden", "server.error"),
                },
            ),
        ),
        HotRoute(
            f"{v1}/deposits",
            g(api.deposits),
            methods=["GET"],
            op=Op(
                summary="Deposit (account number) to IBAN",
                query=(
                    _q("bank", "bank id, upper case", True, schemas.BANK),
                    _q("number", "account number as the bank formats it", True),
                    _q("iban", "true", True, FLAG),
                ),
                headers=(TRACK_HEADER,),
                tags=["deposits"],
                operation_id="depositToIban",
                responses={
                    200: ("IBAN", ref("DepositToIban")),
                    **_errors(
                        "invalid.request_body",
                        "forbidden",
                        "bank.not_valid",
                        "deposit.is_required",
                        "deposit.not_valid",
                        "iban.not_found",
                        "iban.owner_not_found",
                        "iban.provided",
                        "card_number.provided",
                        "daily_limit.reached",
                        "providers.not_available",
                        "server.error",
                    ),
                },
            ),
        ),
        HotRoute(
            f"{v1}/services/matching",
            g(api.matching),
            methods=["GET", "POST"],
            op=Op(
                summary="Matching: card/deposit/IBAN with national code and birth date or with a "
                "name; national code with mobile (Shahkar). Dispatched by the parameters present.",
                query=MATCHING_QUERY,
                body=ref("MatchingRequest"),
                headers=(TRACK_HEADER,),
                tags=["matching"],
                operation_id="matching",
                responses={200: ("result", ref("Matching")), **_errors(*MATCHING_ERRORS)},
            ),
        ),
        HotRoute(
            f"{v1}/services/postal",
            g(api._fixed("POSTAL_ADDRESS", lambda prm: service.parse_postal(prm, wgs=False))),
            methods=["GET"],
            op=Op(
                summary="Postal code to address",
                query=(_q("code", "10-digit postal code", True),),
                headers=(TRACK_HEADER,),
                tags=["postal"],
                operation_id="postalAddress",
                responses={
                    200: ("address", ref("PostalInquiry")),
                    **_errors(
                        "invalid.request_body",
                        "forbidden",
                        "postalCode.not_valid",
                        "postalCode.not_found",
                        "daily_limit.reached",
                        "providers.not_available",
                        "server.error",
                    ),
                },
            ),
        ),
        HotRoute(
            f"{v1}/services/postal/wgs",
            g(api._fixed("POSTAL_WGS", lambda prm: service.parse_postal(prm, wgs=True))),
            methods=["GET"],
            op=Op(
                summary="Postal code to WGS-84 coordinates",
                query=(_q("code", "10-digit postal code", True),),
                headers=(TRACK_HEADER,),
                tags=["postal"],
                operation_id="postalWgs",
                responses={
                    200: ("coordinates", ref("WgsInquiry")),
                    **_errors(
                        "invalid.request_body",
                        "forbidden",
                        "postalCode.not_valid",
                        "postalCode.not_found",
                        "daily_limit.reached",
                        "providers.not_available",
                        "server.error",
                    ),
                },
            ),
        ),
        HotRoute(
            f"{v1}/services/identity/similarity",
            g(api._fixed("IDENTITY_SIMILARITY", service.parse_similarity, body=True)),
            methods=["GET", "POST"],
            op=Op(
                summary="Registry similarity: integer percentage per supplied name",
                query=(
                    _q("nationalCode", "10-digit national code", True),
                    _q("birthDate", "Jalali yyyyMMdd", True),
                    _q("firstName", "optional"),
                    _q("lastName", "optional"),
                    _q("fullName", "optional"),
                    _q("fatherName", "optional"),
                ),
                body=ref("SimilarityRequest"),
                headers=(TRACK_HEADER,),
                tags=["identity"],
                operation_id="similarity",
                responses={
                    200: ("percentages", ref("Similarity")),
                    **_errors(
                        "invalid.request_body",
                        "forbidden",
                        "nationalCode.is_required",
                        "nationalCode.not_valid",
                        "birthDate.is_required",
                        "birthDate.not_valid",
                        "query_parameters.not_provided",
                        "identity_info.not_found",
                        "daily_limit.reached",
                        "providers.not_available",
                        "server.error",
                    ),
                },
            ),
        ),
        HotRoute(
            f"{v1}/services/foreigners/identity",
            g(api._fixed("FOREIGNER_IDENTITY", service.parse_foreigner)),
            methods=["GET"],
            op=Op(
                summary="Foreign national by FIDA",
                query=(_q("fida", "FIDA", True),),
                headers=(TRACK_HEADER,),
                tags=["identity"],
                operation_id="foreigner",
                responses={
                    200: ("identity", ref("ForeignerInquiry")),
                    **_errors(
                        "invalid.request_body",
                        "forbidden",
                        "fida.is_required",
                        "fida.not_valid",
                        "fida.black_listed",
                        "daily_limit.reached",
                        "providers.not_available",
                        "server.error",
                    ),
                },
            ),
        ),
        HotRoute(
            f"{v1}/services/corporation/identity",
            g(api._fixed("CORPORATION_IDENTITY", service.parse_guild)),
            methods=["GET"],
            op=Op(
                summary="Guild license by 10-digit code",
                query=(_q("code", "10 digits", True),),
                headers=(TRACK_HEADER,),
                tags=["identity"],
                operation_id="corporation",
                responses={
                    200: ("license", ref("CorporationInquiry")),
                    **_errors(
                        "invalid.request_body",
                        "forbidden",
                        "token.is_required",
                        "corporation_code.is_required",
                        "corporation_code.not_valid",
                        "corporation_identity_info.not_found",
                        "daily_limit.reached",
                        "providers.not_available",
                        "server.error",
                    ),
                },
            ),
        ),
        HotRoute(
            f"{v1}/services/social/msq",
            g(api._fixed("MILITARY_SERVICE", service.parse_military)),
            methods=["GET"],
            op=Op(
                summary="Military service qualification",
                query=(_q("nationalCode", "10-digit national code", True),),
                headers=(TRACK_HEADER,),
                tags=["identity"],
                operation_id="militaryService",
                responses={
                    200: ("qualification", ref("MilitaryInquiry")),
                    **_errors(
                        "invalid.request_body",
                        "forbidden",
                        "token.is_required",
                        "nationalCode.is_required",
                        "nationalCode.not_valid",
                        "daily_limit.reached",
                        "providers.not_available",
                        "server.error",
                    ),
                },
            ),
        ),
        HotRoute(
            f"{v1}/services/social/sana",
            g(api._fixed("SANA", api.parse_sana)),
            methods=["GET"],
            op=Op(
                summary="Sana registration. A SIM that is not the person's (or unknown): "
                "mobileNumber.not_valid, as the document's note says the service fails (the "
                "sandbox switch sana_mismatch=matched_false answers 200 matched: false instead)",
                query=(
                    _q("nationalCode", "10-digit national code", True),
                    _q("mobileNumber", "mobile number", True),
                ),
                headers=(TRACK_HEADER,),
                tags=["identity"],
                operation_id="sana",
                responses={
                    200: ("registration", ref("SanaInquiry")),
                    **_errors(
                        "invalid.request_body",
                        "forbidden",
                        "token.is_required",
                        "nationalCode.is_required",
                        "nationalCode.not_valid",
                        "nationalCode.black_listed",
                        "mobileNumber.is_required",
                        "mobileNumber.not_valid",
                        "mobileNumber.black_listed",
                        "daily_limit.reached",
                        "providers.not_available",
                        "server.error",
                    ),
                },
            ),
        ),
        HotRoute(
            f"{v1}/balances",
            g(api.balances),
            methods=["GET"],
            op=Op(
                summary="Wallet balances (PRF prepaid, POF postpaid)",
                headers=(TRACK_HEADER,),
                tags=["account"],
                operation_id="balances",
                responses={
                    200: ("balances", ref("Balances")),
                    **_errors("invalid.request_body", "forbidden", "server.error"),
                },
            ),
        ),
        HotRoute(
            f"{v1}/reports/daily",
            g(api.daily_report),
            methods=["GET"],
            op=Op(
                summary="Daily usage report",
                query=(_q("yearMonthDay", "Jalali yyMMdd (000708: 1400/07/08)", True),),
                headers=(TRACK_HEADER,),
                tags=["account"],
                operation_id="dailyReport",
                responses={
                    200: ("report", ref("DailyReport")),
                    **_errors("invalid.request_body", "forbidden", "server.error"),
                },
            ),
        ),
        HotRoute(
            f"{PREFIX}/health",
            g(api.health),
            methods=["GET", "HEAD"],  # a probe; HEAD on anything else is 405
            op=Op(
                summary="Liveness (seen in clients, not in the document)",
                security=[],
                tags=["misc"],
                operation_id="health",
                responses={200: ("up", ref("Health"))},
            ),
        ),
    ]


def build(runtime: Runtime) -> list[BaseRoute]:
    api = JibitApi(runtime)
    routes = build_routes(api)
    out: list[BaseRoute] = list(routes)
    # Cheap leniency: /ide//v1/... (a doubled slash some clients produce).
    for r in routes:
        if r.path.startswith(f"{PREFIX}/v1/"):
            out.append(
                HotRoute(PREFIX + "/" + r.path[len(PREFIX) :], r.hot, methods=list(r.methods or ()))
            )
    # Every other request under /ide (any method: HEAD and OPTIONS too) gets Jibit's envelope:
    # 405 on a served path, else 404 (the router takes the first full match, and a route's
    # wrong method is only a partial one).
    allowed = {r.path: frozenset(r.methods or ()) for r in out if isinstance(r, HotRoute)}
    unrouted = _guard(partial(api.unrouted, allowed))
    out.append(HotRoute(PREFIX, unrouted, methods=None))
    out.append(HotRoute(PREFIX + "/{rest:path}", unrouted, methods=None))
    return out


def openapi(runtime: Runtime) -> dict[str, Any]:
    routes = build_routes(JibitApi(runtime))
    components = dict(schemas.COMPONENTS)
    components["CorporationIdentityInfo"] = schemas.guild_schema(service.GUILD_FIELDS)
    components["CorporationInquiry"] = schemas.obj(
        {"code": schemas.STR, "corporationIdentityInfo": ref("CorporationIdentityInfo")},
        additionalProperties=False,
    )
    return build_document(
        title="Jibit identity inquiry (pishkhan)",
        version=__version__,
        description="Jibit's identity inquiry API v1.5.2 as pishkhan serves it. Errors are "
        '`{"code", "message"}` with the HTTP status of docs/jibit.md.',
        routes=routes,
        security_schemes={"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        default_security=AUTH,
        extra_components=components,
        body_refusal=lambda _op: ERR,  # invalid.request_body (errors.body_refusal)
    )
