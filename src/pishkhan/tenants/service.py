"""Customers and their credentials, wallets, prices and limits (no HTTP).

Every function takes a Connection inside the caller's transaction, so a control-plane change and
its audit entry commit together or not at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from pishkhan.core.clock import Clock
from pishkhan.core.errors import Conflict, InvalidInput, NotFound
from pishkhan.core.ids import hash_secret, new_code, new_digits, new_secret
from pishkhan.core.origins import origin
from pishkhan.settings import SURFACES
from pishkhan.tenants import credentials, rsa_keys
from pishkhan.tenants.tables import (
    customers,
    jibit_credentials,
    payman_clients,
    paystar_applications,
    pendar_accounts,
    service_prices,
    usage_events,
    wallet_entries,
    wallets,
)
from pishkhan.tenants.wallets import DEFAULT_OPENING, WALLETS

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
PAYSTAR_SERVICES = ("mobile-national-id", "card-national-id", "iban-national-id")
# Upper bounds that keep amounts inside 64-bit columns (and limits inside 32-bit ones).
MAX_RIALS = 10**15
#: The most a wallet may hold: top-ups stop there, far below what its 64-bit column holds.
MAX_BALANCE = 10**18
MAX_DAILY_LIMIT = 2**31 - 1


@dataclass(frozen=True)
class NewCustomer:
    name: str
    slug: str | None = None
    allowed_ips: tuple[str, ...] = ()
    paystar_allowed_ips: tuple[str, ...] = ()
    pendar_public_key_pem: str | None = None
    pendar_customer_code: str | None = None
    pendar_license_number: str | None = None
    payman_redirect_urls: tuple[str, ...] = ()
    payman_allowed_banks: tuple[str, ...] = ()
    jibit_api_key: str | None = None
    jibit_secret_key: str | None = None


def _slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40]
    return slug or "customer"


def _redirect_urls(urls: tuple[str, ...] | list[str]) -> list[str]:
    """Payman redirect URLs as registered: each must have an origin plain enough to name in the
    consent page's Content-Security-Policy (``pishkhan.core.origins``), or a browser could not
    be sent back there."""
    for url in urls:
        if not isinstance(url, str) or origin(url) is None:
            raise InvalidInput(
                "each Payman redirect URL must be absolute, with a scheme and a host of letters, "
                "digits, dots and hyphens (or an IP address)",
                {"payman_redirect_urls": url},
            )
    return [url.strip() for url in urls]


def create_customer(conn: Connection, clock: Clock, req: NewCustomer) -> dict[str, Any]:
    """Create a customer with credentials for all four surfaces.

    Returns the customer as :func:`get_customer` shows it plus a ``secrets`` object holding
    every secret in clear text: this is the only time they are shown.
    """
    if not req.name.strip():
        raise InvalidInput("name must not be empty", {"name": "required"})
    redirect_urls = _redirect_urls(req.payman_redirect_urls)
    now = clock.now_utc()
    slug = req.slug or f"{_slugify(req.name)}-{new_code(4, '0123456789abcdefghijklmnopqrstuvwxyz')}"
    if not _SLUG.match(slug):
        raise InvalidInput(
            "slug must be lower-case letters, digits, '-' or '_' (at most 64)", {"slug": slug}
        )
    try:
        customer_id = conn.execute(
            insert(customers)
            .values(
                slug=slug,
                name=req.name.strip(),
                status="active",
                allowed_ips=list(req.allowed_ips),
                created_at=now,
                updated_at=now,
            )
            .returning(customers.c.id)
        ).scalar_one()
    except IntegrityError as exc:
        raise Conflict(f"a customer with slug {slug!r} already exists") from exc

    generation = credentials.bump(conn)
    shown: dict[str, Any] = {}
    jibit_api_key = req.jibit_api_key or new_code(24)
    jibit_secret = req.jibit_secret_key or new_secret(24)
    _insert_unique(
        conn,
        jibit_credentials,
        "Jibit apiKey",
        customer_id=customer_id,
        api_key=jibit_api_key,
        secret_hash=hash_secret(jibit_secret),
        rotated_at=now,
    )
    shown["jibit"] = {"apiKey": jibit_api_key, "secretKey": jibit_secret}

    access_password = new_secret(18)
    refresh_token = new_secret(32)
    application_id = _insert_drawn(
        conn,
        paystar_applications,
        "Paystar application_id",
        lambda: {"application_id": new_digits(6)},
        customer_id=customer_id,
        access_password_hash=hash_secret(access_password),
        refresh_token_hash=hash_secret(refresh_token),
        allowed_ips=list(req.paystar_allowed_ips),
        status="active",
        services=list(PAYSTAR_SERVICES),
        rotated_at=now,
    )["application_id"]
    shown["paystar"] = {
        "application_id": application_id,
        "access_password": access_password,
        "refresh_token": refresh_token,
    }

    shown["pendar"] = _create_pendar(conn, customer_id, now, req)

    client_id = new_code(20)
    client_secret = new_secret(32)
    app_key = new_code(32)
    _insert_unique(
        conn,
        payman_clients,
        "Payman client_id",
        customer_id=customer_id,
        client_id=client_id,
        client_secret_hash=hash_secret(client_secret),
        app_key_hash=hash_secret(app_key),
        redirect_urls=redirect_urls,
        allowed_banks=[b.upper() for b in req.payman_allowed_banks],
        rotated_at=now,
        generation=generation,
    )
    shown["payman"] = {"client_id": client_id, "client_secret": client_secret, "app_key": app_key}

    for wallet, (balance, credit_limit) in DEFAULT_OPENING.items():
        conn.execute(
            insert(wallets).values(
                customer_id=customer_id,
                wallet=wallet,
                balance=balance,
                credit_limit=credit_limit,
                updated_at=now,
            )
        )
        if balance:
            conn.execute(
                insert(wallet_entries).values(
                    customer_id=customer_id,
                    wallet=wallet,
                    at=now,
                    amount=balance,
                    balance_after=balance,
                    reason="opening",
                )
            )
    out = get_customer(conn, str(customer_id))
    out["secrets"] = shown
    return out


def _create_pendar(
    conn: Connection, customer_id: int, now: datetime, req: NewCustomer
) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    if req.pendar_public_key_pem:
        public_pem = rsa_keys.normalize_public_pem(req.pendar_public_key_pem)
    else:
        public_pem, private_pem, private_xml = rsa_keys.generate_key_pair()
        shown["private_key_pem"] = private_pem
        shown["private_key_xml"] = private_xml
    license_number = req.pendar_license_number or new_digits(6)
    report_key = new_secret(24)
    given = req.pendar_customer_code
    code = _insert_drawn(
        conn,
        pendar_accounts,
        "Pendar customer code",
        lambda: {"customer_code": given or new_digits(4)},
        attempts=1 if given else DRAWS,
        customer_id=customer_id,
        license_number=license_number,
        public_key_pem=public_pem,
        report_key_hash=hash_secret(report_key),
        settings={},
        rotated_at=now,
    )["customer_code"]
    shown.update(
        {
            "customer_code": code,
            "license_number": license_number,
            "customercode": f"{code}-{license_number}",
            "report_key": report_key,
            "public_key_pem": public_pem,
        }
    )
    return shown


def _insert_unique(conn: Connection, table: Any, what: str, **values: Any) -> None:
    """Insert; a clash with a unique key is a :class:`Conflict` (nothing drawn, one attempt)."""
    _insert_drawn(conn, table, what, dict, attempts=1, **values)


#: Draws of a generated short code (a 4-digit Pendar customer code, a 6-digit Paystar
#: application id) before a clash with existing customers is reported as a conflict.
DRAWS: Final = 32


def _insert_drawn(
    conn: Connection,
    table: Any,
    what: str,
    draw: Callable[[], dict[str, Any]],
    *,
    attempts: int = DRAWS,
    **values: Any,
) -> dict[str, Any]:
    """Insert with values from ``draw()``, drawn again while they clash with a unique key
    (generated codes are short); returns the drawn values that were inserted."""
    for attempt in range(attempts):
        drawn = draw()
        try:
            with conn.begin_nested():
                conn.execute(insert(table).values(**values, **drawn))
        except IntegrityError as exc:
            if attempt == attempts - 1:
                raise Conflict(f"{what} is already in use") from exc
            continue
        return drawn
    raise AssertionError("unreachable: attempts >= 1")


def resolve_customer_id(conn: Connection, ref: str) -> int:
    """A customer by numeric id or slug."""
    if ref.isascii() and ref.isdigit():
        if len(ref) > 18:  # beyond a 64-bit id: no such customer (not a database error)
            raise NotFound("customer", ref)
        cond = customers.c.id == int(ref)
    else:
        cond = customers.c.slug == ref
    found = conn.execute(select(customers.c.id).where(cond)).scalar_one_or_none()
    if found is None:
        raise NotFound("customer", ref)
    return int(found)


def _row(conn: Connection, table: Any, customer_id: int) -> RowMapping | None:
    return conn.execute(select(table).where(table.c.customer_id == customer_id)).mappings().first()


def get_customer(conn: Connection, ref: str) -> dict[str, Any]:
    customer_id = resolve_customer_id(conn, ref)
    c = conn.execute(select(customers).where(customers.c.id == customer_id)).mappings().one()
    jib = _row(conn, jibit_credentials, customer_id)
    pay = _row(conn, paystar_applications, customer_id)
    pen = _row(conn, pendar_accounts, customer_id)
    pym = _row(conn, payman_clients, customer_id)
    wallet_rows = conn.execute(
        select(wallets).where(wallets.c.customer_id == customer_id).order_by(wallets.c.wallet)
    ).mappings()
    price_rows = conn.execute(
        select(service_prices)
        .where(service_prices.c.customer_id == customer_id)
        .order_by(service_prices.c.surface, service_prices.c.service)
    ).mappings()
    return {
        "id": c["id"],
        "slug": c["slug"],
        "name": c["name"],
        "status": c["status"],
        "allowed_ips": list(c["allowed_ips"] or []),
        "created_at": _iso(c["created_at"]),
        "credentials": {
            "jibit": {"apiKey": jib["api_key"]} if jib else None,
            "paystar": {
                "application_id": pay["application_id"],
                "allowed_ips": list(pay["allowed_ips"] or []),
                "services": list(pay["services"] or []),
                "status": pay["status"],
            }
            if pay
            else None,
            "pendar": {
                "customer_code": pen["customer_code"],
                "license_number": pen["license_number"],
                "customercode": f"{pen['customer_code']}-{pen['license_number']}",
                "public_key_pem": pen["public_key_pem"],
                "settings": dict(pen["settings"] or {}),
            }
            if pen
            else None,
            "payman": {
                "client_id": pym["client_id"],
                "redirect_urls": list(pym["redirect_urls"] or []),
                "allowed_banks": list(pym["allowed_banks"] or []),
            }
            if pym
            else None,
        },
        "wallets": [
            {"wallet": w["wallet"], "balance": w["balance"], "credit_limit": w["credit_limit"]}
            for w in wallet_rows
        ],
        "prices": [
            {
                "surface": p["surface"],
                "service": p["service"],
                "price": p["price"],
                "daily_limit": p["daily_limit"],
                "enabled": bool(p["enabled"]),
            }
            for p in price_rows
        ],
    }


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    from datetime import UTC

    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def list_customers(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(select(customers).order_by(customers.c.id)).mappings()
    return [
        {
            "id": r["id"],
            "slug": r["slug"],
            "name": r["name"],
            "status": r["status"],
            "created_at": _iso(r["created_at"]),
        }
        for r in rows
    ]


def set_status(conn: Connection, clock: Clock, ref: str, status: str) -> dict[str, Any]:
    if status not in ("active", "disabled"):
        raise InvalidInput("status must be 'active' or 'disabled'", {"status": status})
    customer_id = resolve_customer_id(conn, ref)
    conn.execute(
        update(customers)
        .where(customers.c.id == customer_id)
        .values(status=status, updated_at=clock.now_utc())
    )
    epoch = credentials.bump(conn)
    if status == "disabled":
        # Every Payman token issued before ends now (enabling again does not revive them).
        conn.execute(
            update(payman_clients)
            .where(payman_clients.c.customer_id == customer_id)
            .values(generation=epoch)
        )
    return get_customer(conn, str(customer_id))


def update_customer(
    conn: Connection,
    clock: Clock,
    ref: str,
    *,
    name: str | None = None,
    allowed_ips: list[str] | None = None,
    paystar_allowed_ips: list[str] | None = None,
    paystar_services: list[str] | None = None,
    payman_redirect_urls: list[str] | None = None,
    payman_allowed_banks: list[str] | None = None,
    pendar_settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    customer_id = resolve_customer_id(conn, ref)
    now = clock.now_utc()
    credentials.bump(conn)
    values: dict[str, Any] = {"updated_at": now}
    if name is not None:
        if not name.strip():
            raise InvalidInput("name must not be empty", {"name": "required"})
        values["name"] = name.strip()
    if allowed_ips is not None:
        values["allowed_ips"] = list(allowed_ips)
    conn.execute(update(customers).where(customers.c.id == customer_id).values(**values))
    if paystar_allowed_ips is not None or paystar_services is not None:
        pv: dict[str, Any] = {}
        if paystar_allowed_ips is not None:
            pv["allowed_ips"] = list(paystar_allowed_ips)
        if paystar_services is not None:
            unknown = sorted(set(paystar_services) - set(PAYSTAR_SERVICES))
            if unknown:
                raise InvalidInput(
                    f"unknown Paystar services {unknown}", {"paystar_services": unknown}
                )
            pv["services"] = list(paystar_services)
        conn.execute(
            update(paystar_applications)
            .where(paystar_applications.c.customer_id == customer_id)
            .values(**pv)
        )
    if payman_redirect_urls is not None or payman_allowed_banks is not None:
        mv: dict[str, Any] = {}
        if payman_redirect_urls is not None:
            mv["redirect_urls"] = _redirect_urls(payman_redirect_urls)
        if payman_allowed_banks is not None:
            mv["allowed_banks"] = [b.upper() for b in payman_allowed_banks]
        conn.execute(
            update(payman_clients).where(payman_clients.c.customer_id == customer_id).values(**mv)
        )
    if pendar_settings is not None:
        row = _row(conn, pendar_accounts, customer_id)
        merged = {**dict(row["settings"] or {}), **pendar_settings} if row else pendar_settings
        conn.execute(
            update(pendar_accounts)
            .where(pendar_accounts.c.customer_id == customer_id)
            .values(settings=merged)
        )
    return get_customer(conn, str(customer_id))


def rotate_secrets(
    conn: Connection,
    clock: Clock,
    ref: str,
    surface: str,
    *,
    pendar_public_key_pem: str | None = None,
) -> dict[str, Any]:
    """Issue new secrets for one surface; the old ones stop working at once."""
    if surface not in SURFACES:
        raise InvalidInput(f"unknown surface {surface!r}", {"surface": list(SURFACES)})
    customer_id = resolve_customer_id(conn, ref)
    now = clock.now_utc()
    epoch = credentials.bump(conn)
    shown: dict[str, Any]
    if surface == "jibit":
        secret = new_secret(24)
        conn.execute(
            update(jibit_credentials)
            .where(jibit_credentials.c.customer_id == customer_id)
            .values(secret_hash=hash_secret(secret), rotated_at=now)
        )
        api_key = conn.execute(
            select(jibit_credentials.c.api_key).where(
                jibit_credentials.c.customer_id == customer_id
            )
        ).scalar_one()
        shown = {"apiKey": api_key, "secretKey": secret}
    elif surface == "paystar":
        access_password = new_secret(18)
        refresh_token = new_secret(32)
        conn.execute(
            update(paystar_applications)
            .where(paystar_applications.c.customer_id == customer_id)
            .values(
                access_password_hash=hash_secret(access_password),
                refresh_token_hash=hash_secret(refresh_token),
                rotated_at=now,
            )
        )
        shown = {"access_password": access_password, "refresh_token": refresh_token}
    elif surface == "pendar":
        report_key = new_secret(24)
        values: dict[str, Any] = {"report_key_hash": hash_secret(report_key), "rotated_at": now}
        shown = {"report_key": report_key}
        if pendar_public_key_pem:
            values["public_key_pem"] = rsa_keys.normalize_public_pem(pendar_public_key_pem)
        else:
            public_pem, private_pem, private_xml = rsa_keys.generate_key_pair()
            values["public_key_pem"] = public_pem
            shown.update({"private_key_pem": private_pem, "private_key_xml": private_xml})
        shown["public_key_pem"] = values["public_key_pem"]
        conn.execute(
            update(pendar_accounts)
            .where(pendar_accounts.c.customer_id == customer_id)
            .values(**values)
        )
    else:
        # The secret and the App-Key both: the App-Key is stored hashed, so a new one is the
        # only way to show it again. Every token issued before ends (a new generation).
        client_secret = new_secret(32)
        app_key = new_code(32)
        conn.execute(
            update(payman_clients)
            .where(payman_clients.c.customer_id == customer_id)
            .values(
                client_secret_hash=hash_secret(client_secret),
                app_key_hash=hash_secret(app_key),
                rotated_at=now,
                generation=epoch,
            )
        )
        client_id = conn.execute(
            select(payman_clients.c.client_id).where(payman_clients.c.customer_id == customer_id)
        ).scalar_one()
        shown = {"client_id": client_id, "client_secret": client_secret, "app_key": app_key}
    return {"customer": get_customer(conn, str(customer_id)), "secrets": {surface: shown}}


def topup(
    conn: Connection,
    clock: Clock,
    ref: str,
    wallet: str,
    amount: int,
    *,
    reference: str | None = None,
) -> dict[str, Any]:
    """Add ``amount`` rials to a wallet (negative amounts are adjustments, never overdrawing)."""
    if wallet not in WALLETS:
        raise InvalidInput(f"unknown wallet {wallet!r}", {"wallet": sorted(WALLETS)})
    if amount == 0:
        raise InvalidInput("amount must not be zero", {"amount": amount})
    if abs(amount) > MAX_RIALS:
        raise InvalidInput(f"amount must be at most {MAX_RIALS} rials", {"amount": amount})
    customer_id = resolve_customer_id(conn, ref)
    now = clock.now_utc()
    result = conn.execute(
        update(wallets)
        .where(
            and_(
                wallets.c.customer_id == customer_id,
                wallets.c.wallet == wallet,
                wallets.c.balance + wallets.c.credit_limit + amount >= 0,
                wallets.c.balance + amount <= MAX_BALANCE,
            )
        )
        .values(balance=wallets.c.balance + amount, updated_at=now)
        .returning(wallets.c.balance)
    ).scalar_one_or_none()
    if result is None and amount > 0:  # a top-up cannot overdraw: it would pass the bound
        raise InvalidInput(
            f"the top-up would take the wallet beyond {MAX_BALANCE} rials", {"amount": amount}
        )
    if result is None:
        raise InvalidInput("the adjustment would overdraw the wallet", {"amount": amount})
    conn.execute(
        insert(wallet_entries).values(
            customer_id=customer_id,
            wallet=wallet,
            at=now,
            amount=amount,
            balance_after=result,
            reason="topup" if amount > 0 else "adjustment",
            reference=reference,
        )
    )
    return {"wallet": wallet, "balance": int(result)}


def set_credit_limit(
    conn: Connection, clock: Clock, ref: str, wallet: str, credit_limit: int
) -> dict[str, Any]:
    if wallet not in WALLETS or not WALLETS[wallet].postpaid:
        raise InvalidInput("credit limits apply to postpaid wallets only", {"wallet": wallet})
    if not 0 <= credit_limit <= MAX_RIALS:
        raise InvalidInput(f"credit_limit must be 0..{MAX_RIALS}", {"credit_limit": credit_limit})
    customer_id = resolve_customer_id(conn, ref)
    row = conn.execute(
        update(wallets)
        .where(
            and_(
                wallets.c.customer_id == customer_id,
                wallets.c.wallet == wallet,
                wallets.c.balance + credit_limit >= 0,
            )
        )
        .values(credit_limit=credit_limit, updated_at=clock.now_utc())
        .returning(wallets.c.balance, wallets.c.credit_limit)
    ).first()
    if row is None:
        raise InvalidInput(
            "the wallet is already below the new credit limit", {"credit_limit": credit_limit}
        )
    return {"wallet": wallet, "balance": int(row[0]), "credit_limit": int(row[1])}


def set_price(
    conn: Connection,
    ref: str,
    surface: str,
    service: str,
    *,
    price: int | None = None,
    daily_limit: int | None = None,
    clear_daily_limit: bool = False,
    enabled: bool | None = None,
) -> dict[str, Any]:
    """Set a service's price (rials) and/or daily limit for one customer."""
    if surface not in SURFACES:
        raise InvalidInput(f"unknown surface {surface!r}", {"surface": list(SURFACES)})
    if not service or len(service) > 64:
        raise InvalidInput("service must be 1..64 characters", {"service": service})
    if price is not None and not 0 <= price <= MAX_RIALS:
        raise InvalidInput(f"price must be 0..{MAX_RIALS}", {"price": price})
    if daily_limit is not None and not 0 <= daily_limit <= MAX_DAILY_LIMIT:
        raise InvalidInput(
            f"daily_limit must be 0..{MAX_DAILY_LIMIT}", {"daily_limit": daily_limit}
        )
    customer_id = resolve_customer_id(conn, ref)
    credentials.bump(conn)  # the credential cache keeps price rules: every process reloads
    key = and_(
        service_prices.c.customer_id == customer_id,
        service_prices.c.surface == surface,
        service_prices.c.service == service,
    )
    existing = conn.execute(select(service_prices).where(key)).mappings().first()
    values: dict[str, Any] = {}
    if price is not None:
        values["price"] = price
    if daily_limit is not None or clear_daily_limit:
        values["daily_limit"] = None if clear_daily_limit else daily_limit
    if enabled is not None:
        values["enabled"] = enabled
    if existing is None:
        conn.execute(
            insert(service_prices).values(
                customer_id=customer_id,
                surface=surface,
                service=service,
                price=values.get("price"),
                daily_limit=values.get("daily_limit"),
                enabled=values.get("enabled", True),
            )
        )
    elif values:
        conn.execute(update(service_prices).where(key).values(**values))
    row = conn.execute(select(service_prices).where(key)).mappings().one()
    return {
        "surface": surface,
        "service": service,
        "price": row["price"],
        "daily_limit": row["daily_limit"],
        "enabled": bool(row["enabled"]),
    }


def usage(
    conn: Connection,
    ref: str,
    *,
    day_from: date | None = None,
    day_to: date | None = None,
    surface: str | None = None,
    group: bool = True,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Usage of one customer: counts and amounts per day/surface/service/outcome, or raw events."""
    customer_id = resolve_customer_id(conn, ref)
    conds = [usage_events.c.customer_id == customer_id]
    if day_from:
        conds.append(usage_events.c.day >= day_from)
    if day_to:
        conds.append(usage_events.c.day <= day_to)
    if surface:
        conds.append(usage_events.c.surface == surface)
    if group:
        q = (
            select(
                usage_events.c.day,
                usage_events.c.surface,
                usage_events.c.service,
                usage_events.c.outcome,
                func.count().label("count"),
                func.coalesce(func.sum(usage_events.c.price), 0).label("amount"),
            )
            .where(and_(*conds))
            .group_by(
                usage_events.c.day,
                usage_events.c.surface,
                usage_events.c.service,
                usage_events.c.outcome,
            )
            .order_by(
                usage_events.c.day,
                usage_events.c.surface,
                usage_events.c.service,
                usage_events.c.outcome,
            )
        )
        return [
            {
                "day": r["day"].isoformat(),
                "surface": r["surface"],
                "service": r["service"],
                "outcome": r["outcome"],
                "count": int(r["count"]),
                "amount": int(r["amount"]),
            }
            for r in conn.execute(q).mappings()
        ]
    q2 = select(usage_events).where(and_(*conds)).order_by(usage_events.c.id.desc()).limit(limit)
    return [
        {
            "id": r["id"],
            "at": _iso(r["at"]),
            "day": r["day"].isoformat(),
            "surface": r["surface"],
            "service": r["service"],
            "outcome": r["outcome"],
            "price": r["price"],
            "wallet": r["wallet"],
            "track_id": r["track_id"],
        }
        for r in conn.execute(q2).mappings()
    ]
