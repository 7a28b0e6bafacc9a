import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from persian_tools import national_id as oracle

from pishkhan.iran import (
    InvalidIdentifier,
    generate_national_code,
    is_valid_national_code,
    national_code_check_digit,
    parse_national_code,
)

PROPERTY = settings(max_examples=200, deadline=None)
VALID = ["0499370899", "0790419904", "0084575948", "0067749828", "0684159414"]


def remainder(code: str) -> int:
    return sum(int(code[i]) * (10 - i) for i in range(9)) % 11


@pytest.mark.parametrize("code", VALID)
def test_known_valid(code: str) -> None:
    assert oracle.validate(code)
    assert is_valid_national_code(code)
    assert parse_national_code(code) == code


def test_accepts_persian_digits_and_separators() -> None:
    assert parse_national_code("۰۴۹۹۳۷۰۸۹۹") == "0499370899"
    assert parse_national_code("049-937089-9") == "0499370899"
    assert parse_national_code("\u200f0499370899 ") == "0499370899"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("0499370898", "checksum"),
        ("1111111111", "repeated digit"),
        ("0000000000", "repeated digit"),
        ("499370899", "expected 10 digits, got 9"),
        ("04993708990", "expected 10 digits, got 11"),
        ("04993708a9", "not made of digits"),
        ("", "not made of digits"),
    ],
)
def test_known_invalid(raw: str, reason: str) -> None:
    assert not is_valid_national_code(raw)
    with pytest.raises(InvalidIdentifier) as exc:
        parse_national_code(raw)
    assert exc.value.kind == "national_code"
    assert exc.value.reason == reason


def test_repeated_digits_rejected_although_oracle_accepts() -> None:
    for d in "123456789":
        code = d * 10
        assert oracle.validate(code)  # lenient oracle: checksum holds for every repeated code
        assert not is_valid_national_code(code)


def test_zero_serial_rejected_even_with_good_checksum() -> None:
    body = "123000000"
    code = body + national_code_check_digit(body)
    assert not oracle.validate(code)
    with pytest.raises(InvalidIdentifier, match="zero serial"):
        parse_national_code(code)


def test_no_zero_padding_of_short_input() -> None:
    assert oracle.validate("84575948")  # the oracle pads to 0084575948
    assert not is_valid_national_code("84575948")


def test_check_digit() -> None:
    assert national_code_check_digit("049937089") == "9"
    assert national_code_check_digit("079041990") == "4"
    with pytest.raises(ValueError):
        national_code_check_digit("12345678")


def test_non_string_is_invalid() -> None:
    assert not is_valid_national_code(499370899)  # type: ignore[arg-type]
    with pytest.raises(InvalidIdentifier):
        parse_national_code(499370899)  # type: ignore[arg-type]


def test_known_collision_of_the_algorithm() -> None:
    # Remainders 1 and 10 share check digit 1: one changed digit, both valid.
    assert {remainder("0677604361"), remainder("2677604361")} == {1, 10}
    assert is_valid_national_code("0677604361")
    assert is_valid_national_code("2677604361")


def test_generator_is_deterministic_per_seed() -> None:
    assert generate_national_code(random.Random(7)) == generate_national_code(random.Random(7))


@PROPERTY
@given(st.integers(0, 2**32 - 1).map(random.Random))
def test_generated_codes_are_valid(rng: random.Random) -> None:
    code = generate_national_code(rng)
    assert len(code) == 10 and code.isdigit()
    assert len(set(code)) > 1
    assert is_valid_national_code(code)
    assert oracle.validate(code)


@PROPERTY
@given(st.integers(0, 2**32 - 1).map(random.Random), st.integers(0, 9), st.integers(1, 9))
def test_single_digit_change_rejected(rng: random.Random, pos: int, delta: int) -> None:
    code = generate_national_code(rng)
    new = str((int(code[pos]) + delta) % 10)
    mutated = code[:pos] + new + code[pos + 1 :]
    collision = (
        pos < 9
        and {remainder(code), remainder(mutated)} == {1, 10}
        and mutated[3:9] != "000000"
        and len(set(mutated)) > 1
    )
    assert is_valid_national_code(mutated) is collision


@PROPERTY
@given(st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_agrees_with_oracle_on_well_formed_input(code: str) -> None:
    if len(set(code)) == 1:
        return  # the oracle accepts repeated-digit codes; we do not
    assert is_valid_national_code(code) == oracle.validate(code)


@PROPERTY
@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_completed_bodies_agree_with_oracle(body: str) -> None:
    code = body + national_code_check_digit(body)
    if len(set(code)) == 1:
        return
    assert oracle.validate(code) == (code[3:9] != "000000")
    assert is_valid_national_code(code) == oracle.validate(code)
