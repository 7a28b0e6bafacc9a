"""Client for Payman direct debit (Faraboom v1.6), against the live service or pishkhan.

Token handling (client credentials, renewed before expiry and once after a 401), the required
headers filled from one :class:`ClientInfo`, typed results, :class:`PaymanError` with the
document's string code, and :func:`parse_redirect` for the consent page's redirect back.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from .base import ApiError, AsyncTransport, Call, SyncTransport, json_body


class PaymanError(ApiError):
    provider = "payman"

    @property
    def reference(self) -> str | None:
        errors = (self.body or {}).get("errors") if isinstance(self.body, dict) else None
        return errors[0].get("reference") if errors else None


@dataclass(frozen=True)
class ClientInfo:
    """The ``Client-*`` headers describing the end user's device."""

    device_id: str = "127.0.0.1"
    ip_address: str = "127.0.0.1"
    user_agent: str = "pishkhan-client"
    platform_type: str = "WEB"
    user_id: str = "0"

    def headers(self) -> dict[str, str]:
        return {
            "Client-Device-Id": self.device_id,
            "Client-Ip-Address": self.ip_address,
            "Client-User-Agent": self.user_agent,
            "Client-Platform-Type": self.platform_type,
            "Client-User-Id": self.user_id,
        }


@dataclass(frozen=True)
class Redirect:
    payman_code: str | None
    status: str
    code: str | None
    payman_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("CREATED", "UPDATED")


def parse_redirect(url: str) -> Redirect:
    """Read the consent page's redirect back: ``payman_code``, ``status`` and ``code``."""
    q = parse_qs(urlsplit(url).query)

    def one(name: str) -> str | None:
        values = q.get(name)
        return values[-1] if values else None

    return Redirect(
        one("payman_code"), (one("status") or "").upper(), one("code"), one("payman_id")
    )


@dataclass(frozen=True)
class Contract:
    expiration_date: datetime
    max_daily_transaction_count: int
    max_transaction_amount: int | None = None
    max_monthly_transaction_count: int | None = None
    daily_max_transaction_amount: int | None = None
    start_date: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "expiration_date": _iso(self.expiration_date),
            "max_daily_transaction_count": self.max_daily_transaction_count,
        }
        for name in (
            "max_transaction_amount",
            "max_monthly_transaction_count",
            "daily_max_transaction_amount",
        ):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.start_date is not None:
            out["start_date"] = _iso(self.start_date)
        return out


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class PayResult:
    reference_id: str
    trace_id: str
    transaction_amount: int
    transaction_time: int
    batch_id: int
    commission_amount: int
    status: str
    details: list[dict[str, Any]] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)


def _parse(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        body = json_body(response)
        code = str(body.get("code", "")) if isinstance(body, dict) else ""
        message = str(body.get("error", "")) if isinstance(body, dict) else response.text
        raise PaymanError(code, message, status_code=response.status_code, body=body)
    return json_body(response)


def _location(response: httpx.Response) -> str:
    if response.status_code != 302:
        _parse(response)
        raise PaymanError(
            "", f"expected 302, got {response.status_code}", status_code=response.status_code
        )
    return response.headers["location"]


def _pay(response: httpx.Response) -> PayResult:
    b = _parse(response)
    return PayResult(
        b["reference_id"],
        b["trace_id"],
        int(b["transaction_amount"]),
        int(b["transaction_time"]),
        int(b["batch_id"]),
        int(b["commission_amount"]),
        b["status"],
        list(b.get("details") or []),
        b,
    )


class PaymanAuth:
    """Client-credentials tokens, renewed a minute before they expire."""

    def __init__(self, client_id: str, client_secret: str, app_key: str) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.app_key = app_key
        self.token: str | None = None
        self.expires_at = 0.0

    def _store(self, response: httpx.Response) -> None:
        body = _parse(response)
        self.token = body["access_token"]
        self.expires_at = time.time() + float(body.get("expires_in", 3600))

    def pending(self, now: float) -> Call[Any] | None:
        if self.token and now < self.expires_at - 60:
            return None
        return Call(
            "POST",
            "/oauth/token",
            self._store,
            data={
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "grant_type": "client_credentials",
            },
            authenticated=False,
        )

    def apply(self, call: Call[Any]) -> None:
        call.headers.setdefault("Authorization", f"Bearer {self.token}")
        call.headers.setdefault("App-Key", self.app_key)

    def rejected(self, response: httpx.Response) -> bool:
        if response.status_code == 401:
            self.token = None
            return True
        return False


class _Calls:
    """Every endpoint as a :class:`Call` (shared by the sync and async clients)."""

    def __init__(self, client_info: ClientInfo) -> None:
        self.info = client_info

    def _h(self, mobile: str | None = None, national_code: str | None = None) -> dict[str, str]:
        h = self.info.headers()
        if mobile:
            h["Mobile-no"] = mobile
        if national_code:
            h["National-code"] = national_code
        return h

    def create(
        self,
        *,
        bank_code: str,
        user_id: str,
        contract: Contract,
        redirect_url: str,
        trace_id: str,
        mobile: str,
        national_code: str | None = None,
        permission_ids: tuple[int, ...] = (1,),
    ) -> Call[str]:
        body = {
            "payman": {
                "bank_code": bank_code,
                "user_id": user_id,
                "permission_ids": list(permission_ids),
                "contract": contract.to_json(),
            },
            "redirect_url": redirect_url,
            "trace_id": trace_id,
        }
        return Call(
            "POST",
            "/v1/payman/create",
            _location,
            json=body,
            headers=self._h(mobile, national_code),
        )

    def update(
        self, *, payman_id: str, mobile: str, national_code: str | None = None, **fields: Any
    ) -> Call[str]:
        body = {"payman_id": payman_id}
        for k, v in fields.items():
            if v is not None:
                body[k] = _iso(v) if isinstance(v, datetime) else v
        return Call(
            "POST",
            "/v1/payman/update",
            _location,
            json=body,
            headers=self._h(mobile, national_code),
        )

    def get_id(self, payman_code: str) -> Call[dict[str, Any]]:
        return Call("GET", "/v1/payman/getId", _parse, params={"payman_code": payman_code})

    def create_trace(self, trace_id: str) -> Call[dict[str, Any]]:
        return Call(
            "GET",
            "/v1/payman/create/trace",
            _parse,
            params={"trace-id": trace_id},
            headers=self._h(),
        )

    def change_status(self, payman_id: str, new_status: str) -> Call[dict[str, Any]]:
        return Call(
            "POST",
            "/v1/payman/status/change",
            _parse,
            json={"new_status": new_status, "payman_id": payman_id},
            headers=self._h(),
        )

    def search(
        self, offset: int = 0, length: int = 20, filter: Mapping[str, Any] | None = None
    ) -> Call[dict[str, Any]]:
        return Call(
            "POST",
            "/v1/payman/search",
            _parse,
            json={"offset": offset, "length": length, "filter": dict(filter or {})},
            headers=self._h(),
        )

    def report(self, payman_id: str) -> Call[dict[str, Any]]:
        return Call("GET", f"/v1/payman/report/{payman_id}", _parse, headers=self._h())

    def pay(
        self,
        *,
        payman_id: str,
        amount: int,
        trace_id: str,
        description: str = "",
        client_transaction_date: datetime | None = None,
    ) -> Call[PayResult]:
        body: dict[str, Any] = {
            "trace_id": trace_id,
            "payman_id": payman_id,
            "amount": amount,
            "description": description,
        }
        if client_transaction_date is not None:
            body["client_transaction_date"] = _iso(client_transaction_date)
        return Call("POST", "/v1/payman/pay", _pay, json=body)

    def pay_trace(self, trace_id: str, date: str | None = None) -> Call[dict[str, Any]]:
        return Call(
            "GET",
            "/v1/payman/pay/trace",
            _parse,
            params={"trace-id": trace_id, "date": date},
            headers=self._h(),
        )

    def transactions(
        self, offset: int = 0, length: int = 20, filter: Mapping[str, Any] | None = None
    ) -> Call[dict[str, Any]]:
        return Call(
            "POST",
            "/v1/payman/transactions",
            _parse,
            json={"offset": offset, "length": length, "filter": dict(filter or {})},
            headers=self._h(),
        )

    def merchant_transactions(
        self,
        *,
        bank_code: str,
        start_date: datetime,
        end_date: datetime,
        offset: int = 0,
        length: int = 20,
    ) -> Call[list[dict[str, Any]]]:
        body = {
            "offset": offset,
            "length": length,
            "start_date": _iso(start_date),
            "end_date": _iso(end_date),
            "bank_code": bank_code,
        }
        return Call("POST", "/v1/reports/transactions", _parse, json=body, headers=self._h())

    def statistics(self, start_date: datetime, end_date: datetime) -> Call[dict[str, Any]]:
        return Call(
            "POST",
            "/v1/reports/transactions/statistics",
            _parse,
            json={"start_date": _iso(start_date), "end_date": _iso(end_date)},
            headers=self._h(),
        )

    def health(self) -> Call[list[dict[str, Any]]]:
        return Call("GET", "/v1/health/service", _parse, headers=self._h())

    def permissions(self) -> Call[list[dict[str, Any]]]:
        return Call("GET", "/v1/payman/creditor/permissions", _parse)


_METHODS = (
    "create",
    "update",
    "get_id",
    "create_trace",
    "change_status",
    "search",
    "report",
    "pay",
    "pay_trace",
    "transactions",
    "merchant_transactions",
    "statistics",
    "health",
    "permissions",
)


class PaymanClient:
    """Synchronous client: ``PaymanClient(base_url, client_id, client_secret, app_key)``."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        app_key: str,
        *,
        client_info: ClientInfo | None = None,
        **transport: Any,
    ) -> None:
        self.auth = PaymanAuth(client_id, client_secret, app_key)
        self._t = SyncTransport(base_url, auth=self.auth, **transport)
        self._calls = _Calls(client_info or ClientInfo())

    def __getattr__(self, name: str) -> Any:
        if name not in _METHODS:
            raise AttributeError(name)
        build = getattr(self._calls, name)
        return lambda *a, **kw: self._t.call(build(*a, **kw))

    def close(self) -> None:
        self._t.close()

    def __enter__(self) -> PaymanClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncPaymanClient:
    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        app_key: str,
        *,
        client_info: ClientInfo | None = None,
        **transport: Any,
    ) -> None:
        self.auth = PaymanAuth(client_id, client_secret, app_key)
        self._t = AsyncTransport(base_url, auth=self.auth, **transport)
        self._calls = _Calls(client_info or ClientInfo())

    def __getattr__(self, name: str) -> Any:
        if name not in _METHODS:
            raise AttributeError(name)
        build = getattr(self._calls, name)

        async def run(*a: Any, **kw: Any) -> Any:
            return await self._t.call(build(*a, **kw))

        return run

    async def aclose(self) -> None:
        await self._t.aclose()


__all__ = [
    "AsyncPaymanClient",
    "ClientInfo",
    "Contract",
    "PayResult",
    "PaymanClient",
    "PaymanError",
    "Redirect",
    "parse_redirect",
]
