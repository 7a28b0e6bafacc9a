"""Jibit's error catalogue: code, HTTP status and Persian message (as the document words them).

The document gives no HTTP status per code; pishkhan fixes one per code (see ``docs/jibit.md``):
400 for input and record-state errors, 401 for bad credentials or token pairs, 403 ``forbidden``
for a bad or expired access token, a disabled customer or a refused address, 404 where something
is not found, 429 for ``daily_limit.reached``, 503 where a provider or bank is unavailable and
500 for ``server.error``.

A few codes are worded differently in different tables of the document; :data:`OVERRIDES` keeps
the wording of the table of the service that answers. The text extracted from the document lost
its zero-width non-joiners (``رسیدهاید``); the messages here restore them (``رسیده‌اید``) and use
Persian ``ی``/``ک`` where the extraction shows Arabic ``ي``/``ك``.
"""

from __future__ import annotations

from typing import Final

import orjson

ZW: Final = "\u200c"

#: code -> (HTTP status, message)
CATALOGUE: Final[dict[str, tuple[int, str]]] = {
    # envelope / generic
    "invalid.request_body": (400, "بدنه درخواست خالی و یا نامعتبر است"),
    "forbidden": (403, "غیرمجاز (توکن نامعتبر است یا حساب کاربری شما غیرفعال است)"),
    "token.is_required": (401, "توکن الزامی است"),
    "handler.not_found": (404, "سازوکاری یافت نشد"),
    "daily_limit.reached": (429, f"در فراخوانی این سرویس به محدودیت روزانه رسیده{ZW}اید"),
    "providers.not_available": (503, f"در حال حاضر سرویس{ZW}دهنده{ZW}ای در دسترس نیست"),
    "server.error": (500, "خطای داخلی سرور"),
    # tokens
    "apiKey.is_required": (400, "کلید API الزامی است"),
    "apiKey.length_exceeded": (400, "طول کلید API بیش از حد مجاز است"),
    "secretKey.is_required": (400, "کلید رمز الزامی است"),
    "secretKey.length_exceeded": (400, "طول کلید رمز بیش از حد مجاز است"),
    "invalid.credentials": (401, "مشخصات وارد شده نامعتبر است"),
    "accessToken.is_required": (400, "توکن الزامی است"),
    "refreshToken.is_required": (400, "توکن بازیابی الزامی است"),
    "refreshToken.not_valid": (401, "توکن بازیابی نامعتبر است"),
    "invalid.tokens_pair": (401, f"جفت توکن{ZW}های ورودی نامعتبر هستند"),
    "client.not_found": (404, "سرویس گیرنده یافت نشد"),
    # cards
    "card.is_required": (400, "کارت الزامی است"),
    "card.not_valid": (400, "کارت نامعتبر است"),
    "parameters.not_acceptable": (400, "تنها یکی از مقادیر شبا، حساب و کدملی باید true تنظیم شوند"),
    "card.not_active": (400, "کارت غیرفعال است"),
    "card.is_expired": (400, "کارت منقضی شده است"),
    "card.account_number_not_valid": (400, "شماره حساب مربوط به کارت معتبر نیست"),
    "card.owner_not_authorized": (400, "هویت دارنده کارت در سیستم بانکی نامعتبر است"),
    "card.registered_as_lost": (400, "این کارت به عنوان کارت گم شده ثبت شده است"),
    # "عنوات" is the document's spelling, identical in every table.
    "card.registered_as_stolen": (400, "این کارت به عنوات کارت مسروقه ثبت شده است"),
    "card.source_bank_is_not_active": (503, "بانک مربوط به کارت فعال نیست"),
    "card.black_listed": (400, "استعلام این کارت امکان پذیر نیست"),
    "card.provider_is_not_active": (503, f"سرویس دهنده{ZW}ی مربوط به کارت غیرفعال است"),
    "card_type.not_supported": (400, f"نوع کارت ورودی پشتیبانی نمی{ZW}شود"),
    "conversion.failed": (
        400,
        f"به دلیل عدم گذراندن کنترل{ZW}های داخلی سیستم، تبدیل امکان پذیر نیست",
    ),
    # IBANs and deposits
    "iban.is_required": (400, "شبا الزامی است"),
    "iban.not_valid": (400, "شبا نامعتبر است"),
    "iban.not_found": (404, "شبا یافت نشد"),
    "iban.owner_not_found": (404, "صاحب شبا یافت نشد"),
    "bank.not_valid": (400, "بانک نامعتبر است"),
    "deposit.is_required": (400, "شماره حساب الزامی است"),
    "deposit.not_valid": (400, "شماره حساب نامعتبر است"),
    "iban.provided": (400, "به جای شماره حساب، شبا وارد شده است"),
    "card_number.provided": (400, "به جای شماره حساب، شماره کارت وارد شده است"),
    # identity
    "identity_info.not_found": (404, "اطلاعات هویتی یافت نشد"),
    "matching.unknown": (404, "تطابق نامشخص است"),
    "nationalCode.is_required": (400, "کدملی الزامی است"),
    "nationalCode.not_valid": (400, "کدملی نامعتبر است"),
    "nationalCode.black_listed": (400, "استعلام این کدملی امکان پذیر نیست"),
    "birthDate.is_required": (400, "تاریخ تولد الزامی است"),
    "birthDate.not_valid": (400, "تاریخ تولد نامعتبر است"),
    "mobileNumber.is_required": (400, "شماره موبایل الزامی است"),
    "mobileNumber.not_valid": (400, "شماره موبایل نامعتبر است"),
    "mobileNumber.black_listed": (400, "شماره موبایل مسدود شده است"),
    "query_parameters.not_provided": (400, "پارامترهای درخواست کافی نیست"),
    # postal
    "postalCode.not_valid": (400, "کدپستی نامعتبر است"),
    "postalCode.not_found": (404, "اطلاعات کدپستی یافت نشد"),
    # foreigners
    "fida.is_required": (400, "شناسه فراگیر (فیدا) الزامی است"),
    "fida.not_valid": (400, "شناسه فراگیر (فیدا) نامعتبر است"),
    "fida.black_listed": (400, "استعلام این شناسه فراگیر (فیدا) امکان پذیر نیست"),
    # guilds
    "corporation_code.is_required": (400, "شناسه صنفی الزامی است"),
    "corporation_code.not_valid": (400, "شناسه صنفی نامعتبر است"),
    "corporation_identity_info.not_found": (404, "اطلاعات صنفی یافت نشد"),
}

#: (service, code) -> message, where a service's table words a code differently.
OVERRIDES: Final[dict[tuple[str, str], str]] = {
    ("CARD_TO_DEPOSIT", "card.not_active"): "کارت فعال نیست",
    ("CARD_TO_DEPOSIT", "card.owner_not_authorized"): "هویت دارنده کارت نامعتبر است",
    ("CARD_TO_DEPOSIT", "card.source_bank_is_not_active"): "بانک مربوط به کارت غیرفعال است",
    ("CARD_TO_DEPOSIT", "card.provider_is_not_active"): (
        f"سرویس دهنده{ZW}ی مربوط به کارت فعال نیست"
    ),
    ("CARD_TO_IBAN", "card.not_active"): "کارت فعال نیست",
    ("CARD_TO_IBAN", "card.owner_not_authorized"): "هویت دارنده کارت نامعتبر است",
    ("CARD_TO_IBAN", "card.source_bank_is_not_active"): "بانک مربوط به کارت غیرفعال است",
    ("CARD_TO_IBAN", "card.provider_is_not_active"): f"سرویس دهنده{ZW}ی مربوط به کارت فعال نیست",
    ("CARD_TO_IBAN", "iban.owner_not_found"): "دارنده شبا یافت نشد",
    ("DEPOSIT_TO_IBAN", "iban.owner_not_found"): f"دارنده{ZW}ی شبا یافت نشد",
    ("DEPOSIT_TO_IBAN", "daily_limit.reached"): f"به محدودیت روزانه رسیده{ZW}اید",
    ("MATCHING_CARD_NATIONAL_CODE", "card.owner_not_authorized"): "هویت دارنده کارت نامعتبر است",
    ("MATCHING_CARD_NATIONAL_CODE", "card.source_bank_is_not_active"): (
        "بانک مربوط به کارت غیرفعال است"
    ),
    ("MATCHING_CARD_NATIONAL_CODE", "card.provider_is_not_active"): (
        f"سرویس دهنده{ZW}ی مربوط به کارت فعال نیست"
    ),
    ("MATCHING_DEPOSIT_NATIONAL_CODE", "iban.owner_not_found"): f"دارنده{ZW}ی شبا یافت نشد",
    # Not in this service's table; worded as its sibling's (deposit with national code).
    ("MATCHING_IBAN_NATIONAL_CODE", "iban.owner_not_found"): f"دارنده{ZW}ی شبا یافت نشد",
    ("MATCHING_DEPOSIT_NATIONAL_CODE", "card_number.provided"): (
        "بجای شماره حساب، شماره کارت وارد شده است"
    ),
    ("MATCHING_DEPOSIT_NATIONAL_CODE", "iban.provided"): "بجای شماره حساب، شبا وارد شده است",
    ("MATCHING_CARD_NAME", "card.owner_not_authorized"): "هویت دارنده کارت نامعتبر است",
    ("MATCHING_CARD_NAME", "card.provider_is_not_active"): (
        f"سرویس دهنده{ZW}ی مربوط به کارت فعال نیست"
    ),
    ("MATCHING_IBAN_NAME", "iban.owner_not_found"): "دارنده شبا یافت نشد",
    ("SANA", "mobileNumber.not_valid"): "شماره موبایل معتبر نیست",
}


class JibitError(Exception):
    """A documented Jibit error; the routes render it as ``{"code", "message"}``."""

    __slots__ = ("code",)

    def __init__(self, code: str) -> None:
        if code not in CATALOGUE:
            raise KeyError(f"undocumented Jibit error code {code!r}")
        super().__init__(code)
        self.code = code

    @property
    def status(self) -> int:
        return CATALOGUE[self.code][0]


def message_for(code: str, service: str | None = None) -> str:
    if service is not None:
        override = OVERRIDES.get((service, code))
        if override is not None:
            return override
    return CATALOGUE[code][1]


def error_body(code: str, service: str | None = None) -> bytes:
    return orjson.dumps({"code": code, "message": message_for(code, service)})


def status_of(code: str) -> int:
    return CATALOGUE[code][0]


def body_refusal(_scope: object, _status: int, _detail: str) -> tuple[bytes, bytes]:
    """The answer to a body too large (413) or too slow (408), see ``pishkhan.web.limits``:
    the document has no code for either; ``invalid.request_body`` ("the request body is empty
    or invalid") is its code for a body that cannot be taken."""
    return b"application/json", error_body("invalid.request_body")
