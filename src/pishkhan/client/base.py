"""The client machinery every provider module shares.

An endpoint is described once as a :class:`Call` (method, path, parameters, body, and a parser
that turns the HTTP response into a typed result or raises the provider's :class:`ApiError`).
:class:`SyncTransport` and :class:`AsyncTransport` execute calls over ``httpx``; an
:class:`Auth` strategy (tokens, API keys, OAuth) is consulted before each authenticated call and
may ask the transport to run calls of its own (generate, refresh) first.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import httpx

T = TypeVar("T")
DEFAULT_TIMEOUT = 30.0


class ApiError(Exception):
    """An error answered by a provider, with everything needed to act on it."""

    provider = "unknown"

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status_code: int,
        track_id: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(f"[{self.provider} {status_code} {code}] {message}")
        self.code = code
        self.message = message
        self.status_code = status_code
        self.track_id = track_id
        self.body = body


class TransportError(Exception):
    """The provider could not be reached or answered something unreadable."""


@dataclass
class Call(Generic[T]):
    """One HTTP exchange: what to send and how to read the answer."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: Mapping[str, Any] | None = None
    json: Any = None
    data: Mapping[str, Any] | None = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    authenticated: bool = True
    follow_redirects: bool = False


class Auth(Protocol):
    """How a provider's credentials are obtained and attached (sans-IO)."""

    def pending(self, now: float) -> Call[Any] | None:
        """A call to run before the next authenticated call (e.g. generate or refresh)."""

    def apply(self, call: Call[Any]) -> None:
        """Attach credentials to an outgoing call (headers or body)."""

    def rejected(self, response: httpx.Response) -> bool:
        """The provider refused the credentials: forget them; True to retry the call once."""


class NoAuth:
    def pending(self, now: float) -> Call[Any] | None:
        return None

    def apply(self, call: Call[Any]) -> None:
        return None

    def rejected(self, response: httpx.Response) -> bool:
        return False


def _clean_params(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if params is None:
        return None
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return out


def _build(client: httpx.Client | httpx.AsyncClient, call: Call[Any]) -> httpx.Request:
    return client.build_request(
        call.method,
        call.path,
        params=_clean_params(call.params),
        json=call.json,
        data=call.data,
        content=call.content,
        headers=call.headers,
    )


H = TypeVar("H", httpx.Client, httpx.AsyncClient)


def _adopt(http_client: H | None, base_url: str, headers: Mapping[str, str] | None) -> H | None:
    """Point a caller-supplied httpx client at ``base_url`` and add ``headers`` to it."""
    if http_client is None:
        return None
    if base_url:
        http_client.base_url = httpx.URL(base_url)
    if headers:
        http_client.headers.update(headers)
    return http_client


class SyncTransport:
    """Runs calls with an ``httpx.Client``; pass ``transport=`` or ``http_client=`` to inject."""

    def __init__(
        self,
        base_url: str,
        *,
        auth: Auth | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self._http = _adopt(http_client, base_url, headers) or httpx.Client(
            base_url=base_url, timeout=timeout, transport=transport, headers=dict(headers or {})
        )
        self._auth: Auth = auth or NoAuth()
        self._lock = threading.Lock()

    def _send(self, call: Call[Any]) -> httpx.Response:
        try:
            return self._http.send(_build(self._http, call), follow_redirects=call.follow_redirects)
        except httpx.HTTPError as exc:
            raise TransportError(f"{call.method} {call.path}: {exc}") from exc

    def _ensure_auth(self) -> None:
        with self._lock:
            for _ in range(3):
                pre = self._auth.pending(time.time())
                if pre is None:
                    return
                pre.parse(self._send(pre))

    def call(self, call: Call[T]) -> T:
        if not call.authenticated:
            return call.parse(self._send(call))
        self._ensure_auth()
        self._auth.apply(call)
        response = self._send(call)
        if self._auth.rejected(response):
            self._ensure_auth()
            self._auth.apply(call)
            response = self._send(call)
        return call.parse(response)

    def close(self) -> None:
        self._http.close()

    def __enter__(self: Any) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncTransport:
    """Runs calls with an ``httpx.AsyncClient``."""

    def __init__(
        self,
        base_url: str,
        *,
        auth: Auth | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self._http = _adopt(http_client, base_url, headers) or httpx.AsyncClient(
            base_url=base_url, timeout=timeout, transport=transport, headers=dict(headers or {})
        )
        self._auth: Auth = auth or NoAuth()
        self._lock = asyncio.Lock()

    async def _send(self, call: Call[Any]) -> httpx.Response:
        try:
            return await self._http.send(
                _build(self._http, call), follow_redirects=call.follow_redirects
            )
        except httpx.HTTPError as exc:
            raise TransportError(f"{call.method} {call.path}: {exc}") from exc

    async def _ensure_auth(self) -> None:
        async with self._lock:
            for _ in range(3):
                pre = self._auth.pending(time.time())
                if pre is None:
                    return
                pre.parse(await self._send(pre))

    async def call(self, call: Call[T]) -> T:
        if not call.authenticated:
            return call.parse(await self._send(call))
        await self._ensure_auth()
        self._auth.apply(call)
        response = await self._send(call)
        if self._auth.rejected(response):
            await self._ensure_auth()
            self._auth.apply(call)
            response = await self._send(call)
        return call.parse(response)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self: Any) -> Any:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def json_body(response: httpx.Response) -> Any:
    """The response's JSON, or a TransportError saying what came back instead."""
    try:
        return response.json()
    except ValueError as exc:
        snippet = response.text[:200]
        raise TransportError(
            f"HTTP {response.status_code}: expected JSON, got {snippet!r}"
        ) from exc
