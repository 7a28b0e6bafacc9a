"""Payman limits and idempotency under concurrency: real server processes on PostgreSQL."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from pishkhan.control import sandbox_ops
from pishkhan.core.db import Database, metadata
from pishkhan.core.schema import load_all_tables
from pishkhan.providers.payman import ledger
from pishkhan.providers.payman.tables import (
    payman_ledger_entries,
    payman_mandates,
    payman_transactions,
)
from pishkhan.runtime import Runtime
from pishkhan.settings import Settings
from pishkhan.tenants import service as tenants
from pishkhan.world.fixtures import PAYMAN, fixture_rows
from pishkhan.world.generator import insert_rows
from pishkhan.world.tables import world_deposits

ADMIN_TOKEN = "test-admin-token"
REDIRECT = "https://merchant.example/payman/back"
CLIENT_HEADERS = {
    "Client-Device-Id": "10.0.0.1",
    "Client-Ip-Address": "127.0.0.1",
    "Client-User-Agent": "pytest",
    "Client-Platform-Type": "WEB",
}


def truncate_all(db: Database) -> None:
    from sqlalchemy import text

    load_all_tables()
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def seed_world(rt: Runtime) -> None:
    with rt.db.write() as conn:
        insert_rows(conn, fixture_rows())


def new_merchant(rt: Runtime) -> dict[str, Any]:
    with rt.db.write() as conn:
        return tenants.create_customer(
            conn,
            rt.clock,
            tenants.NewCustomer(name="shop", slug="shop", payman_redirect_urls=(REDIRECT,)),
        )


pytestmark = pytest.mark.postgres
PERSON = next(p for p in PAYMAN if p.payman_code == "SABCIR")


@pytest.fixture
def pg_runtime(pg_database: str, tmp_path: Any) -> Iterator[Runtime]:
    db = Database(pg_database)
    truncate_all(db)
    db.dispose()
    settings = replace(
        Settings(),
        data_dir=tmp_path / "d",
        database_url=pg_database,
        admin_token=ADMIN_TOKEN,
        token_secret="test-token-secret-0123456789abcdef",
        seed_world=False,
    )
    rt = Runtime.open(settings, refresh_seconds=0.0)
    seed_world(rt)
    sandbox_ops.freeze(rt, datetime(2025, 6, 3, 8, 30, tzinfo=UTC).isoformat())
    yield rt
    rt.close()


def _mandate(
    base: str, creds: dict[str, str], daily: int
) -> tuple[httpx.Client, dict[str, str], str]:
    http = httpx.Client(base_url=base, timeout=30)
    token = http.post(
        "/oauth/token",
        data={
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
            "grant_type": "client_credentials",
        },
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "App-Key": creds["app_key"], **CLIENT_HEADERS}
    body = {
        "payman": {
            "bank_code": "SABCIR",
            "user_id": "u",
            "permission_ids": [1],
            "contract": {
                "expiration_date": "2026-06-01T00:00:00Z",
                "max_daily_transaction_count": daily,
                "max_monthly_transaction_count": 500,
                "max_transaction_amount": 1_000_000,
            },
        },
        "redirect_url": REDIRECT,
        "trace_id": f"create-{daily}",
    }
    r = http.post(
        "/v1/payman/create",
        json=body,
        headers={**headers, "Mobile-no": PERSON.mobile, "National-code": PERSON.national_code},
    )
    assert r.status_code == 302, r.text
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    t = http.get("/v1/payman/create/trace", params={"trace-id": body["trace_id"]}, headers=headers)
    assert t.json()["code"] == "2014"
    with _DB[0].read() as conn:
        payman_code = str(
            conn.execute(
                select(payman_mandates.c.payman_code).where(
                    payman_mandates.c.trace_id == body["trace_id"]
                )
            ).scalar_one()
        )
    approve = http.post(
        f"/_pishkhan/v1/payman/mandates/{payman_code}/approve", json={}, headers=admin
    )
    assert approve.status_code == 200 and "status=CREATED" in approve.json()["location"], (
        approve.text
    )
    pid = http.get("/v1/payman/getId", params={"payman_code": payman_code}, headers=headers).json()[
        "payman_id"
    ]
    return http, headers, pid


_DB: list[Database] = []


def _balance(rt: Runtime) -> int:
    with rt.db.read() as conn:
        return int(
            conn.execute(
                select(world_deposits.c.balance).where(world_deposits.c.iban == PERSON.iban)
            ).scalar_one()
        )


def test_limits_and_trace_ids_hold_across_processes(
    pg_runtime: Runtime, live_server_factory: Callable[..., Any]
) -> None:
    _DB[:] = [pg_runtime.db]
    creds = new_merchant(pg_runtime)["secrets"]["payman"]
    # The servers read the shared sandbox state (its clock) on every request: no waiting for a
    # refresh after the clock is moved below.
    server = live_server_factory(
        pg_runtime.settings.database_url, workers=2, extra_env={"PISHKHAN_STATE_REFRESH": "0"}
    )
    http, headers, pid = _mandate(server.base_url, creds, daily=10)
    before = _balance(pg_runtime)

    def pay(trace: str) -> tuple[int, str]:
        with httpx.Client(base_url=server.base_url, timeout=60) as c:
            r = c.post(
                "/v1/payman/pay",
                json={"trace_id": trace, "payman_id": pid, "amount": 1000, "description": "x"},
                headers=headers,
            )
            return r.status_code, str(r.json().get("code", r.json().get("status")))

    with ThreadPoolExecutor(max_workers=25) as pool:
        results = list(pool.map(pay, [f"c-{i}" for i in range(50)]))
    counts = Counter(results)
    assert counts[(200, "SUCCEED")] == 10, counts
    assert counts[(400, "2003")] == 40, counts
    assert _balance(pg_runtime) == before - 10 * 1000

    # The same trace id sent concurrently debits once (on a fresh day's limit).
    sandbox_ops.advance(pg_runtime, 86400)
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(pay, ["same-trace"] * 20))
    counts = Counter(results)
    assert counts[(200, "SUCCEED")] == 1, counts
    assert counts[(400, "2049")] == 19, counts
    assert _balance(pg_runtime) == before - 11 * 1000
    with pg_runtime.db.read() as conn:
        assert ledger.total(conn) == 0
        assert ledger.account_balance(conn, ledger.deposit_account(PERSON.iban)) == -11 * 1000
        assert (
            conn.execute(select(func.count()).select_from(payman_transactions)).scalar_one() == 11
        )
        assert (
            conn.execute(select(func.count()).select_from(payman_ledger_entries)).scalar_one() == 22
        )

    # The same trace id sent concurrently on two mandates (no shared row lock): one debit.
    _http2, _headers2, pid2 = _mandate(server.base_url, creds, daily=20)
    _http2.close()

    def pay_on(args: tuple[str, str]) -> tuple[int, str]:
        mandate, trace = args
        with httpx.Client(base_url=server.base_url, timeout=60) as c:
            r = c.post(
                "/v1/payman/pay",
                json={"trace_id": trace, "payman_id": mandate, "amount": 1000},
                headers=headers,
            )
            return r.status_code, str(r.json().get("code", r.json().get("status")))

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(pay_on, [(pid if i % 2 else pid2, "twin") for i in range(20)]))
    counts = Counter(results)
    assert counts[(200, "SUCCEED")] == 1, counts
    assert counts[(400, "2049")] == 19, counts
    assert _balance(pg_runtime) == before - 12 * 1000
    with pg_runtime.db.read() as conn:
        assert ledger.total(conn) == 0
        assert ledger.account_balance(conn, ledger.deposit_account(PERSON.iban)) == -12 * 1000
        assert (
            conn.execute(select(func.count()).select_from(payman_transactions)).scalar_one() == 12
        )
        assert (
            conn.execute(select(func.count()).select_from(payman_ledger_entries)).scalar_one() == 24
        )
    http.close()
