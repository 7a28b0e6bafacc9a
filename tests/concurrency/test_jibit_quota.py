"""Jibit daily limits and billing are exact with concurrent requests on several processes."""

from __future__ import annotations

import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "wire" / "jibit"))

from jibit_support import (
    PREFIX,
    create_customer,
    daily_counts,
    seed_world,
    set_price,
    usage,
    wallet_balances,
)

from pishkhan import iran
from pishkhan.runtime import Runtime
from pishkhan.world import fixtures as F

LIMIT, PRICE, REQUESTS = 25, 1_000, 80


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_concurrent_quota_and_billing(
    runtime: Runtime, db_url: str, live_server_factory: Any
) -> None:
    seed_world(runtime)
    customer = create_customer(runtime)
    set_price(runtime, customer, "CARD_INQUIRY", price=PRICE, daily_limit=LIMIT)
    server = live_server_factory(db_url, workers=2, extra_env={"PISHKHAN_SURFACES": "jibit"})
    servers = [server, server]  # two worker processes behind one port
    r = httpx.post(
        servers[0].base_url + f"{PREFIX}/tokens/generate",
        json={"apiKey": customer.api_key, "secretKey": customer.secret_key},
    )
    auth = {"Authorization": f"Bearer {r.json()['accessToken']}"}
    before = wallet_balances(runtime, customer)

    def call(i: int) -> int:
        base = servers[i % 2].base_url
        url = f"{base}{PREFIX}/cards?number={F.CARD_ACTIVE}"
        if i % 5 == 0:  # failures interleaved: never charged, never counted
            url = f"{base}{PREFIX}/cards?number={F.CARD_LOST}"
        return httpx.get(url, headers=auth, timeout=30).status_code

    with ThreadPoolExecutor(32) as pool:
        statuses = Counter(pool.map(call, range(REQUESTS)))
    failures = REQUESTS // 5
    assert statuses == {200: LIMIT, 429: REQUESTS - failures - LIMIT, 400: failures}
    after = wallet_balances(runtime, customer)
    assert before["jibit.PRF"] - after["jibit.PRF"] == LIMIT * PRICE
    assert daily_counts(runtime, customer) == {"CARD_INQUIRY": LIMIT}
    outcomes = Counter(o for _s, o, _p in usage(runtime, customer))
    assert outcomes == {
        "success": LIMIT,
        "daily_limit": REQUESTS - failures - LIMIT,
        "card.registered_as_lost": failures,
    }
    day = iran.to_jalali(runtime.clock.today()).yymmdd()
    report = httpx.get(
        f"{servers[1].base_url}{PREFIX}/reports/daily?yearMonthDay={day}", headers=auth
    ).json()
    assert report["report"][0]["services"] == [
        {"Service": "CARD_INQUIRY", "persianName": "استعلام کارت", "count": LIMIT}
    ]
    balances = httpx.get(f"{servers[0].base_url}{PREFIX}/balances", headers=auth).json()
    assert balances["balances"][0] == {
        "balanceType": "PRF",
        "currency": "IRR",
        "amount": after["jibit.PRF"],
    }
