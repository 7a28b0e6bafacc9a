"""The committed OpenAPI document equals the one the server serves."""

from __future__ import annotations

from typing import Any

from support.specs import assert_committed


def test_committed_spec_matches_served(client: Any) -> None:
    paths = assert_committed(client, "payman")["paths"]
    assert (
        "/v1/payman/pay" in paths
        and "/oauth/token" in paths
        and "/payman-bank/oauth/authorize" in paths
    )
