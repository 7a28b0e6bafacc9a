"""The answer to a request under a surface's paths that no route of it takes: 405 (with
``Allow``: every method the path is served with) when a route serves the path with other
methods, else 404, the body in the surface's own envelope instead of Starlette's plain text.
Nothing runs, nothing is recorded or charged.

A surface's routes module exports its :data:`~pishkhan.web.fast.Unrouted` hook as
``unrouted``; the surface's :class:`~pishkhan.web.fast.Table` calls it (see
:mod:`pishkhan.web.fast`). :func:`enveloped` makes one from a surface's error renderer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from starlette.datastructures import URL
from starlette.responses import Response
from starlette.routing import BaseRoute

from pishkhan.web.fast import FastRequest, Unrouted, json_answer

#: ``(HTTP status, detail) -> JSON body`` in the surface's envelope.
Render = Callable[[int, str], bytes]


def allowed_methods(routes: Sequence[BaseRoute]) -> str:
    """The methods ``routes`` serve, sorted, as ``Allow`` lists them."""
    methods: set[str] = set()
    for route in routes:
        methods |= getattr(route, "methods", None) or set()
    return ", ".join(sorted(methods))


def enveloped(render: Render, covers: Callable[[str], bool] | None = None) -> Unrouted:
    """The hook answering in ``render``'s envelope, with the detail in English, for the paths
    ``covers`` says (all of the surface's by default; others get Starlette's answer)."""

    def unrouted(request: FastRequest, others: Sequence[BaseRoute]) -> Response | None:
        path = request.path
        if covers is not None and not covers(path):
            return None
        if others:
            allow = allowed_methods(others)
            detail = f"Method {request.method} is not allowed here; allowed: {allow}."
            return json_answer(405, render(405, detail), extra=[(b"allow", allow.encode())])
        detail = f"No resource at {URL(scope=request.scope).path}."
        return json_answer(404, render(404, detail))

    return unrouted


__all__ = ["Render", "allowed_methods", "enveloped"]
