"""Issue 19, Payman: a wrong method (405, with ``Allow``) and an unknown path (404) under the
API's paths answer 2026 ("the operation is not allowed") in the error envelope, not Starlette's
plain text; nothing runs or is recorded. The HTML consent pages keep their own answers."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from pishkhan.core.db import metadata

from .conftest import Payman

NOT_ALLOWED = "عملیات مجاز نمی باشد"


def _body(info: str) -> dict[str, Any]:
    return {
        "error": NOT_ALLOWED,
        "code": "2026",
        "errors": [{"error": NOT_ALLOWED, "code": "2026", "info": info}],
    }


def _counts(runtime: Any) -> dict[str, int]:
    with runtime.db.read() as conn:
        return {
            t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in metadata.sorted_tables
        }


@pytest.mark.undocumented("wrong methods: not operations of the document")
def test_wrong_method_is_405_with_allow(pm: Payman) -> None:
    before = _counts(pm.runtime)
    for method, path, allow in (
        ("GET", "/v1/payman/pay", "POST"),
        ("PUT", "/v1/payman/pay", "POST"),
        ("GET", "/oauth/token", "POST"),
        ("DELETE", "/v1/payman/getId", "GET, HEAD"),
        ("POST", "/v1/payman/report/12345", "GET, HEAD"),
        ("GET", "/v1/reports/transactions", "POST"),
    ):
        r = pm.client.request(method, path, headers=pm.headers())
        assert r.status_code == 405, (method, path, r.text)
        assert r.headers["allow"] == allow
        assert r.headers["content-type"] == "application/json"
        assert r.json() == _body(f"Method {method} is not allowed here; allowed: {allow}.")
    assert _counts(pm.runtime) == before


def test_unknown_path_is_404(pm: Payman) -> None:
    for path in ("/v1/payman/nope", "/v1/payman/pay/extra/x", "/v1/reports/"):
        r = pm.client.post(path, headers=pm.headers(), json={})
        assert (r.status_code, r.json()) == (404, _body(f"No resource at {path}.")), path
        assert r.headers["content-type"] == "application/json"


@pytest.mark.undocumented("a wrong method on a consent page: not an operation of the document")
def test_consent_pages_keep_their_answers(pm: Payman) -> None:
    r = pm.client.get("/payman-bank/oauth/authorize?boom_token=")
    assert r.headers["content-type"].startswith("text/html")
    r = pm.client.put("/payman-bank/oauth/authorize")
    assert r.status_code == 405 and not r.headers["content-type"].startswith("application/json")
