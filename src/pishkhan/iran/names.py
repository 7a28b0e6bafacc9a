"""Persian name normalization and similarity scores for name matching.

:func:`normalize_name` applies this fold table:

* Unicode NFKC first (Arabic presentation forms -> base letters);
* Arabic ``ي``/``ى`` -> ``ی``, ``ك`` -> ``ک``;
* ``آ أ إ ٱ`` -> ``ا``; ``ؤ`` -> ``و``; ``ئ`` -> ``ی``; ``ة ۀ ە`` -> ``ه``;
* ZWNJ (U+200C) -> space;
* diacritics (U+064B..U+065F, U+0670), kashida (U+0640) and bidi / zero-width marks
  are dropped;
* Persian/Arabic digits -> ASCII, Latin letters case-folded;
* runs of white space collapse to one space, ends trimmed.

:func:`similarity` is ``max(ratio(key_a, key_b), token_sort_ratio(a, b))`` on the
normalized names, where ``key`` is the name with spaces removed (so ``محمدرضا`` and
``محمد رضا`` score 100, and so do swapped first/last names), rounded half-up to an int
0..100. Two empty names score 100; one empty name scores 0.

Measured with rapidfuzz 3: ``محمد`` vs ``محمود`` scores **89** with this formula
(``ratio`` is 88.9); the "95" sometimes quoted for that pair is Jaro-Winkler's score
(0.953), not this formula's. Thresholds must be chosen with 89.
"""

from __future__ import annotations

import unicodedata
from typing import Final

from rapidfuzz import fuzz

from .canonical import ARABIC_INDIC_DIGITS, BIDI_AND_ZERO_WIDTH, PERSIAN_DIGITS

_ZWNJ: Final = 0x200C

_FOLD: Final[dict[int, int | str | None]] = {
    # Arabic letters -> Persian
    0x064A: "ی",  # ي
    0x0649: "ی",  # ى
    0x0643: "ک",  # ك
    # alef variants
    0x0622: "ا",  # آ
    0x0623: "ا",  # أ
    0x0625: "ا",  # إ
    0x0671: "ا",  # ٱ
    0x0624: "و",  # ؤ
    0x0626: "ی",  # ئ
    0x0629: "ه",  # ة
    0x06C0: "ه",  # ۀ
    0x06D5: "ه",  # ە
    # diacritics, superscript alef, kashida
    **dict.fromkeys(range(0x064B, 0x0660)),
    0x0670: None,
    0x0640: None,
    # bidi and zero-width marks (ZWNJ becomes a space below)
    **dict.fromkeys(c for c in BIDI_AND_ZERO_WIDTH if c != _ZWNJ),
    _ZWNJ: " ",
    # digits
    **{ord(ch): str(i) for i, ch in enumerate(PERSIAN_DIGITS)},
    **{ord(ch): str(i) for i, ch in enumerate(ARABIC_INDIC_DIGITS)},
}


def normalize_name(name: str) -> str:
    """The folded form of a (Persian or Latin) name, for comparison and storage keys."""
    folded = unicodedata.normalize("NFKC", name).translate(_FOLD).casefold()
    return " ".join(folded.split())


def name_key(name: str) -> str:
    """The normalized name with all spaces removed (``محمد رضا`` -> ``محمدرضا``)."""
    return normalize_name(name).replace(" ", "")


def names_equal(a: str, b: str) -> bool:
    """True if the names are identical after folding (spaces ignored)."""
    return name_key(a) == name_key(b)


def similarity(a: str, b: str) -> int:
    """Similarity percentage 0..100 of two names (see module docstring)."""
    na, nb = normalize_name(a), normalize_name(b)
    if not na or not nb:
        return 100 if na == nb else 0
    score = max(
        fuzz.ratio(na.replace(" ", ""), nb.replace(" ", "")),
        fuzz.token_sort_ratio(na, nb),
    )
    return int(score + 0.5)
