"""Admin API for the Payman sandbox: bank states, forced pay outcomes, mandate and payment
operations (expire, headless consent approval, settle, reverse, reconcile), ledger check."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, insert, or_, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from pishkhan.control.http import ApiError, json_response, read_model
from pishkhan.core.ints import INT32_MAX
from pishkhan.iran.banks import by_payman_code
from pishkhan.providers.payman import consent, ledger, lifecycle, payments, sandbox
from pishkhan.providers.payman.errors import PaymanError
from pishkhan.providers.payman.tables import (
    payman_consents,
    payman_forced_outcomes,
    payman_mandates,
)
from pishkhan.runtime import Runtime, get_runtime
from pishkhan.web.openapi import ApiRoute, Op


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BankState(_Body):
    status: str = Field(pattern="^(stable|unstable|inaccessible)$")
    services: list[str] = Field(default_factory=lambda: list(sandbox.SERVICES))
    failure_rate: float = Field(default=sandbox.DEFAULT_FAILURE_RATE, ge=0, le=1)


class Force(_Body):
    outcome: str = Field(pattern="^(SUCCEED|FAILED|TIMEOUT|IN_PROGRESS)$")
    payman_id: str | None = None
    count: int | None = Field(default=1, ge=1, le=INT32_MAX)


class Approve(_Body):
    national_code: str | None = None
    mobile: str | None = None
    deposit_iban: str | None = None
    action: str = Field(default="approve", pattern="^(approve|cancel)$")


class Settle(_Body):
    status: str = Field(pattern="^(SUCCEED|FAILED)$")


class Reconcile(_Body):
    reconcile_status: int = Field(ge=0, le=1)


def _run(rt: Runtime, fn: Callable[[Runtime], Any]) -> Any:
    """One operation; the surface's own refusals become a 409 naming the Payman code."""
    try:
        return fn(rt)
    except PaymanError as exc:
        raise ApiError(409, f"payman.{exc.code}", exc.message) from exc


# -- operations (the admin API below and ``pishkhan payman`` both call these) --------------


def banks_view(rt: Runtime) -> dict[str, dict[str, str]]:
    """Every Payman bank's state per service (stable, unstable, inaccessible)."""
    rt.state.invalidate()
    return {
        code: {s: sandbox.bank_state(rt.state, code, s)[0] for s in sandbox.SERVICES}
        for code in sandbox.bank_codes()
    }


def set_bank(
    rt: Runtime,
    bank_code: str,
    status: str,
    services: Sequence[str] | None = None,
    failure_rate: float = sandbox.DEFAULT_FAILURE_RATE,
) -> dict[str, Any]:
    code = bank_code.upper()
    if by_payman_code(code) is None:
        raise ApiError(404, "not_found", f"no Payman bank {code!r}")
    body = BankState(
        status=status,
        services=list(services or sandbox.SERVICES),
        failure_rate=failure_rate,
    )
    bad = sorted(set(body.services) - set(sandbox.SERVICES))
    if bad:
        raise ApiError(400, "invalid_input", f"unknown services {bad}")
    with rt.db.write() as conn:
        sandbox.set_bank_state(
            conn,
            rt.state,
            bank_code=code,
            status=body.status,
            services=tuple(body.services),
            failure_rate=body.failure_rate,
            now_ms=rt.clock.millis(),
            now=rt.clock.now_utc(),
        )
        rt.audit.append(
            conn,
            actor="admin",
            action="payman.bank",
            subject=f"payman:{code}",
            data=body.model_dump(),
        )
    return {"bank": code, "status": body.status, "services": body.services}


def force(rt: Runtime, body: Force) -> dict[str, Any]:
    with rt.db.write() as conn:
        conn.execute(
            insert(payman_forced_outcomes).values(
                payman_id=body.payman_id,
                outcome=body.outcome,
                remaining=body.count,
                created_at=rt.clock.now_utc(),
            )
        )
        rt.state.put(conn, sandbox.FORCE_KEY, {"active": True}, rt.clock.now_utc())
        rt.audit.append(
            conn, actor="admin", action="payman.force", subject="payman", data=body.model_dump()
        )
    return body.model_dump()


def forced_view(rt: Runtime) -> list[dict[str, Any]]:
    with rt.db.read() as conn:
        rows = conn.execute(
            select(
                payman_forced_outcomes.c.id,
                payman_forced_outcomes.c.outcome,
                payman_forced_outcomes.c.payman_id,
                payman_forced_outcomes.c.remaining,
            ).order_by(payman_forced_outcomes.c.id)
        ).mappings()
        return [dict(r) for r in rows]


def clear_forced(rt: Runtime) -> dict[str, Any]:
    with rt.db.write() as conn:
        n = conn.execute(delete(payman_forced_outcomes)).rowcount
        rt.state.put(conn, sandbox.FORCE_KEY, {"active": False}, rt.clock.now_utc())
    return {"removed": n}


def _mandate(conn: Any, ref: str) -> Any:
    row = (
        conn.execute(
            select(payman_mandates)
            .where(or_(payman_mandates.c.payman_id == ref, payman_mandates.c.payman_code == ref))
            .with_for_update()
        )
        .mappings()
        .first()
    )
    if row is None:
        raise ApiError(404, "not_found", f"no mandate {ref!r}")
    return row


def expire(rt: Runtime, ref: str) -> dict[str, Any]:
    now = rt.clock.now_utc()
    with rt.db.write() as conn:
        row = _mandate(conn, ref)
        if row["status"] in lifecycle.FINAL_STATUSES or row["status"] == "INITIALIZING":
            raise ApiError(409, "conflict", f"mandate is {row['status']}")
        lifecycle.transition(
            conn,
            row,
            "EXPIRED",
            lifecycle.INTERNAL_EXPIRED,
            actor="admin",
            now=now,
            extra={"expiration_date": now},
        )
        rt.audit.append(conn, actor="admin", action="payman.expire", subject=f"payman:{ref}")
    return {"payman_code": row["payman_code"], "payman_id": row["payman_id"], "status": "EXPIRED"}


def approve(rt: Runtime, ref: str, body: Approve) -> dict[str, Any]:
    """Complete the open consent page of a mandate without a browser (sign in + decide)."""
    now = rt.clock.now_utc()
    with rt.db.write() as conn:
        row = _mandate(conn, ref)
        token = conn.execute(
            select(payman_consents.c.token)
            .where(payman_consents.c.mandate_id == row["id"], payman_consents.c.stage != "DONE")
            .order_by(payman_consents.c.created_at.desc())
            .limit(1)
        ).scalar_one_or_none()
        if token is None:
            raise ApiError(409, "conflict", "the mandate has no open consent page")
        nc = body.national_code or row["national_code"] or row["owner_national_code"] or ""
        result = consent.login(conn, token, nc, body.mobile or row["mobile"], now)
        if isinstance(result, consent.PageResult):
            return {"location": result.location, "status": result.status}
        done = consent.decide(conn, token, None, body.action, body.deposit_iban, now, trusted=True)
        return {"location": done.location, "status": done.status}


def _txn(fn: Callable[..., Any], *args: Any) -> Callable[[Runtime], Any]:
    def work(rt: Runtime) -> Any:
        with rt.db.write() as conn:
            return fn(conn, rt.clock.now_utc(), *args)

    return work


def settle(rt: Runtime, ref: str, status: str) -> dict[str, Any]:
    result: dict[str, Any] = _run(rt, _txn(payments.settle, ref, status))
    return result


def reverse(rt: Runtime, ref: str) -> dict[str, Any]:
    result: dict[str, Any] = _run(rt, _txn(payments.reverse, ref))
    return result


def reconcile(rt: Runtime, ref: str, reconcile_status: int) -> dict[str, Any]:
    result: dict[str, Any] = _run(rt, _txn(payments.reconcile, ref, reconcile_status))
    return result


def ledger_view(rt: Runtime) -> dict[str, Any]:
    with rt.db.read() as conn:
        total = ledger.total(conn)
    return {"total": total, "balanced": total == 0}


# -- the admin API -------------------------------------------------------------------------


async def _call(request: Request, fn: Callable[[Runtime], Any]) -> Response:
    runtime = get_runtime(request)
    return json_response(await run_in_threadpool(_run, runtime, fn))


async def banks_show(request: Request) -> Response:
    return await _call(request, banks_view)


async def bank_set(request: Request) -> Response:
    code = request.path_params["bank_code"]
    body = await read_model(request, BankState)
    return await _call(
        request, lambda rt: set_bank(rt, code, body.status, body.services, body.failure_rate)
    )


async def force_set(request: Request) -> Response:
    body = await read_model(request, Force)
    return await _call(request, lambda rt: force(rt, body))


async def force_clear(request: Request) -> Response:
    return await _call(request, clear_forced)


async def mandate_expire(request: Request) -> Response:
    ref = request.path_params["ref"]
    return await _call(request, lambda rt: expire(rt, ref))


async def mandate_approve(request: Request) -> Response:
    ref = request.path_params["ref"]
    body = await read_model(request, Approve)
    return await _call(request, lambda rt: approve(rt, ref, body))


async def txn_settle(request: Request) -> Response:
    body = await read_model(request, Settle)
    ref = request.path_params["ref"]
    return await _call(request, lambda rt: settle(rt, ref, body.status))


async def txn_reverse(request: Request) -> Response:
    ref = request.path_params["ref"]
    return await _call(request, lambda rt: reverse(rt, ref))


async def txn_reconcile(request: Request) -> Response:
    body = await read_model(request, Reconcile)
    ref = request.path_params["ref"]
    return await _call(request, lambda rt: reconcile(rt, ref, body.reconcile_status))


async def ledger_check(request: Request) -> Response:
    return await _call(request, ledger_view)


_T = ["payman"]
routes: list[BaseRoute] = [
    ApiRoute(
        "/payman/banks",
        banks_show,
        methods=["GET"],
        op=Op("Payman banks' service states", tags=_T, operation_id="paymanBanks"),
    ),
    ApiRoute(
        "/payman/banks/{bank_code}",
        bank_set,
        methods=["PUT"],
        op=Op(
            "Mark a Payman bank stable, unstable or inaccessible",
            body=BankState,
            tags=_T,
            operation_id="paymanBankSet",
        ),
    ),
    ApiRoute(
        "/payman/force",
        force_set,
        methods=["POST"],
        op=Op(
            "Force the outcome of the next pays", body=Force, tags=_T, operation_id="paymanForce"
        ),
    ),
    ApiRoute(
        "/payman/force",
        force_clear,
        methods=["DELETE"],
        op=Op("Remove every forced outcome", tags=_T, operation_id="paymanForceClear"),
    ),
    ApiRoute(
        "/payman/mandates/{ref}/expire",
        mandate_expire,
        methods=["POST"],
        op=Op("Expire a mandate now", tags=_T, operation_id="paymanExpire"),
    ),
    ApiRoute(
        "/payman/mandates/{ref}/approve",
        mandate_approve,
        methods=["POST"],
        op=Op(
            "Complete a mandate's consent page without a browser",
            body=Approve,
            tags=_T,
            operation_id="paymanApprove",
        ),
    ),
    ApiRoute(
        "/payman/transactions/{ref}/settle",
        txn_settle,
        methods=["POST"],
        op=Op(
            "Settle an IN_PROGRESS or TIMEOUT payment",
            body=Settle,
            tags=_T,
            operation_id="paymanSettle",
        ),
    ),
    ApiRoute(
        "/payman/transactions/{ref}/reverse",
        txn_reverse,
        methods=["POST"],
        op=Op("Reverse a successful payment", tags=_T, operation_id="paymanReverse"),
    ),
    ApiRoute(
        "/payman/transactions/{ref}/reconcile",
        txn_reconcile,
        methods=["POST"],
        op=Op(
            "Set a payment's reconcile status",
            body=Reconcile,
            tags=_T,
            operation_id="paymanReconcile",
        ),
    ),
    ApiRoute(
        "/payman/ledger",
        ledger_check,
        methods=["GET"],
        op=Op("Check that the Payman ledger balances", tags=_T, operation_id="paymanLedger"),
    ),
]
