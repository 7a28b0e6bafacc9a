"""Reading a request straight from the ASGI scope, for the routes that skip Starlette's
``Request`` (:class:`pishkhan.web.fast.FastRequest` reads with these).

The answers are those of Starlette's ``Headers`` and ``Request.body``: the first occurrence of
a repeated header (names as the server gives them: lower case), values in latin-1; the body's
chunks joined, ``ClientDisconnect`` when the client goes away first. The body's size and the
time it takes to arrive are bounded by the request middleware before any route runs
(:mod:`pishkhan.web.limits`), for these readers and Starlette's alike.

:func:`query_map` is the one rule for decoding a query string: names and values are
percent-decoded to bytes and those bytes must be UTF-8 (``InvalidQuery`` otherwise, whether
the bytes came percent-encoded or raw). Starlette's ``QueryParams`` (and ``parse_qsl``'s
default) replace undecodable bytes with U+FFFD instead, so a Windows-1256 name would reach a
handler as a string of replacement characters.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope


def header_map(scope: Scope) -> dict[str, str]:
    """Header name -> value, the first occurrence of a repeated name."""
    headers: dict[str, str] = {}
    for name, value in scope["headers"]:
        key = name.decode("latin-1")
        if key not in headers:
            headers[key] = value.decode("latin-1")
    return headers


class InvalidQuery(ValueError):
    """A query string whose names or values are not UTF-8 once percent-decoded."""


def _query_text(raw: bytes) -> str:
    if b"%" in raw or b"+" in raw:
        raw = unquote_to_bytes(raw.replace(b"+", b" "))
    return raw.decode("utf-8")


def query_map(query_string: bytes) -> dict[str, str]:
    """Query parameters, the last value of a repeated name, blank values kept (a name without
    ``=`` has the value ``""``), as ``parse_qsl(..., keep_blank_values=True)`` splits them on
    ``&``; ``+`` is a space. Every name and value must be UTF-8 once percent-decoded:
    :class:`InvalidQuery` otherwise."""
    query: dict[str, str] = {}
    if not query_string:
        return query
    if query_string.isascii() and b"%" not in query_string and b"+" not in query_string:
        # nothing to unquote and nothing to check: plain ASCII fields
        for field in query_string.decode("ascii").split("&"):
            if field:
                name, _, value = field.partition("=")
                query[name] = value
        return query
    query.update(query_pairs(query_string))
    return query


def query_pairs(query_string: bytes) -> list[tuple[str, str]]:
    """Every ``(name, value)`` in order, repeated names too, by :func:`query_map`'s rule (also
    for a form-encoded body): :class:`InvalidQuery` when one is not UTF-8."""
    pairs: list[tuple[str, str]] = []
    try:
        for raw in query_string.split(b"&"):
            if raw:
                raw_name, _, raw_value = raw.partition(b"=")
                pairs.append((_query_text(raw_name), _query_text(raw_value)))
    except UnicodeDecodeError:
        raise InvalidQuery("the query string is not UTF-8") from None
    return pairs


async def read_body(receive: Receive) -> bytes:
    """The whole request body."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        elif message["type"] == "http.disconnect":
            raise ClientDisconnect()
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
