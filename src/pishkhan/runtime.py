"""The runtime: settings, database, clock, shared sandbox state and audit log of one process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pishkhan.core.audit import AuditLog
from pishkhan.core.clock import Clock
from pishkhan.core.db import Database
from pishkhan.core.shared_state import SharedState
from pishkhan.settings import Settings

if TYPE_CHECKING:
    from starlette.requests import Request


@dataclass
class Runtime:
    settings: Settings
    db: Database
    clock: Clock
    state: SharedState
    audit: AuditLog
    # Called after a sandbox reset emptied the tables: surfaces drop what they cache.
    reset_hooks: list[Callable[[], None]] = field(default_factory=list)

    @classmethod
    def open(cls, settings: Settings, *, refresh_seconds: float | None = None) -> Runtime:
        """``refresh_seconds``: how long the shared sandbox state is served from memory
        (default ``settings.state_refresh``, ``PISHKHAN_STATE_REFRESH``)."""
        db = Database(settings.effective_database_url)
        refresh = settings.state_refresh if refresh_seconds is None else refresh_seconds
        state = SharedState(db, refresh_seconds=refresh)
        clock = state.clock()
        return cls(settings=settings, db=db, clock=clock, state=state, audit=AuditLog(clock))

    def close(self) -> None:
        self.db.dispose()


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime
