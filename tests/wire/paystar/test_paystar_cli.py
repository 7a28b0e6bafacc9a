"""``pishkhan paystar fault ...`` drives the same faults the admin API does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pishkhan.cli import main
from pishkhan.providers.paystar import sandbox as faults
from pishkhan.runtime import Runtime


def test_cli_sets_shows_and_clears_faults(
    runtime: Runtime, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("PISHKHAN_DATABASE_URL", db_url)
    monkeypatch.setenv("PISHKHAN_DATA_DIR", str(tmp_path / "cli"))
    assert main(["paystar", "fault", "set", "card-national-id", "upstream_error"]) == 0
    assert faults.fault_for(runtime.state, "card-national-id") == faults.UPSTREAM_ERROR
    assert faults.fault_for(runtime.state, "mobile-national-id") is None
    capsys.readouterr()
    assert main(["paystar", "fault", "show", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"faults": {"card-national-id": "upstream_error"}}
    assert main(["paystar", "fault", "clear"]) == 0
    assert faults.fault_for(runtime.state, "card-national-id") is None
