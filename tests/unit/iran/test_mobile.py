import random

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberType, carrier

from pishkhan.iran import (
    InvalidIdentifier,
    Operator,
    generate_mobile,
    is_valid_mobile,
    normalize_mobile,
    parse_mobile,
)

PROPERTY = settings(max_examples=200, deadline=None)


@pytest.mark.parametrize(
    "raw",
    [
        "09121234567",
        "9121234567",
        "+989121234567",
        "989121234567",
        "00989121234567",
        "+98 912 123 4567",
        "0912-123-4567",
        "(0912) 123 4567",
        "+98 (0) 912 123 4567",
        "۰۹۱۲۱۲۳۴۵۶۷",
        "٠٩١٢١٢٣٤٥٦٧",
        "+۹۸ ۹۱۲ ۱۲۳ ۴۵۶۷",
        "\u202a+98 912 123 4567\u202c",
        "\u200f۰۹۱۲\u200c۱۲۳\u200c۴۵۶۷",
    ],
)
def test_every_common_form_is_canonicalized(raw: str) -> None:
    mobile = parse_mobile(raw)
    assert mobile.number == "09121234567"
    assert mobile.e164 == "+989121234567"
    assert mobile.national == "9121234567"
    assert mobile.operator is Operator.MCI
    assert normalize_mobile(raw) == "09121234567"


@pytest.mark.parametrize(
    ("number", "operator", "carrier_en"),
    [
        ("09121234567", Operator.MCI, "IR-MCI"),
        ("09901234567", Operator.MCI, "IR-MCI"),
        ("09321234567", Operator.MCI, "IR-MCI"),
        ("09351234567", Operator.MTN_IRANCELL, "Irancell"),
        ("09011234567", Operator.MTN_IRANCELL, "Irancell"),
        ("09211234567", Operator.RIGHTEL, "Rightel"),
        ("09311234567", Operator.OTHER, "MTCE"),
        ("09341234567", Operator.OTHER, "TeleKish"),
    ],
)
def test_operator(number: str, operator: Operator, carrier_en: str) -> None:
    mobile = parse_mobile(number)
    assert mobile.operator is operator
    assert mobile.carrier_en == carrier_en
    assert mobile.carrier_fa


def test_operator_names() -> None:
    assert Operator.MCI.name_fa == "همراه اول"
    assert Operator.MTN_IRANCELL.name_en == "Irancell"
    assert Operator.RIGHTEL.name_fa == "رایتل"
    assert Operator.MTN_IRANCELL == "MTN_IRANCELL"


def test_0941_policy() -> None:
    # phonenumbers rejects 0941 as a mobile; our documented policy accepts it as Irancell.
    pn = phonenumbers.parse("09411234567", "IR")
    assert phonenumbers.number_type(pn) != PhoneNumberType.MOBILE
    mobile = parse_mobile("+98 941 123 4567")
    assert mobile.number == "09411234567"
    assert mobile.operator is Operator.MTN_IRANCELL
    assert mobile.carrier_fa == "ایرانسل"
    # ...but only 0941, not its neighbours.
    assert not is_valid_mobile("09421234567")
    assert not is_valid_mobile("09401234567")


@pytest.mark.parametrize(
    "raw",
    [
        "02112345678",  # Tehran landline
        "+12025550123",  # another country
        "0912123456",  # too short
        "091212345678",  # too long
        "09951234567",  # unassigned range
        "09971234567",
        "0912123456a",
        "",
        "+98",
    ],
)
def test_invalid(raw: str) -> None:
    assert not is_valid_mobile(raw)
    with pytest.raises(InvalidIdentifier) as exc:
        parse_mobile(raw)
    assert exc.value.kind == "mobile"


def test_non_string() -> None:
    assert not is_valid_mobile(9121234567)  # type: ignore[arg-type]
    with pytest.raises(InvalidIdentifier):
        parse_mobile(9121234567)  # type: ignore[arg-type]


def render(national: str, form: int) -> str:
    return [
        "0" + national,
        national,
        "+98" + national,
        "98" + national,
        "0098" + national,
        "+98 " + national[:3] + " " + national[3:6] + " " + national[6:],
    ][form]


@PROPERTY
@given(st.text(alphabet="0123456789", min_size=9, max_size=9), st.integers(0, 5))
def test_agrees_with_phonenumbers(rest: str, form: int) -> None:
    national = "9" + rest
    pn = phonenumbers.parse("+98" + national, None)
    reference = phonenumbers.is_valid_number(pn) and (
        phonenumbers.number_type(pn) == PhoneNumberType.MOBILE
    )
    policy = national.startswith("941")
    raw = render(national, form)
    assert is_valid_mobile(raw) == (reference or policy)
    if reference:
        mobile = parse_mobile(raw)
        assert mobile.number == "0" + national
        assert mobile.carrier_en == carrier.name_for_number(pn, "en")
        assert mobile.carrier_fa == carrier.name_for_number(pn, "fa")


@PROPERTY
@given(
    st.sampled_from(["91", "93", "90", "92", "99"]),
    st.text(alphabet="0123456789", min_size=8, max_size=8),
)
def test_agrees_with_phonenumbers_in_mobile_blocks(head: str, rest: str) -> None:
    national = head + rest
    pn = phonenumbers.parse("0" + national, "IR")
    reference = phonenumbers.is_valid_number(pn) and (
        phonenumbers.number_type(pn) == PhoneNumberType.MOBILE
    )
    assert is_valid_mobile("0" + national) == reference


@PROPERTY
@given(st.integers(0, 2**32 - 1).map(random.Random), st.sampled_from(list(Operator)))
def test_generated_mobiles(rng: random.Random, operator: Operator) -> None:
    number = generate_mobile(rng, operator)
    assert len(number) == 11 and number.startswith("09")
    assert parse_mobile(number).operator is operator
    pn = phonenumbers.parse(number, "IR")
    assert phonenumbers.number_type(pn) == PhoneNumberType.MOBILE
