"""Payman pay end to end on PostgreSQL (two workers, 16 connections, many mandates) against
pgbench's built-in TPC-B-like script with 16 clients on the same PostgreSQL in the same run
(issue 7: >= 30 %).

Preparation (untimed, through the public surfaces and the admin API only):

- the sandbox clock is set to run from 10:00 Tehran today, so no bank's cut-off window
  (23:30-00:05) and no day or month rollover falls inside the run whenever it is started;
- ``MANDATES`` people are imported into the world (person, SIM, one funded deposit each,
  spread over every Payman bank), so pays on different mandates touch different rows;
- one merchant; for each person a mandate is created (``POST /v1/payman/create``), approved
  on the bank consent page over HTTP (sign in, approve: the same forms a browser posts) and
  activated (``GET /v1/payman/getId``);
- the requests: distinct pays (unique ``trace_id``), round-robin over the mandates so that
  neighbouring requests lock different mandate rows and no mandate exceeds its limits
  (1000 pays a day, 31,000 a month, 1,000,000 rials per pay): ``PAYS`` per round, fewer per
  round when ``--rounds`` would otherwise prepare more than the mandates' daily count.

Every pay consumes state (a trace id is claimed once; a repeat answers 2049), so the scenario
sets ``once=True``: each request is sent at most once and pishkhan gets no warm-up (the
pgbench baseline has none either). With ``--rounds N`` ``build`` prepares N rounds' worth of
pays in one list and the harness gives round *i* the *i*-th of N equal, disjoint slices; a pay
refused for a repeat or a limit answers a non-200 status, which invalidates the run.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson

from bench.baselines import pgbench_tpcb
from bench.scenario import Request, Scenario, ScenarioContext, ScenarioError, Target
from pishkhan.core.clock import TEHRAN
from pishkhan.iran import build_iban, payman_banks
from pishkhan.world.layouts import account_digits, format_deposit_number, national_code_from_body

MANDATES = 400
PAYS = 80_000  # distinct pays prepared per round: 200 per mandate, more than a 10 s run sends
DAILY_PAYS = 1000  # each mandate's contract: pays a day (all rounds run on the same sandbox day)
AMOUNT = 10_000  # rials per pay
BALANCE = 10**12  # rials per deposit
REDIRECT = "https://merchant.bench/payman/back"
SERIAL_BASE = 800_000  # national codes / mobiles / deposit serials far from the fixtures'
CLIENT_HEADERS = {
    "Client-Device-Id": "bench-device",
    "Client-Ip-Address": "127.0.0.1",
    "Client-User-Agent": "pishkhan-bench",
    "Client-Platform-Type": "WEB",
}


def _people() -> list[dict[str, Any]]:
    banks = payman_banks()
    out = []
    for i in range(MANDATES):
        bank = banks[i % len(banks)]
        serial = SERIAL_BASE + i
        number = format_deposit_number(bank.key, serial)
        out.append(
            {
                "bank_code": bank.payman_code,
                "bank_key": bank.key,
                "national_code": national_code_from_body(f"{serial:09d}"),
                "mobile": f"0912{serial:07d}",
                "deposit_number": number,
                "iban": build_iban(bank.sheba_code, account_digits(number).zfill(19)),
            }
        )
    return out


def _world_jsonl(people: Sequence[dict[str, Any]]) -> bytes:
    lines = []
    for p in people:
        nc = p["national_code"]
        lines.append(
            {
                "kind": "person",
                "national_code": nc,
                "first_name": "سارا",
                "last_name": "محمدی",
                "first_name_en": "Sara",
                "last_name_en": "Mohammadi",
                "father_name": "رضا",
                "father_name_en": "Reza",
                "birth_date": "13700101",
                "gender": "FEMALE",
            }
        )
        lines.append({"kind": "sim", "mobile": p["mobile"], "national_code": nc})
        lines.append(
            {
                "kind": "deposit",
                "iban": p["iban"],
                "bank": p["bank_key"],
                "deposit_number": p["deposit_number"],
                "status": "ACTIVE",
                "account_type": "SHORT_TERM",
                "joint": False,
                "balance": BALANCE,
                "owners": [{"national_code": nc, "owner_type": "PERSON"}],
            }
        )
    return b"\n".join(orjson.dumps(line) for line in lines) + b"\n"


def _mandate(
    base_url: str, auth: dict[str, str], person: dict[str, Any], start: datetime, index: int
) -> str:
    """Create, approve on the consent page and activate one mandate; return its payman_id."""
    with httpx.Client(base_url=base_url, timeout=60.0, trust_env=False) as http:
        body = {
            "payman": {
                "bank_code": person["bank_code"],
                "user_id": f"bench-user-{index}",
                "permission_ids": [1],
                "contract": {
                    "expiration_date": (start + timedelta(days=300)).isoformat(),
                    "max_daily_transaction_count": DAILY_PAYS,
                    "max_monthly_transaction_count": 31_000,
                    "max_transaction_amount": 1_000_000,
                    "daily_max_transaction_amount": 1_000_000_000,
                },
            },
            "redirect_url": REDIRECT,
            "trace_id": f"bench-create-{index}",
        }
        headers = {
            **auth,
            **CLIENT_HEADERS,
            "Mobile-no": person["mobile"],
            "National-code": person["national_code"],
        }
        r = http.post("/v1/payman/create", json=body, headers=headers)
        if r.status_code != 302:
            raise ScenarioError(f"create answered {r.status_code}: {r.text[:500]}")
        token = parse_qs(urlsplit(r.headers["location"]).query)["boom_token"][0]
        r = http.post(
            "/payman-bank/oauth/login",
            data={
                "boom_token": token,
                "national_code": person["national_code"],
                "mobile": person["mobile"],
            },
        )
        if r.status_code != 303 or "boom_token" not in r.headers.get("location", ""):
            raise ScenarioError(f"consent sign-in answered {r.status_code}: {r.text[:500]}")
        r = http.post(
            "/payman-bank/oauth/decide",
            data={"boom_token": token, "action": "approve", "deposit": person["iban"]},
        )
        back = parse_qs(urlsplit(r.headers.get("location", "")).query)
        if r.status_code != 303 or back.get("status") != ["CREATED"]:
            raise ScenarioError(f"consent approval answered {r.status_code}: {back or r.text}")
        r = http.get(
            "/v1/payman/getId", params={"payman_code": back["payman_code"][0]}, headers=auth
        )
        if r.status_code != 200:
            raise ScenarioError(f"getId answered {r.status_code}: {r.text[:500]}")
        return str(r.json()["payman_id"])


def pays_per_round(rounds: int) -> int:
    """``PAYS``, or fewer so that all rounds together stay within the mandates' daily count."""
    return min(PAYS, MANDATES * DAILY_PAYS // rounds)


def build(ctx: ScenarioContext) -> Sequence[Request]:
    """Mandates for ``MANDATES`` people, then ``pays_per_round(rounds)`` distinct pays for
    every round in one list (the harness sends round *i* the *i*-th slice)."""
    rounds = int(ctx.options.get("rounds") or 1)
    count = pays_per_round(rounds) * rounds
    now = datetime.now(TEHRAN)
    ten = now.replace(hour=10, minute=0, second=0, microsecond=0)
    ctx.admin("POST", "clock/offset", {"seconds": (ten - now).total_seconds()})
    time.sleep(1.5)  # every worker's state cache picks the clock up within a second

    people = _people()
    ctx.request(
        "POST",
        "/_pishkhan/v1/world/import",
        content=_world_jsonl(people),
        headers={
            "Authorization": f"Bearer {ctx.admin_token}",
            "Content-Type": "application/x-ndjson",
        },
    )
    creds = ctx.create_customer("bench-payman", payman_redirect_urls=[REDIRECT])["secrets"][
        "payman"
    ]
    token = ctx.request(
        "POST",
        "/oauth/token",
        content=(
            f"grant_type=client_credentials&client_id={creds['client_id']}"
            f"&client_secret={creds['client_secret']}"
        ).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}", "App-Key": creds["app_key"]}

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(
            pool.map(
                lambda ip: _mandate(ctx.base_url, auth, ip[1], ten, ip[0]),
                enumerate(people),
            )
        )
    ctx.state["payman_ids"] = ids
    return [
        Request.json(
            "POST",
            "/v1/payman/pay",
            {
                "trace_id": f"bench-pay-{i:06d}",
                "payman_id": ids[i % len(ids)],
                "amount": AMOUNT,
                "description": "bench",
            },
            auth,
        )
        for i in range(count)
    ]


SCENARIO = Scenario(
    name="payman_pay",
    description="POST /v1/payman/pay on PostgreSQL (mandate row lock, limits, deposit debit, "
    "transaction, double-entry ledger in one transaction) vs pgbench TPC-B, 16 clients",
    build=build,
    baseline=pgbench_tpcb(clients=16),
    target=Target(min_ratio=0.3),
    database="postgres",
    workers=2,
    connections=16,
    duration=10.0,
    warmup=0.0,
    max_requests=PAYS,
    once=True,
    startup_timeout=180.0,
)
