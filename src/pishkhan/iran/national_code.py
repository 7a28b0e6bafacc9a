"""Iranian national code (کد ملی): 10 digits with a mod-11 check digit.

Rules (in order):

1. canonicalize (see :mod:`.canonical`), then exactly 10 ASCII digits;
2. not one repeated digit (``1111111111`` passes the checksum but is not issued);
3. the six serial digits (positions 4-9) are not all zero (``xxx000000x``), as the
   npm/PyPI ``persian-tools`` validators also require;
4. check digit: ``s = sum(d[i] * (10 - i) for i in 0..8) % 11``; the last digit is
   ``s`` if ``s < 2`` else ``11 - s``.

Leading zeros are significant: short input is *not* zero-padded (unlike ``persian-tools``).

Known property of the algorithm: remainders 1 and 10 both give check digit 1, so a
single-digit change in the body that moves the remainder between 1 and 10 yields another
valid code; every other single-digit change is rejected.
"""

from __future__ import annotations

import random
from typing import Final

from .canonical import all_same_digit, canonical_digits, canonicalize, is_ascii_digits
from .errors import InvalidIdentifier

LENGTH: Final = 10
_WEIGHTS: Final = (10, 9, 8, 7, 6, 5, 4, 3, 2)


def national_code_remainder(first9: str) -> int:
    """``sum(d[i] * (10 - i)) % 11`` over the first nine digits."""
    return sum(int(d) * w for d, w in zip(first9, _WEIGHTS, strict=True)) % 11


def national_code_check_digit(first9: str) -> str:
    """The check digit for nine body digits (ASCII ``0``-``9``)."""
    if len(first9) != 9 or not is_ascii_digits(first9):
        raise ValueError("national code body must be 9 ASCII digits")
    r = national_code_remainder(first9)
    return str(r if r < 2 else 11 - r)


def _problem(code: str) -> str | None:
    if all_same_digit(code):
        return "repeated digit"
    if code[3:9] == "000000":
        return "zero serial"
    if national_code_check_digit(code[:9]) != code[9]:
        return "checksum"
    return None


def is_valid_national_code(raw: str) -> bool:
    """True if ``raw`` (after canonicalization) is a valid national code."""
    if not isinstance(raw, str):
        return False
    code = canonicalize(raw)
    return len(code) == LENGTH and is_ascii_digits(code) and _problem(code) is None


def parse_national_code(raw: str) -> str:
    """The canonical 10-digit national code, or :class:`InvalidIdentifier`."""
    code = canonical_digits(raw, LENGTH, "national_code")
    problem = _problem(code)
    if problem is not None:
        raise InvalidIdentifier("national_code", raw, problem)
    return code


def generate_national_code(rng: random.Random) -> str:
    """A random valid national code (never repeated digits, never a zero serial)."""
    while True:
        body = f"{rng.randrange(10**9):09d}"
        code = body + national_code_check_digit(body)
        if _problem(code) is None:
            return code
