"""``pishkhan paystar fault show|set|clear``: the Paystar sandbox faults."""

from __future__ import annotations

import argparse
from typing import Any

from pishkhan.commands.context import add_json_flag, open_runtime, print_json, print_mapping
from pishkhan.control import paystar as paystar_control
from pishkhan.providers.paystar import sandbox


def register(sub: Any) -> None:
    p = sub.add_parser("paystar", help="Paystar sandbox controls")
    ps = p.add_subparsers(dest="paystar_command", required=True)
    f = ps.add_parser("fault", help="upstream/server faults (statuses 11 and 0)")
    fs = f.add_subparsers(dest="fault_command", required=True)
    show = fs.add_parser("show", help="the faults in force")
    add_json_flag(show)
    show.set_defaults(handler=fault_show)
    set_ = fs.add_parser("set", help="set (or with 'none' clear) one target's fault")
    set_.add_argument("target", choices=sandbox.TARGETS)
    set_.add_argument("fault", choices=(*sandbox.FAULTS, "none"))
    add_json_flag(set_)
    set_.set_defaults(handler=fault_set)
    clear = fs.add_parser("clear", help="clear every fault")
    add_json_flag(clear)
    clear.set_defaults(handler=fault_clear)


def _out(data: dict[str, Any], as_json: bool) -> int:
    if as_json:
        print_json(data)
    else:
        print_mapping(data["faults"] or {"faults": "(none)"})
    return 0


def fault_show(args: argparse.Namespace) -> int:
    with open_runtime() as runtime:
        return _out(paystar_control.show(runtime), args.json)


def fault_set(args: argparse.Namespace) -> int:
    fault = None if args.fault == "none" else args.fault
    with open_runtime() as runtime:
        return _out(paystar_control.set_fault(runtime, args.target, fault), args.json)


def fault_clear(args: argparse.Namespace) -> int:
    with open_runtime() as runtime:
        return _out(paystar_control.clear(runtime), args.json)
