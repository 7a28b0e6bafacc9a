"""The committed OpenAPI document equals the one the server serves."""

from __future__ import annotations

from typing import Any

from support.specs import assert_committed


def test_committed_openapi_matches_served(client: Any) -> None:
    doc = assert_committed(client, "pendar")
    assert "/api/RecievedCertConfirmation" in doc["paths"]
    assert "post" in doc["paths"]["/api/RegisterInfo"]
    assert "get" in doc["paths"]["/api/GetCAList"]
