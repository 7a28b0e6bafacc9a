"""The sandbox clock through the control plane, shared by every runtime on the database."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

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
