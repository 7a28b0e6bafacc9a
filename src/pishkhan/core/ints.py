"""Integers from the outside world: what fits the database, parsed one way everywhere.

SQLite's INTEGER and PostgreSQL's BIGINT hold 64-bit signed integers; PostgreSQL's INTEGER
columns hold 32-bit ones. A number a client sends that does not fit where it goes must be
refused as bad input (each surface in its own envelope), never reach the database, where it
fails as an overflow (a 500). JSON bodies parsed by ``orjson`` give Python ints up to 2**64-1
and floats beyond; query and path parameters give text.
"""

from __future__ import annotations

import re
from typing import Any, Final

INT32_MIN: Final = -(2**31)
INT32_MAX: Final = 2**31 - 1
INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1

#: The OpenAPI schema of a 64-bit integer parameter.
INT64_SCHEMA: Final = {
    "type": "integer",
    "format": "int64",
    "minimum": INT64_MIN,
    "maximum": INT64_MAX,
}

_DECIMAL: Final = re.compile(r"[+-]?[0-9]{1,19}")


def parse_int(text: str, *, lo: int = INT64_MIN, hi: int = INT64_MAX) -> int:
    """Decimal ASCII digits with an optional sign (no spaces, underscores or non-ASCII digits,
    which Python's ``int()`` would take), as an int in ``[lo, hi]``; ``ValueError`` otherwise."""
    if _DECIMAL.fullmatch(text) is None:
        raise ValueError(f"not an integer: {text[:40]!r}")
    value = int(text)
    if not lo <= value <= hi:
        raise ValueError(f"{value} is not between {lo} and {hi}")
    return value


def fits_int64(value: Any) -> bool:
    """True for an int (not a bool) that a 64-bit signed column holds."""
    return type(value) is int and INT64_MIN <= value <= INT64_MAX


def ints_beyond_int64(value: Any, path: str = "") -> list[str]:
    """The paths (``a.b[2]``) of the ints in a nested dict/list value that do not fit 64 bits."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(ints_beyond_int64(item, f"{path}.{key}" if path else str(key)))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found.extend(ints_beyond_int64(item, f"{path}[{i}]"))
    elif type(value) is int and not fits_int64(value):
        found.append(path)
    return found
