"""Legal-entity national id (شناسه ملی اشخاص حقوقی): 11 digits with a check digit.

Rules (in order):

1. canonicalize, then exactly 11 ASCII digits;
2. not one repeated digit, and positions 4-9 not all zero (as ``persian-tools`` (npm));
3. check digit: ``d = digit[9] + 2``; coefficients ``29, 27, 23, 19, 17`` repeating over
   the first ten digits; ``s = sum((digit[i] + d) * coef[i]) % 11``; the last digit is
   ``s % 10`` (a remainder of 10 gives 0).

Known property of the algorithm: remainders 0 and 10 share check digit 0, so a single
body-digit change that moves the remainder between them yields another valid id; every
other single-digit change is rejected.
"""

from __future__ import annotations

import random
from typing import Final

from .canonical import all_same_digit, canonical_digits, canonicalize, is_ascii_digits
from .errors import InvalidIdentifier

LENGTH: Final = 11
_COEFFICIENTS: Final = (29, 27, 23, 19, 17, 29, 27, 23, 19, 17)


def legal_id_remainder(first10: str) -> int:
    """``sum((digit[i] + digit[9] + 2) * coef[i]) % 11`` over the first ten digits."""
    d = int(first10[9]) + 2
    return sum((int(c) + d) * k for c, k in zip(first10, _COEFFICIENTS, strict=True)) % 11


def legal_id_check_digit(first10: str) -> str:
    """The check digit for ten body digits (ASCII ``0``-``9``)."""
    if len(first10) != 10 or not is_ascii_digits(first10):
        raise ValueError("legal id body must be 10 ASCII digits")
    return str(legal_id_remainder(first10) % 10)


def _problem(code: str) -> str | None:
    if all_same_digit(code):
        return "repeated digit"
    if code[3:9] == "000000":
        return "zero serial"
    if legal_id_check_digit(code[:10]) != code[10]:
        return "checksum"
    return None


def is_valid_legal_id(raw: str) -> bool:
    """True if ``raw`` (after canonicalization) is a valid legal-entity national id."""
    if not isinstance(raw, str):
        return False
    code = canonicalize(raw)
    return len(code) == LENGTH and is_ascii_digits(code) and _problem(code) is None


def parse_legal_id(raw: str) -> str:
    """The canonical 11-digit legal id, or :class:`InvalidIdentifier`."""
    code = canonical_digits(raw, LENGTH, "legal_id")
    problem = _problem(code)
    if problem is not None:
        raise InvalidIdentifier("legal_id", raw, problem)
    return code


def generate_legal_id(rng: random.Random) -> str:
    """A random valid legal id (issued ids start with ``1``; so do these)."""
    while True:
        body = "1" + f"{rng.randrange(10**9):09d}"
        code = body + legal_id_check_digit(body)
        if _problem(code) is None:
            return code
