"""Sandbox operations shared by the admin API and the CLI (no HTTP): clock, reset, audit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pishkhan.core import audit as audit_mod
from pishkhan.core.clock import TEHRAN, ClockState
from pishkhan.core.errors import InvalidInput
from pishkhan.core.shared_state import CLOCK_KEY
from pishkhan.runtime import Runtime


def parse_instant(value: str) -> datetime:
    """ISO-8601; a value without an offset is Tehran wall-clock time."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(f"not an ISO-8601 instant: {value!r}", {"at": value}) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=TEHRAN)
    return parsed.astimezone(UTC)


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
        runtime.audit.append(
            conn, actor="admin", action=action, subject="clock", data=state.to_json()
        )
    runtime.clock.set_state(state)
    return clock_view(runtime)


def freeze(runtime: Runtime, at: str | None) -> dict[str, Any]:
    instant = parse_instant(at) if at else runtime.clock.now_utc()
    return _set_clock(runtime, ClockState(frozen_at=instant), "clock.freeze")


def offset(runtime: Runtime, seconds: float) -> dict[str, Any]:
    return _set_clock(runtime, ClockState(offset_seconds=float(seconds)), "clock.offset")


def advance(runtime: Runtime, seconds: float) -> dict[str, Any]:
    """Move the sandbox clock forward (or back) keeping its mode."""
    st = runtime.clock.state()
    if st.frozen_at is not None:
        from datetime import timedelta

        new = ClockState(frozen_at=st.frozen_at + timedelta(seconds=seconds))
    else:
        new = ClockState(offset_seconds=st.offset_seconds + float(seconds))
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
