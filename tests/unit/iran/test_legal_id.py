import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from persian_tools import legal_id as oracle

from pishkhan.iran import (
    InvalidIdentifier,
    generate_legal_id,
    is_valid_legal_id,
    legal_id_check_digit,
    parse_legal_id,
)

PROPERTY = settings(max_examples=200, deadline=None)
COEF = [29, 27, 23, 19, 17]


def remainder(code: str) -> int:
    d = int(code[9]) + 2
    return sum((int(code[i]) + d) * COEF[i % 5] for i in range(10)) % 11


def test_known_valid() -> None:
    assert oracle.validate("10380284790")
    assert parse_legal_id("10380284790") == "10380284790"
    assert parse_legal_id("۱۰۳۸۰۲۸۴۷۹۰") == "10380284790"
    assert parse_legal_id("1038-0284-790") == "10380284790"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("10380284791", "checksum"),
        ("33333333333", "repeated digit"),
        ("1038028479", "expected 11 digits, got 10"),
        ("103802847900", "expected 11 digits, got 12"),
        ("1038028479x", "not made of digits"),
    ],
)
def test_known_invalid(raw: str, reason: str) -> None:
    assert not is_valid_legal_id(raw)
    with pytest.raises(InvalidIdentifier) as exc:
        parse_legal_id(raw)
    assert exc.value.kind == "legal_id"
    assert exc.value.reason == reason


def test_repeated_digit_passing_checksum_is_rejected() -> None:
    assert oracle.validate("33333333333")  # checksum holds; the oracle accepts it
    assert not is_valid_legal_id("33333333333")


def test_zero_serial_rejected() -> None:
    body = "1230000005"
    code = body + legal_id_check_digit(body)
    assert oracle.validate(code)
    assert not is_valid_legal_id(code)


def test_check_digit_remainder_ten_gives_zero() -> None:
    rng = random.Random(3)
    while True:
        body = "1" + f"{rng.randrange(10**9):09d}"
        if remainder(body + "0") == 10:
            break
    assert legal_id_check_digit(body) == "0"
    with pytest.raises(ValueError):
        legal_id_check_digit("123")


def test_known_collision_of_the_algorithm() -> None:
    # Remainders 0 and 10 share check digit 0: one changed digit, both valid.
    assert {remainder("16996426300"), remainder("46996426300")} == {0, 10}
    assert is_valid_legal_id("16996426300")
    assert is_valid_legal_id("46996426300")


@PROPERTY
@given(st.integers(0, 2**32 - 1).map(random.Random))
def test_generated_ids_are_valid(rng: random.Random) -> None:
    code = generate_legal_id(rng)
    assert len(code) == 11 and code.isdigit()
    assert is_valid_legal_id(code)
    assert oracle.validate(code)


@PROPERTY
@given(st.integers(0, 2**32 - 1).map(random.Random), st.integers(0, 10), st.integers(1, 9))
def test_single_digit_change_rejected(rng: random.Random, pos: int, delta: int) -> None:
    code = generate_legal_id(rng)
    mutated = code[:pos] + str((int(code[pos]) + delta) % 10) + code[pos + 1 :]
    collision = (
        pos < 10
        and {remainder(code), remainder(mutated)} == {0, 10}
        and mutated[3:9] != "000000"
        and len(set(mutated)) > 1
    )
    assert is_valid_legal_id(mutated) is collision


@PROPERTY
@given(st.text(alphabet="0123456789", min_size=10, max_size=10), st.integers(0, 9))
def test_agrees_with_oracle_on_well_formed_input(body: str, last: int) -> None:
    for code in (body + str(last), body + legal_id_check_digit(body)):
        if len(set(code)) == 1 or code[3:9] == "000000":
            continue  # rules the oracle lacks
        assert is_valid_legal_id(code) == oracle.validate(code)
