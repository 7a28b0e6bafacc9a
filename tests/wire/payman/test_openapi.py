"""The committed OpenAPI document equals the one the server serves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SPEC = Path(__file__).resolve().parents[3] / "specs" / "payman.openapi.json"


def test_committed_spec_matches_served(client: Any) -> None:
    served = client.get("/_pishkhan/openapi/payman.json")
    assert served.status_code == 200
    assert served.json() == json.loads(SPEC.read_text()), (
        "specs/payman.openapi.json is stale: regenerate it from /_pishkhan/openapi/payman.json"
    )
    paths = served.json()["paths"]
    assert (
        "/v1/payman/pay" in paths
        and "/oauth/token" in paths
        and "/payman-bank/oauth/authorize" in paths
    )
