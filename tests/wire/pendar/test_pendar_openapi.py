"""The committed OpenAPI document equals the one the server serves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SPEC = Path(__file__).resolve().parents[3] / "specs" / "pendar.openapi.json"


def test_committed_openapi_matches_served(client: Any) -> None:
    served = client.get("/_pishkhan/openapi/pendar.json")
    assert served.status_code == 200
    doc = served.json()
    assert doc == json.loads(SPEC.read_text())
    assert "/api/RecievedCertConfirmation" in doc["paths"]
    assert "post" in doc["paths"]["/api/RegisterInfo"]
    assert "get" in doc["paths"]["/api/GetCAList"]
