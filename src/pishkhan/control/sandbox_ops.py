"""Sandbox operations shared by the admin API and the CLI (no HTTP): clock, reset, audit."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from pishkhan.core import audit as audit_mod
from pishkhan.core.clock import TEHRAN, ClockState, check_instant
from pishkhan.core.errors import InvalidInput
from pishkhan.core.shared_state import CLOCK_KEY
from pishkhan.runtime import Runtime


def parse_instant(value: str) -> datetime:
    """ISO-8601; a value without an offset is Tehran wall-clock time. The instant must lie in
    the clock's range."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=TEHRAN)
        instant = parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise InvalidInput(f"not an ISO-8601 instant: {value!r}", {"at": value}) from exc
    _check({"at": value}, instant.timestamp())
    return instant


def _check(given: dict[str, Any], resulting: float) -> None:
    """Refuse a setting (``given``: field -> value) that would put the clock at ``resulting``
    (seconds since the epoch)."""
    try:
        check_instant(resulting)
    except ValueError as exc:
        raise InvalidInput(str(exc), given) from None


def _seconds(value: float) -> float:
    seconds = float(value)
    if not math.isfinite(seconds):
        raise InvalidInput("seconds must be a finite number", {"seconds": str(seconds)})
    return seconds


def clock_view(runtime: Runtime) -> dict[str, Any]:
    st = runtime.clock.state()
    return {
        "mode": st.mode,
        "now": runtime.clock.now().isoformat(),
        "now_utc": runtime.clock.now_utc().isoformat(),
        "frozen_at": st.frozen_at.isoformat() if st.frozen_at else None,
        "offset_seconds": st.offset_seconds,
        "timezone": "Asia/Tehran",
    }


def _set_clock(runtime: Runtime, state: ClockState, action: str) -> dict[str, Any]:
    with runtime.db.write() as conn:
        if state.mode == "real":
            runtime.state.remove(conn, CLOCK_KEY)
        else:
            runtime.state.put(conn, CLOCK_KEY, state.to_json(), datetime.now(UTC))
        # Stamped with the clock being replaced, or real time if that one is unusable.
        runtime.audit.append(
            conn,
            actor="admin",
            action=action,
            subject="clock",
            data=state.to_json(),
            at=runtime.clock.now_utc_or_real(),
        )
    runtime.clock.set_state(state)
    return clock_view(runtime)


def freeze(runtime: Runtime, at: str | None) -> dict[str, Any]:
    instant = parse_instant(at) if at else runtime.clock.now_utc()
    return _set_clock(runtime, ClockState(frozen_at=instant), "clock.freeze")


def offset(runtime: Runtime, seconds: float) -> dict[str, Any]:
    seconds = _seconds(seconds)
    _check({"seconds": seconds}, runtime.clock.real_timestamp() + seconds)
    return _set_clock(runtime, ClockState(offset_seconds=seconds), "clock.offset")


def advance(runtime: Runtime, seconds: float) -> dict[str, Any]:
    """Move the sandbox clock forward (or back) keeping its mode."""
    seconds = _seconds(seconds)
    _check({"seconds": seconds}, runtime.clock.timestamp() + seconds)
    st = runtime.clock.state()
    if st.frozen_at is not None:
        new = ClockState(frozen_at=st.frozen_at + timedelta(seconds=seconds))
    else:
        new = ClockState(offset_seconds=st.offset_seconds + seconds)
    return _set_clock(runtime, new, "clock.advance")


def clear(runtime: Runtime) -> dict[str, Any]:
    return _set_clock(runtime, ClockState(), "clock.clear")


def verify_audit(runtime: Runtime) -> dict[str, Any]:
    with runtime.db.read() as conn:
        result = audit_mod.verify(conn)
    return {
        "ok": result.ok,
        "entries": result.entries,
        "head": result.head,
        "problem": result.problem,
        "entry_id": result.entry_id,
    }
