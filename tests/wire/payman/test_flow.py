"""Token, create -> consent page -> redirect -> getId, create/trace, pay, pay/trace."""

from __future__ import annotations

from typing import Any

from .conftest import REDIRECT, SABCIR, Payman


def test_token_golden(pm: Payman) -> None:
    r = pm.client.post(
        "/oauth/token",
        data={
            "Client_id": pm.creds["client_id"],
            "Client_secret": pm.creds["client_secret"],
            "Grant_type": "client_credentials",
        },
    )
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"access_token", "token_type", "scope", "expires_in"}
    assert (
        body["token_type"] == "bearer" and body["scope"] == "all" and body["expires_in"] == 24428731
    )


def test_token_wrong_secret_is_2009(pm: Payman) -> None:
    r = pm.client.post(
        "/oauth/token",
        data={
            "client_id": pm.creds["client_id"],
            "client_secret": "nope",
            "grant_type": "client_credentials",
        },
    )
    assert r.status_code == 401
    assert r.json() == {
        "error": "خطای احراز هویت رخ داده است.",
        "code": "2009",
        "errors": [{"error": "خطای احراز هویت رخ داده است.", "code": "2009"}],
    }


def test_full_flow(pm: Payman) -> None:
    location, trace = pm.create()
    assert "/payman-bank/oauth/authorize?" in location and "bank_id=SABCIR" in location
    # While the person is on the bank page, create/trace answers 2014.
    r = pm.client.get("/v1/payman/create/trace", params={"trace-id": trace}, headers=pm.headers())
    assert r.status_code == 400 and r.json()["code"] == "2014"
    back = pm.consent(location, SABCIR.national_code, SABCIR.mobile)
    assert back["status"] == ["CREATED"] and len(back["payman_code"][0]) == 12
    code = back["payman_code"][0]
    r = pm.client.get("/v1/payman/create/trace", params={"trace-id": trace}, headers=pm.headers())
    assert r.status_code == 200
    t = r.json()
    assert (
        t["payman_id"] is None and t["payman_code"] == code and t["status"] == "WAITING_FOR_CONFIRM"
    )
    assert t["internal_status"] == "در انتظار فعالسازی قرارداد پیمان"
    r = pm.client.get("/v1/payman/getId", params={"payman_code": code}, headers=pm.headers())
    assert r.status_code == 200
    got = r.json()
    dep = SABCIR.deposit_number
    assert got == {
        "payman_id": got["payman_id"],
        "status": "ACTIVE",
        "deposit_number": dep[:4] + "*" * (len(dep) - 8) + dep[-4:],
    }
    # A second getId: already active.
    r = pm.client.get("/v1/payman/getId", params={"payman_code": code}, headers=pm.headers())
    assert r.status_code == 400 and r.json()["code"] == "2046"
    r = pm.client.get("/v1/payman/create/trace", params={"trace-id": trace}, headers=pm.headers())
    t = r.json()
    assert t["status"] == "ACTIVE" and t["payman_id"] == got["payman_id"]
    assert t["contract"] == {
        "expiration_date": 1780475400000,
        "start_date": 1748939400000,
        "max_daily_transaction_count": 10,
        "max_monthly_transaction_count": 100,
        "max_transaction_amount": 5000000,
        "currency": "IRR",
    }
    assert t["internal_status"] == "قرارداد پیمان فعال شده" and t["over_draft"] == {
        "status": "DEACTIVE"
    }

    r = pm.pay(
        got["payman_id"],
        100000,
        trace="djloplaae-b85e-5hg-s97c-b991acdacdfg",
        client_transaction_date="2025-06-03T12:03:11.000Z",
    )
    assert r.status_code == 200, r.text
    p = r.json()
    assert p == {
        "reference_id": p["reference_id"],
        "trace_id": "djloplaae-b85e-5hg-s97c-b991acdacdfg",
        "transaction_amount": 100000,
        "transaction_time": 1748939400000,
        "batch_id": p["batch_id"],
        "commission_amount": 0,
        "status": "SUCCEED",
        "details": [
            {
                "reference_id": p["reference_id"],
                "trace_id": "djloplaae-b85e-5hg-s97c-b991acdacdfg_1",
                "amount": 100000,
                "transaction_time": 1748939400000,
                "transaction_detail_type": "MAIN",
                "status": "SUCCEED",
            }
        ],
        "is_over_draft": False,
    }
    assert len(p["reference_id"]) == 20 and p["reference_id"].isdigit()
    # the document's 00001748943275532294: epoch microseconds of the pay, zero-padded to 20
    assert p["reference_id"].startswith("0000")
    assert int(p["reference_id"]) // 1_000_000 == 1748939400000 // 1000
    r = pm.client.get(
        "/v1/payman/pay/trace",
        params={"trace-id": "djloplaae-b85e-5hg-s97c-b991acdacdfg", "date": "2025-06-03"},
        headers=pm.headers(),
    )
    assert r.status_code == 200
    tr = r.json()
    assert tr["status"] == "SUCCEED" and tr["transaction_type"] == "NORMAL"
    assert tr["source_bank"] == "SABCIR" and tr["destination_bank"] == "SABCIR"
    assert tr["error_type"] == "" and tr["currency"] == "IRR" and tr["transaction_amount"] == 100000


def test_cancel_on_the_page(pm: Payman) -> None:
    location, trace = pm.create()
    back = pm.consent(location, SABCIR.national_code, SABCIR.mobile, action="cancel")
    assert back["status"] == ["CANCELED"] and back["code"] == ["2156"]
    r = pm.client.get("/v1/payman/create/trace", params={"trace-id": trace}, headers=pm.headers())
    assert r.json()["status"] == "CANCELLED"
    # single use
    again = pm.client.get(location, follow_redirects=False)
    assert again.status_code == 410


def test_redirect_keeps_merchant_query(pm: Payman) -> None:
    body: dict[str, Any] = pm.create_body()
    body["redirect_url"] = REDIRECT + "?userID=123456"
    r = pm.client.post(
        "/v1/payman/create", json=body, headers=pm.headers(person=SABCIR), follow_redirects=False
    )
    assert r.status_code == 302 and r.content == b""
    back = pm.consent(r.headers["location"], SABCIR.national_code, SABCIR.mobile)
    assert back["userID"] == ["123456"] and back["status"] == ["CREATED"]
