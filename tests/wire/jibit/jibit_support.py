"""Helpers shared by the Jibit wire, SDK and concurrency tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from pishkhan.runtime import Runtime
from pishkhan.tenants import service as tenants
from pishkhan.tenants.tables import daily_usage, usage_events, wallets
from pishkhan.world import generator
from pishkhan.world.fixtures import fixture_rows

PREFIX = "/ide/v1"
API_KEY = "jibit-test-api-key"
SECRET_KEY = "jibit-test-secret-key-0123456789"


@dataclass(frozen=True)
class Customer:
    id: int
    slug: str
    api_key: str
    secret_key: str


def seed_world(runtime: Runtime) -> None:
    """The world's fixture records and every bank's state row (no generated people)."""
    rows = fixture_rows()
    rows["world_banks"] = generator.bank_state_rows()
    with runtime.db.write() as conn:
        generator.insert_rows(conn, rows)


def create_customer(
    runtime: Runtime,
    slug: str = "acme",
    *,
    api_key: str = API_KEY,
    secret_key: str = SECRET_KEY,
    allowed_ips: tuple[str, ...] = (),
) -> Customer:
    with runtime.db.write() as conn:
        created = tenants.create_customer(
            conn,
            runtime.clock,
            tenants.NewCustomer(
                name=slug.title(),
                slug=slug,
                allowed_ips=allowed_ips,
                jibit_api_key=api_key,
                jibit_secret_key=secret_key,
            ),
        )
    return Customer(int(created["id"]), slug, api_key, secret_key)


def set_price(
    runtime: Runtime,
    customer: Customer,
    service: str,
    *,
    price: int | None = None,
    daily_limit: int | None = None,
    enabled: bool | None = None,
) -> None:
    with runtime.db.write() as conn:
        tenants.set_price(
            conn,
            customer.slug,
            "jibit",
            service,
            price=price,
            daily_limit=daily_limit,
            enabled=enabled,
        )


def wallet_balances(runtime: Runtime, customer: Customer) -> dict[str, int]:
    with runtime.db.read() as conn:
        return {
            r.wallet: int(r.balance)
            for r in conn.execute(
                select(wallets.c.wallet, wallets.c.balance).where(
                    wallets.c.customer_id == customer.id
                )
            )
            if r.wallet.startswith("jibit.")
        }


def usage(runtime: Runtime, customer: Customer) -> list[tuple[str, str, int]]:
    """(service, outcome, price) of every usage event, in order."""
    with runtime.db.read() as conn:
        return [
            (r.service, r.outcome, int(r.price))
            for r in conn.execute(
                select(usage_events.c.service, usage_events.c.outcome, usage_events.c.price)
                .where(usage_events.c.customer_id == customer.id)
                .order_by(usage_events.c.id)
            )
        ]


def daily_counts(runtime: Runtime, customer: Customer) -> dict[str, int]:
    with runtime.db.read() as conn:
        return {
            r.service: int(r.count)
            for r in conn.execute(
                select(daily_usage.c.service, daily_usage.c.count).where(
                    daily_usage.c.customer_id == customer.id
                )
            )
        }


def tokens(client: Any, customer: Customer) -> dict[str, str]:
    r = client.post(
        f"{PREFIX}/tokens/generate",
        json={"apiKey": customer.api_key, "secretKey": customer.secret_key},
    )
    assert r.status_code == 200, r.text
    body: dict[str, str] = r.json()
    return body
