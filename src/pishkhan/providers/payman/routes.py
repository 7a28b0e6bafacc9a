"""Payman's HTTP surface: URL -> handler; parse the request, render the response."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Any, Final
from urllib.parse import unquote_plus

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from pishkhan import __version__
from pishkhan.runtime import Runtime
from pishkhan.tenants.cache import StaleCredentials
from pishkhan.web.asgi import InvalidQuery, query_map, query_pairs
from pishkhan.web.openapi import ApiRoute, Op, build_document
from pishkhan.web.pages import security_headers
from pishkhan.web.unrouted import catch_all

from . import consent, errors, payments, reports
from .errors import PaymanError, invalid
from .errors import body_refusal as body_refusal  # for app.py
from .hot import JsonRoute
from .openapi_spec import OPS, PAGE_OPS, ref
from .schemas import form_to_object, parse_body
from .service import CLIENT_HEADERS, REPORT_HEADERS, PaymanService

Handler = Callable[[Request], Awaitable[Response]]
PERMISSIONS = [
    {"id": 1, "name": "DIRECT_DEBIT", "display_name": "برداشت وجه"},
    {"id": 2, "name": "BILL_PAY", "display_name": "پرداخت قبض"},
]


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


#: ``reference`` of the 071 that answers a query string that is not UTF-8 (the body's is ``$``)
QUERY_REFERENCE: Final = "?"


def _query(request: Request, *names: str) -> str | None:
    """A query parameter by any of ``names``, case-insensitively (``Trace-id``, ``trace_id``);
    the query decoded by the shared rule (:func:`query_pairs`): 071 when it is not UTF-8."""
    try:
        pairs = query_pairs(request.scope.get("query_string", b""))
    except InvalidQuery:
        raise invalid(QUERY_REFERENCE, "The query string is not UTF-8.") from None
    folded: dict[str, str] = {}
    for key, value in pairs:
        folded.setdefault(key.strip().lower(), value)
    for name in names:
        found = folded.get(name)
        if found is not None and found.strip():
            return found.strip()
    return None


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        return None
    return unquote_plus(client_id), unquote_plus(secret)


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

    async def body_of(request: Request, *, required: bool = True) -> dict[str, Any]:
        raw = await request.body()
        return parse_body(raw, request.headers.get("content-type", ""), required=required)

    async def health_probe(_request: Request) -> Response:
        return Response(b"", status_code=200)

    @_guard
    async def token(request: Request) -> Response:
        raw = await request.body()
        ctype = request.headers.get("content-type", "").lower()
        data = parse_body(raw, ctype) if "json" in ctype else form_to_object(raw)
        form = {k: str(v) for k, v in data.items() if not isinstance(v, dict | list)}
        basic = _basic_credentials(request.headers.get("authorization", ""))
        if basic is not None and not form.get("client_id"):
            # Generic OAuth libraries send the client credentials as HTTP Basic (RFC 6749
            # 2.3.1), which the Spring-style token endpoint accepts too.
            form["client_id"], form["client_secret"] = basic
        return _json(await run_in_threadpool(svc.issue_token, form))

    async def auth(
        request: Request, required: tuple[str, ...] = (), token_required: bool = True
    ) -> Any:
        return await run_in_threadpool(
            svc.authenticate, request.headers, required, token_required=token_required
        )

    @_guard
    async def create(request: Request) -> Response:
        merchant = await auth(request, CLIENT_HEADERS)
        body = await body_of(request)
        location = await run_in_threadpool(svc.create, merchant, request.headers, body)
        return Response(b"", status_code=302, headers={"Location": location})

    @_guard
    async def update(request: Request) -> Response:
        merchant = await auth(request, CLIENT_HEADERS)
        body = await body_of(request)
        location = await run_in_threadpool(svc.update, merchant, request.headers, body)
        return Response(b"", status_code=302, headers={"Location": location})

    @_guard
    async def get_id(request: Request) -> Response:
        merchant = await auth(request)
        code = _query(request, "payman_code", "payman-code", "paymancode")
        return _json(await run_in_threadpool(svc.get_id, merchant, code))

    @_guard
    async def create_trace(request: Request) -> Response:
        merchant = await auth(request, CLIENT_HEADERS)
        trace = _query(request, "trace-id", "trace_id", "traceid")
        return _json(await run_in_threadpool(svc.create_trace, merchant, trace))

    @_guard
    async def status_change(request: Request) -> Response:
        merchant = await auth(request, CLIENT_HEADERS)
        body = await body_of(request)
        return _json(await run_in_threadpool(svc.status_change, merchant, body))

    @_guard
    async def search(request: Request) -> Response:
        merchant = await auth(request, REPORT_HEADERS, token_required=False)
        body = await body_of(request)
        return _json(await run_in_threadpool(svc.search, merchant, body))

    @_guard
    async def report(request: Request) -> Response:
        merchant = await auth(request, REPORT_HEADERS, token_required=False)
        payman_id = request.path_params["payman_id"]
        return _json(await run_in_threadpool(svc.report, merchant, payman_id))

    @_guard
    async def report_query(request: Request) -> Response:
        # The document's table sends Payman-id as a query parameter; its sample uses the path.
        merchant = await auth(request, REPORT_HEADERS, token_required=False)
        payman_id = _query(request, "payman-id", "payman_id", "paymanid")
        if not payman_id:
            raise invalid("payman-id", "The payman-id field is required.")
        return _json(await run_in_threadpool(svc.report, merchant, payman_id))

    async def pay(headers: dict[str, str], raw: bytes) -> tuple[int, bytes]:
        # The hot path (a JsonRoute). PostgreSQL: authentication from the merchant cache and
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
    async def transactions(request: Request) -> Response:
        merchant = await auth(request, REPORT_HEADERS, token_required=False)
        body = await body_of(request)
        return _json(await run_in_threadpool(reports.transactions, svc, merchant, body))

    @_guard
    async def merchant_transactions(request: Request) -> Response:
        merchant = await auth(request, REPORT_HEADERS, token_required=False)
        body = await body_of(request)
        return _json(await run_in_threadpool(reports.merchant_transactions, svc, merchant, body))

    @_guard
    async def statistics(request: Request) -> Response:
        merchant = await auth(request, REPORT_HEADERS, token_required=False)
        body = await body_of(request)
        return _json(await run_in_threadpool(reports.statistics, svc, merchant, body))

    @_guard
    async def health(request: Request) -> Response:
        merchant = await auth(request, REPORT_HEADERS)
        return _json(reports.health(svc, merchant))

    @_guard
    async def permissions(request: Request) -> Response:
        await auth(request)
        return _json(PERMISSIONS)

    # -- the bank consent pages --------------------------------------------------------------

    def _webview(request: Request) -> Response | None:
        ua = request.headers.get("user-agent", "")
        if "; wv)" in ua:
            return _page(
                consent.PageResult(
                    403,
                    consent.page_message(
                        "مرورگر پشتیبانی نمی‌شود",
                        "این صفحه باید در مرورگر باز شود و در وب‌ویو قابل استفاده نیست.",
                    ),
                ),
                post=False,
            )
        return None

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
                location=f"/payman-bank/oauth/authorize?boom_token={token_}&bank_id={_mandate['bank_code']}",
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

        def work() -> consent.PageResult:
            with runtime.db.write() as conn:
                if action == "cancel":
                    # Cancelling needs no sign-in (the login page offers it too).
                    return consent.decide(
                        conn, token_, session, action, None, runtime.clock.now_utc(), trusted=True
                    )
                return consent.decide(
                    conn,
                    token_,
                    session,
                    action,
                    str(deposit) if deposit is not None else None,
                    runtime.clock.now_utc(),
                )

        response = _page(await run_in_threadpool(work), post=True)
        return response

    handlers: dict[str, Handler] = {
        "token": token,
        "create": create,
        "get_id": get_id,
        "create_trace": create_trace,
        "status_change": status_change,
        "update": update,
        "search": search,
        "report": report,
        "report_query": report_query,
        "pay_trace": pay_trace,
        "transactions": transactions,
        "merchant_transactions": merchant_transactions,
        "statistics": statistics,
        "health": health,
        "permissions": permissions,
    }
    routes: list[BaseRoute] = [Route("/", health_probe, methods=["GET", "HEAD"])]
    for name, (path, method, op) in OPS.items():
        if name == "pay":
            routes.append(JsonRoute(path, pay, methods=[method], op=op))
        else:
            routes.append(ApiRoute(path, handlers[name], methods=[method], op=op))
    page_handlers: dict[str, Handler] = {"authorize": authorize, "login": login, "decide": decide}
    for name, (path, method, op) in PAGE_OPS.items():
        routes.append(ApiRoute(path, page_handlers[name], methods=[method], op=op))
    # Anything else under the API's paths (not the HTML consent pages): 405 (with Allow) or
    # 404, 2026 in the error envelope.
    api_paths = ["/oauth/token", "/v1/payman/{rest:path}", "/v1/reports/{rest:path}"]
    routes.extend(catch_all(api_paths, routes, errors.unrouted))
    return routes


def openapi(runtime: Runtime) -> dict[str, Any]:
    from .openapi_spec import COMPONENTS, DESCRIPTION

    return build_document(
        title="pishkhan Payman (direct debit)",
        version=__version__,
        description=DESCRIPTION,
        routes=build_routes_for_doc(runtime),
        security_schemes={"bearer": {"type": "http", "scheme": "bearer"}},
        extra_components=COMPONENTS,
        # 071 in the error envelope (errors.body_refusal), also on the consent pages' forms
        body_refusal=lambda op: ref("Error") if op.response_media == "application/json" else None,
    )


def build_routes_for_doc(_runtime: Runtime) -> list[Any]:
    async def _noop(_request: Request) -> Response:
        return Response()

    out: list[Any] = []
    for path, method, op in [*OPS.values(), *PAGE_OPS.values()]:
        out.append(ApiRoute(path, _noop, methods=[method], op=op))
    return out


__all__ = ["Op", "build", "openapi"]

#: The body of an unexpected failure's 500 (the request middleware's last resort).
SERVER_ERROR: Final = orjson.dumps(PaymanError("2001").body())
