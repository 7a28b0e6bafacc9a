"""Issue 19, Paystar: a wrong method (405, with ``Allow``) and an unknown path (404) under
``/api/open-banking/`` answer the ``{status, data, message}`` envelope with status 10 (the table
has no entry for either; 10 is its entry for a request that cannot be taken), not Starlette's
plain text; nothing runs, nothing is recorded."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from pishkhan.core.db import metadata

REFUSED = {"status": 10, "data": None, "message": "اطلاعات ارسال شده صحیح نمی باشد"}


def _counts(runtime: Any) -> dict[str, int]:
    with runtime.db.read() as conn:
        return {
            t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in metadata.sorted_tables
        }


@pytest.mark.undocumented("wrong methods: not operations of the document")
def test_wrong_method_is_405_with_allow(client: Any, runtime: Any) -> None:
    before = _counts(runtime)
    for method in ("GET", "PUT", "DELETE", "OPTIONS", "HEAD"):
        for path in (
            "/api/open-banking/application/refresh-api-key",
            "/api/application/refresh-api-key",
            "/api/open-banking/service/info-matching/mobile-national-id",
        ):
            r = client.request(method, path)
            assert r.status_code == 405, (method, path, r.text)
            assert r.headers["allow"] == "POST"
            assert r.headers["content-type"] == "application/json"
            if method != "HEAD":
                assert r.json() == REFUSED
    assert _counts(runtime) == before


def test_unknown_path_is_404(client: Any) -> None:
    for path in (
        "/api/open-banking/nope",
        "/api/open-banking/info-matching/nope",
        "/api/open-banking/",
    ):
        r = client.post(path, json={})
        assert (r.status_code, r.json()) == (404, REFUSED), path
        assert r.headers["content-type"] == "application/json"
