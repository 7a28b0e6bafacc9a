"""Sandbox switches of the Payman surface, shared by every process through ``sandbox_state``.

``payman.banks`` holds each bank's service state (``stable``, ``unstable``, ``inaccessible``),
per service (``pay``, ``create``), with the failure rate of an unstable bank and when it last
changed. ``payman.force`` says whether forced pay outcomes exist (rows of
``payman_forced_outcomes``), so the pay path only queries that table when it must.
"""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy.engine import Connection

from pishkhan.core.shared_state import SharedState
from pishkhan.iran.banks import payman_banks

from .errors import PaymanError

BANKS_KEY = "payman.banks"
FORCE_KEY = "payman.force"
SERVICES = ("pay", "create")
BANK_STATES = ("stable", "unstable", "inaccessible")
# health/service spells the closed state with a capital I, as the document does.
HEALTH_LABEL = {"stable": "stable", "unstable": "unstable", "inaccessible": "Inaccessible"}
DEFAULT_FAILURE_RATE = 0.5


def bank_codes() -> list[str]:
    return [b.payman_code for b in payman_banks() if b.payman_code]


def bank_state(state: SharedState, bank_code: str, service: str) -> tuple[str, float]:
    """(state, failure rate) of one bank's service."""
    entry = (state.get(BANKS_KEY) or {}).get(bank_code)
    if not entry:
        return "stable", 0.0
    svc = entry.get("services", {}).get(service)
    if not svc:
        return "stable", 0.0
    return str(svc.get("status", "stable")), float(svc.get("failure_rate", DEFAULT_FAILURE_RATE))


def last_updated(state: SharedState, bank_code: str, service: str, default: int) -> int:
    entry = (state.get(BANKS_KEY) or {}).get(bank_code) or {}
    svc = entry.get("services", {}).get(service) or {}
    return int(svc.get("updated_at", default))


def unstable_fails(failure_rate: float) -> bool:
    return random.random() < failure_rate


def set_bank_state(
    conn: Connection,
    state: SharedState,
    *,
    bank_code: str,
    status: str,
    services: tuple[str, ...],
    failure_rate: float,
    now_ms: int,
    now: Any,
) -> dict[str, Any]:
    current: dict[str, Any] = dict(state.get(BANKS_KEY) or {})
    entry = dict(current.get(bank_code) or {})
    svcs = dict(entry.get("services") or {})
    for service in services:
        svcs[service] = {"status": status, "failure_rate": failure_rate, "updated_at": now_ms}
    entry["services"] = svcs
    current[bank_code] = entry
    state.put(conn, BANKS_KEY, current, now)
    return current


def forced_outcomes_exist(state: SharedState) -> bool:
    return bool((state.get(FORCE_KEY) or {}).get("active"))


def require_open(state: SharedState, bank_code: str, service: str) -> None:
    """Refuse a call to a bank's service the sandbox has closed (2500) or, by its failure rate,
    an unstable one (2000)."""
    status, rate = bank_state(state, bank_code, service)
    if status == "inaccessible":
        raise PaymanError("2500")
    if status == "unstable" and unstable_fails(rate):
        raise PaymanError("2000")
