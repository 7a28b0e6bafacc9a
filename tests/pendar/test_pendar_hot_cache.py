"""The issuance hot path's lookups: accounts (with price rules) from the credential cache, CA
availability from a per-process cache."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from pendar.support import TEST_CA
from pishkhan.providers.pendar import ca as ca_mod
from pishkhan.providers.pendar import caches as hot
from pishkhan.providers.pendar.tables import pendar_cas
from pishkhan.tenants import service as tenants


def test_accounts_come_from_the_credential_cache(customer: Any, runtime: Any) -> None:
    row = hot.account(runtime, customer.code)
    assert row is not None and row.active and row.customer_code == customer.code
    assert hot.account(runtime, customer.code) is row  # the epoch has not moved: kept
    assert hot.account(runtime, customer.code, checked=True) is row
    assert hot.account(runtime, "no-such-code") is None
    assert row.rule("certificate.1", 50_000).price == 50_000  # no price row: the default
    with runtime.db.write() as conn:
        tenants.set_price(conn, customer.slug, "pendar", "certificate.1", price=7_000)
    again = hot.account(runtime, customer.code)  # the very next lookup sees the new price
    assert again is not None and again is not row
    assert again.rule("certificate.1", 50_000).price == 7_000


def test_availability_is_kept_within_its_ttl_and_cleared(runtime: Any) -> None:
    caches = hot.Caches(runtime.db, ttl=3600.0)
    loaded = ca_mod.hierarchy(runtime).get(TEST_CA)
    assert loaded is not None
    assert caches.available(loaded.id) is True
    with runtime.db.write() as conn:
        conn.execute(update(pendar_cas).where(pendar_cas.c.id == loaded.id).values(available=False))
    assert caches.available(loaded.id) is True  # still the cached answer
    caches.clear()
    assert caches.available(loaded.id) is False


def test_admin_changes_drop_the_process_caches(customer: Any, runtime: Any) -> None:
    caches = hot.caches(runtime)
    loaded = ca_mod.hierarchy(runtime).get(TEST_CA)
    assert loaded is not None and caches.available(loaded.id) is True
    customer.admin("PUT", f"/cas/{TEST_CA}/availability", {"available": False})
    assert caches.available(loaded.id) is False
    r = customer.post("RegisterInfo", customer.register_body())
    assert r.json()["ErrorCode"] == 1005
