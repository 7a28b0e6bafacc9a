"""The answer to a request under a surface's paths that no route of it takes: 405 (with
``Allow``) when a route serves the path with other methods, else 404, the body in the surface's
own envelope instead of Starlette's plain text. Nothing runs, nothing is recorded or charged.

:func:`catch_all` gives the routes to append after a surface's own (the router takes the first
full match, and a route's wrong method is only a partial one), one per path prefix.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route

#: ``(HTTP status, detail) -> JSON body`` in the surface's envelope.
Render = Callable[[int, str], bytes]


def allowed_methods(routes: Sequence[BaseRoute], request: Request) -> set[str]:
    """The methods of the routes that serve this path with other methods than the request's."""
    methods: set[str] = set()
    for route in routes:
        if isinstance(route, Route) and route.methods:
            match, _ = route.matches(request.scope)
            if match is Match.PARTIAL:
                methods |= route.methods
    return methods


def catch_all(paths: Sequence[str], served: Sequence[BaseRoute], render: Render) -> list[Route]:
    """Routes (any method) for ``paths`` (``"/v1/payman/{rest:path}"``, ``"/oauth/token"``)
    answering 405 or 404 for what ``served`` does not take."""

    async def unrouted(request: Request) -> Response:
        allowed = allowed_methods(served, request)
        if allowed:
            allow = ", ".join(sorted(allowed))
            detail = f"Method {request.method} is not allowed here; allowed: {allow}."
            return Response(
                render(405, detail), 405, headers={"Allow": allow}, media_type="application/json"
            )
        detail = f"No resource at {request.url.path}."
        return Response(render(404, detail), 404, media_type="application/json")

    routes = [Route(path, unrouted, include_in_schema=False) for path in paths]
    for route in routes:
        route.methods = None  # every method (a function endpoint defaults to GET and HEAD)
    return routes


__all__ = ["Render", "allowed_methods", "catch_all"]
