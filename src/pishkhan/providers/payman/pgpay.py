"""The PostgreSQL pay: one call of ``payman_pay`` (migration 0006), awaited on the event loop.

A pay on PostgreSQL is one autocommitted statement (one transaction, one round trip; the
mandate row lock is held only while the function runs in the server). It is sent on
connections kept here (per process, per event loop) rather than on the SQLAlchemy pool, so a
pay needs no trip to the threadpool, no pool checkout and no ``BEGIN``/``COMMIT`` round trips.

psycopg opens the connections (``AsyncConnection``, autocommit, UTF-8); the calls then go
through its libpq wrapper (``psycopg.pq``) directly: the statement is prepared once per
connection and run with its parameters as text, and the event loop waits on the socket. The
cursor machinery (parameter adaptation, result set-up) cost more CPU than the rest of a pay's
Python code, and the statement has eight text parameters and one row of three text columns.

The connections are closed when the runtime's engine is disposed (``Runtime.close``) and when
the event loop changes (test clients start one each); one that failed in any way is closed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextlib import suppress
from datetime import date, datetime
from typing import Any, Final

import psycopg
from psycopg import AsyncConnection, pq
from sqlalchemy import event
from sqlalchemy.engine import Engine

from pishkhan.tenants.credentials import CURRENT_SQL

#: Connections one process may open for pays (more concurrent pays wait for one).
MAX_CONNECTIONS: Final = 32
#: Prepared statements kept per connection (one per merchant, day and deferred-bank set).
MAX_PREPARED: Final = 64
RAISED_PREFIX: Final = "payman:"
#: What :meth:`PgPayer.pay` answers when the credential epoch moved since the merchant was read
#: (the statement's gate let nothing run): the caller authenticates again.
STALE: Final = "STALE"
_RAISE_SQLSTATE: Final = b"P0001"


def conninfo_of(engine: Engine) -> str:
    """The libpq URL of a SQLAlchemy ``postgresql+psycopg`` engine."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _text_array(values: Sequence[str]) -> str:
    for value in values:
        if not value.replace("-", "").isalnum():
            raise ValueError(f"not a plain code: {value!r}")
    return "'{" + ",".join(f'"{v}"' for v in values) + "}'::text[]"


def pay_sql(
    *,
    customer_id: int,
    today: date,
    month: str,
    batch_base: int,
    banks: Sequence[str],
    settlement: Sequence[str],
    payment_banks: Sequence[str],
    defer_banks: Sequence[str],
) -> bytes:
    """The ``payman_pay`` call of one merchant on one day (the caller keeps it).

    What is the same for every pay of the merchant that day is written into the statement as
    literals (integers, a date, plain codes checked here), so a call sends only the pay's own
    eight values and the credential epoch the merchant was read at (:func:`pay_params`); each
    distinct text is prepared once per connection.

    The ``WHERE`` is a gate evaluated once, before the function runs (its condition names no
    column of the function's row): when the credential epoch is no longer the one the caller
    authenticated at (a rotation or a disable committed since, through any process), the
    statement answers no row and changes nothing.
    """
    if not month.replace("-", "").isdigit():
        raise ValueError(f"not a month key: {month!r}")
    return (
        "SELECT o_code, o_reference, o_batch FROM payman_pay("
        f"$1::text, {int(customer_id)}::bigint, $2::text, $3::bigint, $4::text, "
        f"$5::timestamptz, $6::timestamptz, '{today.isoformat()}'::date, '{month}'::text, "
        f"$7::text, $8::bigint, {int(batch_base)}::bigint, {_text_array(banks)}, "
        f"{_text_array(settlement)}, {_text_array(payment_banks)}, {_text_array(defer_banks)})"
        f" WHERE $9::bigint = ({CURRENT_SQL})"
    ).encode()


def pay_params(
    payman_id: str,
    trace_id: str,
    amount: int,
    description: str,
    client_date: datetime | None,
    now: datetime,
    reference_id: str,
    epoch_seconds: int,
    credential_epoch: int,
) -> list[bytes | None]:
    """The parameters of :func:`pay_sql` as text (aware datetimes in ISO 8601)."""
    return [
        payman_id.encode(),
        trace_id.encode(),
        str(amount).encode(),
        description.encode(),
        None if client_date is None else client_date.isoformat().encode(),
        now.isoformat().encode(),
        reference_id.encode(),
        str(epoch_seconds).encode(),
        str(credential_epoch).encode(),
    ]


class _Conn:
    __slots__ = ("conn", "fd", "pgconn", "prepared")

    def __init__(self, conn: AsyncConnection[Any]) -> None:
        self.conn = conn
        self.pgconn = conn.pgconn
        self.pgconn.nonblocking = 1
        self.fd = self.pgconn.socket
        self.prepared: dict[bytes, bytes] = {}

    def finish(self) -> None:
        with suppress(Exception):  # a connection already broken: nothing more to close
            self.pgconn.finish()


class PgPayer:
    """Runs ``payman_pay`` on a small LIFO set of autocommit connections of one event loop."""

    def __init__(self, conninfo: str, *, max_connections: int = MAX_CONNECTIONS) -> None:
        self._conninfo = conninfo
        self._max = max_connections
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: asyncio.Semaphore | None = None
        self._idle: list[_Conn] = []
        self._names = 0

    @classmethod
    def for_engine(cls, engine: Engine) -> PgPayer:
        payer = cls(conninfo_of(engine))
        # Database.dispose (Runtime.close) disposes the engine: close ours with its pool.
        event.listen(engine, "engine_disposed", lambda _engine: payer.close())
        return payer

    def close(self) -> None:
        """Close the idle connections (any thread; the event loop may be gone)."""
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.finish()

    async def pay(
        self, sql: bytes, params: Sequence[bytes | None]
    ) -> tuple[str, str | None, int | None]:
        """``(code, reference_id, batch_id)`` of one ``payman_pay`` call (:func:`pay_sql`).

        A refusal raised by the function (``payman:2049`` when a concurrent pay claimed the
        trace id first) comes back as its code, everything rolled back; :data:`STALE` when the
        statement's credential gate answered no row; other database errors raise psycopg's
        exception.
        """
        loop = asyncio.get_running_loop()
        slots = self._slots
        if self._loop is not loop or slots is None:
            self.close()  # connections of an earlier loop (a test client's): not usable here
            self._loop = loop
            slots = self._slots = asyncio.Semaphore(self._max)
        async with slots:
            conn = self._idle.pop() if self._idle else await self._connect()
            try:
                name = conn.prepared.get(sql)
                if name is None:
                    name = await self._prepare(loop, conn, sql)
                conn.pgconn.send_query_prepared(name, params)
                result = await self._result(loop, conn)
            except BaseException:
                conn.finish()
                raise
            if conn.pgconn.transaction_status == pq.TransactionStatus.IDLE:
                self._idle.append(conn)
            else:  # pragma: no cover - autocommit: never inside a transaction here
                conn.finish()
        if result.status == pq.ExecStatus.TUPLES_OK and result.ntuples == 1:
            code, reference, batch = (result.get_value(0, i) for i in range(3))
            return (
                (code or b"").decode(),
                None if reference is None else reference.decode(),
                None if batch is None else int(batch),
            )
        if result.status == pq.ExecStatus.TUPLES_OK and result.ntuples == 0:
            return STALE, None, None
        if result.error_field(pq.DiagnosticField.SQLSTATE) == _RAISE_SQLSTATE:
            message = (result.error_field(pq.DiagnosticField.MESSAGE_PRIMARY) or b"").decode()
            if message.startswith(RAISED_PREFIX):
                return message[len(RAISED_PREFIX) :], None, None
        raise psycopg.errors.error_from_result(result)

    async def _connect(self) -> _Conn:
        conn = await AsyncConnection.connect(
            self._conninfo, autocommit=True, client_encoding="utf8"
        )
        return _Conn(conn)

    async def _prepare(self, loop: asyncio.AbstractEventLoop, conn: _Conn, sql: bytes) -> bytes:
        if len(conn.prepared) >= MAX_PREPARED:
            conn.pgconn.send_query(b"DEALLOCATE ALL")
            await self._result(loop, conn)
            conn.prepared.clear()
        self._names += 1
        name = b"pishkhan_payman_pay_%d" % self._names
        conn.pgconn.send_prepare(name, sql)
        result = await self._result(loop, conn)
        if result.status != pq.ExecStatus.COMMAND_OK:
            raise psycopg.errors.error_from_result(result)
        conn.prepared[sql] = name
        return name

    async def _result(self, loop: asyncio.AbstractEventLoop, conn: _Conn) -> pq.abc.PGresult:
        """Flush what was sent and wait for the one result of it (libpq's nonblocking way)."""
        pgconn = conn.pgconn
        while pgconn.flush():
            await _ready(loop, conn.fd, write=True)
        result: pq.abc.PGresult | None = None
        while True:
            pgconn.consume_input()
            while not pgconn.is_busy():
                got = pgconn.get_result()
                if got is None:
                    if result is None:
                        raise psycopg.OperationalError("the server sent no result")
                    return result
                if result is None or result.status != pq.ExecStatus.FATAL_ERROR:
                    result = got  # keep the first error if there is one
            await _ready(loop, conn.fd)


async def _ready(loop: asyncio.AbstractEventLoop, fd: int, *, write: bool = False) -> None:
    """Until ``fd`` can be read (or written)."""
    future: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not future.done():
            future.set_result(None)

    if write:
        loop.add_writer(fd, wake)
        try:
            await future
        finally:
            loop.remove_writer(fd)
    else:
        loop.add_reader(fd, wake)
        try:
            await future
        finally:
            loop.remove_reader(fd)


__all__ = ["PgPayer", "conninfo_of", "pay_params", "pay_sql"]
