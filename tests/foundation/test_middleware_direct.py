"""The one dispatch (``pishkhan.web.fast``): a request goes to its surface's table by path
prefix, and the table picks exactly the route Starlette's router would (static paths and
``/prefix/{name}`` tails by dict), with Starlette's answers where the surface has no envelope of
its own and the surface's envelope where it has one."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.testclient import TestClient

from pishkhan.settings import Settings
from pishkhan.web.asgi import InvalidQuery
from pishkhan.web.fast import (
    Dispatch,
    FastRequest,
    FastRoute,
    Table,
    Unrouted,
    json_answer,
)
from pishkhan.web.metrics import Metrics
from pishkhan.web.middleware import RequestContextMiddleware
from pishkhan.web.unrouted import enveloped


def _endpoint(text: str):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request) -> Response:
        route = request.scope["route"]
        return PlainTextResponse(f"{text} {route.path} {request.scope['path_params']}")

    return endpoint


def _fast(text: str):  # type: ignore[no-untyped-def]
    async def handler(request: FastRequest) -> Response:
        body = f"{text} {request.scope['route'].path} {request.path_params}"
        return json_answer(200, body.encode(), b"text/plain; charset=utf-8")

    return handler


def _app(
    surfaces: dict[str, tuple[str, list[BaseRoute], Unrouted | None]],
    other: list[BaseRoute] | None = None,
) -> tuple[TestClient, Metrics]:
    """An app whose router is a Dispatch over one Table per prefix (as create_app builds it)."""
    metrics = Metrics()
    dispatch = Dispatch(
        [
            (prefix, name, Table(routes, unrouted=unrouted))
            for prefix, (name, routes, unrouted) in surfaces.items()
        ],
        Table(other or []),
    )
    app = Starlette()
    app.router = dispatch
    app.add_middleware(
        RequestContextMiddleware, metrics=metrics, access_log=False, dispatch=dispatch
    )
    return TestClient(app), metrics


def _answer(r: Any) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    return r.status_code, r.content, [h for h in r.headers.raw if h[0] != b"x-request-id"]


ROUTES: list[BaseRoute] = [
    Route("/api/items", _endpoint("items"), methods=["POST"]),
    Route("/api/items", _endpoint("list"), methods=["GET"]),
    Route("/api/stats", _endpoint("stats"), methods=["GET"]),
    Route("/api/{kind}", _endpoint("kind"), methods=["PUT"]),
    Route("/api/{kind}/{key}", _endpoint("key"), methods=["GET"]),
    Route("/api/{kind}/{key}", _endpoint("key-delete"), methods=["DELETE"]),
    Route("/api/x.{fmt:str}", _endpoint("fmt"), methods=["GET"]),
]
PROBES = [
    ("GET", "/api/items"),
    ("HEAD", "/api/items"),
    ("POST", "/api/items"),
    ("GET", "/api/stats"),
    ("PUT", "/api/stats"),  # a static path, the tail route's method: the tail's
    ("PUT", "/api/anything"),
    ("DELETE", "/api/anything"),  # the tail's 405
    ("PATCH", "/api/items"),  # the first route's 405
    ("GET", "/api/a/b"),
    ("DELETE", "/api/a/b"),
    ("POST", "/api/a/b"),  # 405: the first of two routes with the path
    ("GET", "/api/x.pem"),
    ("GET", "/api/items/"),  # no route; /api/items is served: the redirect
    ("GET", "/api/a/b/"),
    ("GET", "/api/a/b/c"),  # 404
    ("GET", "/api/"),
    ("GET", "/api/%0A"),
]


@pytest.mark.parametrize(("method", "path"), PROBES)
def test_a_table_answers_as_starlettes_router(method: str, path: str) -> None:
    plain = TestClient(Starlette(routes=ROUTES))
    client, _ = _app({"/api/": ("api", ROUTES, None)})
    expected = plain.request(method, path, follow_redirects=False)
    got = client.request(method, path, follow_redirects=False)
    assert _answer(got) == _answer(expected)
    assert got.headers["x-request-id"]


def test_static_and_tail_routes_are_found_without_a_scan() -> None:
    table = Table(ROUTES)
    assert set(table._static) == {"/api/items", "/api/stats"}
    assert [r.path for r in table._tails["/api/"][1]] == ["/api/{kind}"]  # type: ignore[attr-defined]
    assert [r.path for r in table._scan] == [  # type: ignore[attr-defined]
        "/api/{kind}/{key}",
        "/api/{kind}/{key}",
        "/api/x.{fmt:str}",
    ]


def test_a_static_route_an_earlier_route_takes_is_refused() -> None:
    # Starlette would take the earlier route for GET /a/b; the table would take the static one.
    with pytest.raises(ValueError, match="/a/b"):
        Table(
            [
                Route("/a/{x}", _endpoint("tail"), methods=["GET"]),
                Route("/a/b", _endpoint("static"), methods=["GET"]),
            ]
        )
    # With other methods it is not shadowed: both are kept.
    Table(
        [
            Route("/a/{x}", _endpoint("tail"), methods=["POST"]),
            Route("/a/b", _endpoint("static"), methods=["GET"]),
        ]
    )


def test_dispatch_by_the_longest_prefix_labels_metrics_by_surface() -> None:
    client, metrics = _app(
        {
            "/api/": ("short", [FastRoute("/api/{m}", _fast("short"), methods=["GET"])], None),
            "/api/long/": (
                "long",
                [FastRoute("/api/long/x", _fast("long"), methods=["GET"])],
                None,
            ),
        },
        other=[Route("/", _endpoint("root"), methods=["GET"])],
    )
    assert client.get("/api/long/x").text == "long /api/long/x {}"
    assert client.get("/api/long").text == "short /api/{m} {'m': 'long'}"
    assert client.get("/").text == "root / {}"
    assert client.get("/api/long/y").status_code == 404
    text = metrics.render().decode()
    assert 'pishkhan_requests_total{route="/api/long/x",status="200",surface="long"} 1.0' in text
    assert 'pishkhan_requests_total{route="/api/{m}",status="200",surface="short"} 1.0' in text
    assert 'pishkhan_requests_total{route="/",status="200",surface="other"} 1.0' in text
    assert 'pishkhan_requests_total{route="unmatched",status="404",surface="long"} 1.0' in text


def test_a_fast_route_serves_exactly_its_methods() -> None:
    routes: list[BaseRoute] = [
        FastRoute("/s/probe", _fast("probe"), methods=["GET", "HEAD"]),
        FastRoute("/s/inquiry", _fast("inquiry"), methods=["GET"]),
        FastRoute("/s/both", _fast("both-get"), methods=["GET"]),
        FastRoute("/s/both", _fast("both-post"), methods=["POST"]),
    ]
    client, _ = _app({"/s/": ("s", routes, None)})
    r = client.get("/s/inquiry")
    assert r.status_code == 200 and r.text == "inquiry /s/inquiry {}"
    assert [k for k, _ in r.headers.raw] == [b"content-length", b"content-type", b"x-request-id"]
    assert client.head("/s/probe").status_code == 200
    # GET does not bring HEAD: Starlette's 405 (no envelope here) with the route's methods
    r = client.head("/s/inquiry")
    assert r.status_code == 405 and r.headers["allow"] == "GET"
    assert client.options("/s/inquiry").status_code == 405
    assert client.post("/s/both").text == "both-post /s/both {}"


def _render(status: int, detail: str) -> bytes:
    return f'{{"status":{status},"detail":"{detail}"}}'.encode()


def test_an_enveloped_surface_answers_404_and_405_in_its_own_shape() -> None:
    routes: list[BaseRoute] = [
        FastRoute("/v/items", _fast("get"), methods=["GET"]),
        Route("/v/items", _endpoint("post"), methods=["POST"]),
        Route("/v/page", _endpoint("page"), methods=["GET"]),
    ]
    hook = enveloped(_render, covers=lambda path: path.startswith("/v/items"))
    client, _ = _app({"/v/": ("v", routes, hook)})
    r = client.options("/v/items")
    assert r.status_code == 405
    # every method the path is served with, sorted
    assert r.headers["allow"] == "GET, POST"
    assert (
        r.content
        == b'{"status":405,"detail":"Method OPTIONS is not allowed here; allowed: GET, POST."}'
    )
    assert [k for k, _ in r.headers.raw] == [
        b"allow",
        b"content-length",
        b"content-type",
        b"x-request-id",
    ]
    r = client.get("/v/items/nope")
    assert r.status_code == 404
    assert r.content == b'{"status":404,"detail":"No resource at /v/items/nope."}'
    # paths the hook does not cover: Starlette's answers
    r = client.get("/v/nope")
    assert r.status_code == 404 and r.text == "Not Found"
    r = client.post("/v/page")
    assert r.status_code == 405 and r.text == "Method Not Allowed"
    assert set(r.headers["allow"].split(", ")) == {"GET", "HEAD"}


def test_a_query_that_is_not_utf8_raises_the_routes_error() -> None:
    class Refused(Exception):
        pass

    seen: list[BaseException] = []

    async def handler(request: FastRequest) -> Response:
        try:
            assert request.query_params is not None
        except Exception as exc:
            seen.append(exc)
            return json_answer(400, b"{}")
        return json_answer(200, b"{}")

    routes: list[BaseRoute] = [
        FastRoute("/q/default", handler, methods=["GET"]),
        FastRoute("/q/own", handler, methods=["GET"], bad_query=Refused),
    ]
    client, _ = _app({"/q/": ("q", routes, None)})
    assert client.get("/q/default?a=%D9%85").status_code == 200
    assert client.get("/q/default?a=%E3").status_code == 400
    assert client.get("/q/own?a=%E3").status_code == 400
    assert [type(e) for e in seen] == [InvalidQuery, Refused]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Every surface mounted (the foundation's tests mount none)."""
    return replace(settings, surfaces=Settings().surfaces)


@pytest.mark.undocumented("sends wrong methods and unknown paths on purpose")
def test_each_surface_of_the_app_answers_in_its_own_envelope(client: Any) -> None:
    # Jibit: handler.not_found, 405 with Allow, x-track-id echoed first
    r = client.options("/ide/v1/cards", headers={"X-Track-Id": "t1"})
    assert r.status_code == 405 and r.headers["allow"] == "GET"
    assert r.json()["code"] == "handler.not_found"
    assert [k for k, _ in r.headers.raw][:3] == [b"x-track-id", b"content-length", b"content-type"]
    r = client.get("/ide")
    assert r.status_code == 404 and r.json()["code"] == "handler.not_found"
    # Payman: 2026 under its API's paths, Starlette's under the consent pages
    r = client.get("/v1/payman/nope")
    assert r.status_code == 404 and r.json()["code"] == "2026"
    r = client.get("/oauth/token")
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    r = client.get("/payman-bank/nope")
    assert r.status_code == 404 and r.text == "Not Found"
    # Paystar: status 10
    r = client.get("/api/open-banking/nope")
    assert r.status_code == 404 and r.json()["status"] == 10
    # Pendar: its own 404 for an unknown method, Starlette's 405
    assert client.get("/api/Nope").json()["Message"].startswith("No HTTP resource")
    r = client.put("/api/GetVersion")
    assert r.status_code == 405 and r.text == "Method Not Allowed"
    # the control plane: its envelope behind the admin token
    r = client.get("/_pishkhan/v1/nope")
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    r = client.get("/_pishkhan/nope")
    assert r.status_code == 404 and r.text == "Not Found"


@pytest.mark.undocumented("sends a wrong method and an unknown path on purpose")
def test_the_control_plane_answers_its_own_404_and_405(admin: Any) -> None:
    r = admin.get("/_pishkhan/v1/nope")
    assert r.status_code == 404
    assert r.json() == {"error": {"code": "not_found", "message": "Not Found"}}
    r = admin.delete("/_pishkhan/v1/clock")
    assert r.status_code == 405 and set(r.headers["allow"].split(", ")) == {"GET", "HEAD"}
    assert r.json() == {"error": {"code": "method_not_allowed", "message": "Method Not Allowed"}}
    r = admin.get("/_pishkhan/v1/customers/", follow_redirects=False)
    assert r.status_code == 307
    assert r.headers["location"].endswith("/_pishkhan/v1/customers")


def test_dispatch_takes_the_longest_prefix_a_path_starts_with() -> None:
    prefixes = ["/api/", "/api/open-banking/", "/ide", "/_pishkhan", "/_pishkhan/v1/", "/v1/payman"]
    dispatch = Dispatch([(p, p, Table([])) for p in prefixes], Table([]))
    paths = [
        "/api/x",
        "/api/open-banking/x",
        "/api/open-banking",
        "/ide",
        "/ide/v1/cards",
        "/identity",
        "/_pishkhan",
        "/_pishkhan/v1",
        "/_pishkhan/v1/x",
        "/_pishkhanx/v1/x",
        "/v1/payman",
        "/v1/paymanx/y",
        "/v1/reports",
        "/",
        "",
        "/x",
    ]
    for path in paths:
        expected = max((p for p in prefixes if path.startswith(p)), key=len, default="other")
        assert dispatch.surface_of(path) == expected, path
