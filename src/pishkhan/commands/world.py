"""``pishkhan world seed|fixtures|stats|list|add|show|update|delete|import|export``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from pishkhan.commands.context import (
    CommandError,
    add_json_flag,
    open_runtime,
    print_json,
    print_mapping,
    print_table,
)


def _kinds() -> tuple[str, ...]:
    from pishkhan.world.service import KIND_NAMES

    return KIND_NAMES


def register(sub: Any) -> None:
    kinds = _kinds()
    p = sub.add_parser("world", help="the reference registry the inquiries answer from")
    ws = p.add_subparsers(dest="world_command", required=True)

    s = ws.add_parser("seed", help="replace the world with the fixtures plus a generated one")
    s.add_argument("--people", type=int, default=3000, help="generated people (default 3000)")
    s.add_argument("--seed", type=int, default=1, help="random seed (same seed, same world)")
    add_json_flag(s)
    s.set_defaults(handler=seed)

    f = ws.add_parser("fixtures", help="the documented magic values of every seeded world")
    add_json_flag(f)
    f.set_defaults(handler=fixtures)

    st = ws.add_parser("stats", help="counts and breakdowns")
    add_json_flag(st)
    st.set_defaults(handler=stats)

    ls = ws.add_parser("list", help="list records of a kind")
    ls.add_argument("kind", choices=kinds)
    ls.add_argument("--limit", type=int, default=50)
    ls.add_argument("--offset", type=int, default=0)
    ls.add_argument(
        "--where", action="append", default=[], metavar="COLUMN=VALUE", help="filter (repeatable)"
    )
    add_json_flag(ls)
    ls.set_defaults(handler=list_)

    for name, helptext in (
        ("add", "create a record from JSON (argument, @file or - for stdin) and/or FIELD=VALUE"),
        ("update", "change some fields of a record: JSON and/or FIELD=VALUE"),
    ):
        a = ws.add_parser(name, help=helptext)
        a.add_argument("kind", choices=kinds)
        if name == "update":
            a.add_argument("key")
        a.add_argument(
            "fields",
            nargs="*",
            help='FIELD=VALUE pairs (VALUE parsed as JSON when it is: true, 12, ["a"]), '
            "or one JSON object / @file.json / -",
        )
        add_json_flag(a)
        a.set_defaults(handler=add if name == "add" else update)

    sh = ws.add_parser("show", help="show one record")
    sh.add_argument("kind", choices=kinds)
    sh.add_argument("key")
    add_json_flag(sh)
    sh.set_defaults(handler=show)

    d = ws.add_parser("delete", help="delete one record")
    d.add_argument("kind", choices=kinds)
    d.add_argument("key")
    add_json_flag(d)
    d.set_defaults(handler=delete)

    im = ws.add_parser("import", help="create or replace records from a JSON Lines file (or -)")
    im.add_argument("file")
    add_json_flag(im)
    im.set_defaults(handler=import_)

    ex = ws.add_parser("export", help="write the world as JSON Lines to FILE (or - for stdout)")
    ex.add_argument("file")
    ex.add_argument("--kind", action="append", choices=kinds, help="only these kinds (repeatable)")
    ex.set_defaults(handler=export)


def _audit(rt: Any, conn: Any, action: str, subject: str, data: dict[str, Any]) -> None:
    rt.audit.append(conn, actor="cli", action=action, subject=subject, data=data)


def seed(args: argparse.Namespace) -> int:
    from pishkhan.world.generator import seed_world

    if args.people < 0:
        raise CommandError("--people must not be negative")
    with open_runtime() as rt:
        started = time.perf_counter()
        with rt.db.write() as conn:
            counts = seed_world(conn, args.people, args.seed)
            _audit(rt, conn, "world.seed", "world", {"people": args.people, "seed": args.seed})
        seconds = round(time.perf_counter() - started, 2)
    result = {"people": args.people, "seed": args.seed, "seconds": seconds, "rows": counts}
    if args.json:
        print_json(result)
    else:
        print(f"world seeded: {args.people} people (seed {args.seed}) in {seconds} s")
        print_mapping(counts, indent=2)
    return 0


def fixtures(args: argparse.Namespace) -> int:
    from pishkhan.world.fixtures import CATALOGUE

    if args.json:
        print_json([f.to_json() for f in CATALOGUE])
        return 0
    rows = [
        {"name": f.name, "kind": f.kind, "key": f.key, "triggers": "; ".join(f.triggers)}
        for f in CATALOGUE
    ]
    print_table(rows, ["name", "key", "triggers"])
    return 0


def stats(args: argparse.Namespace) -> int:
    from pishkhan.world import service

    with open_runtime() as rt, rt.db.read() as conn:
        data = service.stats(conn)
    if args.json:
        print_json(data)
    else:
        print_mapping(data)
    return 0


def _parse_filters(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        column, sep, value = item.partition("=")
        if not sep or not column:
            raise CommandError(f"--where expects COLUMN=VALUE, got {item!r}")
        out[column.strip()] = value
    return out


def list_(args: argparse.Namespace) -> int:
    from pishkhan.world import service

    filters = _parse_filters(args.where)
    with open_runtime() as rt, rt.db.read() as conn:
        records = service.list_records(
            conn, args.kind, filters=filters, limit=args.limit, offset=args.offset
        )
        total = service.count(conn, args.kind)
    items = [r.to_json() for r in records]
    if args.json:
        print_json({"kind": args.kind, "total": total, "records": items})
        return 0
    if items:
        columns = [c for c in items[0] if c != "kind"][:7]
        print_table(items, columns)
    else:
        print("(none)")
    print(f"{len(items)} of {total} {args.kind} record(s)")
    return 0


def _fields(items: list[str]) -> dict[str, Any]:
    """One JSON object (inline, @file or -) and/or FIELD=VALUE pairs."""
    data: dict[str, Any] = {}
    for item in items:
        if item == "-" or item.startswith("@") or item.lstrip().startswith("{"):
            if item == "-":
                text = sys.stdin.read()
            elif item.startswith("@"):
                try:
                    text = Path(item[1:]).read_text(encoding="utf-8")
                except OSError as exc:
                    raise CommandError(f"cannot read {item[1:]}: {exc.strerror}") from None
            else:
                text = item
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                raise CommandError(f"not a JSON object: {exc}") from None
            if not isinstance(obj, dict):
                raise CommandError("expected a JSON object")
            data.update(obj)
            continue
        field, sep, value = item.partition("=")
        if not sep or not field:
            raise CommandError(f"expected FIELD=VALUE or a JSON object, got {item!r}")
        data[field.strip()] = _value(value)
    return data


def _value(text: str) -> Any:
    if text in ("null", "true", "false") or text[:1] in ("[", "{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    if text.lstrip("-").isdigit() and not (text.startswith("0") and len(text) > 1):
        # Plain integers (balance=1000); identifiers with leading zeros stay strings.
        return int(text)
    return text


def _print_record(record: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(record)
    else:
        print_mapping(record)


def add(args: argparse.Namespace) -> int:
    from pishkhan.world import service

    data = _fields(args.fields)
    if not data:
        raise CommandError("nothing to add: give FIELD=VALUE pairs or a JSON object")
    with open_runtime() as rt, rt.db.write() as conn:
        record = service.create(conn, args.kind, data)
        _audit(rt, conn, f"world.{record.kind}.create", f"{record.kind}:{record.key}", {})
    _print_record(record.to_json(), args.json)
    return 0


def show(args: argparse.Namespace) -> int:
    from pishkhan.world import service

    with open_runtime() as rt, rt.db.read() as conn:
        record = service.get(conn, args.kind, args.key)
    _print_record(record.to_json(), args.json)
    return 0


def update(args: argparse.Namespace) -> int:
    from pishkhan.world import service

    patch = _fields(args.fields)
    if not patch:
        raise CommandError("nothing to update: give FIELD=VALUE pairs or a JSON object")
    with open_runtime() as rt, rt.db.write() as conn:
        record = service.update(conn, args.kind, args.key, patch)
        _audit(
            rt,
            conn,
            f"world.{record.kind}.update",
            f"{record.kind}:{record.key}",
            {"fields": sorted(patch)},
        )
    _print_record(record.to_json(), args.json)
    return 0


def delete(args: argparse.Namespace) -> int:
    from pishkhan.world import service

    with open_runtime() as rt, rt.db.write() as conn:
        record = service.delete_record(conn, args.kind, args.key)
        _audit(rt, conn, f"world.{record.kind}.delete", f"{record.kind}:{record.key}", {})
    if args.json:
        print_json({"deleted": record.to_json()})
    else:
        print(f"deleted {record.kind} {record.key}")
    return 0


def import_(args: argparse.Namespace) -> int:
    from pishkhan.world import service

    if args.file == "-":
        stream: Any = sys.stdin.buffer
    else:
        try:
            stream = open(args.file, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise CommandError(f"cannot read {args.file}: {exc.strerror}") from None
    try:
        with open_runtime() as rt, rt.db.write() as conn:
            result = service.import_jsonl(conn, stream)
            _audit(rt, conn, "world.import", "world", {"result": result})
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    if args.json:
        print_json({"imported": result})
    else:
        rows = [{"kind": k, **v} for k, v in result.items()]
        print_table(rows, ["kind", "created", "updated"])
    return 0


def export(args: argparse.Namespace) -> int:
    from pishkhan.world import service

    out: Any
    if args.file == "-":
        out = sys.stdout.buffer
    else:
        try:
            out = open(args.file, "wb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise CommandError(f"cannot write {args.file}: {exc.strerror}") from None
    n = 0
    try:
        with open_runtime() as rt, rt.db.read() as conn:
            for line in service.export_jsonl(conn, args.kind):
                out.write(line)
                n += 1
    finally:
        if out is sys.stdout.buffer:
            out.flush()
        else:
            out.close()
    if args.file != "-":
        print(f"exported {n} record(s) to {args.file}", file=sys.stderr)
    return 0
