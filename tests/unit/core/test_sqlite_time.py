"""``sqlite_time``: the SQLite storage text of an instant, the same text SQLAlchemy writes and
reads back, whatever zone the instant comes in (it is cached by value)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import Column, DateTime, Integer, MetaData, Table, create_engine, select, text

from pishkhan.core.clock import TEHRAN
from pishkhan.core.db import sqlite_time


def test_equal_instants_give_equal_text_in_any_zone() -> None:
    at = datetime(2026, 12, 7, 16, 0, 1, 250, tzinfo=UTC)
    tehran = at.astimezone(TEHRAN)
    fixed = at.astimezone(timezone(timedelta(hours=-5)))
    assert sqlite_time(at) == "2026-12-07 16:00:01.000250"
    assert sqlite_time(tehran) == sqlite_time(fixed) == sqlite_time(at)  # cached or not
    assert sqlite_time(datetime(2026, 12, 7, 16, 0, 1, 250)) == sqlite_time(at)  # naive: UTC


def test_sqlalchemy_reads_it_back_as_the_same_instant() -> None:
    engine = create_engine("sqlite://")
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("at", DateTime))
    table.metadata.create_all(engine)
    at = datetime(2026, 3, 20, 20, 29, 59, 999999, tzinfo=TEHRAN)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t (id, at) VALUES (1, :at)"), {"at": sqlite_time(at)})
        stored = conn.execute(select(table.c.at)).scalar_one()
    assert stored.replace(tzinfo=UTC) == at
