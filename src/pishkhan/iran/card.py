"""Iranian bank card numbers (شماره کارت): 16 digits, Luhn, BIN -> bank.

A card whose BIN is not in the bank table is still a valid card; its ``bank`` is
``None`` (Jibit shows ``UNKNOWN``, see :func:`.banks.jibit_id_of`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final

from .banks import Bank, by_bin
from .canonical import canonical_digits, canonicalize, is_ascii_digits
from .errors import InvalidIdentifier

LENGTH: Final = 16


@dataclass(frozen=True, slots=True)
class Card:
    """A parsed card number and the bank its BIN belongs to (``None`` if unknown)."""

    number: str
    bank: Bank | None

    @property
    def bin(self) -> str:
        return self.number[:6]

    @property
    def masked(self) -> str:
        """``603799******1234``-style mask (first six and last four digits kept)."""
        return f"{self.number[:6]}{'*' * 6}{self.number[-4:]}"


def luhn_ok(digits: str) -> bool:
    """True if the ASCII digit string passes the Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_check_digit(body: str) -> str:
    """The Luhn check digit to append to ``body`` (ASCII digits)."""
    if not is_ascii_digits(body):
        raise ValueError("card body must be ASCII digits")
    for d in "0123456789":
        if luhn_ok(body + d):
            return d
    raise AssertionError("unreachable: one Luhn digit always fits")


def is_valid_card_number(raw: str) -> bool:
    """True if ``raw`` (after canonicalization) is 16 digits passing Luhn."""
    if not isinstance(raw, str):
        return False
    number = canonicalize(raw)
    return len(number) == LENGTH and is_ascii_digits(number) and luhn_ok(number)


def parse_card_number(raw: str) -> Card:
    """The canonical card and its bank, or :class:`InvalidIdentifier`."""
    number = canonical_digits(raw, LENGTH, "card")
    if not luhn_ok(number):
        raise InvalidIdentifier("card", raw, "checksum")
    return Card(number=number, bank=by_bin(number))


def generate_card_number(rng: random.Random, bank: Bank) -> str:
    """A random valid card number on one of ``bank``'s BINs."""
    if not bank.bins:
        raise ValueError(f"bank {bank.key} has no BIN")
    body = rng.choice(bank.bins) + f"{rng.randrange(10**9):09d}"
    return body + luhn_check_digit(body)
