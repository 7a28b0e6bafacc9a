"""``pishkhan pendar ...``: the Pendar CA and customers' Pendar settings (what the admin API
under ``/_pishkhan/v1/pendar`` offers, on the local database).

    pishkhan pendar cas                                  the CAs, availability, CRL numbers
    pishkhan pendar ca-profiles CA                       a CA's certificate profiles
    pishkhan pendar available CA on|off                  IsAvailable / error 1005
    pishkhan pendar crl CA                               issue the CA's next CRL now
    pishkhan pendar show CUSTOMER                        grants, switches, approvers
    pishkhan pendar grant CUSTOMER CA [PROFILE...]       grant a CA (no profiles: all of them)
    pishkhan pendar revoke-grant CUSTOMER CA             withdraw a CA (1102 afterwards)
    pishkhan pendar set CUSTOMER SWITCH on|off           identity_check, fill_names, ...
    pishkhan pendar approver add CUSTOMER CERT.pem       register an approver certificate
    pishkhan pendar approver revoke CUSTOMER SHA256      mark it revoked (1107); --undo
    pishkhan pendar payment add CUSTOMER ID AMOUNT       a paymentId usable once
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
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
from pishkhan.control import pendar as control
from pishkhan.control.http import ApiError
from pishkhan.runtime import Runtime

ON_OFF = ("on", "off")


def register(sub: Any) -> None:
    p = sub.add_parser("pendar", help="Pendar Koushk CA, grants and approvers")
    ps = p.add_subparsers(dest="pendar_command", required=True)

    def command(name: str, handler: Callable[[argparse.Namespace], int], help_: str) -> Any:
        parser = ps.add_parser(name, help=help_)
        add_json_flag(parser)
        parser.set_defaults(handler=handler)
        return parser

    command("cas", cas, "the CAs: availability, key algorithm, CRL number, URLs")
    c = command("ca-profiles", ca_profiles, "a CA's certificate profiles (GetCAProfileInfo)")
    c.add_argument("ca")
    c = command("available", available, "mark a CA up or down (IsAvailable, error 1005)")
    c.add_argument("ca")
    c.add_argument("state", choices=ON_OFF)
    c = command("crl", crl, "issue a CA's next CRL now")
    c.add_argument("ca")
    c = command("show", show, "a customer's grants, identity-check switches and approvers")
    c.add_argument("customer", help="slug or id")
    c = command("grant", grant, "grant a CA and profiles (none given: every profile)")
    c.add_argument("customer", help="slug or id")
    c.add_argument("ca")
    c.add_argument("profiles", nargs="*", metavar="PROFILE")
    c = command("revoke-grant", revoke_grant, "withdraw a CA from a customer")
    c.add_argument("customer", help="slug or id")
    c.add_argument("ca")
    c = command("set", set_switch, "an identity-check switch of RegisterInfo")
    c.add_argument("customer", help="slug or id")
    c.add_argument("switch", choices=control.SWITCHES)
    c.add_argument("state", choices=ON_OFF)

    a = ps.add_parser("approver", help="approver certificates for RequestApprove")
    asub = a.add_subparsers(dest="approver_command", required=True)
    add = asub.add_parser("add", help="register an approver certificate (PEM file)")
    add.add_argument("customer", help="slug or id")
    add.add_argument("certificate", type=Path, metavar="CERT.pem")
    add.add_argument("--name", default="")
    add_json_flag(add)
    add.set_defaults(handler=approver_add)
    rev = asub.add_parser("revoke", help="mark an approver revoked (RequestApprove: 1107)")
    rev.add_argument("customer", help="slug or id")
    rev.add_argument("fingerprint", help="SHA-256 of the certificate (pendar show lists it)")
    rev.add_argument("--undo", action="store_true", help="mark it valid again")
    add_json_flag(rev)
    rev.set_defaults(handler=approver_revoke)

    pay = ps.add_parser("payment", help="payments usable once as paymentId")
    paysub = pay.add_subparsers(dest="payment_command", required=True)
    padd = paysub.add_parser("add", help="register a payment")
    padd.add_argument("customer", help="slug or id")
    padd.add_argument("payment_id")
    padd.add_argument("amount", type=int, help="rials")
    add_json_flag(padd)
    padd.set_defaults(handler=payment_add)


def _call(fn: Callable[[Runtime], Any]) -> Any:
    """Run one control operation; admin-API errors become one-line command errors."""
    with open_runtime() as runtime:
        try:
            return fn(runtime)
        except ApiError as exc:
            raise CommandError(exc.message) from exc


def _emit(data: Any, as_json: bool, human: Callable[[Any], None]) -> int:
    if as_json:
        print_json(data)
    else:
        human(data)
    return 0


def cas(args: argparse.Namespace) -> int:
    data = _call(control.ca_view)

    def human(rows: list[dict[str, Any]]) -> None:
        print_table(
            [
                {
                    "name": r["name"],
                    "title": r["title"],
                    "available": "yes" if r["available"] else "no",
                    "government": "yes" if r["government"] else "",
                    "key": r["key_algorithm"],
                    "signer": r["signer"],
                    "crl": r["crl_number"],
                    "profiles": len(r["profiles"]),
                    "crl_url": r["urls"]["crl"],
                }
                for r in rows
            ]
        )

    return _emit(data, args.json, human)


def _ca(runtime: Runtime, name: str) -> dict[str, Any]:
    for row in control.ca_view(runtime):
        if row["name"] == name:
            return row
    raise CommandError(f"no CA named {name!r}")


def ca_profiles(args: argparse.Namespace) -> int:
    profiles = _call(lambda rt: _ca(rt, args.ca))["profiles"]

    def human(rows: list[dict[str, Any]]) -> None:
        print_table(
            [
                {
                    "profile": p["ProfileName"],
                    "product": p["ProductId"],
                    "price": p["Price"],
                    "approval": "yes" if p["Approval"] else "no",
                    "face_auth": "yes" if p["FaceAuth"] else "no",
                    "input": p["InputType"],
                }
                for p in rows
            ]
        )

    return _emit(profiles, args.json, human)


def available(args: argparse.Namespace) -> int:
    data = _call(lambda rt: control.set_available(rt, args.ca, args.state == "on"))
    return _emit(data, args.json, print_mapping)


def crl(args: argparse.Namespace) -> int:
    data = _call(lambda rt: control.regenerate_crl(rt, args.ca))
    return _emit(data, args.json, print_mapping)


def _show_human(data: dict[str, Any]) -> None:
    print_mapping({k: v for k, v in data.items() if k not in ("cas", "approvers")})
    print("grants:")
    print_table(
        [
            {"ca": name, "profiles": ", ".join(p) if p != ["*"] else "(all)"}
            for name, p in data["cas"].items()
        ]
    )
    print("approvers:")
    print_table(
        [
            {"fingerprint": a["fingerprint"], "name": a["name"], "revoked": a["revoked"]}
            for a in data["approvers"]
        ]
    )


def show(args: argparse.Namespace) -> int:
    return _emit(_call(lambda rt: control.customer_view(rt, args.customer)), args.json, _show_human)


def grant(args: argparse.Namespace) -> int:
    def work(runtime: Runtime) -> Any:
        cas = control.customer_view(runtime, args.customer)["cas"]
        cas[args.ca] = list(args.profiles) or ["*"]
        control.grant(runtime, args.customer, cas)
        return control.customer_view(runtime, args.customer)

    return _emit(_call(work), args.json, _show_human)


def revoke_grant(args: argparse.Namespace) -> int:
    def work(runtime: Runtime) -> Any:
        cas = control.customer_view(runtime, args.customer)["cas"]
        if args.ca not in cas:
            raise CommandError(f"CA {args.ca!r} is not granted to {args.customer}")
        del cas[args.ca]
        control.grant(runtime, args.customer, cas)
        return control.customer_view(runtime, args.customer)

    return _emit(_call(work), args.json, _show_human)


def set_switch(args: argparse.Namespace) -> int:
    def work(runtime: Runtime) -> Any:
        control.set_switches(runtime, args.customer, {args.switch: args.state == "on"})
        return control.customer_view(runtime, args.customer)

    return _emit(_call(work), args.json, _show_human)


def approver_add(args: argparse.Namespace) -> int:
    try:
        pem = args.certificate.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {args.certificate}: {exc}") from exc
    data = _call(lambda rt: control.approver_add(rt, args.customer, pem, args.name))
    return _emit(data, args.json, print_mapping)


def approver_revoke(args: argparse.Namespace) -> int:
    data = _call(
        lambda rt: control.approver_revoked(rt, args.customer, args.fingerprint, not args.undo)
    )
    return _emit(data, args.json, print_mapping)


def payment_add(args: argparse.Namespace) -> int:
    data = _call(lambda rt: control.payment_add(rt, args.customer, args.payment_id, args.amount))
    return _emit(data, args.json, print_mapping)
