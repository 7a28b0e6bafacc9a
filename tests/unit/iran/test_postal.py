import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pishkhan.iran import (
    InvalidIdentifier,
    generate_postal_code,
    is_valid_postal_code,
    parse_postal_code,
)

PROPERTY = settings(max_examples=200, deadline=None)


def rule(code: str) -> bool:
    """The soft rule written out without a regex (an independent implementation)."""
    return (
        len(code) == 10
        and code.isdigit()
        and len(set(code[:4])) > 1
        and all(c not in "02" for c in code[:4])
        and code[4] not in "025"
        and all(c != "2" for c in code[5:])
    )


@pytest.mark.parametrize("code", ["1619735744", "3419851371", "9998800000"])
def test_known_valid(code: str) -> None:
    assert rule(code)
    assert parse_postal_code(code) == code


def test_accepts_dash_and_persian_digits() -> None:
    assert parse_postal_code("16197-35744") == "1619735744"
    assert parse_postal_code("۱۶۱۹۷۳۵۷۴۴") == "1619735744"


@pytest.mark.parametrize(
    "code",
    [
        "1111735744",  # first four repeated
        "0619735744",  # 0 in the first five
        "1629735744",  # 2 in the first five
        "1619535744",  # 5 as fifth digit
        "1619732744",  # 2 in the last five
        "161973574",  # 9 digits
        "16197357445",  # 11 digits
    ],
)
def test_known_invalid(code: str) -> None:
    assert not is_valid_postal_code(code)
    with pytest.raises(InvalidIdentifier) as exc:
        parse_postal_code(code)
    assert exc.value.kind == "postal_code"


@PROPERTY
@given(st.integers(0, 2**32 - 1).map(random.Random))
def test_generated_codes_are_valid(rng: random.Random) -> None:
    code = generate_postal_code(rng)
    assert rule(code)
    assert is_valid_postal_code(code)


@PROPERTY
@given(st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_matches_independent_rule(code: str) -> None:
    assert is_valid_postal_code(code) == rule(code)


@PROPERTY
@given(st.text(alphabet="13456789", min_size=10, max_size=10))
def test_matches_independent_rule_on_mostly_valid_alphabet(code: str) -> None:
    assert is_valid_postal_code(code) == rule(code)
