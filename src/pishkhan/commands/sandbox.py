"""``pishkhan sandbox reset``, ``pishkhan clock ...``, ``pishkhan audit verify|list``."""

from __future__ import annotations

import argparse
from typing import Any

from pishkhan.commands.context import add_json_flag, open_runtime, print_json, print_mapping
from pishkhan.control import sandbox_ops


def register(sub: Any) -> None:
    s = sub.add_parser("sandbox", help="sandbox controls")
    ss = s.add_subparsers(dest="sandbox_command", required=True)
    r = ss.add_parser(
        "reset", help="empty every table but the audit log, reseed, recreate the demo customer"
    )
    r.add_argument("--no-world", action="store_true", help="do not seed the default world")
    r.add_argument("--people", type=int)
    r.add_argument("--seed", type=int, default=1)
    add_json_flag(r)
    r.set_defaults(handler=reset)

    c = sub.add_parser("clock", help="the sandbox clock (Asia/Tehran)")
    cs = c.add_subparsers(dest="clock_command", required=True)
    f = cs.add_parser(
        "freeze", help="freeze at an ISO-8601 instant (no offset: Tehran time); default now"
    )
    f.add_argument("at", nargs="?")
    add_json_flag(f)
    f.set_defaults(handler=clock_freeze)
    o = cs.add_parser("offset", help="run at an offset from real time (seconds, may be negative)")
    o.add_argument("seconds", type=float)
    add_json_flag(o)
    o.set_defaults(handler=clock_offset)
    a = cs.add_parser("advance", help="move the clock by some seconds, keeping its mode")
    a.add_argument("seconds", type=float)
    add_json_flag(a)
    a.set_defaults(handler=clock_advance)
    cl = cs.add_parser("clear", help="back to real time")
    add_json_flag(cl)
    cl.set_defaults(handler=clock_clear)
    sh = cs.add_parser("show", help="show the clock")
    add_json_flag(sh)
    sh.set_defaults(handler=clock_show)

    au = sub.add_parser("audit", help="the hash-chained audit log")
    aus = au.add_subparsers(dest="audit_command", required=True)
    v = aus.add_parser("verify", help="verify the chain; exit 1 if it was tampered with")
    add_json_flag(v)
    v.set_defaults(handler=audit_verify)


def _out(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(data)
    else:
        print_mapping(data)


def reset(args: argparse.Namespace) -> int:
    from pishkhan.commands.server import print_credentials
    from pishkhan.core import bootstrap

    with open_runtime() as rt:
        result = bootstrap.reset(
            rt, seed_world=not args.no_world, people=args.people, seed=args.seed
        )
        path = str(bootstrap.demo_credentials_path(rt))
    if args.json:
        print_json(result)
    else:
        print(f"sandbox reset; world seeded: {result['world_seeded']}")
        if result["demo"]:
            print_credentials(result["demo"], path)
    return 0


def _clock(fn: Any, args: argparse.Namespace, *extra: Any) -> int:
    with open_runtime() as rt:
        view = fn(rt, *extra)
    _out(view, args.json)
    return 0


def clock_freeze(args: argparse.Namespace) -> int:
    return _clock(sandbox_ops.freeze, args, args.at)


def clock_offset(args: argparse.Namespace) -> int:
    return _clock(sandbox_ops.offset, args, args.seconds)


def clock_advance(args: argparse.Namespace) -> int:
    return _clock(sandbox_ops.advance, args, args.seconds)


def clock_clear(args: argparse.Namespace) -> int:
    return _clock(sandbox_ops.clear, args)


def clock_show(args: argparse.Namespace) -> int:
    return _clock(sandbox_ops.clock_view, args)


def audit_verify(args: argparse.Namespace) -> int:
    with open_runtime() as rt:
        result = sandbox_ops.verify_audit(rt)
    if args.json:
        print_json(result)
    elif result["ok"]:
        print(f"audit log OK: {result['entries']} entries, head {result['head']}")
    else:
        print(f"audit log BROKEN at entry {result['entry_id']}: {result['problem']}")
    return 0 if result["ok"] else 1
