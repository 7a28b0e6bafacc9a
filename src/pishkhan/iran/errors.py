"""The one exception raised for malformed Iranian identifiers."""

from __future__ import annotations

from typing import Literal

IdentifierKind = Literal[
    "national_code",
    "legal_id",
    "card",
    "iban",
    "postal_code",
    "mobile",
    "jalali_date",
    "gregorian_date",
]


class InvalidIdentifier(ValueError):
    """An input is not a well-formed identifier of the given kind.

    ``kind`` says which identifier was expected, ``reason`` is a short English
    explanation (``"length"``-style details, never the provider's wording), and
    ``value`` is the raw input as received (kept for logs and error bodies).
    """

    __slots__ = ("kind", "reason", "value")

    def __init__(self, kind: IdentifierKind, value: object, reason: str) -> None:
        super().__init__(f"invalid {kind}: {reason}")
        self.kind: IdentifierKind = kind
        self.value: object = value
        self.reason: str = reason
