"""Client for Payman direct debit (Faraboom v1.6), against the live service or pishkhan.

Token handling (client credentials, renewed before expiry and once after a 401), the required
headers filled from one :class:`ClientInfo`, typed results, :class:`PaymanError` with the
document's string code, and :func:`parse_redirect` for the consent page's redirect back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .base import ApiError, AsyncTransport, Call, SyncTransport, TransportError, json_body


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


# -- typed results ----------------------------------------------------------------------------
#
# The document's snake_case names; dates the service answers in epoch milliseconds stay ``int``
# (``transaction_time``, ``contract.*_date``, ``registration_date``, ``end_of_current_month``);
# ``/v1/reports/transactions`` answers zone-less ISO (Tehran wall-clock), read as naive
# ``datetime``. Unknown fields are kept (``model_extra``) so a newer service does not break.


class Model(BaseModel):
    model_config = ConfigDict(extra="allow")


class ContractTerms(Model):
    expiration_date: int
    start_date: int | None = None
    max_daily_transaction_count: int | None = None
    max_monthly_transaction_count: int | None = None
    max_transaction_amount: int | None = None
    daily_max_transaction_amount: int | None = None
    currency: str = "IRR"


class OverDraft(Model):
    status: str


class PaymanId(Model):
    """``getId``: the mandate is active."""

    payman_id: str
    status: str
    deposit_number: str | None = None


class MandateTrace(Model):
    """``create/trace``; ``payman_id`` is ``None`` (and ``payman_code`` set) before getId."""

    bank_code: str
    user_id: str
    payman_id: str | None = None
    payman_code: str | None = None
    status: str
    internal_status: str | None = None
    permission_ids: list[int] = Field(default_factory=list)
    contract: ContractTerms
    card_number: str | None = None
    over_draft: OverDraft | None = None


class StatusChange(Model):
    payman_id: str
    status: str


class Mandate(Model):
    """One ``search`` result."""

    payman_id: str | None = None
    bank_code: str
    user_id: str
    status: str
    creditor_title: str | None = None
    trace_id: str | None = None
    creditor_id: str | None = None
    permission_ids: list[int] = Field(default_factory=list)
    registration_date: int | None = None
    contract: ContractTerms
    over_draft: OverDraft | None = None


class MandatePage(Model):
    results: list[Mandate]
    total_records: int


class MandateReport(Model):
    """``report/{payman_id}``."""

    payman_id: str
    expiration_date: int
    start_date: int
    remaining_daily_transactions_count: int
    remaining_monthly_transactions_count: int | None = None
    end_of_current_month: int
    max_daily_transactions_count: int
    max_monthly_transactions_count: int | None = None
    remaining_days: int
    remaining_daily_transaction_amount: int
    daily_transaction_max_amount: int
    status: str
    deposit_number: str | None = None


class PayDetail(Model):
    reference_id: str | None = None
    trace_id: str
    amount: int
    transaction_time: int
    transaction_detail_type: str
    status: str


class PayResult(Model):
    """``pay``: ``details`` and ``is_over_draft`` are always answered."""

    reference_id: str | None = None
    trace_id: str
    transaction_amount: int
    transaction_time: int
    batch_id: int | None = None
    commission_amount: int = 0
    status: str
    details: list[PayDetail] = Field(default_factory=list)
    is_over_draft: bool = False


class PayTrace(Model):
    """``pay/trace``; ``reconcile_status`` only once Payman's finance team reviewed it."""

    currency: str = "IRR"
    description: str | None = None
    destination_bank: str | None = None
    destination_deposit: str | None = None
    source_bank: str | None = None
    source_deposit: str | None = None
    transaction_type: str
    card_number: str | None = None
    error_type: str = ""
    reference_id: str | None = None
    trace_id: str
    transaction_amount: int
    transaction_time: int
    batch_id: int | None = None
    commission_amount: int = 0
    status: str
    is_over_draft: bool = False
    reconcile_status: int | None = None
    pay_id: str | None = None
    bill_id: str | None = None


class Transaction(Model):
    """One ``/v1/payman/transactions`` result."""

    commission_amount: int = 0
    currency: str = "IRR"
    description: str | None = None
    destination_bank_code: str | None = None
    reference_id: str | None = None
    source_bank_code: str | None = None
    status: str
    trace_id: str
    transaction_amount: int
    transaction_time: int
    payman_id: str
    transaction_type: str


class TransactionPage(Model):
    results: list[Transaction]
    total_records: int


class MerchantTransaction(Model):
    """One ``/v1/reports/transactions`` item (dates: naive Tehran wall-clock)."""

    commission_amount: int = 0
    currency: str = "IRR"
    description: str | None = None
    destination_bank: str | None = None
    reference_id: str | None = None
    source_bank: str | None = None
    status: str
    trace_id: str
    transaction_amount: int
    payman_id: str
    error_type: str = ""
    transaction_type: str
    server_date: datetime
    client_date: datetime | None = None
    reconcile_status: int | None = None


class BankStatistics(Model):
    bank_code: str
    transaction_type: str
    total_amount: int
    total_count: int
    count_of_over_draft_payment: int = 0


class Statistics(Model):
    total_amount: int
    total_records: int
    results: list[BankStatistics]


class ServiceHealth(Model):
    bank: str
    service: str
    status: str
    last_updated: int | None = None


class Permission(Model):
    id: int
    name: str
    display_name: str


M = TypeVar("M", bound=BaseModel)


def _parse(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        body = json_body(response)
        code = str(body.get("code", "")) if isinstance(body, dict) else ""
        message = str(body.get("error", "")) if isinstance(body, dict) else response.text
        raise PaymanError(code, message, status_code=response.status_code, body=body)
    return json_body(response)


def _model(model: type[M]) -> Callable[[httpx.Response], M]:
    def parse(response: httpx.Response) -> M:
        data = _parse(response)
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise TransportError(f"unexpected Payman response: {exc}") from exc

    return parse


def _models(model: type[M]) -> Callable[[httpx.Response], list[M]]:
    def parse(response: httpx.Response) -> list[M]:
        data = _parse(response)
        if not isinstance(data, list):
            raise TransportError("unexpected Payman response: expected a JSON array")
        try:
            return [model.model_validate(item) for item in data]
        except ValidationError as exc:
            raise TransportError(f"unexpected Payman response: {exc}") from exc

    return parse


def _location(response: httpx.Response) -> str:
    if response.status_code != 302:
        _parse(response)
        raise PaymanError(
            "", f"expected 302, got {response.status_code}", status_code=response.status_code
        )
    return response.headers["location"]


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

    def get_id(self, payman_code: str) -> Call[PaymanId]:
        return Call(
            "GET", "/v1/payman/getId", _model(PaymanId), params={"payman_code": payman_code}
        )

    def create_trace(self, trace_id: str) -> Call[MandateTrace]:
        return Call(
            "GET",
            "/v1/payman/create/trace",
            _model(MandateTrace),
            params={"trace-id": trace_id},
            headers=self._h(),
        )

    def change_status(self, payman_id: str, new_status: str) -> Call[StatusChange]:
        return Call(
            "POST",
            "/v1/payman/status/change",
            _model(StatusChange),
            json={"new_status": new_status, "payman_id": payman_id},
            headers=self._h(),
        )

    def search(
        self, offset: int = 0, length: int = 20, filter: Mapping[str, Any] | None = None
    ) -> Call[MandatePage]:
        return Call(
            "POST",
            "/v1/payman/search",
            _model(MandatePage),
            json={"offset": offset, "length": length, "filter": dict(filter or {})},
            headers=self._h(),
        )

    def report(self, payman_id: str) -> Call[MandateReport]:
        return Call(
            "GET", f"/v1/payman/report/{payman_id}", _model(MandateReport), headers=self._h()
        )

    def pay(
        self,
        *,
        payman_id: str,
        amount: int,
        trace_id: str,
        description: str = "",
        client_transaction_date: datetime | None = None,
        pay_id: str | None = None,
        commission_amount: int | None = None,
    ) -> Call[PayResult]:
        body: dict[str, Any] = {
            "trace_id": trace_id,
            "payman_id": payman_id,
            "amount": amount,
            "description": description,
        }
        if client_transaction_date is not None:
            body["client_transaction_date"] = _iso(client_transaction_date)
        if pay_id is not None:
            body["pay_id"] = pay_id
        if commission_amount is not None:
            body["commission_amount"] = commission_amount
        return Call("POST", "/v1/payman/pay", _model(PayResult), json=body)

    def pay_trace(self, trace_id: str, date: str | None = None) -> Call[PayTrace]:
        params = {"trace-id": trace_id}
        if date is not None:
            params["date"] = date
        return Call(
            "GET", "/v1/payman/pay/trace", _model(PayTrace), params=params, headers=self._h()
        )

    def transactions(
        self, offset: int = 0, length: int = 20, filter: Mapping[str, Any] | None = None
    ) -> Call[TransactionPage]:
        return Call(
            "POST",
            "/v1/payman/transactions",
            _model(TransactionPage),
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
        reconciled_after: datetime | None = None,
        reconcile_status: int | None = None,
    ) -> Call[list[MerchantTransaction]]:
        body: dict[str, Any] = {
            "offset": offset,
            "length": length,
            "start_date": _iso(start_date),
            "end_date": _iso(end_date),
            "bank_code": bank_code,
        }
        if reconciled_after is not None:
            body["reconciled_after"] = _iso(reconciled_after)
        if reconcile_status is not None:
            body["reconcile_status"] = reconcile_status
        return Call(
            "POST",
            "/v1/reports/transactions",
            _models(MerchantTransaction),
            json=body,
            headers=self._h(),
        )

    def statistics(self, start_date: datetime, end_date: datetime) -> Call[Statistics]:
        return Call(
            "POST",
            "/v1/reports/transactions/statistics",
            _model(Statistics),
            json={"start_date": _iso(start_date), "end_date": _iso(end_date)},
            headers=self._h(),
        )

    def health(self) -> Call[list[ServiceHealth]]:
        return Call("GET", "/v1/health/service", _models(ServiceHealth), headers=self._h())

    def permissions(self) -> Call[list[Permission]]:
        return Call("GET", "/v1/payman/creditor/permissions", _models(Permission))

    def probe(self) -> Call[bool]:
        return Call("HEAD", "/", lambda r: r.status_code == 200, authenticated=False)


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

    def close(self) -> None:
        self._t.close()

    def __enter__(self) -> PaymanClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
    ) -> str:
        """The consent page's URL (the answer's ``Location``); send the person there."""
        return self._t.call(
            self._calls.create(
                bank_code=bank_code,
                user_id=user_id,
                contract=contract,
                redirect_url=redirect_url,
                trace_id=trace_id,
                mobile=mobile,
                national_code=national_code,
                permission_ids=permission_ids,
            )
        )

    def update(
        self, *, payman_id: str, mobile: str, national_code: str | None = None, **fields: Any
    ) -> str:
        return self._t.call(
            self._calls.update(
                payman_id=payman_id, mobile=mobile, national_code=national_code, **fields
            )
        )

    def get_id(self, payman_code: str) -> PaymanId:
        return self._t.call(self._calls.get_id(payman_code))

    def create_trace(self, trace_id: str) -> MandateTrace:
        return self._t.call(self._calls.create_trace(trace_id))

    def change_status(self, payman_id: str, new_status: str) -> StatusChange:
        return self._t.call(self._calls.change_status(payman_id, new_status))

    def search(
        self, offset: int = 0, length: int = 20, filter: Mapping[str, Any] | None = None
    ) -> MandatePage:
        return self._t.call(self._calls.search(offset, length, filter))

    def report(self, payman_id: str) -> MandateReport:
        return self._t.call(self._calls.report(payman_id))

    def pay(
        self,
        *,
        payman_id: str,
        amount: int,
        trace_id: str,
        description: str = "",
        client_transaction_date: datetime | None = None,
        pay_id: str | None = None,
        commission_amount: int | None = None,
    ) -> PayResult:
        return self._t.call(
            self._calls.pay(
                payman_id=payman_id,
                amount=amount,
                trace_id=trace_id,
                description=description,
                client_transaction_date=client_transaction_date,
                pay_id=pay_id,
                commission_amount=commission_amount,
            )
        )

    def pay_trace(self, trace_id: str, date: str | None = None) -> PayTrace:
        return self._t.call(self._calls.pay_trace(trace_id, date))

    def transactions(
        self, offset: int = 0, length: int = 20, filter: Mapping[str, Any] | None = None
    ) -> TransactionPage:
        return self._t.call(self._calls.transactions(offset, length, filter))

    def merchant_transactions(
        self,
        *,
        bank_code: str,
        start_date: datetime,
        end_date: datetime,
        offset: int = 0,
        length: int = 20,
        reconciled_after: datetime | None = None,
        reconcile_status: int | None = None,
    ) -> list[MerchantTransaction]:
        return self._t.call(
            self._calls.merchant_transactions(
                bank_code=bank_code,
                start_date=start_date,
                end_date=end_date,
                offset=offset,
                length=length,
                reconciled_after=reconciled_after,
                reconcile_status=reconcile_status,
            )
        )

    def statistics(self, start_date: datetime, end_date: datetime) -> Statistics:
        return self._t.call(self._calls.statistics(start_date, end_date))

    def health(self) -> list[ServiceHealth]:
        return self._t.call(self._calls.health())

    def permissions(self) -> list[Permission]:
        return self._t.call(self._calls.permissions())

    def probe(self) -> bool:
        """``HEAD /``: True when the service answers 200."""
        return self._t.call(self._calls.probe())


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

    async def aclose(self) -> None:
        await self._t.aclose()

    async def __aenter__(self) -> AsyncPaymanClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def create(
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
    ) -> str:
        return await self._t.call(
            self._calls.create(
                bank_code=bank_code,
                user_id=user_id,
                contract=contract,
                redirect_url=redirect_url,
                trace_id=trace_id,
                mobile=mobile,
                national_code=national_code,
                permission_ids=permission_ids,
            )
        )

    async def update(
        self, *, payman_id: str, mobile: str, national_code: str | None = None, **fields: Any
    ) -> str:
        return await self._t.call(
            self._calls.update(
                payman_id=payman_id, mobile=mobile, national_code=national_code, **fields
            )
        )

    async def get_id(self, payman_code: str) -> PaymanId:
        return await self._t.call(self._calls.get_id(payman_code))

    async def create_trace(self, trace_id: str) -> MandateTrace:
        return await self._t.call(self._calls.create_trace(trace_id))

    async def change_status(self, payman_id: str, new_status: str) -> StatusChange:
        return await self._t.call(self._calls.change_status(payman_id, new_status))

    async def search(
        self, offset: int = 0, length: int = 20, filter: Mapping[str, Any] | None = None
    ) -> MandatePage:
        return await self._t.call(self._calls.search(offset, length, filter))

    async def report(self, payman_id: str) -> MandateReport:
        return await self._t.call(self._calls.report(payman_id))

    async def pay(
        self,
        *,
        payman_id: str,
        amount: int,
        trace_id: str,
        description: str = "",
        client_transaction_date: datetime | None = None,
        pay_id: str | None = None,
        commission_amount: int | None = None,
    ) -> PayResult:
        return await self._t.call(
            self._calls.pay(
                payman_id=payman_id,
                amount=amount,
                trace_id=trace_id,
                description=description,
                client_transaction_date=client_transaction_date,
                pay_id=pay_id,
                commission_amount=commission_amount,
            )
        )

    async def pay_trace(self, trace_id: str, date: str | None = None) -> PayTrace:
        return await self._t.call(self._calls.pay_trace(trace_id, date))

    async def transactions(
        self, offset: int = 0, length: int = 20, filter: Mapping[str, Any] | None = None
    ) -> TransactionPage:
        return await self._t.call(self._calls.transactions(offset, length, filter))

    async def merchant_transactions(
        self,
        *,
        bank_code: str,
        start_date: datetime,
        end_date: datetime,
        offset: int = 0,
        length: int = 20,
        reconciled_after: datetime | None = None,
        reconcile_status: int | None = None,
    ) -> list[MerchantTransaction]:
        return await self._t.call(
            self._calls.merchant_transactions(
                bank_code=bank_code,
                start_date=start_date,
                end_date=end_date,
                offset=offset,
                length=length,
                reconciled_after=reconciled_after,
                reconcile_status=reconcile_status,
            )
        )

    async def statistics(self, start_date: datetime, end_date: datetime) -> Statistics:
        return await self._t.call(self._calls.statistics(start_date, end_date))

    async def health(self) -> list[ServiceHealth]:
        return await self._t.call(self._calls.health())

    async def permissions(self) -> list[Permission]:
        return await self._t.call(self._calls.permissions())

    async def probe(self) -> bool:
        return await self._t.call(self._calls.probe())


__all__ = [
    "AsyncPaymanClient",
    "BankStatistics",
    "ClientInfo",
    "Contract",
    "ContractTerms",
    "Mandate",
    "MandatePage",
    "MandateReport",
    "MandateTrace",
    "MerchantTransaction",
    "OverDraft",
    "PayDetail",
    "PayResult",
    "PayTrace",
    "PaymanClient",
    "PaymanError",
    "PaymanId",
    "Permission",
    "Redirect",
    "ServiceHealth",
    "Statistics",
    "StatusChange",
    "Transaction",
    "TransactionPage",
    "parse_redirect",
]
