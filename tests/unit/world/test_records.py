"""Record validation: canonical forms in, clear field errors out."""

from __future__ import annotations

from typing import Any

import pytest

from pishkhan.core.errors import InvalidInput
from pishkhan.world import fixtures as fx
from pishkhan.world.records import CardRecord, DepositRecord, PersonRecord
from pishkhan.world.service import validate

PERSON: dict[str, Any] = {
    "national_code": "۰۰۱۰۳۵۰۸۲۹",  # Persian digits are canonicalized
    "first_name": "علي",  # Arabic yeh folded
    "last_name": "كريمي",
    "first_name_en": "Ali",
    "last_name_en": "Karimi",
    "father_name": "حسن",
    "birth_date": "1360/3/31",
    "gender": "MALE",
}


def _errors(kind: str, data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidInput) as info:
        validate(kind, data)
    return info.value.errors


def test_person_canonical() -> None:
    p = validate("person", PERSON)
    assert isinstance(p, PersonRecord)
    assert p.national_code == "0010350829"
    assert p.first_name == "علی" and p.last_name == "کریمی"
    assert p.birth_date == "13600331"
    assert p.alive is True
    assert p.birth_certificate_number == "0010350829"


def test_person_errors_name_the_field() -> None:
    errors = _errors("person", {**PERSON, "national_code": "0010350828"})
    assert "checksum" in errors["national_code"]
    assert "birth_date" in _errors("person", {**PERSON, "birth_date": "13601231"})
    assert "gender" in _errors("person", {**PERSON, "gender": "X"})
    assert "surname" in _errors("person", {**PERSON, "surname": "x"})  # unknown field
    assert "first_name" in _errors("person", {k: v for k, v in PERSON.items() if k != "first_name"})


def test_person_death() -> None:
    dead = validate("person", {**PERSON, "death_date": "14010512"})
    assert dead.alive is False  # type: ignore[attr-defined]
    errors = _errors("person", {**PERSON, "death_date": "14010512", "alive": True})
    assert "not alive" in errors["record"]
    assert "before" in _errors("person", {**PERSON, "death_date": "13500101"})["record"]


def test_card_bank_from_bin_and_mismatch() -> None:
    card = validate("card", {"number": "6037-9900-0000-0014"})
    assert isinstance(card, CardRecord)
    assert card.number == fx.CARD_ACTIVE and card.bank == "MELLI"
    blu = validate("card", {"number": fx.CARD_GIFT, "bank": "BLUBIR"})
    assert blu.bank == "BLU"  # type: ignore[attr-defined]
    assert (
        "does not match" in _errors("card", {"number": fx.CARD_ACTIVE, "bank": "MELLAT"})["record"]
    )
    assert "checksum" in _errors("card", {"number": "6037990000000012"})["number"]
    assert "expiry" in _errors("card", {"number": fx.CARD_ACTIVE, "expiry": "140513"})
    assert "status" in _errors("card", {"number": fx.CARD_ACTIVE, "status": "MISSING"})


def test_deposit_iban_derived_and_checked() -> None:
    d = validate(
        "deposit",
        {
            "bank": "SAMAN",
            "deposit_number": "849-40-4443333-1",
            "owners": [{"national_code": fx.NC_OK}],
        },
    )
    assert isinstance(d, DepositRecord)
    assert d.iban is not None and d.iban.startswith("IR") and d.iban[4:7] == "056"
    assert d.joint is False and d.owners[0].owner_type == "PERSON"
    joint = validate(
        "deposit",
        {
            "bank": "MELLAT",
            "deposit_number": "1234567890",
            "owners": [{"national_code": fx.NC_OK}, {"national_code": fx.LEGAL_OK}],
        },
    )
    assert joint.joint is True  # type: ignore[attr-defined]
    assert joint.owners[1].owner_type == "LEGAL"  # type: ignore[attr-defined]
    errors = _errors("deposit", {"bank": "MELLAT", "deposit_number": "1", "iban": fx.IBAN_ACTIVE})
    assert "does not belong" in errors["record"]
    assert "unknown bank" in _errors("deposit", {"bank": "NOPE", "deposit_number": "1"})["record"]
    errors = _errors(
        "deposit",
        {
            "bank": "MELLAT",
            "deposit_number": "1",
            "joint": True,
            "owners": [{"national_code": fx.NC_OK}],
        },
    )
    assert "joint" in errors["record"]
    assert "balance" in _errors("deposit", {"bank": "MELLAT", "deposit_number": "1", "balance": -5})
    assert (
        "card number"
        in _errors("deposit", {"bank": "MELLAT", "deposit_number": fx.CARD_ACTIVE})[
            "deposit_number"
        ]
    )


def test_address_in_iran() -> None:
    base = {
        "postal_code": "1313131315",
        "province": "تهران",
        "district": "تهران",
        "city": "تهران",
        "street": "خیابان آزادی",
        "number": "5",
        "floor": "2",
        "latitude": 35.7,
        "longitude": 51.4,
    }
    a = validate("address", base)
    assert "پلاک 5" in (a.address or "")  # type: ignore[attr-defined]
    assert "latitude" in _errors("address", {**base, "latitude": 48.8})
    assert "postal_code" in _errors("address", {**base, "postal_code": "0213131315"})


def test_other_kinds() -> None:
    assert validate("military", {"national_code": fx.NC_OK, "status": "ABSENT"}).qualified is False  # type: ignore[attr-defined]
    assert (
        "registered_on"
        in _errors(
            "sana", {"national_code": fx.NC_OK, "registered": False, "registered_on": "14000101"}
        )["record"]
    )
    assert (
        "FIDA"
        in _errors(
            "foreigner",
            {"fida": "12", "first_name": "a", "last_name": "b", "nationality": "Afghan"},
        )["fida"]
    )
    assert validate("bank", {"bank": "sabcir", "active": False}).key == "SAMAN"
    with pytest.raises(InvalidInput, match="unknown kind"):
        validate("planet", {})
    g = validate("guild", {"code": "1000000002", "is_male": "TRUE", "birth_date": "13600331"})
    assert g.is_male == "true" and g.birth_date == "1360/03/31"  # type: ignore[attr-defined]
