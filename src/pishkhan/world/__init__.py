"""The world: the reference registry the inquiry surfaces answer from.

Modules: :mod:`.tables` (schema), :mod:`.records` (validated record models per kind),
:mod:`.lookup` (hot-path lookups for the surfaces), :mod:`.service` (CRUD, JSON Lines,
stats), :mod:`.generator` (deterministic synthetic world), :mod:`.fixtures` (magic values).

This package module stays import-light (``pishkhan.core.schema`` imports ``.tables``); the
functions below import what they need when called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


def seed_default_world(conn: Connection, people: int, seed: int) -> None:
    """Replace the world with the fixtures plus ``people`` generated people (``serve`` on an
    empty database). Runs inside the caller's transaction."""
    from .generator import seed_world

    seed_world(conn, people, seed)


def world_is_empty(conn: Connection) -> bool:
    """True when the world holds no people (a fresh database)."""
    from .service import is_empty

    return is_empty(conn)


__all__ = ["seed_default_world", "world_is_empty"]
