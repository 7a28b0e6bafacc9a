"""``pishkhan customers create|list|show|rotate|disable|enable|topup|price|usage``."""

from __future__ import annotations

import argparse
from datetime import date
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
from pishkhan.settings import SURFACES
from pishkhan.tenants import service as tenants
from pishkhan.tenants.wallets import WALLETS


def register(sub: Any) -> None:
    p = sub.add_parser("customers", help="customers, credentials, wallets, prices and usage")
    cs = p.add_subparsers(dest="customers_command", required=True)

    c = cs.add_parser("create", help="create a customer (its secrets are printed once)")
    c.add_argument("name")
    c.add_argument("--slug")
    c.add_argument(
        "--allowed-ip", action="append", default=[], help="Jibit IP allowlist entry (repeatable)"
    )
    c.add_argument("--paystar-allowed-ip", action="append", default=[])
    c.add_argument(
        "--pendar-public-key", type=Path, help="PEM file with the customer's RSA public key"
    )
    c.add_argument("--pendar-customer-code")
    c.add_argument("--pendar-license-number")
    c.add_argument("--payman-redirect-url", action="append", default=[])
    c.add_argument(
        "--payman-bank", action="append", default=[], help="allowed Payman bank code (repeatable)"
    )
    add_json_flag(c)
    c.set_defaults(handler=create)

    ls = cs.add_parser("list", help="list customers")
    add_json_flag(ls)
    ls.set_defaults(handler=list_)

    sh = cs.add_parser("show", help="show one customer (id or slug)")
    sh.add_argument("customer")
    add_json_flag(sh)
    sh.set_defaults(handler=show)

    r = cs.add_parser("rotate", help="rotate one surface's secrets")
    r.add_argument("customer")
    r.add_argument("surface", choices=SURFACES)
    r.add_argument("--pendar-public-key", type=Path)
    add_json_flag(r)
    r.set_defaults(handler=rotate)

    for name, status in (("disable", "disabled"), ("enable", "active")):
        d = cs.add_parser(name, help=f"{name} a customer")
        d.add_argument("customer")
        add_json_flag(d)
        d.set_defaults(handler=set_status, status=status)

    t = cs.add_parser("topup", help="add rials to a wallet (negative to adjust)")
    t.add_argument("customer")
    t.add_argument("wallet", choices=sorted(WALLETS))
    t.add_argument("amount", type=int)
    t.add_argument("--reference")
    add_json_flag(t)
    t.set_defaults(handler=topup)

    pr = cs.add_parser("price", help="set a service's price and/or daily limit")
    pr.add_argument("customer")
    pr.add_argument("surface", choices=SURFACES)
    pr.add_argument("service")
    pr.add_argument("--price", type=int)
    pr.add_argument("--daily-limit", type=int)
    pr.add_argument("--no-daily-limit", action="store_true")
    add_json_flag(pr)
    pr.set_defaults(handler=price)

    u = cs.add_parser("usage", help="usage per day, surface, service and outcome")
    u.add_argument("customer")
    u.add_argument("--from", dest="day_from", type=date.fromisoformat)
    u.add_argument("--to", dest="day_to", type=date.fromisoformat)
    u.add_argument("--surface", choices=SURFACES)
    add_json_flag(u)
    u.set_defaults(handler=usage)


def _read_key(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from exc


def _show(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(data)
        return
    print_mapping(data)


def create(args: argparse.Namespace) -> int:
    req = tenants.NewCustomer(
        name=args.name,
        slug=args.slug,
        allowed_ips=tuple(args.allowed_ip),
        paystar_allowed_ips=tuple(args.paystar_allowed_ip),
        pendar_public_key_pem=_read_key(args.pendar_public_key),
        pendar_customer_code=args.pendar_customer_code,
        pendar_license_number=args.pendar_license_number,
        payman_redirect_urls=tuple(args.payman_redirect_url),
        payman_allowed_banks=tuple(args.payman_bank),
    )
    with open_runtime() as rt, rt.db.write() as conn:
        created = tenants.create_customer(conn, rt.clock, req)
        rt.audit.append(
            conn,
            actor="cli",
            action="customer.create",
            subject=f"customer:{created['id']}",
            data={"slug": created["slug"], "name": created["name"]},
        )
    if args.json:
        print_json(created)
    else:
        print(f"created customer {created['id']} ({created['slug']}); secrets (shown only now):")
        print_mapping(created["secrets"], indent=2)
    return 0


def list_(args: argparse.Namespace) -> int:
    with open_runtime() as rt, rt.db.read() as conn:
        rows = tenants.list_customers(conn)
    if args.json:
        print_json(rows)
    else:
        print_table(rows, ["id", "slug", "name", "status", "created_at"])
    return 0


def show(args: argparse.Namespace) -> int:
    with open_runtime() as rt, rt.db.read() as conn:
        data = tenants.get_customer(conn, args.customer)
    _show(data, args.json)
    return 0


def rotate(args: argparse.Namespace) -> int:
    with open_runtime() as rt, rt.db.write() as conn:
        result = tenants.rotate_secrets(
            conn,
            rt.clock,
            args.customer,
            args.surface,
            pendar_public_key_pem=_read_key(args.pendar_public_key),
        )
        rt.audit.append(
            conn,
            actor="cli",
            action="customer.rotate",
            subject=f"customer:{result['customer']['id']}",
            data={"surface": args.surface},
        )
    if args.json:
        print_json(result["secrets"])
    else:
        print(
            f"rotated {args.surface} for customer {result['customer']['id']}; new secrets (shown only now):"
        )
        print_mapping(result["secrets"], indent=2)
    return 0


def set_status(args: argparse.Namespace) -> int:
    with open_runtime() as rt, rt.db.write() as conn:
        data = tenants.set_status(conn, rt.clock, args.customer, args.status)
        rt.audit.append(
            conn,
            actor="cli",
            action=f"customer.{args.customers_command}",
            subject=f"customer:{data['id']}",
        )
    if args.json:
        print_json(data)
    else:
        print(f"customer {data['id']} ({data['slug']}) is now {data['status']}")
    return 0


def topup(args: argparse.Namespace) -> int:
    with open_runtime() as rt, rt.db.write() as conn:
        cid = tenants.resolve_customer_id(conn, args.customer)
        result = tenants.topup(
            conn, rt.clock, args.customer, args.wallet, args.amount, reference=args.reference
        )
        rt.audit.append(
            conn,
            actor="cli",
            action="wallet.topup",
            subject=f"customer:{cid}",
            data={"wallet": args.wallet, "amount": args.amount, "reference": args.reference},
        )
    _show(result, args.json)
    return 0


def price(args: argparse.Namespace) -> int:
    if args.price is None and args.daily_limit is None and not args.no_daily_limit:
        raise CommandError("give --price, --daily-limit or --no-daily-limit")
    with open_runtime() as rt, rt.db.write() as conn:
        cid = tenants.resolve_customer_id(conn, args.customer)
        result = tenants.set_price(
            conn,
            args.customer,
            args.surface,
            args.service,
            price=args.price,
            daily_limit=args.daily_limit,
            clear_daily_limit=args.no_daily_limit,
        )
        rt.audit.append(
            conn, actor="cli", action="price.set", subject=f"customer:{cid}", data=result
        )
    _show(result, args.json)
    return 0


def usage(args: argparse.Namespace) -> int:
    with open_runtime() as rt, rt.db.read() as conn:
        rows = tenants.usage(
            conn, args.customer, day_from=args.day_from, day_to=args.day_to, surface=args.surface
        )
    if args.json:
        print_json(rows)
    else:
        print_table(rows, ["day", "surface", "service", "outcome", "count", "amount"])
    return 0
