"""Concurrent issuances share their transaction on SQLite (hot.issue_group), yet each stays
all-or-nothing: a refused issuance leaves nothing and the others are issued. (Group commit
itself: unexpected errors, locks, bounds, is tested in tests/foundation/test_group_commit.py.)"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx
from sqlalchemy import func, select

from pendar.support import MARYAM, Customer
from pishkhan.iran.national_code import generate_national_code
from pishkhan.providers.pendar import hot
from pishkhan.providers.pendar.tables import pendar_certificates
from pishkhan.tenants.tables import usage_events

METHOD = "IssueCertificateByTrackingCode"


def test_concurrent_issuances_one_refused(customer: Customer, runtime: Any, app: Any) -> None:
    """Four issuances in one turn of the loop. An unknown tracking code is refused (1111)
    before any transaction. Two for the same registration are both signed outside the write
    transaction, but in the shared transaction the later one finds the earlier's certificate
    and is refused (1001), keeping nothing; the others are issued, charged and audited."""
    rng = random.Random(7)
    people = [{**MARYAM, "NationalCode": generate_national_code(rng)} for _ in range(3)]
    first = customer.register()
    second = customer.register(MARYAM)
    customer.issue(customer.register(people[0]))  # the CA hierarchy is loaded: inline from now
    batcher = hot.batcher(runtime)
    commits, jobs = batcher.commits, batcher.jobs
    bodies = [
        customer.issue_body(first),
        customer.issue_body(first),
        customer.issue_body("1234567890"),
        customer.issue_body(second),
    ]

    async def main() -> list[dict[str, Any]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            answers = await asyncio.gather(*(c.post(f"/api/{METHOD}", json=b) for b in bodies))
        return [a.json() for a in answers]

    answers = asyncio.run(main())
    same = answers[:2]
    assert sorted(a["IsSuccess"] for a in same) == [False, True]
    won = next(a for a in same if a["IsSuccess"])
    assert next(a for a in same if not a["IsSuccess"])["ErrorCode"] == 1001
    assert [answers[2]["IsSuccess"], answers[2]["ErrorCode"]] == [False, 1111]
    assert answers[3]["IsSuccess"] is True
    assert won["Certificate"] != answers[3]["Certificate"]
    with runtime.db.read() as conn:
        issued = conn.execute(select(func.count()).select_from(pendar_certificates)).scalar_one()
        refused = dict(
            conn.execute(
                select(usage_events.c.outcome, func.count())
                .where(usage_events.c.service == METHOD)
                .group_by(usage_events.c.outcome)
            ).all()
        )
    assert issued == 3 and refused == {"1001": 1, "1111": 1}
    if runtime.db.is_sqlite:
        # the three signed ones ran in one transaction (the refused one before writing
        # anything); the unknown tracking code never reached it
        assert batcher.commits == commits + 1
        assert batcher.jobs == jobs + 3
    answers = [won]
    # the same answer as an issuance alone
    alone = customer.issue(customer.register(people[1]))
    assert list(alone) == list(answers[0])
    assert {k: v for k, v in alone.items() if k not in ("Certificate", "ValidFrom", "ValidTo")} == {
        **{k: v for k, v in answers[0].items() if k not in ("Certificate", "ValidFrom", "ValidTo")},
        "CN": alone["CN"],
    }


def test_credit_runs_out_inside_a_batch(customer: Customer, runtime: Any, app: Any) -> None:
    """Three issuances in one turn of the loop with credit for two. On SQLite the charge
    refuses after it wrote (no savepoints: hot.issue_group), so the shared transaction is
    rolled back and each issuance runs again in its own. Either way two are issued and
    charged, one answers 1202 and leaves nothing, the wallet ends at zero."""
    rng = random.Random(11)
    people = [{**MARYAM, "NationalCode": generate_national_code(rng)} for _ in range(4)]
    customer.issue(customer.register(people[0]))  # the CA hierarchy is loaded: inline from now
    codes = [customer.register(p) for p in people[1:]]
    credit = int(customer.post("GetCredit", _credit_body(customer)).json()["Credit"])
    customer.client.post(
        f"/_pishkhan/v1/customers/{customer.slug}/topup",
        json={"wallet": "pendar.credit", "amount": -credit + 2 * 50_000},
        headers={"Authorization": "Bearer test-admin-token"},
    )
    with runtime.db.read() as conn:
        before = conn.execute(select(func.count()).select_from(pendar_certificates)).scalar_one()
    batcher = hot.batcher(runtime)
    commits = batcher.commits

    async def main() -> list[dict[str, Any]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            answers = await asyncio.gather(
                *(c.post(f"/api/{METHOD}", json=customer.issue_body(tc)) for tc in codes)
            )
        return [a.json() for a in answers]

    answers = asyncio.run(main())
    assert sorted(a["IsSuccess"] for a in answers) == [False, True, True]
    assert [a["ErrorCode"] for a in answers if not a["IsSuccess"]] == [1202]
    with runtime.db.read() as conn:
        after = conn.execute(select(func.count()).select_from(pendar_certificates)).scalar_one()
    assert after - before == 2
    assert int(customer.post("GetCredit", _credit_body(customer)).json()["Credit"]) == 0
    if runtime.db.is_sqlite:  # the shared transaction rolled back, two issued on their own
        assert batcher.commits == commits + 2


def _credit_body(customer: Customer) -> dict[str, Any]:
    return {"reportkey": customer.report_key, "customercode": customer.code}
