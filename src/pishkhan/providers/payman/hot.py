"""``POST /v1/payman/pay`` straight on the ASGI scope.

Starlette's ``Request``, ``Response`` and ``request_response`` wrapper cost as much CPU per pay
as the pay's own Python work, so the pay route reads what it needs from the scope (the
headers, the body) and sends its answer's two ASGI messages itself. The request middleware may
call it without the router's scan (``direct``, see ``pishkhan.web.middleware``). The answers are
byte for byte those of ``Response(body, status, media_type="application/json")``: the headers
``content-length`` and ``content-type: application/json``, in that order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.types import Receive, Scope, Send

from pishkhan.web.asgi import header_map, read_body, send_json
from pishkhan.web.openapi import ApiRoute, Op

#: ``(headers, body) -> (status, JSON bytes)``; headers as :func:`header_map` gives them.
Handler = Callable[[dict[str, str], bytes], Awaitable[tuple[int, bytes]]]


class JsonRoute(ApiRoute):
    """An :class:`ApiRoute` whose handler takes the headers and body and answers JSON bytes,
    sent without Starlette's request/response objects (other methods: 405 as ``Route``)."""

    direct = True

    def __init__(
        self, path: str, handler: Handler, *, methods: Sequence[str], op: Op | None = None
    ) -> None:
        async def unused(_request: Any) -> Any:  # pragma: no cover - handle() answers instead
            raise AssertionError("JsonRoute answers in handle()")

        super().__init__(path, unused, methods=methods, op=op or Op(summary=""))
        self.handler = handler

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (self.methods and scope["method"] not in self.methods):
            await super().handle(scope, receive, send)
            return
        status, body = await self.handler(header_map(scope), await read_body(receive))
        await send_json(send, status, body)


__all__ = ["JsonRoute"]
