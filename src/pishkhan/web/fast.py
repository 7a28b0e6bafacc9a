"""The one fast path of every surface: a request read straight from the ASGI scope, a route
whose handler answers without Starlette's ``Request``/``Response``/``request_response``, and
the table that finds a surface's route by dict lookup.

Starlette's ``Request``, ``Response`` and ``request_response`` wrapper cost as much CPU per
call as a short handler's own Python work, so a :class:`FastRoute`'s handler takes a
:class:`FastRequest` (headers, strict query, body, client host, path parameters) and returns an
:class:`Answer`: the status, the body bytes and the complete header list, sent as two ASGI
messages. :func:`json_answer` gives the headers Starlette's ``Response(body, status,
media_type=...)`` would send (the extra headers first, then ``content-length``, then
``content-type``).

A :class:`Table` holds one surface's routes (fast or ordinary Starlette routes): static paths
in a dict, ``/prefix/{name}`` tails in a dict by prefix, the few other routes scanned in order.
A request whose path no route serves with its method gets the surface's :data:`Unrouted` answer
(its own envelope: 405 with ``Allow`` when a route serves the path with other methods, else
404), or Starlette's when the surface has none (plain text, or the table's ``http_error``; a
path that exists with or without a trailing slash is redirected, as Starlette's router does).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Final, Generic, TypeVar

from starlette._utils import get_route_path
from starlette.convertors import StringConvertor
from starlette.datastructures import URL
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import ASGIApp, Lifespan, Receive, Scope, Send

from pishkhan.web.asgi import InvalidQuery, header_map, query_map, read_body
from pishkhan.web.openapi import ApiRoute, Op

JSON_TYPE: Final = b"application/json"
T = TypeVar("T")


class FastRequest:
    """What a fast handler reads of a request (a small subset of Starlette's ``Request``):
    headers as Starlette's ``Headers`` gives them (first occurrence, lower-case names, latin-1),
    the query by the one strict rule (:func:`~pishkhan.web.asgi.query_map`; ``bad_query()`` is
    raised when it is not UTF-8), the body, the client's host and the path parameters."""

    __slots__ = ("_body", "_headers", "_query", "bad_query", "receive", "scope")

    def __init__(
        self, scope: Scope, receive: Receive, bad_query: Callable[[], Exception] = InvalidQuery
    ) -> None:
        self.scope = scope
        self.receive = receive
        self.bad_query = bad_query
        self._headers: dict[str, str] | None = None
        self._query: dict[str, str] | None = None
        self._body: bytes | None = None

    @property
    def headers(self) -> dict[str, str]:
        headers = self._headers
        if headers is None:
            headers = self._headers = header_map(self.scope)
        return headers

    @property
    def query_params(self) -> dict[str, str]:
        """Query parameters, the last value of a repeated name (as ``QueryParams``' mapping)."""
        query = self._query
        if query is None:
            try:
                query = query_map(self.scope.get("query_string", b""))
            except InvalidQuery:
                raise self.bad_query() from None
            self._query = query
        return query

    @property
    def client_host(self) -> str | None:
        client = self.scope.get("client")
        return client[0] if client else None

    @property
    def path(self) -> str:
        return str(self.scope.get("path", ""))

    @property
    def method(self) -> str:
        return str(self.scope["method"])

    @property
    def path_params(self) -> dict[str, Any]:
        params: dict[str, Any] = self.scope.get("path_params", {})
        return params

    async def body(self) -> bytes:
        """The whole body (``ClientDisconnect`` when the client goes away first)."""
        if self._body is None:
            self._body = await read_body(self.receive)
        return self._body


class Answer(Response):
    """A whole answer with its header list as given (Starlette's ``Response`` builds its
    headers per call); sent by ``Response.__call__``: two ASGI messages."""

    def __init__(  # the parent's __init__ is not called: nothing of it is needed
        self, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
    ) -> None:
        self.status_code = status
        self.body = body
        self.background = None
        self.raw_headers = headers


def json_answer(
    status: int,
    body: bytes,
    content_type: bytes = JSON_TYPE,
    extra: Iterable[tuple[bytes, bytes]] = (),
) -> Answer:
    """The headers ``Response(body, status, headers=extra, media_type=...)`` would send."""
    return Answer(
        status,
        body,
        [
            *extra,
            (b"content-length", str(len(body)).encode("latin-1")),
            (b"content-type", content_type),
        ],
    )


Handler = Callable[[FastRequest], Awaitable[Response]]


class FastRoute(ApiRoute):
    """An :class:`ApiRoute` whose handler takes a :class:`FastRequest` and returns an answer
    (an :class:`Answer` or any Starlette ``Response``).

    ``methods`` are exactly the methods given: unlike ``Route``, ``GET`` does not bring
    ``HEAD`` (a ``HEAD`` would run, and charge, a Jibit inquiry); list ``HEAD`` to serve it.
    ``bad_query``: what :attr:`FastRequest.query_params` raises for a query that is not UTF-8
    (the surface's error, answered in its envelope by its handler)."""

    def __init__(
        self,
        path: str,
        handler: Handler,
        *,
        methods: Sequence[str],
        op: Op | None = None,
        name: str | None = None,
        bad_query: Callable[[], Exception] = InvalidQuery,
    ) -> None:
        super().__init__(path, handler, methods=methods, op=op or Op(summary=""), name=name)
        self.methods = {m.upper() for m in methods}
        self.handler = handler
        self.bad_query = bad_query

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in (self.methods or ()):
            await super().handle(scope, receive, send)  # Starlette's 405
            return
        answer = await self.handler(FastRequest(scope, receive, self.bad_query))
        await answer(scope, receive, send)


def json_handler(
    fn: Callable[[dict[str, str], bytes], Awaitable[tuple[int, bytes]]],
    content_type: bytes = JSON_TYPE,
) -> Handler:
    """A handler of ``fn(headers, body) -> (status, JSON bytes)``."""

    async def handler(request: FastRequest) -> Response:
        status, body = await fn(request.headers, await request.body())
        return json_answer(status, body, content_type)

    return handler


#: A surface's answer to a request under its paths that no route takes with its method:
#: ``(request, routes serving the path with other methods) -> answer``; None: Starlette's.
Unrouted = Callable[[FastRequest, Sequence[BaseRoute]], Response | None]
#: ``(status, headers) -> answer`` for the router's own 404 and 405 (Starlette's
#: ``HTTPException`` as the app's exception handler renders it).
HttpError = Callable[[int, Mapping[str, str] | None], Response]

_DETAIL: Final = {404: "Not Found", 405: "Method Not Allowed"}


def plain_http_error(status: int, headers: Mapping[str, str] | None) -> Response:
    """Starlette's own answer (``ExceptionMiddleware.http_exception``)."""
    return PlainTextResponse(_DETAIL[status], status, headers=headers)


def exception_handlers(handlers: dict[Any, Any]) -> tuple[dict[Any, Any], dict[Any, Any]]:
    """What ``ExceptionMiddleware`` puts in ``scope["starlette.exception_handlers"]`` for
    ``handlers`` (Starlette's ``HTTPException`` answer included)."""
    middleware = ExceptionMiddleware(PlainTextResponse(""), handlers=handlers)
    return middleware._exception_handlers, middleware._status_handlers


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


#: A route found for a path, with its path parameters.
_Found = tuple[BaseRoute, dict[str, Any]]


class Table(Router):
    """One surface's routes, found without a scan (see the module doc). Static paths first,
    then ``/prefix/{name}`` tails, then the other routes in their order; a route listed after
    another that takes the same path and method is refused at build (Starlette would take the
    earlier one, this table the static one).

    ``root``: the routes' paths are under this prefix (``root_path`` is set as ``Mount``
    sets it). ``handlers``: the exception handlers the Starlette routes see (as
    :func:`exception_handlers` gives them); None: those already in the scope."""

    def __init__(
        self,
        routes: Sequence[BaseRoute],
        *,
        unrouted: Unrouted | None = None,
        http_error: HttpError = plain_http_error,
        root: str = "",
        handlers: tuple[dict[Any, Any], dict[Any, Any]] | None = None,
        lifespan: Lifespan[Any] | None = None,
    ) -> None:
        super().__init__(routes=list(routes), lifespan=lifespan)
        self.unrouted = unrouted
        self.http_error = http_error
        self.root = root
        self.handlers = handlers
        self._static: dict[str, list[Route]] = {}
        self._tails: dict[str, tuple[str, list[Route]]] = {}
        self._scan: list[BaseRoute] = []
        for route in self.routes:
            if isinstance(route, Route) and not route.param_convertors:
                self._refuse_shadowed(route)
                self._static.setdefault(route.path, []).append(route)
                continue
            tail = _tail_of(route) if isinstance(route, Route) else None
            if tail is not None and isinstance(route, Route):
                entry = self._tails.setdefault(tail[0], (tail[1], []))
                if entry[0] == tail[1]:
                    entry[1].append(route)
                    continue
            self._scan.append(route)

    def _refuse_shadowed(self, route: Route) -> None:
        for earlier in self.routes:
            if earlier is route:
                return
            if isinstance(earlier, Route) and not earlier.param_convertors:
                continue
            for method in route.methods or ():
                probe = {
                    "type": "http",
                    "path": self.root + route.path,
                    "root_path": self.root,
                    "method": method,
                }
                if earlier.matches(probe)[0] is Match.FULL:
                    path = getattr(earlier, "path", earlier)
                    raise ValueError(f"{path} takes {method} {route.path}, listed later")

    def find(self, scope: Scope) -> tuple[_Found | None, list[BaseRoute]]:
        """The route that serves this request (with its path parameters), else None and the
        routes that serve its path with other methods (in their order)."""
        path = get_route_path(scope)
        method = scope["method"]
        others: list[BaseRoute] = []
        static = self._static.get(path)
        if static is not None:
            for route in static:
                if method in (route.methods or ()):
                    return (route, {}), others
            others.extend(static)
        cut = path.rfind("/") + 1
        if 0 < cut < len(path):
            tail = self._tails.get(path[:cut])
            if tail is not None:
                for route in tail[1]:
                    if method in (route.methods or ()):
                        return (route, {tail[0]: path[cut:]}), others
                others.extend(tail[1])
        for other in self._scan:
            match, child = other.matches(scope)
            if match is Match.FULL:
                return (other, child.get("path_params", {})), others
            if match is Match.PARTIAL:
                others.append(other)
        return None, others

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().app(scope, receive, send)  # lifespan (and Starlette's answers)
            return
        if self.root:
            scope["app_root_path"] = scope.get("app_root_path", scope.get("root_path", ""))
            scope["root_path"] = scope.get("root_path", "") + self.root
        found, others = self.find(scope)
        if found is None:
            await self._unrouted(scope, receive, send, others)
            return
        route, params = found
        if "router" not in scope:
            scope["router"] = self
        scope["route"] = route
        if params:
            scope["path_params"] = {**scope.get("path_params", {}), **params}
        elif "path_params" not in scope:
            scope["path_params"] = {}
        if isinstance(route, Route):
            scope["endpoint"] = route.endpoint
        if self.handlers is not None:
            scope["starlette.exception_handlers"] = self.handlers
        await route.handle(scope, receive, send)

    async def _unrouted(
        self, scope: Scope, receive: Receive, send: Send, others: list[BaseRoute]
    ) -> None:
        answer: Response | None = None
        if self.unrouted is not None:
            answer = self.unrouted(FastRequest(scope, receive), others)
        if answer is None:
            answer = self._starlette_answer(scope, others)
        await answer(scope, receive, send)

    def _starlette_answer(self, scope: Scope, others: list[BaseRoute]) -> Response:
        """What Starlette's router answers: the first route's 405 for a path served with
        other methods, a redirect to the path with(out) a trailing slash when that one is
        served, else 404."""
        first = others[0] if others else None
        if first is not None:
            methods = getattr(first, "methods", None) or ()
            return self.http_error(405, {"Allow": ", ".join(methods)})
        route_path = get_route_path(scope)
        if route_path not in ("/", ""):
            other = dict(scope)
            if route_path.endswith("/"):
                other["path"] = other["path"].rstrip("/")
            else:
                other["path"] = other["path"] + "/"
            found, others = self.find(other)
            if found is not None or others:
                return RedirectResponse(url=str(URL(scope=other)))
        return self.http_error(404, None)


class Prefixes(Generic[T]):
    """Path prefix -> value, looked up by the longest prefix a path starts with (``default``
    when none does), without a walk over every prefix."""

    def __init__(self, items: Iterable[tuple[str, T]], default: T) -> None:
        self.default = default
        #: (prefix, value), the longest prefix first
        self.items = tuple(sorted(items, key=lambda item: -len(item[0])))
        # A prefix with a "/" after its first segment ("/api/", "/v1/payman") only takes paths
        # of that first segment: kept by it. The others ("/ide", "/_pishkhan") take any path
        # that starts with them; such a prefix is no longer than the path's first segment, so
        # shorter than any prefix kept by that segment: they are tried after those.
        self._by_segment: dict[str, tuple[tuple[str, T], ...]] = {}
        loose: list[tuple[str, T]] = []
        for item in self.items:
            cut = item[0].find("/", 1)
            if cut < 0:
                loose.append(item)
            else:
                segment = item[0][:cut]
                self._by_segment[segment] = (*self._by_segment.get(segment, ()), item)
        self._loose = tuple(loose)

    def lookup(self, path: str) -> T:
        cut = path.find("/", 1)
        for prefix, value in self._by_segment.get(path[:cut] if cut > 0 else path, ()):
            if path.startswith(prefix):
                return value
        for prefix, value in self._loose:
            if path.startswith(prefix):
                return value
        return self.default


def group_routes(
    prefixes: Prefixes[str], routes: Iterable[BaseRoute]
) -> dict[str, list[BaseRoute]]:
    """Routes by the surface of their path's static start (the text before its first
    parameter), in their order."""
    grouped: dict[str, list[BaseRoute]] = {}
    for route in routes:
        literal = str(getattr(route, "path", "")).split("{", 1)[0]
        grouped.setdefault(prefixes.lookup(literal), []).append(route)
    return grouped


class Dispatch(Router):
    """The app's router: a request goes to its surface's :class:`Table` by path prefix (the
    longest that matches), else to ``other``. The same table names the surface of a path for
    metrics and logs (:meth:`surface_of`)."""

    def __init__(
        self,
        surfaces: Iterable[tuple[str, str, ASGIApp]],
        other: ASGIApp,
        *,
        lifespan: Lifespan[Any] | None = None,
    ) -> None:
        super().__init__(lifespan=lifespan)
        self.prefixes = Prefixes(
            ((prefix, (surface, app)) for prefix, surface, app in surfaces), ("other", other)
        )

    def lookup(self, path: str) -> tuple[str, ASGIApp]:
        """The surface of ``path`` and the app that serves it."""
        return self.prefixes.lookup(path)

    def surface_of(self, path: str) -> str:
        return self.prefixes.lookup(path)[0]

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().app(scope, receive, send)
            return
        await self.lookup(get_route_path(scope))[1](scope, receive, send)


__all__ = [
    "Answer",
    "Dispatch",
    "FastRequest",
    "FastRoute",
    "Handler",
    "Prefixes",
    "Table",
    "Unrouted",
    "exception_handlers",
    "group_routes",
    "json_answer",
    "json_handler",
    "plain_http_error",
]
