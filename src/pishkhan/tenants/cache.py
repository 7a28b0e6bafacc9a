"""The credential cache: who is calling, per process, as current as the database.

Every surface finds its callers here, each through a :class:`Lookup` of its own (a name and a
loader): Jibit by customer id and by API key, Pendar by customer code, Payman by client id,
App-Key hash and customer id. What a loader found, and what it did not, is kept in the current
:class:`Generation` of the process's :class:`CredentialCache`; a generation belongs to one value
of the credential epoch (:mod:`pishkhan.tenants.credentials`). Every change of a customer, its
credentials, its allowlist, its price rules or its surface settings bumps the epoch in its own
transaction; a lookup that finds the epoch moved starts a new, empty generation, so nothing
loaded before a change is answered after it.

The guarantee: with ``PISHKHAN_CREDENTIAL_REFRESH=0`` (the default) the epoch is read before
every lookup (:meth:`CredentialCache.fresh`), so a change the control plane has answered (a
rotation, a disable, an allowlist, a price, a grant) is seen by the next request at every
process of the deployment, on every surface. With an interval ``s > 0`` a process reads the
epoch at most once per ``s`` seconds, and Jibit and Pendar may answer from entries up to ``s``
seconds old; Payman asks with ``max_age=0`` and stays immediate whatever the setting.

The read is one indexed single-row statement (on SQLite a few microseconds on the thread's
kept connection; on PostgreSQL one round trip on a connection kept for it). A loader reads the
epoch again on its own connection before its rows, so an entry is never older than the
generation it is kept in; an entry loaded while the epoch moved is answered once and not kept.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar, cast

from sqlalchemy.engine import Connection

from pishkhan.core.caches import PerDatabase, remember
from pishkhan.core.db import Database
from pishkhan.tenants import credentials

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

#: Entries one generation keeps per lookup (emptied when full: keys no longer repeat).
LIMIT: Final = 10_000
_MISSING: Final = object()


class CacheMiss(LookupError):
    """The cache cannot answer without reading the database."""


class StaleCredentials(Exception):
    """The credential epoch moved since a value was loaded: authenticate again."""


@dataclass(frozen=True, eq=False)
class Lookup(Generic[K, V]):
    """One way a surface finds its callers: ``load(conn, key, epoch)`` reads the value of
    ``key`` (None: there is none) on ``conn``, where the credential epoch read ``epoch``."""

    name: str
    load: Callable[[Connection, K, int], V | None]


class Generation:
    """The values loaded at one value of the credential epoch."""

    __slots__ = ("_cache", "_maps", "epoch")

    def __init__(self, cache: CredentialCache, epoch: int) -> None:
        self._cache = cache
        self._maps: dict[Lookup[Any, Any], dict[Any, Any]] = {}
        #: the credential epoch this generation's values were loaded at (-1: never read)
        self.epoch = epoch

    def get(self, lookup: Lookup[K, V], key: K) -> V | None:
        """The value of ``key``, loaded on the first ask in this generation."""
        entries = self._maps.get(lookup)
        if entries is not None:
            found = entries.get(key, _MISSING)
            if found is not _MISSING:
                return cast("V | None", found)
        return self._cache.load(self, lookup, key)

    def cached(self, lookup: Lookup[K, V], key: K) -> V:
        """The value of ``key`` as kept, reading nothing: :class:`CacheMiss` when this
        generation holds none (never asked, or asked and found nothing: a refusal is only
        answered after a fresh look). The value may be stale: the caller checks its epoch where
        it writes (the PostgreSQL pay's statement)."""
        entries = self._maps.get(lookup)
        found = None if entries is None else entries.get(key)
        if found is None:
            raise CacheMiss(lookup.name)
        return cast("V", found)

    def keep(self, lookup: Lookup[K, V], key: K, value: V | None) -> None:
        entries = self._maps.get(lookup)
        if entries is None:
            entries = self._maps.setdefault(lookup, {})
        remember(entries, key, value, LIMIT)


class CredentialCache:
    """The credential cache of one database in this process (see the module's docstring)."""

    def __init__(self, db: Database, refresh: float) -> None:
        self._db = db
        self._epoch = credentials.epoch(db)
        #: seconds between two reads of the credential epoch (0: before every lookup)
        self.refresh = refresh
        self._generation = Generation(self, -1)
        self._checked = -float("inf")
        self._lock = threading.Lock()

    def fresh(self, max_age: float | None = None) -> Generation:
        """The generation to answer from: the epoch is read first unless this process read it
        less than ``max_age`` seconds ago (default: the refresh setting; 0: read it now)."""
        age = self.refresh if max_age is None else max_age
        now = time.monotonic()
        if age > 0 and now - self._checked < age:
            return self._generation
        current = self._epoch.current()
        self._checked = now
        generation = self._generation
        if current != generation.epoch:
            with self._lock:
                generation = self._generation
                if current != generation.epoch:
                    generation = self._generation = Generation(self, current)
        return generation

    def find(self, lookup: Lookup[K, V], key: K, max_age: float | None = None) -> V | None:
        """``fresh(max_age).get(lookup, key)``."""
        return self.fresh(max_age).get(lookup, key)

    def latest(self) -> Generation:
        """The generation as it stands, reading nothing (for :meth:`Generation.cached`)."""
        return self._generation

    def check(self, epoch: int) -> None:
        """:class:`StaleCredentials` unless the credential epoch is still ``epoch`` (one read)."""
        if self._epoch.current() != epoch:
            raise StaleCredentials(epoch)

    def load(self, generation: Generation, lookup: Lookup[K, V], key: K) -> V | None:
        """Read ``key`` through ``lookup``; kept in ``generation`` when the epoch read with it
        is the generation's (otherwise a change committed meanwhile: answered, not kept)."""
        with self._db.read() as conn:
            # The epoch first: what follows is at least as new as the value read.
            epoch = credentials.read(conn)
            value = lookup.load(conn, key, epoch)
        if epoch == generation.epoch:
            with self._lock:
                generation.keep(lookup, key, value)
        return value


_caches: PerDatabase[CredentialCache] = PerDatabase()


def of(db: Database, refresh: float = 0.0) -> CredentialCache:
    """The credential cache of ``db`` in this process (made by the first caller, with its
    ``refresh``: ``settings.credential_refresh``)."""
    return _caches.get(db, CredentialCache, db, refresh)
