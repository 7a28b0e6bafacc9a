"""uvicorn's httptools protocol with each response leaving in one ``send()``.

uvicorn writes a response's status line and headers (``http.response.start``) and its body
(``http.response.body``) to the transport separately; an idle transport sends each write at
once, so every response costs two ``send()`` system calls and two TCP segments, and the client
wakes up for the headers alone. :class:`HttpToolsProtocol` hands uvicorn a transport that
gathers the writes made during one turn of the event loop and sends them together at the end of
the turn (``call_soon``): headers and body leave as one segment, nothing waits longer than the
callbacks already queued. Closing the transport sends what is gathered first; everything else
goes to the real transport.

It also bounds a request's head, which uvicorn's httptools protocol does not (it keeps every byte
of an unfinished request line or header, and waits for the rest for ever): a client has
``PISHKHAN_HEADER_TIMEOUT`` seconds from connecting, or from the first byte of a later request,
to send the whole head (408 and the connection closed after), and ``PISHKHAN_MAX_HEADER`` bytes
for it (431 after). No timer per request: one sweep per server checks its connections every
``min(1 s, timeout / 4)`` while it has any. The request body's bounds are the request
middleware's (``pishkhan.web.limits``), whatever the server.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

from uvicorn.protocols.http.httptools_impl import STATUS_LINE
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


_head_limits: tuple[float, int] | None = None


def head_limits() -> tuple[float, int]:
    """(header timeout in seconds, largest head in bytes) of this process's settings."""
    global _head_limits
    if _head_limits is None:
        from pishkhan.settings import Settings

        settings = Settings.from_env()
        _head_limits = (settings.header_timeout, settings.max_header)
    return _head_limits


_SWEEPING: Final = "_pishkhan_head_sweep"


def _sweep(loop: asyncio.AbstractEventLoop, state: Any, timeout: float) -> None:
    """Refuse the heads that took longer than ``timeout``; again in a while if any connection
    is left."""
    now = loop.time()
    for conn in list(state.connections):
        since = getattr(conn, "head_since", None)
        if since is not None and now - since >= timeout:
            conn.head_timed_out()
    if state.connections:
        loop.call_later(min(1.0, timeout / 4), _sweep, loop, state, timeout)
    else:
        setattr(state, _SWEEPING, False)


class HttpToolsProtocol(_Base):
    """uvicorn's httptools protocol on a :class:`CoalescingTransport`, with bounded request
    heads (see the module doc; pass it as ``uvicorn.run(..., http=HttpToolsProtocol)``)."""

    #: when the head being read began (connecting or its first byte); None between heads
    head_since: float | None = None
    _head_bytes = 0
    _head_began = False  # a head began in the chunk being fed
    _in_head = False  # some of the head being read has arrived

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)  # flow control stays on the real transport
        self.transport = CoalescingTransport(transport, self.loop)  # type: ignore[assignment]
        self.header_timeout, self.max_header = head_limits()
        self.head_since = self.loop.time()
        state = self.server_state
        if not getattr(state, _SWEEPING, False):
            setattr(state, _SWEEPING, True)
            timeout = self.header_timeout
            self.loop.call_later(min(1.0, timeout / 4), _sweep, self.loop, state, timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self.head_since = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._head_began = False
        super().data_received(data)
        # Count the chunks that only carry a head: all of this one is head when a head was
        # being read before and after it and none began in it (one that began inside it, after
        # a body, is counted from the next chunk: the count may fall short by one read).
        if self.head_since is not None and not self._head_began:
            self._head_bytes += len(data)
            if self._head_bytes > self.max_header:
                self.refuse_head(431)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_began = self._in_head = True
        if self.head_since is None:
            self.head_since = self.loop.time()

    def on_headers_complete(self) -> None:
        self.head_since = None
        self._head_bytes = 0
        self._in_head = False
        super().on_headers_complete()

    def head_timed_out(self) -> None:
        self.head_since = None
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            cycle.keep_alive = False  # an answer is on its way: close after it
        elif not self._in_head:
            self.transport.close()  # connected and sent nothing: nothing to answer
        else:
            self.refuse_head(408)

    def refuse_head(self, status: int) -> None:
        """Answer ``status`` (408, 431) in plain text and close the connection."""
        self.head_since = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is None or cycle.response_complete:
            reason = STATUS_LINE[status][len(b"HTTP/1.1 000 ") : -2]
            self.transport.write(
                b"".join(
                    [
                        STATUS_LINE[status],
                        *(
                            name + b": " + value + b"\r\n"
                            for name, value in self.server_state.default_headers
                        ),
                        b"content-type: text/plain; charset=utf-8\r\n",
                        b"content-length: " + str(len(reason)).encode("ascii") + b"\r\n",
                        b"connection: close\r\n\r\n",
                        reason,
                    ]
                )
            )
        self.transport.close()
