"""The committed OpenAPI document equals the one the server serves.

Regenerate after a change: see ``tests/support/specs.py``.
"""

from __future__ import annotations

from typing import Any

from support.specs import assert_committed


def test_served_document_matches_committed(client: Any) -> None:
    assert_committed(client, "jibit")


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
