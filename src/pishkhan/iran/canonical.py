"""Canonicalize user input before any identifier rule is applied.

Every identifier parser in this package first calls :func:`canonicalize`:

* Persian (``۰``-``۹``, U+06F0..U+06F9) and Arabic-Indic (``٠``-``٩``, U+0660..U+0669)
  digits become ASCII digits;
* white space of any kind, dashes (``-``, ``_``, the Unicode hyphens/dashes and minus
  sign, soft hyphen) and bidi / zero-width marks (U+061C, U+200B..U+200F,
  U+202A..U+202E, U+2060, U+2066..U+2069, U+FEFF) are removed;
* a leading ``ir`` in any letter case becomes ``IR`` (IBANs).

Nothing else is touched: the result still has to pass the exact-length ASCII checks of
the identifier in question. :func:`canonicalize` is idempotent.

Persian *letter* folding for names (Arabic ``ي``/``ك`` -> Persian ``ی``/``ک``) lives here
too (:func:`fold_arabic_letters`); the full name fold table is in :mod:`.names`.
"""

from __future__ import annotations

from typing import Final

from .errors import IdentifierKind, InvalidIdentifier

PERSIAN_DIGITS: Final = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_INDIC_DIGITS: Final = "٠١٢٣٤٥٦٧٨٩"

#: Bidi controls and zero-width characters removed from identifiers.
BIDI_AND_ZERO_WIDTH: Final = frozenset(
    {0x061C, 0x2060, 0xFEFF, *range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2066, 0x206A)}
)

#: Dash-like separators removed from identifiers.
DASHES: Final = frozenset(
    {ord("-"), ord("_"), 0x00AD, 0x2212, 0xFE58, 0xFE63, 0xFF0D, *range(0x2010, 0x2016)}
)

_WHITESPACE: Final = frozenset(c for c in range(0x3001) if chr(c).isspace())

_DIGIT_TABLE: Final[dict[int, int]] = {
    **{ord(ch): ord("0") + i for i, ch in enumerate(PERSIAN_DIGITS)},
    **{ord(ch): ord("0") + i for i, ch in enumerate(ARABIC_INDIC_DIGITS)},
}

_CANONICAL_TABLE: Final[dict[int, int | None]] = {
    **_DIGIT_TABLE,
    **dict.fromkeys(BIDI_AND_ZERO_WIDTH | DASHES | _WHITESPACE),
}

_ARABIC_LETTER_TABLE: Final[dict[int, int]] = {
    0x064A: 0x06CC,  # ARABIC LETTER YEH -> ARABIC LETTER FARSI YEH
    0x0649: 0x06CC,  # ARABIC LETTER ALEF MAKSURA -> FARSI YEH
    0x0643: 0x06A9,  # ARABIC LETTER KAF -> ARABIC LETTER KEHEH
}


def fold_digits(text: str) -> str:
    """Replace Persian and Arabic-Indic digits with ASCII digits; nothing else changes."""
    return text.translate(_DIGIT_TABLE)


def fold_arabic_letters(text: str) -> str:
    """Replace Arabic ``ي``/``ى``/``ك`` with Persian ``ی``/``ی``/``ک``."""
    return text.translate(_ARABIC_LETTER_TABLE)


def canonicalize(text: str) -> str:
    """Fold digits, drop separators and invisible marks, upper-case a leading ``ir``."""
    out = text.translate(_CANONICAL_TABLE)
    if len(out) >= 2 and out[0] in "iI" and out[1] in "rR" and out[:2] != "IR":
        out = "IR" + out[2:]
    return out


def is_ascii_digits(text: str) -> bool:
    """True when ``text`` is non-empty and made only of ``0``-``9``."""
    return text.isascii() and text.isdigit()


def digits_only(text: str) -> str | None:
    """The canonical form of ``text`` if it is made only of digits, else ``None``."""
    out = canonicalize(text)
    return out if is_ascii_digits(out) else None


def canonical_digits(raw: object, length: int, kind: IdentifierKind) -> str:
    """Canonicalize ``raw`` and require exactly ``length`` ASCII digits.

    Raises :class:`InvalidIdentifier` of ``kind`` otherwise (also for non-``str`` input).
    """
    if not isinstance(raw, str):
        raise InvalidIdentifier(kind, raw, "not a string")
    out = canonicalize(raw)
    if not is_ascii_digits(out):
        raise InvalidIdentifier(kind, raw, "not made of digits")
    if len(out) != length:
        raise InvalidIdentifier(kind, raw, f"expected {length} digits, got {len(out)}")
    return out


def all_same_digit(digits: str) -> bool:
    """True when every character of ``digits`` is the same (``"1111111111"``)."""
    return digits.count(digits[0]) == len(digits) if digits else False
