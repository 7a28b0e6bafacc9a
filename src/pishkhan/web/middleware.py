"""One pure-ASGI middleware: request id, metrics, access log, and a last-resort 500.

It is a single layer (not Starlette's BaseHTTPMiddleware) because every request pays for it.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pishkhan.core.ids import new_request_id
from pishkhan.core.logging import log_event, mask_pii, request_id_var
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


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics, access_log: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                request_id = value.decode("latin-1")[:64]
                if mask_pii(request_id) != request_id:  # never log or echo PII as an id
                    request_id = None
                break
        request_id = request_id or new_request_id()
        token = request_id_var.set(request_id)
        start = time.perf_counter()
        status_holder = [500]
        started = [False]
        rid_header = (b"x-request-id", request_id.encode("latin-1"))

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                started[0] = True
                status_holder[0] = message["status"]
                message["headers"] = [*message.get("headers", ()), rid_header]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            log.exception("unhandled error", extra={"fields": {"path": scope.get("path")}})
            if not started[0]:
                status_holder[0] = 500
                await send_wrapper(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [(b"content-type", b"application/json")],
                    }
                )
                await send(
                    {
                        "type": "http.response.body",
                        "body": b'{"code":"server.error","message":"internal error"}',
                    }
                )
        finally:
            elapsed = time.perf_counter() - start
            path = scope.get("path", "")
            route = scope.get("route")
            route_path = (
                scope.get("root_path", "") + route.path
                if route is not None and hasattr(route, "path")
                else "unmatched"
            )
            surface = surface_of(path)
            self.metrics.observe(surface, route_path, status_holder[0], elapsed)
            if self.access_log:
                log_event(
                    log,
                    "request",
                    method=scope.get("method"),
                    path=path,
                    route=route_path,
                    surface=surface,
                    status=status_holder[0],
                    ms=round(elapsed * 1000, 3),
                    client=(scope.get("client") or ("", 0))[0],
                )
            request_id_var.reset(token)
