"""``pishkhan payman ...``: the Payman sandbox controls (what the admin API under
``/_pishkhan/v1/payman`` offers, on the local database).

    pishkhan payman banks                                every bank's state per service
    pishkhan payman bank CODE stable|unstable|inaccessible [--service S ...] [--failure-rate F]
    pishkhan payman force OUTCOME [--payman-id ID] [--count N]   force the next pays' outcome
    pishkhan payman forced                               the forced outcomes waiting
    pishkhan payman unforce                              remove every forced outcome
    pishkhan payman expire REF                           expire a mandate now (payman_id/code)
    pishkhan payman approve REF [--cancel] [--deposit IBAN] [--national-code NC] [--mobile M]
    pishkhan payman settle REF SUCCEED|FAILED            finish an IN_PROGRESS/TIMEOUT payment
    pishkhan payman reverse REF                          reverse a successful payment
    pishkhan payman reconcile REF 0|1                    set a payment's reconcile status
    pishkhan payman ledger                               check that the ledger balances

A payment's REF is its reference_id or trace_id. Every command takes ``--json``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from pishkhan.commands.context import (
    CommandError,
    add_json_flag,
    open_runtime,
    print_json,
    print_mapping,
    print_table,
)
from pishkhan.control import payman as control
from pishkhan.control.http import ApiError
from pishkhan.providers.payman import sandbox
from pishkhan.runtime import Runtime

BANK_STATES = ("stable", "unstable", "inaccessible")
OUTCOMES = ("SUCCEED", "FAILED", "TIMEOUT", "IN_PROGRESS")


def register(sub: Any) -> None:
    p = sub.add_parser("payman", help="Payman sandbox: bank states, forced outcomes, payments")
    ps = p.add_subparsers(dest="payman_command", required=True)

    def command(name: str, handler: Callable[[argparse.Namespace], int], help_: str) -> Any:
        parser = ps.add_parser(name, help=help_, description=help_)
        add_json_flag(parser)
        parser.set_defaults(handler=handler)
        return parser

    command("banks", banks, "every Payman bank's state per service")
    c = command("bank", bank, "mark a bank stable, unstable (random 2000) or inaccessible (423)")
    c.add_argument("code", metavar="CODE", help="Payman bank code, e.g. SABCIR")
    c.add_argument("state", choices=BANK_STATES)
    c.add_argument(
        "--service",
        action="append",
        choices=sandbox.SERVICES,
        dest="services",
        help="only this service (repeatable; default: all)",
    )
    c.add_argument(
        "--failure-rate",
        type=float,
        default=sandbox.DEFAULT_FAILURE_RATE,
        help="share of calls an unstable bank fails (0..1)",
    )
    c = command("force", force, "force the outcome of the next pays")
    c.add_argument("outcome", choices=OUTCOMES, type=str.upper)
    c.add_argument("--payman-id", help="only pays on this mandate (default: any)")
    c.add_argument("--count", type=int, default=1, help="how many pays (default 1)")
    command("forced", forced, "the forced outcomes still waiting")
    command("unforce", unforce, "remove every forced outcome")
    c = command("expire", expire, "expire a mandate now")
    c.add_argument("ref", metavar="REF", help="payman_id or payman_code")
    c = command("approve", approve, "complete a mandate's open consent page without a browser")
    c.add_argument("ref", metavar="REF", help="payman_id or payman_code")
    c.add_argument("--cancel", action="store_true", help="cancel instead (CANCELED, 2156)")
    c.add_argument("--deposit", metavar="IBAN", help="the deposit to choose")
    c.add_argument("--national-code", help="sign in as (default: the mandate's person)")
    c.add_argument("--mobile", help="sign in with (default: the mandate's mobile)")
    c = command("settle", settle, "finish an IN_PROGRESS or TIMEOUT payment")
    c.add_argument("ref", metavar="REF", help="reference_id or trace_id")
    c.add_argument("status", choices=("SUCCEED", "FAILED"), type=str.upper)
    c = command("reverse", reverse, "reverse a successful payment (money back to the deposit)")
    c.add_argument("ref", metavar="REF", help="reference_id or trace_id")
    c = command("reconcile", reconcile, "set a payment's reconcile status")
    c.add_argument("ref", metavar="REF", help="reference_id or trace_id")
    c.add_argument("reconcile_status", type=int, choices=(0, 1))
    command("ledger", ledger, "check that the double-entry ledger balances")


def _call(fn: Callable[[Runtime], Any]) -> Any:
    """Run one control operation; admin-API errors become one-line command errors."""
    with open_runtime() as runtime:
        try:
            return control._run(runtime, fn)
        except ApiError as exc:
            code = f" ({exc.code})" if exc.code.startswith("payman.") else ""
            raise CommandError(f"{exc.message}{code}") from exc
        except ValidationError as exc:
            raise CommandError("; ".join(e["msg"] for e in exc.errors())) from exc


def _emit(data: Any, as_json: bool, human: Callable[[Any], None] | None = None) -> int:
    if as_json:
        print_json(data)
    elif human is not None:
        human(data)
    else:
        print_mapping(data)
    return 0


def banks(args: argparse.Namespace) -> int:
    data = _call(control.banks_view)

    def human(states: dict[str, dict[str, str]]) -> None:
        print_table([{"bank": code, **services} for code, services in states.items()])

    return _emit(data, args.json, human)


def bank(args: argparse.Namespace) -> int:
    if not 0 <= args.failure_rate <= 1:
        raise CommandError("--failure-rate must be between 0 and 1")
    data = _call(
        lambda rt: control.set_bank(rt, args.code, args.state, args.services, args.failure_rate)
    )
    return _emit(data, args.json)


def force(args: argparse.Namespace) -> int:
    if args.count < 1:
        raise CommandError("--count must be at least 1")
    body = control.Force(outcome=args.outcome, payman_id=args.payman_id, count=args.count)
    return _emit(_call(lambda rt: control.force(rt, body)), args.json)


def forced(args: argparse.Namespace) -> int:
    data = _call(control.forced_view)
    return _emit(data, args.json, lambda rows: print_table(rows))


def unforce(args: argparse.Namespace) -> int:
    return _emit(_call(control.clear_forced), args.json)


def expire(args: argparse.Namespace) -> int:
    return _emit(_call(lambda rt: control.expire(rt, args.ref)), args.json)


def approve(args: argparse.Namespace) -> int:
    body = control.Approve(
        national_code=args.national_code,
        mobile=args.mobile,
        deposit_iban=args.deposit,
        action="cancel" if args.cancel else "approve",
    )
    return _emit(_call(lambda rt: control.approve(rt, args.ref, body)), args.json)


def settle(args: argparse.Namespace) -> int:
    return _emit(_call(lambda rt: control.settle(rt, args.ref, args.status)), args.json)


def reverse(args: argparse.Namespace) -> int:
    return _emit(_call(lambda rt: control.reverse(rt, args.ref)), args.json)


def reconcile(args: argparse.Namespace) -> int:
    data = _call(lambda rt: control.reconcile(rt, args.ref, args.reconcile_status))
    return _emit(data, args.json)


def ledger(args: argparse.Namespace) -> int:
    data = _call(control.ledger_view)

    def human(d: dict[str, Any]) -> None:
        state = "balanced" if d["balanced"] else "NOT BALANCED"
        print(f"ledger {state} (sum of entries {d['total']} rials)")

    _emit(data, args.json, human)
    return 0 if data["balanced"] else 1
