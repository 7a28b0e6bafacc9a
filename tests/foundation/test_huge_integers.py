"""Integers that do not fit where the control plane keeps them: 400 ``invalid_input`` in the
control plane's envelope and nothing written, never a 500 (on SQLite and PostgreSQL, whose
INTEGER columns are 32-bit)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update

from pishkhan.core.tables import audit_log
from pishkhan.providers.payman.tables import payman_forced_outcomes
from pishkhan.runtime import Runtime
from pishkhan.tenants.tables import customers, wallets

V1 = "/_pishkhan/v1"
HUGE = 2**63
INT64 = "between -9223372036854775808 and 9223372036854775807"


def _audit_count(runtime: Runtime) -> int:
    with runtime.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())


def _bad_query(name: str, given: str) -> dict[str, Any]:
    return {
        "error": {
            "code": "invalid_input",
            "message": f"{name} must be an integer {INT64}",
            "details": {name: given},
        }
    }


def test_audit_after_and_limit_beyond_64_bits(admin: Any) -> None:
    admin.post(f"{V1}/clock/clear")
    for name in ("after", "limit"):
        for given in (str(HUGE), str(-HUGE - 1), "1e3", "١٢", " 12", "1_000"):
            r = admin.get(f"{V1}/audit", params={name: given})
            assert r.status_code == 400, (name, given, r.text)
            assert r.json() == _bad_query(name, given), (name, given)
    r = admin.get(f"{V1}/audit", params={"after": str(HUGE - 1), "limit": str(HUGE - 1)})
    assert r.status_code == 200 and r.json() == {"entries": []}
    r = admin.get(f"{V1}/audit", params={"after": "-5", "limit": "5000"})
    assert r.status_code == 200 and [e["action"] for e in r.json()["entries"]] == ["clock.clear"]


def test_usage_and_world_list_numbers_beyond_64_bits(admin: Any) -> None:
    admin.post(f"{V1}/customers", json={"name": "Acme", "slug": "acme"})
    r = admin.get(f"{V1}/customers/acme/usage", params={"limit": str(HUGE)})
    assert r.status_code == 400 and r.json() == _bad_query("limit", str(HUGE))
    r = admin.get(f"{V1}/world/card", params={"offset": str(HUGE)})
    assert r.status_code == 400 and r.json() == _bad_query("offset", str(HUGE))
    r = admin.get(f"{V1}/world/deposit", params={"balance": str(HUGE)})
    assert r.status_code == 400
    assert r.json() == {
        "error": {"code": "invalid_input", "message": f"balance must be an integer {INT64}"}
    }
    # A customer id that no 64-bit column holds is no customer.
    assert admin.get(f"{V1}/customers/{HUGE}").status_code == 404


def test_bodies_with_integers_beyond_64_bits(admin: Any, runtime: Runtime) -> None:
    admin.post(f"{V1}/customers", json={"name": "Acme", "slug": "acme"})
    before = _audit_count(runtime)
    with runtime.db.read() as conn:
        balances = conn.execute(select(wallets.c.wallet, wallets.c.balance)).all()
    # Beyond 2**64 orjson gives a float, which pydantic refuses as an int itself.
    r = admin.post(f"{V1}/customers/acme/topup", json={"wallet": "jibit.PRF", "amount": 2**64})
    assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "amount"
    for amount in (HUGE, 2**64 - 1):
        r = admin.post(f"{V1}/customers/acme/topup", json={"wallet": "jibit.PRF", "amount": amount})
        assert r.status_code == 400, r.text
        assert r.json() == {
            "error": {
                "code": "invalid_input",
                "message": "request body is invalid",
                "details": [{"field": "amount", "message": f"Input should be {INT64}"}],
            }
        }
    r = admin.post(f"{V1}/sandbox/reset", json={"seed_world": False, "seed": HUGE})
    assert r.status_code == 400
    assert r.json()["error"]["details"] == [
        {"field": "seed", "message": f"Input should be {INT64}"}
    ]
    r = admin.post(
        f"{V1}/pendar/customers/acme/payments", json={"payment_id": "p1", "amount": 10**16}
    )
    assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "amount"
    # A count kept in a 32-bit column (PostgreSQL INTEGER).
    r = admin.post(f"{V1}/payman/force", json={"outcome": "FAILED", "count": 2**31})
    assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "count"
    # Nothing was written: the customer is still there, balances and the audit log unchanged.
    assert _audit_count(runtime) == before
    with runtime.db.read() as conn:
        assert conn.execute(select(wallets.c.wallet, wallets.c.balance)).all() == balances
        assert conn.execute(select(customers.c.slug)).scalars().all() == ["acme"]
        assert conn.execute(select(func.count()).select_from(payman_forced_outcomes)).scalar() == 0


def test_top_ups_stop_at_the_wallet_bound(admin: Any, runtime: Runtime) -> None:
    """Top-ups of at most 10**15 rials each add up; a wallet stops at 10**18 rials, long before
    its 64-bit column would overflow (a PostgreSQL error, an SQLite float)."""
    admin.post(f"{V1}/customers", json={"name": "Acme", "slug": "acme"})
    with runtime.db.write() as conn:
        conn.execute(
            update(wallets).where(wallets.c.wallet == "jibit.PRF").values(balance=10**18 - 10)
        )
    r = admin.post(f"{V1}/customers/acme/topup", json={"wallet": "jibit.PRF", "amount": 11})
    assert r.status_code == 400
    assert r.json() == {
        "error": {
            "code": "invalid_input",
            "message": "the top-up would take the wallet beyond 1000000000000000000 rials",
            "details": {"amount": 11},
        }
    }
    r = admin.post(f"{V1}/customers/acme/topup", json={"wallet": "jibit.PRF", "amount": 10})
    assert r.status_code == 200 and r.json()["balance"] == 10**18
