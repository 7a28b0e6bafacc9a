"""The world generator, without a database: determinism, valid identifiers, shares."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pishkhan.iran import (
    by_bin,
    by_key,
    by_sheba_code,
    is_valid_card_number,
    is_valid_iban,
    is_valid_legal_id,
    is_valid_mobile,
    is_valid_national_code,
    is_valid_postal_code,
    luhn_check_digit,
    national_code_check_digit,
    parse_jalali,
    parse_mobile,
)
from pishkhan.world.generator import WorldGenerator, generate_world
from pishkhan.world.layouts import (
    account_digits,
    deposit_number_maker,
    format_deposit_number,
    iban_for_deposit,
    luhn_complete,
    national_code_from_body,
)
from pishkhan.world.records import KINDS, DepositRecord

REF = date(2025, 1, 1)
REF_JALALI = "14031012"


@pytest.fixture(scope="module")
def world() -> dict[str, list[dict]]:
    return generate_world(3000, 11)


def test_same_seed_same_world() -> None:
    assert generate_world(300, 5) == generate_world(300, 5)


def test_different_seed_different_world() -> None:
    a = generate_world(300, 5)["world_people"]
    b = generate_world(300, 6)["world_people"]
    assert [p["national_code"] for p in a] != [p["national_code"] for p in b]


def test_batch_size_does_not_change_the_world() -> None:
    small = [WorldGenerator(400, 3).batches(37)]
    merged: dict[str, list[dict]] = {}
    for batch in small[0]:
        for name, rows in batch.items():
            merged.setdefault(name, []).extend(rows)
    assert merged == WorldGenerator(400, 3).generate()


def test_reference_date_is_the_only_time_input() -> None:
    a = WorldGenerator(100, 1, date(2025, 1, 1)).generate()
    b = WorldGenerator(100, 1, date(2026, 6, 1)).generate()
    assert a != b
    assert a == WorldGenerator(100, 1, date(2025, 1, 1)).generate()


def test_people_count(world: dict[str, list[dict]]) -> None:
    generated = WorldGenerator(3000, 11).generate()
    assert len(generated["world_people"]) == 3000
    assert len(world["world_people"]) > 3000  # plus the fixtures


def test_identifiers_valid(world: dict[str, list[dict]]) -> None:
    for p in world["world_people"]:
        assert is_valid_national_code(p["national_code"]), p
        parse_jalali(p["birth_date"])
        assert p["birth_date"] <= REF_JALALI
        if p["death_date"]:
            assert p["birth_date"] <= p["death_date"] <= REF_JALALI
            assert not p["alive"]
    for s in world["world_sims"]:
        assert is_valid_mobile(s["mobile"]), s
        assert parse_mobile(s["mobile"]).number == s["mobile"]
    for c in world["world_cards"]:
        assert is_valid_card_number(c["number"]), c
        bin_bank = by_bin(c["number"])
        card_bank = by_key(c["bank"])
        assert bin_bank is not None and card_bank is not None
        assert bin_bank.jibit_id == card_bank.jibit_id
    for d in world["world_deposits"]:
        assert is_valid_iban(d["iban"]), d
        iban_bank = by_sheba_code(d["iban"][4:7])
        bank = by_key(d["bank"])
        assert iban_bank is not None and bank is not None and iban_bank.jibit_id == bank.jibit_id
        assert d["iban"] == iban_for_deposit(bank, d["deposit_number"])
    for a in world["world_addresses"]:
        assert is_valid_postal_code(a["postal_code"]), a
        assert 24 <= a["latitude"] <= 40.5 and 43.5 <= a["longitude"] <= 63.5
    for e in world["world_legal_entities"]:
        assert is_valid_legal_id(e["national_id"]), e


def test_identifiers_unique(world: dict[str, list[dict]]) -> None:
    for table, key in (
        ("world_people", "national_code"),
        ("world_sims", "mobile"),
        ("world_cards", "number"),
        ("world_deposits", "iban"),
        ("world_addresses", "postal_code"),
        ("world_foreigners", "fida"),
        ("world_guilds", "code"),
        ("world_legal_entities", "national_id"),
        ("world_military", "national_code"),
        ("world_sana", "national_code"),
        ("world_banks", "bank"),
    ):
        keys = [r[key] for r in world[table]]
        assert len(keys) == len(set(keys)), table
    numbers = [(d["bank"], d["deposit_number"]) for d in world["world_deposits"]]
    assert len(numbers) == len(set(numbers))


def test_references_consistent(world: dict[str, list[dict]]) -> None:
    people = {p["national_code"]: p for p in world["world_people"]}
    legal = {e["national_id"] for e in world["world_legal_entities"]}
    deposits = {d["iban"]: d for d in world["world_deposits"]}
    postal = {a["postal_code"] for a in world["world_addresses"]}
    owners: dict[str, list[dict]] = {}
    for o in world["world_deposit_owners"]:
        owners.setdefault(o["iban"], []).append(o)
        assert o["iban"] in deposits
        assert o["national_code"] in people or o["national_code"] in legal
        assert (o["owner_type"] == "LEGAL") == (len(o["national_code"]) == 11)
    for iban, d in deposits.items():
        assert d["joint"] == (len(owners.get(iban, [])) > 1)
    for c in world["world_cards"]:
        if c["deposit_iban"] is not None:
            dep = deposits[c["deposit_iban"]]
            assert by_key(dep["bank"]).jibit_id == by_key(c["bank"]).jibit_id  # type: ignore[union-attr]
        assert (c["status"] == "EXPIRED") == (c["expiry"] < REF_JALALI[:6])
    for s in world["world_sims"]:
        assert s["national_code"] in people
    for p in people.values():
        assert p["postal_code"] is None or p["postal_code"] in postal
    for m in world["world_military"]:
        assert people[m["national_code"]]["gender"] == "MALE"
    for g in world["world_guilds"]:
        assert g["postal_code"] in postal
        assert g["national_code"] in people


def test_every_row_validates_and_round_trips(world: dict[str, list[dict]]) -> None:
    by_table = {cls.table.name: cls for cls in KINDS.values()}
    owners: dict[str, list[dict]] = {}
    for o in world["world_deposit_owners"]:
        owners.setdefault(o["iban"], []).append(o)
    for table, rows in world.items():
        cls = by_table.get(table)
        if cls is None:
            continue
        for row in rows[:800]:
            data = dict(row)
            if cls is DepositRecord:
                data["owners"] = [
                    {"national_code": o["national_code"], "owner_type": o["owner_type"]}
                    for o in owners.get(row["iban"], [])
                ]
            record = cls.model_validate(data)
            assert record.row() == row


def test_shares(world: dict[str, list[dict]]) -> None:
    generated = WorldGenerator(3000, 11).generate()
    people = generated["world_people"]
    n = len(people)
    adults = [p for p in people if p["birth_date"] <= "13851012"]
    assert 0.65 < len(adults) / n < 0.92
    dead = sum(not p["alive"] for p in people)
    assert 0.005 < dead / n < 0.06

    cards_per_person = Counter(c["holder_national_code"] for c in generated["world_cards"])
    living_adults = [p for p in adults if p["alive"]]
    with_1_to_3 = sum(1 <= cards_per_person[p["national_code"]] <= 3 for p in living_adults)
    assert with_1_to_3 / len(living_adults) > 0.75

    owners = Counter(
        o["national_code"] for o in generated["world_deposit_owners"] if o["position"] == 1
    )
    with_1_to_2 = sum(1 <= owners[p["national_code"]] <= 2 for p in living_adults)
    assert with_1_to_2 / len(living_adults) > 0.75
    deposit_banks = Counter(d["bank"] for d in generated["world_deposits"])
    assert len(deposit_banks) >= 25

    cards = generated["world_cards"]
    card_status = Counter(c["status"] for c in cards)
    for status in ("LOST", "STOLEN", "EXPIRED", "INACTIVE", "BLACKLISTED"):
        assert 0.004 < card_status[status] / len(cards) < 0.07, status
    card_types = Counter(c["type"] for c in cards)
    assert card_types["DEBIT"] / len(cards) > 0.8
    assert card_types["CREDIT"] > 0 and card_types["GIFT_CARD"] > 0

    deposits = generated["world_deposits"]
    dep_status = Counter(d["status"] for d in deposits)
    for status in ("BLOCK_WITH_DEPOSIT", "BLOCK_WITHOUT_DEPOSIT", "IDLE", "UNKNOWN"):
        assert 0.003 < dep_status[status] / len(deposits) < 0.07, status
    joint = sum(d["joint"] for d in deposits)
    assert 0.01 < joint / len(deposits) < 0.08
    assert Counter(d["account_type"] for d in deposits)["CURRENT"] > 0

    assert len(generated["world_foreigners"]) == 60
    assert 0.01 < len(generated["world_guilds"]) / len(living_adults) < 0.06
    assert len(generated["world_legal_entities"]) == 15
    sims_per_person = Counter(s["national_code"] for s in generated["world_sims"])
    with_sim = sum(sims_per_person[p["national_code"]] >= 1 for p in living_adults)
    assert with_sim / len(living_adults) > 0.85
    mil = Counter(m["qualified"] for m in generated["world_military"])
    assert mil[False] > 0 and mil[True] > mil[False]
    sana = Counter(s["registered"] for s in generated["world_sana"])
    assert sana[True] > sana[False] > 0


def test_names_have_latin_transliterations(world: dict[str, list[dict]]) -> None:
    for p in world["world_people"][:2000]:
        assert p["first_name_en"].isascii() and p["first_name_en"][0].isupper()
        assert p["last_name_en"].isascii() and p["last_name_en"][0].isupper()
        assert not p["first_name"].isascii()


def test_children_carry_the_fathers_name() -> None:
    people = WorldGenerator(500, 2).generate()["world_people"]
    by_postal: dict[str, list[dict]] = {}
    for p in people:
        by_postal.setdefault(p["postal_code"], []).append(p)
    checked = 0
    for members in by_postal.values():
        head = members[0]
        if head["gender"] != "MALE" or len(members) < 3:
            continue
        for child in members[2:]:
            assert child["father_name"] == head["first_name"]
            assert child["last_name"] == head["last_name"]
            checked += 1
    assert checked > 20


@given(st.integers(min_value=0, max_value=10**9 - 1))
def test_national_code_check_digit_agrees(body: int) -> None:
    text = f"{body:09d}"
    assert national_code_from_body(text) == text + national_code_check_digit(text)


@given(st.integers(min_value=0, max_value=10**15 - 1))
def test_luhn_agrees(body: int) -> None:
    text = f"{body:015d}"
    assert luhn_complete(text) == text + luhn_check_digit(text)


def test_deposit_layouts() -> None:
    import random

    rng = random.Random(1)
    for key in ("SAMAN", "PASARGAD", "BLU", "MELLI", "EGHTESAD_NOVIN", "NOOR"):
        make = deposit_number_maker(key)
        number = make(rng)
        bank = by_key(key)
        assert bank is not None
        assert is_valid_iban(iban_for_deposit(bank, number))
        assert len(account_digits(number)) <= 19
    assert format_deposit_number("SAMAN", 108) == "000-00-0000010-8"
    assert format_deposit_number("BLU", 5).startswith("2137")
