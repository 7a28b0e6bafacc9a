import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pishkhan.iran import (
    InvalidIdentifier,
    canonical_digits,
    canonicalize,
    digits_only,
    fold_arabic_letters,
    fold_digits,
    is_ascii_digits,
)

PROPERTY = settings(max_examples=200, deadline=None)

PERSIAN = "۰۱۲۳۴۵۶۷۸۹"
ARABIC = "٠١٢٣٤٥٦٧٨٩"
NOISE = [
    " ",
    "\t",
    "\u00a0",
    "-",
    "_",
    "\u2013",
    "\u200c",
    "\u200d",
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\ufeff",
]


def test_fold_digits_persian_and_arabic() -> None:
    assert fold_digits(PERSIAN) == "0123456789"
    assert fold_digits(ARABIC) == "0123456789"
    assert fold_digits("a۱b٢c3") == "a1b2c3"


def test_fold_arabic_letters() -> None:
    assert fold_arabic_letters("علي كريمي") == "علی کریمی"


def test_canonicalize_strips_separators_and_marks() -> None:
    assert canonicalize(" 049-937\u200c0899 ") == "0499370899"
    assert canonicalize("\u202b۰۴۹۹_۳۷۰\u200f۸۹۹\u202c") == "0499370899"
    assert canonicalize("\ufeff0912\u00a0123\u2066 4567\u2069") == "09121234567"


@pytest.mark.parametrize("prefix", ["ir", "Ir", "iR", "IR"])
def test_canonicalize_uppercases_leading_ir(prefix: str) -> None:
    assert canonicalize(prefix + "82 0540") == "IR820540"


def test_canonicalize_only_touches_leading_ir() -> None:
    assert canonicalize("12ir") == "12ir"
    assert canonicalize("iran") == "IRan"


def test_digits_only() -> None:
    assert digits_only("۱۲-۳") == "123"
    assert digits_only("12a3") is None
    assert digits_only("") is None
    assert digits_only(" - ") is None


def test_is_ascii_digits_rejects_other_unicode_digits() -> None:
    assert is_ascii_digits("123")
    assert not is_ascii_digits("١٢٣")
    assert not is_ascii_digits("")


def test_canonical_digits_errors_carry_kind() -> None:
    assert canonical_digits("۱۲۳", 3, "postal_code") == "123"
    with pytest.raises(InvalidIdentifier) as exc:
        canonical_digits("1234", 3, "postal_code")
    assert exc.value.kind == "postal_code"
    assert exc.value.value == "1234"
    with pytest.raises(InvalidIdentifier) as exc:
        canonical_digits("12a", 3, "card")
    assert exc.value.kind == "card"
    with pytest.raises(InvalidIdentifier):
        canonical_digits(123, 3, "card")
    assert isinstance(exc.value, ValueError)


@PROPERTY
@given(st.text())
def test_canonicalize_is_idempotent(text: str) -> None:
    once = canonicalize(text)
    assert canonicalize(once) == once


@PROPERTY
@given(
    st.text(alphabet="0123456789", min_size=1, max_size=30),
    st.data(),
)
def test_noise_and_native_digits_fold_back(digits: str, data: st.DataObject) -> None:
    out = []
    for ch in digits:
        script = data.draw(st.sampled_from(["ascii", "persian", "arabic"]))
        out.append({"ascii": ch, "persian": PERSIAN[int(ch)], "arabic": ARABIC[int(ch)]}[script])
        out.append("".join(data.draw(st.lists(st.sampled_from(NOISE), max_size=2))))
    noisy = "".join(out)
    assert canonicalize(noisy) == digits
    assert digits_only(noisy) == digits
