"""Two small building blocks of per-process caches.

- :func:`remember`: a dict cache bounded by emptying it when full (its entries are cheap to
  compute again; a full cache means keys no longer repeat, e.g. many tokens or customers).
- :class:`PerDatabase`: one object per :class:`~pishkhan.core.db.Database`, made on first use
  (one per process in production, one per test), gone with the database object.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Generic, ParamSpec, TypeVar

from pishkhan.core.db import Database

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")
P = ParamSpec("P")


def remember(cache: dict[K, V], key: K, value: V, limit: int) -> V:
    """Store ``value`` under ``key``, emptying ``cache`` first when it holds ``limit``
    entries; returns ``value``."""
    if len(cache) >= limit:
        cache.clear()
    cache[key] = value
    return value


class PerDatabase(Generic[T]):
    """One object per database, made by the first :meth:`get` (thread-safe: made once)."""

    def __init__(self) -> None:
        self._found: weakref.WeakKeyDictionary[Database, T] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def get(self, db: Database, make: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """The object of ``db``; ``make(*args, **kwargs)`` makes it the first time."""
        found = self._found.get(db)
        if found is None:
            with self._lock:
                found = self._found.get(db)
                if found is None:
                    found = self._found[db] = make(*args, **kwargs)
        return found

    def peek(self, db: Database) -> T | None:
        """The object of ``db`` if made already."""
        return self._found.get(db)

    def forget(self, db: Database) -> None:
        """Drop the object of ``db`` (the next :meth:`get` makes a new one)."""
        with self._lock:
            self._found.pop(db, None)
