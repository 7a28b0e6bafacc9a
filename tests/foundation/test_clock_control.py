"""The sandbox clock through the control plane, shared by every runtime on the database."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import delete, insert, select

from pishkhan.core.clock import ClockUnavailable
from pishkhan.core.db import Database
from pishkhan.core.shared_state import CLOCK_KEY
from pishkhan.core.tables import audit_log, sandbox_state
from pishkhan.runtime import Runtime
from pishkhan.settings import Settings

V1 = "/_pishkhan/v1"


def test_freeze_with_and_without_offset(admin: Any, runtime: Runtime) -> None:
    r = admin.post(f"{V1}/clock/freeze", json={"at": "2026-03-20T12:00:00+00:00"})
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["mode"] == "frozen"
    assert view["now_utc"] == "2026-03-20T12:00:00+00:00"
    assert view["now"] == "2026-03-20T15:30:00+03:30"
    assert view["timezone"] == "Asia/Tehran"
    assert runtime.clock.now_utc() == datetime(2026, 3, 20, 12, tzinfo=UTC)
    # No offset: Tehran wall-clock time.
    view = admin.post(f"{V1}/clock/freeze", json={"at": "2026-03-20T12:00:00"}).json()
    assert view["now_utc"] == "2026-03-20T08:30:00+00:00"
    assert view["frozen_at"] == "2026-03-20T08:30:00+00:00"
    view = admin.post(f"{V1}/clock/freeze", json={"at": "2026-03-20T12:00:00Z"}).json()
    assert view["now_utc"] == "2026-03-20T12:00:00+00:00"
    time.sleep(0.01)
    assert admin.get(f"{V1}/clock").json()["now_utc"] == "2026-03-20T12:00:00+00:00"
    # Without an instant: frozen at the current time.
    admin.post(f"{V1}/clock/clear")
    before = time.time()
    view = admin.post(f"{V1}/clock/freeze", json={}).json()
    assert view["mode"] == "frozen"
    assert before - 1 <= datetime.fromisoformat(view["now_utc"]).timestamp() <= time.time() + 1


def test_bad_instant_is_400_and_leaves_the_clock(admin: Any) -> None:
    admin.post(f"{V1}/clock/freeze", json={"at": "2026-03-20T12:00:00Z"})
    for body in ({"at": "yesterday"}, {"at": "2026-13-01"}, {"at": 5}, {"when": "x"}):
        r = admin.post(f"{V1}/clock/freeze", json=body)
        assert r.status_code == 400, body
    assert admin.post(f"{V1}/clock/offset", json={"seconds": "x"}).status_code == 400
    assert admin.get(f"{V1}/clock").json()["now_utc"] == "2026-03-20T12:00:00+00:00"


def test_offset_advance_and_clear(admin: Any, runtime: Runtime) -> None:
    view = admin.post(f"{V1}/clock/offset", json={"seconds": -86400}).json()
    assert view["mode"] == "offset" and view["offset_seconds"] == -86400
    assert abs(runtime.clock.timestamp() - (time.time() - 86400)) < 5
    view = admin.post(f"{V1}/clock/advance", json={"seconds": 3600}).json()
    assert view["mode"] == "offset" and view["offset_seconds"] == -82800
    admin.post(f"{V1}/clock/freeze", json={"at": "2026-01-01T00:00:00Z"})
    view = admin.post(f"{V1}/clock/advance", json={"seconds": 90}).json()
    assert view["mode"] == "frozen" and view["now_utc"] == "2026-01-01T00:01:30+00:00"
    view = admin.post(f"{V1}/clock/clear").json()
    assert view["mode"] == "real" and view["frozen_at"] is None and view["offset_seconds"] == 0
    assert abs(runtime.clock.timestamp() - time.time()) < 5
    assert admin.get(f"{V1}/clock").json()["mode"] == "real"


def test_clock_is_shared_by_runtimes_on_the_same_database(admin: Any, settings: Settings) -> None:
    admin.post(f"{V1}/clock/freeze", json={"at": "2026-05-05T05:05:05Z"})
    other = Runtime.open(settings, refresh_seconds=0.0)
    try:
        assert other.clock.now_utc() == datetime(2026, 5, 5, 5, 5, 5, tzinfo=UTC)
        admin.post(f"{V1}/clock/advance", json={"seconds": 5})
        assert other.clock.now_utc() == datetime(2026, 5, 5, 5, 5, 10, tzinfo=UTC)
        admin.post(f"{V1}/clock/clear")
        assert other.clock.state().mode == "real"
    finally:
        other.close()


def test_reset_goes_back_to_real_time(admin: Any) -> None:
    admin.post(f"{V1}/clock/freeze", json={"at": "2020-01-01T00:00:00Z"})
    r = admin.post(f"{V1}/sandbox/reset", json={"seed_world": False})
    assert r.status_code == 200, r.text
    assert r.json()["demo"]["slug"] == "demo"
    assert admin.get(f"{V1}/clock").json()["mode"] == "real"


# -- the clock's range (1970-01-01 .. 9000-01-01 UTC) and recovery from a stored bad value ----

ADMIN_TOKEN = "test-admin-token"
RANGE_MESSAGE = "the sandbox clock must stay within 1970-01-01T00:00:00Z .. 9000-01-01T00:00:00Z"
#: What an older version stored after ``offset {"seconds": 2**53}``.
BAD_STATE = {"frozen_at": None, "offset_seconds": 9007199254740992.0}


def _clock_rows(runtime: Runtime) -> list[Any]:
    with runtime.db.read() as conn:
        return list(conn.execute(select(sandbox_state.c.key, sandbox_state.c.value)))


def _audit_actions(runtime: Runtime) -> list[str]:
    with runtime.db.read() as conn:
        return list(conn.execute(select(audit_log.c.action).order_by(audit_log.c.id)).scalars())


def plant(db: Database, value: Any) -> None:
    """Store a clock state directly, as an older version (or a hand edit) did."""
    with db.engine.begin() as conn:
        conn.execute(delete(sandbox_state).where(sandbox_state.c.key == CLOCK_KEY))
        conn.execute(
            insert(sandbox_state).values(key=CLOCK_KEY, value=value, updated_at=datetime.now(UTC))
        )


def test_out_of_range_settings_are_refused_and_nothing_is_stored(
    admin: Any, runtime: Runtime
) -> None:
    r = admin.post(f"{V1}/clock/offset", json={"seconds": 9007199254740992})
    assert r.status_code == 400
    assert r.json() == {
        "error": {
            "code": "invalid_input",
            "message": RANGE_MESSAGE,
            "details": {"seconds": 9007199254740992.0},
        }
    }
    assert _clock_rows(runtime) == [] and _audit_actions(runtime) == []
    assert admin.get(f"{V1}/clock").json()["mode"] == "real"

    admin.post(f"{V1}/clock/freeze", json={"at": "2026-03-20T12:00:00Z"})
    refused: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
        ("offset", {"seconds": -1e10}, {"seconds": -1e10}),
        ("offset", {"seconds": 1e300}, {"seconds": 1e300}),
        ("advance", {"seconds": 9007199254740992}, {"seconds": 9007199254740992.0}),
        ("advance", {"seconds": -2e9}, {"seconds": -2e9}),
        ("freeze", {"at": "9000-01-01T00:00:01Z"}, {"at": "9000-01-01T00:00:01Z"}),
        ("freeze", {"at": "9999-12-31T23:59:59"}, {"at": "9999-12-31T23:59:59"}),
        ("freeze", {"at": "1969-12-31T23:59:59Z"}, {"at": "1969-12-31T23:59:59Z"}),
    ]
    for op, body, details in refused:
        r = admin.post(f"{V1}/clock/{op}", json=body)
        assert r.status_code == 400, (op, body, r.text)
        assert r.json() == {
            "error": {"code": "invalid_input", "message": RANGE_MESSAGE, "details": details}
        }, (op, body)
    # Not numbers that fit, or no instant at all: 400 too, never a 500.
    for op, body in [
        ("offset", {"seconds": "NaN"}),
        ("offset", {"seconds": "-Infinity"}),
        ("advance", {"seconds": "Infinity"}),
        ("freeze", {"at": "0001-01-01T00:00:00"}),  # Tehran time: before year 1 in UTC
    ]:
        r = admin.post(f"{V1}/clock/{op}", json=body)
        assert r.status_code == 400, (op, body, r.text)
        assert r.json()["error"]["code"] == "invalid_input"
    r = admin.post(f"{V1}/clock/offset", json={"seconds": 10**400})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"
    # Nothing of it was stored: still frozen where it was, one freeze in the audit log.
    assert admin.get(f"{V1}/clock").json()["now_utc"] == "2026-03-20T12:00:00+00:00"
    assert _audit_actions(runtime) == ["clock.freeze"]
    # The ends of the range are accepted.
    for at in ("1970-01-01T00:00:00Z", "9000-01-01T00:00:00Z"):
        r = admin.post(f"{V1}/clock/freeze", json={"at": at})
        assert r.status_code == 200, r.text
        assert r.json()["now_utc"] == at.replace("Z", "+00:00")


@pytest.mark.parametrize(
    "bad",
    [
        BAD_STATE,
        {"frozen_at": "0001-01-01T00:00:00+00:00", "offset_seconds": 0},
        {"frozen_at": "not a date", "offset_seconds": 0},
        {"frozen_at": None, "offset_seconds": "Infinity"},
        5,  # not an object at all
    ],
)
def test_clear_recovers_a_stored_bad_value_across_a_restart(settings: Settings, bad: Any) -> None:
    from starlette.testclient import TestClient

    from pishkhan.app import create_app

    first = Runtime.open(settings, refresh_seconds=0.0)
    plant(first.db, bad)
    first.close()
    # A restart: a new runtime (and app) on the same database.
    rt = Runtime.open(settings, refresh_seconds=0.0)
    try:
        with pytest.raises(ClockUnavailable):
            rt.clock.now_utc()
        with TestClient(create_app(runtime=rt), base_url="http://127.0.0.1") as c:
            c.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
            r = c.get(f"{V1}/clock")
            assert r.status_code == 503
            assert r.json()["error"]["code"] == "clock_unavailable"
            assert "clock clear" in r.json()["error"]["message"]
            r = c.post(f"{V1}/clock/clear")
            assert r.status_code == 200, r.text
            assert r.json()["mode"] == "real"
            assert abs(datetime.fromisoformat(r.json()["now_utc"]).timestamp() - time.time()) < 5
            assert _clock_rows(rt) == []
            assert _audit_actions(rt)[-1] == "clock.clear"
    finally:
        rt.close()
    again = Runtime.open(settings, refresh_seconds=0.0)
    try:
        assert again.clock.state().mode == "real"
        assert abs(again.clock.timestamp() - time.time()) < 5
    finally:
        again.close()


def test_reset_recovers_a_stored_bad_value(admin: Any, runtime: Runtime) -> None:
    plant(runtime.db, BAD_STATE)
    assert admin.get(f"{V1}/clock").status_code == 503
    # Setting a good value over a bad one works too (only advance needs the old one).
    assert admin.post(f"{V1}/clock/advance", json={"seconds": 1}).status_code == 503
    r = admin.post(f"{V1}/clock/offset", json={"seconds": 60})
    assert r.status_code == 200 and r.json()["offset_seconds"] == 60
    plant(runtime.db, BAD_STATE)
    r = admin.post(f"{V1}/sandbox/reset", json={"seed_world": False})
    assert r.status_code == 200, r.text
    assert r.json()["demo"]["slug"] == "demo"
    assert admin.get(f"{V1}/clock").json()["mode"] == "real"
    assert _clock_rows(runtime) == []
    assert "sandbox.reset" in _audit_actions(runtime)
