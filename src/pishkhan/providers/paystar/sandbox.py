"""The Paystar surface's sandbox switches: faults, kept in the shared sandbox state.

``paystar.faults`` maps a target (a matching service, ``refresh-api-key``, or ``*`` for every
call) to a fault:

* ``upstream_error``: the upstream provider (Shahkar, the banks) fails; matching calls answer
  status 11 and are not charged;
* ``server_error``: the call fails inside pishkhan; it answers HTTP 500 with status 0.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.engine import Connection

from pishkhan.core.errors import InvalidInput
from pishkhan.core.shared_state import SharedState
from pishkhan.core.tables import sandbox_state

from .wire import SERVICES

STATE_KEY: Final = "paystar.faults"
REFRESH: Final = "refresh-api-key"
ALL: Final = "*"
TARGETS: Final[tuple[str, ...]] = (ALL, REFRESH, *SERVICES)
UPSTREAM_ERROR: Final = "upstream_error"
SERVER_ERROR: Final = "server_error"
FAULTS: Final[tuple[str, ...]] = (UPSTREAM_ERROR, SERVER_ERROR)


def _valid(value: dict[str, Any] | None) -> dict[str, str]:
    return {k: str(v) for k, v in (value or {}).items() if k in TARGETS and v in FAULTS}


def current(state: SharedState) -> dict[str, str]:
    """The faults in force, as this process sees them (cached, at most ~1 s old)."""
    return _valid(state.get(STATE_KEY))


def stored(conn: Connection) -> dict[str, str]:
    """The faults as stored (read inside the caller's transaction)."""
    value = conn.execute(
        select(sandbox_state.c.value).where(sandbox_state.c.key == STATE_KEY)
    ).scalar_one_or_none()
    return _valid(dict(value) if value else None)


def fault_for(state: SharedState, target: str) -> str | None:
    """The fault a call to ``target`` suffers, if any (a specific target wins over ``*``)."""
    faults = current(state)
    if not faults:
        return None
    return faults.get(target) or faults.get(ALL)


class InjectedServerError(RuntimeError):
    """Raised by the ``server_error`` fault; the route answers HTTP 500, status 0."""


def suffered(state: SharedState, target: str) -> str | None:
    """The fault a call to ``target`` suffers: raises :class:`InjectedServerError` for
    ``server_error``; returns ``upstream_error`` (for the rule to answer) or None."""
    fault = fault_for(state, target)
    if fault == SERVER_ERROR:
        raise InjectedServerError(f"sandbox fault: server_error on {target}")
    return fault


def set_fault(
    conn: Connection, state: SharedState, target: str, fault: str | None, now: datetime
) -> dict[str, str]:
    """Set (or with ``fault=None`` clear) the fault of one target; returns every fault."""
    if target not in TARGETS:
        raise InvalidInput(f"unknown Paystar target {target!r}", {"target": list(TARGETS)})
    if fault is not None and fault not in FAULTS:
        raise InvalidInput(f"unknown fault {fault!r}", {"fault": list(FAULTS)})
    if target == REFRESH and fault == UPSTREAM_ERROR:
        raise InvalidInput(
            "refresh-api-key has no upstream provider; only server_error applies",
            {"fault": fault},
        )
    faults: dict[str, Any] = dict(stored(conn))
    if fault is None:
        faults.pop(target, None)
    else:
        faults[target] = fault
    state.put(conn, STATE_KEY, faults, now)
    return dict(faults)


def clear(conn: Connection, state: SharedState, now: datetime) -> dict[str, str]:
    state.put(conn, STATE_KEY, {}, now)
    return {}
