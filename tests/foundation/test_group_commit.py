"""GroupCommit (core/group_commit.py): jobs of concurrent requests share one transaction, yet each
stays all-or-nothing, is answered only once committed, and waits for a lock held elsewhere."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Connection

from pishkhan.core.db import Database, DriverSQL
from pishkhan.core.group_commit import MAX_BATCH, MAX_WAIT_TURNS, GroupCommit, all_stats
from pishkhan.core.tables import sandbox_state
from pishkhan.web.metrics import Metrics

_INSERT = DriverSQL("INSERT INTO sandbox_state (key, value, updated_at) VALUES (:key, :value, :at)")


@pytest.fixture
def sqlite_db(db: Database) -> Database:
    if not db.is_sqlite:
        pytest.skip("group commit is used on SQLite only")
    return db


def _put(key: str) -> Any:
    def job(conn: Connection) -> str:
        _INSERT.run(conn, {"key": key, "value": "{}", "at": "2026-01-01 00:00:00.000000"})
        return key

    return job


def _keys(db: Database) -> set[str]:
    with db.read() as conn:
        return {r[0] for r in conn.execute(select(sandbox_state.c.key))}


def _committed_elsewhere(db: Database, key: str) -> bool:
    """Seen by another connection (so committed, not merely written in an open transaction)."""
    other = sqlite3.connect(db.url.split("///", 1)[1])
    try:
        return (
            other.execute("SELECT 1 FROM sandbox_state WHERE key = ?", (key,)).fetchone()
            is not None
        )
    finally:
        other.close()


def test_concurrent_jobs_share_one_commit(sqlite_db: Database) -> None:
    group = GroupCommit(sqlite_db)

    async def main() -> list[str]:
        return await asyncio.gather(*(group.run(_put(f"gc.{i}")) for i in range(10)))

    assert asyncio.run(main()) == [f"gc.{i}" for i in range(10)]
    assert (group.commits, group.jobs) == (1, 10)
    assert {f"gc.{i}" for i in range(10)} <= _keys(sqlite_db)


def test_before_steps_run_back_to_back_outside_the_transaction(sqlite_db: Database) -> None:
    """A batch's ``before`` steps all run, in order, before its transaction begins and
    outside it; a step that raises answers its own job with that error and keeps the job out,
    the others commit together."""
    group = GroupCommit(sqlite_db)
    events: list[str] = []

    def before(i: int) -> Any:
        def step() -> None:
            with sqlite_db.hot_read() as conn:
                # outside any transaction on the kept connection
                events.append(f"before.{i}:{int(conn.connection.dbapi_connection.in_transaction)}")
            if i == 2:
                raise ValueError("no signature for 2")

        return step

    def job(i: int) -> Any:
        put = _put(f"before.{i}")

        def run(conn: Connection) -> str:
            events.append(f"job.{i}")
            return str(put(conn))

        return run

    async def main() -> list[Any]:
        return await asyncio.gather(
            *(group.run(job(i), before=before(i)) for i in range(4)), return_exceptions=True
        )

    answers = asyncio.run(main())
    assert answers[:2] == ["before.0", "before.1"] and answers[3] == "before.3"
    assert isinstance(answers[2], ValueError)
    assert events == [
        "before.0:0", "before.1:0", "before.2:0", "before.3:0", "job.0", "job.1", "job.3",
    ]  # fmt: skip
    assert (group.commits, group.jobs) == (1, 3)
    keys = _keys(sqlite_db)
    assert {"before.0", "before.1", "before.3"} <= keys and "before.2" not in keys


def test_answered_only_after_commit(sqlite_db: Database) -> None:
    group = GroupCommit(sqlite_db)
    seen: list[bool] = []

    async def main() -> None:
        async def one(i: int) -> None:
            key = await group.run(_put(f"durable.{i}"))
            seen.append(_committed_elsewhere(sqlite_db, key))

        await asyncio.gather(*(one(i) for i in range(5)))

    asyncio.run(main())
    assert seen == [True] * 5


def test_batches_are_bounded(sqlite_db: Database) -> None:
    group = GroupCommit(sqlite_db)
    count = MAX_BATCH * 2 + 5

    async def main() -> None:
        await asyncio.gather(*(group.run(_put(f"bound.{i}")) for i in range(count)))

    asyncio.run(main())
    assert (group.commits, group.jobs) == (3, count)


def _after_turns(group: GroupCommit, key: str, turns: int) -> Any:
    async def submit() -> str:
        for _ in range(turns):
            await asyncio.sleep(0)  # one turn of the loop
        return str(await group.run(_put(key)))

    return submit()


def test_jobs_arriving_turn_after_turn_share_one_commit(sqlite_db: Database) -> None:
    """A batch waits while each turn of the loop brings it another job (as the requests of a
    loaded server arrive), instead of committing on the turn after its first."""
    group = GroupCommit(sqlite_db)

    async def main() -> list[str]:
        return await asyncio.gather(*(_after_turns(group, f"turn.{i}", i) for i in range(5)))

    assert asyncio.run(main()) == [f"turn.{i}" for i in range(5)]
    assert (group.commits, group.jobs) == (1, 5)


def test_a_growing_batch_waits_a_bounded_number_of_turns(sqlite_db: Database) -> None:
    """A job every turn, for many more turns than a batch may wait: committed in several
    transactions, the first once its batch has waited ``MAX_WAIT_TURNS`` turns."""
    group = GroupCommit(sqlite_db)
    count = MAX_WAIT_TURNS * 4
    committed_at: list[int] = []

    async def main() -> None:
        async def first() -> None:
            await group.run(_put("bounded.0"))
            committed_at.append(group.jobs)

        await asyncio.gather(
            first(), *(_after_turns(group, f"bounded.{i}", i) for i in range(1, count))
        )

    asyncio.run(main())
    assert group.jobs == count
    assert 1 < committed_at[0] <= MAX_WAIT_TURNS + 1 < count
    assert group.commits >= count // (MAX_WAIT_TURNS + 1)
    assert {f"bounded.{i}" for i in range(count)} <= _keys(sqlite_db)


class _Refused(Exception):
    """A documented refusal of a surface (raised after the job wrote something)."""


def _between(group: GroupCommit, job: Any, tag: str) -> tuple[Any, Any, Any]:
    """``job`` submitted in one turn of the loop between two good jobs (``tag.before`` and
    ``tag.after``); the three results, exceptions included."""

    async def main() -> list[Any]:
        return await asyncio.gather(
            group.run(_put(f"{tag}.before")),
            group.run(job),
            group.run(_put(f"{tag}.after")),
            return_exceptions=True,
        )

    before, middle, after = asyncio.run(main())
    return before, middle, after


@pytest.mark.parametrize("refusals", [(), (_Refused,)], ids=["plain", "savepoints"])
def test_a_failing_job_rolls_back_alone(
    sqlite_db: Database, refusals: tuple[type[Exception], ...]
) -> None:
    group = GroupCommit(sqlite_db, refusals=refusals)

    def half_then_fail(conn: Connection) -> None:
        _put("fail.half")(conn)
        raise ValueError("application error after a write")

    before, failed, after = _between(group, half_then_fail, "fail")
    assert (before, after) == ("fail.before", "fail.after")
    assert isinstance(failed, ValueError)
    keys = _keys(sqlite_db)
    assert {"fail.before", "fail.after"} <= keys
    assert "fail.half" not in keys
    # the batch was rolled back and the two good jobs committed on their own
    assert (group.commits, group.jobs) == (2, 2)


def test_a_database_error_fails_only_its_job(sqlite_db: Database) -> None:
    group = GroupCommit(sqlite_db)

    async def main() -> list[Any]:
        return await asyncio.gather(
            group.run(_put("dup.one")),
            group.run(_put("dup.one")),  # primary key violation in the shared transaction
            return_exceptions=True,
        )

    first, second = asyncio.run(main())
    assert first == "dup.one"
    assert isinstance(second, sqlite3.IntegrityError)
    assert "dup.one" in _keys(sqlite_db)


def test_waits_for_a_lock_held_by_another_process(sqlite_db: Database) -> None:
    group = GroupCommit(sqlite_db)
    path = sqlite_db.url.split("///", 1)[1]
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")

    def release_once_handed_over() -> None:
        # The lock is given back once all three jobs went to the threadpool (not after a fixed
        # time: on a loaded machine the batch may try later than any fixed delay).
        deadline = time.monotonic() + 30
        while group.stats.threadpool < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        other.execute("ROLLBACK")

    release = threading.Thread(target=release_once_handed_over)
    release.start()
    try:

        async def main() -> list[str]:
            return await asyncio.gather(*(group.run(_put(f"locked.{i}")) for i in range(3)))

        assert asyncio.run(main()) == ["locked.0", "locked.1", "locked.2"]
    finally:
        release.join()
        other.close()
    assert {"locked.0", "locked.1", "locked.2"} <= _keys(sqlite_db)
    assert group.commits == 0  # each ran in the threadpool on an ordinary connection
    assert group.stats.threadpool == 3


def test_a_refusal_rolls_back_to_its_savepoint_and_the_batch_commits(sqlite_db: Database) -> None:
    group = GroupCommit(sqlite_db, refusals=(_Refused,))

    def write_then_refuse(conn: Connection) -> None:
        _put("refused.half")(conn)
        raise _Refused("documented error")

    before, refused, after = _between(group, write_then_refuse, "refused")
    assert (before, after) == ("refused.before", "refused.after")
    assert isinstance(refused, _Refused)
    keys = _keys(sqlite_db)
    assert {"refused.before", "refused.after"} <= keys
    assert "refused.half" not in keys
    assert (group.commits, group.jobs) == (1, 3)  # one shared transaction, nothing rerun


def test_without_savepoints_a_refusal_before_any_write_keeps_the_batch(
    sqlite_db: Database,
) -> None:
    group = GroupCommit(sqlite_db, refusals=(_Refused,), savepoints=False)

    def refuse_at_once(conn: Connection) -> None:
        raise _Refused("documented error, nothing written")

    before, refused, after = _between(group, refuse_at_once, "early")
    assert (before, after) == ("early.before", "early.after")
    assert isinstance(refused, _Refused)
    assert {"early.before", "early.after"} <= _keys(sqlite_db)
    assert (group.commits, group.jobs) == (1, 3)  # one shared transaction, nothing rerun


def test_without_savepoints_a_refusal_after_a_write_reruns_the_batch_alone(
    sqlite_db: Database,
) -> None:
    group = GroupCommit(sqlite_db, refusals=(_Refused,), savepoints=False)

    def write_then_refuse(conn: Connection) -> None:
        _put("late.half")(conn)
        raise _Refused("documented error after a write")

    before, refused, after = _between(group, write_then_refuse, "late")
    assert (before, after) == ("late.before", "late.after")
    assert isinstance(refused, _Refused) and str(refused) == "documented error after a write"
    keys = _keys(sqlite_db)
    assert {"late.before", "late.after"} <= keys
    assert "late.half" not in keys
    # the shared transaction was rolled back; each good job committed in its own
    assert (group.commits, group.jobs) == (2, 2)


def test_without_savepoints_a_lone_late_refusal_is_its_answer(sqlite_db: Database) -> None:
    group = GroupCommit(sqlite_db, refusals=(_Refused,), savepoints=False)

    def write_then_refuse(conn: Connection) -> None:
        _put("lone.half")(conn)
        raise _Refused("alone")

    async def main() -> Any:
        return await asyncio.gather(group.run(write_then_refuse), return_exceptions=True)

    (refused,) = asyncio.run(main())
    assert isinstance(refused, _Refused) and str(refused) == "alone"
    assert "lone.half" not in _keys(sqlite_db)
    assert group.commits == 0


def test_counts_reach_the_metrics(sqlite_db: Database) -> None:
    """Each group commit counts its transactions, jobs and reruns; ``/_pishkhan/metrics``
    shows them summed per name (what a scrape reads to see the batching achieved)."""
    name = f"test.metrics.{uuid.uuid4().hex}"
    group = GroupCommit(sqlite_db, name=name)

    def fails(_conn: Connection) -> None:
        raise ValueError("rerun the batch alone")

    async def main() -> None:
        await asyncio.gather(*(group.run(_put(f"metrics.{i}")) for i in range(6)))

    asyncio.run(main())
    _between(group, fails, "metrics.fail")
    stats = all_stats()[name]
    # 6 jobs in one transaction; then a batch of 3 rolled back and its two good jobs rerun
    assert (stats.commits, stats.jobs, stats.alone, stats.threadpool) == (3, 8, 3, 0)
    text = Metrics().render().decode()
    assert f'pishkhan_group_commit_transactions_total{{name="{name}"}} 3.0' in text
    assert f'pishkhan_group_commit_jobs_total{{name="{name}"}} 8.0' in text
    assert f'pishkhan_group_commit_reruns_total{{name="{name}"}} 3.0' in text
    assert f'pishkhan_group_commit_threadpool_total{{name="{name}"}} 0.0' in text
