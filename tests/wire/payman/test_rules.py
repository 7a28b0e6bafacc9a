"""Limits, states, headers and error bodies; state after each error."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from pishkhan.control import sandbox_ops
from pishkhan.providers.payman import ledger
from pishkhan.world.fixtures import MOBILE_PAYMAN_CURRENT_ONLY, NC_PAYMAN_CURRENT_ONLY, PAYMAN
from pishkhan.world.tables import world_deposits

from .conftest import SABCIR, Payman

MELLI = next(p for p in PAYMAN if p.payman_code == "MELIIR")


def err(
    code: str, message: str, reference: str | None = None, info: str | None = None
) -> dict[str, Any]:
    item: dict[str, Any] = {"error": message, "code": code}
    if reference is not None:
        item["reference"] = reference
    if info is not None:
        item["info"] = info
    return {"error": message, "code": code, "errors": [item]}


def balance(pm: Payman, iban: str) -> int:
    with pm.runtime.db.read() as conn:
        return int(
            conn.execute(
                select(world_deposits.c.balance).where(world_deposits.c.iban == iban)
            ).scalar_one()
        )


def test_missing_header_names_it(pm: Payman) -> None:
    h = pm.headers()
    del h["Client-User-Id"]
    r = pm.client.post("/v1/payman/search", json={"offset": 0, "length": 1}, headers=h)
    assert r.status_code == 400
    assert r.json() == err("2066", "اطلاعات مورد نیاز در هدر ارسال نشده است.", "Client-User-Id")


def test_token_problems(pm: Payman) -> None:
    r = pm.client.get(
        "/v1/payman/getId",
        params={"payman_code": "x"},
        headers=pm.headers(Authorization="Bearer junk.sig"),
    )
    assert r.status_code == 401 and r.json()["code"] == "2069"
    h = pm.headers()
    del h["Authorization"]
    r = pm.client.get("/v1/payman/getId", params={"payman_code": "x"}, headers=h)
    assert r.status_code == 401 and r.json()["code"] == "2067"
    r = pm.client.get(
        "/v1/payman/getId",
        params={"payman_code": "x"},
        headers=pm.headers(**{"App-Key": "unknown"}),
    )
    assert r.status_code == 400 and r.json()["code"] == "2002"


def test_create_validation(pm: Payman) -> None:
    body = pm.create_body(start_date="2025-06-01T00:00:00Z")
    r = pm.client.post(
        "/v1/payman/create", json=body, headers=pm.headers(person=SABCIR), follow_redirects=False
    )
    assert r.status_code == 400
    assert r.json() == err(
        "071",
        "ورودی ها صحیح نیستند.",
        "payman.contract.start_date",
        "مقدار وارد شده برای فیلد StartDate بایستی بزرگتر از فیلد Now باشد",
    )
    cases = [
        (dict(max_transaction_amount=None), "2226"),
        (dict(daily_max_transaction_amount=1000, max_transaction_amount=5000), "2126"),
        (dict(max_monthly_transaction_count=5), "2216"),
        (dict(expiration_date="2025-01-01T00:00:00Z"), "2008"),
    ]
    for contract, code in cases:
        b = pm.create_body(**contract)
        r = pm.client.post(
            "/v1/payman/create", json=b, headers=pm.headers(person=SABCIR), follow_redirects=False
        )
        assert r.status_code == 400 and r.json()["code"] == code, (contract, r.text)
    b = pm.create_body()
    b["payman"]["bank_code"] = "NOPEIR"
    r = pm.client.post(
        "/v1/payman/create", json=b, headers=pm.headers(person=SABCIR), follow_redirects=False
    )
    assert r.json()["code"] == "2023"
    r = pm.client.post(
        "/v1/payman/create",
        json=pm.create_body(),
        headers=pm.headers(person=SABCIR, **{"Mobile-no": "12"}),
        follow_redirects=False,
    )
    assert r.json()["code"] == "2078"
    # duplicate trace id
    b = pm.create_body(trace="dup-1")
    assert (
        pm.client.post(
            "/v1/payman/create", json=b, headers=pm.headers(person=SABCIR), follow_redirects=False
        ).status_code
        == 302
    )
    r = pm.client.post(
        "/v1/payman/create", json=b, headers=pm.headers(person=SABCIR), follow_redirects=False
    )
    assert r.json() == err("2049", "شماره پیگیری تکراریست", "trace_id")


def test_create_tolerances(pm: Payman) -> None:
    """Form-encoded-like casing, numbers as strings, Tehran time before a literal Z."""
    body = {
        "Payman": {
            "Bank_code": "SABCIR",
            "User_id": "u1",
            "Permission_ids": ["1"],
            "Contract": {
                "Expiration_date": "2026-03-04T07:58:07.6000000Z",
                "Max_daily_transaction_count": "5",
                "Max_transaction_amount": 500000.0,
                "Start_date": "2025-06-03T12:00:00.000Z",
                "Daily_max_transaction_amount": None,
            },
        },
        "Redirect_url": "https://merchant.example/payman/back",
        "Trace_id": "tol-1",
    }
    r = pm.client.post(
        "/v1/payman/create", json=body, headers=pm.headers(person=SABCIR), follow_redirects=False
    )
    assert r.status_code == 302, r.text
    back = pm.consent(r.headers["location"], SABCIR.national_code, SABCIR.mobile)
    r = pm.client.get("/v1/payman/create/trace", params={"trace-id": "tol-1"}, headers=pm.headers())
    # 12:00 "Z" is Tehran wall-clock here (now is 12:00 Tehran): start = now.
    assert r.json()["contract"]["start_date"] == 1748939400000
    assert back["status"] == ["CREATED"]


def test_consent_owner_checks(pm: Payman) -> None:
    other = PAYMAN[0] if PAYMAN[0] is not SABCIR else PAYMAN[1]
    location, trace = pm.create()
    back = pm.consent(location, other.national_code, SABCIR.mobile)
    assert back["status"] == ["INTERNAL_ERROR"] and back["code"] == ["2097"]
    r = pm.client.get("/v1/payman/create/trace", params={"trace-id": trace}, headers=pm.headers())
    assert r.json()["status"] == "CANCELLED"
    location, _ = pm.create()
    back = pm.consent(location, SABCIR.national_code, other.mobile)
    assert back["code"] == ["2098"]
    # Merchant sends someone else's mobile with this person's national code: 2035.
    b = pm.create_body()
    r = pm.client.post(
        "/v1/payman/create",
        json=b,
        follow_redirects=False,
        headers=pm.headers(person=SABCIR, **{"Mobile-no": other.mobile}),
    )
    back = pm.consent(r.headers["location"], SABCIR.national_code, other.mobile)
    assert back["code"] == ["2035"]


def test_current_account_only_is_2110(pm: Payman) -> None:
    b = pm.create_body()
    b["payman"]["bank_code"] = "BKMTIR"
    r = pm.client.post(
        "/v1/payman/create",
        json=b,
        follow_redirects=False,
        headers=pm.headers(
            **{"Mobile-no": MOBILE_PAYMAN_CURRENT_ONLY, "National-code": NC_PAYMAN_CURRENT_ONLY}
        ),
    )
    assert r.status_code == 302
    back = pm.consent(r.headers["location"], NC_PAYMAN_CURRENT_ONLY, MOBILE_PAYMAN_CURRENT_ONLY)
    assert back["status"] == ["INTERNAL_ERROR"] and back["code"] == ["2110"]


def test_consent_page_expires(pm: Payman) -> None:
    location, trace = pm.create()
    sandbox_ops.advance(pm.runtime, 601)
    r = pm.client.get(location, follow_redirects=False)
    assert r.status_code == 302 and "status=TIMEOUT" in r.headers["location"]
    assert r.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    r = pm.client.get("/v1/payman/create/trace", params={"trace-id": trace}, headers=pm.headers())
    assert r.json()["status"] == "CANCELLED"
    assert r.json()["internal_status"] == "زمان انقضای صفحه قرار داد به پایان رسید"


def test_daily_count_limit_and_rollover(pm: Payman) -> None:
    pid = pm.active_mandate(max_daily_transaction_count=2, max_monthly_transaction_count=3)
    before = balance(pm, SABCIR.iban)
    assert pm.pay(pid).status_code == 200
    assert pm.pay(pid).status_code == 200
    r = pm.pay(pid)
    assert r.status_code == 400
    assert r.json() == err("2003", "محدودیت روزانه نقض شده است")
    assert balance(pm, SABCIR.iban) == before - 200_000
    rep = pm.client.get(f"/v1/payman/report/{pid}", headers=pm.headers()).json()
    assert (
        rep["remaining_daily_transactions_count"] == 0
        and rep["remaining_monthly_transactions_count"] == 1
    )
    assert rep["end_of_current_month"] == 1751315399000
    # Next Tehran day: daily limit rolls over, monthly does not.
    sandbox_ops.advance(pm.runtime, 86400)
    assert pm.pay(pid).status_code == 200
    r = pm.pay(pid)
    assert r.json()["code"] == "2004"
    # Next month: both roll over.
    sandbox_ops.freeze(pm.runtime, datetime(2025, 7, 1, 8, 30, tzinfo=UTC).isoformat())
    assert pm.pay(pid).status_code == 200


def test_amount_limits(pm: Payman) -> None:
    pid = pm.active_mandate(max_transaction_amount=300_000, daily_max_transaction_amount=500_000)
    assert pm.pay(pid, 300_001).json()["code"] == "2062"
    assert pm.pay(pid, "300000").status_code == 200
    assert pm.pay(pid, 250_000).json()["code"] == "2144"
    assert pm.pay(pid, 200_000.0).status_code == 200
    assert pm.pay(pid, 1).json()["code"] == "29003"
    assert pm.pay(pid, 0).json()["code"] == "027"
    assert pm.pay(pid, 10.5).json()["code"] == "027"


def test_trace_id_once_and_ledger(pm: Payman) -> None:
    pid = pm.active_mandate()
    before = balance(pm, SABCIR.iban)
    assert pm.pay(pid, 1000, trace="same").status_code == 200
    r = pm.pay(pid, 1000, trace="same")
    assert r.json() == err("2049", "شماره پیگیری تکراریست", "trace_id")
    assert balance(pm, SABCIR.iban) == before - 1000
    with pm.runtime.db.read() as conn:
        assert ledger.total(conn) == 0
        assert ledger.account_balance(conn, ledger.deposit_account(SABCIR.iban)) == -1000


def test_status_change_rules(pm: Payman) -> None:
    pid = pm.active_mandate()

    def change(status: str) -> Any:
        return pm.client.post(
            "/v1/payman/status/change",
            json={"new_status": status, "payman_id": pid},
            headers=pm.headers(),
        )

    r = change("deactive")
    assert r.status_code == 200 and r.json() == {"payman_id": pid, "status": "DEACTIVE"}
    assert pm.pay(pid).json()["code"] == "2058"
    assert change("DEACTIVE").json() == err("2016", "وضعیت قابل تغییر نمی باشد")
    assert change("paused").json()["code"] == "2183"
    assert change("active").json()["status"] == "ACTIVE"
    assert change("CANCELLED").json()["status"] == "CANCELLED"
    assert change("active").json()["code"] == "2185"
    assert pm.pay(pid).json()["code"] == "2154"


def test_bank_inaccessible_and_cutoff(pm: Payman, admin: Any) -> None:
    pid = pm.active_mandate(MELLI)
    r = admin.put("/_pishkhan/v1/payman/banks/MELIIR", json={"status": "inaccessible"})
    assert r.status_code == 200
    r = pm.pay(pid)
    assert r.status_code == 423 and r.json() == err("2500", "این سرویس موقتاً در دسترس نیست")
    h = pm.client.get("/v1/health/service", headers=pm.headers()).json()
    assert {"bank": "MELIIR", "service": "pay", "status": "Inaccessible"}.items() <= next(
        x for x in h if x["bank"] == "MELIIR" and x["service"] == "pay"
    ).items()
    admin.put("/_pishkhan/v1/payman/banks/MELIIR", json={"status": "stable"})
    # Melli's cut-off is 23:30-00:05 Tehran.
    sandbox_ops.freeze(pm.runtime, datetime(2025, 6, 3, 20, 1, tzinfo=UTC).isoformat())
    assert pm.pay(pid).json()["code"] == "2121"
    sandbox_ops.freeze(pm.runtime, datetime(2025, 6, 3, 19, 59, tzinfo=UTC).isoformat())
    assert pm.pay(pid).status_code == 200


def test_forced_outcomes_and_reversal(pm: Payman, admin: Any) -> None:
    pid = pm.active_mandate()
    before = balance(pm, SABCIR.iban)
    admin.post("/_pishkhan/v1/payman/force", json={"outcome": "FAILED", "payman_id": pid})
    r = pm.pay(pid, 5000, trace="f1")
    assert r.json()["code"] == "2072"
    tr = pm.client.get(
        "/v1/payman/pay/trace", params={"trace-id": "f1"}, headers=pm.headers()
    ).json()
    assert tr["status"] == "FAILED" and tr["error_type"] == "2072"
    admin.post("/_pishkhan/v1/payman/force", json={"outcome": "TIMEOUT", "payman_id": pid})
    r = pm.pay(pid, 5000, trace="t1")
    assert r.status_code == 200 and r.json()["status"] == "TIMEOUT"
    assert balance(pm, SABCIR.iban) == before
    assert (
        admin.post(
            "/_pishkhan/v1/payman/transactions/t1/settle", json={"status": "SUCCEED"}
        ).json()["status"]
        == "SUCCEED"
    )
    assert balance(pm, SABCIR.iban) == before - 5000
    assert admin.post("/_pishkhan/v1/payman/transactions/t1/reverse").json()["status"] == "REVERSED"
    assert balance(pm, SABCIR.iban) == before
    assert admin.get("/_pishkhan/v1/payman/ledger").json() == {"total": 0, "balanced": True}


def test_insufficient_balance(pm: Payman) -> None:
    pid = pm.active_mandate()
    with pm.runtime.db.write() as conn:
        conn.execute(
            world_deposits.update().where(world_deposits.c.iban == SABCIR.iban).values(balance=500)
        )
    r = pm.pay(pid, 1000, trace="poor")
    assert r.json() == err("003", "موجودی سپرده کافی نیست")
    assert balance(pm, SABCIR.iban) == 500
    tr = pm.client.get(
        "/v1/payman/pay/trace", params={"trace-id": "poor"}, headers=pm.headers()
    ).json()
    assert tr["status"] == "BALANCE_FAILED"


def test_reports(pm: Payman) -> None:
    pid = pm.active_mandate()
    pm.pay(pid, 10000, trace="r1", client_transaction_date="2025-06-03T11:59:00Z")
    pm.pay(pid, 20000, trace="r2")
    s = pm.client.post(
        "/v1/payman/search", json={"filter": [], "offset": "0", "length": 15}, headers=pm.headers()
    ).json()
    assert s["total_records"] == 1 and s["results"][0]["payman_id"] == pid
    assert s["results"][0]["creditor_title"] == "فروشگاه نمونه"
    s = pm.client.post(
        "/v1/payman/search",
        json={"filter": {"statuses": ["DEACTIVE"]}, "offset": 0, "length": 15},
        headers=pm.headers(),
    ).json()
    assert s == {"results": [], "total_records": 0}
    r = pm.client.post(
        "/v1/payman/search", json={"filter": {}, "offset": 0, "length": "x"}, headers=pm.headers()
    )
    assert r.json()["errors"][0]["reference"] == "$.length"
    t = pm.client.post(
        "/v1/payman/transactions",
        json={
            "filter": {
                "transaction_type": "DIRECT_DEBIT",
                "from_transaction_amount": "1",
                "to_transaction_amount": "15000",
            },
            "length": "1",
            "offset": "0",
        },
        headers=pm.headers(),
    ).json()
    assert t["total_records"] == 1 and t["results"][0]["trace_id"] == "r1"
    rep = pm.client.post(
        "/v1/reports/transactions",
        json={
            "offset": 0,
            "length": 10,
            "start_date": "2025-01-14T08:30:00.000Z",
            "end_date": "2026-12-14T08:30:00.000Z",
            "bank_code": "SABCIR",
        },
        headers=pm.headers(),
    ).json()
    assert [x["trace_id"] for x in rep] == ["r1", "r2"]
    assert (
        rep[0]["server_date"] == "2025-06-03T12:00:00"
        and rep[0]["client_date"] == "2025-06-03T11:59:00"
    )
    bad = pm.client.post(
        "/v1/reports/transactions",
        json={
            "offset": 0,
            "length": 10,
            "start_date": "2025-01-14",
            "end_date": "2026-12-14",
            "bank_code": "XX",
        },
        headers=pm.headers(),
    )
    assert bad.json() == err("2084", "کد بانک نامعتبر است.", "$.bank_code")
    st = pm.client.post(
        "/v1/reports/transactions/statistics",
        json={"start_date": "2025-01-13T00:00:00.000Z", "end_date": "2026-12-17T23:59:59.000Z"},
        headers=pm.headers(),
    ).json()
    assert st == {
        "total_amount": 30000,
        "total_records": 2,
        "results": [
            {
                "bank_code": "SABCIR",
                "transaction_type": "NORMAL",
                "total_amount": 30000,
                "total_count": 2,
                "count_of_over_draft_payment": 0,
            }
        ],
    }


def test_update_through_consent(pm: Payman) -> None:
    pid = pm.active_mandate()
    body = {
        "payman_id": pid,
        "expiration_date": "2027-06-03T23:59:53.871Z",
        "max_daily_transaction_count": 14,
        "max_monthly_transaction_count": 300,
        "max_transaction_amount": 2000000,
        "redirect_url": "https://merchant.example/payman/back",
    }
    r = pm.client.post(
        "/v1/payman/update", json=body, headers=pm.headers(person=SABCIR), follow_redirects=False
    )
    assert r.status_code == 302 and r.content == b""
    back = pm.consent(r.headers["location"], SABCIR.national_code, SABCIR.mobile)
    assert back["status"] == ["UPDATED"] and back["payman_id"] == [pid]
    rep = pm.client.get(f"/v1/payman/report/{pid}", headers=pm.headers()).json()
    assert (
        rep["max_daily_transactions_count"] == 14 and rep["max_monthly_transactions_count"] == 300
    )
    body["expiration_date"] = "2026-01-01T00:00:00Z"
    r = pm.client.post(
        "/v1/payman/update", json=body, headers=pm.headers(person=SABCIR), follow_redirects=False
    )
    assert r.json()["code"] == "20948"


def test_head_probe_and_permissions(pm: Payman) -> None:
    assert pm.client.head("/").status_code == 200
    r = pm.client.get("/v1/payman/creditor/permissions", headers=pm.headers())
    assert r.json()[0] == {"id": 1, "name": "DIRECT_DEBIT", "display_name": "برداشت وجه"}
