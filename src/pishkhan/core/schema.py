"""Import every module that declares tables so that ``metadata`` knows them all."""

from __future__ import annotations

import importlib

# Modules that declare tables on pishkhan.core.db.metadata, in dependency order.
TABLE_MODULES: tuple[str, ...] = (
    "pishkhan.core.tables",
    "pishkhan.tenants.tables",
    "pishkhan.world.tables",
    "pishkhan.providers.payman.tables",
    "pishkhan.providers.pendar.tables",
)


def load_all_tables() -> None:
    for name in TABLE_MODULES:
        importlib.import_module(name)
