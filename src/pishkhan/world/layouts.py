"""Per-bank account-number layouts and the IBAN that goes with an account number.

No public rule maps an Iranian account number to its IBAN (the layout is bank-specific), so
the world owns one: an account number's digits, left-padded with zeros to 19, are the IBAN's
account part, after the bank's primary Sheba code. Account numbers keep the bank's familiar
display format (Saman ``849-40-4443333-1``, Pasargad ``207.8000.12345678.1``...), and that
formatted string is what Jibit's ``depositNumber`` and Payman's ``deposit_number`` carry.

Also here: fast check-digit helpers the generator uses in its inner loop (they agree with
:mod:`pishkhan.iran`, which the tests check).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Final

from pishkhan.iran import Bank, build_iban, by_key

# "N" is a random digit; any other digit is literal; anything else is a separator.
DEFAULT_LAYOUT: Final = "NNNNNNNNNNNNN"
LAYOUTS: Final[dict[str, str]] = {
    "MELLI": "NNNNNNNNNNNNN",
    "MELLAT": "NNNNNNNNNN",
    "TEJARAT": "NNNNNNNNNN",
    "SEPAH": "NNNNNNNNNNNNN",
    "KESHAVARZI": "NNNNNNNNNN",
    "SADERAT": "NNNNNNNNNN",
    "REFAH": "NNNNNNNNN",
    "MASKAN": "NNNNNNNNNNNNN",
    "POST": "NNNNNNNNNN",
    "SAMAN": "NNN-NN-NNNNNNN-N",
    "BLU": "2137NNNNNNNNNNNN-N",
    "PASARGAD": "NNN.NNNN.NNNNNNNN.N",
    "EGHTESAD_NOVIN": "NNN-NNN-NNNNNNN-N",
    "SINA": "NNN-NNN-NNNNNNN-N",
    "IRANZAMIN": "NNN-NNN-NNNNNNN-N",
    "SARMAYEH": "NNNN-NN-NNNNNNNN-N",
    "PARSIAN": "NNNNNNNNNNNNNN",
    "DAY": "NNNNNNNNNNNNN",
    "MEHR_IRAN": "NNN.NNNNNNNNN.N",
    "KARAFARIN": "NNNN-NNN-NNNNNNNN-N",
    "AYANDEH": "NNNNNNNNNNNNN",
    "SHAHR": "NNNNNNNNNNNNNN",
}


def layout_of(bank_key: str) -> str:
    return LAYOUTS.get(bank_key, DEFAULT_LAYOUT)


def account_digits(deposit_number: str) -> str:
    """The digits of an account number (separators dropped)."""
    return "".join(ch for ch in deposit_number if "0" <= ch <= "9")


def iban_for_deposit(bank: Bank, deposit_number: str) -> str:
    """The IBAN the world assigns to ``deposit_number`` at ``bank``.

    Raises :class:`ValueError` if the number has no digits or more than 19.
    """
    digits = account_digits(deposit_number)
    if not digits or len(digits) > 19:
        raise ValueError("an account number needs 1 to 19 digits")
    return build_iban(bank.sheba_code, digits.zfill(19))


def deposit_number_maker(bank_key: str) -> Callable[[random.Random], str]:
    """A function drawing random account numbers in ``bank_key``'s layout."""
    layout = layout_of(bank_key)
    n = layout.count("N")
    modulus = 10**n
    if layout == "N" * n:

        def plain(rng: random.Random) -> str:
            return f"{rng.randrange(modulus):0{n}d}"

        return plain
    parts: list[tuple[bool, str]] = []  # (is_random_run, literal)
    for ch in layout:
        is_random = ch == "N"
        if parts and parts[-1][0] == is_random and is_random:
            parts[-1] = (True, parts[-1][1] + ch)
        else:
            parts.append((is_random, ch))
    run_lengths = [len(text) for is_random, text in parts if is_random]

    def formatted(rng: random.Random) -> str:
        digits = f"{rng.randrange(modulus):0{n}d}"
        out: list[str] = []
        pos = 0
        runs = iter(run_lengths)
        for is_random, text in parts:
            if is_random:
                length = next(runs)
                out.append(digits[pos : pos + length])
                pos += length
            else:
                out.append(text)
        return "".join(out)

    return formatted


def format_deposit_number(bank_key: str, serial: int) -> str:
    """The account number in ``bank_key``'s layout whose random digits spell ``serial``.

    Used for fixtures (memorable numbers such as ``0000000000101``).
    """
    layout = layout_of(bank_key)
    n = layout.count("N")
    digits = iter(f"{serial:0{n}d}")
    return "".join(next(digits) if ch == "N" else ch for ch in layout)


# -- fast check digits ------------------------------------------------------------------

_NC_WEIGHTS: Final = (10, 9, 8, 7, 6, 5, 4, 3, 2)
_LUHN_DOUBLE: Final = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def national_code_from_body(body: str) -> str:
    """Append the mod-11 check digit to nine body digits."""
    s = 0
    for ch, w in zip(body, _NC_WEIGHTS, strict=False):
        s += (ord(ch) - 48) * w
    r = s % 11
    return body + str(r if r < 2 else 11 - r)


def luhn_complete(body: str) -> str:
    """Append the Luhn check digit to a 15-digit body."""
    total = 0
    # The check digit will be at the right; the body's rightmost digit is doubled.
    double = True
    for ch in reversed(body):
        d = ord(ch) - 48
        total += _LUHN_DOUBLE[d] if double else d
        double = not double
    return body + str((10 - total % 10) % 10)


def bank_key_exists(bank_key: str) -> bool:
    return by_key(bank_key) is not None
