"""Input parsing for the Jibit surface: tolerant where real clients need it, strict otherwise.

Parameters arrive as a flat mapping (query string, JSON body, or both: the query wins). A value
that is missing, ``null``, empty or the literal string ``None`` is absent. Identifiers are
validated with :mod:`pishkhan.iran` (checksums, Luhn, mod-97, Jalali dates).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from pishkhan import iran
from pishkhan.iran import InvalidIdentifier
from pishkhan.iran.canonical import fold_digits
from pishkhan.providers.jibit.errors import JibitError

Params = Mapping[str, Any]

_ABSENT: Final = frozenset({"", "None", "none", "null"})
_TRUE: Final = frozenset({"true", "True", "TRUE", "1", "yes"})
_FALSE: Final = frozenset({"false", "False", "FALSE", "0", "no", "", "None", "null"})
_DEPOSIT_RE: Final = re.compile(r"[0-9][0-9./-]{0,39}", re.ASCII)
_DIGITS10: Final = re.compile(r"[0-9]{10}", re.ASCII)
_FIDA_RE: Final = re.compile(r"[0-9]{6,16}", re.ASCII)
MAX_NAME: Final = 200


def get(params: Params, key: str) -> str | None:
    """The parameter as a stripped string, or None when absent."""
    value = params.get(key)
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).strip()
    return None if text in _ABSENT else text


def flag(params: Params, key: str) -> bool:
    """A boolean flag: true/"true"/1 or false/"false"/0/empty; anything else is a bad request."""
    value = params.get(key)
    if value is None or value is False:
        return False
    if value is True:
        return True
    if isinstance(value, int | float):
        if value in (0, 1):
            return bool(value)
        raise JibitError("invalid.request_body")
    text = str(value).strip()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise JibitError("invalid.request_body")


def card_number(raw: str | None) -> iran.Card:
    if raw is None:
        raise JibitError("card.is_required")
    try:
        return iran.parse_card_number(raw)
    except InvalidIdentifier:
        raise JibitError("card.not_valid") from None


def iban(raw: str | None) -> iran.Iban:
    if raw is None:
        raise JibitError("iban.is_required")
    try:
        return iran.parse_iban(raw)
    except InvalidIdentifier:
        raise JibitError("iban.not_valid") from None


def national_code(raw: str | None) -> str:
    if raw is None:
        raise JibitError("nationalCode.is_required")
    try:
        return iran.parse_national_code(raw)
    except InvalidIdentifier:
        raise JibitError("nationalCode.not_valid") from None


def birth_date(raw: str | None) -> str:
    """A Jalali birth date (``yyyyMMdd``; ``yyyy/MM/dd`` tolerated) in compact form."""
    if raw is None:
        raise JibitError("birthDate.is_required")
    try:
        return iran.parse_jalali(raw).compact()
    except InvalidIdentifier:
        raise JibitError("birthDate.not_valid") from None


def mobile(raw: str | None) -> str:
    if raw is None:
        raise JibitError("mobileNumber.is_required")
    try:
        return iran.normalize_mobile(raw)
    except InvalidIdentifier:
        raise JibitError("mobileNumber.not_valid") from None


def bank(raw: str | None) -> tuple[str, tuple[str, ...]]:
    """A Jibit bank id (upper case as documented; lower case tolerated) and its table rows."""
    if raw is None:
        raise JibitError("bank.not_valid")
    jibit_id = raw.strip().upper()
    if iran.by_jibit_id(jibit_id) is None:
        raise JibitError("bank.not_valid")
    return jibit_id, tuple(b.key for b in iran.banks_for_jibit_id(jibit_id))


def deposit_number(raw: str | None) -> str:
    """An account number as the bank formats it; an IBAN or a card number is refused."""
    if raw is None:
        raise JibitError("deposit.is_required")
    text = fold_digits(raw).replace(" ", "")
    if iran.is_valid_iban(text):
        raise JibitError("iban.provided")
    if len(text) == 16 and text.isascii() and text.isdigit() and iran.luhn_ok(text):
        raise JibitError("card_number.provided")
    if _DEPOSIT_RE.fullmatch(text) is None or sum(ch.isdigit() for ch in text) > 19:
        raise JibitError("deposit.not_valid")
    return text


def postal_code(raw: str | None) -> str:
    if raw is None:
        raise JibitError("postalCode.not_valid")
    try:
        return iran.parse_postal_code(raw)
    except InvalidIdentifier:
        raise JibitError("postalCode.not_valid") from None


def fida(raw: str | None) -> str:
    if raw is None:
        raise JibitError("fida.is_required")
    text = fold_digits(raw).replace(" ", "")
    if _FIDA_RE.fullmatch(text) is None:
        raise JibitError("fida.not_valid")
    return text


def corporation_code(raw: str | None) -> str:
    if raw is None:
        raise JibitError("corporation_code.is_required")
    text = fold_digits(raw).replace(" ", "")
    if _DIGITS10.fullmatch(text) is None:
        raise JibitError("corporation_code.not_valid")
    return text


def name(raw: str | None) -> str | None:
    if raw is None:
        return None
    if len(raw) > MAX_NAME:
        raise JibitError("invalid.request_body")
    return raw
