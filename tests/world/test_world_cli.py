"""``pishkhan world ...`` run in-process against the test database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pishkhan.cli import main
from pishkhan.world import fixtures as fx

Capsys = pytest.CaptureFixture[str]


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capsys) -> Any:
    for key in ("PISHKHAN_SURFACES", "PISHKHAN_ADMIN_TOKEN", "PISHKHAN_TOKEN_SECRET"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PISHKHAN_DATA_DIR", str(tmp_path / "cli-data"))
    monkeypatch.setenv("PISHKHAN_DATABASE_URL", db_url)
    monkeypatch.setenv("PISHKHAN_SEED_WORLD", "0")

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        return code, out, err

    return run


def test_seed_stats_fixtures(cli: Any) -> None:
    code, out, _ = cli("world", "seed", "--people", "100", "--seed", "3", "--json")
    assert code == 0
    seeded = json.loads(out)
    assert seeded["rows"]["world_people"] == 100 + len(fx.fixture_rows()["world_people"])
    code, out, _ = cli("world", "stats", "--json")
    assert code == 0 and json.loads(out)["counts"]["person"] == seeded["rows"]["world_people"]
    code, out, _ = cli("world", "stats")
    assert code == 0 and "by_status" in out
    code, out, _ = cli("world", "fixtures", "--json")
    assert code == 0 and {f["key"] for f in json.loads(out)} >= {fx.CARD_LOST, fx.NC_DEAD}
    code, out, _ = cli("world", "fixtures")
    assert code == 0 and fx.CARD_STOLEN in out


def test_crud_and_errors(cli: Any) -> None:
    assert cli("world", "seed", "--people", "10")[0] == 0
    code, out, err = cli(
        "world",
        "add",
        "person",
        "national_code=0010350829",
        "first_name=سارا",
        "last_name=نوری",
        "first_name_en=Sara",
        "last_name_en=Nouri",
        "father_name=رضا",
        "birth_date=1370/01/01",
        "gender=FEMALE",
        "--json",
    )
    assert code == 0, err
    assert json.loads(out)["national_code"] == "0010350829"
    code, out, _ = cli("world", "show", "person", "0010350829")
    assert code == 0 and "Sara" in out
    code, out, _ = cli(
        "world", "update", "person", "0010350829", '{"last_name": "نوروزی"}', "--json"
    )
    assert code == 0 and json.loads(out)["last_name"] == "نوروزی"
    code, _, err = cli("world", "add", "person", "national_code=0010350828", "first_name=x")
    assert code == 2 and err.startswith("pishkhan: ") and "checksum" in err
    code, _, err = cli("world", "show", "card", fx.CARD_UNKNOWN)
    assert code == 2 and "not found" in err
    code, _, err = cli("world", "show", "card", "1234")
    assert code == 2 and "card" in err
    code, _, err = cli("world", "add", "card", "oops")
    assert code == 2 and "FIELD=VALUE" in err
    code, _, _ = cli("world", "show", "planet", "1")
    assert code == 2
    code, out, _ = cli("world", "delete", "person", "0010350829")
    assert code == 0 and "deleted" in out
    code, out, _ = cli("world", "list", "card", "--where", "status=LOST", "--json")
    assert code == 0 and all(r["status"] == "LOST" for r in json.loads(out)["records"])
    code, _, err = cli("world", "list", "card", "--where", "nope")
    assert code == 2 and "COLUMN=VALUE" in err


def test_export_import_round_trip(cli: Any, tmp_path: Path) -> None:
    assert cli("world", "seed", "--people", "50", "--seed", "2")[0] == 0
    first = tmp_path / "world.jsonl"
    code, _, err = cli("world", "export", str(first))
    assert code == 0 and "exported" in err
    assert cli("world", "seed", "--people", "0")[0] == 0
    code, out, _ = cli("world", "import", str(first), "--json")
    assert code == 0 and json.loads(out)["imported"]["person"]["updated"] > 0
    second = tmp_path / "again.jsonl"
    assert cli("world", "export", str(second))[0] == 0
    assert first.read_bytes() == second.read_bytes()
    code, out, _ = cli("world", "export", "-", "--kind", "bank")
    assert code == 0 and all(json.loads(line)["kind"] == "bank" for line in out.splitlines())
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"kind": "card", "number": "123"}\n', encoding="utf-8")
    code, _, err = cli("world", "import", str(bad))
    assert code == 2 and "line 1" in err
    code, _, err = cli("world", "import", str(tmp_path / "missing.jsonl"))
    assert code == 2 and "cannot read" in err
