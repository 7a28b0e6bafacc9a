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


class _TailRoute(Route):
    direct_tail = True


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


def _middleware(client: TestClient) -> RequestContextMiddleware:
    middleware = client.app.middleware_stack.app  # type: ignore[attr-defined]
    assert isinstance(middleware, RequestContextMiddleware)
    return middleware


def test_a_tail_route_answers_as_through_the_router() -> None:
    fixed = Route("/api/fixed", _endpoint("fixed"), methods=["GET"])
    client, metrics = _client(
        [
            Route("/other", _endpoint("other"), methods=["GET"]),
            Route("/api/open-banking/{x}", _endpoint("ob"), methods=["GET"]),
            Mount("/api/mounted", routes=[Route("/x", _endpoint("mounted"))]),
            fixed,
            _TailRoute("/api/{method}", _endpoint("tail"), methods=["GET", "POST"]),
        ]
    )
    r = client.get("/api/Foo")
    assert r.status_code == 200
    assert r.text == "tail /api/{method} {'method': 'Foo'}"
    assert r.headers["x-request-id"]
    assert client.post("/api/Foo").text == "tail /api/{method} {'method': 'Foo'}"
    assert client.head("/api/Foo").status_code == 200
    assert client.delete("/api/Foo").status_code == 405  # the router's answer
    # an earlier route matching such a path still wins
    assert client.get("/api/fixed").text == "fixed /api/fixed {}"
    assert client.post("/api/fixed").text == "tail /api/{method} {'method': 'fixed'}"
    assert client.get("/api/mounted").text == "tail /api/{method} {'method': 'mounted'}"
    assert client.get("/api/mounted/x").text.startswith("mounted")
    assert client.get("/api/open-banking/1").text.startswith("ob")
    assert client.get("/api/a/b").status_code == 404
    assert client.get("/api/", follow_redirects=False).status_code == 404
    middleware = _middleware(client)
    assert middleware._direct == {}
    (tail,) = middleware._tails
    assert tail[0] == "/api/" and tail[1] == "method"
    assert tail[4] == (fixed,)  # the only earlier route that could match /api/<segment>
    text = metrics.render().decode()
    assert (
        'pishkhan_requests_total{route="/api/{method}",status="200",surface="pendar"} 5.0' in text
    )


def test_only_a_last_string_segment_is_a_tail() -> None:
    client, _ = _client(
        [
            _TailRoute("/a/{x:int}", _endpoint("int"), methods=["GET"]),
            _TailRoute("/b/{x}/c", _endpoint("mid"), methods=["GET"]),
            _TailRoute("/c/{x:str}", _endpoint("str"), methods=["GET"]),
        ]
    )
    assert client.get("/a/3").text == "int /a/{x:int} {'x': 3}"
    assert client.get("/c/3").text == "str /c/{x:str} {'x': '3'}"
    assert [t[0] for t in _middleware(client)._tails] == ["/c/"]
