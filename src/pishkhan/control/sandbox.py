"""Admin API: sandbox reset, the clock, and the audit log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from pishkhan.control import sandbox_ops
from pishkhan.control.http import api_error_from, json_response, query_int, read_model
from pishkhan.core import bootstrap
from pishkhan.core.errors import PishkhanError
from pishkhan.core.ints import INT64_SCHEMA
from pishkhan.core.tables import audit_log
from pishkhan.runtime import Runtime, get_runtime
from pishkhan.web.openapi import ApiRoute, Op
from pishkhan.world.generator import MAX_PEOPLE


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ResetBody(_Body):
    seed_world: bool = True
    people: int | None = Field(default=None, ge=0, le=MAX_PEOPLE)
    seed: int = 1


class FreezeBody(_Body):
    at: str | None = Field(
        default=None, description="ISO-8601; no offset means Tehran time; absent: now"
    )


class SecondsBody(_Body):
    seconds: float


async def _call(request: Request, fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return await run_in_threadpool(fn, get_runtime(request), *args)
    except PishkhanError as exc:
        raise api_error_from(exc) from exc


async def reset(request: Request) -> Response:
    body = await read_model(request, ResetBody)

    def work(runtime: Runtime) -> Any:
        result = bootstrap.reset(
            runtime, seed_world=body.seed_world, people=body.people, seed=body.seed
        )
        demo = result["demo"]
        return {"world_seeded": result["world_seeded"], "demo": demo}

    return json_response(await _call(request, work))


async def clock_show(request: Request) -> Response:
    return json_response(sandbox_ops.clock_view(get_runtime(request)))


async def clock_freeze(request: Request) -> Response:
    body = await read_model(request, FreezeBody)
    return json_response(await _call(request, sandbox_ops.freeze, body.at))


async def clock_offset(request: Request) -> Response:
    body = await read_model(request, SecondsBody)
    return json_response(await _call(request, sandbox_ops.offset, body.seconds))


async def clock_advance(request: Request) -> Response:
    body = await read_model(request, SecondsBody)
    return json_response(await _call(request, sandbox_ops.advance, body.seconds))


async def clock_clear(request: Request) -> Response:
    return json_response(await _call(request, sandbox_ops.clear))


async def audit_verify(request: Request) -> Response:
    return json_response(await _call(request, sandbox_ops.verify_audit))


async def audit_list(request: Request) -> Response:
    after = query_int(request, "after", 0)
    limit = max(1, min(query_int(request, "limit", 100), 1000))

    def work(runtime: Runtime) -> Any:
        with runtime.db.read() as conn:
            rows = conn.execute(
                select(audit_log)
                .where(audit_log.c.id > after)
                .order_by(audit_log.c.id)
                .limit(limit)
            ).mappings()
            return {
                "entries": [
                    {
                        **{
                            k: r[k]
                            for k in (
                                "id",
                                "actor",
                                "action",
                                "subject",
                                "data",
                                "prev_id",
                                "prev_hash",
                                "hash",
                            )
                        },
                        "at": r["at"].isoformat(),
                    }
                    for r in rows
                ]
            }

    return json_response(await _call(request, work))


_S = ["sandbox"]
routes: list[BaseRoute] = [
    ApiRoute(
        "/sandbox/reset",
        reset,
        methods=["POST"],
        op=Op(
            "Empty every table but the audit log and the deployment's secret verifiers, reseed the world, recreate the demo customer",
            body=ResetBody,
            tags=_S,
            operation_id="sandboxReset",
        ),
    ),
    ApiRoute(
        "/clock",
        clock_show,
        methods=["GET"],
        op=Op("The sandbox clock", tags=_S, operation_id="clockShow"),
    ),
    ApiRoute(
        "/clock/freeze",
        clock_freeze,
        methods=["POST"],
        op=Op(
            "Freeze the clock at an instant", body=FreezeBody, tags=_S, operation_id="clockFreeze"
        ),
    ),
    ApiRoute(
        "/clock/offset",
        clock_offset,
        methods=["POST"],
        op=Op(
            "Run the clock at an offset from real time",
            body=SecondsBody,
            tags=_S,
            operation_id="clockOffset",
        ),
    ),
    ApiRoute(
        "/clock/advance",
        clock_advance,
        methods=["POST"],
        op=Op(
            "Move the clock by some seconds, keeping its mode",
            body=SecondsBody,
            tags=_S,
            operation_id="clockAdvance",
        ),
    ),
    ApiRoute(
        "/clock/clear",
        clock_clear,
        methods=["POST"],
        op=Op("Back to real time", tags=_S, operation_id="clockClear"),
    ),
    ApiRoute(
        "/audit/verify",
        audit_verify,
        methods=["GET"],
        op=Op("Verify the audit log's hash chain", tags=["audit"], operation_id="auditVerify"),
    ),
    ApiRoute(
        "/audit",
        audit_list,
        methods=["GET"],
        op=Op(
            "Audit entries after an id",
            query=[
                ("after", INT64_SCHEMA, False, "entry id"),
                ("limit", INT64_SCHEMA, False, "at most 1000 (more is 1000, less than 1 is 1)"),
            ],
            tags=["audit"],
            operation_id="auditList",
        ),
    ),
]
