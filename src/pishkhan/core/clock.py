"""The one clock everything time-dependent reads (Asia/Tehran), settable for sandboxes.

The sandbox state (frozen instant or offset) is shared by every process through the database;
each process re-reads it at most every ``refresh_seconds`` and immediately after it changes
the clock itself.

The clock only ever shows an instant in ``[EARLIEST, LATEST]`` (1970-01-01 .. 9000-01-01 UTC):
every date the surfaces derive from it survives there (epoch seconds and milliseconds are never
negative, a certificate's validity is encodable and its ``notBefore`` is after 1950 as X.509
libraries require, a CA's 20 years stay below year 9999, Jalali dates stay inside the converter's
range). The control plane refuses a setting outside the range (:func:`check_instant`), and a
stored state that shows an instant outside it (written by an older version, or by hand) makes
the clock raise :class:`ClockUnavailable` instead of a date error deep inside a request, until
the state is cleared.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pishkhan.core.errors import PishkhanError

TEHRAN = ZoneInfo("Asia/Tehran")

#: The range of instants the sandbox clock may show (both ends included).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
_EARLIEST_TS = EARLIEST.timestamp()
_LATEST_TS = LATEST.timestamp()
RANGE_TEXT = "1970-01-01T00:00:00Z .. 9000-01-01T00:00:00Z"


class ClockUnavailable(PishkhanError):
    """The stored sandbox clock state cannot be used (unreadable, or out of range)."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"the sandbox clock is unusable ({detail}); "
            "clear it (pishkhan clock clear, POST /_pishkhan/v1/clock/clear) or reset the sandbox"
        )


def in_range(ts: float) -> bool:
    """True if ``ts`` (seconds since the epoch) is an instant the clock may show (False for NaN)."""
    return _EARLIEST_TS <= ts <= _LATEST_TS


def check_instant(ts: float) -> None:
    """Raise ``ValueError`` unless ``ts`` is finite and in the clock's range."""
    if not math.isfinite(ts) or not in_range(ts):
        raise ValueError(f"the sandbox clock must stay within {RANGE_TEXT}")


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
        """The stored form; :class:`ClockUnavailable` if it cannot be read."""
        if not data:
            return cls()
        try:
            if not set(data) <= {"frozen_at", "offset_seconds"}:
                raise ValueError("unknown keys")
            frozen = data.get("frozen_at")
            state = cls(
                frozen_at=datetime.fromisoformat(frozen).astimezone(UTC) if frozen else None,
                offset_seconds=float(data.get("offset_seconds") or 0.0),
            )
        except (TypeError, ValueError, OverflowError, AttributeError) as exc:
            raise ClockUnavailable(f"unreadable stored state {data!r}") from exc
        if not math.isfinite(state.offset_seconds):
            raise ClockUnavailable(f"offset {state.offset_seconds!r}")
        return state

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
        """Seconds since the epoch as the sandbox sees them; :class:`ClockUnavailable` if the
        sandbox state puts them outside the clock's range."""
        st = self.state()
        if st.frozen_at is not None:
            ts = st.frozen_at.timestamp()
        else:
            ts = self._realtime() + st.offset_seconds
        if not _EARLIEST_TS <= ts <= _LATEST_TS:
            raise ClockUnavailable(f"{st.mode} state puts it outside {RANGE_TEXT}")
        return ts

    def real_timestamp(self) -> float:
        """Real seconds since the epoch, whatever the sandbox state."""
        return self._realtime()

    def now_utc_or_real(self) -> datetime:
        """:meth:`now_utc`, or the real time while the sandbox state is unusable: the time with
        which the operations that repair it (clearing the clock, a reset) are recorded."""
        try:
            return self.now_utc()
        except ClockUnavailable:
            return datetime.fromtimestamp(self._realtime(), UTC)

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
