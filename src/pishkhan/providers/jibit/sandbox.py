"""Sandbox controls of the Jibit surface (no HTTP).

* Faults and latency live in the shared sandbox state under :data:`STATE_KEY`
  (``{"unavailable": ["CARD_INQUIRY", ...] or ["*"], "latency_ms": 0}``); every process sees a
  change within a second. An unavailable service answers ``providers.not_available``.
* Sana's answer when the SIM is not the person's (or unknown) lives in the same state,
  ``"sana_mismatch"``: ``"error"`` (the default, as the document's note says: the service
  fails, with ``identity.SANA_MISMATCH_CODE``) or ``"matched_false"`` (200 with ``matched: false,
  registered: false``, pishkhan's answer before, for clients built against it).
* Per-bank switches live in the world's ``world_banks`` rows: ``active`` (card services answer
  ``card.source_bank_is_not_active``), ``provider_active`` (``card.provider_is_not_active``) and
  ``card_to_iban_available`` (availability report ``NOT_AVAILABLE``; card-to-IBAN answers
  ``providers.not_available``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from pishkhan import iran
from pishkhan.core.errors import InvalidInput, NotFound
from pishkhan.providers.jibit.billing import SERVICES
from pishkhan.providers.jibit.errors import JibitError
from pishkhan.runtime import Runtime
from pishkhan.world.tables import world_banks

STATE_KEY: Final = "jibit.sandbox"
BANK_FLAGS: Final = ("active", "provider_active", "card_to_iban_available")
SANA_MISMATCH_MODES: Final = ("error", "matched_false")


def latency_seconds(state: dict[str, Any] | None) -> float:
    """The sandbox latency every authenticated call waits (0: none)."""
    return int(state["latency_ms"]) / 1000 if state and state.get("latency_ms") else 0.0


def check_available(state: dict[str, Any] | None, svc: str) -> None:
    """``providers.not_available`` when the fault switch names ``svc`` (or ``*``)."""
    if state:
        down = state.get("unavailable") or ()
        if "*" in down or svc in down:
            raise JibitError("providers.not_available")


def sana_mismatch_error(state: dict[str, Any] | None) -> bool:
    """Whether Sana answers a SIM/national-code mismatch with an error (the default), from
    the cached sandbox state (no database round trip)."""
    return not state or state.get("sana_mismatch") != "matched_false"


def _settings(runtime: Runtime) -> dict[str, Any]:
    raw = runtime.state.get(STATE_KEY) or {}
    mode = raw.get("sana_mismatch")
    return {
        "unavailable": sorted(raw.get("unavailable") or []),
        "latency_ms": int(raw.get("latency_ms") or 0),
        "sana_mismatch": mode if mode in SANA_MISMATCH_MODES else "error",
    }


def _store(runtime: Runtime, current: dict[str, Any], action: str, data: dict[str, Any]) -> None:
    with runtime.db.write() as conn:
        runtime.state.put(conn, STATE_KEY, current, datetime.now(UTC))
        runtime.audit.append(conn, actor="admin", action=action, subject="jibit", data=data)


def faults(runtime: Runtime) -> dict[str, Any]:
    current = _settings(runtime)
    return {"unavailable": current["unavailable"], "latency_ms": current["latency_ms"]}


def set_faults(
    runtime: Runtime, *, unavailable: list[str] | None = None, latency_ms: int | None = None
) -> dict[str, Any]:
    current = _settings(runtime)
    if unavailable is not None:
        unknown = sorted(set(unavailable) - set(SERVICES) - {"*"})
        if unknown:
            raise InvalidInput(f"unknown Jibit services {unknown}", {"services": ["*", *SERVICES]})
        current["unavailable"] = sorted(set(unavailable))
    if latency_ms is not None:
        if not 0 <= latency_ms <= 60_000:
            raise InvalidInput("latency_ms must be 0..60000", {"latency_ms": latency_ms})
        current["latency_ms"] = latency_ms
    result = {"unavailable": current["unavailable"], "latency_ms": current["latency_ms"]}
    _store(runtime, current, "jibit.faults", result)
    return result


def sana(runtime: Runtime) -> dict[str, Any]:
    return {"mismatch": _settings(runtime)["sana_mismatch"]}


def set_sana(runtime: Runtime, mismatch: str) -> dict[str, Any]:
    """``error`` (default) or ``matched_false``: Sana's answer to a SIM/national-code mismatch."""
    if mismatch not in SANA_MISMATCH_MODES:
        raise InvalidInput(
            f"unknown Sana mismatch mode {mismatch!r}", {"modes": list(SANA_MISMATCH_MODES)}
        )
    current = _settings(runtime)
    current["sana_mismatch"] = mismatch
    result = {"mismatch": mismatch}
    _store(runtime, current, "jibit.sana", result)
    return result


def _bank_key(bank: str) -> str:
    found = iran.by_jibit_id(bank.strip().upper()) or iran.by_key(bank.strip().upper())
    if found is None:
        raise NotFound("bank", bank)
    return found.key


def banks(runtime: Runtime) -> list[dict[str, Any]]:
    with runtime.db.read() as conn:
        rows = {r.bank: r for r in conn.execute(select(world_banks))}
    out = []
    for bank in iran.all_banks():
        r = rows.get(bank.key)
        out.append(
            {
                "bank": bank.key,
                "jibit_id": bank.jibit_id,
                **{f: (True if r is None else bool(getattr(r, f))) for f in BANK_FLAGS},
            }
        )
    return out


def set_bank(runtime: Runtime, bank: str, flags: dict[str, bool]) -> dict[str, Any]:
    key = _bank_key(bank)
    unknown = set(flags) - set(BANK_FLAGS)
    if unknown:
        raise InvalidInput(f"unknown bank flags {sorted(unknown)}", {"flags": list(BANK_FLAGS)})
    with runtime.db.write() as conn:
        values = {"bank": key, **{f: True for f in BANK_FLAGS}}
        stmt: Any = (
            postgresql.insert(world_banks)
            if conn.dialect.name == "postgresql"
            else sqlite.insert(world_banks)
        )
        conn.execute(stmt.values(**values).on_conflict_do_nothing())
        if flags:
            conn.execute(update(world_banks).where(world_banks.c.bank == key).values(**flags))
        row = conn.execute(select(world_banks).where(world_banks.c.bank == key)).one()
        result = {"bank": key, **{f: bool(getattr(row, f)) for f in BANK_FLAGS}}
        runtime.audit.append(
            conn, actor="admin", action="jibit.bank", subject=f"bank:{key}", data=result
        )
    return result
