"""The request middleware's direct dispatch: same answers as the router's scan."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.testclient import TestClient

from pishkhan.web.metrics import Metrics
from pishkhan.web.middleware import RequestContextMiddleware


class DirectRoute(Route):
    direct = True


def _endpoint(text: str):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request) -> Response:
        route = request.scope["route"]
        return PlainTextResponse(f"{text} {route.path} {request.scope['path_params']}")

    return endpoint


def _client(routes: list[BaseRoute]) -> tuple[TestClient, Metrics]:
    metrics = Metrics()
    app = Starlette(routes=routes)
    app.add_middleware(RequestContextMiddleware, metrics=metrics, access_log=False)
    return TestClient(app), metrics


def test_a_direct_route_answers_as_through_the_router() -> None:
    client, metrics = _client(
        [
            Route("/other", _endpoint("other"), methods=["GET"]),
            Mount("/mounted", routes=[Route("/x", _endpoint("mounted"))]),
            DirectRoute("/hot", _endpoint("hot"), methods=["GET"]),
        ]
    )
    r = client.get("/hot")
    assert r.status_code == 200
    assert r.text == "hot /hot {}"
    assert r.headers["x-request-id"]
    assert client.head("/hot").status_code == 200
    assert client.post("/hot").status_code == 405  # the router's answer for other methods
    # Not the direct path: the router (which redirects to the path without the slash).
    assert client.get("/hot/", follow_redirects=False).status_code == 307
    text = metrics.render().decode()
    assert 'pishkhan_requests_total{route="/hot",status="200",surface="other"} 2.0' in text
    assert 'pishkhan_requests_total{route="/hot",status="405",surface="other"} 1.0' in text


def test_an_earlier_route_matching_the_path_still_wins() -> None:
    client, _ = _client(
        [
            Route("/{name}", _endpoint("earlier"), methods=["POST"]),
            DirectRoute("/hot", _endpoint("hot"), methods=["GET"]),
        ]
    )
    # The router takes the first full match, else the first partial one (405): the earlier
    # route matches the path with another method, so GET is still the later route's ...
    assert client.get("/hot").text == "hot /hot {}"
    # ... and POST the earlier one's, with its path parameter.
    assert client.post("/hot").text == "earlier /{name} {'name': 'hot'}"
    middleware = client.app.middleware_stack.app  # type: ignore[attr-defined]
    assert isinstance(middleware, RequestContextMiddleware)
    assert middleware._direct == {}  # nothing dispatched directly here


def test_only_static_opted_in_routes_are_direct() -> None:
    client, _ = _client(
        [
            DirectRoute("/hot", _endpoint("hot"), methods=["GET"]),
            DirectRoute("/items/{id}", _endpoint("item"), methods=["GET"]),
            Route("/plain", _endpoint("plain"), methods=["GET"]),
        ]
    )
    assert client.get("/items/3").text == "item /items/{id} {'id': '3'}"
    assert client.get("/plain").text == "plain /plain {}"
    middleware = client.app.middleware_stack.app  # type: ignore[attr-defined]
    assert set(middleware._direct) == {"/hot"}
