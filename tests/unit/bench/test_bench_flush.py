"""Before every measurement the harness writes out what earlier phases left dirty
(``flush_writes``): PostgreSQL's buffers through a checkpoint and the kernel's page cache
through sync, so that the ~250 MB ``pgbench -i`` loads is not written back during the
measurement that follows it (seen: 30-90 MB/s of writeback during a Payman round)."""

from __future__ import annotations

import os

import psycopg
import pytest
from bench.harness import _pg_conninfo, flush_writes

PG_URL = os.environ.get("PISHKHAN_TEST_DATABASE_URL", "").strip()


def _requested_checkpoints(url: str) -> int:
    with psycopg.connect(_pg_conninfo(url), autocommit=True) as conn:
        row = conn.execute("SELECT checkpoints_req FROM pg_stat_bgwriter").fetchone()
    assert row is not None
    return int(row[0])


def test_flush_writes_checkpoints_postgresql() -> None:
    if not PG_URL:
        pytest.skip("PISHKHAN_TEST_DATABASE_URL is not set")
    logged: list[str] = []
    before = _requested_checkpoints(PG_URL)
    flush_writes(PG_URL, logged.append)
    # at least ours (other work on the server may ask for checkpoints too)
    assert _requested_checkpoints(PG_URL) >= before + 1


def test_flush_writes_without_a_url_never_connects(monkeypatch: pytest.MonkeyPatch) -> None:
    """A SQLite run: the kernel's page cache only."""
    calls: list[object] = []
    monkeypatch.setattr(psycopg, "connect", lambda *a, **k: calls.append(a))
    flush_writes(None, lambda _line: None)
    assert calls == []
