"""``pishkhan jibit sana show|set``: Jibit sandbox switches."""

from __future__ import annotations

import argparse
from typing import Any

from pishkhan.commands.context import add_json_flag, open_runtime, print_json, print_mapping
from pishkhan.providers.jibit import sandbox


def register(sub: Any) -> None:
    p = sub.add_parser("jibit", help="Jibit sandbox controls")
    js = p.add_subparsers(dest="jibit_command", required=True)
    s = js.add_parser(
        "sana",
        help="Sana's answer when the SIM is not the person's: error (mobileNumber.not_valid, "
        "the default) or matched_false (200 matched: false)",
    )
    ss = s.add_subparsers(dest="sana_command", required=True)
    show = ss.add_parser("show", help="the mode in force")
    add_json_flag(show)
    show.set_defaults(handler=sana_show)
    set_ = ss.add_parser("set", help="set the mode")
    set_.add_argument("mismatch", choices=sandbox.SANA_MISMATCH_MODES)
    add_json_flag(set_)
    set_.set_defaults(handler=sana_set)


def _out(data: dict[str, Any], as_json: bool) -> int:
    if as_json:
        print_json(data)
    else:
        print_mapping(data)
    return 0


def sana_show(args: argparse.Namespace) -> int:
    with open_runtime() as runtime:
        return _out(sandbox.sana(runtime), args.json)


def sana_set(args: argparse.Namespace) -> int:
    with open_runtime() as runtime:
        return _out(sandbox.set_sana(runtime, args.mismatch), args.json)
