"""One pure-ASGI middleware: request id, metrics, access log, the bounds on request bodies
(:mod:`pishkhan.web.limits`), and a last-resort 500.

It is a single layer (not Starlette's BaseHTTPMiddleware) because every request pays for it.
"""

from __future__ import annotations

import logging
from time import perf_counter

from starlette._utils import get_route_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pishkhan.core.caches import remember
from pishkhan.core.ids import new_request_id
from pishkhan.core.logging import log_event, mask_pii, request_id_var
from pishkhan.web.fast import Dispatch
from pishkhan.web.limits import BodyLimits, BodyReader, BodyRefused
from pishkhan.web.metrics import Metrics

log = logging.getLogger("pishkhan.http")


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
        dispatch: Dispatch | None = None,
    ) -> None:
        """``dispatch``: the app's router (:class:`~pishkhan.web.fast.Dispatch`), whose prefix
        table names each request's surface; the request goes straight to that surface's table
        (past Starlette's exception middleware: the tables answer their own errors). Without
        it every request goes to ``app``, surface "other". ``server_errors``: surface -> the
        body of the last-resort 500 in that surface's own error envelope."""
        self.app = app
        self.metrics = metrics
        self.access_log = access_log
        self.body_limits = body_limits
        self.server_errors = server_errors or {}
        self.dispatch = dispatch
        self._route_paths: dict[tuple[str, int], tuple[object, str]] = {}

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
        target = self.app
        surface = "other"
        if self.dispatch is not None:
            surface, target = self.dispatch.lookup(
                get_route_path(scope) if scope.get("root_path") else path
            )

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
            await target(scope, receive, send_wrapper)
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
