"""The pay's two implementations give the same answers and leave the same state.

On PostgreSQL ``POST /v1/payman/pay`` is one call of the ``payman_pay`` function (migration
0006, ``payments.pay_async``); the Python transaction (``payments.pay``) serves SQLite and the
pays the function defers (forced outcomes, ``pay_id``/``commission_amount``, banks the merchant
may not use, bank switches, cut-off windows). Here two mandates with the same terms take the
same pays, one over HTTP and one through ``payments.pay``, and every answer (reference id
aside), transaction row and counter is compared. On SQLite both sides are the Python
transaction, which checks the harness itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from pishkhan.control import sandbox_ops
from pishkhan.providers.payman import ledger, payments
from pishkhan.providers.payman.errors import PaymanError
from pishkhan.providers.payman.service import PaymanService
from pishkhan.providers.payman.tables import payman_mandates, payman_transactions
from pishkhan.tenants import credentials
from pishkhan.tenants.tables import payman_clients
from pishkhan.world.tables import world_deposits

from .conftest import SABCIR, Payman, get_token, new_merchant

PYTHON_PAY = payments.pay
SAME_ROW = (
    "customer_id", "batch_id", "amount", "commission_amount", "description", "pay_id", "status",
    "error_code", "transaction_type", "source_bank", "source_iban", "source_deposit",
    "destination_bank", "destination_deposit", "client_date", "created_at", "updated_at",
    "reconcile_status", "reconciled_at",
)  # fmt: skip
COUNTERS = ("day_key", "day_count", "day_amount", "month_key", "month_count")


class Pair:
    """Two mandates of the same terms: ``http`` pays over HTTP, ``py`` through payments.pay."""

    def __init__(self, pm: Payman, calls: list[int], **contract: Any) -> None:
        self.pm = pm
        self.http = pm.active_mandate(**contract)
        self.py = pm.active_mandate(**contract)
        self.svc = PaymanService(pm.runtime)
        self.merchant = self.svc.authenticate(_lower(pm.headers()))
        self.calls = calls  # calls of payments.pay, counted by the fixture
        self.n = 0

    def pay_both(
        self,
        amount: Any = 1000,
        *,
        trace: str | None = None,
        deferred: bool = False,
        payman_id: str | None = None,
        **extra: Any,
    ) -> tuple[int, Any]:
        """The same pay on both mandates; asserts equal answers and rows; (status, body)."""
        self.n += 1
        name = trace or f"{self.n:03d}"
        body = {"amount": amount, "description": "خرید اشتراک", **extra}
        before = self.calls[0]
        r = self.pm.client.post(
            "/v1/payman/pay",
            json={**body, "payman_id": payman_id or self.http, "trace_id": f"h-{name}"},
            headers=self.pm.headers(),
        )
        if self.pm.runtime.db.is_postgres:
            # The function answered unless the pay is one it defers to Python.
            assert (self.calls[0] > before) is deferred, body
        status, raw = self._python(
            {**body, "payman_id": payman_id or self.py, "trace_id": f"p-{name}"}
        )
        assert r.headers["content-type"] == "application/json"
        assert r.headers["content-length"] == str(len(r.content))
        assert (r.status_code, _normal(r.content, "h")) == (status, _normal(raw, "p")), name
        assert self._row(f"h-{name}") == self._row(f"p-{name}"), name
        assert self._counters(self.http) == self._counters(self.py), name
        return r.status_code, r.json()

    def _python(self, body: dict[str, Any]) -> tuple[int, bytes]:
        try:
            return 200, orjson.dumps(PYTHON_PAY(self.svc, self.merchant, body))
        except PaymanError as exc:
            return exc.status, orjson.dumps(exc.body())
        except payments.RecordedFailure as exc:
            return exc.error.status, orjson.dumps(exc.error.body())

    def _row(self, trace: str) -> dict[str, Any] | None:
        with self.pm.runtime.db.read() as conn:
            row = (
                conn.execute(
                    select(payman_transactions).where(payman_transactions.c.trace_id == trace)
                )
                .mappings()
                .first()
            )
            if row is None:
                return None
            entries = conn.execute(
                select(
                    ledger.payman_ledger_entries.c.account,
                    ledger.payman_ledger_entries.c.amount,
                    ledger.payman_ledger_entries.c.kind,
                    ledger.payman_ledger_entries.c.at,
                )
                .where(ledger.payman_ledger_entries.c.transaction_id == row["id"])
                .order_by(ledger.payman_ledger_entries.c.id)
            ).all()
        assert re.fullmatch(r"\d{20}", row["reference_id"])
        return {**{k: row[k] for k in SAME_ROW}, "ledger": [tuple(e) for e in entries]}

    def _counters(self, payman_id: str) -> dict[str, Any]:
        with self.pm.runtime.db.read() as conn:
            row = (
                conn.execute(
                    select(*(payman_mandates.c[k] for k in COUNTERS)).where(
                        payman_mandates.c.payman_id == payman_id
                    )
                )
                .mappings()
                .one()
            )
        return dict(row)


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def _normal(raw: bytes, side: str) -> Any:
    """An answer with the reference id (random) and the side's trace-id prefix taken out."""
    data = orjson.loads(raw)
    if isinstance(data, dict) and "reference_id" in data:
        assert re.fullmatch(r"\d{20}", data["reference_id"])
        data["reference_id"] = "R"
        for detail in data.get("details", ()):
            assert re.fullmatch(r"\d{20}", detail["reference_id"])
            detail["reference_id"] = "R"
    return orjson.loads(orjson.dumps(data).replace(f'"{side}-'.encode(), b'"X-'))


@pytest.fixture
def pair(pm: Payman, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Pair]:
    calls = [0]

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return PYTHON_PAY(*args, **kwargs)

    monkeypatch.setattr(payments, "pay", counting)
    return lambda **contract: Pair(pm, calls, **contract)


def _set_deposit(pm: Payman, **values: Any) -> None:
    with pm.runtime.db.write() as conn:
        conn.execute(
            world_deposits.update().where(world_deposits.c.iban == SABCIR.iban).values(**values)
        )


def test_success_limits_and_duplicate_trace(pm: Payman, pair: Callable[..., Pair]) -> None:
    p = pair(
        max_daily_transaction_count=3,
        max_monthly_transaction_count=4,
        max_transaction_amount=300_000,
        daily_max_transaction_amount=500_000,
    )
    assert p.pay_both(1000)[0] == 200
    assert p.pay_both(300_001)[1]["code"] == "2062"
    assert p.pay_both("200000", trace="dup")[0] == 200
    assert p.pay_both(1000, trace="dup")[1]["code"] == "2049"
    assert p.pay_both(300_000)[1]["code"] == "2144"
    assert p.pay_both(298_999.0)[0] == 200
    assert p.pay_both(1)[1]["code"] == "2003"
    sandbox_ops.advance(pm.runtime, 86400)  # a new Tehran day: the daily counters roll over
    assert p.pay_both(1)[0] == 200
    assert p.pay_both(1)[1]["code"] == "2004"
    assert p.pay_both(0)[1]["code"] == "027"
    assert p.pay_both("abc")[1]["code"] == "071"
    with pm.runtime.db.read() as conn:
        assert ledger.total(conn) == 0


def test_daily_amount_exhausted(pair: Callable[..., Pair]) -> None:
    p = pair(max_transaction_amount=None, daily_max_transaction_amount=2000)
    assert p.pay_both(2000)[0] == 200
    assert p.pay_both(1)[1]["code"] == "29003"


def test_client_transaction_date(pm: Payman, pair: Callable[..., Pair]) -> None:
    p = pair()
    now = pm.runtime.clock.now_utc()

    def at(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    assert p.pay_both(client_transaction_date=at(now - timedelta(minutes=5)))[0] == 200
    assert p.pay_both(client_transaction_date=int(now.timestamp() * 1000))[0] == 200
    code = p.pay_both(client_transaction_date=at(now - timedelta(minutes=30)))[1]["code"]
    assert code == "2059"
    code = p.pay_both(client_transaction_date=at(now + timedelta(days=400)))[1]["code"]
    assert code == "2060"
    code = p.pay_both(client_transaction_date=at(now + timedelta(days=2)))[1]["code"]
    assert code == "2012"
    sandbox_ops.advance(pm.runtime, 40 * 86400)
    code = p.pay_both(client_transaction_date=at(now + timedelta(days=5)))[1]["code"]
    assert code == "2206"
    assert p.pay_both(client_transaction_date="not a date")[1]["code"] == "071"


def test_deposit_states(pm: Payman, pair: Callable[..., Pair]) -> None:
    p = pair()
    _set_deposit(pm, balance=2500)
    assert p.pay_both(1000)[0] == 200  # 500 left after both debits
    _set_deposit(pm, balance=500)
    assert p.pay_both(1000, trace="poor")[1]["code"] == "003"  # recorded as BALANCE_FAILED
    assert p._row("h-poor") is not None and p._row("h-poor")["status"] == "BALANCE_FAILED"  # type: ignore[index]
    assert p.pay_both(1000, trace="poor")[1]["code"] == "2049"  # the failure took the trace id
    _set_deposit(pm, balance=10**9, status="BLOCK_WITH_DEPOSIT")
    assert p.pay_both(1000)[1]["code"] == "004"


def test_mandate_states_and_owners(pm: Payman, pair: Callable[..., Pair]) -> None:
    p = pair()
    assert p.pay_both(payman_id="unknown-id")[1]["code"] == "2014"

    other = new_merchant(pm.runtime, slug="other")["secrets"]["payman"]
    token = get_token(pm.client, other)
    r = pm.client.post(
        "/v1/payman/pay",
        json={"trace_id": "o-1", "payman_id": p.http, "amount": 1000},
        headers={**pm.headers(), "Authorization": f"Bearer {token}", "App-Key": other["app_key"]},
    )
    assert r.status_code == 400 and r.json()["code"] == "2055"

    active = pair()
    for pid in (p.http, p.py):
        r = pm.client.post(
            "/v1/payman/status/change",
            json={"new_status": "DEACTIVE", "payman_id": pid},
            headers=pm.headers(),
        )
        assert r.status_code == 200
    assert p.pay_both()[1]["code"] == "2058"
    sandbox_ops.advance(pm.runtime, 400 * 86400)  # past the expiration date
    pm.token = get_token(pm.client, pm.creds)  # and the token's lifetime
    assert p.pay_both()[1]["code"] == "2058"
    assert active.pay_both()[1]["code"] == "2006"


def test_start_date_in_the_future(pm: Payman, pair: Callable[..., Pair]) -> None:
    start = pm.runtime.clock.now_utc() + timedelta(days=2)
    p = pair(start_date=start.strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert p.pay_both()[1]["code"] == "2005"
    sandbox_ops.advance(pm.runtime, 3 * 86400)
    assert p.pay_both()[0] == 200


def test_deferred_pays(pm: Payman, admin: Any, pair: Callable[..., Pair]) -> None:
    p = pair()
    assert p.pay_both(pay_id="bill-1", deferred=True)[1]["code"] == "1515"
    assert p.pay_both(commission_amount=10, deferred=True)[1]["code"] == "1516"
    # An unstable bank that never fails: the Python transaction answers, successfully.
    r = admin.put(
        "/_pishkhan/v1/payman/banks/SABCIR", json={"status": "unstable", "failure_rate": 0.0}
    )
    assert r.status_code == 200
    assert p.pay_both(deferred=True)[0] == 200
    admin.put("/_pishkhan/v1/payman/banks/SABCIR", json={"status": "stable"})
    assert p.pay_both()[0] == 200
    admin.post("/_pishkhan/v1/payman/force", json={"outcome": "IN_PROGRESS", "count": 2})
    assert p.pay_both(deferred=True)[1]["status"] == "IN_PROGRESS"
    # Used up, but the switch says forced outcomes exist until they are removed: Python again.
    assert p.pay_both(deferred=True)[0] == 200
    admin.delete("/_pishkhan/v1/payman/force")
    assert p.pay_both()[0] == 200


def test_a_merchant_no_longer_allowed_the_bank(pm: Payman, pair: Callable[..., Pair]) -> None:
    p = pair()
    assert p.pay_both()[0] == 200
    with pm.runtime.db.write() as conn:
        conn.execute(
            payman_clients.update()
            .where(payman_clients.c.customer_id == p.merchant.customer_id)
            .values(allowed_banks=["MELIIR"])
        )
        credentials.bump(conn)  # what every change through tenants does: caches reload
    p.merchant = p.svc.authenticate(_lower(pm.headers()))
    assert p.pay_both(deferred=True)[1]["code"] == "2205"
