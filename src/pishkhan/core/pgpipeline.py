"""Transactions on PostgreSQL awaited on the event loop, their statements pipelined.

A hot path whose transaction is a script of a few statement batches (:data:`Script`: a
generator that yields a batch, gets its results, decides in Python, yields the next) runs here
without the threadpool, the SQLAlchemy pool or a round trip per statement: each batch goes to
the server in one libpq pipeline, the first with its ``BEGIN``, the last with its ``COMMIT``,
so a transaction of two batches costs two round trips. The same script runs on any SQLAlchemy
connection with :func:`run_sync` (SQLite, or PostgreSQL off the event loop), statement by
statement: the rules a script holds are written once for both.

Statements are :class:`~pishkhan.core.db.DriverSQL` texts; here each is prepared once per
connection (its ``:name`` parameters become ``$n``) and run with its parameters as text. The
cursor machinery of psycopg (parameter adaptation, result set-up) costs more CPU than a small
transaction's own Python code, so the calls go through its libpq wrapper (``psycopg.pq``)
directly, in libpq's pipeline mode, and the event loop waits on the socket. Values come back
typed by their column's type: integers, ``timestamptz`` (aware datetimes), dates, text.

The connections (per process, per event loop, at most :data:`MAX_CONNECTIONS`) are closed when
the engine is disposed (``Runtime.close``) and when the event loop changes (test clients start
one each); one that failed in any way is closed.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Generator, Mapping, Sequence
from contextlib import suppress
from datetime import date, datetime
from typing import Any, Final, TypeVar

import psycopg
from psycopg import AsyncConnection, pq
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from pishkhan.core.caches import PerDatabase
from pishkhan.core.db import Database, DriverSQL, driver_connection, sqlite_time

#: Connections one process may open (more concurrent transactions wait for one).
MAX_CONNECTIONS: Final = 32


class PlannedEachRun(DriverSQL):
    """A statement PostgreSQL plans at every run (sent unnamed) instead of preparing it once.

    A prepared statement's generic plan is kept for the session's life once PostgreSQL settles
    on one (after five runs), and one made while a table was empty and never analyzed (this
    workplace's PostgreSQL runs with autovacuum off) may take the wrong index for good: a
    lookup of ``(customer_id, trace_id)`` through an index on ``(customer_id, created_at)``
    reads all of the customer's rows. A statement planned at each run sees the table as it
    is, for a few tens of microseconds of planning."""

    __slots__ = ()


#: One statement of a batch and its parameters (``:name`` -> value).
Step = tuple[DriverSQL, Mapping[str, Any]]


class Batch(list[Step]):
    """Statements sent together; ``last``: the script ends after it (its ``COMMIT`` goes with
    it). The script gets one entry per statement: its rows (a list of tuples) when it returns
    rows, else the number of rows it changed."""

    __slots__ = ("last",)

    def __init__(self, steps: Sequence[Step] = (), *, last: bool = False) -> None:
        super().__init__(steps)
        self.last = last


T = TypeVar("T")
#: A transaction's script: yields batches, is sent each batch's results, returns its answer.
#: Raising aborts the transaction (nothing written stays).
Script = Generator[Batch, list[Any], T]


def run_sync(conn: Connection, script: Script[T]) -> T:
    """Run ``script`` inside ``conn``'s transaction, one statement at a time (the caller's
    ``with db.write()`` commits, or rolls back when the script raises)."""
    raw = driver_connection(conn)
    postgres = conn.dialect.name == "postgresql"
    batch = next(script)
    while True:
        results: list[Any] = []
        for sql, params in batch:
            if not postgres:
                params = {k: _sqlite_value(v) for k, v in params.items()}
            cursor = raw.execute(sql.pg if postgres else sql.sqlite, params)
            results.append(cursor.fetchall() if cursor.description else cursor.rowcount)
        try:
            batch = script.send(results)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return sqlite_time(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


# -- PostgreSQL: the pipeline --------------------------------------------------------------------

_PARAM = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")
_BEGIN: Final = b"BEGIN"
_COMMIT: Final = b"COMMIT"
_ROLLBACK: Final = b"ROLLBACK"


class _Prepared:
    __slots__ = ("name", "order", "text")

    def __init__(self, sql: DriverSQL, number: int) -> None:
        order: list[str] = []

        def dollar(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in order:
                order.append(name)
            return f"${order.index(name) + 1}"

        self.text = _PARAM.sub(dollar, sql.text).encode()
        self.order = tuple(order)
        self.name = b"pishkhan_pipeline_%d" % number


def _text(value: Any) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, bool):
        return b"t" if value else b"f"
    if isinstance(value, datetime | date):
        return value.isoformat().encode()
    return str(value).encode()


_TIMESTAMPTZ: Final = 1184
_DECODE: Final[dict[int, Callable[[bytes], Any]]] = {
    20: int,  # bigint
    21: int,  # smallint
    23: int,  # integer
    1082: lambda raw: date.fromisoformat(raw.decode()),
    _TIMESTAMPTZ: lambda raw: datetime.fromisoformat(raw.decode()),
}


def _rows(result: pq.abc.PGresult) -> list[tuple[Any, ...]]:
    decoders = [_DECODE.get(result.ftype(i), bytes.decode) for i in range(result.nfields)]
    rows = []
    for r in range(result.ntuples):
        row = []
        for i, decode in enumerate(decoders):
            raw = result.get_value(r, i)
            row.append(None if raw is None else decode(raw))
        rows.append(tuple(row))
    return rows


class _Conn:
    """One connection in pipeline mode, its socket watched by the event loop for as long as it
    is open (no reader added and removed per wait)."""

    __slots__ = ("done", "fd", "loop", "pgconn", "prepared", "raw", "waiter")

    def __init__(self, conn: AsyncConnection[Any], loop: asyncio.AbstractEventLoop) -> None:
        self.raw = conn
        self.pgconn = conn.pgconn
        self.pgconn.nonblocking = 1
        self.pgconn.enter_pipeline_mode()
        self.fd = self.pgconn.socket
        #: the statements prepared on this connection
        self.prepared: set[bytes] = set()
        #: the last transaction ended (committed or rolled back, every result read)
        self.done = True
        self.loop = loop
        self.waiter: asyncio.Future[None] | None = None
        loop.add_reader(self.fd, self._readable)

    def _readable(self) -> None:
        waiter = self.waiter
        if waiter is not None:
            if not waiter.done():
                waiter.set_result(None)
            return
        # Nobody waits (an idle connection): take what came in (a notice), or the connection
        # ended, so that the socket does not stay readable.
        try:
            self.pgconn.consume_input()
        except psycopg.Error:
            self.loop.remove_reader(self.fd)

    async def readable(self) -> None:
        """Until the socket can be read."""
        self.waiter = self.loop.create_future()
        try:
            await self.waiter
        finally:
            self.waiter = None

    def finish(self) -> None:
        with suppress(Exception):  # a loop already closed: nothing to remove
            self.loop.remove_reader(self.fd)
        with suppress(Exception):  # a connection already broken: nothing more to close
            self.pgconn.finish()


class Pipeline:
    """Runs scripts on a small LIFO set of connections of one event loop (see the module)."""

    def __init__(self, conninfo: str, *, max_connections: int = MAX_CONNECTIONS) -> None:
        self._conninfo = conninfo
        self._max = max_connections
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: asyncio.Semaphore | None = None
        self._idle: list[_Conn] = []
        self._statements: dict[int, _Prepared] = {}

    @classmethod
    def for_engine(cls, engine: Engine) -> Pipeline:
        """A pipeline on ``engine``'s database (a ``postgresql+psycopg`` URL), closed with it."""
        pipeline = cls(engine.url.set(drivername="postgresql").render_as_string(False))
        # Database.dispose (Runtime.close) disposes the engine: close ours with its pool.
        event.listen(engine, "engine_disposed", lambda _engine: pipeline.close())
        return pipeline

    def close(self) -> None:
        """Close the idle connections (any thread; the event loop may be gone)."""
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.finish()

    async def run(self, script: Script[T]) -> T:
        """Run ``script`` as one transaction: its answer once committed; what it raised (or a
        database error, psycopg's exception) once rolled back."""
        loop = asyncio.get_running_loop()
        slots = self._slots
        if self._loop is not loop or slots is None:
            self.close()  # connections of an earlier loop (a test client's): not usable here
            self._loop = loop
            slots = self._slots = asyncio.Semaphore(self._max)
        async with slots:
            conn = self._idle.pop() if self._idle else await self._connect()
            conn.done = False
            try:
                return await self._run(loop, conn, script)
            finally:
                # A connection whose transaction did not end cleanly (cancelled, broken) may
                # hold unread results or an open transaction: closed, never reused.
                if conn.done:
                    self._idle.append(conn)
                else:
                    conn.finish()

    async def _run(self, loop: asyncio.AbstractEventLoop, conn: _Conn, script: Script[T]) -> T:
        batch = next(script)
        begin = True
        while True:
            try:
                results = await self._send(loop, conn, batch, begin=begin)
            except psycopg.Error as exc:  # the server refused a statement: all read out
                script.close()
                await self._rollback(loop, conn)
                raise exc.with_traceback(None) from None
            begin = False
            if batch.last:
                conn.done = True  # committed
                try:
                    script.send(results)
                except StopIteration as done:
                    return done.value  # type: ignore[no-any-return]
                raise RuntimeError("a script went on after its last batch")
            try:
                batch = script.send(results)
            except StopIteration:
                await self._rollback(loop, conn)
                raise RuntimeError("a script ended without a last batch") from None
            except BaseException:
                await self._rollback(loop, conn)
                raise

    async def _send(
        self, loop: asyncio.AbstractEventLoop, conn: _Conn, batch: Batch, *, begin: bool
    ) -> list[Any]:
        """Send ``batch`` (with ``BEGIN`` first, ``COMMIT`` after a last batch) in one
        pipeline; its results, or the first error raised once the pipeline is read out."""
        pgconn = conn.pgconn
        # What each result read back belongs to: the statement's position in the batch, a
        # PREPARE's name, or None (BEGIN, COMMIT).
        slots: list[int | bytes | None] = []
        if begin:
            pgconn.send_query_params(_BEGIN, None)
            slots.append(None)
        for index, (sql, params) in enumerate(batch):
            prepared = self._statements.get(id(sql))
            if prepared is None:
                prepared = self._statements[id(sql)] = _Prepared(sql, len(self._statements))
            values = [_text(params[n]) for n in prepared.order]
            if isinstance(sql, PlannedEachRun):
                pgconn.send_query_params(prepared.text, values)
                slots.append(index)
                continue
            if prepared.name not in conn.prepared:
                pgconn.send_prepare(prepared.name, prepared.text)
                conn.prepared.add(prepared.name)
                slots.append(prepared.name)
            pgconn.send_query_prepared(prepared.name, values)
            slots.append(index)
        if batch.last:
            pgconn.send_query_params(_COMMIT, None)
            slots.append(None)
        pgconn.pipeline_sync()
        got = await self._read(loop, conn, len(slots))
        results: list[Any] = [None] * len(batch)
        error: pq.abc.PGresult | None = None
        for slot, result in zip(slots, got, strict=True):
            if isinstance(slot, bytes) and result.status != pq.ExecStatus.COMMAND_OK:
                conn.prepared.discard(slot)  # not prepared: prepare it next time
            if result.status == pq.ExecStatus.FATAL_ERROR:
                error = error or result
            elif isinstance(slot, int) and error is None:
                if result.status == pq.ExecStatus.TUPLES_OK:
                    results[slot] = _rows(result)
                else:
                    results[slot] = result.command_tuples
        if error is not None:
            raise psycopg.errors.error_from_result(error)
        return results

    async def _rollback(self, loop: asyncio.AbstractEventLoop, conn: _Conn) -> None:
        if conn.pgconn.transaction_status != pq.TransactionStatus.IDLE:
            conn.pgconn.send_query_params(_ROLLBACK, None)
            conn.pgconn.pipeline_sync()
            await self._read(loop, conn, 1)
        conn.done = True

    async def _connect(self) -> _Conn:
        conn = await AsyncConnection.connect(
            self._conninfo, autocommit=True, client_encoding="utf8"
        )
        return _Conn(conn, asyncio.get_running_loop())

    async def _read(self, loop: asyncio.AbstractEventLoop, conn: _Conn, n: int) -> list[Any]:
        """Flush what was sent and read the results of ``n`` commands and the sync point
        (libpq's nonblocking way)."""
        pgconn = conn.pgconn
        while pgconn.flush():
            await _writable(loop, conn.fd)
        out: list[pq.abc.PGresult] = []
        current: pq.abc.PGresult | None = None
        while True:
            await conn.readable()  # just sent: nothing to read before the server answers
            pgconn.consume_input()
            while not pgconn.is_busy():
                got = pgconn.get_result()
                if got is None:  # the end of one command's results
                    if current is None:
                        raise psycopg.OperationalError("the server sent no result")
                    out.append(current)
                    current = None
                    continue
                if got.status == pq.ExecStatus.PIPELINE_SYNC:
                    if len(out) != n:
                        raise psycopg.OperationalError(f"{len(out)} results for {n} commands")
                    return out
                if current is None or current.status != pq.ExecStatus.FATAL_ERROR:
                    current = got  # keep the first error if there is one


_pipelines: PerDatabase[Pipeline] = PerDatabase()


def pipeline(db: Database) -> Pipeline:
    """The :class:`Pipeline` of a PostgreSQL ``db`` (one per database object, i.e. per
    process)."""
    return _pipelines.get(db, Pipeline.for_engine, db.engine)


async def _writable(loop: asyncio.AbstractEventLoop, fd: int) -> None:
    """Until ``fd`` can be written."""
    future: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not future.done():
            future.set_result(None)

    loop.add_writer(fd, wake)
    try:
        await future
    finally:
        loop.remove_writer(fd)


__all__ = ["Batch", "Pipeline", "PlannedEachRun", "Script", "pipeline", "run_sync"]
