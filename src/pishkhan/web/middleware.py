"""One pure-ASGI middleware: request id, metrics, access log, the bounds on request bodies
(:mod:`pishkhan.web.limits`), and a last-resort 500.

It is a single layer (not Starlette's BaseHTTPMiddleware) because every request pays for it.
"""

from __future__ import annotations

import logging
from time import perf_counter

from starlette.convertors import StringConvertor
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.routing import BaseRoute, Match, Mount, Route, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pishkhan.core.caches import remember
from pishkhan.core.ids import new_request_id
from pishkhan.core.logging import log_event, mask_pii, request_id_var
from pishkhan.web.limits import BodyLimits, BodyReader, BodyRefused
from pishkhan.web.metrics import Metrics

log = logging.getLogger("pishkhan.http")

# Longest prefix first: which surface a path belongs to (for metrics and logs).
SURFACE_PREFIXES: tuple[tuple[str, str], ...] = (
    ("/_pishkhan", "control"),
    ("/ide/", "jibit"),
    ("/api/open-banking/", "paystar"),
    ("/api/application/", "paystar"),
    ("/api/", "pendar"),
    ("/oauth/", "payman"),
    ("/v1/payman", "payman"),
    ("/v1/reports", "payman"),
    ("/v1/health", "payman"),
    ("/payman-bank/", "payman"),
    ("/pki/", "pendar"),
)


def surface_of(path: str) -> str:
    for prefix, surface in SURFACE_PREFIXES:
        if path.startswith(prefix):
            return surface
    return "other"


#: A ``direct_tail`` route: (path prefix, parameter name, router, route, earlier routes that
#: could match a path of that prefix and one more segment).
_Tail = tuple[str, str, Router, Route, tuple[BaseRoute, ...]]


def _tail_of(route: Route) -> tuple[str, str] | None:
    """``("/api/", "method")`` for a route ``/api/{method}`` (or ``{method:str}``): a static
    prefix ending in ``/`` and one string parameter as the whole last segment; else None."""
    if len(route.param_convertors) != 1:
        return None
    name, convertor = next(iter(route.param_convertors.items()))
    if not isinstance(convertor, StringConvertor):
        return None
    for form in (f"{{{name}}}", f"{{{name}:str}}"):
        if route.path.endswith(form):
            prefix = route.path[: -len(form)]
            if prefix.endswith("/") and "{" not in prefix:
                return prefix, name
    return None


def _may_match_tail(route: BaseRoute, prefix: str) -> bool:
    """Whether ``route`` could match some path ``prefix + segment`` (a segment: no ``/``).

    A route's regex starts with the literal part of its path before the first parameter (a
    mount's: its path plus ``/``), so it cannot match such a path when that literal part and
    ``prefix`` differ before either ends, or when it extends ``prefix`` by text containing
    ``/``. Anything else (other route types included) may match."""
    if isinstance(route, Mount):
        literal = route.path + "/"
    elif isinstance(route, Route):
        literal = route.path
    else:
        return True
    literal = literal.split("{", 1)[0]
    if literal.startswith(prefix):
        return "/" not in literal[len(prefix) :]
    return prefix.startswith(literal)


#: The last-resort 500's body where a surface names none of its own.
SERVER_ERROR_BODY = b'{"code":"server.error","message":"internal error"}'


class RequestContextMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        metrics: Metrics,
        access_log: bool = True,
        body_limits: BodyLimits | None = None,
        server_errors: dict[str, bytes] | None = None,
    ) -> None:
        """``server_errors``: surface (as :func:`surface_of` names it) -> the body of the
        last-resort 500 in that surface's own error envelope."""
        self.app = app
        self.metrics = metrics
        self.access_log = access_log
        self.body_limits = body_limits
        self.server_errors = server_errors or {}
        self._route_paths: dict[tuple[str, int], tuple[object, str]] = {}
        self._direct: dict[str, tuple[Router, Route]] | None = None
        self._tails: tuple[_Tail, ...] = ()

    def _direct_routes(self) -> dict[str, tuple[Router, Route]]:
        """Static paths whose route may be called without the router's scan (see ``direct``).

        A route opts in with a true ``direct`` attribute (the Jibit routes). Only a plain
        ``Route`` with a path without parameters qualifies, reached from this middleware through
        nothing but ``ExceptionMiddleware`` (which only handles exceptions the route lets out),
        and only when no earlier route could match its path: the router would pick it for
        that exact path and any of its methods. Other requests take the ordinary way.

        Routes whose path ends in one string parameter (``/api/{method}``) opt in with a true
        ``direct_tail`` attribute (see :func:`_tail_of`); they are kept in ``_tails``.
        """
        app = self.app
        while isinstance(app, ExceptionMiddleware):
            app = app.app
        if not isinstance(app, Router):
            return {}
        direct: dict[str, tuple[Router, Route]] = {}
        tails: list[_Tail] = []
        earlier: list[BaseRoute] = []
        for route in app.routes:
            if not isinstance(route, Route | Mount):
                break  # a route that matches on more than the path: stop here
            if (
                isinstance(route, Route)
                and getattr(route, "direct", False)
                and not route.param_convertors
                and route.methods
            ):
                probe = {"type": "http", "path": route.path, "root_path": "", "method": "GET"}
                if route.matches(probe)[0] is not Match.NONE and all(
                    r.matches(probe)[0] is Match.NONE for r in earlier
                ):
                    direct.setdefault(route.path, (app, route))
            if isinstance(route, Route) and getattr(route, "direct_tail", False) and route.methods:
                tail = _tail_of(route)
                if tail is not None:
                    prefix, name = tail
                    rivals = tuple(r for r in earlier if _may_match_tail(r, prefix))
                    tails.append((prefix, name, app, route, rivals))
            earlier.append(route)
        self._tails = tuple(tails)
        return direct

    def _tail_hit(self, scope: Scope) -> tuple[_Tail, str] | None:
        """The ``direct_tail`` route the router would pick for this path and method, with the
        path's last segment; None when the router must decide."""
        path: str = scope["path"]
        for tail in self._tails:
            prefix = tail[0]
            if path.startswith(prefix):
                segment = path[len(prefix) :]
                if not segment or "/" in segment:
                    return None
                if scope["method"] not in (tail[3].methods or ()):
                    return None
                # Earlier routes that could match such a path: the router's answer if one does.
                for rival in tail[4]:
                    if rival.matches(scope)[0] is not Match.NONE:
                        return None
                return tail, segment
        return None

    async def _call_app(self, scope: Scope, receive: Receive, send: Send) -> None:
        direct = self._direct
        if direct is None:
            direct = self._direct = self._direct_routes()
        if scope.get("root_path"):
            await self.app(scope, receive, send)
            return
        hit = direct.get(scope["path"]) if direct else None
        if hit is None or scope["method"] not in (hit[1].methods or ()):
            tail_hit = self._tail_hit(scope) if self._tails else None
            if tail_hit is None:
                await self.app(scope, receive, send)
                return
            (_prefix, name, router, route, _rivals), segment = tail_hit
            path_params = dict(scope.get("path_params", {}))
            path_params[name] = segment
        else:
            router, route = hit
            path_params = dict(scope.get("path_params", {}))
        # What Router.app and Route.matches put in the scope for this route.
        if "router" not in scope:
            scope["router"] = router
        scope["route"] = route
        scope["endpoint"] = route.endpoint
        scope["path_params"] = path_params
        await route.handle(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        length: bytes | None = None
        chunked = False
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                if request_id is None:
                    request_id = value.decode("latin-1")[:64]
                    if mask_pii(request_id) != request_id:  # never log or echo PII as an id
                        request_id = ""
            elif name == b"content-length":
                if length is None:
                    length = value
            elif name == b"transfer-encoding":
                chunked = True
        request_id = request_id or new_request_id()
        token = request_id_var.set(request_id)
        start = perf_counter()
        status = 500
        started = False
        rid_header = (b"x-request-id", request_id.encode("latin-1"))
        path: str = scope.get("path", "")
        surface = surface_of(path)

        async def send_wrapper(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), rid_header]
            await send(message)

        reader: BodyReader | None = None
        try:
            limits = self.body_limits
            # A body comes with a Content-Length, chunked, or (HTTP/2) with neither.
            if limits is not None and (
                length is not None or chunked or scope.get("http_version") == "2"
            ):
                limit = limits.bound(path)
                declared = int(length) if length is not None and length.isdigit() else None
                if declared is not None and declared > limit:
                    raise limits.too_large(limit)  # answered below; nothing is read
                if declared != 0:
                    reader = limits.reader(receive, limit)
                    receive = reader
            await self._call_app(scope, receive, send_wrapper)
        except BodyRefused as refused:
            if started:
                raise  # a route answered before reading its whole body: nothing to add
            assert self.body_limits is not None
            content_type, body = self.body_limits.refusal(surface, scope, refused)
            await send_wrapper(
                {
                    "type": "http.response.start",
                    "status": refused.status,
                    "headers": [
                        (b"content-length", str(len(body)).encode("latin-1")),
                        (b"content-type", content_type),
                        (b"connection", b"close"),  # the rest of the body is never read
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
        except Exception:
            log.exception("unhandled error", extra={"fields": {"path": scope.get("path")}})
            if not started:
                status = 500
                await send_wrapper(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [(b"content-type", b"application/json")],
                    }
                )
                body = self.server_errors.get(surface, SERVER_ERROR_BODY)
                await send({"type": "http.response.body", "body": body})
        finally:
            if reader is not None:
                reader.finish()
            elapsed = perf_counter() - start
            route_path = self._route_path(scope)
            self.metrics.observe(surface, route_path, status, elapsed)
            if self.access_log:
                log_event(
                    log,
                    "request",
                    method=scope.get("method"),
                    path=path,
                    route=route_path,
                    surface=surface,
                    status=status,
                    ms=round(elapsed * 1000, 3),
                    client=(scope.get("client") or ("", 0))[0],
                )
            request_id_var.reset(token)

    def _route_path(self, scope: Scope) -> str:
        """The matched route's path under its mount, or "unmatched" (cached per route: routes
        live as long as the app; keyed by identity, as Starlette routes are not hashable)."""
        route = scope.get("route")
        if route is None or not hasattr(route, "path"):
            return "unmatched"
        root_path = scope.get("root_path", "")
        key = (root_path, id(route))
        hit = self._route_paths.get(key)
        if hit is not None and hit[0] is route:
            return hit[1]
        route_path: str = root_path + route.path
        remember(self._route_paths, key, (route, route_path), 4096)
        return route_path
