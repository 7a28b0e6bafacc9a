"""Benchmark: seed a world of N people (plus the fixtures) into a fresh SQLite file.

Usage: ``.venv/bin/python bench/seed_world.py --people 100000 [--seed 1] [--url URL]``.
Prints one JSON object: ``{"people", "seed", "seconds", "generate_seconds", "rows": {...}}``.
``seconds`` is the wall time of the whole seed (generation + inserts + commit) on an
already-migrated, empty database (the migration is not timed); ``cpu_seconds`` the process's
CPU time over the same span (less sensitive to other load on the machine, which
``load_average_1m`` reports). Target: 100,000 people in at most 30 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import orjson

from pishkhan.core.db import Database
from pishkhan.core.migrate import upgrade
from pishkhan.world.generator import WorldGenerator, seed_world


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--url", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--generate-only", action="store_true", help="time generation alone")
    args = parser.parse_args(argv)

    if args.generate_only:
        t0 = time.perf_counter()
        rows_generated = 0
        for batch in WorldGenerator(args.people, args.seed).batches():
            rows_generated += sum(len(v) for v in batch.values())
        result = {
            "people": args.people,
            "generate_seconds": round(time.perf_counter() - t0, 2),
            "total_rows": rows_generated,
        }
        sys.stdout.write(orjson.dumps(result).decode() + "\n")
        return 0

    with tempfile.TemporaryDirectory(prefix="pishkhan-bench-") as tmp:
        url = args.url or f"sqlite:///{Path(tmp) / 'world.db'}"
        db = Database(url)
        upgrade(db)
        t0 = time.perf_counter()
        c0 = time.process_time()
        with db.write() as conn:
            counts = seed_world(conn, args.people, args.seed)
        seconds = time.perf_counter() - t0
        cpu_seconds = time.process_time() - c0
        db.dispose()
    result = {
        "people": args.people,
        "seed": args.seed,
        "database": "sqlite" if args.url is None else Database(url).dialect,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "rows": counts,
        "total_rows": sum(counts.values()),
    }
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
