"""create_app(settings): mounts the enabled surfaces and the control plane."""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from pishkhan import __version__
from pishkhan.control import customers as control_customers
from pishkhan.control import demo as control_demo
from pishkhan.control import sandbox as control_sandbox
from pishkhan.control.auth import AdminAuth
from pishkhan.control.http import ApiError, api_error_from, body_refusal, json_response
from pishkhan.core.errors import PishkhanError
from pishkhan.runtime import Runtime, get_runtime
from pishkhan.settings import Settings
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


def _surface_routes(
    runtime: Runtime, server_errors: dict[str, bytes]
) -> tuple[list[BaseRoute], dict[str, Any], dict[str, Refusal]]:
    """Each enabled surface's ``pishkhan.providers.<name>.routes.build(runtime)``.

    ``build`` returns the surface's routes; a surface may also export ``openapi(runtime)``,
    ``body_refusal`` (its answer to a body too large or too slow: ``pishkhan.web.limits``) and
    ``SERVER_ERROR``, the body of its last-resort 500 (put in ``server_errors``).
    """
    routes: list[BaseRoute] = []
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
        routes.extend(module.build(runtime))
        if hasattr(module, "openapi"):
            docs[surface] = module.openapi
        if hasattr(module, "body_refusal"):
            refusals[surface] = module.body_refusal
        if hasattr(module, "SERVER_ERROR"):
            server_errors[surface] = module.SERVER_ERROR
    return routes, docs, refusals


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


def _mount_any_path(path: str, app: Any) -> Mount:
    """A Mount whose rest of path may hold any character: Starlette's ``.*`` stops at a newline
    (``%0A`` in a path), which would leave such a path to the top-level plain-text 404 instead
    of the mounted app's own answer."""
    mount = Mount(path, app=app)
    mount.path_regex = re.compile(mount.path_regex.pattern, re.DOTALL)
    return mount


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
    surface_routes, surface_docs, refusals = _surface_routes(runtime, server_errors)
    control_doc = control_openapi(control)

    async def health(request: Request) -> Response:
        rt = get_runtime(request)

        def check() -> None:
            with rt.db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))

        try:
            await run_in_threadpool(check)
        except Exception as exc:  # the database is down: say so, don't crash
            log.warning("health check failed: %s", exc)
            return json_response({"status": "error", "database": "unreachable"}, 503)
        return json_response(
            {
                "status": "ok",
                "database": rt.db.dialect,
                "version": __version__,
                "surfaces": list(settings.surfaces),
            }
        )

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

    async def control_http_error(_request: Request, exc: Exception) -> Response:
        # The router's own 404 (no such path) and 405 (no such method), in the control plane's
        # error shape rather than Starlette's plain text.
        assert isinstance(exc, HTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "error")
        response = ApiError(exc.status_code, code, str(exc.detail)).response()
        response.headers.update(exc.headers or {})
        return response

    async def server_error_handler(_request: Request, _exc: Exception) -> Response:
        # The control app's own last resort (its ServerErrorMiddleware would answer text/plain);
        # the exception still reaches the request middleware, which logs it.
        return Response(CONTROL_SERVER_ERROR, 500, media_type="application/json")

    control_app = Starlette(
        routes=control,
        exception_handlers={
            ApiError: api_error_handler,
            PishkhanError: pishkhan_error_handler,
            HTTPException: control_http_error,
            Exception: server_error_handler,
        },
    )
    control_app.state.runtime = runtime
    routes: list[BaseRoute] = [
        Route("/_pishkhan/health", health, methods=["GET"]),
        Route("/_pishkhan/metrics", metrics_endpoint, methods=["GET"]),
        Route("/_pishkhan/openapi/control.json", openapi_control, methods=["GET"]),
        Route("/_pishkhan/openapi/{surface}.json", openapi_surface, methods=["GET"]),
        _mount_any_path("/_pishkhan/v1", AdminAuth(control_app, settings.admin_token)),
        # The demo customer's Payman redirect page: public, a browser lands there.
        *(control_demo.routes if "payman" in settings.surfaces else []),
        *surface_routes,
    ]

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        runtime.close()

    app = Starlette(
        routes=routes, exception_handlers={ApiError: api_error_handler}, lifespan=lifespan
    )
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
    )
    return app
