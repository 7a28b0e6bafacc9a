"""Helpers for the Paystar SDK tests: the wire tests' own (one copy of the world seeding,
customer creation and wallet reading for both suites)."""

from __future__ import annotations

import sys
from pathlib import Path

_WIRE = str(Path(__file__).resolve().parents[2] / "wire" / "paystar")
if _WIRE not in sys.path:
    sys.path.insert(0, _WIRE)

from paystar_wire_support import App, balance, create_app, seed_world  # noqa: E402

__all__ = ["App", "balance", "create_app", "seed_world"]
