"""Reading a request straight from the ASGI scope and sending a whole answer, for routes that
skip Starlette's ``Request`` and ``Response`` (the hot paths of Jibit, Pendar and Payman: see
their ``hot`` modules).

The answers are those of Starlette's ``Headers`` and ``Request.body``: the first occurrence of
a repeated header (names as the server gives them: lower case), values in latin-1; the body's
chunks joined, ``ClientDisconnect`` when the client goes away first. The body's size and the
time it takes to arrive are bounded by the request middleware before any route runs
(:mod:`pishkhan.web.limits`), for these readers and Starlette's alike. :func:`send_json` sends
what ``Response(body, status, media_type=...)`` would: ``content-length``, then
``content-type``.
"""

from __future__ import annotations

from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

JSON_TYPE = b"application/json"


def header_map(scope: Scope) -> dict[str, str]:
    """Header name -> value, the first occurrence of a repeated name."""
    headers: dict[str, str] = {}
    for name, value in scope["headers"]:
        key = name.decode("latin-1")
        if key not in headers:
            headers[key] = value.decode("latin-1")
    return headers


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


async def send_json(send: Send, status: int, body: bytes, content_type: bytes = JSON_TYPE) -> None:
    """The answer's two ASGI messages."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-length", str(len(body)).encode("latin-1")),
                (b"content-type", content_type),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
