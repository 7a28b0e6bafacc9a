"""The committed OpenAPI document equals the one the server serves.

Regenerate after a change: ``PISHKHAN_WRITE_SPECS=1 pytest tests/wire/jibit/test_jibit_openapi.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

SPEC = Path(__file__).resolve().parents[3] / "specs" / "jibit.openapi.json"


def test_served_document_matches_committed(client: Any) -> None:
    r = client.get("/_pishkhan/openapi/jibit.json")
    assert r.status_code == 200
    served = r.json()
    text = json.dumps(served, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if os.environ.get("PISHKHAN_WRITE_SPECS"):
        SPEC.parent.mkdir(exist_ok=True)
        SPEC.write_text(text, encoding="utf-8")
    assert SPEC.read_text(encoding="utf-8") == text


def test_document_describes_the_wire(client: Any) -> None:
    doc = client.get("/_pishkhan/openapi/jibit.json").json()
    assert doc["openapi"] == "3.1.0"
    paths = doc["paths"]
    assert set(paths["/ide/v1/services/matching"]) == {"get", "post"}
    assert "/ide/v1/cards" in paths and "/ide/health" in paths
    error = doc["components"]["schemas"]["Error"]
    assert error["required"] == ["code", "message"] and error["additionalProperties"] is False
    card = paths["/ide/v1/cards"]["get"]["responses"]
    assert set(card) == {"200", "400", "403", "404", "429", "500", "503"}
    assert doc["components"]["schemas"]["AddressInfo"]["properties"]["Province"]
    assert paths["/ide/v1/tokens/generate"]["post"]["security"] == []
