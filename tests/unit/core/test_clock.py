"""The clock: real, frozen and offset time; Tehran days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from pishkhan.core.clock import TEHRAN, Clock, ClockState, tehran_day_bounds

T0 = 1_780_000_000.0  # 2026-05-28T20:26:40Z


def test_real_time_follows_the_realtime_source() -> None:
    now = [T0]
    clock = Clock(realtime=lambda: now[0])
    assert clock.timestamp() == T0
    now[0] += 5
    assert clock.timestamp() == T0 + 5
    assert clock.state().mode == "real"
    assert clock.millis() == int((T0 + 5) * 1000)


def test_frozen_wins_over_offset_and_does_not_move() -> None:
    frozen = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
    now = [T0]
    clock = Clock(ClockState(frozen_at=frozen, offset_seconds=999), realtime=lambda: now[0])
    assert clock.now_utc() == frozen
    now[0] += 3600
    assert clock.now_utc() == frozen
    assert clock.state().mode == "frozen"


def test_offset_shifts_real_time() -> None:
    clock = Clock(ClockState(offset_seconds=-86400), realtime=lambda: T0)
    assert clock.timestamp() == T0 - 86400
    assert clock.state().mode == "offset"


def test_tehran_zone_and_today() -> None:
    # 21:00 UTC is 00:30 the next day in Tehran (UTC+03:30).
    clock = Clock(ClockState(frozen_at=datetime(2026, 1, 10, 21, 0, tzinfo=UTC)))
    now = clock.now()
    assert now.tzinfo is TEHRAN
    assert now.utcoffset() == timedelta(hours=3, minutes=30)
    assert (now.hour, now.minute) == (0, 30)
    assert clock.today() == date(2026, 1, 11)
    assert clock.now_utc().date() == date(2026, 1, 10)


def test_state_json_round_trip() -> None:
    st = ClockState(frozen_at=datetime(2026, 1, 1, tzinfo=UTC), offset_seconds=0.0)
    assert ClockState.from_json(st.to_json()) == st
    off = ClockState(offset_seconds=12.5)
    assert ClockState.from_json(off.to_json()) == off
    assert ClockState.from_json(None) == ClockState()
    # A stored instant in another zone is normalized to UTC.
    st2 = ClockState.from_json({"frozen_at": "2026-01-01T03:30:00+03:30"})
    assert st2.frozen_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert st2.frozen_at is not None and st2.frozen_at.tzinfo == UTC


def test_loader_is_consulted_after_refresh_interval() -> None:
    states = [ClockState(offset_seconds=1.0)]
    calls = [0]

    def loader() -> ClockState:
        calls[0] += 1
        return states[0]

    clock = Clock(loader=loader, refresh_seconds=3600, realtime=lambda: T0)
    assert clock.timestamp() == T0 + 1
    states[0] = ClockState(offset_seconds=2.0)
    assert clock.timestamp() == T0 + 1  # cached within the interval
    assert calls[0] == 1
    clock.set_state(ClockState(offset_seconds=3.0))
    assert clock.timestamp() == T0 + 3
    eager = Clock(loader=loader, refresh_seconds=0.0, realtime=lambda: T0)
    assert eager.timestamp() == T0 + 2


def test_tehran_day_bounds() -> None:
    start, end = tehran_day_bounds(date(2026, 1, 11))
    assert start == datetime(2026, 1, 10, 20, 30, tzinfo=UTC)
    assert end == datetime(2026, 1, 11, 20, 30, tzinfo=UTC)
    assert start.tzinfo == UTC
    # While Iran observed daylight saving (until 2022) summer days started at 19:30 UTC.
    s2, e2 = tehran_day_bounds(date(2021, 7, 1))
    assert s2 == datetime(2021, 6, 30, 19, 30, tzinfo=UTC)
    assert e2 - s2 == timedelta(days=1)
    # The day DST began (2021-03-22) was 23 hours long.
    s3, e3 = tehran_day_bounds(date(2021, 3, 22))
    assert e3 - s3 == timedelta(hours=23)


def test_the_clock_shows_only_instants_in_its_range() -> None:
    from pishkhan.core.clock import EARLIEST, LATEST, ClockUnavailable, check_instant

    assert Clock(ClockState(frozen_at=EARLIEST)).now_utc() == EARLIEST
    assert Clock(ClockState(frozen_at=LATEST)).now_utc() == LATEST
    check_instant(EARLIEST.timestamp())
    for bad in (EARLIEST.timestamp() - 1, LATEST.timestamp() + 1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="must stay within"):
            check_instant(bad)
    # A state beyond the range (an older version's offset of 2**53 s): unavailable, not a date
    # error; the real time is still there for recording the repair.
    clock = Clock(ClockState(offset_seconds=2.0**53), realtime=lambda: T0)
    for read in (clock.timestamp, clock.now_utc, clock.now, clock.today, clock.millis):
        with pytest.raises(ClockUnavailable, match="clock clear"):
            read()
    assert clock.now_utc_or_real() == datetime.fromtimestamp(T0, UTC)
    for stored in (
        {"frozen_at": "yesterday"},
        {"frozen_at": 5},
        {"offset_seconds": "x"},
        {"offset_seconds": "NaN"},
    ):
        with pytest.raises(ClockUnavailable, match=r"unreadable|offset"):
            ClockState.from_json(stored)
