"""The credential epoch: one counter that says when per-process credential caches are stale.

Every change of a customer's credentials or status (creation, a rotation, a disable or enable,
an update) increments ``credential_epoch.version`` in its own transaction (:func:`bump`), and a
credential cache records the value it was loaded at. Before it trusts an entry, a process reads
the current value (:meth:`Epoch.current`) and reloads when it moved: a rotation or a disable
made through any process is seen by the very next request at every process, with no interval
during which an old secret or token still works.

On a SQLite file every process of the deployment is on one host, so the value is also kept in a
small file beside the database (``<database>-credentials``, 8 bytes, mapped into each process's
memory: :class:`Signal`). :func:`bump` raises it inside the change's transaction, before the
commit, so the file is never behind the table. A reader compares the file with the last value it
read from the table: while they agree it trusts the file (a memory read, a fraction of a
microsecond); when they differ (a change committed, or one still committing) it reads the table,
on a read-only connection each thread keeps for it, and trusts the file again once the table
says the same. A change rolled back after its bump leaves the file ahead: readers then read the
table every time, which is slower but never stale, until the next change. On PostgreSQL one
round trip on one of a few autocommit connections the process keeps (the pay, PostgreSQL's hot
path, checks the value inside its own statement instead; see ``pishkhan.providers.payman.pgpay``).

The value is also a source of credential generations: a Payman client's ``generation`` is the
value its rotation took, so generations only grow and are never given twice (the counter is kept
on a sandbox reset, which empties the customers).
"""

from __future__ import annotations

import fcntl
import mmap
import os
import sqlite3
import struct
import threading
from contextlib import suppress
from typing import Any, Final

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from pishkhan.core.caches import PerDatabase
from pishkhan.core.db import Database, DriverSQL
from pishkhan.tenants.tables import credential_epoch

#: The statement that reads the counter (also written into the PostgreSQL pay's statement).
CURRENT_SQL: Final = "SELECT version FROM credential_epoch WHERE id = 1"
_CURRENT: Final = DriverSQL(CURRENT_SQL)
_PG_NAME: Final = b"pishkhan_credential_epoch"
#: Connections one process keeps for reading the counter on PostgreSQL.
PG_CONNECTIONS: Final = 4


def bump(conn: Connection) -> int:
    """Increment the counter inside the caller's transaction; its new value.

    On PostgreSQL the row stays locked to the end of the transaction, so concurrent changes take
    their turns and every one gets its own value."""
    dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(credential_epoch)
        .values(id=1, version=1)
        .on_conflict_do_update(
            index_elements=[credential_epoch.c.id],
            set_={"version": credential_epoch.c.version + 1},
        )
        .returning(credential_epoch.c.version)
    )
    value = int(conn.execute(stmt).scalar_one())
    path = _sqlite_path(conn.engine.url.database) if conn.dialect.name == "sqlite" else None
    if path is not None:  # a change is rare: the file is opened for it alone
        with Signal(path) as written:
            written.raise_to(value)
    return value


def _sqlite_path(database: str | None) -> str | None:
    """The database file of a SQLite URL's ``database``, None for an in-memory one."""
    return None if database in (None, "", ":memory:") else database


class Signal:
    """The credential epoch as last written beside a SQLite file (see the module's docstring):
    an 8-byte little-endian integer, read through a shared memory map, raised under a lock."""

    def __init__(self, database: str) -> None:
        self.path = f"{database}-credentials"
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            with _locked(fd):
                if os.fstat(fd).st_size < 8:
                    os.ftruncate(fd, 8)
            self._map = mmap.mmap(fd, 8)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def close(self) -> None:
        self._map.close()
        os.close(self._fd)

    def __enter__(self) -> Signal:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def value(self) -> int:
        value: int = struct.unpack_from("<q", self._map)[0]
        return value

    def raise_to(self, value: int) -> None:
        """Set the value to ``value`` unless it is already as high (never lowered)."""
        with _locked(self._fd):
            if value > self.value():
                struct.pack_into("<q", self._map, 0, value)


class _locked:
    """``flock`` held on ``fd`` for the block (writers only: readers never wait)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def __enter__(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *_exc: object) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)


def read(conn: Connection) -> int:
    """The counter as ``conn`` sees it (0 before the first change)."""
    row = _CURRENT.run(conn).fetchone()
    return 0 if row is None else int(row[0])


class Epoch:
    """Reads the counter of one database cheaply (see the module's docstring).

    PostgreSQL: at most :data:`PG_CONNECTIONS` autocommit connections per process, shared by
    its threads (a read holds one for one round trip)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._idle: list[Any] = []
        self._open = 0
        self._cond = threading.Condition()
        self._conninfo: str | None = None
        #: SQLite file: each thread's connection (``_local.conn``, opened at ``_local.era``)
        self._path: str | None = None
        self._local = threading.local()
        self._era = 0
        self._sqlite: list[sqlite3.Connection] = []
        if db.is_postgres:
            self._conninfo = db.engine.url.set(drivername="postgresql").render_as_string(
                hide_password=False
            )
        elif db.is_sqlite:
            self._path = _sqlite_path(db.engine.url.database)
        #: SQLite file: the signal beside it and the table's value it was last seen to agree with
        self._signal: Signal | None = None
        self._agreed: int | None = None
        event.listen(db.engine, "engine_disposed", lambda _engine: self.close())

    def current(self) -> int:
        """The counter now (a committed change of another connection is seen)."""
        if self._path is not None:
            mapped = self._signal
            if mapped is None:
                with self._cond:
                    mapped = self._signal
                    if mapped is None:
                        mapped = self._signal = Signal(self._path)
            signalled = mapped.value()
            if signalled == self._agreed:
                return signalled
            local = self._local
            if getattr(local, "era", -1) != self._era:
                self._open_sqlite()
            row = local.conn.execute(CURRENT_SQL).fetchone()
            value = 0 if row is None else int(row[0])
            if value == signalled:
                self._agreed = value
            elif value > signalled:  # a file made after the table's last change: catch it up
                mapped.raise_to(value)
            return value
        if self._conninfo is not None:
            return self._current_pg()
        with self._db.hot_read() as conn:  # in-memory SQLite: its one connection
            return read(conn)

    def _open_sqlite(self) -> None:
        conn = sqlite3.connect(
            self._path or "", timeout=5.0, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA query_only = ON")
        with self._cond:
            self._sqlite.append(conn)
            self._local.conn, self._local.era = conn, self._era

    def _current_pg(self) -> int:
        # libpq's own calls on a statement prepared once per connection: psycopg's cursor
        # machinery cost three times the rest of the check.
        import psycopg
        from psycopg import pq

        conn = self._take()
        try:
            if conn is None:
                conn = psycopg.connect(self._conninfo or "", autocommit=True)
                prepared = conn.pgconn.prepare(_PG_NAME, CURRENT_SQL.encode())
                if prepared.status != pq.ExecStatus.COMMAND_OK:
                    raise psycopg.errors.error_from_result(prepared)
            result = conn.pgconn.exec_prepared(_PG_NAME, [])
            if result.status != pq.ExecStatus.TUPLES_OK:
                raise psycopg.errors.error_from_result(result)
        except BaseException:
            if conn is not None:
                with suppress(Exception):  # a broken connection: nothing more to close
                    conn.close()
            self._give(None)
            raise
        self._give(conn)
        value = result.get_value(0, 0) if result.ntuples else None
        return 0 if value is None else int(value)

    def _take(self) -> Any:
        """An idle connection, or None when the caller may open one (waits while
        :data:`PG_CONNECTIONS` are in use)."""
        with self._cond:
            while not self._idle and self._open >= PG_CONNECTIONS:
                self._cond.wait()
            if self._idle:
                return self._idle.pop()
            self._open += 1
            return None

    def _give(self, conn: Any) -> None:
        """Return a connection taken (None: it was closed or never opened)."""
        with self._cond:
            if conn is None:
                self._open -= 1
            else:
                self._idle.append(conn)
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            conns, self._idle = self._idle, []
            self._open -= len(conns)
            lite, self._sqlite = self._sqlite, []
            mapped, self._signal, self._agreed = self._signal, None, None
            self._era += 1  # every thread opens a new SQLite connection on its next read
        if mapped is not None:
            mapped.close()
        for conn in [*conns, *lite]:
            with suppress(Exception):  # already closed or broken
                conn.close()


_epochs: PerDatabase[Epoch] = PerDatabase()


def epoch(db: Database) -> Epoch:
    """The :class:`Epoch` reader of ``db`` (one per database object, i.e. per process)."""
    return _epochs.get(db, Epoch, db)
