"""core.caches: the bounded dict cache and the per-database object."""

from __future__ import annotations

import threading
from pathlib import Path

from pishkhan.core.caches import PerDatabase, remember
from pishkhan.core.db import Database


def test_remember_empties_a_full_cache_first() -> None:
    cache: dict[str, int] = {}
    for i in range(3):
        assert remember(cache, f"k{i}", i, 3) == i
    assert cache == {"k0": 0, "k1": 1, "k2": 2}
    remember(cache, "k3", 3, 3)
    assert cache == {"k3": 3}


def test_per_database_makes_one_object_per_database(tmp_path: Path) -> None:
    first, second = Database(f"sqlite:///{tmp_path}/a.db"), Database(f"sqlite:///{tmp_path}/b.db")
    made: list[str] = []
    objects: PerDatabase[object] = PerDatabase()

    def make(name: str) -> object:
        made.append(name)
        return object()

    found: list[object] = []
    threads = [
        threading.Thread(target=lambda: found.append(objects.get(first, make, "a")))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert made == ["a"] and len({id(o) for o in found}) == 1
    assert objects.peek(second) is None
    other = objects.get(second, make, "b")
    assert other is not found[0] and objects.peek(second) is other
    objects.forget(first)
    assert objects.peek(first) is None
    assert objects.get(first, make, "a") is not found[0]
    assert made == ["a", "b", "a"]
    first.dispose()
    second.dispose()
