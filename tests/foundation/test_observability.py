"""Operations: masked JSON logs with request ids, health, Prometheus metrics, OpenAPI."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from pishkhan.app import _control_routes, create_app
from pishkhan.core.logging import configure_logging
from pishkhan.runtime import Runtime
from pishkhan.settings import Settings

V1 = "/_pishkhan/v1"


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """Root logging into a StringIO through the JsonFormatter; restored afterwards."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    try:
        yield stream
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


def _lines(stream: io.StringIO, logger: str) -> list[dict[str, Any]]:
    out = []
    for line in stream.getvalue().splitlines():
        entry = json.loads(line)
        if entry["logger"] == logger:
            out.append(entry)
    return out


def test_access_log_masks_pii_and_carries_request_id(
    settings: Settings, log_stream: io.StringIO
) -> None:
    runtime = Runtime.open(replace(settings, access_log=True), refresh_seconds=0.0)
    card, national_code = "6037991234567890", "0012345678"
    iban, mobile = "IR062960000000100324200001", "09121234567"
    try:
        with TestClient(create_app(runtime=runtime)) as client:
            r = client.get(
                f"/_pishkhan/nothing/{card}",
                params={"nationalCode": national_code, "iban": iban, "mobile": mobile},
            )
            given = client.get("/_pishkhan/health", headers={"X-Request-ID": "trace-abc-1"})
            pii_id = client.get("/_pishkhan/health", headers={"X-Request-ID": card})
    finally:
        runtime.close()
    assert r.status_code == 404
    text = log_stream.getvalue()
    for value in (card, national_code, iban, mobile):
        assert value not in text
    entries = _lines(log_stream, "pishkhan.http")
    assert len(entries) == 3
    first = entries[0]
    assert first["request_id"] == r.headers["x-request-id"]
    assert first["path"] == "/_pishkhan/nothing/603799******7890"
    assert first["status"] == 404 and first["method"] == "GET" and first["msg"] == "request"
    assert first["surface"] == "control"
    # A caller's request id is echoed and logged; one that looks like PII is replaced.
    assert given.headers["x-request-id"] == "trace-abc-1"
    assert entries[1]["request_id"] == "trace-abc-1"
    assert pii_id.headers["x-request-id"] != card
    assert entries[2]["request_id"] == pii_id.headers["x-request-id"]


def test_health_reports_the_database(client: Any, runtime: Runtime) -> None:
    r = client.get("/_pishkhan/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["database"] == runtime.db.dialect
    assert body["surfaces"] == list(runtime.settings.surfaces)
    assert r.headers["x-request-id"]


def test_health_is_503_when_the_database_is_unreachable(tmp_path: Any) -> None:
    settings = replace(
        Settings(),
        data_dir=tmp_path,
        database_url="postgresql+psycopg://postgres@127.0.0.1:1/nothing",
        admin_token="t",
        token_secret="s",
        access_log=False,
        surfaces=(),
    )
    runtime = Runtime.open(settings, refresh_seconds=0.0)
    try:
        with TestClient(create_app(runtime=runtime), raise_server_exceptions=False) as client:
            r = client.get("/_pishkhan/health")
    finally:
        runtime.close()
    assert r.status_code == 503
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"status": "error", "database": "unreachable"}


def test_metrics_count_requests_by_surface_route_and_status(admin: Any) -> None:
    admin.post(f"{V1}/customers", json={"name": "M", "slug": "m"})
    admin.get(f"{V1}/customers/m")
    admin.get(f"{V1}/customers/m")
    admin.get(f"{V1}/customers/nobody")
    admin.get("/_pishkhan/no-such-page")
    text = admin.get("/_pishkhan/metrics").text
    assert "# TYPE pishkhan_requests_total counter" in text
    assert (
        'pishkhan_requests_total{route="/_pishkhan/v1/customers/{ref}",status="200",surface="control"} 2.0'
        in text
    )
    assert (
        'pishkhan_requests_total{route="/_pishkhan/v1/customers/{ref}",status="404",surface="control"} 1.0'
        in text
    )
    assert (
        'pishkhan_requests_total{route="/_pishkhan/v1/customers",status="201",surface="control"} 1.0'
        in text
    )
    assert 'pishkhan_requests_total{route="unmatched",status="404",surface="control"} 1.0' in text
    assert "# TYPE pishkhan_request_seconds histogram" in text
    assert (
        'pishkhan_request_seconds_count{route="/_pishkhan/v1/customers/{ref}",surface="control"} 3.0'
        in text
    )
    assert 'pishkhan_request_seconds_bucket{le="+Inf",route="/_pishkhan/v1/customers/{ref}"' in text


def _control_paths() -> set[tuple[str, str]]:
    out = set()
    for route in _control_routes():
        assert isinstance(route, Route | Mount)
        for method in getattr(route, "methods", None) or ():
            if method != "HEAD":
                out.add((V1 + route.path, method.lower()))
    return out


def test_control_openapi_document_is_valid_and_complete(client: Any) -> None:
    from openapi_spec_validator import validate

    r = client.get("/_pishkhan/openapi/control.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"] == "3.1.0"
    validate(doc)
    documented = {(p, m) for p, ops in doc["paths"].items() for m in ops}
    assert documented == _control_paths()
    assert ("/_pishkhan/v1/customers", "post") in documented
    assert ("/_pishkhan/v1/clock/freeze", "post") in documented
    create = doc["paths"]["/_pishkhan/v1/customers"]["post"]
    assert create["security"] == [{"admin": []}]
    ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/CustomerCreate"
    assert "name" in doc["components"]["schemas"]["CustomerCreate"]["properties"]
    assert doc["components"]["securitySchemes"]["admin"] == {"type": "http", "scheme": "bearer"}
    op_ids = [
        op["operationId"]
        for ops in doc["paths"].values()
        for op in ops.values()
        if "operationId" in op
    ]
    assert len(op_ids) == len(set(op_ids))
    assert client.get("/_pishkhan/openapi/nosuch.json").status_code == 404


def test_operation_ids_are_unique_for_multi_method_routes() -> None:
    from pishkhan.web.openapi import ApiRoute, Op, build_document

    async def endpoint(_request: Any) -> None:
        return None

    doc = build_document(
        title="t",
        version="1",
        description="d",
        routes=[
            ApiRoute("/a", endpoint, methods=["GET"], op=Op("get a", operation_id="getA")),
            ApiRoute("/b", endpoint, methods=["PUT", "PATCH"], op=Op("b", operation_id="putB")),
        ],
    )
    assert doc["paths"]["/a"]["get"]["operationId"] == "getA"
    assert "head" not in doc["paths"]["/a"]
    assert {m: o["operationId"] for m, o in doc["paths"]["/b"].items()} == {
        "patch": "putB_patch",
        "put": "putB_put",
    }
