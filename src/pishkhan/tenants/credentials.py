"""The credential epoch: one counter that says when per-process credential caches are stale.

Every change of a customer's credentials or status (creation, a rotation, a disable or enable,
an update) increments ``credential_epoch.version`` in its own transaction (:func:`bump`), and a
credential cache records the value it was loaded at. Before it trusts an entry, a process reads
the current value (:meth:`Epoch.current`) and reloads when it moved: a rotation or a disable
made through any process is seen by the very next request at every process, with no interval
during which an old secret or token still works.

Reading the value is one indexed single-row read outside any transaction: on a SQLite file on a
read-only connection each thread keeps for it (sqlite3 itself, autocommit: an in-process read of
a few microseconds, which SQLAlchemy's connection machinery would double); on PostgreSQL one
round trip on one of a few autocommit connections the process keeps (the pay, PostgreSQL's hot
path, checks the value inside its own statement instead; see ``pishkhan.providers.payman.pgpay``).

The value is also a source of credential generations: a Payman client's ``generation`` is the
value its rotation took, so generations only grow and are never given twice (the counter is kept
on a sandbox reset, which empties the customers).
"""

from __future__ import annotations

import sqlite3
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
    return int(conn.execute(stmt).scalar_one())


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
        elif db.is_sqlite and db.engine.url.database not in (None, "", ":memory:"):
            self._path = db.engine.url.database
        event.listen(db.engine, "engine_disposed", lambda _engine: self.close())

    def current(self) -> int:
        """The counter now (a committed change of another connection is seen)."""
        if self._path is not None:
            local = self._local
            if getattr(local, "era", -1) != self._era:
                self._open_sqlite()
            row = local.conn.execute(CURRENT_SQL).fetchone()
            return 0 if row is None else int(row[0])
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
            self._era += 1  # every thread opens a new SQLite connection on its next read
        for conn in [*conns, *lite]:
            with suppress(Exception):  # already closed or broken
                conn.close()


_epochs: PerDatabase[Epoch] = PerDatabase()


def epoch(db: Database) -> Epoch:
    """The :class:`Epoch` reader of ``db`` (one per database object, i.e. per process)."""
    return _epochs.get(db, Epoch, db)
