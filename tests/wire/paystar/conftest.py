"""Fixtures for the Paystar wire tests: the world's fixture records and one customer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from paystar_wire_support import REFRESH, App, create_app, seed_world

from pishkhan.runtime import Runtime


@pytest.fixture
def world(runtime: Runtime) -> None:
    seed_world(runtime)


@pytest.fixture
def app_creds(runtime: Runtime, world: None) -> App:
    return create_app(runtime, "acme")


@pytest.fixture
def issue_key(client: Any) -> Callable[[App], str]:
    def issue(app: App) -> str:
        r = client.post(REFRESH, json=app.refresh_body())
        assert r.status_code == 200 and r.json()["status"] == 1, r.text
        key: str = r.json()["data"]["api_key"]
        return key

    return issue


@pytest.fixture
def api_key(app_creds: App, issue_key: Callable[[App], str]) -> str:
    return issue_key(app_creds)
