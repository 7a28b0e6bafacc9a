"""The check every test's responses go through (``support.documented``, installed by the
``client`` fixture) fails on what the served document does not describe: a real app, real
responses, held to a copy of its own document with one thing taken out."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from support import documented

REFRESH = "/api/open-banking/application/refresh-api-key"
UNKNOWN_APP = {"application_id": "no-such-app", "access_password": "x", "refresh_token": "y"}
NOT_FOUND = {"status": 2, "data": None, "message": "برنامه یافت نشد"}
ADMIN = {"Authorization": "Bearer test-admin-token"}


def _watched(app: Any, change: Callable[[dict[str, Any]], None]) -> TestClient:
    """A client of ``app`` whose responses are held to its served documents, the Paystar one
    changed by ``change``."""
    plain = TestClient(app, base_url="http://127.0.0.1")

    def fetch(surface: str) -> dict[str, Any] | None:
        r = plain.get(f"/_pishkhan/openapi/{surface}.json")
        if r.status_code != 200:
            return None
        doc: dict[str, Any] = copy.deepcopy(r.json())
        if surface == "paystar":
            change(doc)
        return doc

    watched = TestClient(app, base_url="http://127.0.0.1")
    documented.Watch(documented.DocumentedResponses(fetch)).install(watched)
    return watched


def _unchanged(_doc: dict[str, Any]) -> None:
    pass


def test_a_documented_answer_passes(app: Any) -> None:
    r = _watched(app, _unchanged).post(REFRESH, json=UNKNOWN_APP)
    assert (r.status_code, r.json()) == (200, NOT_FOUND)


def test_an_unlisted_status_fails(app: Any) -> None:
    def drop_500(doc: dict[str, Any]) -> None:
        del doc["paths"][REFRESH]["post"]["responses"]["500"]

    c = _watched(app, drop_500)
    fault = {"target": "refresh-api-key", "fault": "server_error"}
    assert c.put("/_pishkhan/v1/paystar/faults", json=fault, headers=ADMIN).status_code == 200
    with pytest.raises(documented.UndocumentedResponse, match="status 500 is not listed"):
        c.post(REFRESH, json=UNKNOWN_APP)


def test_a_body_that_does_not_validate_fails(app: Any) -> None:
    def only_status_3(doc: dict[str, Any]) -> None:
        doc["components"]["schemas"]["FailureResponse"]["properties"]["status"]["enum"] = [3]

    with pytest.raises(documented.UndocumentedResponse, match="the body does not validate"):
        _watched(app, only_status_3).post(REFRESH, json=UNKNOWN_APP)


def test_an_unlisted_content_type_fails(app: Any) -> None:
    def html_only(doc: dict[str, Any]) -> None:
        answer = doc["paths"][REFRESH]["post"]["responses"]["200"]
        answer["content"] = {"text/html": answer["content"]["application/json"]}

    with pytest.raises(documented.UndocumentedResponse, match="application/json is not listed"):
        _watched(app, html_only).post(REFRESH, json=UNKNOWN_APP)


def test_an_undocumented_method_on_a_documented_path_fails(app: Any) -> None:
    with pytest.raises(documented.UndocumentedResponse, match="the document has no GET here"):
        _watched(app, _unchanged).get(REFRESH)


def test_paths_no_document_covers_are_not_checked(app: Any) -> None:
    c = _watched(app, _unchanged)
    assert c.get("/_pishkhan/health").status_code == 200
    assert c.get("/api/open-banking/no-such-thing").status_code == 404


def test_the_client_fixture_holds_every_response_to_the_documents(client: Any) -> None:
    assert [h for h in client.event_hooks["response"] if isinstance(h, documented.Watch)]


@pytest.mark.undocumented("shows that the mark turns the check off")
def test_a_marked_test_is_not_checked(client: Any) -> None:
    assert not [h for h in client.event_hooks["response"] if isinstance(h, documented.Watch)]
    assert client.get(REFRESH).status_code == 405
