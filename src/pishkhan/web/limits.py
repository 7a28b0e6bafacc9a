"""Bounds on a request's body: how large it may be and how long it may take to arrive.

One rule for every route (the fast routes that read with :func:`pishkhan.web.asgi.read_body`
and the Starlette routes that call ``request.body()``, ``json()`` or ``form()``): the request
middleware (:mod:`pishkhan.web.middleware`) applies it before any route runs.

- A ``Content-Length`` over the bound is refused before anything is read: the route never runs.
- Otherwise, for a request that has a body, the route gets a bounded ``receive``
  (:class:`BodyReader`): it counts the bytes as they arrive and raises :class:`BodyRefused`
  (413) as soon as the count passes the bound (a chunked body: nothing more is read or kept),
  and :class:`BodyRefused` (408) when the body has not all arrived ``timeout`` seconds after the
  request's head (a client that sends its head and then stalls or trickles).
- The middleware answers either in the surface's own error shape (each surface's
  ``body_refusal``) with ``Connection: close``: the rest of the body is never read.

The deadline costs no timer per request: one sweep per event loop, every ``interval`` seconds
while some request is reading its body, expires the requests past their deadline (a request
waiting in ``receive`` has its task cancelled there and sees :class:`BodyRefused` instead).
A body complete within ``timeout`` and the bound costs a set insertion and removal.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from time import monotonic
from typing import Final

from starlette.types import Message, Receive, Scope

#: ``(scope, status, detail) -> (content type, body)``: a surface's answer to a refused body
#: (status 413: too large, 408: too slow); ``detail`` says why in English.
Refusal = Callable[[Scope, int, str], tuple[bytes, bytes]]

TOO_LARGE: Final = 413
TOO_SLOW: Final = 408


class BodyRefused(BaseException):
    """The request's body is refused (``status`` 413 or 408); the request middleware answers.

    A ``BaseException``, like ``asyncio.CancelledError``: nothing between the ``receive`` that
    raises it and the middleware may take it for an ordinary error and go on (a handler's
    ``except Exception`` around a form parse, say, would otherwise serve, and maybe charge, a
    request whose body was cut short)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(status, detail)
        self.status = status
        self.detail = detail


class BodyReader:
    """A request's ``receive``, bounded in bytes and time (see the module doc). Call
    :meth:`finish` when the request is done (the middleware does)."""

    __slots__ = ("_limits", "_receive", "deadline", "done", "expired", "limit", "received", "task")

    def __init__(self, limits: BodyLimits, receive: Receive, limit: int, deadline: float) -> None:
        self._limits = limits
        self._receive = receive
        self.limit = limit
        self.deadline = deadline
        self.received = 0
        #: the task waiting in ``receive`` now, if any (the one the sweep cancels)
        self.task: asyncio.Task[object] | None = None
        self.expired = False
        self.done = False

    async def __call__(self) -> Message:
        if self.expired:
            raise self._limits.too_slow()
        if self.done:  # the body is in: what follows is a disconnect, not bounded here
            return await self._receive()
        task = self.task = asyncio.current_task()
        try:
            message = await self._receive()
        except asyncio.CancelledError:
            # Cancelled by the sweep (and by nothing else): the deadline passed.
            if self.expired and task is not None and task.uncancel() == 0:
                raise self._limits.too_slow() from None
            raise
        finally:
            self.task = None
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                self.finish()
                raise self._limits.too_large(self.limit)
            if message.get("more_body", False):
                return message
        self.finish()
        return message

    def expire(self) -> None:
        """The deadline passed: refuse the body (at once if a task waits in ``receive``)."""
        self.expired = True
        self.finish()
        if self.task is not None:
            self.task.cancel()

    def finish(self) -> None:
        if not self.done:
            self.done = True
            self._limits._reading.discard(self)


class BodyLimits:
    """The bounds of one app: ``max_body`` bytes (``paths`` give exact paths bounds of their
    own), ``timeout`` seconds for a body to arrive, and each surface's :data:`Refusal`."""

    def __init__(
        self,
        max_body: int,
        timeout: float,
        *,
        paths: Mapping[str, int] | None = None,
        refusals: Mapping[str, Refusal] | None = None,
    ) -> None:
        self.max_body = max_body
        self.timeout = timeout
        self.paths = dict(paths or {})
        self.refusals = dict(refusals or {})
        self.interval = min(1.0, max(0.05, timeout / 4))
        self._reading: set[BodyReader] = set()
        self._armed = False
        self._swept = 0.0  # when the sweep last ran (or was armed)
        self._generation = 0  # of the sweep running now (a stale one stops)

    def bound(self, path: str) -> int:
        """The largest body a request to ``path`` may send."""
        return self.paths.get(path, self.max_body) if self.paths else self.max_body

    def too_large(self, limit: int) -> BodyRefused:
        return BodyRefused(TOO_LARGE, f"The request body is larger than {limit} bytes.")

    def too_slow(self) -> BodyRefused:
        return BodyRefused(
            TOO_SLOW, f"The request body did not arrive within {self.timeout:g} seconds."
        )

    def reader(self, receive: Receive, limit: int) -> BodyReader:
        """A bounded ``receive`` for a request whose head has just arrived (called on the event
        loop that serves the request)."""
        now = monotonic()
        reader = BodyReader(self, receive, limit, now + self.timeout)
        self._reading.add(reader)
        # Arm the sweep when it is not running: none armed, or armed on an event loop that has
        # stopped (tests run apps on several loops; a loop that stopped sweeping is dead).
        if not self._armed or now - self._swept > self.interval * 2 + 1:
            self._armed = True
            self._swept = now
            self._generation += 1
            asyncio.get_running_loop().call_later(self.interval, self._sweep, self._generation)
        return reader

    def _sweep(self, generation: int) -> None:
        if generation != self._generation:
            return  # a newer sweep took over (this one's loop was late or stopped)
        now = self._swept = monotonic()
        for reader in [r for r in self._reading if r.deadline <= now]:
            reader.expire()
        if self._reading:
            asyncio.get_running_loop().call_later(self.interval, self._sweep, generation)
        else:
            self._armed = False

    def refusal(self, surface: str, scope: Scope, refused: BodyRefused) -> tuple[bytes, bytes]:
        """The surface's answer to ``refused`` (plain text for paths of no surface)."""
        refuse = self.refusals.get(surface)
        if refuse is not None:
            return refuse(scope, refused.status, refused.detail)
        return b"text/plain; charset=utf-8", refused.detail.encode()
