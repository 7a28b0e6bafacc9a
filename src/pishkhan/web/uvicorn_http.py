"""uvicorn's httptools protocol with each response leaving in one ``send()``.

uvicorn writes a response's status line and headers (``http.response.start``) and its body
(``http.response.body``) to the transport separately; an idle transport sends each write at
once, so every response costs two ``send()`` system calls and two TCP segments, and the client
wakes up for the headers alone. :class:`HttpToolsProtocol` hands uvicorn a transport that
gathers the writes made during one turn of the event loop and sends them together at the end of
the turn (``call_soon``): headers and body leave as one segment, nothing waits longer than the
callbacks already queued. Closing the transport sends what is gathered first; everything else
goes to the real transport.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _Base


class CoalescingTransport:
    """The writes of one loop turn to ``transport``, sent as one (see the module doc)."""

    __slots__ = ("_loop", "_pending", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        pending = self._pending
        if pending is None:
            self._pending = [bytes(data)]
            self._loop.call_soon(self.flush)
        else:
            pending.append(bytes(data))

    def writelines(self, lines: Any) -> None:
        for data in lines:
            self.write(data)

    def flush(self) -> None:
        """Send what was gathered (no-op when nothing was, or the transport is closing)."""
        pending, self._pending = self._pending, None
        if pending and not self._transport.is_closing():
            self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending = None
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class HttpToolsProtocol(_Base):
    """uvicorn's httptools protocol on a :class:`CoalescingTransport` (pass it as
    ``uvicorn.run(..., http=HttpToolsProtocol)``)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)  # flow control stays on the real transport
        self.transport = CoalescingTransport(transport, self.loop)  # type: ignore[assignment]
