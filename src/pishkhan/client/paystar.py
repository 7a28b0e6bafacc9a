"""Paystar open banking (core.paystar.ir): API keys and identity matching.

    from pishkhan.client.paystar import PaystarClient

    with PaystarClient(application_id="...", access_password="...", refresh_token="...") as ps:
        ps.match_mobile_national_id("0012345678", "09121234567").is_matched

The client obtains an API key through ``refresh-api-key`` on first use, caches it with its
expiry, refreshes it a minute before it expires and again whenever the server answers status 4
(wrong token) or 5 (expired token), retrying the call once. ``application_id`` and
``access_password`` are added to every matching call's JSON body, the key as
``Authorization: Bearer``. Any answer whose ``status`` is not 1 raises :class:`PaystarError`.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone
from typing import Any, Final, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from pishkhan.client.base import (
    ApiError,
    AsyncTransport,
    Call,
    SyncTransport,
    TransportError,
    json_body,
)

BASE_URL: Final = "https://core.paystar.ir"
REFRESH_PATH: Final = "/api/open-banking/application/refresh-api-key"
MATCHING_PATH: Final = "/api/open-banking/service/info-matching/"
EXPIRE_FORMAT: Final = "%Y-%m-%d %H:%M:%S"
KEY_LIFETIME: Final = 24 * 3600.0
#: Refresh this many seconds before the key's stated expiry.
REFRESH_MARGIN: Final = 60.0
#: Statuses that mean "get a new API key and try again".
TOKEN_STATUSES: Final = frozenset({4, 5})
M = TypeVar("M", bound=BaseModel)


def _tehran() -> Any:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Asia/Tehran")
    except Exception:  # no tz database (e.g. Windows without tzdata): Iran has no DST since 2022
        return timezone(timedelta(hours=3, minutes=30), "IRST")


TEHRAN: Final = _tehran()


class PaystarError(ApiError):
    """An answer whose ``status`` is not 1; ``status`` is the document's integer."""

    provider = "paystar"

    def __init__(self, status: int, message: str, *, status_code: int, body: Any = None) -> None:
        super().__init__(str(status), message, status_code=status_code, body=body)
        self.status = status


class ApiKey(BaseModel):
    model_config = ConfigDict(frozen=True)

    api_key: str
    api_key_expire_date: str

    @property
    def expires_at(self) -> datetime:
        """``api_key_expire_date`` read as Tehran time (an aware datetime)."""
        return datetime.strptime(self.api_key_expire_date, EXPIRE_FORMAT).replace(tzinfo=TEHRAN)


class MatchResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    is_matched: bool


def _data(response: httpx.Response) -> Any:
    body = json_body(response)
    if not isinstance(body, dict) or not isinstance(body.get("status"), int):
        raise TransportError(f"HTTP {response.status_code}: not a Paystar answer: {body!r:.200}")
    status = body["status"]
    if status != 1 or response.status_code >= 400:
        raise PaystarError(
            status,
            str(body.get("message") or ""),
            status_code=response.status_code,
            body=body,
        )
    return body.get("data")


def _parse(model: type[M], response: httpx.Response) -> M:
    """``data`` of a status-1 answer as ``model``; a malformed one is a :class:`TransportError`."""
    data = _data(response)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise TransportError(
            f"HTTP {response.status_code}: unexpected Paystar data: {data!r:.200}"
        ) from exc


def parse_api_key(response: httpx.Response) -> ApiKey:
    return _parse(ApiKey, response)


def parse_match(response: httpx.Response) -> MatchResult:
    return _parse(MatchResult, response)


def _as_date(value: date | str) -> str:
    return value.strftime("%Y-%m-%d") if isinstance(value, date) else value


class PaystarAuth:
    """Obtains, caches and renews the API key; adds the credentials to matching calls."""

    def __init__(
        self,
        application_id: str,
        access_password: str,
        refresh_token: str,
        *,
        api_key: str | None = None,
        api_key_expire_date: str | None = None,
        refresh_path: str = REFRESH_PATH,
        margin: float = REFRESH_MARGIN,
    ) -> None:
        self.application_id = application_id
        self.access_password = access_password
        self.refresh_token = refresh_token
        self.refresh_path = refresh_path
        self.margin = margin
        self.api_key: str | None = None
        self.refresh_at = 0.0  # time.time() after which the key is renewed before use
        self.refreshes = 0
        if api_key:
            stated = ApiKey(api_key=api_key, api_key_expire_date=api_key_expire_date or "")
            self.store(stated if api_key_expire_date else None, api_key, time.time())

    def store(self, key: ApiKey | None, raw: str, now: float) -> None:
        """Keep a key; when its stated expiry is unusable (or the clocks disagree), assume 24 h."""
        self.api_key = raw
        expires: float | None = None
        if key is not None:
            try:
                expires = key.expires_at.timestamp()
            except ValueError:
                expires = None
        if expires is None or expires - self.margin <= now:
            expires = now + KEY_LIFETIME
        self.refresh_at = expires - self.margin

    def forget(self) -> None:
        self.api_key = None
        self.refresh_at = 0.0

    def refresh_call(self) -> Call[ApiKey]:
        def parse(response: httpx.Response) -> ApiKey:
            key = parse_api_key(response)
            self.refreshes += 1
            self.store(key, key.api_key, time.time())
            return key

        return Call(
            "POST",
            self.refresh_path,
            parse,
            json={
                "application_id": self.application_id,
                "access_password": self.access_password,
                "refresh_token": self.refresh_token,
            },
            authenticated=False,
        )

    # -- the Auth protocol ---------------------------------------------------------------

    def pending(self, now: float) -> Call[Any] | None:
        if self.api_key is None or now >= self.refresh_at:
            return self.refresh_call()
        return None

    def apply(self, call: Call[Any]) -> None:
        call.headers["Authorization"] = f"Bearer {self.api_key}"
        call.json = {
            "application_id": self.application_id,
            "access_password": self.access_password,
            **(call.json or {}),
        }

    def rejected(self, response: httpx.Response) -> bool:
        if response.status_code != 200:
            return False
        try:
            status = response.json().get("status")
        except (ValueError, AttributeError):
            return False
        if status in TOKEN_STATUSES:
            self.forget()
            return True
        return False


def _match_call(service: str, fields: dict[str, Any]) -> Call[MatchResult]:
    return Call("POST", MATCHING_PATH + service, parse_match, json=fields)


def _mobile(national_id: str, mobile_number: str) -> Call[MatchResult]:
    return _match_call(
        "mobile-national-id", {"national_id": national_id, "mobile_number": mobile_number}
    )


def _card(national_id: str, card_number: str, birth_date: date | str) -> Call[MatchResult]:
    return _match_call(
        "card-national-id",
        {
            "national_id": national_id,
            "card_number": card_number,
            "birth_date": _as_date(birth_date),
        },
    )


def _iban(national_id: str, iban: str, birth_date: date | str) -> Call[MatchResult]:
    return _match_call(
        "iban-national-id",
        {"national_id": national_id, "iban": iban, "birth_date": _as_date(birth_date)},
    )


class PaystarClient:
    """Synchronous Paystar open-banking client."""

    def __init__(
        self,
        application_id: str,
        access_password: str,
        refresh_token: str,
        *,
        base_url: str = BASE_URL,
        api_key: str | None = None,
        api_key_expire_date: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        self.auth = PaystarAuth(
            application_id,
            access_password,
            refresh_token,
            api_key=api_key,
            api_key_expire_date=api_key_expire_date,
        )
        self._transport = SyncTransport(
            base_url, auth=self.auth, timeout=timeout, transport=transport, http_client=http_client
        )

    def refresh_api_key(self) -> ApiKey:
        """Get a new API key now (the client does this by itself when needed)."""
        return self._transport.call(self.auth.refresh_call())

    def match_mobile_national_id(self, national_id: str, mobile_number: str) -> MatchResult:
        """Shahkar: is ``mobile_number`` registered to ``national_id``?"""
        return self._transport.call(_mobile(national_id, mobile_number))

    def match_card_national_id(
        self, national_id: str, card_number: str, birth_date: date | str
    ) -> MatchResult:
        """Does the card belong to ``national_id`` born on (Gregorian) ``birth_date``?"""
        return self._transport.call(_card(national_id, card_number, birth_date))

    def match_iban_national_id(
        self, national_id: str, iban: str, birth_date: date | str
    ) -> MatchResult:
        """Does the IBAN's deposit belong to ``national_id`` born on ``birth_date``?"""
        return self._transport.call(_iban(national_id, iban, birth_date))

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> PaystarClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncPaystarClient:
    """Asynchronous Paystar open-banking client."""

    def __init__(
        self,
        application_id: str,
        access_password: str,
        refresh_token: str,
        *,
        base_url: str = BASE_URL,
        api_key: str | None = None,
        api_key_expire_date: str | None = None,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.auth = PaystarAuth(
            application_id,
            access_password,
            refresh_token,
            api_key=api_key,
            api_key_expire_date=api_key_expire_date,
        )
        self._transport = AsyncTransport(
            base_url, auth=self.auth, timeout=timeout, transport=transport, http_client=http_client
        )

    async def refresh_api_key(self) -> ApiKey:
        return await self._transport.call(self.auth.refresh_call())

    async def match_mobile_national_id(self, national_id: str, mobile_number: str) -> MatchResult:
        return await self._transport.call(_mobile(national_id, mobile_number))

    async def match_card_national_id(
        self, national_id: str, card_number: str, birth_date: date | str
    ) -> MatchResult:
        return await self._transport.call(_card(national_id, card_number, birth_date))

    async def match_iban_national_id(
        self, national_id: str, iban: str, birth_date: date | str
    ) -> MatchResult:
        return await self._transport.call(_iban(national_id, iban, birth_date))

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def __aenter__(self) -> AsyncPaystarClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


__all__ = [
    "ApiKey",
    "AsyncPaystarClient",
    "MatchResult",
    "PaystarAuth",
    "PaystarClient",
    "PaystarError",
]
