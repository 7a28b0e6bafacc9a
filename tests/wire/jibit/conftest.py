"""Fixtures for the Jibit wire tests: the world's fixture records, one customer, a token."""

from __future__ import annotations

from typing import Any

import pytest
from jibit_support import Customer, create_customer, seed_world, tokens

from pishkhan.runtime import Runtime


@pytest.fixture
def world(runtime: Runtime) -> None:
    seed_world(runtime)


@pytest.fixture
def customer(runtime: Runtime, world: None) -> Customer:
    return create_customer(runtime)


@pytest.fixture
def pair(client: Any, customer: Customer) -> dict[str, str]:
    return tokens(client, customer)


@pytest.fixture
def auth(pair: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {pair['accessToken']}"}


import pytest as _pytest  # noqa: E402

from pishkhan.settings import Settings as _Settings  # noqa: E402


@_pytest.fixture
def settings(settings: _Settings) -> _Settings:
    """Only the Jibit surface: these tests do not depend on the other surfaces."""
    from dataclasses import replace

    return replace(settings, surfaces=("jibit",))
