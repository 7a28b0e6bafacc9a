"""Concurrent issuances share their transaction on SQLite (issuance.issue_group), yet each stays
all-or-nothing: a refused issuance leaves nothing and the others are issued. (Group commit
itself: unexpected errors, locks, bounds, is tested in tests/foundation/test_group_commit.py.)"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from pendar.support import MARYAM, Customer
from pishkhan.core.db import driver_connection
from pishkhan.iran.national_code import generate_national_code
from pishkhan.providers.pendar import issuance, sql, wire
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
    batcher = issuance.batcher(runtime)
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
    refuses after it wrote (no savepoints: issuance.issue_group), so the shared transaction is
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
    batcher = issuance.batcher(runtime)
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


def test_registration_read_again_only_when_something_was_written(
    customer: Customer, runtime: Any, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite the write transaction reads the registration again only when something may
    have changed it since build read it (Database.unchanged_since). Nothing written in
    between: not read again, and issued. Another connection issuing a certificate for the same
    registration in between: read again, and refused 1001, so the person still has one
    certificate, not two. Two issuances for one registration in one transaction: the first
    is not read again, the second is (the first claimed the person) and refused 1001."""
    if not runtime.db.is_sqlite:
        pytest.skip("SQLite's kept hot connection")
    rng = random.Random(13)
    people = [{**MARYAM, "NationalCode": generate_national_code(rng)} for _ in range(5)]
    customer.issue(customer.register(people[0]))  # the CA hierarchy is loaded: inline from now
    codes = [customer.register(p) for p in people[1:]]
    in_transaction: list[str] = []
    read = sql.registration_row

    def counted(conn: Any, postgres: bool, tracking_code: str, now: Any) -> Any:
        if driver_connection(conn).in_transaction:
            in_transaction.append(tracking_code)
        return read(conn, postgres, tracking_code, now)

    monkeypatch.setattr(sql, "registration_row", counted)

    def issue(*tracking_codes: str) -> list[dict[str, Any]]:
        async def main() -> list[dict[str, Any]]:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
                bodies = [customer.issue_body(tc) for tc in tracking_codes]
                answers = await asyncio.gather(*(c.post(f"/api/{METHOD}", json=b) for b in bodies))
                return [a.json() for a in answers]

        return asyncio.run(main())

    assert issue(codes[0])[0]["IsSuccess"] is True  # (the first transaction knows nothing before)
    in_transaction.clear()
    assert issue(codes[1])[0]["IsSuccess"] is True
    assert in_transaction == []  # nothing written since the first read: not read again

    in_transaction.clear()
    answers = issue(codes[3], codes[3])  # one transaction (tests/foundation: group commit)
    assert sorted((a["IsSuccess"], a["ErrorCode"]) for a in answers) == [(False, 1001), (True, 0)]
    assert in_transaction == [codes[3]]  # the second one only

    read_registration = issuance.IssueJob.read

    def read_then_issued_elsewhere(job: issuance.IssueJob, conn: Any) -> None:
        read_registration(job, conn)
        monkeypatch.setattr(issuance.IssueJob, "read", read_registration)  # once
        # an ordinary connection (another worker, say) issues for the same registration
        issuance.issue_certificate(runtime, wire.lower_keys(customer.issue_body(codes[2])))

    monkeypatch.setattr(issuance.IssueJob, "read", read_then_issued_elsewhere)
    in_transaction.clear()
    [answer] = issue(codes[2])
    assert [answer["IsSuccess"], answer["ErrorCode"]] == [False, 1001]
    # read twice by the other issuance (its first read in a read transaction there), then
    # again in this one's transaction
    assert in_transaction == [codes[2]] * 3
    with runtime.db.read() as conn:
        count = conn.execute(
            select(func.count())
            .select_from(pendar_certificates)
            .where(pendar_certificates.c.national_code == people[3]["NationalCode"])
        ).scalar_one()
    assert count == 1


def _credit_body(customer: Customer) -> dict[str, Any]:
    return {"reportkey": customer.report_key, "customercode": customer.code}
