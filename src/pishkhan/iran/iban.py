"""Iranian IBAN (شبا): ``IR`` + 2 check digits + 3-digit bank code + 19 digits.

Input is canonicalized; both ``IR`` + 24 digits and the bare 24 digits are accepted and
the canonical form is always ``IR`` + 24 digits. Validation is ISO 7064 mod 97-10
(ISO 13616): the rearranged number modulo 97 is 1, and the check digits are in
``02``..``98`` (the only values the algorithm produces; ``00``/``01``/``99`` are rejected
even where the modulus would accept them). An IBAN whose bank code is not in the table
is still valid; its ``bank`` is ``None``.

The 19-digit account part's layout is bank-specific and not modelled here; a synthetic
generator may choose any layout (see :func:`build_iban`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final

from .banks import Bank, by_sheba_code
from .canonical import canonicalize, is_ascii_digits
from .errors import InvalidIdentifier

LENGTH: Final = 26
COUNTRY: Final = "IR"
# "IR" as ISO 13616 digits: I=18, R=27.
_COUNTRY_DIGITS: Final = "1827"


@dataclass(frozen=True, slots=True)
class Iban:
    """A parsed IBAN and the bank its code belongs to (``None`` if unknown)."""

    value: str
    bank: Bank | None

    @property
    def check_digits(self) -> str:
        return self.value[2:4]

    @property
    def bank_code(self) -> str:
        """The three-digit Sheba bank code (IBAN positions 5-7)."""
        return self.value[4:7]

    @property
    def account_part(self) -> str:
        """The 19 digits after the bank code."""
        return self.value[7:]


def _mod97(digits: str) -> int:
    return int(digits) % 97


def iban_check_digits(bank_code: str, account_part: str) -> str:
    """The two check digits for a 3-digit bank code and a 19-digit account part."""
    bban = bank_code + account_part
    if len(bank_code) != 3 or len(account_part) != 19 or not is_ascii_digits(bban):
        raise ValueError("bank code must be 3 digits and account part 19 digits")
    return f"{98 - _mod97(bban + _COUNTRY_DIGITS + '00'):02d}"


def build_iban(bank_code: str, account_part: str) -> str:
    """``IR`` + check digits + bank code + account part."""
    return COUNTRY + iban_check_digits(bank_code, account_part) + bank_code + account_part


def _normalize(raw: str) -> str | None:
    value = canonicalize(raw)
    if len(value) == 24 and is_ascii_digits(value):
        value = COUNTRY + value
    if len(value) != LENGTH or not value.startswith(COUNTRY) or not is_ascii_digits(value[2:]):
        return None
    return value


def _checksum_ok(value: str) -> bool:
    return "02" <= value[2:4] <= "98" and _mod97(value[4:] + _COUNTRY_DIGITS + value[2:4]) == 1


def is_valid_iban(raw: str) -> bool:
    """True if ``raw`` (after canonicalization) is a valid Iranian IBAN."""
    if not isinstance(raw, str):
        return False
    value = _normalize(raw)
    return value is not None and _checksum_ok(value)


def parse_iban(raw: str) -> Iban:
    """The canonical IBAN (``IR`` + 24 digits) and its bank, or :class:`InvalidIdentifier`."""
    if not isinstance(raw, str):
        raise InvalidIdentifier("iban", raw, "not a string")
    value = _normalize(raw)
    if value is None:
        raise InvalidIdentifier("iban", raw, "expected IR + 24 digits")
    if not _checksum_ok(value):
        raise InvalidIdentifier("iban", raw, "checksum")
    return Iban(value=value, bank=by_sheba_code(value[4:7]))


def generate_iban(rng: random.Random, bank: Bank) -> str:
    """A random valid IBAN with ``bank``'s primary Sheba code."""
    return build_iban(bank.sheba_code, f"{rng.randrange(10**19):019d}")
