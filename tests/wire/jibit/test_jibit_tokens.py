"""Tokens, authentication, tenancy and the wire tolerances real clients need (docs/jibit.md)."""

from __future__ import annotations

import base64
import json
from typing import Any

from jibit_support import API_KEY, PREFIX, SECRET_KEY, Customer, create_customer, usage

from pishkhan.control import sandbox_ops
from pishkhan.providers.jibit.errors import message_for
from pishkhan.runtime import Runtime
from pishkhan.tenants import service as tenants
from pishkhan.world import fixtures as F

GEN, REF = f"{PREFIX}/tokens/generate", f"{PREFIX}/tokens/refresh"
CARD = f"{PREFIX}/cards?number={F.CARD_ACTIVE}"


def err(r: Any, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.json() == {"code": code, "message": message_for(code)}


def claims(token: str) -> dict[str, Any]:
    body = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))


def test_generate(client: Any, customer: Customer, runtime: Runtime) -> None:
    r = client.post(
        GEN, json={"apiKey": API_KEY, "secretKey": SECRET_KEY}, headers={"Authorization": "Bearer "}
    )
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"accessToken", "refreshToken"}
    access, refresh = claims(body["accessToken"]), claims(body["refreshToken"])
    now = int(runtime.clock.timestamp())
    assert access["exp"] - access["iat"] == 24 * 3600 and abs(access["iat"] - now) <= 2
    assert refresh["exp"] - refresh["iat"] == 48 * 3600
    assert (
        client.get(CARD, headers={"Authorization": f"Bearer {body['accessToken']}"}).status_code
        == 200
    )


def test_generate_errors(client: Any, customer: Customer) -> None:
    err(client.post(GEN, content=b"not json"), 400, "invalid.request_body")
    err(client.post(GEN, json=[1]), 400, "invalid.request_body")
    err(client.post(GEN, json={"secretKey": "x"}), 400, "apiKey.is_required")
    err(
        client.post(GEN, json={"apiKey": "k" * 65, "secretKey": "x"}), 400, "apiKey.length_exceeded"
    )
    err(client.post(GEN, json={"apiKey": API_KEY}), 400, "secretKey.is_required")
    err(
        client.post(GEN, json={"apiKey": API_KEY, "secretKey": "s" * 129}),
        400,
        "secretKey.length_exceeded",
    )
    err(
        client.post(GEN, json={"apiKey": API_KEY, "secretKey": "wrong"}), 401, "invalid.credentials"
    )
    err(
        client.post(GEN, json={"apiKey": "unknown", "secretKey": SECRET_KEY}),
        401,
        "invalid.credentials",
    )


def test_refresh(client: Any, pair: dict[str, str], runtime: Runtime) -> None:
    # keys in any order, Authorization ignored, expired access token accepted
    sandbox_ops.advance(runtime, 25 * 3600)
    err(
        client.get(CARD, headers={"Authorization": f"Bearer {pair['accessToken']}"}),
        403,
        "forbidden",
    )
    r = client.post(
        REF,
        json={"refreshToken": pair["refreshToken"], "accessToken": pair["accessToken"]},
        headers={"Authorization": "Bearer garbage"},
    )
    assert r.status_code == 200, r.text
    new = r.json()
    assert set(new) == {"accessToken", "refreshToken"}
    assert (
        client.get(CARD, headers={"Authorization": f"Bearer {new['accessToken']}"}).status_code
        == 200
    )


def test_refresh_errors(client: Any, customer: Customer, runtime: Runtime) -> None:
    from pishkhan.providers.jibit.tokens import TokenSigner

    a = client.post(GEN, json={"apiKey": API_KEY, "secretKey": SECRET_KEY}).json()
    b = client.post(GEN, json={"apiKey": API_KEY, "secretKey": SECRET_KEY}).json()
    err(client.post(REF, content=b"{"), 400, "invalid.request_body")
    err(client.post(REF, json={"refreshToken": a["refreshToken"]}), 400, "accessToken.is_required")
    err(client.post(REF, json={"accessToken": a["accessToken"]}), 400, "refreshToken.is_required")
    err(
        client.post(REF, json={"accessToken": a["accessToken"], "refreshToken": "x.y.z"}),
        401,
        "refreshToken.not_valid",
    )
    err(
        client.post(REF, json={"accessToken": a["accessToken"], "refreshToken": a["accessToken"]}),
        401,
        "refreshToken.not_valid",
    )
    err(
        client.post(REF, json={"accessToken": b["accessToken"], "refreshToken": a["refreshToken"]}),
        401,
        "invalid.tokens_pair",
    )
    forged = TokenSigner("another-secret").issue_pair(customer.id, 0, runtime.clock.timestamp())
    err(
        client.post(REF, json={"accessToken": forged[0], "refreshToken": forged[1]}),
        401,
        "refreshToken.not_valid",
    )
    with runtime.db.write() as conn:
        tenants.set_status(conn, runtime.clock, customer.slug, "disabled")
    err(client.post(REF, json=a), 404, "client.not_found")
    sandbox_ops.advance(runtime, 49 * 3600)
    with runtime.db.write() as conn:
        tenants.set_status(conn, runtime.clock, customer.slug, "active")
    err(client.post(REF, json=a), 401, "refreshToken.not_valid")


def test_forbidden(
    client: Any, customer: Customer, auth: dict[str, str], runtime: Runtime, pair: dict[str, str]
) -> None:
    err(client.get(CARD), 403, "forbidden")
    err(client.get(CARD, headers={"Authorization": "Bearer "}), 403, "forbidden")
    err(client.get(CARD, headers={"Authorization": "Bearer abc.def.ghi"}), 403, "forbidden")
    err(
        client.get(CARD, headers={"Authorization": f"Bearer {pair['refreshToken']}"}),
        403,
        "forbidden",
    )
    err(client.get(f"{PREFIX}/balances"), 403, "forbidden")
    # token.is_required on the services whose tables document it
    err(
        client.get(f"{PREFIX}/services/social/msq?nationalCode={F.NC_OK}"), 401, "token.is_required"
    )
    err(client.get(f"{PREFIX}/services/social/sana"), 401, "token.is_required")
    err(
        client.get(f"{PREFIX}/services/corporation/identity?code={F.GUILD_OK}"),
        401,
        "token.is_required",
    )
    # a disabled customer
    with runtime.db.write() as conn:
        tenants.set_status(conn, runtime.clock, customer.slug, "disabled")
    err(client.get(CARD, headers=auth), 403, "forbidden")
    err(
        client.post(GEN, json={"apiKey": API_KEY, "secretKey": SECRET_KEY}),
        401,
        "invalid.credentials",
    )
    assert usage(runtime, customer) == []


def test_rotation_revokes_tokens(
    client: Any, customer: Customer, auth: dict[str, str], runtime: Runtime
) -> None:
    assert client.get(CARD, headers=auth).status_code == 200
    with runtime.db.write() as conn:
        tenants.rotate_secrets(conn, runtime.clock, customer.slug, "jibit")
    err(client.get(CARD, headers=auth), 403, "forbidden")


def test_rotation_under_a_frozen_clock_revokes_tokens(
    client: Any, customer: Customer, runtime: Runtime
) -> None:
    """The credential version was the rotation time: with the sandbox clock frozen, every
    rotation had the creation's, and tokens issued before a rotation kept working."""
    sandbox_ops.freeze(runtime, "2025-06-03T08:30:00+00:00")
    with runtime.db.write() as conn:
        new = tenants.rotate_secrets(conn, runtime.clock, customer.slug, "jibit")["secrets"]
    pair = client.post(GEN, json=new["jibit"]).json()
    auth = {"Authorization": f"Bearer {pair['accessToken']}"}
    assert client.get(CARD, headers=auth).status_code == 200
    with runtime.db.write() as conn:
        tenants.rotate_secrets(conn, runtime.clock, customer.slug, "jibit")
    err(client.get(CARD, headers=auth), 403, "forbidden")
    err(client.post(REF, json=pair), 401, "refreshToken.not_valid")


def test_ip_allowlist(client: Any, runtime: Runtime, world: None) -> None:
    # the test client connects from "testclient"; 127.0.0.1 is not it
    allowed = create_customer(
        runtime,
        "allowed",
        api_key="k-allowed",
        secret_key="s-allowed" * 3,
        allowed_ips=("testclient-does-not-parse", "10.0.0.0/8"),
    )
    err(
        client.post(GEN, json={"apiKey": "k-allowed", "secretKey": "s-allowed" * 3}),
        401,
        "invalid.credentials",
    )
    assert allowed.id


def test_tolerances(client: Any, auth: dict[str, str]) -> None:
    m = f"{PREFIX}/services/matching"
    q = {"nationalCode": F.NC_OK, "mobileNumber": F.MOBILE_OK}
    # GET query, POST JSON, GET with a JSON body and no query
    assert client.get(m, params=q, headers=auth).json() == {"matched": True}
    assert client.post(m, json=q, headers=auth).json() == {"matched": True}
    r = client.request(
        "GET", m, content=json.dumps(q), headers={**auth, "Content-Type": "application/json"}
    )
    assert r.json() == {"matched": True}
    # the query wins when both are present
    r = client.request(
        "POST",
        m,
        params={"nationalCode": F.NC_FEMALE, "mobileNumber": F.MOBILE_OK},
        json=q,
        headers=auth,
    )
    assert r.json() == {"matched": False}
    # unknown parameters ignored; checkAliveness and "None" names on similarity
    s = f"{PREFIX}/services/identity/similarity"
    r = client.post(
        s,
        json={
            "nationalCode": F.NC_OK,
            "birthDate": "13600331",
            "firstName": "علی",
            "lastName": "None",
            "checkAliveness": True,
            "foo": 1,
        },
        headers=auth,
    )
    assert r.json() == {"firstNameSimilarityPercentage": 100}
    # flags: true / "true" / 1 / True, explicit false
    for flags in (
        "iban=true",
        "iban=True",
        "iban=1",
        "deposit=false&iban=true&nationalCode=false",
        "deposit=0&iban=true&nationalCode=",
    ):
        r = client.get(f"{PREFIX}/cards?number={F.CARD_ACTIVE}&{flags}", headers=auth)
        assert "ibanInfo" in r.json(), flags
    r = client.get(f"{PREFIX}/cards?number={F.CARD_ACTIVE}&deposit=false&iban=false", headers=auth)
    assert "cardInfo" in r.json()
    # Persian digits and spaces in identifiers; doubled slash
    r = client.get(f"/ide//v1/ibans?value={F.IBAN_ACTIVE.lower()}", headers=auth)
    assert r.status_code == 200 and r.json()["value"] == F.IBAN_ACTIVE
    persian = F.CARD_ACTIVE.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    r = client.get(f"{PREFIX}/cards", params={"number": persian}, headers=auth)
    assert r.json()["number"] == F.CARD_ACTIVE
    # lower-case bank id
    r = client.get(
        f"{PREFIX}/deposits?bank=melli&number={F.DEPOSIT_ACTIVE}&iban=true", headers=auth
    )
    assert r.status_code == 200
    # a 200 body never has a top-level "code" (postal has one by the document, nothing else)
    assert "code" not in client.get(CARD, headers=auth).json()
