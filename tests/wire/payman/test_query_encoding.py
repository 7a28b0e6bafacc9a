"""Issue 19, Payman: a query string (or a form-encoded token body) that is not UTF-8 once
percent-decoded (a Windows-1256 ``%C7%E1%DF``) is 071 in the error envelope, ``reference`` ``?``
for the query (``$`` for the body, as for a body that is not JSON), instead of being read with
U+FFFD in place of its bytes; nothing is written or charged. One shared decoder:
:func:`pishkhan.web.asgi.query_pairs` / ``query_map``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from pishkhan.core.db import metadata

from .conftest import SABCIR, Payman

CP1256 = "%C7%E1%DF"
INVALID = "ورودی ها صحیح نیستند."


def _refused(reference: str, info: str) -> dict[str, Any]:
    return {
        "error": INVALID,
        "code": "071",
        "errors": [{"error": INVALID, "code": "071", "reference": reference, "info": info}],
    }


QUERY_REFUSED = _refused("?", "The query string is not UTF-8.")


def _counts(runtime: Any) -> dict[str, int]:
    with runtime.db.read() as conn:
        return {
            t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in metadata.sorted_tables
        }


def test_query_that_is_not_utf8_is_071(pm: Payman) -> None:
    payman_id = pm.active_mandate(SABCIR)
    trace = pm.next_trace("p")
    assert pm.pay(payman_id, trace=trace).status_code == 200
    before = _counts(pm.runtime)
    for path in (
        f"/v1/payman/getId?payman_code={CP1256}",
        f"/v1/payman/create/trace?trace-id={CP1256}",
        f"/v1/payman/create/trace?trace-id={trace}&{CP1256}=1",
        f"/v1/payman/pay/trace?trace-id={trace}&date=2025-06-03&note={CP1256}",
        f"/v1/payman/report?payman-id={CP1256}",
    ):
        r = pm.client.get(path, headers=pm.headers())
        assert (r.status_code, r.json()) == (400, QUERY_REFUSED), path
    assert _counts(pm.runtime) == before  # nothing written, nothing charged
    # the same trace, readable, is found
    r = pm.client.get(
        f"/v1/payman/pay/trace?trace-id={trace}&date=2025-06-03&note=%D8%B9", headers=pm.headers()
    )
    assert r.status_code == 200, r.text


def test_form_token_body_that_is_not_utf8_is_071(pm: Payman) -> None:
    before = _counts(pm.runtime)
    r = pm.client.post(
        "/oauth/token",
        content=(
            f"client_id={pm.creds['client_id']}&client_secret={pm.creds['client_secret']}"
            f"&grant_type=client_credentials&name={CP1256}"
        ),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (r.status_code, r.json()) == (400, _refused("$", "The request body is not UTF-8."))
    assert _counts(pm.runtime) == before


def test_consent_page_with_such_a_link_is_the_page_of_a_bad_link(pm: Payman) -> None:
    bad = pm.client.get(f"/payman-bank/oauth/authorize?boom_token={CP1256}")
    empty = pm.client.get("/payman-bank/oauth/authorize?boom_token=")
    assert (bad.status_code, bad.text) == (empty.status_code, empty.text)
