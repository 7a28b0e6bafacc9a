"""The Jibit SDK against the in-process app (helpers from the wire tests)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "wire" / "jibit"))


import pytest as _pytest

from pishkhan.settings import Settings as _Settings


@_pytest.fixture
def settings(settings: _Settings) -> _Settings:
    """Only the Jibit surface: these tests do not depend on the other surfaces."""
    from dataclasses import replace

    return replace(settings, surfaces=("jibit",))
