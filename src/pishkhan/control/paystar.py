"""Admin API: Paystar sandbox faults (upstream provider error, server error).

``GET /_pishkhan/v1/paystar/faults`` shows them, ``PUT`` sets or clears one target's fault,
``DELETE`` clears them all. See :mod:`pishkhan.providers.paystar.sandbox`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from pishkhan.control.http import api_error_from, json_response, read_model
from pishkhan.core.errors import PishkhanError
from pishkhan.providers.paystar import sandbox
from pishkhan.runtime import Runtime, get_runtime
from pishkhan.web.openapi import ApiRoute, Op

Target = Literal[
    "*", "refresh-api-key", "mobile-national-id", "card-national-id", "iban-national-id"
]


class FaultSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    target: Target = Field(description="a matching service, refresh-api-key, or * for every call")
    fault: Literal["upstream_error", "server_error"] | None = Field(
        description="upstream_error: status 11 (matching only); server_error: HTTP 500 status 0; "
        "null clears the target's fault"
    )


class FaultsView(BaseModel):
    faults: dict[str, str]


def show(runtime: Runtime) -> dict[str, Any]:
    with runtime.db.read() as conn:
        return {"faults": sandbox.stored(conn)}


def set_fault(runtime: Runtime, target: str, fault: str | None) -> dict[str, Any]:
    with runtime.db.write() as conn:
        current = sandbox.set_fault(conn, runtime.state, target, fault, runtime.clock.now_utc())
        runtime.audit.append(
            conn,
            actor="admin",
            action="paystar.fault",
            subject=f"paystar:{target}",
            data={"target": target, "fault": fault},
        )
    return {"faults": current}


def clear(runtime: Runtime) -> dict[str, Any]:
    with runtime.db.write() as conn:
        sandbox.clear(conn, runtime.state, runtime.clock.now_utc())
        runtime.audit.append(
            conn, actor="admin", action="paystar.fault.clear", subject="paystar:*", data={}
        )
    return {"faults": {}}


async def _run(request: Request, fn: Any, *args: Any) -> Response:
    try:
        return json_response(await run_in_threadpool(fn, get_runtime(request), *args))
    except PishkhanError as exc:
        raise api_error_from(exc) from exc


async def faults_show(request: Request) -> Response:
    return await _run(request, show)


async def faults_set(request: Request) -> Response:
    body = await read_model(request, FaultSet)
    return await _run(request, set_fault, body.target, body.fault)


async def faults_clear(request: Request) -> Response:
    return await _run(request, clear)


_VIEW = {200: ("The faults in force, by target", FaultsView)}
routes: list[BaseRoute] = [
    ApiRoute(
        "/paystar/faults",
        faults_show,
        methods=["GET"],
        op=Op(summary="Paystar sandbox faults in force", responses=_VIEW, tags=("paystar",)),
    ),
    ApiRoute(
        "/paystar/faults",
        faults_set,
        methods=["PUT"],
        op=Op(
            summary="Set or clear (fault=null) the Paystar sandbox fault of one target",
            body=FaultSet,
            responses=_VIEW,
            tags=("paystar",),
        ),
    ),
    ApiRoute(
        "/paystar/faults",
        faults_clear,
        methods=["DELETE"],
        op=Op(summary="Clear every Paystar sandbox fault", responses=_VIEW, tags=("paystar",)),
    ),
]
