"""``/api/{method}`` is found by the surface's table as a tail (no scan) and answered by a
``FastRoute`` without ``request_response``: same answers, same bytes. (The dispatch itself:
tests/foundation/test_middleware_direct.py.)"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from pendar.support import Customer
from pishkhan.web.fast import Dispatch, FastRoute, Table


@pytest.mark.undocumented("a wrong method (PUT on GetVersion): not an operation of the document")
def test_pendar_api_is_direct_and_answers_as_a_starlette_response(
    customer: Customer, client: Any
) -> None:
    dispatch = client.app.router
    assert isinstance(dispatch, Dispatch)
    surface, table = dispatch.lookup("/api/GetVersion")
    assert surface == "pendar" and isinstance(table, Table)
    name, (route,) = table._tails["/api/"]
    assert name == "method" and isinstance(route, FastRoute)
    r = client.get("/api/GetVersion")
    assert r.status_code == 200 and r.content == b'"1.10"'
    assert [k for k, _ in r.headers.raw] == [b"content-length", b"content-type", b"x-request-id"]
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    r = client.get("/api/Nope?x=1")
    assert r.status_code == 404
    assert r.content == orjson.dumps(
        {
            "Message": "No HTTP resource was found that matches the request URI "
            "'http://127.0.0.1/api/Nope?x=1'."
        }
    )
    r = client.post("/api/GetCredit", content=b"{not json")
    assert r.status_code == 200 and r.json()["ErrorCode"] == 1
    assert client.put("/api/GetVersion").status_code == 405
