"""create_app(settings): mounts the enabled surfaces and the control plane."""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import orjson
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from pishkhan import __version__
from pishkhan.control import customers as control_customers
from pishkhan.control import demo as control_demo
from pishkhan.control import sandbox as control_sandbox
from pishkhan.control.auth import AdminAuth
from pishkhan.control.http import ApiError, api_error_from, body_refusal, json_response
from pishkhan.core.db import DriverSQL
from pishkhan.core.errors import PishkhanError
from pishkhan.runtime import Runtime
from pishkhan.settings import Settings
from pishkhan.web.fast import (
    Dispatch,
    FastRequest,
    FastRoute,
    Handler,
    Prefixes,
    Table,
    Unrouted,
    exception_handlers,
    group_routes,
    json_answer,
)
from pishkhan.web.limits import BodyLimits, Refusal
from pishkhan.web.metrics import Metrics
from pishkhan.web.middleware import RequestContextMiddleware
from pishkhan.web.openapi import build_document

log = logging.getLogger("pishkhan.app")

# Optional control-plane modules contributed by other packages: each exports ``routes``.
CONTROL_MODULES: tuple[str, ...] = (
    "pishkhan.control.world",
    "pishkhan.control.paystar",
    "pishkhan.control.pendar",
    "pishkhan.control.jibit",
    "pishkhan.control.payman",
)


#: The one path with a body bound of its own (``PISHKHAN_MAX_IMPORT_BODY``): a whole world.
IMPORT_PATH = "/_pishkhan/v1/world/import"


def _control_routes() -> list[BaseRoute]:
    routes: list[BaseRoute] = [*control_customers.routes, *control_sandbox.routes]
    for name in CONTROL_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        routes.extend(module.routes)
    return routes


#: The control plane's last-resort 500, in its ``{"error": {...}}`` envelope.
CONTROL_SERVER_ERROR = b'{"error":{"code":"server_error","message":"internal error"}}'


@dataclass
class _Surface:
    """One enabled surface as its routes module declares it."""

    name: str
    prefixes: tuple[str, ...]
    routes: list[BaseRoute]
    unrouted: Unrouted | None


def _surfaces(
    runtime: Runtime, server_errors: dict[str, bytes]
) -> tuple[list[_Surface], dict[str, Any], dict[str, Refusal]]:
    """Each enabled surface's ``pishkhan.providers.<name>.routes``: ``PREFIXES`` (the path
    prefixes it answers under) and ``build(runtime)`` (its routes); it may also export
    ``unrouted`` (its answer to a path or method none of its routes takes:
    :mod:`pishkhan.web.unrouted`), ``openapi(runtime)``, ``body_refusal`` (its answer to a body
    too large or too slow: ``pishkhan.web.limits``) and ``SERVER_ERROR``, the body of its
    last-resort 500 (put in ``server_errors``).
    """
    surfaces: list[_Surface] = []
    docs: dict[str, Any] = {}
    refusals: dict[str, Refusal] = {}
    for surface in runtime.settings.surfaces:
        name = f"pishkhan.providers.{surface}.routes"
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name not in (name, f"pishkhan.providers.{surface}"):
                raise
            continue
        routes = list(module.build(runtime))
        surfaces.append(
            _Surface(surface, tuple(module.PREFIXES), routes, getattr(module, "unrouted", None))
        )
        if hasattr(module, "openapi"):
            docs[surface] = module.openapi
        if hasattr(module, "body_refusal"):
            refusals[surface] = module.body_refusal
        if hasattr(module, "SERVER_ERROR"):
            server_errors[surface] = module.SERVER_ERROR
    return surfaces, docs, refusals


CONTROL_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {},
            },
        }
    },
}


#: The body of a control-plane answer whose operation names no schema for it yet.
CONTROL_JSON = {"description": "a JSON value (the operation's answer is not described further)"}


def _control_common(path: str, method: str) -> dict[int, tuple[str, dict[str, Any]]]:
    """What every control-plane operation may answer besides its own responses: 401 from the
    admin-token check, 400 for a body or query that does not parse or validate, 404 for an
    unknown record or path, 409 from the Payman operations' state rules, 503 while a stored
    sandbox clock is unusable, 500 for an unexpected failure."""
    common = {
        400: ("invalid input (body, query or path value)", CONTROL_ERROR),
        401: ("missing or wrong admin token", CONTROL_ERROR),
        404: ("no such record (or no such path)", CONTROL_ERROR),
        503: ("the stored sandbox clock is unusable (clock_unavailable): clear it", CONTROL_ERROR),
        500: ("an unexpected failure (server_error)", CONTROL_ERROR),
    }
    if path.startswith("/_pishkhan/v1/payman/"):
        common[409] = (
            "the Payman state rules refuse it (the provider's code in `code`)",
            CONTROL_ERROR,
        )
    return common


def control_openapi(routes: list[BaseRoute]) -> dict[str, Any]:
    return build_document(
        title="pishkhan control plane",
        version=__version__,
        description="Admin API: customers, credentials, wallets, prices and limits, usage, world records, "
        "sandbox reset, clock and audit log. Every call needs `Authorization: Bearer <admin token>`.",
        routes=routes,
        prefix="/_pishkhan/v1",
        security_schemes={"admin": {"type": "http", "scheme": "bearer"}},
        default_security=[{"admin": []}],
        common_responses=_control_common,
        body_refusal=lambda _op: CONTROL_ERROR,  # too_large, body_timeout
        # Every control-plane answer is JSON: an error in the error shape (a route's own 409).
        bodiless=lambda status: CONTROL_ERROR if status >= 400 else CONTROL_JSON,
    )


#: The control plane's own prefix (health, metrics, OpenAPI documents) and its admin API's.
CONTROL_PREFIX = "/_pishkhan"
ADMIN_PREFIX = "/_pishkhan/v1"


def control_http_error(
    status: int, headers: Mapping[str, str] | None, detail: str | None = None
) -> Response:
    """Starlette's HTTP errors under the admin API (the router's own 404 for no such path and
    405 for no such method; ``detail``: Starlette's phrase by default), in the control plane's
    error shape rather than Starlette's plain text."""
    code = {404: "not_found", 405: "method_not_allowed"}.get(status, "error")
    if detail is None:
        detail = HTTPStatus(status).phrase
    response = ApiError(status, code, detail).response()
    response.headers.update(headers or {})
    return response


def _health(runtime: Runtime) -> Handler:
    """``GET /_pishkhan/health``: 200 when a statement runs on the database, else 503.

    On a SQLite file the statement runs on the event loop's kept connection (no threadpool
    hop, no pool checkout: it takes microseconds); elsewhere on a pooled connection in the
    threadpool (PostgreSQL: a round trip that may wait on the network)."""
    settings = runtime.settings
    db = runtime.db
    ok = orjson.dumps(
        {
            "status": "ok",
            "database": db.dialect,
            "version": __version__,
            "surfaces": list(settings.surfaces),
        }
    )
    down = orjson.dumps({"status": "error", "database": "unreachable"})
    inline = db.is_sqlite

    def check() -> None:
        if inline:
            with db.hot_read() as conn:
                _SELECT_ONE.run(conn).fetchall()
            return
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    async def health(_request: FastRequest) -> Response:
        try:
            if inline:
                check()
            else:
                await run_in_threadpool(check)
        except Exception as exc:  # the database is down: say so, don't crash
            log.warning("health check failed: %s", exc)
            return json_answer(503, down)
        return json_answer(200, ok)

    return health


_SELECT_ONE = DriverSQL("SELECT 1")


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> Starlette:
    """Build the ASGI app. Tests pass a ready ``runtime``; otherwise one is opened from settings."""
    if runtime is None:  # a server's worker: its secrets must be the deployment's
        from pishkhan.core.deployment import establish

        runtime = Runtime.open(settings or Settings.from_env())
        establish(runtime)
    settings = runtime.settings
    metrics = Metrics()
    control = _control_routes()
    server_errors = {"control": CONTROL_SERVER_ERROR}
    surfaces, surface_docs, refusals = _surfaces(runtime, server_errors)
    control_doc = control_openapi(control)

    async def metrics_endpoint(_request: Request) -> Response:
        return Response(metrics.render(), media_type=metrics.content_type)

    async def openapi_control(_request: Request) -> Response:
        return json_response(control_doc)

    async def openapi_surface(request: Request) -> Response:
        surface = request.path_params["surface"]
        build = surface_docs.get(surface)
        if build is None:
            raise ApiError(404, "not_found", f"no OpenAPI document for {surface!r}")
        return json_response(build(runtime))

    async def api_error_handler(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return exc.response()

    async def pishkhan_error_handler(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PishkhanError)
        return api_error_from(exc).response()

    async def http_error_handler(_request: Request, exc: Exception) -> Response:
        # a route's own HTTPException (the router's 404 and 405: control_http_error)
        assert isinstance(exc, HTTPException)
        return control_http_error(exc.status_code, exc.headers, str(exc.detail))

    async def server_error_handler(_request: Request, _exc: Exception) -> Response:
        # The control app's own last resort (its ServerErrorMiddleware would answer text/plain);
        # the exception still reaches the request middleware, which logs it.
        return Response(CONTROL_SERVER_ERROR, 500, media_type="application/json")

    control_app = Starlette(
        exception_handlers={
            ApiError: api_error_handler,
            PishkhanError: pishkhan_error_handler,
            HTTPException: http_error_handler,
            Exception: server_error_handler,
        },
    )
    control_app.router = Table(control, root=ADMIN_PREFIX, http_error=control_http_error)
    control_app.state.runtime = runtime

    # Every route outside the admin API, in its surface's table by the prefix its path starts
    # with (the longest); a path under no prefix: the table of "other".
    own: list[BaseRoute] = [
        FastRoute(CONTROL_PREFIX + "/health", _health(runtime), methods=["GET", "HEAD"]),
        Route(CONTROL_PREFIX + "/metrics", metrics_endpoint, methods=["GET"]),
        Route(CONTROL_PREFIX + "/openapi/control.json", openapi_control, methods=["GET"]),
        Route(CONTROL_PREFIX + "/openapi/{surface}.json", openapi_surface, methods=["GET"]),
        # The demo customer's Payman redirect page: public, a browser lands there.
        *(control_demo.routes if "payman" in settings.surfaces else []),
    ]
    prefixes: dict[str, str] = {CONTROL_PREFIX: "control"}
    unrouted: dict[str, Unrouted | None] = {"control": None, "other": None}
    for surface in surfaces:
        prefixes.update(dict.fromkeys(surface.prefixes, surface.name))
        unrouted[surface.name] = surface.unrouted
    grouped = group_routes(
        Prefixes(prefixes.items(), "other"),
        [*own, *(r for surface in surfaces for r in surface.routes)],
    )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        runtime.close()

    handlers = exception_handlers({ApiError: api_error_handler})
    tables = {
        name: Table(grouped.get(name, []), unrouted=hook, handlers=handlers)
        for name, hook in unrouted.items()
    }
    dispatch = Dispatch(
        [
            (ADMIN_PREFIX + "/", "control", AdminAuth(control_app, settings.admin_token)),
            *((prefix, name, tables[name]) for prefix, name in prefixes.items()),
        ],
        tables["other"],
        lifespan=lifespan,
    )
    app = Starlette(exception_handlers={ApiError: api_error_handler}, lifespan=lifespan)
    app.router = dispatch
    app.state.runtime = runtime
    app.state.metrics = metrics
    body_limits = BodyLimits(
        settings.max_body,
        settings.body_timeout,
        paths={IMPORT_PATH: settings.max_import_body},
        refusals={**refusals, "control": body_refusal},
    )
    app.add_middleware(
        RequestContextMiddleware,
        metrics=metrics,
        access_log=settings.access_log,
        body_limits=body_limits,
        server_errors=server_errors,
        dispatch=dispatch,
    )
    return app
