"""Payman's HTTP surface: URL -> handler. A handler authenticates, reads the request through
``wire``, calls a rule and answers its result; the document is generated from ``wire``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from pishkhan import __version__
from pishkhan.runtime import Runtime
from pishkhan.tenants.cache import StaleCredentials
from pishkhan.web.asgi import InvalidQuery, query_map
from pishkhan.web.fast import FastRoute, json_handler
from pishkhan.web.openapi import ApiRoute, build_document
from pishkhan.web.pages import security_headers
from pishkhan.web.unrouted import enveloped

from . import consent, errors, mandates, payments, reports, wire
from .access import PaymanService
from .errors import PaymanError, invalid
from .errors import body_refusal as body_refusal  # for app.py
from .merchants import Merchant
from .wire import CLIENT_HEADERS, OPS, REPORT_HEADERS, parse_body

Handler = Callable[[Request], Awaitable[Response]]

#: URL -> handler: (path, method, the handler's name; its operation is ``wire.OPS[name]``).
API: Final = (
    ("/oauth/token", "POST", "token"),
    ("/v1/payman/create", "POST", "create"),
    ("/v1/payman/getId", "GET", "get_id"),
    ("/v1/payman/create/trace", "GET", "create_trace"),
    ("/v1/payman/status/change", "POST", "status_change"),
    ("/v1/payman/update", "POST", "update"),
    ("/v1/payman/search", "POST", "search"),
    ("/v1/payman/report/{payman_id}", "GET", "report"),
    ("/v1/payman/report", "GET", "report_query"),
    ("/v1/payman/pay", "POST", "pay"),
    ("/v1/payman/pay/trace", "GET", "pay_trace"),
    ("/v1/payman/transactions", "POST", "transactions"),
    ("/v1/reports/transactions", "POST", "merchant_transactions"),
    ("/v1/reports/transactions/statistics", "POST", "statistics"),
    ("/v1/health/service", "GET", "health"),
    ("/v1/payman/creditor/permissions", "GET", "permissions"),
)
#: The bank's consent pages (HTML).
PAGES: Final = (
    ("/payman-bank/oauth/authorize", "GET", "authorize"),
    ("/payman-bank/oauth/login", "POST", "login"),
    ("/payman-bank/oauth/decide", "POST", "decide"),
)
#: The paths the surface answers under.
PREFIXES: Final = ("/oauth/", "/v1/payman", "/v1/reports", "/v1/health", "/payman-bank/")
#: Anything else under the API's paths (not the HTML consent pages): 405 (with Allow) or 404,
#: 2026 in the error envelope; elsewhere Starlette's answer.
unrouted: Final = enveloped(
    errors.unrouted,
    lambda path: path == "/oauth/token" or path.startswith(("/v1/payman/", "/v1/reports/")),
)


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def _query(request: Request, *names: str) -> str | None:
    return wire.query_value(request.scope.get("query_string", b""), *names)


def _guard(fn: Handler) -> Handler:
    async def wrapped(request: Request) -> Response:
        try:
            return await fn(request)
        except PaymanError as exc:
            return exc.response()
        except payments.RecordedFailure as exc:
            return exc.error.response()

    return wrapped


def _page(result: consent.PageResult, *, post: bool) -> Response:
    if result.location is not None:
        response: Response = RedirectResponse(result.location, status_code=303 if post else 302)
    else:
        response = HTMLResponse(result.html, status_code=result.status)
    # A page's forms may end at its merchant's origin (the 303 that answers them goes there,
    # and browsers hold that redirect to the page's form-action): that origin and no other.
    origins = (result.merchant_origin,) if result.merchant_origin else ()
    response.headers.update(security_headers(css=consent.CSS, form_action=origins))
    return response


def build(runtime: Runtime) -> list[BaseRoute]:
    svc = PaymanService(runtime)

    async def body_of(request: Request) -> dict[str, Any]:
        raw = await request.body()
        return parse_body(raw, request.headers.get("content-type", ""), required=True)

    async def auth(
        request: Request, required: tuple[str, ...] = (), token_required: bool = True
    ) -> Merchant:
        return await run_in_threadpool(
            svc.authenticate, request.headers, required, token_required=token_required
        )

    def consent_call(
        rule: Callable[[PaymanService, Merchant, Mapping[str, str], dict[str, Any]], str],
    ) -> Handler:
        """create and update: a 302 to the consent page the rule opened."""

        @_guard
        async def handler(request: Request) -> Response:
            merchant = await auth(request, CLIENT_HEADERS)
            body = await body_of(request)
            location = await run_in_threadpool(rule, svc, merchant, request.headers, body)
            return Response(b"", status_code=302, headers={"Location": location})

        return handler

    def body_call(
        rule: Callable[[PaymanService, Merchant, dict[str, Any]], Any],
        required: tuple[str, ...],
        *,
        token_required: bool = True,
    ) -> Handler:
        """A JSON body in, the rule's answer out."""

        @_guard
        async def handler(request: Request) -> Response:
            merchant = await auth(request, required, token_required)
            body = await body_of(request)
            return _json(await run_in_threadpool(rule, svc, merchant, body))

        return handler

    def report_call(rule: Callable[[PaymanService, Merchant, dict[str, Any]], Any]) -> Handler:
        """A report call: the client headers and the user's id, the bearer token optional."""
        return body_call(rule, REPORT_HEADERS, token_required=False)

    async def health_probe(_request: Request) -> Response:
        return Response(b"", status_code=200)

    @_guard
    async def token(request: Request) -> Response:
        raw = await request.body()
        form = wire.token_form(
            raw,
            request.headers.get("content-type", ""),
            request.headers.get("authorization", ""),
        )
        return _json(await run_in_threadpool(svc.issue_token, form))

    @_guard
    async def get_id(request: Request) -> Response:
        merchant = await auth(request)
        code = _query(request, "payman_code", "payman-code", "paymancode")
        return _json(await run_in_threadpool(mandates.get_id, svc, merchant, code))

    @_guard
    async def create_trace(request: Request) -> Response:
        merchant = await auth(request, CLIENT_HEADERS)
        trace = _query(request, "trace-id", "trace_id", "traceid")
        return _json(await run_in_threadpool(mandates.create_trace, svc, merchant, trace))

    @_guard
    async def report(request: Request) -> Response:
        merchant = await auth(request, REPORT_HEADERS, token_required=False)
        payman_id = request.path_params["payman_id"]
        return _json(await run_in_threadpool(reports.report, svc, merchant, payman_id))

    @_guard
    async def report_query(request: Request) -> Response:
        # The document's table sends Payman-id as a query parameter; its sample uses the path.
        merchant = await auth(request, REPORT_HEADERS, token_required=False)
        payman_id = _query(request, "payman-id", "payman_id", "paymanid")
        if not payman_id:
            raise invalid("payman-id", "The payman-id field is required.")
        return _json(await run_in_threadpool(reports.report, svc, merchant, payman_id))

    async def pay(headers: dict[str, str], raw: bytes) -> tuple[int, bytes]:
        # The hot path (a FastRoute). PostgreSQL: authentication from the merchant cache and
        # the pay as one awaited database call, on the event loop. SQLite: authentication,
        # parsing and the pay in one trip to the threadpool.
        try:
            if svc.pg_payer is not None:
                merchant = svc.authenticate_cached(headers)
                if merchant is None:
                    merchant = await run_in_threadpool(svc.authenticate, headers)
                body = parse_body(raw, headers.get("content-type", ""), required=True)
                try:
                    result = await payments.pay_async(svc, merchant, body)
                except StaleCredentials:
                    # A credential changed since the cache was loaded (the pay's statement
                    # checks, and wrote nothing): the threadpool's way, authenticating against
                    # the database as it is now (a rare case: no second fast attempt).
                    def again() -> dict[str, Any]:
                        return payments.pay(svc, svc.authenticate(headers), body)

                    result = await run_in_threadpool(again)
            else:

                def work() -> dict[str, Any]:
                    merchant = svc.authenticate(headers)
                    body = parse_body(raw, headers.get("content-type", ""), required=True)
                    return payments.pay(svc, merchant, body)

                result = await run_in_threadpool(work)
        except PaymanError as exc:
            return exc.status, orjson.dumps(exc.body())
        except payments.RecordedFailure as exc:
            return exc.error.status, orjson.dumps(exc.error.body())
        return 200, orjson.dumps(result)

    @_guard
    async def pay_trace(request: Request) -> Response:
        merchant = await auth(request, CLIENT_HEADERS)
        trace = _query(request, "trace-id", "trace_id", "traceid")
        day = _query(request, "date")
        return _json(await run_in_threadpool(payments.pay_trace, svc, merchant, trace, day))

    @_guard
    async def health(request: Request) -> Response:
        merchant = await auth(request, REPORT_HEADERS)
        return _json(reports.health(svc, merchant))

    @_guard
    async def permissions(request: Request) -> Response:
        await auth(request)
        return _json(wire.PERMISSIONS)

    # -- the bank consent pages --------------------------------------------------------------

    def _webview(request: Request) -> Response | None:
        refused = consent.webview_refusal(request.headers.get("user-agent", ""))
        return None if refused is None else _page(refused, post=False)

    async def authorize(request: Request) -> Response:
        refused = _webview(request)
        if refused is not None:
            return refused
        try:
            token_ = query_map(request.scope.get("query_string", b"")).get("boom_token", "")
        except InvalidQuery:
            token_ = ""  # no readable link: the page of a link that is not valid
        session = request.cookies.get(consent.COOKIE)

        def work() -> consent.PageResult:
            with runtime.db.write() as conn:
                return consent.show(conn, token_, session, runtime.clock.now_utc())

        return _page(await run_in_threadpool(work), post=False)

    async def login(request: Request) -> Response:
        refused = _webview(request)
        if refused is not None:
            return refused
        form = await request.form()
        token_ = str(form.get("boom_token") or "")

        def work() -> consent.PageResult | tuple[Any, Any, str]:
            with runtime.db.write() as conn:
                return consent.login(
                    conn,
                    token_,
                    str(form.get("national_code") or ""),
                    str(form.get("mobile") or ""),
                    runtime.clock.now_utc(),
                )

        result = await run_in_threadpool(work)
        if isinstance(result, consent.PageResult):
            return _page(result, post=True)
        _consent, _mandate, session = result
        response = _page(
            consent.PageResult(
                303,
                location=f"{consent.PAGE_PATH}?boom_token={token_}&bank_id={_mandate['bank_code']}",
            ),
            post=True,
        )
        response.set_cookie(
            consent.COOKIE,
            session,
            path="/payman-bank",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
        return response

    async def decide(request: Request) -> Response:
        form = await request.form()
        token_ = str(form.get("boom_token") or "")
        action = str(form.get("action") or "")
        deposit = form.get("deposit")
        session = request.cookies.get(consent.COOKIE)
        # Cancelling needs no sign-in (the login page offers it too).
        cancelling = action == "cancel"
        chosen = None if cancelling or deposit is None else str(deposit)

        def work() -> consent.PageResult:
            with runtime.db.write() as conn:
                now = runtime.clock.now_utc()
                return consent.decide(
                    conn, token_, session, action, chosen, now, trusted=cancelling
                )

        return _page(await run_in_threadpool(work), post=True)

    handlers: dict[str, Handler] = {
        "token": token,
        "create": consent_call(mandates.create),
        "get_id": get_id,
        "create_trace": create_trace,
        "status_change": body_call(mandates.status_change, CLIENT_HEADERS),
        "update": consent_call(mandates.update),
        "search": report_call(reports.search),
        "report": report,
        "report_query": report_query,
        "pay_trace": pay_trace,
        "transactions": report_call(reports.transactions),
        "merchant_transactions": report_call(reports.merchant_transactions),
        "statistics": report_call(reports.statistics),
        "health": health,
        "permissions": permissions,
        "authorize": authorize,
        "login": login,
        "decide": decide,
    }
    routes: list[BaseRoute] = [Route("/", health_probe, methods=["GET", "HEAD"])]
    for path, method, name in (*API, *PAGES):
        op = OPS[name]
        if name == "pay":
            routes.append(FastRoute(path, json_handler(pay), methods=[method], op=op))
        else:
            routes.append(ApiRoute(path, handlers[name], methods=[method], op=op))
    return routes


def openapi(_runtime: Runtime) -> dict[str, Any]:
    """The served document, generated from the wire models and operations."""

    async def _noop(_request: Request) -> Response:
        return Response()

    return build_document(
        title="pishkhan Payman (direct debit)",
        version=__version__,
        description=wire.DESCRIPTION,
        routes=[
            ApiRoute(path, _noop, methods=[method], op=OPS[name])
            for path, method, name in (*API, *PAGES)
        ],
        security_schemes={"bearer": {"type": "http", "scheme": "bearer"}},
        # 071 in the error envelope (errors.body_refusal); the consent pages' forms: no body
        body_refusal=lambda op: wire.Error if op.response_media == "application/json" else None,
    )


__all__ = ["build", "openapi"]

#: The body of an unexpected failure's 500 (the request middleware's last resort).
SERVER_ERROR: Final = orjson.dumps(PaymanError("2001").body())
