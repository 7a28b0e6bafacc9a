"""Fixtures for the Paystar SDK tests: the world's fixture records and one customer."""

from __future__ import annotations

import pytest
from paystar_sdk_support import App, create_app, seed_world

from pishkhan.runtime import Runtime


@pytest.fixture
def creds(runtime: Runtime) -> App:
    seed_world(runtime)
    return create_app(runtime, "sdk")
