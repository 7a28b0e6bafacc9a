"""Every served OpenAPI document lists the answers to a body too large (413) or too slow (408) on
each operation that takes a body, and the body the surface really sends for them
(``body_refusal``, applied by ``pishkhan.web.limits``) validates against what it lists."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator

from pishkhan.control import http as control_http
from pishkhan.providers.jibit import routes as jibit
from pishkhan.providers.payman import routes as payman
from pishkhan.providers.paystar import routes as paystar
from pishkhan.providers.pendar import routes as pendar

REFUSALS = {
    "jibit": jibit.body_refusal,
    "paystar": paystar.body_refusal,
    "pendar": pendar.body_refusal,
    "payman": payman.body_refusal,
    "control": control_http.body_refusal,
}


@pytest.mark.parametrize("surface", sorted(REFUSALS))
def test_documents_list_the_body_refusals_the_server_sends(client: Any, surface: str) -> None:
    doc = client.get(f"/_pishkhan/openapi/{surface}.json").json()
    checked = 0
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method not in {"post", "put", "patch"}:
                continue
            for status in (413, 408):
                listed = op["responses"].get(str(status))
                assert listed is not None, (surface, method, path, status)
                content_type, body = REFUSALS[surface](
                    {"type": "http", "path": path, "method": method.upper()}, status, "refused"
                )
                media = content_type.split(b";")[0].decode()
                if "content" not in listed:  # an HTML page's form: no JSON schema to hold it to
                    assert op["responses"]["200"]["content"].keys() == {"text/html"}, path
                    continue
                schema = listed["content"][media]["schema"]
                validator = Draft202012Validator({**schema, "components": doc["components"]})
                errors = list(validator.iter_errors(orjson.loads(body)))
                assert errors == [], (surface, method, path, status, body, errors[:1])
                checked += 1
    assert checked > 0
