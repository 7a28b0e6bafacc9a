"""Jibit identity inquiry (``/ide/v1``): URL -> handler.

Per inquiry, in this order (the order in which errors are answered):

1. authentication (``tokens.authenticate``): ``Authorization: Bearer <accessToken>``, checked in
   memory (HMAC, expiry on the sandbox clock), then the customer's status, credential version
   and IP allowlist from the credential cache (``tenants.cache``: on PostgreSQL in the
   threadpool, as it reads the credential epoch) (``forbidden``; ``token.is_required`` on the
   services whose tables document it);
2. the sandbox latency, if set;
3. parameters (``wire``), in the order of the document's parameter table (``*.is_required``,
   ``*.not_valid``, ``parameters.not_acceptable``, ``handler.not_found`` ...);
4. the sandbox fault switch of the service (``providers.not_available``);
5. the world (bank and provider state, the record's state, not found ...);
6. billing: daily limit (``daily_limit.reached``), then funds/service enabled (``forbidden``).

Steps 5 and 6 run in one database transaction (``billing.serve``); a failed call records a
usage event and is never charged. Every inquiry is one row of :data:`INQUIRIES`, every account
read one row of :data:`ACCOUNT`: the route, its rule and its line in the OpenAPI document.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Final, TypeVar

import orjson
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.routing import BaseRoute

from pishkhan import __version__
from pishkhan.core.group_commit import GroupCommit
from pishkhan.providers.jibit import (
    account,
    billing,
    cards,
    ibans,
    identity,
    matching,
    postal,
    sandbox,
    tokens,
    wire,
)
from pishkhan.providers.jibit.billing import Body, Work
from pishkhan.providers.jibit.errors import JibitError, error_body, status_of
from pishkhan.providers.jibit.errors import body_refusal as body_refusal  # for app.py
from pishkhan.providers.jibit.tenancy import BY_API_KEY, BY_ID, CustomerInfo
from pishkhan.providers.jibit.tokens import AccessTokenCache, TokenSigner
from pishkhan.runtime import Runtime
from pishkhan.tenants import cache
from pishkhan.web.fast import Answer, FastRoute
from pishkhan.web.fast import FastRequest as Request
from pishkhan.web.openapi import Op, build_document
from pishkhan.web.unrouted import allowed_methods

#: The body of an unexpected failure's 500 (the request middleware's last resort).
SERVER_ERROR: Final = error_body("server.error")

log = logging.getLogger("pishkhan.jibit")
T = TypeVar("T")

PREFIX: Final = "/ide"
#: The paths the surface answers under (any other request under them: :func:`unrouted`).
PREFIXES: Final = (PREFIX,)


_JSON_TYPE: Final = (b"content-type", b"application/json")


def _response(
    content: bytes, status: int, track_id: str | None, allow: str | None = None
) -> Response:
    """The answer with the headers Jibit's always had: ``x-track-id`` (echoed),
    ``content-length``, ``content-type``, then ``allow`` (a 405)."""
    headers = [(b"content-length", str(len(content)).encode()), _JSON_TYPE]
    if track_id is not None:
        headers.insert(0, (b"x-track-id", track_id.encode("latin-1")))
    if allow is not None:
        headers.append((b"allow", allow.encode("latin-1")))
    return Answer(status, content, headers)


def _error(exc: JibitError, track_id: str | None, svc: str | None = None) -> Response:
    return _response(error_body(exc.code, svc), exc.status, track_id)


# -- the route table -------------------------------------------------------------------------

Query = tuple[tuple[str, Any, bool, str], ...]


def _q(
    name: str, desc: str, required: bool = False, schema: Any = None
) -> tuple[str, Any, bool, str]:
    return (name, schema or wire.STR, required, desc)


@dataclass(frozen=True)
class Inquiry:
    """A billed inquiry: ``service`` (fixed) or ``choose`` (from the parameters) names the
    service; ``parse(api, params, service)`` validates the parameters and returns the work.
    ``request`` (matching, similarity): the parameters may also come as a JSON body, GET or
    POST. ``errors``: the codes it answers besides every inquiry's."""

    path: str
    summary: str
    operation_id: str
    tag: str
    answer: tuple[str, type[BaseModel]]
    errors: tuple[str, ...]
    parse: Callable[[JibitApi, wire.Params, str], Work]
    service: str | None = None
    choose: Callable[[wire.Params], str] | None = None
    query: Query = ()
    request: type[BaseModel] | None = None


@dataclass(frozen=True)
class Account:
    """A free read of the customer's own account: ``build(api, customer, query) -> body``."""

    path: str
    summary: str
    operation_id: str
    answer: tuple[str, type[BaseModel]]
    build: Callable[[JibitApi, CustomerInfo, wire.Params], Body]
    query: Query = ()
    tag: str = "account"


def _fixed(
    parse: Callable[[wire.Params], Work],
) -> Callable[[JibitApi, wire.Params, str], Work]:
    return lambda _api, params, _svc: parse(params)


def _availability(api: JibitApi, _c: CustomerInfo, query: wire.Params) -> Body:
    wire.card_to_iban_report(query)
    return api.read(cards.availability)


def _daily_report(api: JibitApi, customer: CustomerInfo, query: wire.Params) -> Body:
    day = wire.report_day(wire.get(query, "yearMonthDay"), api.rt.clock.today())
    return api.read(account.daily_report, customer.customer_id, day)


def _sana(api: JibitApi, params: wire.Params, _svc: str) -> Work:
    """Sana, with the mismatch answer the sandbox switch selects (cached state)."""
    state = api.rt.state.get(sandbox.STATE_KEY)
    return identity.parse_sana(params, mismatch_error=sandbox.sana_mismatch_error(state))


NATIONAL_CODE: Final = _q("nationalCode", "10-digit national code", True)
POSTAL_CODE: Final = _q("code", "10-digit postal code", True)
POSTAL_ERRORS: Final = ("postalCode.not_valid", "postalCode.not_found")
CARD_STATE_ERRORS: Final = (
    "card.not_valid",
    "card.not_active",
    "card.is_expired",
    "card.account_number_not_valid",
    "card.owner_not_authorized",
    "card.registered_as_lost",
    "card.registered_as_stolen",
    "card.source_bank_is_not_active",
    "card.black_listed",
    "card.provider_is_not_active",
)
DEPOSIT_ERRORS: Final = (
    "iban.not_found",
    "iban.owner_not_found",
    "iban.provided",
    "card_number.provided",
)

INQUIRIES: Final[tuple[Inquiry, ...]] = (
    Inquiry(
        "/v1/cards",
        "Card inquiry; card to deposit (deposit=true); card to IBAN (iban=true)",
        "cards",
        "cards",
        ("card", wire.CardResponse),
        (
            *CARD_STATE_ERRORS,
            "card.is_required",
            "parameters.not_acceptable",
            "card_type.not_supported",
            "iban.not_found",
            "iban.not_valid",
            "iban.owner_not_found",
            "conversion.failed",
            "handler.not_found",
        ),
        lambda api, params, svc: cards.parse_card(params, svc, api.month()),
        choose=cards.card_service,
        query=(
            _q("number", "16-digit card number", True),
            _q("deposit", "card to deposit", schema=wire.FLAG),
            _q("iban", "card to IBAN", schema=wire.FLAG),
            _q(
                "nationalCode",
                "card to national code (live API only: handler.not_found)",
                schema=wire.FLAG,
            ),
        ),
    ),
    Inquiry(
        "/v1/ibans",
        "IBAN inquiry",
        "ibanInquiry",
        "ibans",
        ("IBAN", wire.IbanInquiry),
        ("iban.is_required", "iban.not_valid", "iban.not_found", "iban.owner_not_found"),
        _fixed(ibans.parse_iban),
        service="IBAN_INQUIRY",
        query=(_q("value", "IBAN", True),),
    ),
    Inquiry(
        "/v1/deposits",
        "Deposit (account number) to IBAN",
        "depositToIban",
        "deposits",
        ("IBAN", wire.DepositToIban),
        (*DEPOSIT_ERRORS, "bank.not_valid", "deposit.is_required", "deposit.not_valid"),
        _fixed(ibans.parse_deposit_to_iban),
        service="DEPOSIT_TO_IBAN",
        query=(
            _q("bank", "bank id, upper case", True, wire.BANK),
            _q("number", "account number as the bank formats it", True),
            _q("iban", "true", True, wire.FLAG),
        ),
    ),
    Inquiry(
        "/v1/services/matching",
        "Matching: card/deposit/IBAN with national code and birth date or with a name; "
        "national code with mobile (Shahkar). Dispatched by the parameters present.",
        "matching",
        "matching",
        ("result", wire.Matching),
        (
            *CARD_STATE_ERRORS,
            *DEPOSIT_ERRORS,
            "identity_info.not_found",
            "matching.unknown",
            "handler.not_found",
            "bank.not_valid",
            "deposit.not_valid",
            "iban.not_valid",
            "birthDate.not_valid",
            "nationalCode.not_valid",
            "mobileNumber.not_valid",
        ),
        lambda api, params, svc: matching.parse_matching(params, svc, api.month()),
        choose=matching.matching_service,
        query=(
            _q("cardNumber", "card number (card matching)"),
            _q("bank", "bank id (deposit matching)", schema=wire.BANK),
            _q("depositNumber", "account number as the bank formats it (deposit matching)"),
            _q("iban", "IBAN (IBAN matching)"),
            _q("nationalCode", "10-digit national code"),
            _q("birthDate", "Jalali yyyyMMdd"),
            _q("name", "first and last name"),
            _q("mobileNumber", "mobile number (with nationalCode: Shahkar)"),
        ),
        request=wire.MatchingRequest,
    ),
    Inquiry(
        "/v1/services/postal",
        "Postal code to address",
        "postalAddress",
        "postal",
        ("address", wire.PostalInquiry),
        POSTAL_ERRORS,
        _fixed(partial(postal.parse_postal, wgs=False)),
        service="POSTAL_ADDRESS",
        query=(POSTAL_CODE,),
    ),
    Inquiry(
        "/v1/services/postal/wgs",
        "Postal code to WGS-84 coordinates",
        "postalWgs",
        "postal",
        ("coordinates", wire.WgsInquiry),
        POSTAL_ERRORS,
        _fixed(partial(postal.parse_postal, wgs=True)),
        service="POSTAL_WGS",
        query=(POSTAL_CODE,),
    ),
    Inquiry(
        "/v1/services/identity/similarity",
        "Registry similarity: integer percentage per supplied name",
        "similarity",
        "identity",
        ("percentages", wire.Similarity),
        (
            "nationalCode.is_required",
            "nationalCode.not_valid",
            "birthDate.is_required",
            "birthDate.not_valid",
            "query_parameters.not_provided",
            "identity_info.not_found",
        ),
        _fixed(identity.parse_similarity),
        service="IDENTITY_SIMILARITY",
        query=(
            NATIONAL_CODE,
            _q("birthDate", "Jalali yyyyMMdd", True),
            *(_q(k, "optional") for k, _ in wire.SIMILARITY_FIELDS),
        ),
        request=wire.SimilarityRequest,
    ),
    Inquiry(
        "/v1/services/foreigners/identity",
        "Foreign national by FIDA",
        "foreigner",
        "identity",
        ("identity", wire.ForeignerInquiry),
        ("fida.is_required", "fida.not_valid", "fida.black_listed"),
        _fixed(identity.parse_foreigner),
        service="FOREIGNER_IDENTITY",
        query=(_q("fida", "FIDA", True),),
    ),
    Inquiry(
        "/v1/services/corporation/identity",
        "Guild license by 10-digit code",
        "corporation",
        "identity",
        ("license", wire.CorporationInquiry),
        (
            "token.is_required",
            "corporation_code.is_required",
            "corporation_code.not_valid",
            "corporation_identity_info.not_found",
        ),
        _fixed(identity.parse_guild),
        service="CORPORATION_IDENTITY",
        query=(_q("code", "10 digits", True),),
    ),
    Inquiry(
        "/v1/services/social/msq",
        "Military service qualification",
        "militaryService",
        "identity",
        ("qualification", wire.MilitaryInquiry),
        ("token.is_required", "nationalCode.is_required", "nationalCode.not_valid"),
        _fixed(identity.parse_military),
        service="MILITARY_SERVICE",
        query=(NATIONAL_CODE,),
    ),
    Inquiry(
        "/v1/services/social/sana",
        "Sana registration. A SIM that is not the person's (or unknown): "
        "mobileNumber.not_valid, as the document's note says the service fails (the "
        "sandbox switch sana_mismatch=matched_false answers 200 matched: false instead)",
        "sana",
        "identity",
        ("registration", wire.SanaInquiry),
        (
            "token.is_required",
            "nationalCode.is_required",
            "nationalCode.not_valid",
            "nationalCode.black_listed",
            "mobileNumber.is_required",
            "mobileNumber.not_valid",
            "mobileNumber.black_listed",
        ),
        _sana,
        service="SANA",
        query=(NATIONAL_CODE, _q("mobileNumber", "mobile number", True)),
    ),
)

ACCOUNT: Final[tuple[Account, ...]] = (
    Account(
        "/v1/services/availability",
        "Card-to-IBAN availability per bank",
        "cardToIbanAvailability",
        ("report", wire.AvailabilityReport),
        _availability,
        query=(_q("cardToIBAN", "true (absent means true)", schema=wire.FLAG),),
        tag="cards",
    ),
    Account(
        "/v1/balances",
        "Wallet balances (PRF prepaid, POF postpaid)",
        "balances",
        ("balances", wire.Balances),
        lambda api, customer, _query: api.read(account.balances, customer.customer_id),
    ),
    Account(
        "/v1/reports/daily",
        "Daily usage report",
        "dailyReport",
        ("report", wire.DailyReport),
        _daily_report,
        query=(_q("yearMonthDay", "Jalali yyMMdd (000708: 1400/07/08)", True),),
    ),
)

#: The codes every inquiry may answer, every account read, every token call.
INQUIRY_ERRORS: Final = (
    "invalid.request_body",
    "forbidden",
    "daily_limit.reached",
    "providers.not_available",
    "server.error",
)
ACCOUNT_ERRORS: Final = ("invalid.request_body", "forbidden", "server.error")
TOKEN_ERRORS: Final = ("invalid.request_body", "server.error")


# -- handlers --------------------------------------------------------------------------------


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

    def read(self, fn: Callable[..., Body], *args: Any) -> Body:
        with self.rt.db.read() as conn:
            return fn(conn, *args)

    def month(self) -> str:
        return cards.this_month(self.rt.clock.today())

    def _customer(self, request: Request, svc: str | None = None) -> CustomerInfo:
        return tokens.authenticate(
            request.headers.get("authorization"),
            request.client_host,
            svc,
            self.access_tokens,
            partial(self.customers.find, BY_ID),
            self.rt.clock.timestamp(),
        )

    # -- inquiries and account reads -----------------------------------------------------------

    async def inquiry(self, ep: Inquiry, request: Request) -> Response:
        """Authenticate, validate, check faults, then serve and bill one inquiry."""
        track_id = request.headers.get("x-track-id")
        svc = ep.service or "CARD_INQUIRY"
        try:
            customer = await self._db(self._customer, request, ep.service)
        except JibitError as exc:
            return _error(exc, track_id, ep.service)
        latency = sandbox.latency_seconds(self.rt.state.get(sandbox.STATE_KEY))
        if latency:
            await asyncio.sleep(latency)
        track = wire.track_id(track_id)
        try:
            raw = await request.body() if ep.request is not None else None
            params = wire.merged_params(request.query_params, raw)
            if ep.choose is not None:
                svc = ep.choose(params)
            work = ep.parse(self, params, svc)
            sandbox.check_available(self.rt.state.get(sandbox.STATE_KEY), svc)
        except JibitError as exc:
            if exc.code != "handler.not_found":
                await self._db_write(
                    billing.record, self.rt.clock, customer.customer_id, svc, exc.code, track
                )
            return _error(exc, track_id, svc)
        result = await self._db_write(billing.serve, self.rt.clock, customer, svc, work, track)
        if isinstance(result, JibitError):
            return _error(result, track_id, svc)
        return _response(orjson.dumps(result), 200, track_id)

    async def account(self, ep: Account, request: Request) -> Response:
        track_id = request.headers.get("x-track-id")
        try:
            customer = await self._db(self._customer, request)
            body = await self._db(ep.build, self, customer, dict(request.query_params))
        except JibitError as exc:
            return _error(exc, track_id)
        return _response(orjson.dumps(body), 200, track_id)

    # -- tokens ------------------------------------------------------------------------------

    async def generate(self, request: Request) -> Response:
        """POST /v1/tokens/generate; the Authorization header is ignored."""
        track_id = request.headers.get("x-track-id")
        try:
            api_key, secret = wire.token_request(wire.json_object(await request.body()))
            customer = tokens.check_credentials(
                await self._db(self.customers.find, BY_API_KEY, api_key),
                secret,
                request.client_host,
            )
        except JibitError as exc:
            return _error(exc, track_id)
        return self._pair(customer, self.rt.clock.timestamp(), track_id)

    async def refresh(self, request: Request) -> Response:
        """POST /v1/tokens/refresh; the access token may have expired."""
        track_id = request.headers.get("x-track-id")
        try:
            access, refresh = wire.refresh_request(wire.json_object(await request.body()))
            now = self.rt.clock.timestamp()
            claims = tokens.refresh_claims(self.signer, access, refresh, now)
            customer = tokens.check_refresh(
                await self._db(self.customers.find, BY_ID, claims.customer_id),
                claims,
                request.client_host,
            )
        except JibitError as exc:
            return _error(exc, track_id)
        return self._pair(customer, now, track_id)

    def _pair(self, customer: CustomerInfo, now: float, track_id: str | None) -> Response:
        access, refresh = self.signer.issue_pair(
            customer.customer_id, customer.credential_version, now
        )
        return _response(wire.token_pair(access, refresh), 200, track_id)

    # -- misc --------------------------------------------------------------------------------

    async def health(self, request: Request) -> Response:
        return _response(wire.HEALTH, 200, request.headers.get("x-track-id"))


def unrouted(request: Request, others: Sequence[BaseRoute]) -> Response:
    """Any request under ``/ide`` no route takes (``HEAD`` and ``OPTIONS`` included): 405 (with
    ``Allow``) on a path the surface serves with other methods, else 404; both
    ``handler.not_found`` in the envelope (the document has no code for a wrong method;
    ``handler.not_found``, "no mechanism found", is its code for a request no handler takes,
    and the status tells them apart). Nothing runs, nothing is recorded or charged."""
    track_id = request.headers.get("x-track-id")
    if others:
        allow = allowed_methods(others)
        return _response(error_body("handler.not_found"), 405, track_id, allow)
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


# -- routes and OpenAPI ----------------------------------------------------------------------

AUTH: Final[list[dict[str, list[str]]]] = [{"bearer": []}]
TRACK_HEADER: Final = (
    "X-TRACK-ID",
    {"type": "string", "maxLength": wire.MAX_TRACK_ID},
    False,
    "echoed in the response header",
)


def _errors(*codes: str) -> dict[int, tuple[str, Any]]:
    by_status: dict[int, set[str]] = {}
    for code in codes:
        by_status.setdefault(status_of(code), set()).add(code)
    return {s: (", ".join(sorted(c)), wire.Error) for s, c in by_status.items()}


def _op(
    summary: str,
    operation_id: str,
    tag: str,
    answer: tuple[str, type[BaseModel]],
    errors: Sequence[str],
    *,
    query: Query = (),
    request: type[BaseModel] | None = None,
    security: list[dict[str, list[str]]] | None = None,
) -> Op:
    return Op(
        summary=summary,
        query=query,
        body=request,
        headers=(TRACK_HEADER,),
        security=security,
        tags=[tag],
        operation_id=operation_id,
        responses={200: answer, **_errors(*errors)},
    )


def _bad_query() -> Exception:
    """A query that is not UTF-8 (e.g. Windows-1256 bytes): never a string of replacement
    characters."""
    return JibitError("invalid.request_body")


#: Every Jibit route: exact methods (GET does not bring HEAD: a HEAD would run, and charge,
#: the inquiry), the query decoded strictly.
JibitRoute: Final = partial(FastRoute, bad_query=_bad_query)


def build_routes(api: JibitApi) -> list[FastRoute]:
    v1 = f"{PREFIX}/v1"
    g = _guard
    routes = [
        JibitRoute(
            f"{v1}/tokens/generate",
            g(api.generate),
            methods=["POST"],
            op=_op(
                "Generate an access token (24 h) and a refresh token (48 h)",
                "generateToken",
                "tokens",
                ("token pair", wire.TokenPair),
                (
                    *TOKEN_ERRORS,
                    "apiKey.is_required",
                    "apiKey.length_exceeded",
                    "secretKey.is_required",
                    "secretKey.length_exceeded",
                    "invalid.credentials",
                ),
                request=wire.TokenRequest,
                security=[],
            ),
        ),
        JibitRoute(
            f"{v1}/tokens/refresh",
            g(api.refresh),
            methods=["POST"],
            op=_op(
                "Refresh a token pair (the access token may have expired)",
                "refreshToken",
                "tokens",
                ("token pair", wire.TokenPair),
                (
                    *TOKEN_ERRORS,
                    "accessToken.is_required",
                    "refreshToken.is_required",
                    "refreshToken.not_valid",
                    "invalid.tokens_pair",
                    "client.not_found",
                ),
                request=wire.RefreshRequest,
                security=[],
            ),
        ),
    ]
    for inq in INQUIRIES:
        routes.append(
            JibitRoute(
                PREFIX + inq.path,
                g(partial(api.inquiry, inq)),
                methods=["GET", "POST"] if inq.request is not None else ["GET"],
                op=_op(
                    inq.summary,
                    inq.operation_id,
                    inq.tag,
                    inq.answer,
                    (*INQUIRY_ERRORS, *inq.errors),
                    query=inq.query,
                    request=inq.request,
                ),
            )
        )
    for acc in ACCOUNT:
        routes.append(
            JibitRoute(
                PREFIX + acc.path,
                g(partial(api.account, acc)),
                methods=["GET"],
                op=_op(
                    acc.summary,
                    acc.operation_id,
                    acc.tag,
                    acc.answer,
                    ACCOUNT_ERRORS,
                    query=acc.query,
                ),
            )
        )
    routes.append(
        JibitRoute(
            f"{PREFIX}/health",
            g(api.health),
            methods=["GET", "HEAD"],  # a probe; HEAD on anything else is 405
            op=Op(
                summary="Liveness (seen in clients, not in the document)",
                security=[],
                tags=["misc"],
                operation_id="health",
                responses={200: ("up", wire.Health)},
            ),
        )
    )
    return routes


def build(runtime: Runtime) -> list[BaseRoute]:
    api = JibitApi(runtime)
    routes = build_routes(api)
    out: list[BaseRoute] = list(routes)
    # Cheap leniency: /ide//v1/... (a doubled slash some clients produce).
    for r in routes:
        if r.path.startswith(f"{PREFIX}/v1/"):
            path = PREFIX + "/" + r.path[len(PREFIX) :]
            out.append(JibitRoute(path, r.handler, methods=list(r.methods or ())))
    return out


def openapi(runtime: Runtime) -> dict[str, Any]:
    return build_document(
        title="Jibit identity inquiry (pishkhan)",
        version=__version__,
        description="Jibit's identity inquiry API v1.5.2 as pishkhan serves it. Errors are "
        '`{"code", "message"}` with the HTTP status of docs/jibit.md.',
        routes=build_routes(JibitApi(runtime)),
        security_schemes={"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        default_security=AUTH,
        body_refusal=lambda _op: wire.Error,  # invalid.request_body (errors.body_refusal)
    )
