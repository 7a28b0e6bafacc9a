"""One credential cache for every surface (``pishkhan.tenants.cache``): a change the control
plane of one process has answered is seen by the very next request of another process, on
Jibit, Pendar and Payman. Two runtimes on one database stand for two processes (each its own
``Database``, credential cache and epoch reader); nothing waits for a cache to expire."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from pishkhan.app import create_app
from pishkhan.runtime import Runtime
from pishkhan.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pendar.support import Customer as PendarCustomer
from pendar.support import openssl_rsa_key, public_pem

ADMIN = {"Authorization": "Bearer test-admin-token"}
JIBIT = "/ide/v1"
JIBIT_FORBIDDEN = {
    "code": "forbidden",
    "message": "غیرمجاز (توکن نامعتبر است یا حساب کاربری شما غیرفعال است)",
}
CLIENT_HEADERS = {
    "Client-Device-Id": "10.0.0.1",
    "Client-Ip-Address": "127.0.0.1",
    "Client-User-Agent": "pytest",
    "Client-Platform-Type": "WEB",
}
PAYMAN_TOKEN_INVALID = {
    "error": "توکن غیر معتبر است",
    "code": "2069",
    "errors": [{"error": "توکن غیر معتبر است", "code": "2069", "reference": "Authorization"}],
}
#: Pendar: no such tracking code (the customer check passed), the customer refused, a request
#: signature that is not the customer's, a CA not granted.
NO_TRACKING, CUSTOMER_INVALID, SIGNATURE_INVALID, CA_NOT_GRANTED = 1111, 1203, 1200, 1102


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, extra={**settings.extra, "pendar_ca_key": "ec-p256"})


@contextmanager
def process(settings: Settings) -> Iterator[TestClient]:
    """Another process on the same database: its own runtime, app and caches."""
    rt = Runtime.open(settings)
    try:
        with TestClient(create_app(runtime=rt), base_url="http://127.0.0.1") as client:
            yield client
    finally:
        rt.close()


@pytest.fixture
def other(settings: Settings) -> Iterator[TestClient]:
    with process(settings) as client:
        yield client


def _admin(client: TestClient, method: str, path: str, body: Any = None) -> dict[str, Any]:
    r = client.request(method, f"/_pishkhan/v1{path}", json=body, headers=ADMIN)
    assert r.status_code in (200, 201), r.text
    return dict(r.json())


def _jibit_token(client: TestClient, secrets: dict[str, str]) -> dict[str, str]:
    r = client.post(
        f"{JIBIT}/tokens/generate",
        json={"apiKey": secrets["apiKey"], "secretKey": secrets["secretKey"]},
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['accessToken']}"}


def _balances(client: TestClient, bearer: dict[str, str]) -> tuple[int, Any]:
    r = client.get(f"{JIBIT}/balances", headers=bearer)
    return r.status_code, r.json()


def test_jibit_changes_reach_another_process_at_once(client: TestClient, other: TestClient) -> None:
    created = _admin(client, "POST", "/customers", {"name": "shop", "slug": "shop"})
    bearer = _jibit_token(other, created["secrets"]["jibit"])
    assert _balances(other, bearer)[0] == 200  # the other process holds the customer now

    _admin(client, "PATCH", "/customers/shop", {"allowed_ips": ["10.9.9.9/32"]})
    assert _balances(other, bearer) == (403, JIBIT_FORBIDDEN)
    _admin(client, "PATCH", "/customers/shop", {"allowed_ips": []})
    assert _balances(other, bearer)[0] == 200

    rotated = _admin(client, "POST", "/customers/shop/rotate", {"surface": "jibit"})
    assert _balances(other, bearer) == (403, JIBIT_FORBIDDEN)
    r = other.post(f"{JIBIT}/tokens/generate", json=created["secrets"]["jibit"])
    assert r.status_code == 401 and r.json()["code"] == "invalid.credentials", r.text
    bearer = _jibit_token(other, rotated["secrets"]["jibit"])
    assert _balances(other, bearer)[0] == 200

    _admin(client, "POST", "/customers/shop/status", {"status": "disabled"})
    assert _balances(other, bearer) == (403, JIBIT_FORBIDDEN)
    _admin(client, "POST", "/customers/shop/status", {"status": "active"})
    assert _balances(other, bearer)[0] == 200


def test_pendar_changes_reach_another_process_at_once(
    client: TestClient, other: TestClient, tmp_path: Path
) -> None:
    key = openssl_rsa_key(tmp_path, 1024)
    created = _admin(
        client,
        "POST",
        "/customers",
        {"name": "ra", "slug": "ra", "pendar_public_key_pem": public_pem(key)},
    )
    at_other = PendarCustomer(other, key, created)

    def issue() -> int:
        """An issuance at the other process (its hot path: the cached account) of a tracking
        code that does not exist: 1111 once the customer check passed."""
        r = at_other.post("IssueCertificateByTrackingCode", at_other.issue_body("9" * 12))
        assert r.status_code == 200, r.text
        return int(r.json()["ErrorCode"])

    assert issue() == NO_TRACKING
    _admin(client, "POST", "/customers/ra/status", {"status": "disabled"})
    assert issue() == CUSTOMER_INVALID
    _admin(client, "POST", "/customers/ra/status", {"status": "active"})
    assert issue() == NO_TRACKING

    _admin(client, "PUT", "/pendar/customers/ra/grants", {"cas": {"05": ["*"]}})
    assert issue() == CA_NOT_GRANTED
    _admin(client, "PUT", "/pendar/customers/ra/grants", {"cas": {"01": ["*"]}})
    assert issue() == NO_TRACKING

    _admin(
        client,
        "POST",
        "/customers/ra/rotate",
        {"surface": "pendar", "pendar_public_key_pem": public_pem(_other_key(tmp_path))},
    )
    assert issue() == SIGNATURE_INVALID  # signed with the key rotated away


def _other_key(tmp_path: Path) -> Any:
    directory = tmp_path / "rotated"
    directory.mkdir()
    return openssl_rsa_key(directory, 1024)


def _payman(
    client: TestClient, creds: dict[str, str], bearer: str | None = None
) -> Callable[[], tuple[int, Any]]:
    def pay() -> tuple[int, Any]:
        token = bearer or _payman_token(client, creds)
        r = client.post(
            "/v1/payman/pay",
            json={"trace_id": "t-1", "payman_id": "no-such-mandate", "amount": 1000},
            headers={
                "Authorization": f"Bearer {token}",
                "App-Key": creds["app_key"],
                **CLIENT_HEADERS,
            },
        )
        return r.status_code, r.json()

    return pay


def _payman_token(client: TestClient, creds: dict[str, str]) -> str:
    r = client.post(
        "/oauth/token",
        data={
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
            "grant_type": "client_credentials",
        },
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def test_payman_token_of_a_rotation_made_elsewhere_is_accepted_at_once(
    client: TestClient, other: TestClient
) -> None:
    """The other process holds the merchant from before a rotation; the new token and App-Key,
    issued by the process that rotated, are accepted there at once (on PostgreSQL the pay takes
    its merchant from the cache on the event loop: a refusal from kept entries is decided again
    against the database)."""
    created = _admin(client, "POST", "/customers", {"name": "shop", "slug": "shop"})
    first = created["secrets"]["payman"]
    assert _payman(other, first)()[1]["code"] == "2014"  # authenticated: no such mandate
    second = _admin(client, "POST", "/customers/shop/rotate", {"surface": "payman"})
    creds = second["secrets"]["payman"]
    pay = _payman(other, creds, _payman_token(client, creds))
    assert pay()[1]["code"] == "2014"


def test_an_interval_delays_jibit_but_never_payman(client: TestClient, settings: Settings) -> None:
    """``PISHKHAN_CREDENTIAL_REFRESH``: with an interval, a process may answer Jibit from what it
    read within it; Payman reads the epoch on every request whatever the setting (and the new
    generation that read starts serves every surface)."""
    created = _admin(client, "POST", "/customers", {"name": "shop", "slug": "shop"})
    with process(replace(settings, credential_refresh=3600.0)) as lazy:
        bearer = _jibit_token(lazy, created["secrets"]["jibit"])
        payman = created["secrets"]["payman"]
        pay = _payman(lazy, payman, _payman_token(lazy, payman))
        assert pay()[1]["code"] == "2014"
        assert _balances(lazy, bearer)[0] == 200
        _admin(client, "POST", "/customers/shop/status", {"status": "disabled"})
        assert _balances(lazy, bearer)[0] == 200  # within the interval: not read again
        assert pay() == (401, PAYMAN_TOKEN_INVALID)
        assert _balances(lazy, bearer) == (403, JIBIT_FORBIDDEN)
