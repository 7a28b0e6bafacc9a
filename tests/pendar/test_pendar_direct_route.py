"""``/api/{method}`` is dispatched by the request middleware without the router's scan
(``direct_tail``) and answered without ``request_response``: same answers, same bytes. (The
middleware's tail dispatch itself: tests/foundation/test_middleware_direct.py.)"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from pendar.support import Customer
from pishkhan.providers.pendar.routes import MethodRoute
from pishkhan.web.middleware import RequestContextMiddleware


def _middleware(client: Any) -> RequestContextMiddleware:
    middleware = client.app.middleware_stack.app
    assert isinstance(middleware, RequestContextMiddleware)
    return middleware


@pytest.mark.undocumented("a wrong method (PUT on GetVersion): not an operation of the document")
def test_pendar_api_is_direct_and_answers_as_a_starlette_response(
    customer: Customer, client: Any
) -> None:
    client.get("/_pishkhan/health")
    middleware = _middleware(client)
    tails = {t[0]: t for t in middleware._tails}
    assert isinstance(tails["/api/"][3], MethodRoute) and tails["/api/"][4] == ()
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
