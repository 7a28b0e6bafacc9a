"""Every answer body the rules build is the one its wire model (the document) describes.

One successful call per route of the surface's tables (``routes.INQUIRIES``, ``routes.ACCOUNT``),
plus the tokens and health; each body validates against its model's JSON Schema (the same
schema the OpenAPI document is generated from: enums, required fields, no other fields).
A route added to the tables without a sample here fails :func:`test_every_route_has_a_sample`.
"""

from __future__ import annotations

from typing import Any

import pytest
from jibit_support import PREFIX
from jsonschema import Draft202012Validator
from pydantic import BaseModel

from pishkhan.providers.jibit import routes, wire
from pishkhan.world import fixtures as F

BD = "13600331"
SAMPLES: dict[str, list[str]] = {
    "/v1/cards": [
        f"number={F.CARD_ACTIVE}",
        f"number={F.CARD_ACTIVE}&deposit=true",
        f"number={F.CARD_ACTIVE}&iban=true",
    ],
    "/v1/ibans": [f"value={F.IBAN_JOINT}", f"value={F.IBAN_LEGAL}"],
    "/v1/deposits": [f"bank=MELLI&number={F.DEPOSIT_ACTIVE}&iban=true"],
    "/v1/services/matching": [
        f"cardNumber={F.CARD_ACTIVE}&nationalCode={F.NC_OK}&birthDate={BD}",
        f"iban={F.IBAN_ACTIVE}&name=علی رضایی",
        f"nationalCode={F.NC_OK}&mobileNumber={F.MOBILE_OK}",
    ],
    "/v1/services/postal": [f"code={F.POSTAL_OK}"],
    "/v1/services/postal/wgs": [f"code={F.POSTAL_OK}"],
    "/v1/services/identity/similarity": [
        f"nationalCode={F.NC_OK}&birthDate={BD}&firstName=علی&fatherName=محمود",
        f"nationalCode={F.NC_OK}&birthDate={BD}&lastName=کریمی",
    ],
    "/v1/services/foreigners/identity": [f"fida={F.FIDA_OK}"],
    "/v1/services/corporation/identity": [f"code={F.GUILD_OK}"],
    "/v1/services/social/msq": [f"nationalCode={F.NC_OK}", f"nationalCode={F.NC_FEMALE}"],
    "/v1/services/social/sana": [f"nationalCode={F.NC_OK}&mobileNumber={F.MOBILE_OK}"],
    "/v1/services/availability": ["", "cardToIBAN=true"],
    "/v1/balances": [""],
    "/v1/reports/daily": ["yearMonthDay=000708"],
}
TABLE = [(r.path, r.answer[1]) for r in (*routes.INQUIRIES, *routes.ACCOUNT)]


def _valid(model: type[BaseModel], body: Any) -> None:
    Draft202012Validator(model.model_json_schema()).validate(body)


def test_every_route_has_a_sample() -> None:
    assert sorted(path for path, _ in TABLE) == sorted(SAMPLES)


@pytest.mark.parametrize(("path", "model"), TABLE, ids=[p for p, _ in TABLE])
def test_answers_are_their_models(
    client: Any, auth: dict[str, str], path: str, model: type[BaseModel]
) -> None:
    for query in SAMPLES[path]:
        r = client.get(f"{PREFIX}{path[len('/v1') :]}?{query}", headers=auth)
        assert r.status_code == 200, (query, r.text)
        _valid(model, r.json())


def test_tokens_health_and_errors_are_their_models(
    client: Any, pair: dict[str, str], auth: dict[str, str]
) -> None:
    _valid(wire.TokenPair, pair)
    r = client.post(f"{PREFIX}/tokens/refresh", json=pair)
    assert r.status_code == 200
    _valid(wire.TokenPair, r.json())
    _valid(wire.Health, client.get("/ide/health").json())
    r = client.get(f"{PREFIX}/cards?number={F.CARD_LOST}", headers=auth)
    assert r.status_code == 400
    _valid(wire.Error, r.json())


def test_a_wrong_body_is_refused_by_the_model() -> None:
    """The models are closed and typed: the check above can fail."""
    with pytest.raises(Exception, match="Additional properties"):
        _valid(wire.Matching, {"matched": True, "extra": 1})
    with pytest.raises(Exception, match="is not one of"):
        _valid(wire.CardToDeposit, {"number": "1", "type": "PLATINUM", "depositInfo": {}})
