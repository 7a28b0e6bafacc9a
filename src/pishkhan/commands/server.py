"""``pishkhan serve``, ``pishkhan db upgrade|current``, ``pishkhan config``."""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from typing import Any

from pishkhan.commands.context import (
    CommandError,
    load_settings,
    open_runtime,
    print_json,
    print_mapping,
)
from pishkhan.settings import Settings


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="migrate, bootstrap on first run, and start the server")
    p.add_argument("--host", help="bind address (default PISHKHAN_HOST or 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default PISHKHAN_PORT or 8000)")
    p.add_argument("--workers", type=int, help="worker processes (default PISHKHAN_WORKERS or 1)")
    p.add_argument(
        "--server",
        choices=("uvicorn", "granian"),
        default=os.environ.get("PISHKHAN_SERVER", "uvicorn"),
    )
    p.add_argument(
        "--no-bootstrap", action="store_true", help="skip the first-run demo customer and world"
    )
    p.set_defaults(handler=serve)

    db = sub.add_parser("db", help="database migrations")
    dbsub = db.add_subparsers(dest="db_command", required=True)
    up = dbsub.add_parser("upgrade", help="migrate the database to the newest schema")
    up.set_defaults(handler=db_upgrade)
    cur = dbsub.add_parser("current", help="show the schema revision")
    cur.set_defaults(handler=db_current)

    c = sub.add_parser("config", help="print the effective settings (secrets masked)")
    c.add_argument("--json", action="store_true")
    c.set_defaults(handler=config)


def _settings_from(args: argparse.Namespace) -> Settings:
    settings = load_settings()
    changes: dict[str, Any] = {}
    if getattr(args, "host", None):
        changes["host"] = args.host
    if getattr(args, "port", None):
        changes["port"] = args.port
    if getattr(args, "workers", None):
        changes["workers"] = args.workers
    return replace(settings, **changes).validated() if changes else settings


def print_credentials(created: dict[str, Any], path: str) -> None:
    s = created["secrets"]
    print("pishkhan: first run: created the demo customer; its credentials (shown once, also in")
    print(f"  {path}):")
    print(f"  Jibit    apiKey={s['jibit']['apiKey']}  secretKey={s['jibit']['secretKey']}")
    p = s["paystar"]
    print(
        f"  Paystar  application_id={p['application_id']}  access_password={p['access_password']}"
    )
    print(f"           refresh_token={p['refresh_token']}")
    d = s["pendar"]
    print(f"  Pendar   customercode={d['customercode']}  report_key={d['report_key']}")
    print("           private key: see the JSON file (PEM and .NET XML)")
    m = s["payman"]
    print(
        f"  Payman   client_id={m['client_id']}  client_secret={m['client_secret']}  app_key={m['app_key']}"
    )


def serve(args: argparse.Namespace) -> int:
    from pishkhan.core import bootstrap

    settings = _settings_from(args)
    data_dir = settings.data_dir.resolve()
    # Workers build their own app from the environment: hand them the effective settings.
    os.environ.update(
        {
            "PISHKHAN_DATA_DIR": str(data_dir),
            "PISHKHAN_HOST": settings.host,
            "PISHKHAN_PORT": str(settings.port),
            "PISHKHAN_WORKERS": str(settings.workers),
        }
    )
    settings = replace(settings, data_dir=data_dir)
    with open_runtime(settings) as runtime:
        if not args.no_bootstrap:
            created = bootstrap.first_run(runtime)
            if created is not None:
                print_credentials(created, str(bootstrap.demo_credentials_path(runtime)))
    print(
        f"pishkhan: serving on http://{settings.host}:{settings.port} "
        f"({settings.workers} worker(s), {args.server}, database {runtime.db.dialect})",
        flush=True,
    )
    if args.server == "granian":
        from granian import Granian
        from granian.constants import Interfaces
        from granian.http import HTTP1Settings, HTTP2Settings

        Granian(
            "pishkhan.asgi:app",
            address=settings.host,
            port=settings.port,
            interface=Interfaces.ASGI,
            workers=settings.workers,
            log_access=False,
            # The request head's bounds (the body's are the app's: web/limits.py): its read
            # buffer holds the head, so a larger head is refused (431).
            http1_settings=HTTP1Settings(
                header_read_timeout=round(settings.header_timeout * 1000),
                max_buffer_size=settings.max_header,
            ),
            http2_settings=HTTP2Settings(max_headers_size=settings.max_header),
        ).serve()
    else:
        import uvicorn

        from pishkhan.web.uvicorn_http import HttpToolsProtocol

        uvicorn.run(
            "pishkhan.asgi:app",
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            log_config=None,
            access_log=False,
            server_header=False,
            # one send() per response, bounded request heads (web/uvicorn_http.py)
            http=HttpToolsProtocol,
        )
    return 0


def db_upgrade(_args: argparse.Namespace) -> int:
    from pishkhan.core import migrate

    with open_runtime(secrets=False) as runtime:
        print(f"database at revision {migrate.current_revision(runtime.db)} ({runtime.db.dialect})")
    return 0


def db_current(_args: argparse.Namespace) -> int:
    from pishkhan.core import migrate

    with open_runtime(migrate=False, secrets=False) as runtime:
        current = migrate.current_revision(runtime.db)
        head = migrate.head_revision(runtime.db)
    print(f"current {current or '(empty)'}; newest {head}")
    return 0 if current == head else 1


def config(args: argparse.Namespace) -> int:
    from pishkhan.core.deployment import local_settings

    try:
        settings = local_settings(load_settings())
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    described = settings.describe()
    described["effective_database_url"] = described.pop("database_url")
    if args.json:
        print_json(described)
    else:
        print_mapping(described)
    return 0
