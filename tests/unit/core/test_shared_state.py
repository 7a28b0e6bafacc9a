"""The shared sandbox state: a process sees its own writes at once, even when its cache was
due for a reload while the write's transaction was still open."""

from __future__ import annotations

from datetime import UTC, datetime

from pishkhan.core.clock import ClockState
from pishkhan.core.db import Database
from pishkhan.core.shared_state import CLOCK_KEY, SharedState

FROZEN = ClockState(frozen_at=datetime(2025, 6, 3, 8, 30, tzinfo=UTC))


def test_a_write_is_seen_at_once_inside_and_after_its_transaction(db: Database) -> None:
    state = SharedState(db, refresh_seconds=60.0)
    clock = state.clock()
    assert clock.state().mode == "real"
    state.invalidate()  # the cache is due for a reload, as after a quiet second in a server
    with db.write() as conn:
        state.put(conn, CLOCK_KEY, FROZEN.to_json(), datetime.now(UTC))
        # What the admin call does next in the same transaction: its audit entry reads the
        # clock. A reload here would read the database without the uncommitted write.
        assert clock.state() == FROZEN
    assert clock.state() == FROZEN
    assert clock.now_utc() == FROZEN.frozen_at

    state.invalidate()
    with db.write() as conn:
        state.remove(conn, CLOCK_KEY)
        assert clock.state().mode == "real"
    assert clock.state().mode == "real"
