"""The database: one SQLAlchemy engine, a shared ``MetaData``, one transaction per state change.

Every table of every package is declared with SQLAlchemy Core on :data:`metadata`; Alembic
migrations under ``pishkhan/migrations`` create them. SQLite (the embedded default) runs in WAL
mode with ``synchronous=NORMAL``; write transactions there start with ``BEGIN IMMEDIATE`` so
that two writers never deadlock on a lock upgrade. PostgreSQL is used through psycopg 3.

Hot paths (an inquiry served and billed in one short transaction) use two helpers that skip
per-call SQLAlchemy work: :meth:`Database.hot_write` (SQLite: a connection kept per thread, so no
pool checkout per call) and :class:`DriverSQL` (pre-written SQL run on the DBAPI cursor).
"""

from __future__ import annotations

import functools
import logging
import re
import sqlite3
import threading
from collections.abc import Hashable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, NamedTuple

from sqlalchemy import JSON, BigInteger, Integer, MetaData, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.pool import NullPool

from pishkhan.core.files import private_database_file

#: SQLite busy timeout of the connections :meth:`Database.hot_write` keeps: such transactions run
#: inline on the event loop, so they give up quickly on a database locked by another process
#: (:func:`is_busy`) and the caller retries them in the threadpool on an ordinary connection
#: (busy timeout 30 s).
HOT_BUSY_TIMEOUT_MS: Final = 20
#: How often the WAL is checkpointed in the background when hot connections are in use. A
#: checkpoint writes each page changed since the last once, so pages that every transaction
#: changes (the tails of the append-only tables and indexes, the usage and wallet rows) cost
#: less the rarer it runs: every 2 s rather than every 0.5 s, a Pendar issuance cost 69-75 µs
#: less CPU (median of the pairs, side by side in both orders, the checkpoint counted for the
#: server that caused it). The log does not grow for it: its size is bounded by
#: :data:`WAL_RESET_BYTES` either way.
CHECKPOINT_INTERVAL_S: Final = 2.0
#: Size of the log in use past which the WAL is started over (see
#: ``Database._checkpoint_loop``): under a steady write load the passive checkpoint never
#: catches up with the writers, and without a restart the WAL file would grow for as long as the
#: load lasts.
WAL_RESET_BYTES: Final = 64 * 1024 * 1024
#: How long the blocking (TRUNCATE) checkpoint, the fallback, waits for the writer's lock and
#: for readers, at most.
WAL_RESET_WAIT_S: Final = 1.0
#: Checkpoint periods the log may stay past :data:`WAL_RESET_BYTES` while hot writers are asked
#: to restart it, before the blocking checkpoint does.
WAL_RESTART_TRIES: Final = 3

log = logging.getLogger("pishkhan.db")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# A 64-bit integer primary key that SQLite still treats as its rowid alias.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")
# JSON stored as JSONB on PostgreSQL.
JSONType = (
    JSON().with_variant(postgresql.JSONB(), "postgresql").with_variant(sqlite.JSON(), "sqlite")
)


def normalize_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use the psycopg 3 driver for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class Database:
    """An engine plus the transaction helpers every service uses."""

    def __init__(self, url: str, *, pool_size: int = 10, echo: bool = False) -> None:
        self.url = normalize_url(url)
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.dialect == "sqlite":
            database = parsed.database or ""
            if database and database != ":memory:":
                # 0600, and so its -wal and -shm files (SQLite gives them the file's mode).
                private_database_file(Path(database))
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
            if database in ("", ":memory:"):
                kwargs["poolclass"] = NullPool
            else:
                kwargs["pool_size"] = pool_size
                kwargs["max_overflow"] = pool_size
        else:
            kwargs["pool_size"] = pool_size
            kwargs["max_overflow"] = pool_size
            # No pre-ping: it costs a round trip per checkout on every hot path; a connection
            # found dead raises, is invalidated by the pool, and the next checkout replaces it.
            kwargs["pool_recycle"] = 1800
        self.engine: Engine = create_engine(self.url, **kwargs)
        self._memory = self.dialect == "sqlite" and parsed.database in (None, "", ":memory:")
        self._local = threading.local()
        self._hot: list[Connection] = []
        self._hot_lock = threading.Lock()
        self._path = parsed.database or ""
        self._checkpointer: threading.Thread | None = None
        self._stop = threading.Event()
        self.wal_reset_bytes = WAL_RESET_BYTES
        #: Seconds between two background checkpoints (tests shorten it).
        self.checkpoint_interval_s = CHECKPOINT_INTERVAL_S
        #: WAL resets done by the background checkpoint's blocking fallback (for tests).
        self.wal_resets = 0
        #: WAL restarts the hot writers made possible (for tests).
        self.wal_restarts = 0
        #: Set by the checkpoint thread when the log is past :data:`WAL_RESET_BYTES`; the next
        #: hot writer to commit acts on it (:meth:`_let_wal_restart`).
        self.wal_restart_wanted = False
        if self.dialect == "sqlite":
            _install_sqlite_pragmas(self.engine)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One read-write transaction: committed on success, rolled back on any exception."""
        with self.engine.connect() as conn:
            if self.is_sqlite:
                conn = conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (a consistent snapshot on both databases)."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def hot_write(self) -> AbstractContextManager[Connection]:
        """Like :meth:`write`, for short transactions on a hot path.

        On a SQLite file the transaction runs on a connection this thread keeps (detached from
        the pool, busy timeout :data:`HOT_BUSY_TIMEOUT_MS`), which saves the pool checkout and
        return that cost more than a small transaction itself. An exception in the block rolls
        the transaction back; after a database error the connection is closed and replaced.
        Elsewhere it is :meth:`write`. The caller retries a transaction that failed with
        :func:`is_busy` on an ordinary connection in the threadpool (see the Jibit routes).
        """
        if not self.is_sqlite or self._memory:
            return self.write()
        return _HotTransaction(self, self._hot_connection())

    def hot_read(self) -> AbstractContextManager[Connection]:
        """A connection for reads of single statements on a hot path, outside any write
        transaction: on a SQLite file the connection :meth:`hot_write` keeps for this thread,
        each statement its own snapshot (use :class:`DriverSQL` only: a Core statement would
        open a transaction on it); elsewhere :meth:`read`."""
        if not self.is_sqlite or self._memory:
            return self.read()
        return nullcontext(self._hot_connection())

    def hot_mark(self, conn: Connection) -> HotMark | None:
        """A mark of this moment on ``conn`` when it is this thread's kept hot connection
        outside a transaction (a read through :meth:`hot_read` just done), else None. Costs no
        statement; see :meth:`unchanged_since`."""
        state: _HotState | None = getattr(self._local, "state", None)
        if state is None or getattr(self._local, "conn", None) is not conn:
            return None
        raw: sqlite3.Connection = driver_connection(conn)
        if raw.in_transaction:
            return None
        return HotMark(state, state.readings, raw.total_changes)

    def unchanged_since(self, conn: Connection, mark: HotMark, claim: Hashable) -> bool:
        """Inside a :meth:`hot_write` transaction on the connection ``mark`` was taken on:
        whether what was read there before the mark still holds for a reader of ``claim``
        without reading it again.

        True when, between the mark and the start of this transaction, no other connection
        committed (``PRAGMA data_version``, read once per transaction and compared with the
        previous reading) and this connection wrote nothing (``total_changes`` at the mark and
        at ``BEGIN``), and no earlier caller in this transaction claimed ``claim``: the caller
        says with it that its writes in this transaction may change what a reader of ``claim``
        sees, so a second caller with the same claim reads again. The claim is taken either
        way. False whenever in doubt (another connection, a transaction the mark does not
        precede)."""
        state: _HotState | None = getattr(self._local, "state", None)
        if (
            state is None
            or state is not mark.state
            or getattr(self._local, "conn", None) is not conn
            or not state.open
        ):
            return False
        claims = state.claims
        if state.asked != state.transaction:
            raw: sqlite3.Connection = driver_connection(conn)
            version = raw.execute("PRAGMA data_version").fetchone()[0]
            state.readings += 1
            if version != state.version:
                state.version = version
                state.changed_at = state.readings
            state.asked = state.transaction
            claims.clear()
        claimed = claim in claims
        claims.add(claim)
        return (
            not claimed
            and state.changed_at <= mark.readings
            and mark.changes == state.changes_at_begin
        )

    def _hot_connection(self) -> Connection:
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is not None and not conn.closed and not conn.invalidated:
            return conn
        conn = self.engine.connect()
        conn.detach()  # closing it closes the DBAPI connection; it never returns to the pool
        conn.exec_driver_sql(f"PRAGMA busy_timeout={HOT_BUSY_TIMEOUT_MS}")
        # No checkpoint (and its fsyncs) inline after a commit: a background thread does it.
        conn.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
        conn.commit()
        self._start_checkpointer()
        conn = conn.execution_options(sqlite_begin="HOT")
        self._local.conn = conn
        self._local.state = _HotState()
        with self._hot_lock:
            self._hot.append(conn)
        return conn

    def _drop_hot(self, conn: Connection) -> None:
        if getattr(self._local, "conn", None) is conn:
            self._local.conn = None
        with self._hot_lock:
            if conn in self._hot:
                self._hot.remove(conn)
        with suppress(Exception):  # closing a broken connection: nothing more to do
            conn.close()

    def _start_checkpointer(self) -> None:
        with self._hot_lock:
            if self._checkpointer is not None and self._checkpointer.is_alive():
                return
            self._stop.clear()
            self._checkpointer = threading.Thread(
                target=self._checkpoint_loop, name="pishkhan-wal-checkpoint", daemon=True
            )
            self._checkpointer.start()

    def _checkpoint_loop(self) -> None:
        """Move the WAL into the database file every :attr:`checkpoint_interval_s` (PASSIVE:
        it never blocks a reader or a writer), off the event loop; hot connections do not
        checkpoint themselves.

        SQLite starts the WAL over when a writer begins with every frame of the log already in
        the database file and no reader in the log. Under a steady load that never happens by
        itself: a passive checkpoint takes longer than the gap between two commits. Once the
        log in use is past :data:`WAL_RESET_BYTES`, this loop asks the hot writers
        (:attr:`wal_restart_wanted`): the next one to commit copies the few frames committed
        since this checkpoint began, right after its own commit, when no other write can come
        in between (:meth:`_let_wal_restart`), and its next transaction starts the log over.
        Nothing waits for a lock. When no hot writer took the request up (an idle server, or
        writers only on ordinary connections) or the log stays too long for
        :data:`WAL_RESTART_TRIES` periods (a reader in the log), the loop falls back to a
        TRUNCATE checkpoint, which waits (up to :data:`WAL_RESET_WAIT_S`) for the writer's lock
        and for readers and empties the file; writers wait meanwhile (a hot transaction that
        gives up goes to the threadpool, as on any lock); readers do not."""
        conn: sqlite3.Connection | None = None
        frame_bytes = 0
        over = 0  # periods the log has been past the limit without a restart
        restarts = self.wal_restarts
        while not self._stop.wait(self.checkpoint_interval_s):
            try:
                if conn is None:
                    conn = sqlite3.connect(
                        self._path, isolation_level=None, timeout=WAL_RESET_WAIT_S
                    )
                    frame_bytes = conn.execute("PRAGMA page_size").fetchone()[0] + 24
                _busy, frames, _done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                if restarts != self.wal_restarts:  # a hot writer restarted the log meanwhile
                    restarts, over = self.wal_restarts, 0
                if frames * frame_bytes <= self.wal_reset_bytes:
                    over = 0
                    self.wal_restart_wanted = False
                    continue
                over += 1
                if self.wal_restart_wanted or over > WAL_RESTART_TRIES:
                    busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                    if not busy:
                        self.wal_resets += 1
                        over = 0
                    self.wal_restart_wanted = False
                else:
                    self.wal_restart_wanted = True
            except sqlite3.Error as exc:
                log.warning("WAL checkpoint failed: %s", exc)
                if conn is not None:
                    with suppress(sqlite3.Error):
                        conn.close()
                    conn = None
        if conn is not None:
            with suppress(sqlite3.Error):
                conn.close()

    def _let_wal_restart(self, raw: sqlite3.Connection) -> None:
        """Right after a hot writer's commit: checkpoint what the background checkpoint left,
        so that this connection's next write transaction starts the WAL over (see
        :meth:`_checkpoint_loop`). No write can come in between on this thread; a reader (or
        another process's writer) may still hold frames back, and the loop asks again."""
        self.wal_restart_wanted = False
        try:
            _busy, frames, done = raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error as exc:
            log.warning("WAL checkpoint failed: %s", exc)
            return
        if frames == done:
            self.wal_restarts += 1

    def dispose(self) -> None:
        self._stop.set()
        checkpointer = self._checkpointer
        if checkpointer is not None and checkpointer is not threading.current_thread():
            checkpointer.join(timeout=5)
        self._checkpointer = None
        with self._hot_lock:
            hot, self._hot = self._hot, []
        for conn in hot:
            with suppress(Exception):
                conn.close()
        self.engine.dispose()


class _HotState:
    """What :meth:`Database.unchanged_since` keeps about one kept hot connection."""

    __slots__ = (
        "asked",
        "changed_at",
        "changes_at_begin",
        "claims",
        "open",
        "readings",
        "transaction",
        "version",
    )

    def __init__(self) -> None:
        self.transaction = 0  # hot transactions begun on the connection
        self.open = False  # one of them is open now
        self.changes_at_begin = 0  # total_changes at its BEGIN
        self.asked = -1  # the transaction data_version was last read in
        self.readings = 0  # data_version readings so far
        self.version: int | None = None  # the last reading
        self.changed_at = 0  # the reading at which another connection's commit was last seen
        self.claims: set[Hashable] = set()  # claims taken in transaction ``asked``


class HotMark(NamedTuple):
    """A moment on a kept hot connection (:meth:`Database.hot_mark`)."""

    state: _HotState
    readings: int
    changes: int


class _HotTransaction:
    """One transaction of :meth:`Database.hot_write` (a plain class: cheaper than a generator).

    BEGIN and COMMIT go to the DBAPI connection: SQLAlchemy's transaction bookkeeping cost as
    much as the statements of a small transaction. Should SQLAlchemy autobegin on this
    connection (a Core statement in the block), its begin emits nothing (the "HOT" mode) and its
    commit or rollback ends the same SQLite transaction.
    """

    __slots__ = ("conn", "db", "raw", "state")

    def __init__(self, db: Database, conn: Connection) -> None:
        self.db = db
        self.conn = conn
        self.raw: sqlite3.Connection = driver_connection(conn)
        self.state: _HotState = db._local.state

    def __enter__(self) -> Connection:
        raw, state = self.raw, self.state
        try:
            raw.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.db._drop_hot(self.conn)
            raise
        state.transaction += 1
        state.changes_at_begin = raw.total_changes
        state.open = True
        return self.conn

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        conn, raw = self.conn, self.raw
        self.state.open = False
        try:
            if exc_type is None:
                if conn.in_transaction():
                    conn.commit()
                else:
                    raw.execute("COMMIT")
                if self.db.wal_restart_wanted:
                    self.db._let_wal_restart(raw)
                return
            if conn.in_transaction():
                conn.rollback()
            elif raw.in_transaction:
                raw.execute("ROLLBACK")
        except BaseException:
            self.db._drop_hot(conn)
            raise
        if isinstance(exc, sqlite3.Error | sa_exc.DBAPIError) or raw.in_transaction:
            self.db._drop_hot(conn)  # a database error: start afresh on a new connection
        # else: an application error (rolled back); the connection is kept


def is_busy(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite's "database is locked" (a transaction that may be retried)."""
    orig = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc
    return isinstance(orig, sqlite3.OperationalError) and (
        getattr(orig, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
        or "locked" in str(orig)
    )


def driver_connection(conn: Connection) -> Any:
    """The DBAPI connection (sqlite3 or psycopg) under ``conn``, inside its transaction."""
    raw: Any = conn.connection.dbapi_connection
    return raw


class DriverSQL:
    """A pre-written statement with ``:name`` parameters, run on the DBAPI connection.

    It skips SQLAlchemy's per-call execution machinery (events, result set-up), which costs
    several times a small indexed statement on SQLite. Values must already be in the driver's
    storage form (SQLite: booleans as 0/1, datetimes as :func:`sqlite_time` text, dates as
    ISO text). Rows come back as plain tuples; errors as the driver's exceptions.
    """

    __slots__ = ("pg", "sqlite", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.sqlite = text
        self.pg = re.sub(r"(?<![:\w]):([a-z_][a-z0-9_]*)", r"%(\1)s", text)

    def run(self, conn: Connection, params: Mapping[str, Any] | Sequence[Any] = ()) -> Any:
        """Execute on ``conn``'s DBAPI connection; returns the DBAPI cursor."""
        raw = driver_connection(conn)
        if conn.dialect.name == "postgresql":
            return raw.execute(self.pg, params)
        return raw.execute(self.sqlite, params)


@functools.lru_cache(maxsize=1024)
def sqlite_time(value: datetime) -> str:
    """SQLAlchemy's SQLite storage form of a datetime: naive UTC text with microseconds (an
    aware ``value`` is converted to UTC, a naive one is taken as UTC already).

    Cached: formatting costs a few microseconds, and one operation stores the same instant
    several times (its read, its row, its audit entry), as concurrent operations store the
    same whole second. Equal instants give equal text whatever their zone, so equal keys
    never disagree."""
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def _install_sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own handling is lazy).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # On the DBAPI connection directly: through exec_driver_sql this cost ~20 us a call.
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode == "HOT":  # Database.hot_write began the transaction on the DBAPI connection
            return
        statement = _BEGIN[mode]
        try:
            driver_connection(conn).execute(statement)
        except sqlite3.Error as exc:
            raise sa_exc.OperationalError(statement, None, exc) from exc


_BEGIN: Final = {mode: f"BEGIN {mode}" for mode in ("DEFERRED", "IMMEDIATE", "EXCLUSIVE")}
