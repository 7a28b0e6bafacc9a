"""Control plane: every answer under /_pishkhan/v1 is in its JSON error shape, including the
router's own 404 and 405 and paths holding a newline (found by the fuzzing gate)."""

from __future__ import annotations

from typing import Any

import pytest


def test_unknown_customer_with_a_newline_in_its_reference(admin: Any) -> None:
    # Starlette's Mount matches the rest of the path with ``.*``, which stops at a newline: the
    # request used to fall through to the top-level router's text/plain "Not Found".
    r = admin.get("/_pishkhan/v1/customers/a%0Ab")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"error": {"code": "not_found", "message": "customer 'a\\nb' not found"}}


def test_a_newline_still_needs_the_admin_token(client: Any) -> None:
    r = client.get("/_pishkhan/v1/customers/a%0Ab")
    assert r.status_code == 401
    assert r.json() == {
        "error": {"code": "unauthorized", "message": "a valid admin token is required"}
    }


@pytest.mark.undocumented("a wrong method: not an operation of the document")
def test_unknown_control_path_and_method(admin: Any) -> None:
    r = admin.get("/_pishkhan/v1/no-such-thing")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"error": {"code": "not_found", "message": "Not Found"}}
    r = admin.delete("/_pishkhan/v1/customers")
    assert r.status_code == 405
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"error": {"code": "method_not_allowed", "message": "Method Not Allowed"}}
