"""Helpers for the Paystar SDK tests."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import insert

from pishkhan.runtime import Runtime
from pishkhan.tenants import rsa_keys
from pishkhan.tenants import service as tenants
from pishkhan.world.fixtures import fixture_rows
from pishkhan.world.tables import WORLD_TABLES


@dataclass(frozen=True)
class Creds:
    slug: str
    customer_id: int
    application_id: str
    access_password: str
    refresh_token: str

    def kwargs(self) -> dict[str, str]:
        return {
            "application_id": self.application_id,
            "access_password": self.access_password,
            "refresh_token": self.refresh_token,
        }


@lru_cache(maxsize=1)
def pendar_public_key() -> str:
    """One RSA key for every test customer (generating one per customer is slow)."""
    return rsa_keys.generate_key_pair()[0]


def seed_world(runtime: Runtime) -> None:
    rows = fixture_rows()
    with runtime.db.write() as conn:
        for table in WORLD_TABLES:
            if rows.get(table.name):
                conn.execute(insert(table), rows[table.name])


def create_customer(runtime: Runtime, slug: str) -> Creds:
    new = tenants.NewCustomer(name=slug, slug=slug, pendar_public_key_pem=pendar_public_key())
    with runtime.db.write() as conn:
        created: dict[str, Any] = tenants.create_customer(conn, runtime.clock, new)
    return Creds(slug, int(created["id"]), **created["secrets"]["paystar"])
