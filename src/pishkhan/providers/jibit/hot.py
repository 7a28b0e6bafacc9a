"""The request and response plumbing of the Jibit routes, straight on the ASGI scope.

Every Jibit endpoint reads a few headers, the query string, the client address and sometimes
the body, and answers with JSON bytes. Starlette's ``Request``/``Response`` and its
``request_response`` wrapper cost more per call than the card inquiry's own Python code
(measured, see docs/jibit.md), so the routes carry a :class:`HotRoute` that builds a
:class:`HotRequest` and sends the answer's two ASGI messages itself. The answers are the same:
headers are looked up as Starlette's ``Headers`` does (first occurrence, names as the server
gives them: lower case), the query string is split as ``QueryParams`` does (``parse_qsl``
keeping blank values, the last value of a repeated name) but decoded strictly as UTF-8
(:func:`pishkhan.web.asgi.query_map`: a query that is not UTF-8 is ``invalid.request_body``,
never a string of replacement characters), and a
:class:`JsonResponse` carries the headers Starlette's ``Response`` would (``x-track-id``,
``content-length``, ``content-type: application/json``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from pishkhan.providers.jibit.errors import JibitError, error_body
from pishkhan.web.asgi import InvalidQuery, header_map, query_map, read_body
from pishkhan.web.openapi import ApiRoute, Op

_JSON_TYPE = (b"content-type", b"application/json")


class HotRequest:
    """What a Jibit handler reads of a request (a small subset of Starlette's ``Request``)."""

    __slots__ = ("_body", "_headers", "_query", "_receive", "scope")

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self.scope = scope
        self._receive = receive
        self._headers: dict[str, str] | None = None
        self._query: dict[str, str] | None = None
        self._body: bytes | None = None

    @property
    def headers(self) -> dict[str, str]:
        """Header name -> value (latin-1), the first occurrence of a repeated name."""
        headers = self._headers
        if headers is None:
            headers = self._headers = header_map(self.scope)
        return headers

    @property
    def query_params(self) -> dict[str, str]:
        """Query parameters, the last value of a repeated name (as ``QueryParams``' mapping);
        ``invalid.request_body`` when a name or value is not UTF-8 (e.g. Windows-1256 bytes)."""
        query = self._query
        if query is None:
            try:
                query = query_map(self.scope.get("query_string", b""))
            except InvalidQuery:
                raise JibitError("invalid.request_body") from None
            self._query = query
        return query

    @property
    def client_host(self) -> str | None:
        client = self.scope.get("client")
        return client[0] if client else None

    @property
    def path(self) -> str:
        return str(self.scope.get("path", ""))

    async def body(self) -> bytes:
        if self._body is None:
            self._body = await read_body(self._receive)
        return self._body


class JsonResponse(Response):
    """A JSON answer with pre-encoded headers (Starlette's ``Response`` builds them per call)."""

    media_type = "application/json"

    def __init__(
        self, content: bytes, status: int, track_id: str | None = None, allow: str | None = None
    ) -> None:
        self.status_code = status
        self.body = content
        self.background = None
        headers = [(b"content-length", str(len(content)).encode()), _JSON_TYPE]
        if track_id is not None:
            headers.insert(0, (b"x-track-id", track_id.encode("latin-1")))
        if allow is not None:
            headers.append((b"allow", allow.encode("latin-1")))
        self.raw_headers = headers


def method_not_allowed(allowed: Iterable[str], track_id: str | None) -> JsonResponse:
    """405 for a path the surface serves but not with this method (``HEAD`` and ``OPTIONS``
    included: nothing runs, nothing is charged), in Jibit's envelope with ``Allow``. The
    document has no code for a wrong method; ``handler.not_found`` ("no mechanism found") is its
    code for a request no handler takes, and the status tells it from an unknown path (404)."""
    return JsonResponse(
        error_body("handler.not_found"), 405, track_id, allow=", ".join(sorted(allowed))
    )


Handler = Callable[[HotRequest], Awaitable[Response]]


class HotRoute(ApiRoute):
    """An :class:`ApiRoute` whose handler takes a :class:`HotRequest` and whose answer is sent
    without Starlette's ``request_response`` wrapper.

    ``methods`` are exactly the methods given: unlike ``Route``, ``GET`` does not bring ``HEAD``
    (a ``HEAD`` would run, and charge, the inquiry). ``None``: any method (the catch-all).
    Another method is answered by :func:`method_not_allowed` (the surface's catch-all route
    answers it first when the router scans; this is the same answer when called directly).

    ``direct``: the request middleware may call it without the router's scan when nothing
    before it matches its path (``pishkhan.web.middleware``)."""

    direct = True

    def __init__(
        self,
        path: str,
        endpoint: Handler,
        *,
        methods: Sequence[str] | None,
        op: Op | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(path, endpoint, methods=methods or (), op=op or Op(summary=""), name=name)
        self.methods = {m.upper() for m in methods} if methods is not None else None
        self.hot = endpoint

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().handle(scope, receive, send)
            return
        response: Any
        if self.methods is not None and scope["method"] not in self.methods:
            response = method_not_allowed(
                self.methods, HotRequest(scope, receive).headers.get("x-track-id")
            )
        else:
            response = await self.hot(HotRequest(scope, receive))
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": response.raw_headers,
            }
        )
        await send({"type": "http.response.body", "body": response.body})
        if response.background is not None:
            await response.background()
