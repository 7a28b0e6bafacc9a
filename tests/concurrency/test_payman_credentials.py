"""A rotation or a disable made through one server process ends the earlier Payman tokens at
once at another process on the same database (issue 19 item 10): two real ``pishkhan serve``
processes, SQLite file and PostgreSQL, no waiting for a cache."""

from __future__ import annotations

from typing import Any

import httpx

ADMIN_TOKEN = "test-admin-token"  # what tests/conftest.py gives the live servers

CLIENT_HEADERS = {
    "Client-Device-Id": "10.0.0.1",
    "Client-Ip-Address": "127.0.0.1",
    "Client-User-Agent": "pytest",
    "Client-Platform-Type": "WEB",
}
TOKEN_INVALID = {
    "error": "توکن غیر معتبر است",
    "code": "2069",
    "errors": [{"error": "توکن غیر معتبر است", "code": "2069", "reference": "Authorization"}],
}
APP_KEY_UNKNOWN = {
    "error": "موسسه یافت نشد",
    "code": "2002",
    "errors": [{"error": "موسسه یافت نشد", "code": "2002", "reference": "App-Key"}],
}


def token(http: httpx.Client, creds: dict[str, str]) -> str:
    r = http.post(
        "/oauth/token",
        data={
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
            "grant_type": "client_credentials",
        },
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def answers(http: httpx.Client, bearer: str, app_key: str) -> list[tuple[int, Any]]:
    """A pay (PostgreSQL: the merchant cache on the event loop, the epoch checked in the pay's
    statement) and a getId (the threadpool's authentication), naming no mandate: 2014 once
    authenticated."""
    headers = {"Authorization": f"Bearer {bearer}", "App-Key": app_key, **CLIENT_HEADERS}
    pay = http.post(
        "/v1/payman/pay",
        json={"trace_id": "t-1", "payman_id": "no-such-mandate", "amount": 1000},
        headers=headers,
    )
    get_id = http.get("/v1/payman/getId", params={"payman_code": "nope"}, headers=headers)
    return [(pay.status_code, pay.json()), (get_id.status_code, get_id.json())]


def accepted(http: httpx.Client, bearer: str, app_key: str) -> bool:
    return [body["code"] for _, body in answers(http, bearer, app_key)] == ["2014", "2014"]


def test_rotation_and_disable_reach_every_process_at_once(
    db_url: str, live_server_factory: Any
) -> None:
    a = live_server_factory(db_url, workers=1)
    b = live_server_factory(db_url, workers=1)
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with (
        httpx.Client(base_url=a.base_url, timeout=30, headers=admin) as at_a,
        httpx.Client(base_url=b.base_url, timeout=30) as at_b,
    ):
        r = at_a.post("/_pishkhan/v1/customers", json={"name": "shop", "slug": "shop"})
        assert r.status_code in (200, 201), r.text
        first = r.json()["secrets"]["payman"]
        # B has just read its merchant cache: the old token is known good there.
        first_token = token(at_b, first)
        assert accepted(at_b, first_token, first["app_key"])

        r = at_a.post("/_pishkhan/v1/customers/shop/rotate", json={"surface": "payman"})
        assert r.status_code == 200, r.text
        second = r.json()["secrets"]["payman"]
        assert answers(at_b, first_token, first["app_key"]) == [(401, TOKEN_INVALID)] * 2
        second_token = token(at_b, second)
        assert answers(at_b, second_token, first["app_key"]) == [(400, APP_KEY_UNKNOWN)] * 2
        assert accepted(at_b, second_token, second["app_key"])

        r = at_a.post("/_pishkhan/v1/customers/shop/status", json={"status": "disabled"})
        assert r.status_code == 200, r.text
        assert answers(at_b, second_token, second["app_key"]) == [(401, TOKEN_INVALID)] * 2
        r = at_a.post("/_pishkhan/v1/customers/shop/status", json={"status": "active"})
        assert r.status_code == 200, r.text
        assert answers(at_b, second_token, second["app_key"]) == [(401, TOKEN_INVALID)] * 2
        assert accepted(at_b, token(at_b, second), second["app_key"])
