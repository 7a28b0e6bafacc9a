"""Sandbox-wide state every process must agree on (clock, faults), kept in ``sandbox_state``.

Reads are served from a per-process cache refreshed at most every ``refresh_seconds``; a write
made by this process is visible to it at once and to other processes within that interval.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from pishkhan.core.clock import Clock, ClockState
from pishkhan.core.db import Database
from pishkhan.core.tables import sandbox_state

CLOCK_KEY = "clock"
INVALID = "invalid"


class SharedState:
    def __init__(self, db: Database, refresh_seconds: float = 1.0) -> None:
        self.db = db
        self.refresh_seconds = refresh_seconds
        self._cache: dict[str, dict[str, Any]] = {}
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()

    def _reload(self) -> None:
        with self.db.read() as conn:
            rows = conn.execute(select(sandbox_state.c.key, sandbox_state.c.value)).all()
        # A value that is not an object (written by hand) is kept under "invalid", for its reader
        # to refuse (the clock does), instead of failing every read of the shared state.
        self._cache = {
            r[0]: dict(r[1]) if isinstance(r[1], dict) else {INVALID: r[1]} for r in rows
        }
        self._loaded_at = time.monotonic()

    def snapshot(self) -> dict[str, dict[str, Any]]:
        if time.monotonic() - self._loaded_at >= self.refresh_seconds:
            with self._lock:
                if time.monotonic() - self._loaded_at >= self.refresh_seconds:
                    self._reload()
        return self._cache

    def get(self, key: str) -> dict[str, Any] | None:
        return self.snapshot().get(key)

    def put(self, conn: Connection, key: str, value: dict[str, Any], now: Any) -> None:
        """Write inside the caller's transaction; this process sees it at once."""
        values = {"key": key, "value": value, "updated_at": now}
        if conn.dialect.name == "postgresql":
            stmt: Any = postgresql.insert(sandbox_state).values(**values)
        else:
            stmt = sqlite.insert(sandbox_state).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[sandbox_state.c.key], set_={"value": value, "updated_at": now}
        )
        conn.execute(stmt)
        with self._lock:
            self._cache = {**self._cache, key: value}
            self._written()

    def remove(self, conn: Connection, key: str) -> None:
        conn.execute(delete(sandbox_state).where(sandbox_state.c.key == key))
        with self._lock:
            self._cache = {k: v for k, v in self._cache.items() if k != key}
            self._written()

    def _written(self) -> None:
        # The cache now holds a write the database shows other connections only once the
        # caller commits: a reload before then (the same transaction reading the clock for its
        # audit entry) would bring back the old value for a whole interval. The cache counts as
        # fresh from here.
        self._loaded_at = time.monotonic()

    def invalidate(self) -> None:
        self._loaded_at = float("-inf")

    def clock(self) -> Clock:
        """A clock whose sandbox state follows this store."""
        # The parsed state is kept while the cached value is the same object (a reload or a
        # put replaces it), so reading the clock does not parse the state on every call.
        parsed: list[Any] = [object(), ClockState()]

        def load() -> ClockState:
            raw = self.get(CLOCK_KEY)
            if raw is not parsed[0]:
                parsed[1] = ClockState.from_json(raw)
                parsed[0] = raw
            state: ClockState = parsed[1]
            return state

        return Clock(loader=load, refresh_seconds=0.0)
