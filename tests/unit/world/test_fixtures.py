"""The fixtures (magic values): valid, present, documented, never drawn by the generator."""

from __future__ import annotations

from pathlib import Path

import pytest

from pishkhan.iran import (
    is_valid_card_number,
    is_valid_iban,
    is_valid_legal_id,
    is_valid_mobile,
    is_valid_national_code,
    is_valid_postal_code,
    payman_banks,
)
from pishkhan.world import fixtures as fx
from pishkhan.world.generator import WorldGenerator

DOCS = Path(__file__).resolve().parents[3] / "docs" / "fixtures.md"

ROW_KEYS = {
    "person": ("world_people", "national_code"),
    "sim": ("world_sims", "mobile"),
    "card": ("world_cards", "number"),
    "deposit": ("world_deposits", "iban"),
    "address": ("world_addresses", "postal_code"),
    "foreigner": ("world_foreigners", "fida"),
    "guild": ("world_guilds", "code"),
    "legal_entity": ("world_legal_entities", "national_id"),
    "bank": ("world_banks", "bank"),
}
ABSENT_KINDS = {"national_code", "postal_code", "fida"}


@pytest.fixture(scope="module")
def rows() -> dict[str, list[dict]]:
    return fx.fixture_rows()


def _index(rows: dict[str, list[dict]], kind: str) -> dict[str, dict]:
    table, key = ROW_KEYS[kind]
    return {r[key]: r for r in rows[table]}


def test_catalogue_names_unique() -> None:
    names = [f.name for f in fx.CATALOGUE]
    assert len(names) == len(set(names))


def test_every_catalogue_entry_points_at_its_record(rows: dict[str, list[dict]]) -> None:
    for f in fx.CATALOGUE:
        unknown = f.name.endswith(".unknown") or f.name == "national_code.no_identity"
        if f.kind in ABSENT_KINDS or unknown:
            for kind in ROW_KEYS:
                assert f.key not in _index(rows, kind), f.name
            continue
        assert f.key in _index(rows, f.kind), f.name


def test_identifiers_valid() -> None:
    for code in (
        fx.NC_OK,
        fx.NC_FEMALE,
        fx.NC_DEAD,
        fx.NC_NO_IDENTITY,
        fx.NC_MILITARY_EXEMPT,
        fx.NC_MILITARY_ABSENT,
        fx.NC_BLACKLISTED,
        fx.NC_PAYMAN_EMPTY,
        fx.NC_PAYMAN_CURRENT_ONLY,
        *(p.national_code for p in fx.PAYMAN),
    ):
        assert is_valid_national_code(code), code
    for card in (
        fx.CARD_ACTIVE,
        fx.CARD_LOST,
        fx.CARD_STOLEN,
        fx.CARD_EXPIRED,
        fx.CARD_INACTIVE,
        fx.CARD_BLACKLISTED,
        fx.CARD_OWNER_NOT_AUTHORIZED,
        fx.CARD_ACCOUNT_NOT_VALID,
        fx.CARD_BANK_INACTIVE,
        fx.CARD_PROVIDER_INACTIVE,
        fx.CARD_CREDIT,
        fx.CARD_GIFT,
        fx.CARD_NO_HOLDER,
        fx.CARD_HOLDER_NOT_OWNER,
        fx.CARD_UNKNOWN,
    ):
        assert is_valid_card_number(card), card
    for iban in (
        fx.IBAN_ACTIVE,
        fx.IBAN_JOINT,
        fx.IBAN_BLOCK_WITH,
        fx.IBAN_BLOCK_WITHOUT,
        fx.IBAN_IDLE,
        fx.IBAN_STATUS_UNKNOWN,
        fx.IBAN_NO_OWNER,
        fx.IBAN_LEGAL,
        fx.IBAN_UNKNOWN,
        *(p.iban for p in fx.PAYMAN),
    ):
        assert is_valid_iban(iban), iban
    for mobile in (
        fx.MOBILE_OK,
        fx.MOBILE_FEMALE,
        fx.MOBILE_BLACKLISTED,
        fx.MOBILE_UNKNOWN,
        *(p.mobile for p in fx.PAYMAN),
    ):
        assert is_valid_mobile(mobile), mobile
    for postal in (fx.POSTAL_OK, fx.POSTAL_SHOP, fx.POSTAL_UNKNOWN):
        assert is_valid_postal_code(postal)
    assert is_valid_legal_id(fx.LEGAL_OK)


def test_documented_properties(rows: dict[str, list[dict]]) -> None:
    people = _index(rows, "person")
    cards = _index(rows, "card")
    deposits = _index(rows, "deposit")
    banks = _index(rows, "bank")
    assert people[fx.NC_OK]["birth_date"] == "13600331" and people[fx.NC_OK]["alive"]
    assert not people[fx.NC_DEAD]["alive"] and people[fx.NC_DEAD]["death_date"]
    assert people[fx.NC_BLACKLISTED]["blacklisted"]
    assert fx.NC_NO_IDENTITY not in people
    expected = {
        fx.CARD_LOST: "LOST",
        fx.CARD_STOLEN: "STOLEN",
        fx.CARD_EXPIRED: "EXPIRED",
        fx.CARD_INACTIVE: "INACTIVE",
        fx.CARD_BLACKLISTED: "BLACKLISTED",
        fx.CARD_ACTIVE: "ACTIVE",
        fx.CARD_OWNER_NOT_AUTHORIZED: "OWNER_NOT_AUTHORIZED",
        fx.CARD_ACCOUNT_NOT_VALID: "ACCOUNT_NOT_VALID",
    }
    for number, status in expected.items():
        assert cards[number]["status"] == status
    assert cards[fx.CARD_ACCOUNT_NOT_VALID]["deposit_iban"] is None
    assert not banks[cards[fx.CARD_BANK_INACTIVE]["bank"]]["active"]
    assert not banks[cards[fx.CARD_PROVIDER_INACTIVE]["bank"]]["provider_active"]
    assert not banks[fx.BANK_CARD_TO_IBAN_UNAVAILABLE]["card_to_iban_available"]
    statuses = {
        deposits[i]["status"]
        for i in (
            fx.IBAN_ACTIVE,
            fx.IBAN_BLOCK_WITH,
            fx.IBAN_BLOCK_WITHOUT,
            fx.IBAN_IDLE,
            fx.IBAN_STATUS_UNKNOWN,
        )
    }
    assert statuses == {"ACTIVE", "BLOCK_WITH_DEPOSIT", "BLOCK_WITHOUT_DEPOSIT", "IDLE", "UNKNOWN"}
    owners = [o for o in rows["world_deposit_owners"] if o["iban"] == fx.IBAN_JOINT]
    assert deposits[fx.IBAN_JOINT]["joint"] and len(owners) == 2
    assert not [o for o in rows["world_deposit_owners"] if o["iban"] == fx.IBAN_NO_OWNER]
    sims = _index(rows, "sim")
    assert sims[fx.MOBILE_OK]["national_code"] == fx.NC_OK != fx.NC_FEMALE
    assert sims[fx.MOBILE_BLACKLISTED]["blacklisted"]
    military = {m["national_code"]: m for m in rows["world_military"]}
    assert military[fx.NC_MILITARY_ABSENT]["qualified"] is False
    assert military[fx.NC_MILITARY_EXEMPT]["qualified"] is True
    sana = {s["national_code"]: s for s in rows["world_sana"]}
    assert sana[fx.NC_OK]["registered"] and not sana[fx.NC_FEMALE]["registered"]
    foreigner = _index(rows, "foreigner")[fx.FIDA_OK]
    assert len(foreigner["documents"]) == 2
    assert _index(rows, "foreigner")[fx.FIDA_BLACKLISTED]["blacklisted"]
    guild = _index(rows, "guild")[fx.GUILD_OK]
    assert all(
        v is not None
        for k, v in guild.items()
        if k not in ("company_national_code", "expire_letter_date")
    )


def test_payman_fixtures_cover_the_14_banks(rows: dict[str, list[dict]]) -> None:
    deposits = _index(rows, "deposit")
    owners = {o["iban"]: o for o in rows["world_deposit_owners"]}
    sims = _index(rows, "sim")
    assert {p.payman_code for p in fx.PAYMAN} == {b.payman_code for b in payman_banks()}
    assert len(fx.PAYMAN) == 14
    for p in fx.PAYMAN:
        d = deposits[p.iban]
        assert d["bank"] == p.bank_key and d["balance"] > 0 and d["status"] == "ACTIVE"
        assert not d["joint"] and d["account_type"] not in ("CURRENT",)
        assert owners[p.iban]["national_code"] == p.national_code
        assert sims[p.mobile]["national_code"] == p.national_code
    assert deposits[fx.IBAN_PAYMAN_EMPTY]["balance"] == 0
    assert deposits[fx.IBAN_PAYMAN_CURRENT]["account_type"] == "CURRENT"


def test_generator_never_draws_fixture_values() -> None:
    reserved = fx.reserved_keys()
    generated = WorldGenerator(2000, 4).generate()
    assert not {p["national_code"] for p in generated["world_people"]} & reserved["national_code"]
    assert not {c["number"] for c in generated["world_cards"]} & reserved["card"]
    assert not {d["iban"] for d in generated["world_deposits"]} & reserved["iban"]
    assert not {s["mobile"] for s in generated["world_sims"]} & reserved["mobile"]
    assert not {a["postal_code"] for a in generated["world_addresses"]} & reserved["postal_code"]


def test_docs_list_every_fixture() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for f in fx.CATALOGUE:
        assert f.key in text, f.name
        assert f.name in text, f.name
