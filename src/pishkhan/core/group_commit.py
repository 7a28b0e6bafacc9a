"""Group commit: the short write transactions of concurrent requests committed together.

On SQLite a small hot-path transaction (an inquiry served and billed: three or four indexed
statements) costs less than its ``BEGIN IMMEDIATE`` and ``COMMIT`` (the commit writes the
changed pages to the WAL). :class:`GroupCommit` runs, on the event loop, the jobs submitted
while a batch grows (see below) in one transaction on the thread's kept connection
(:meth:`Database.hot_write`): a turn of a loaded server carries the requests of many
connections, so the commit is paid once for all of them.

Each job stays all-or-nothing on its own:

- A job is a function of the connection that only touches the database (no other side effect
  before it returns), so it can be run again.
- Nothing is answered before the batch's commit: a job's result is delivered only once it is
  durable, exactly as with a transaction of its own.
- A job may refuse with one of the exceptions its ``GroupCommit`` was given as ``refusals``
  (a surface's documented error, raised after some writes): each job then runs inside a
  savepoint, a refused job is rolled back to it and gets its exception, the others commit.
  A savepoint is not free on SQLite (every page a job changes is first copied to the
  statement journal), so jobs that normally refuse before their first write can do without:
  with ``savepoints=False`` no savepoint is taken, a refusal that left the connection's change
  count (``total_changes``) as it was is simply that job's answer, and one that comes after a
  write rolls the whole batch back and runs every job of it again in a transaction of its own
  (as for any other exception), so the rare late refusal costs a rerun, never a half-write.
- If a job raises anything else, the whole batch is rolled back and every job of it is run
  again in a transaction of its own, so one failing job can neither half-write nor take the
  others down.
- If the database is locked by another process (``BEGIN IMMEDIATE`` gives up after the kept
  connection's short busy timeout), each job runs in the threadpool on an ordinary connection,
  which waits for the lock.

A batch is bounded (:data:`MAX_BATCH` jobs); later jobs go to the next turn.

A batch runs once a turn of the loop added no job to it, rather than on the turn after its
first job: while jobs keep arriving it waits (at most :data:`MAX_WAIT_TURNS` turns, and never
once full). Under load the requests come in groups, each sent as the batch before last was
answered, and run on the turn after their first job those groups never merge: Pendar issuance
with 16 connections committed 4.4 jobs a transaction. Waiting while the batch grows made that
10 and each issuance 100-180 µs of CPU cheaper, of ~1.5 ms (``bench/side_by_side.py``, either
tree first, slices of 400 to 5,000 issuances). A lone job waits one turn, a few microseconds.

A job may come with a ``before`` step: work that must precede it but needs no database (a CA
signature). The batch's ``before`` steps run one after another just before its transaction,
outside it, once each; a job whose step raises gets that exception and stays out of the
transaction. Doing a batch's heavy steps back to back, rather than each inside its own
request's turn, keeps the requests' remaining Python and SQLite work together, where the
processor's caches still hold it (measured on Pendar issuance, ~2 ms of CPU a request on that
machine: 4.4 % less with the CA signature in the step, 3.4 % less again with the key
verifications).

Every ``GroupCommit`` counts what it did (:class:`GroupCommitStats`); :func:`all_stats` sums
them per name for ``/_pishkhan/metrics`` (jobs per transaction is the batching achieved).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool

from pishkhan.core.db import Database, driver_connection, is_busy

T = TypeVar("T")
Job = Callable[[Connection], Any]
Before = Callable[[], object]

#: Jobs committed together at most (a batch holds the event loop while it runs).
MAX_BATCH: Final = 64
#: Turns of the loop a growing batch waits for more jobs at most.
MAX_WAIT_TURNS: Final = 8


class _Outcome:
    """A job's value or exception, or ``busy``: not run, the database was locked."""

    __slots__ = ("busy", "error", "value")

    def __init__(
        self, value: Any = None, error: BaseException | None = None, busy: bool = False
    ) -> None:
        self.value = value
        self.error = error
        self.busy = busy


_BUSY: Final = _Outcome(busy=True)


class _LateRefusal(Exception):
    """A refusal raised after its job wrote (without savepoints): the batch must be redone."""

    def __init__(self, refusal: Exception) -> None:
        super().__init__(str(refusal))
        self.refusal = refusal


class _Batch:
    """The jobs waiting on one event loop."""

    __slots__ = ("jobs", "scheduled", "seen", "turns")

    def __init__(self) -> None:
        self.jobs: list[tuple[Job, asyncio.Future[Any], Before | None]] = []
        self.scheduled = False
        #: jobs waiting when the batch last looked, and the turns it has waited since its first
        self.seen = 0
        self.turns = 0


@dataclass
class GroupCommitStats:
    """What one :class:`GroupCommit` did, or the sum of several (:func:`all_stats`)."""

    #: Transactions committed (a batch's, or one job's after its batch was rolled back) and the
    #: jobs run in them.
    commits: int = 0
    jobs: int = 0
    #: Jobs run again in a transaction of their own after their batch was rolled back.
    alone: int = 0
    #: Jobs sent to the threadpool because another process held the write lock.
    threadpool: int = 0

    def add(self, other: GroupCommitStats) -> None:
        self.commits += other.commits
        self.jobs += other.jobs
        self.alone += other.alone
        self.threadpool += other.threadpool


_live: weakref.WeakSet[GroupCommit] = weakref.WeakSet()


def all_stats() -> dict[str, GroupCommitStats]:
    """This process's group commits' counts, summed per name."""
    totals: dict[str, GroupCommitStats] = {}
    for group in list(_live):
        totals.setdefault(group.name, GroupCommitStats()).add(group.stats)
    return totals


class GroupCommit:
    """Runs write jobs of concurrent requests in shared transactions (see the module doc).
    ``name`` labels its counts in the metrics."""

    def __init__(
        self,
        db: Database,
        max_batch: int = MAX_BATCH,
        *,
        refusals: tuple[type[Exception], ...] = (),
        savepoints: bool = True,
        name: str = "default",
    ) -> None:
        self.name = name
        self.stats = GroupCommitStats()
        _live.add(self)
        self._db = db
        self._max = max_batch
        self._refusals = refusals
        self._savepoints = savepoints
        self._batches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Batch] = (
            weakref.WeakKeyDictionary()
        )
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def commits(self) -> int:
        """Transactions committed (for tests; see :attr:`stats`)."""
        return self.stats.commits

    @property
    def jobs(self) -> int:
        """Jobs run in them."""
        return self.stats.jobs

    async def run(self, job: Callable[[Connection], T], before: Before | None = None) -> T:
        """Run ``job(conn)`` in a write transaction; its value once the transaction committed.
        ``before()``, if given, runs first, outside the transaction (see the module doc)."""
        loop = asyncio.get_running_loop()
        batch = self._batches.get(loop)
        if batch is None:
            batch = self._batches[loop] = _Batch()
        future: asyncio.Future[T] = loop.create_future()
        batch.jobs.append((job, future, before))
        if not batch.scheduled:
            batch.scheduled = True
            loop.call_soon(self._flush, loop, batch)
        return await future

    def _flush(self, loop: asyncio.AbstractEventLoop, batch: _Batch) -> None:
        waiting = len(batch.jobs)
        if batch.seen < waiting < self._max and batch.turns < MAX_WAIT_TURNS:
            # still growing: one more turn, so that requests read meanwhile join (module doc)
            batch.seen = waiting
            batch.turns += 1
            loop.call_soon(self._flush, loop, batch)
            return
        batch.seen = batch.turns = 0
        jobs = batch.jobs[: self._max]
        del batch.jobs[: self._max]
        if batch.jobs:
            loop.call_soon(self._flush, loop, batch)
        else:
            batch.scheduled = False
        ready: list[tuple[Job, asyncio.Future[Any]]] = []
        for job, future, before in jobs:
            if before is not None:
                try:
                    before()
                except Exception as exc:
                    if not future.done():
                        future.set_exception(exc)
                    continue
            ready.append((job, future))
        if not ready:
            return
        outcomes = self._together([job for job, _ in ready])
        for (job, future), outcome in zip(ready, outcomes, strict=True):
            if outcome.busy:
                # Another process holds the write lock: wait for it in the threadpool.
                self.stats.threadpool += 1
                task = loop.create_task(self._in_threadpool(job, future))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            elif future.done():  # the request was cancelled (client gone); its job ran anyway
                continue
            elif outcome.error is not None:
                future.set_exception(outcome.error)
            else:
                future.set_result(outcome.value)

    def _together(self, jobs: list[Job]) -> list[_Outcome]:
        """All jobs in one transaction; if one fails, each in a transaction of its own."""
        try:
            with self._db.hot_write() as conn:
                if self._refusals:
                    outcomes = self._isolated(conn, jobs)
                else:
                    outcomes = [_Outcome(job(conn)) for job in jobs]
        except Exception as exc:
            if is_busy(exc):
                return [_BUSY] * len(jobs)
            if len(jobs) == 1:
                return [_Outcome(error=exc.refusal if isinstance(exc, _LateRefusal) else exc)]
            self.stats.alone += len(jobs)
            return [self._alone(job) for job in jobs]
        self.stats.commits += 1
        self.stats.jobs += len(jobs)
        return outcomes

    def _isolated(self, conn: Connection, jobs: list[Job]) -> list[_Outcome]:
        """Each job in a savepoint; a refusal rolls back only its job (others propagate).
        Without savepoints, a refusal after a write raises :class:`_LateRefusal`."""
        raw = driver_connection(conn)
        outcomes: list[_Outcome] = []
        if not self._savepoints:
            for job in jobs:
                before = raw.total_changes
                try:
                    outcomes.append(_Outcome(job(conn)))
                except self._refusals as exc:
                    if raw.total_changes != before:
                        raise _LateRefusal(exc) from exc
                    outcomes.append(_Outcome(error=exc))
            return outcomes
        for job in jobs:
            raw.execute("SAVEPOINT group_job")
            try:
                outcomes.append(_Outcome(job(conn)))
            except self._refusals as exc:
                raw.execute("ROLLBACK TO group_job")
                outcomes.append(_Outcome(error=exc))
            raw.execute("RELEASE group_job")
        return outcomes

    def _alone(self, job: Job) -> _Outcome:
        try:
            with self._db.hot_write() as conn:
                value = job(conn)
        except Exception as exc:
            return _BUSY if is_busy(exc) else _Outcome(error=exc)
        self.stats.commits += 1
        self.stats.jobs += 1
        return _Outcome(value)

    async def _in_threadpool(self, job: Job, future: asyncio.Future[Any]) -> None:
        def attempt() -> Any:
            with self._db.write() as conn:
                return job(conn)

        try:
            value = await run_in_threadpool(attempt)
        except Exception as exc:
            if not future.done():
                future.set_exception(exc)
            return
        if not future.done():
            future.set_result(value)
