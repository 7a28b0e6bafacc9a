"""Golden exchanges from the field-by-field review against the document (v1.6) and
real clients (docs/payman.md): each test pins one discrepancy that was fixed, with the exact body."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from .conftest import REDIRECT, SABCIR, Payman

NOW_MS = 1748939400000  # the frozen sandbox clock: 2025-06-03 12:00 Tehran
YEAR_LATER_MS = 1780475400000
CONTRACT = {
    "expiration_date": YEAR_LATER_MS,
    "start_date": NOW_MS,
    "max_daily_transaction_count": 10,
    "max_monthly_transaction_count": 100,
    "max_transaction_amount": 5000000,
    "currency": "IRR",
}


def _masked(number: str) -> str:
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def test_cancel_on_the_login_page(pm: Payman) -> None:
    """The login page's own cancel button (before signing in) used to answer 403."""
    location, trace = pm.create()
    page = pm.client.get(location)
    assert page.status_code == 200 and 'id="cancel-login"' in page.text
    token = parse_qs(urlsplit(location).query)["boom_token"][0]
    r = pm.client.post(
        "/payman-bank/oauth/decide",
        data={"boom_token": token, "action": "cancel"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    back = parse_qs(urlsplit(r.headers["location"]).query)
    assert r.headers["location"].startswith(REDIRECT + "?")
    assert back == {
        "payman_code": [back["payman_code"][0]],
        "status": ["CANCELED"],
        "code": ["2156"],
    }
    r = pm.client.get("/v1/payman/create/trace", params={"trace-id": trace}, headers=pm.headers())
    assert r.status_code == 200
    assert r.json() == {
        "bank_code": "SABCIR",
        "user_id": f"user-{SABCIR.national_code}",
        "payman_id": None,
        "payman_code": back["payman_code"][0],
        "status": "CANCELLED",
        "internal_status": "کنسل پیمان توسط کاربر در صفحه Oauth",
        "permission_ids": [1],
        "contract": CONTRACT,
        "over_draft": {"status": "DEACTIVE"},
    }
    # Approving afterwards is impossible: the page was used.
    assert pm.client.get(location, follow_redirects=False).status_code == 410


def test_consent_page_names_the_merchant(pm: Payman) -> None:
    location, _ = pm.create()
    page = pm.client.get(location)
    assert page.status_code == 200
    assert "<dt>پذیرنده</dt><dd>فروشگاه نمونه</dd>" in page.text
    assert 'id="merchant">با تایید این قرارداد به «فروشگاه نمونه»' in page.text
    # and still after signing in, on the approval page
    token = parse_qs(urlsplit(location).query)["boom_token"][0]
    r = pm.client.post(
        "/payman-bank/oauth/login",
        data={"boom_token": token, "national_code": SABCIR.national_code, "mobile": SABCIR.mobile},
        follow_redirects=False,
    )
    page = pm.client.get(r.headers["location"])
    assert 'id="approve"' in page.text and "<dd>فروشگاه نمونه</dd>" in page.text


def test_health_last_updated_follows_the_sandbox_clock(pm: Payman) -> None:
    """A never-changed service reported the process start in real time: after the sandbox
    clock (frozen in 2025 here), i.e. in the future."""
    r = pm.client.get("/v1/health/service", headers=pm.headers())
    assert r.status_code == 200
    body = r.json()
    assert body[0] == {
        "bank": "BKMTIR",
        "service": "pay",
        "status": "stable",
        "last_updated": NOW_MS,
    }
    assert all(item["last_updated"] <= NOW_MS for item in body)


def test_search_permission_filter_before_paging(pm: Payman) -> None:
    """The permission_ids filter was applied after the page was cut: an empty page with
    total_records counting the mandates the filter excluded."""
    bill_body = pm.create_body()
    bill_body["payman"]["permission_ids"] = [2]
    r = pm.client.post(
        "/v1/payman/create",
        json=bill_body,
        headers=pm.headers(person=SABCIR),
        follow_redirects=False,
    )
    assert r.status_code == 302
    pm.create()  # a newer mandate with permission 1, first in the listing
    r = pm.client.post(
        "/v1/payman/search",
        json={"filter": {"permission_ids": ["2"]}, "offset": 0, "length": 1},
        headers=pm.headers(),
    )
    assert r.status_code == 200
    assert r.json() == {
        "results": [
            {
                "payman_id": None,
                "bank_code": "SABCIR",
                "user_id": f"user-{SABCIR.national_code}",
                "status": "INITIALIZING",
                "creditor_title": "فروشگاه نمونه",
                "trace_id": bill_body["trace_id"],
                "creditor_id": pm.creds["client_id"],
                "permission_ids": [2],
                "registration_date": NOW_MS,
                "contract": CONTRACT,
                "over_draft": {"status": "DEACTIVE"},
            }
        ],
        "total_records": 1,
    }


def test_search_accepts_the_tables_status_spelling(pm: Payman) -> None:
    location, trace = pm.create()
    back = pm.consent(location, SABCIR.national_code, SABCIR.mobile)
    assert back["status"] == ["CREATED"]
    for spelling in ("WATING_FOR_CONFIRM", "waiting_for_confirm"):
        r = pm.client.post(
            "/v1/payman/search",
            json={"Filter": {"Statuses": [spelling]}, "Offset": "0", "Length": 10.0},
            headers=pm.headers(),
        )
        assert r.status_code == 200
        body = r.json()
        assert body["total_records"] == 1
        assert body["results"][0]["status"] == "WAITING_FOR_CONFIRM"
        assert body["results"][0]["trace_id"] == trace


def _report_golden(pid: str, paid: int) -> dict[str, Any]:
    return {
        "payman_id": pid,
        "expiration_date": YEAR_LATER_MS,
        "start_date": NOW_MS,
        "remaining_daily_transactions_count": 9,
        "remaining_monthly_transactions_count": 99,
        "end_of_current_month": 1751315399000,  # the sample's: 2025-06-30 23:59:59 Tehran
        "max_daily_transactions_count": 10,
        "max_monthly_transactions_count": 100,
        "remaining_days": 365,
        "remaining_daily_transaction_amount": 2000000 - paid,
        "daily_transaction_max_amount": 2000000,
        "status": "ACTIVE",
        "deposit_number": _masked(SABCIR.deposit_number),
    }


def test_report_by_query_parameter(pm: Payman) -> None:
    """The document's table sends ``Payman-id`` as a query parameter (its sample uses the
    path); both answer the same body."""
    pid = pm.active_mandate(
        max_transaction_amount=1_000_000, daily_max_transaction_amount=2_000_000
    )
    assert pm.pay(pid, 150_000).status_code == 200
    by_path = pm.client.get(f"/v1/payman/report/{pid}", headers=pm.headers())
    assert by_path.status_code == 200 and by_path.json() == _report_golden(pid, 150_000)
    by_query = pm.client.get("/v1/payman/report", params={"Payman-id": pid}, headers=pm.headers())
    assert by_query.status_code == 200 and by_query.json() == _report_golden(pid, 150_000)
    missing = pm.client.get("/v1/payman/report", headers=pm.headers())
    assert missing.status_code == 400
    assert missing.json() == {
        "error": "ورودی ها صحیح نیستند.",
        "code": "071",
        "errors": [
            {
                "error": "ورودی ها صحیح نیستند.",
                "code": "071",
                "reference": "payman-id",
                "info": "The payman-id field is required.",
            }
        ],
    }


def test_query_parameter_names_bind_case_insensitively(pm: Payman) -> None:
    """The document's tables spell them ``Payman_code`` and ``Trace-id``."""
    location, trace = pm.create()
    back = pm.consent(location, SABCIR.national_code, SABCIR.mobile)
    code = back["payman_code"][0]
    r = pm.client.get("/v1/payman/create/trace", params={"Trace-Id": trace}, headers=pm.headers())
    assert r.status_code == 200 and r.json()["payman_code"] == code
    r = pm.client.get("/v1/payman/getId", params={"Payman_code": code}, headers=pm.headers())
    assert r.status_code == 200
    got = r.json()
    assert got == {
        "payman_id": got["payman_id"],
        "status": "ACTIVE",
        "deposit_number": _masked(SABCIR.deposit_number),
    }
    paid = pm.pay(got["payman_id"], 1000, trace="q-1")
    assert paid.status_code == 200
    r = pm.client.get(
        "/v1/payman/pay/trace",
        params={"Trace-Id": "q-1", "Date": "2025-06-03"},
        headers=pm.headers(),
    )
    assert r.status_code == 200
    ref = paid.json()["reference_id"]
    assert r.json() == {
        "currency": "IRR",
        "description": "خرید اشتراک",
        "destination_bank": "SABCIR",
        "destination_deposit": r.json()["destination_deposit"],
        "source_bank": "SABCIR",
        "source_deposit": _masked(SABCIR.deposit_number),
        "transaction_type": "NORMAL",
        **({"card_number": r.json()["card_number"]} if "card_number" in r.json() else {}),
        "error_type": "",
        "reference_id": ref,
        "trace_id": "q-1",
        "transaction_amount": 1000,
        "transaction_time": NOW_MS,
        "batch_id": paid.json()["batch_id"],
        "commission_amount": 0,
        "status": "SUCCEED",
        "is_over_draft": False,
    }


def test_transactions_golden(pm: Payman) -> None:
    """``/v1/payman/transactions``: ``{"results", "total_records"}`` with epoch-ms times."""
    pid = pm.active_mandate()
    paid = pm.pay(pid, "10000.0", trace="tx-1").json()
    r = pm.client.post(
        "/v1/payman/transactions",
        json={
            "filter": {"payman_ids": [pid], "transaction_statuses": ["succeed"]},
            "length": "5",
            "offset": "0",
        },
        headers=pm.headers(),
    )
    assert r.status_code == 200
    assert r.json() == {
        "results": [
            {
                "commission_amount": 0,
                "currency": "IRR",
                "description": "خرید اشتراک",
                "destination_bank_code": "SABCIR",
                "reference_id": paid["reference_id"],
                "source_bank_code": "SABCIR",
                "status": "SUCCEED",
                "trace_id": "tx-1",
                "transaction_amount": 10000,
                "transaction_time": NOW_MS,
                "payman_id": pid,
                "transaction_type": "NORMAL",
            }
        ],
        "total_records": 1,
    }


def test_create_json_body_under_the_documents_form_content_type(pm: Payman) -> None:
    """The document's note says create is form-encoded; a client that sets that content type
    but sends the sample's JSON body was answered 071 (the JSON text read as a form key)."""
    import json

    body = pm.create_body()
    r = pm.client.post(
        "/v1/payman/create",
        content=json.dumps(body).encode(),
        headers={
            **pm.headers(person=SABCIR),
            "Content-Type": "application/x-www-form-urlencoded",
        },
        follow_redirects=False,
    )
    assert r.status_code == 302 and r.content == b""
    assert "/payman-bank/oauth/authorize?" in r.headers["location"]


def test_token_with_http_basic_client_credentials(pm: Payman) -> None:
    """RFC 6749 client authentication (what generic OAuth libraries send by default)."""
    import base64

    pair = f"{pm.creds['client_id']}:{pm.creds['client_secret']}".encode()
    r = pm.client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic " + base64.b64encode(pair).decode()},
    )
    assert r.status_code == 200
    body = r.json()
    assert body == {
        "access_token": body["access_token"],
        "token_type": "bearer",
        "scope": "all",
        "expires_in": 24428731,
    }
    ok = pm.client.get(
        "/v1/payman/creditor/permissions",
        headers=pm.headers(Authorization=f"Bearer {body['access_token']}"),
    )
    assert ok.status_code == 200
    wrong = base64.b64encode(f"{pm.creds['client_id']}:nope".encode()).decode()
    r = pm.client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic " + wrong},
    )
    assert r.status_code == 401
    assert r.json() == {
        "error": "خطای احراز هویت رخ داده است.",
        "code": "2009",
        "errors": [{"error": "خطای احراز هویت رخ داده است.", "code": "2009"}],
    }
