"""Control plane: customers and their secrets."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from pishkhan.core.ids import verify_secret
from pishkhan.tenants.tables import jibit_credentials


def test_create_customer_shows_secrets_once_and_stores_only_hashes(
    admin: Any, runtime: Any
) -> None:
    created = admin.post("/_pishkhan/v1/customers", json={"name": "Acme", "slug": "acme"})
    assert created.status_code == 201, created.text
    body = created.json()
    secret = body["secrets"]["jibit"]["secretKey"]
    assert body["credentials"]["jibit"]["apiKey"] == body["secrets"]["jibit"]["apiKey"]
    shown = admin.get("/_pishkhan/v1/customers/acme").json()
    assert "secrets" not in shown
    assert secret not in str(shown)
    with runtime.db.read() as conn:
        stored = conn.execute(select(jibit_credentials.c.secret_hash)).scalar_one()
    assert stored != secret and stored.startswith("sha256$")
    assert verify_secret(secret, stored)
    assert not verify_secret(secret + "x", stored)


def test_admin_token_required(client: Any) -> None:
    r = client.get("/_pishkhan/v1/customers")
    assert r.status_code == 401
    assert r.json() == {
        "error": {"code": "unauthorized", "message": "a valid admin token is required"}
    }
    r = client.get("/_pishkhan/v1/customers", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401
