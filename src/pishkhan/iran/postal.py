"""Iranian postal code (کد پستی): 10 digits and the widely used soft rule.

Rule: canonicalize, then ``^(?!(\\d)\\1{3})[13-9]{4}[1346-9][013-9]{5}$``: no 0 or 2 in the
first five digits, no 5 in the fifth, no 2 in the last five, and the first four digits
not all the same. There is no checksum. ``12345-67890`` style input is accepted (the dash
is stripped by canonicalization).
"""

from __future__ import annotations

import random
import re
from typing import Final

from .canonical import canonical_digits, canonicalize
from .errors import InvalidIdentifier

LENGTH: Final = 10
POSTAL_CODE_RE: Final = re.compile(r"(?!(\d)\1{3})[13-9]{4}[1346-9][013-9]{5}", re.ASCII)

_FIRST4: Final = "1346789"
_FIFTH: Final = "134679"
_LAST5: Final = "013456789"


def is_valid_postal_code(raw: str) -> bool:
    """True if ``raw`` (after canonicalization) matches the postal-code rule."""
    if not isinstance(raw, str):
        return False
    return POSTAL_CODE_RE.fullmatch(canonicalize(raw)) is not None


def parse_postal_code(raw: str) -> str:
    """The canonical 10-digit postal code, or :class:`InvalidIdentifier`."""
    code = canonical_digits(raw, LENGTH, "postal_code")
    if POSTAL_CODE_RE.fullmatch(code) is None:
        raise InvalidIdentifier("postal_code", raw, "pattern")
    return code


def generate_postal_code(rng: random.Random) -> str:
    """A random postal code that satisfies the rule."""
    while True:
        head = "".join(rng.choice(_FIRST4) for _ in range(4))
        if head.count(head[0]) != 4:
            break
    return head + rng.choice(_FIFTH) + "".join(rng.choice(_LAST5) for _ in range(5))
