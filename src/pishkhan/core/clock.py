"""The one clock everything time-dependent reads (Asia/Tehran), settable for sandboxes.

The sandbox state (frozen instant or offset) is shared by every process through the database;
each process re-reads it at most every ``refresh_seconds`` and immediately after it changes
the clock itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

TEHRAN = ZoneInfo("Asia/Tehran")


@dataclass(frozen=True)
class ClockState:
    """``frozen_at`` (UTC) wins over ``offset_seconds``; both empty means real time."""

    frozen_at: datetime | None = None
    offset_seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "frozen_at": self.frozen_at.isoformat() if self.frozen_at else None,
            "offset_seconds": self.offset_seconds,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ClockState:
        if not data:
            return cls()
        frozen = data.get("frozen_at")
        return cls(
            frozen_at=datetime.fromisoformat(frozen).astimezone(UTC) if frozen else None,
            offset_seconds=float(data.get("offset_seconds") or 0.0),
        )

    @property
    def mode(self) -> str:
        if self.frozen_at is not None:
            return "frozen"
        return "offset" if self.offset_seconds else "real"


class Clock:
    """Now, in UTC and in Tehran, honouring the sandbox state."""

    def __init__(
        self,
        state: ClockState | None = None,
        *,
        loader: Callable[[], ClockState] | None = None,
        refresh_seconds: float = 1.0,
        realtime: Callable[[], float] = time.time,
    ) -> None:
        self._state = state or ClockState()
        self._loader = loader
        self._refresh = refresh_seconds
        self._loaded_at = time.monotonic() if loader is None else float("-inf")
        self._realtime = realtime
        self._lock = threading.Lock()
        # (start, end, day): the Tehran day last asked for and its bounds in epoch seconds.
        self._today: tuple[float, float, date] | None = None

    def state(self) -> ClockState:
        if self._loader is not None and self._refresh <= 0:
            # Always asked (the loader keeps its own cache): no lock, no monotonic reading.
            self._state = self._loader()
            return self._state
        if self._loader is not None and time.monotonic() - self._loaded_at >= self._refresh:
            with self._lock:
                if time.monotonic() - self._loaded_at >= self._refresh:
                    self._state = self._loader()
                    self._loaded_at = time.monotonic()
        return self._state

    def set_state(self, state: ClockState) -> None:
        with self._lock:
            self._state = state
            self._loaded_at = time.monotonic()

    def timestamp(self) -> float:
        """Seconds since the epoch as the sandbox sees them."""
        st = self.state()
        if st.frozen_at is not None:
            return st.frozen_at.timestamp()
        return self._realtime() + st.offset_seconds

    def now_utc(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp(), UTC)

    def now(self) -> datetime:
        """Now in Asia/Tehran (an aware datetime)."""
        return datetime.fromtimestamp(self.timestamp(), TEHRAN)

    def today(self) -> date:
        """Today's Gregorian date in Tehran."""
        return self.day_at(self.timestamp())

    def day_at(self, ts: float) -> date:
        """The Tehran date at ``ts`` (seconds since the epoch), cached for the day's span."""
        cached = self._today
        if cached is not None and cached[0] <= ts < cached[1]:
            return cached[2]
        day = datetime.fromtimestamp(ts, TEHRAN).date()
        start, end = tehran_day_bounds(day)
        self._today = (start.timestamp(), end.timestamp(), day)
        return day

    def millis(self) -> int:
        return int(self.timestamp() * 1000)


def tehran_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants at which a Tehran calendar day starts and ends (end exclusive)."""
    start = datetime(day.year, day.month, day.day, tzinfo=TEHRAN)
    end = start + timedelta(days=1)
    return start.astimezone(UTC), end.astimezone(UTC)
