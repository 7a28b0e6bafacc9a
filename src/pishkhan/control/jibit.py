"""Admin API: Jibit sandbox controls.

* ``GET/PUT /_pishkhan/v1/jibit/faults``: services answering ``providers.not_available``
  (``["*"]`` for all) and added latency in milliseconds.
* ``GET /_pishkhan/v1/jibit/banks``, ``PUT /_pishkhan/v1/jibit/banks/{bank}``: per-bank
  ``active`` (``card.source_bank_is_not_active``), ``provider_active``
  (``card.provider_is_not_active``) and ``card_to_iban_available`` (availability report;
  card-to-IBAN answers ``providers.not_available``).
* ``GET/PUT /_pishkhan/v1/jibit/sana``: ``{"mismatch": "error" | "matched_false"}``, Sana's
  answer when the SIM is not the person's: ``mobileNumber.not_valid`` (default, the document's
  note) or 200 ``matched: false`` (pishkhan's earlier answer, for clients built against it).
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
from pishkhan.providers.jibit import sandbox
from pishkhan.runtime import get_runtime
from pishkhan.web.openapi import ApiRoute, Op


class FaultsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unavailable: list[str] | None = Field(
        default=None, description="Jibit services (e.g. CARD_INQUIRY) or * for all; [] clears"
    )
    latency_ms: int | None = Field(default=None, ge=0, le=60_000)


class Faults(BaseModel):
    unavailable: list[str]
    latency_ms: int


class SanaBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mismatch: Literal["error", "matched_false"] = Field(
        description="error: mobileNumber.not_valid (default); matched_false: 200 matched: false"
    )


class Sana(BaseModel):
    mismatch: Literal["error", "matched_false"]


class BankBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    active: bool | None = None
    provider_active: bool | None = None
    card_to_iban_available: bool | None = None


class JibitBankState(BaseModel):
    bank: str
    active: bool
    provider_active: bool
    card_to_iban_available: bool


async def _run(fn: Any, *args: Any) -> Response:
    try:
        return json_response(await run_in_threadpool(fn, *args))
    except PishkhanError as exc:
        raise api_error_from(exc) from exc


async def faults_show(request: Request) -> Response:
    return await _run(sandbox.faults, get_runtime(request))


async def faults_set(request: Request) -> Response:
    body = await read_model(request, FaultsBody)
    rt = get_runtime(request)
    return await _run(
        lambda: sandbox.set_faults(rt, unavailable=body.unavailable, latency_ms=body.latency_ms)
    )


async def sana_show(request: Request) -> Response:
    return await _run(sandbox.sana, get_runtime(request))


async def sana_set(request: Request) -> Response:
    body = await read_model(request, SanaBody)
    return await _run(sandbox.set_sana, get_runtime(request), body.mismatch)


async def banks_show(request: Request) -> Response:
    return await _run(sandbox.banks, get_runtime(request))


async def bank_set(request: Request) -> Response:
    body = await read_model(request, BankBody)
    flags = {k: v for k, v in body.model_dump().items() if v is not None}
    return await _run(sandbox.set_bank, get_runtime(request), request.path_params["bank"], flags)


routes: list[BaseRoute] = [
    ApiRoute(
        "/jibit/faults",
        faults_show,
        methods=["GET"],
        op=Op(
            summary="Jibit faults and latency", tags=["jibit"], responses={200: ("faults", Faults)}
        ),
    ),
    ApiRoute(
        "/jibit/faults",
        faults_set,
        methods=["PUT"],
        op=Op(
            summary="Set Jibit faults and latency",
            body=FaultsBody,
            tags=["jibit"],
            responses={200: ("faults", Faults)},
        ),
    ),
    ApiRoute(
        "/jibit/sana",
        sana_show,
        methods=["GET"],
        op=Op(
            summary="Sana's answer to a SIM/national-code mismatch",
            tags=["jibit"],
            responses={200: ("mode", Sana)},
        ),
    ),
    ApiRoute(
        "/jibit/sana",
        sana_set,
        methods=["PUT"],
        op=Op(
            summary="Set Sana's answer to a SIM/national-code mismatch (error or matched_false)",
            body=SanaBody,
            tags=["jibit"],
            responses={200: ("mode", Sana)},
        ),
    ),
    ApiRoute(
        "/jibit/banks",
        banks_show,
        methods=["GET"],
        op=Op(summary="Per-bank Jibit switches", tags=["jibit"]),
    ),
    ApiRoute(
        "/jibit/banks/{bank}",
        bank_set,
        methods=["PUT"],
        op=Op(
            summary="Set a bank's Jibit switches",
            body=BankBody,
            tags=["jibit"],
            responses={200: ("bank", JibitBankState)},
        ),
    ),
]
