"""The world in a real database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from pishkhan.core.db import Database, metadata
from pishkhan.core.errors import Conflict, InvalidInput, NotFound
from pishkhan.core.schema import load_all_tables
from pishkhan.iran import is_valid_card_number, is_valid_iban, is_valid_national_code
from pishkhan.world import fixtures as fx
from pishkhan.world import lookup, seed_default_world, service, world_is_empty
from pishkhan.world.generator import WorldGenerator, clear_world, seed_world
from pishkhan.world.tables import WORLD_TABLES


def _seed(db: Database, people: int = 200, seed: int = 5) -> dict[str, int]:
    with db.write() as conn:
        return seed_world(conn, people, seed)


def _export(db: Database) -> list[bytes]:
    with db.read() as conn:
        return list(service.export_jsonl(conn))


def test_migration_matches_tables(db: Database) -> None:
    load_all_tables()
    world = {t.name for t in WORLD_TABLES}
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(ctx, metadata) if world & set(map(str, _names(d)))]
    assert diffs == []


def _names(diff: Any) -> list[Any]:
    items = diff if isinstance(diff, list) else [diff]
    out = []
    for item in items:
        for part in item:
            name = getattr(part, "name", None) or getattr(
                getattr(part, "table", None), "name", None
            )
            if name:
                out.append(name)
            if isinstance(part, str):
                out.append(part)
    return out


def test_seed_writes_fixtures_and_world(db: Database) -> None:
    with db.read() as conn:
        assert world_is_empty(conn)
    counts = _seed(db)
    with db.read() as conn:
        assert not world_is_empty(conn)
        assert service.table_counts(conn) == {t.name: counts.get(t.name, 0) for t in WORLD_TABLES}
    assert counts["world_people"] == 200 + len(fx.fixture_rows()["world_people"])


def test_same_seed_identical_export(db: Database) -> None:
    _seed(db, 200, 9)
    first = _export(db)
    _seed(db, 200, 9)  # replaces the world
    assert _export(db) == first
    _seed(db, 200, 10)
    assert _export(db) != first


def test_fixtures_reachable_through_lookups(db: Database) -> None:
    _seed(db)
    with db.read() as conn:
        ali = lookup.person(conn, fx.NC_OK)
        assert ali is not None and ali.first_name == "علی" and ali.birth_date == "13600331"
        dead = lookup.person(conn, fx.NC_DEAD)
        assert dead is not None and dead.alive is False
        assert lookup.person(conn, fx.NC_NO_IDENTITY) is None
        assert lookup.sim_matches(conn, fx.NC_OK, fx.MOBILE_OK)
        assert not lookup.sim_matches(conn, fx.NC_FEMALE, fx.MOBILE_OK)
        assert lookup.sim(conn, fx.MOBILE_UNKNOWN) is None
        blocked = lookup.sim(conn, fx.MOBILE_BLACKLISTED)
        assert blocked is not None and blocked.blacklisted
        for number, status in (
            (fx.CARD_LOST, "LOST"),
            (fx.CARD_STOLEN, "STOLEN"),
            (fx.CARD_EXPIRED, "EXPIRED"),
            (fx.CARD_INACTIVE, "INACTIVE"),
            (fx.CARD_BLACKLISTED, "BLACKLISTED"),
        ):
            card = lookup.card(conn, number)
            assert card is not None and card.status == status
        inactive = lookup.card(conn, fx.CARD_BANK_INACTIVE)
        assert inactive is not None
        assert lookup.bank_state(conn, inactive.bank or "").active is False
        provider = lookup.card(conn, fx.CARD_PROVIDER_INACTIVE)
        assert provider is not None
        assert lookup.bank_state(conn, provider.bank or "").provider_active is False
        assert lookup.bank_state(conn, "MELLI").active is True
        assert lookup.card(conn, fx.CARD_UNKNOWN) is None
        joint = lookup.deposit(conn, fx.IBAN_JOINT)
        assert joint is not None and joint.joint and len(joint.owners) == 2
        names = lookup.owner_names(conn, fx.IBAN_JOINT)
        assert [(n.first_name, n.last_name) for n in names] == [("علی", "رضایی"), ("مریم", "احمدی")]
        assert lookup.owner_names(conn, fx.IBAN_NO_OWNER) == []
        legal = lookup.owner_names(conn, fx.IBAN_LEGAL)
        assert legal[0].owner_type == "LEGAL" and legal[0].first_name.startswith("شرکت")
        for iban, status in (
            (fx.IBAN_BLOCK_WITH, "BLOCK_WITH_DEPOSIT"),
            (fx.IBAN_BLOCK_WITHOUT, "BLOCK_WITHOUT_DEPOSIT"),
            (fx.IBAN_IDLE, "IDLE"),
            (fx.IBAN_STATUS_UNKNOWN, "UNKNOWN"),
        ):
            dep = lookup.deposit(conn, iban)
            assert dep is not None and dep.status == status
        assert lookup.deposit(conn, fx.IBAN_UNKNOWN) is None
        by_number = lookup.deposit_by_number(conn, "MELLI", fx.DEPOSIT_ACTIVE)
        assert by_number is not None and by_number.iban == fx.IBAN_ACTIVE
        saman = lookup.deposit_by_number(conn, "SAMAN", fx.DEPOSIT_SAMAN)
        assert saman is not None and saman.iban == fx.IBAN_SAMAN
        bare = lookup.deposit_by_number(conn, "SAMAN", fx.DEPOSIT_SAMAN.replace("-", ""))
        assert bare is not None and bare.iban == fx.IBAN_SAMAN
        blu = next(p for p in fx.PAYMAN if p.payman_code == "BLUBIR")
        via_jibit = lookup.deposit_by_number(conn, "SAMAN", blu.deposit_number)
        via_payman = lookup.deposit_by_number(conn, "BLUBIR", blu.deposit_number)
        assert via_jibit is not None and via_payman is not None and via_jibit.bank == "BLU"
        assert lookup.address(conn, fx.POSTAL_OK) is not None
        assert lookup.address(conn, fx.POSTAL_UNKNOWN) is None
        foreigner = lookup.foreigner(conn, fx.FIDA_OK)
        assert foreigner is not None and len(foreigner.documents) == 2
        assert lookup.foreigner(conn, fx.FIDA_UNKNOWN) is None
        guild = lookup.guild(conn, fx.GUILD_OK)
        assert guild is not None and guild.national_code == fx.NC_OK
        assert lookup.guild(conn, fx.GUILD_UNKNOWN) is None
        absent = lookup.military(conn, fx.NC_MILITARY_ABSENT)
        assert absent is not None and absent.qualified is False
        assert lookup.military(conn, fx.NC_FEMALE) is None
        sana_ok, sana_no = lookup.sana(conn, fx.NC_OK), lookup.sana(conn, fx.NC_FEMALE)
        assert sana_ok is not None and sana_ok.registered
        assert sana_no is not None and not sana_no.registered
        for p in fx.PAYMAN:
            deposits = lookup.deposits_of(conn, p.national_code)
            assert [d.iban for d in deposits] == [p.iban] and deposits[0].balance > 0
        assert lookup.holder_name(conn, fx.LEGAL_OK) is not None
        assert lookup.holder_name(conn, fx.NC_OK) == ("علی", "رضایی")


def test_generated_identifiers_valid_in_db(db: Database) -> None:
    _seed(db, 300, 3)
    with db.read() as conn:
        for record in service.list_records(conn, "card", limit=10_000):
            assert is_valid_card_number(record.key)
        for record in service.list_records(conn, "deposit", limit=10_000):
            assert is_valid_iban(record.key)
        for record in service.list_records(conn, "person", limit=10_000):
            assert is_valid_national_code(record.key)


def test_jsonl_round_trip(db: Database) -> None:
    _seed(db, 200, 4)
    original = _export(db)
    with db.write() as conn:
        clear_world(conn)
        assert world_is_empty(conn)
        result = service.import_jsonl(conn, original)
    assert sum(v["created"] for v in result.values()) == len(original)
    assert _export(db) == original
    with db.write() as conn:  # importing again updates in place
        again = service.import_jsonl(conn, (line.decode() for line in original))
    assert sum(v["updated"] for v in again.values()) == len(original)
    assert _export(db) == original


def test_export_by_kind(db: Database) -> None:
    _seed(db, 50, 1)
    with db.read() as conn:
        kinds = {
            line.split(b'"kind":"')[1].split(b'"')[0]
            for line in service.export_jsonl(conn, ["card", "sana"])
        }
    assert kinds == {b"card", b"sana"}


def test_import_errors_are_line_numbered_and_atomic(db: Database) -> None:
    lines = [
        '{"kind": "person", "national_code": "0010350829", "first_name": "علی", "last_name": "رضایی",'
        ' "first_name_en": "Ali", "last_name_en": "Rezaei", "father_name": "محمد", "birth_date": "13600331",'
        ' "gender": "MALE"}',
        "",
        "# a comment",
        '{"kind": "person", "national_code": "0010350828"}',
        "not json",
        '{"kind": "planet"}',
    ]
    with pytest.raises(InvalidInput) as info, db.write() as conn:
        service.import_jsonl(conn, lines)
    assert set(info.value.errors) == {"line 4", "line 5", "line 6"}
    assert "checksum" in info.value.errors["line 4"]
    with db.read() as conn:
        assert world_is_empty(conn)
    card = f'{{"kind": "card", "number": "{fx.CARD_ACTIVE}", "deposit_iban": "{fx.IBAN_ACTIVE}"}}'
    with pytest.raises(InvalidInput) as info, db.write() as conn:
        service.import_jsonl(conn, [lines[0], card])
    assert "no deposit" in info.value.errors["line 2"]
    with db.read() as conn:
        assert world_is_empty(conn)


def test_crud(db: Database) -> None:
    _seed(db, 20, 1)
    person: dict[str, Any] = {
        "national_code": "0010350829",
        "first_name": "سارا",
        "last_name": "نوری",
        "first_name_en": "Sara",
        "last_name_en": "Nouri",
        "father_name": "رضا",
        "birth_date": "13700101",
        "gender": "FEMALE",
    }
    with db.write() as conn:
        created = service.create(conn, "person", person)
        assert created.key == "0010350829"
        with pytest.raises(Conflict):
            service.create(conn, "person", person)
    with db.write() as conn:
        updated = service.update(
            conn,
            "person",
            "۰۰۱۰۳۵۰۸۲۹",
            {"last_name": "نوروزی", "death_date": "14020101", "alive": False},
        )
        assert updated.last_name == "نوروزی" and updated.alive is False  # type: ignore[attr-defined]
        with pytest.raises(InvalidInput) as info:
            service.update(conn, "person", "0010350829", {"alive": True})
        assert "not alive" in str(info.value)
        with pytest.raises(InvalidInput):
            service.update(conn, "person", "0010350829", {"national_code": fx.NC_OK})
    with db.read() as conn:
        assert service.get(conn, "person", "0010350829").last_name == "نوروزی"  # type: ignore[attr-defined]
    with db.write() as conn:
        service.delete_record(conn, "person", "0010350829")
        with pytest.raises(NotFound):
            service.get(conn, "person", "0010350829")
        with pytest.raises(NotFound):
            service.delete_record(conn, "person", "0010350829")
        with pytest.raises(InvalidInput):
            service.get(conn, "person", "123")


def test_card_and_deposit_references(db: Database) -> None:
    _seed(db, 20, 1)
    with db.write() as conn:
        with pytest.raises(InvalidInput) as info:
            service.create(
                conn, "card", {"number": fx.CARD_UNKNOWN, "deposit_iban": fx.IBAN_UNKNOWN}
            )
        assert "deposit_iban" in info.value.errors
        with pytest.raises(InvalidInput) as info:  # a MELLI card on a MELLAT deposit
            service.create(conn, "card", {"number": fx.CARD_UNKNOWN, "deposit_iban": fx.IBAN_JOINT})
        assert "MELLAT" in info.value.errors["deposit_iban"]
        card = service.create(
            conn,
            "card",
            {
                "number": fx.CARD_UNKNOWN,
                "deposit_iban": fx.IBAN_ACTIVE,
                "holder_national_code": fx.NC_OK,
                "status": "LOST",
            },
        )
        assert card.bank == "MELLI"  # type: ignore[attr-defined]
        with pytest.raises(Conflict):  # same number at the same bank, another IBAN
            service.create(
                conn,
                "deposit",
                {
                    "bank": "MELLI",
                    "deposit_number": fx.DEPOSIT_ACTIVE,
                    "iban": fx.IBAN_PAYMAN_EMPTY,
                },
            )
        dep = service.create(
            conn,
            "deposit",
            {
                "bank": "MELLI",
                "deposit_number": fx.DEPOSIT_UNKNOWN,
                "owners": [{"national_code": fx.NC_OK}],
            },
        )
        assert dep.key == fx.IBAN_UNKNOWN
        updated = service.update(
            conn,
            "deposit",
            fx.IBAN_UNKNOWN,
            {"owners": [{"national_code": fx.NC_OK}, {"national_code": fx.NC_FEMALE}]},
        )
        assert updated.joint is True  # type: ignore[attr-defined]
        service.delete_record(conn, "deposit", fx.IBAN_ACTIVE)
        card_after = lookup.card(conn, fx.CARD_ACTIVE)
        assert card_after is not None and card_after.deposit_iban is None
        assert lookup.owner_names(conn, fx.IBAN_ACTIVE) == []


def test_list_and_filters(db: Database) -> None:
    _seed(db, 100, 2)
    with db.read() as conn:
        lost = service.list_records(conn, "card", filters={"status": "LOST"}, limit=1000)
        assert lost and all(c.status == "LOST" for c in lost)  # type: ignore[attr-defined]
        dead = service.list_records(conn, "person", filters={"alive": "false"}, limit=1000)
        assert fx.NC_DEAD in {p.key for p in dead}
        with pytest.raises(InvalidInput):
            service.list_records(conn, "card", filters={"nope": "1"})
        page1 = service.list_records(conn, "person", limit=10)
        page2 = service.list_records(conn, "person", limit=10, offset=10)
        assert len(page1) == 10 and not {p.key for p in page1} & {p.key for p in page2}


def test_stats(db: Database) -> None:
    counts = _seed(db, 200, 8)
    with db.read() as conn:
        stats = service.stats(conn)
    assert stats["counts"]["person"] == counts["world_people"]
    assert stats["counts"]["card"] == counts["world_cards"]
    assert stats["cards"]["by_status"]["LOST"] >= 1
    assert stats["deposits"]["joint"] >= 1
    assert stats["banks"]["inactive"] == [fx.BANK_INACTIVE]
    assert stats["people"]["dead"] >= 1


def test_debit_and_credit(db: Database) -> None:
    _seed(db, 10, 1)
    with db.write() as conn:
        assert lookup.debit_deposit(conn, fx.IBAN_PAYMAN_EMPTY, 1) is None
        assert lookup.debit_deposit(conn, fx.PAYMAN[0].iban, 1000) == fx.PAYMAN_BALANCE - 1000
        assert lookup.credit_deposit(conn, fx.PAYMAN[0].iban, 500) == fx.PAYMAN_BALANCE - 500
        assert lookup.debit_deposit(conn, fx.IBAN_UNKNOWN, 1) is None


def test_seed_default_world_and_larger_world(db: Database) -> None:
    with db.write() as conn:
        seed_default_world(conn, people=2000, seed=1)
    expected = WorldGenerator(2000, 1).generate()
    with db.read() as conn:
        counts = service.table_counts(conn)
    fixture_rows = fx.fixture_rows()
    for name, rows in expected.items():
        assert counts[name] == len(rows) + len(fixture_rows[name]), name
