"""The committed OpenAPI document is what the server serves, and answers conform to it.

Regenerate after a change: see ``tests/support/specs.py``.
"""

from __future__ import annotations

from typing import Any

from paystar_wire_support import MATCH, REFRESH, App
from pydantic import BaseModel

from pishkhan.providers.paystar import wire as schemas
from pishkhan.world import fixtures as F
from support.specs import assert_committed


def test_committed_spec_matches_the_server(client: Any) -> None:
    assert_committed(client, "paystar")


def test_spec_lists_every_endpoint_and_security(client: Any) -> None:
    doc = client.get("/_pishkhan/openapi/paystar.json").json()
    assert doc["openapi"] == "3.1.0"
    assert sorted(doc["paths"]) == [
        "/api/application/refresh-api-key",
        "/api/open-banking/application/refresh-api-key",
        "/api/open-banking/service/info-matching/card-national-id",
        "/api/open-banking/service/info-matching/iban-national-id",
        "/api/open-banking/service/info-matching/mobile-national-id",
    ]
    card = doc["paths"]["/api/open-banking/service/info-matching/card-national-id"]["post"]
    assert card["security"] == [{"apiKey": []}]
    assert doc["paths"][REFRESH]["post"]["security"] == []
    required = doc["components"]["schemas"]["CardNationalIdRequest"]["required"]
    assert required == ["application_id", "access_password", "national_id", "card_number",
                        "birth_date"]  # fmt: skip


def _conforms(model: type[BaseModel], body: Any) -> None:
    model.model_validate(body, strict=True)


def test_answers_conform_to_the_spec_models(admin: Any, app_creds: App, api_key: str) -> None:
    _conforms(
        schemas.RefreshApiKeyResponse, admin.post(REFRESH, json=app_creds.refresh_body()).json()
    )
    headers = {"Authorization": f"Bearer {api_key}"}
    fields = {**app_creds.creds(), "national_id": F.NC_OK, "mobile_number": F.MOBILE_OK}
    ok = admin.post(MATCH + "mobile-national-id", json=fields, headers=headers)
    _conforms(schemas.MatchResponse, ok.json())
    bad = admin.post(MATCH + "mobile-national-id", json={**fields, "national_id": "1"},
                     headers=headers)  # fmt: skip
    _conforms(schemas.FailureResponse, bad.json())
    admin.put("/_pishkhan/v1/paystar/faults", json={"target": "*", "fault": "server_error"})
    err = admin.post(MATCH + "mobile-national-id", json=fields, headers=headers)
    assert err.status_code == 500
    _conforms(schemas.ServerErrorResponse, err.json())
