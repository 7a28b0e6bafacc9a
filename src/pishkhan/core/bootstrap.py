"""First run and sandbox reset: the demo customer and the default world."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select

from pishkhan.core.db import metadata
from pishkhan.core.files import write_private
from pishkhan.core.logging import log_event
from pishkhan.core.schema import load_all_tables
from pishkhan.runtime import Runtime
from pishkhan.tenants import credentials
from pishkhan.tenants import service as tenants
from pishkhan.tenants.tables import customers

log = logging.getLogger("pishkhan.bootstrap")
DEMO_SLUG = "demo"
KEEP_ON_RESET = frozenset(
    {"audit_log", "alembic_version", "deployment_secrets", "credential_epoch"}
)


def demo_credentials_path(runtime: Runtime) -> Path:
    return runtime.settings.data_dir / "demo-credentials.json"


def _seed_world(runtime: Runtime, people: int, seed: int) -> bool:
    try:
        from pishkhan import world
    except ImportError:  # the world package is optional while it is being built
        return False
    seed_fn = getattr(world, "seed_default_world", None)
    empty_fn = getattr(world, "world_is_empty", None)
    if seed_fn is None or empty_fn is None:
        return False
    with runtime.db.write() as conn:
        if not empty_fn(conn):
            return False
        seed_fn(conn, people=people, seed=seed)
        runtime.audit.append(
            conn,
            actor="system",
            action="world.seed",
            subject="world",
            data={"people": people, "seed": seed},
        )
    return True


def ensure_demo(runtime: Runtime) -> dict[str, Any] | None:
    """On an empty database create the demo customer and write its credentials file.

    Returns the created customer with its secrets, or None when customers already exist.
    """
    with runtime.db.write() as conn:
        if conn.execute(select(func.count()).select_from(customers)).scalar_one():
            return None
        base = runtime.settings.effective_base_url
        created = tenants.create_customer(
            conn,
            runtime.clock,
            tenants.NewCustomer(
                name="Demo customer",
                slug=DEMO_SLUG,
                payman_redirect_urls=(f"{base}/_pishkhan/demo/payman-callback",),
            ),
        )
        runtime.audit.append(
            conn,
            actor="system",
            action="customer.create",
            subject=f"customer:{created['id']}",
            data={"slug": DEMO_SLUG, "reason": "first run"},
        )
    write_demo_credentials(runtime, created)
    return created


def write_demo_credentials(runtime: Runtime, created: dict[str, Any]) -> Path:
    doc = {
        "customer": {"id": created["id"], "slug": created["slug"], "name": created["name"]},
        "base_url": runtime.settings.effective_base_url,
        "credentials": created["secrets"],
    }
    return write_private(
        demo_credentials_path(runtime), json.dumps(doc, indent=2, ensure_ascii=False)
    )


def first_run(runtime: Runtime) -> dict[str, Any] | None:
    if runtime.settings.seed_world and _seed_world(runtime, runtime.settings.world_people, seed=1):
        log_event(log, "default world seeded", people=runtime.settings.world_people)
    return ensure_demo(runtime)


def reset(
    runtime: Runtime, *, seed_world: bool = True, people: int | None = None, seed: int = 1
) -> dict[str, Any]:
    """Empty every table but the audit log (and the deployment's secret verifiers), then recreate
    the demo customer (and the world)."""
    try:  # refused before anything is emptied (both are recorded in the audit log)
        from pishkhan.world.generator import check_seed_args
    except ImportError:  # the world package is optional
        pass
    else:
        check_seed_args(people or 0, seed)
    load_all_tables()
    with runtime.db.write() as conn:
        for table in reversed(metadata.sorted_tables):
            if table.name not in KEEP_ON_RESET:
                conn.execute(delete(table))
        credentials.bump(conn)  # every process drops the customers it cached, at once
        runtime.audit.append(
            conn,
            actor="admin",
            action="sandbox.reset",
            subject="sandbox",
            data={"seed_world": seed_world, "people": people, "seed": seed},
            # A reset also repairs an unusable sandbox clock: it must not need to read one.
            at=runtime.clock.now_utc_or_real(),
        )
    runtime.state.invalidate()
    for hook in runtime.reset_hooks:
        hook()
    seeded = seed_world and _seed_world(runtime, people or runtime.settings.world_people, seed)
    created = ensure_demo(runtime)
    return {"world_seeded": seeded, "demo": created}
