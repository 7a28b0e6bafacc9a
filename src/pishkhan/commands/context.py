"""What every subcommand shares: settings, an opened and migrated runtime, output helpers."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from pishkhan.runtime import Runtime
from pishkhan.settings import Settings


class CommandError(Exception):
    """A user error: printed as one line on stderr, exit status 2."""


def load_settings() -> Settings:
    """The settings from the environment (the secrets come with :func:`open_runtime`)."""
    return Settings.from_env()


@contextmanager
def open_runtime(
    settings: Settings | None = None, *, migrate: bool = True, secrets: bool = True
) -> Iterator[Runtime]:
    """The runtime for one command, its database migrated to head and its secrets the
    deployment's (:func:`pishkhan.core.deployment.establish`: refuses when they are not).
    ``secrets=False`` for the commands that use none (``db upgrade``, ``db current``)."""
    from pishkhan.core import deployment
    from pishkhan.core import migrate as migrations

    runtime = Runtime.open(settings or load_settings(), refresh_seconds=0.0)
    try:
        if migrate:
            migrations.upgrade(runtime.db)
        if secrets:
            deployment.establish(runtime)
        yield runtime
    finally:
        runtime.close()


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def print_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> None:
    """A plain aligned table for people (use --json for scripts)."""
    if not rows:
        print("(none)")
        return
    cols = list(columns or rows[0].keys())
    cells = [[_cell(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    print("  ".join(c.upper().ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip())
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def print_mapping(data: dict[str, Any], indent: int = 0) -> None:
    """``key  value`` lines, nested mappings indented. Every value is printed whole: a
    multi-line one (a PEM key) follows its ``key:`` line as it is, flush left, so it can be
    copied into a file and read by any PEM reader."""
    pad = " " * indent
    width = max((len(k) for k in data), default=0)
    for key, value in data.items():
        if isinstance(value, dict):
            print(f"{pad}{key}:")
            print_mapping(value, indent + 2)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            print(f"{pad}{key}:")
            for item in value:
                print(f"{pad}  - " + ", ".join(f"{k}={_cell(v)}" for k, v in item.items()))
        else:
            text = _text(value).strip("\n")
            if "\n" in text:
                print(f"{pad}{key}:")
                print(text)
            else:
                print(f"{pad}{key.ljust(width)}  {text}")


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value) or "-"
    return str(value)


def _cell(value: Any) -> str:
    """One line of a table cell (tables show no multi-line values: no secret is shown in one)."""
    text = _text(value)
    return text if "\n" not in text else text.splitlines()[0] + " ..."


def add_json_flag(parser: Any) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable JSON output")
