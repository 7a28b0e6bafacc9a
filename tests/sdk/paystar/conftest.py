"""Fixtures for the Paystar SDK tests: the world's fixture records and one customer."""

from __future__ import annotations

import pytest
from paystar_sdk_support import Creds, create_customer, seed_world

from pishkhan.runtime import Runtime


@pytest.fixture
def creds(runtime: Runtime) -> Creds:
    seed_world(runtime)
    return create_customer(runtime, "sdk")
