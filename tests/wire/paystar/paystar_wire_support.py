"""Helpers for the Paystar wire tests: the world's fixture records, customers, wallet state."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import insert, select

from pishkhan.runtime import Runtime
from pishkhan.tenants import rsa_keys
from pishkhan.tenants import service as tenants
from pishkhan.tenants.tables import usage_events, wallets
from pishkhan.world.fixtures import fixture_rows
from pishkhan.world.tables import WORLD_TABLES

REFRESH = "/api/open-banking/application/refresh-api-key"
MATCH = "/api/open-banking/service/info-matching/"


@dataclass(frozen=True)
class App:
    customer_id: int
    slug: str
    application_id: str
    access_password: str
    refresh_token: str

    def creds(self) -> dict[str, str]:
        return {"application_id": self.application_id, "access_password": self.access_password}

    def refresh_body(self) -> dict[str, str]:
        return {**self.creds(), "refresh_token": self.refresh_token}


def seed_world(runtime: Runtime) -> None:
    rows = fixture_rows()
    with runtime.db.write() as conn:
        for table in WORLD_TABLES:
            if rows.get(table.name):
                conn.execute(insert(table), rows[table.name])


@lru_cache(maxsize=1)
def pendar_public_key() -> str:
    """One RSA key for every test customer (generating one per customer is slow)."""
    return rsa_keys.generate_key_pair()[0]


def create_app(runtime: Runtime, slug: str, **kwargs: Any) -> App:
    new = tenants.NewCustomer(
        name=slug, slug=slug, pendar_public_key_pem=pendar_public_key(), **kwargs
    )
    with runtime.db.write() as conn:
        created = tenants.create_customer(conn, runtime.clock, new)
    secrets = created["secrets"]["paystar"]
    return App(
        customer_id=int(created["id"]),
        slug=slug,
        application_id=secrets["application_id"],
        access_password=secrets["access_password"],
        refresh_token=secrets["refresh_token"],
    )


def balance(runtime: Runtime, customer_id: int) -> int:
    with runtime.db.read() as conn:
        return int(
            conn.execute(
                select(wallets.c.balance).where(
                    wallets.c.customer_id == customer_id,
                    wallets.c.wallet == "paystar.open_banking",
                )
            ).scalar_one()
        )


def usage(runtime: Runtime, customer_id: int) -> list[tuple[str, str, int]]:
    """(service, outcome, price) of every usage event, oldest first."""
    with runtime.db.read() as conn:
        rows = conn.execute(
            select(usage_events.c.service, usage_events.c.outcome, usage_events.c.price)
            .where(usage_events.c.customer_id == customer_id)
            .order_by(usage_events.c.id)
        ).all()
    return [(r[0], r[1], int(r[2])) for r in rows]
