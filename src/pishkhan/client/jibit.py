"""Jibit identity inquiry client (``napi.jibit.ir/ide``), sync and async.

    with JibitClient(api_key, secret_key) as jibit:            # the real service
        info = jibit.card("6037990000000014")
    jibit = JibitClient(key, secret, base_url="http://127.0.0.1:8000/ide")  # pishkhan

Tokens are handled for you: generated on first use, cached, refreshed shortly before the access
token expires and when a call is answered 403 (``forbidden``), and generated afresh when the
refresh fails. Errors raise :class:`JibitError` with ``code``, ``message``, ``status_code`` and
``track_id``. Inject a transport with ``transport=`` or a ready ``http_client=``.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any, Final, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from pishkhan.client.base import (
    ApiError,
    AsyncTransport,
    Call,
    SyncTransport,
    TransportError,
    json_body,
)

DEFAULT_BASE_URL: Final = "https://napi.jibit.ir/ide"
ACCESS_TTL: Final = 24 * 3600
REFRESH_TTL: Final = 48 * 3600
REFRESH_MARGIN: Final = 300.0  # refresh this many seconds before the access token expires
M = TypeVar("M", bound=BaseModel)


class JibitError(ApiError):
    """An error answered by Jibit (``{"code", "message"}``)."""

    provider = "jibit"


# -- models ----------------------------------------------------------------------------------


class Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")


class TokenPair(Model):
    access_token: str
    refresh_token: str


class CardInfo(Model):
    bank: str
    type: str
    owner_name: str | None = None
    deposit_number: str | None = None


class CardInquiry(Model):
    number: str
    card_info: CardInfo


class DepositInfo(Model):
    bank: str
    deposit_number: str


class CardToDeposit(Model):
    number: str
    type: str
    deposit_info: DepositInfo


class Owner(Model):
    first_name: str
    last_name: str


class IbanInfo(Model):
    bank: str
    deposit_number: str | None = None
    iban: str
    status: str
    owners: list[Owner] = []


class CardToIban(Model):
    number: str
    type: str
    iban_info: IbanInfo


class IbanInquiry(Model):
    value: str
    iban_info: IbanInfo


class DepositToIbanInfo(Model):
    bank: str
    iban: str


class DepositToIban(Model):
    number: str
    deposit_to_iban_info: DepositToIbanInfo = Field(alias="depositToIBANInfo")
    iban_info: IbanInfo | None = None


class AvailabilityReport(Model):
    availability_report: dict[str, str]

    def available(self, bank: str) -> bool:
        return self.availability_report.get(bank) == "AVAILABLE"


class Matching(Model):
    matched: bool


class AddressInfo(Model):
    postal_code: str
    address: str
    province: str | None = Field(default=None, alias="Province")
    district: str | None = None
    street: str | None = None
    no: str | None = None
    floor: str | None = None


class PostalInquiry(Model):
    code: str
    address_info: AddressInfo


class WgsInfo(Model):
    postal_code: str
    latitude: float
    longitude: float


class WgsInquiry(Model):
    code: str
    wgs_info: WgsInfo = Field(alias="wgsInfo")


class Similarity(Model):
    first_name_similarity_percentage: int | None = None
    last_name_similarity_percentage: int | None = None
    full_name_similarity_percentage: int | None = None
    father_name_similarity_percentage: int | None = None


class IdentificationDocument(Model):
    type: str | None = None
    code: str | None = None
    issue_date: str | None = None
    expiration_date: str | None = None


class ForeignerIdentityInfo(Model):
    fida: str
    first_name: str | None = None
    last_name: str | None = None
    father_name: str | None = None
    birth_date: str | None = None
    ancestor_name: str | None = None
    gender: str | None = None
    birth_place_country: str | None = None
    birth_place_city: str | None = None
    nationality: str | None = None
    identification_documents: list[IdentificationDocument] = []


class ForeignerInquiry(Model):
    fida: str
    foreigner_identity_info: ForeignerIdentityInfo


class CorporationIdentityInfo(Model):
    """Every documented field is optional (shown when available); see the extra fields too."""

    code: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    national_code: str | None = None
    postal_code: str | None = None
    address: str | None = None
    lic_type: str | None = None
    lic_issue_date: str | None = None
    lic_expire_date: str | None = None
    isic_name: str | None = None
    area: int | None = None
    provider_tracker_id: str | None = None


class CorporationInquiry(Model):
    code: str
    corporation_identity_info: CorporationIdentityInfo


class MilitaryServiceQualification(Model):
    national_code: str
    qualified: bool
    description: str | None = None
    provider_tracker_id: str | None = None


class MilitaryInquiry(Model):
    national_code: str
    military_service_qualification_info: MilitaryServiceQualification


class SanaInquiry(Model):
    national_code: str
    mobile_number: str
    registered: bool
    matched: bool


class Balance(Model):
    balance_type: str
    currency: str
    amount: int


class Balances(Model):
    balances: list[Balance]

    def amount(self, balance_type: str) -> int:
        return sum(b.amount for b in self.balances if b.balance_type == balance_type)


class ServiceUsage(Model):
    service: str = Field(alias="Service")
    persian_name: str | None = None
    count: int


class Report(Model):
    services: list[ServiceUsage] = []


class DailyReport(Model):
    report: list[Report]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for rep in self.report:
            for s in rep.services:
                out[s.service] = out.get(s.service, 0) + s.count
        return out


# -- parsing ---------------------------------------------------------------------------------


def _raise_for(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    track_id = response.headers.get("x-track-id")
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("code"), str):
        raise JibitError(
            body["code"],
            str(body.get("message") or ""),
            status_code=response.status_code,
            track_id=track_id,
            body=body,
        )
    raise JibitError(
        "http.error",
        response.text[:200],
        status_code=response.status_code,
        track_id=track_id,
        body=body,
    )


def _parser(model: type[M]) -> Any:
    def parse(response: httpx.Response) -> M:
        _raise_for(response)
        data = json_body(response)
        try:
            return model.model_validate(data)
        except ValueError as exc:
            raise TransportError(f"unexpected Jibit response: {exc}") from exc

    return parse


def _jwt_exp(token: str) -> float | None:
    """The ``exp`` claim if the token is a JWT; None otherwise (never verified here)."""
    try:
        body = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        return float(data["exp"])
    except (IndexError, ValueError, KeyError, TypeError):
        return None


# -- tokens ----------------------------------------------------------------------------------


class TokenAuth:
    """Generates a token pair, caches it, refreshes it, and falls back to generating."""

    def __init__(self, api_key: str, secret_key: str, *, margin: float = REFRESH_MARGIN) -> None:
        self.api_key = api_key
        self.secret_key = secret_key
        self.margin = margin
        self.access_token: str | None = None
        self.refresh_token: str | None = None
        self.access_expires_at = 0.0
        self.refresh_expires_at = 0.0
        self._now = 0.0

    def _store(self, pair: TokenPair, now: float) -> None:
        self.access_token = pair.access_token
        self.refresh_token = pair.refresh_token
        self.access_expires_at = _jwt_exp(pair.access_token) or now + ACCESS_TTL
        self.refresh_expires_at = _jwt_exp(pair.refresh_token) or now + REFRESH_TTL

    def forget(self) -> None:
        self.access_token = self.refresh_token = None
        self.access_expires_at = self.refresh_expires_at = 0.0

    def generate_call(self) -> Call[TokenPair]:
        now = self._now

        def parse(response: httpx.Response) -> TokenPair:
            pair: TokenPair = _parser(TokenPair)(response)
            self._store(pair, now)
            return pair

        return Call(
            "POST",
            "/v1/tokens/generate",
            parse,
            json={"apiKey": self.api_key, "secretKey": self.secret_key},
            authenticated=False,
        )

    def refresh_call(self) -> Call[TokenPair | None]:
        now = self._now

        def parse(response: httpx.Response) -> TokenPair | None:
            try:
                pair: TokenPair = _parser(TokenPair)(response)
            except JibitError:
                self.forget()  # the next pending() generates a new pair
                return None
            self._store(pair, now)
            return pair

        return Call(
            "POST",
            "/v1/tokens/refresh",
            parse,
            json={"accessToken": self.access_token, "refreshToken": self.refresh_token},
            authenticated=False,
        )

    def pending(self, now: float) -> Call[Any] | None:
        self._now = now
        if self.access_token is not None and now < self.access_expires_at - self.margin:
            return None
        if self.refresh_token is not None and now < self.refresh_expires_at - self.margin:
            return self.refresh_call()
        return self.generate_call()

    def apply(self, call: Call[Any]) -> None:
        call.headers["Authorization"] = f"Bearer {self.access_token}"

    def rejected(self, response: httpx.Response) -> bool:
        if response.status_code != 403:
            return False
        self.access_expires_at = 0.0  # refresh (or generate) before the retry
        return True


# -- endpoints -------------------------------------------------------------------------------


class Calls:
    """Each endpoint as a :class:`Call` (shared by the sync and async clients)."""

    @staticmethod
    def card(number: str) -> Call[CardInquiry]:
        return Call("GET", "/v1/cards", _parser(CardInquiry), params={"number": number})

    @staticmethod
    def card_to_deposit(number: str) -> Call[CardToDeposit]:
        return Call(
            "GET", "/v1/cards", _parser(CardToDeposit), params={"number": number, "deposit": True}
        )

    @staticmethod
    def card_to_iban(number: str) -> Call[CardToIban]:
        return Call(
            "GET", "/v1/cards", _parser(CardToIban), params={"number": number, "iban": True}
        )

    @staticmethod
    def card_to_iban_availability() -> Call[AvailabilityReport]:
        return Call(
            "GET",
            "/v1/services/availability",
            _parser(AvailabilityReport),
            params={"cardToIBAN": True},
        )

    @staticmethod
    def iban(value: str) -> Call[IbanInquiry]:
        return Call("GET", "/v1/ibans", _parser(IbanInquiry), params={"value": value})

    @staticmethod
    def deposit_to_iban(bank: str, number: str) -> Call[DepositToIban]:
        return Call(
            "GET",
            "/v1/deposits",
            _parser(DepositToIban),
            params={"bank": bank, "number": number, "iban": True},
        )

    @staticmethod
    def matching(**params: str) -> Call[Matching]:
        return Call("GET", "/v1/services/matching", _parser(Matching), params=params)

    @staticmethod
    def postal(code: str) -> Call[PostalInquiry]:
        return Call("GET", "/v1/services/postal", _parser(PostalInquiry), params={"code": code})

    @staticmethod
    def postal_wgs(code: str) -> Call[WgsInquiry]:
        return Call("GET", "/v1/services/postal/wgs", _parser(WgsInquiry), params={"code": code})

    @staticmethod
    def similarity(
        national_code: str,
        birth_date: str,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        full_name: str | None = None,
        father_name: str | None = None,
    ) -> Call[Similarity]:
        return Call(
            "GET",
            "/v1/services/identity/similarity",
            _parser(Similarity),
            params={
                "nationalCode": national_code,
                "birthDate": birth_date,
                "firstName": first_name,
                "lastName": last_name,
                "fullName": full_name,
                "fatherName": father_name,
            },
        )

    @staticmethod
    def foreigner(fida: str) -> Call[ForeignerInquiry]:
        return Call(
            "GET",
            "/v1/services/foreigners/identity",
            _parser(ForeignerInquiry),
            params={"fida": fida},
        )

    @staticmethod
    def corporation(code: str) -> Call[CorporationInquiry]:
        return Call(
            "GET",
            "/v1/services/corporation/identity",
            _parser(CorporationInquiry),
            params={"code": code},
        )

    @staticmethod
    def military_service(national_code: str) -> Call[MilitaryInquiry]:
        return Call(
            "GET",
            "/v1/services/social/msq",
            _parser(MilitaryInquiry),
            params={"nationalCode": national_code},
        )

    @staticmethod
    def sana(national_code: str, mobile_number: str) -> Call[SanaInquiry]:
        return Call(
            "GET",
            "/v1/services/social/sana",
            _parser(SanaInquiry),
            params={"nationalCode": national_code, "mobileNumber": mobile_number},
        )

    @staticmethod
    def balances() -> Call[Balances]:
        return Call("GET", "/v1/balances", _parser(Balances))

    @staticmethod
    def daily_report(year_month_day: str) -> Call[DailyReport]:
        return Call(
            "GET",
            "/v1/reports/daily",
            _parser(DailyReport),
            params={"yearMonthDay": year_month_day},
        )


def _card_nc(card_number: str, national_code: str, birth_date: str) -> Call[Matching]:
    return Calls.matching(cardNumber=card_number, nationalCode=national_code, birthDate=birth_date)


def _deposit_nc(
    bank: str, deposit_number: str, national_code: str, birth_date: str
) -> Call[Matching]:
    return Calls.matching(
        bank=bank, depositNumber=deposit_number, nationalCode=national_code, birthDate=birth_date
    )


def _iban_nc(iban: str, national_code: str, birth_date: str) -> Call[Matching]:
    return Calls.matching(iban=iban, nationalCode=national_code, birthDate=birth_date)


class JibitClient:
    """Synchronous Jibit client."""

    def __init__(
        self,
        api_key: str,
        secret_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.auth = TokenAuth(api_key, secret_key)
        self._t = SyncTransport(
            base_url.rstrip("/"),
            auth=self.auth,
            timeout=timeout,
            transport=transport,
            http_client=http_client,
            headers=headers,
        )

    def close(self) -> None:
        self._t.close()

    def __enter__(self) -> JibitClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def generate_token(self) -> TokenPair:
        self.auth._now = time.time()
        return self._t.call(self.auth.generate_call())

    def refresh_token(self) -> TokenPair:
        self.auth._now = time.time()
        call: Call[TokenPair] = Call(
            "POST",
            "/v1/tokens/refresh",
            _parser(TokenPair),
            json=self.auth.refresh_call().json,
            authenticated=False,
        )
        pair = self._t.call(call)
        self.auth._store(pair, self.auth._now)
        return pair

    def card(self, number: str) -> CardInquiry:
        return self._t.call(Calls.card(number))

    def card_to_deposit(self, number: str) -> CardToDeposit:
        return self._t.call(Calls.card_to_deposit(number))

    def card_to_iban(self, number: str) -> CardToIban:
        return self._t.call(Calls.card_to_iban(number))

    def card_to_iban_availability(self) -> AvailabilityReport:
        return self._t.call(Calls.card_to_iban_availability())

    def iban(self, value: str) -> IbanInquiry:
        return self._t.call(Calls.iban(value))

    def deposit_to_iban(self, bank: str, number: str) -> DepositToIban:
        return self._t.call(Calls.deposit_to_iban(bank, number))

    def match_card_national_code(
        self, card_number: str, national_code: str, birth_date: str
    ) -> bool:
        return self._t.call(_card_nc(card_number, national_code, birth_date)).matched

    def match_deposit_national_code(
        self, bank: str, deposit_number: str, national_code: str, birth_date: str
    ) -> bool:
        return self._t.call(_deposit_nc(bank, deposit_number, national_code, birth_date)).matched

    def match_iban_national_code(self, iban: str, national_code: str, birth_date: str) -> bool:
        return self._t.call(_iban_nc(iban, national_code, birth_date)).matched

    def match_card_name(self, card_number: str, name: str) -> bool:
        return self._t.call(Calls.matching(cardNumber=card_number, name=name)).matched

    def match_deposit_name(self, bank: str, deposit_number: str, name: str) -> bool:
        return self._t.call(
            Calls.matching(bank=bank, depositNumber=deposit_number, name=name)
        ).matched

    def match_iban_name(self, iban: str, name: str) -> bool:
        return self._t.call(Calls.matching(iban=iban, name=name)).matched

    def match_national_code_mobile(self, national_code: str, mobile_number: str) -> bool:
        return self._t.call(
            Calls.matching(nationalCode=national_code, mobileNumber=mobile_number)
        ).matched

    def postal(self, code: str) -> PostalInquiry:
        return self._t.call(Calls.postal(code))

    def postal_wgs(self, code: str) -> WgsInquiry:
        return self._t.call(Calls.postal_wgs(code))

    def similarity(
        self,
        national_code: str,
        birth_date: str,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        full_name: str | None = None,
        father_name: str | None = None,
    ) -> Similarity:
        return self._t.call(
            Calls.similarity(
                national_code,
                birth_date,
                first_name=first_name,
                last_name=last_name,
                full_name=full_name,
                father_name=father_name,
            )
        )

    def foreigner(self, fida: str) -> ForeignerInquiry:
        return self._t.call(Calls.foreigner(fida))

    def corporation(self, code: str) -> CorporationInquiry:
        return self._t.call(Calls.corporation(code))

    def military_service(self, national_code: str) -> MilitaryInquiry:
        return self._t.call(Calls.military_service(national_code))

    def sana(self, national_code: str, mobile_number: str) -> SanaInquiry:
        return self._t.call(Calls.sana(national_code, mobile_number))

    def balances(self) -> Balances:
        return self._t.call(Calls.balances())

    def daily_report(self, year_month_day: str) -> DailyReport:
        return self._t.call(Calls.daily_report(year_month_day))


class AsyncJibitClient:
    """Asynchronous Jibit client (the same methods as :class:`JibitClient`, awaited)."""

    def __init__(
        self,
        api_key: str,
        secret_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.auth = TokenAuth(api_key, secret_key)
        self._t = AsyncTransport(
            base_url.rstrip("/"),
            auth=self.auth,
            timeout=timeout,
            transport=transport,
            http_client=http_client,
            headers=headers,
        )

    async def aclose(self) -> None:
        await self._t.aclose()

    async def __aenter__(self) -> AsyncJibitClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def generate_token(self) -> TokenPair:
        self.auth._now = time.time()
        return await self._t.call(self.auth.generate_call())

    async def refresh_token(self) -> TokenPair:
        self.auth._now = time.time()
        call: Call[TokenPair] = Call(
            "POST",
            "/v1/tokens/refresh",
            _parser(TokenPair),
            json=self.auth.refresh_call().json,
            authenticated=False,
        )
        pair = await self._t.call(call)
        self.auth._store(pair, self.auth._now)
        return pair

    async def card(self, number: str) -> CardInquiry:
        return await self._t.call(Calls.card(number))

    async def card_to_deposit(self, number: str) -> CardToDeposit:
        return await self._t.call(Calls.card_to_deposit(number))

    async def card_to_iban(self, number: str) -> CardToIban:
        return await self._t.call(Calls.card_to_iban(number))

    async def card_to_iban_availability(self) -> AvailabilityReport:
        return await self._t.call(Calls.card_to_iban_availability())

    async def iban(self, value: str) -> IbanInquiry:
        return await self._t.call(Calls.iban(value))

    async def deposit_to_iban(self, bank: str, number: str) -> DepositToIban:
        return await self._t.call(Calls.deposit_to_iban(bank, number))

    async def match_card_national_code(
        self, card_number: str, national_code: str, birth_date: str
    ) -> bool:
        return (await self._t.call(_card_nc(card_number, national_code, birth_date))).matched

    async def match_deposit_national_code(
        self, bank: str, deposit_number: str, national_code: str, birth_date: str
    ) -> bool:
        return (
            await self._t.call(_deposit_nc(bank, deposit_number, national_code, birth_date))
        ).matched

    async def match_iban_national_code(
        self, iban: str, national_code: str, birth_date: str
    ) -> bool:
        return (await self._t.call(_iban_nc(iban, national_code, birth_date))).matched

    async def match_card_name(self, card_number: str, name: str) -> bool:
        return (await self._t.call(Calls.matching(cardNumber=card_number, name=name))).matched

    async def match_deposit_name(self, bank: str, deposit_number: str, name: str) -> bool:
        return (
            await self._t.call(Calls.matching(bank=bank, depositNumber=deposit_number, name=name))
        ).matched

    async def match_iban_name(self, iban: str, name: str) -> bool:
        return (await self._t.call(Calls.matching(iban=iban, name=name))).matched

    async def match_national_code_mobile(self, national_code: str, mobile_number: str) -> bool:
        return (
            await self._t.call(
                Calls.matching(nationalCode=national_code, mobileNumber=mobile_number)
            )
        ).matched

    async def postal(self, code: str) -> PostalInquiry:
        return await self._t.call(Calls.postal(code))

    async def postal_wgs(self, code: str) -> WgsInquiry:
        return await self._t.call(Calls.postal_wgs(code))

    async def similarity(
        self,
        national_code: str,
        birth_date: str,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        full_name: str | None = None,
        father_name: str | None = None,
    ) -> Similarity:
        return await self._t.call(
            Calls.similarity(
                national_code,
                birth_date,
                first_name=first_name,
                last_name=last_name,
                full_name=full_name,
                father_name=father_name,
            )
        )

    async def foreigner(self, fida: str) -> ForeignerInquiry:
        return await self._t.call(Calls.foreigner(fida))

    async def corporation(self, code: str) -> CorporationInquiry:
        return await self._t.call(Calls.corporation(code))

    async def military_service(self, national_code: str) -> MilitaryInquiry:
        return await self._t.call(Calls.military_service(national_code))

    async def sana(self, national_code: str, mobile_number: str) -> SanaInquiry:
        return await self._t.call(Calls.sana(national_code, mobile_number))

    async def balances(self) -> Balances:
        return await self._t.call(Calls.balances())

    async def daily_report(self, year_month_day: str) -> DailyReport:
        return await self._t.call(Calls.daily_report(year_month_day))


__all__ = [
    "DEFAULT_BASE_URL",
    "AsyncJibitClient",
    "JibitClient",
    "JibitError",
    "TokenAuth",
    "TokenPair",
]
