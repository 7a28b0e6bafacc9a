"""Issue 19, Pendar: a query string that is not UTF-8 once percent-decoded (a Windows-1256
national code or name, ``%C7%E1%DF``) is unreadable input, answered as an unreadable body is:
the method's own shape with ErrorCode 1, 200; nothing is read, written or charged. The query is
decoded by the one shared rule, :func:`pishkhan.web.asgi.query_map`."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import func, select

from pendar.support import ALI
from pishkhan.core.db import metadata

CP1256 = "%C7%E1%DF"  # "الک" in Windows-1256, not UTF-8
PROGRAM_ERROR = "خطا در اجرای برنامه"
NOT_UTF8 = "رشته پرس‌وجو UTF-8 نیست"


def _counts(runtime: Any) -> dict[str, int]:
    with runtime.db.read() as conn:
        return {
            t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in metadata.sorted_tables
        }


def test_get_methods_refuse_a_query_that_is_not_utf8(customer: Any, runtime: Any) -> None:
    customer.issue(customer.register())
    before = _counts(runtime)
    refused = {"IsSuccess": False, "ErrorCode": 1, "ErrorMessage": PROGRAM_ERROR}
    for query in (
        f"SerialNumber={CP1256}",
        f"SerialNumber={ALI['NationalCode']}&name={CP1256}",
        f"{CP1256}=1&SerialNumber={ALI['NationalCode']}",
    ):
        r = customer.client.get(f"/api/GetAllCert?{query}")
        assert (r.status_code, r.json()) == (200, refused), query
    r = customer.client.get(f"/api/IsAvailable?caName={CP1256}")
    assert (r.status_code, r.json()) == (
        200,
        {
            "IsAvailable": False,
            "Description": NOT_UTF8,
            "ErrorCode": 1,
            "ErrorMessage": PROGRAM_ERROR,
        },
    )
    assert _counts(runtime) == before  # nothing read into a handler, nothing written
    # the same query in UTF-8 is read
    r = customer.client.get(f"/api/GetAllCert?SerialNumber={ALI['NationalCode']}&name=%D8%B9")
    assert r.status_code == 200 and len(r.json()) == 1


def test_a_paid_post_with_such_a_query_is_not_charged(customer: Any, runtime: Any) -> None:
    """A POST whose body is fine but whose query is not UTF-8 issues nothing."""
    tracking_code = customer.register()
    before = _counts(runtime)
    body = customer.issue_body(tracking_code)
    r = customer.client.post(
        f"/api/IssueCertificateByTrackingCode?caName={CP1256}",
        content=json.dumps(body),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 200
    answer = r.json()
    assert answer["IsSuccess"] is False
    assert (answer["ErrorCode"], answer["ErrorMessage"]) == (1, PROGRAM_ERROR)
    assert _counts(runtime) == before
    assert customer.issue(tracking_code)["IsSuccess"] is True  # the same request, readable


def test_real_server_refuses_it_too(db_url: str, live_server_factory: Any) -> None:
    """Over a socket to a real server (its HTTP parser keeps the percent-escapes as sent)."""
    server = live_server_factory(db_url, workers=1)
    r = httpx.get(f"{server.base_url}/api/GetAllCert?SerialNumber={CP1256}", timeout=10)
    assert (r.status_code, r.json()) == (
        200,
        {"IsSuccess": False, "ErrorCode": 1, "ErrorMessage": PROGRAM_ERROR},
    )
