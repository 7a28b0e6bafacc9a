"""Admin API: customers, their secrets, wallets, prices, limits and usage."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from pishkhan.control.http import ApiError, api_error_from, json_response, query_int, read_model
from pishkhan.core.errors import PishkhanError
from pishkhan.core.ints import INT64_SCHEMA
from pishkhan.runtime import Runtime, get_runtime
from pishkhan.tenants import service as tenants
from pishkhan.web.openapi import ApiRoute, Op

Surface = Literal["jibit", "paystar", "pendar", "payman"]
Wallet = Literal["jibit.PRF", "jibit.POF", "paystar.open_banking", "pendar.credit"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CustomerCreate(_Body):
    name: str = Field(min_length=1, max_length=200)
    slug: str | None = Field(default=None, description="URL-safe id; generated when absent")
    allowed_ips: list[str] = Field(
        default_factory=list, description="Jibit IP allowlist (empty: any)"
    )
    paystar_allowed_ips: list[str] = Field(default_factory=list)
    pendar_public_key_pem: str | None = Field(
        default=None,
        description="RSA public key (PEM); when absent a key pair is generated and the private key returned once",
    )
    pendar_customer_code: str | None = Field(default=None, pattern=r"^\d{1,16}$")
    pendar_license_number: str | None = Field(default=None, pattern=r"^\d{1,32}$")
    payman_redirect_urls: list[str] = Field(default_factory=list)
    payman_allowed_banks: list[str] = Field(
        default_factory=list, description="Payman bank codes (empty: all)"
    )


class CustomerUpdate(_Body):
    name: str | None = None
    allowed_ips: list[str] | None = None
    paystar_allowed_ips: list[str] | None = None
    paystar_services: list[str] | None = None
    payman_redirect_urls: list[str] | None = None
    payman_allowed_banks: list[str] | None = None
    pendar_settings: dict[str, Any] | None = None


class Rotate(_Body):
    surface: Surface
    pendar_public_key_pem: str | None = None


class Topup(_Body):
    wallet: Wallet
    amount: int = Field(description="rials; negative for an adjustment")
    reference: str | None = Field(default=None, max_length=100)


class CreditLimit(_Body):
    wallet: Literal["jibit.POF"]
    credit_limit: int = Field(ge=0)


class PriceSet(_Body):
    surface: Surface
    service: str = Field(min_length=1, max_length=64)
    price: int | None = Field(default=None, ge=0, description="rials per successful call")
    daily_limit: int | None = Field(default=None, ge=0)
    clear_daily_limit: bool = False
    enabled: bool | None = None


class StatusSet(_Body):
    status: Literal["active", "disabled"]


async def _run(request: Request, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return await run_in_threadpool(fn, get_runtime(request), *args, **kwargs)
    except PishkhanError as exc:
        raise api_error_from(exc) from exc


def _audited(
    action: str,
    subject_of: Callable[[Any], str],
    data_of: Callable[[Any], dict[str, Any]] | None = None,
) -> Callable[..., Any]:
    """Wrap a tenants.service call in one transaction with its audit entry."""

    def call(runtime: Runtime, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with runtime.db.write() as conn:
            result = fn(conn, *args, **kwargs)
            runtime.audit.append(
                conn,
                actor="admin",
                action=action,
                subject=subject_of(result),
                data=data_of(result) if data_of else {},
            )
            return result

    return call


def _customer_subject(result: Any) -> str:
    customer = result.get("customer", result) if isinstance(result, dict) else {}
    return f"customer:{customer.get('id', '?')}"


async def create_customer(request: Request) -> Response:
    body = await read_model(request, CustomerCreate)
    req = tenants.NewCustomer(
        name=body.name,
        slug=body.slug,
        allowed_ips=tuple(body.allowed_ips),
        paystar_allowed_ips=tuple(body.paystar_allowed_ips),
        pendar_public_key_pem=body.pendar_public_key_pem,
        pendar_customer_code=body.pendar_customer_code,
        pendar_license_number=body.pendar_license_number,
        payman_redirect_urls=tuple(body.payman_redirect_urls),
        payman_allowed_banks=tuple(body.payman_allowed_banks),
    )

    def work(runtime: Runtime) -> Any:
        call = _audited(
            "customer.create", _customer_subject, lambda r: {"slug": r["slug"], "name": r["name"]}
        )
        return call(runtime, tenants.create_customer, runtime.clock, req)

    return json_response(await _run(request, work), 201)


async def list_customers(request: Request) -> Response:
    def work(runtime: Runtime) -> Any:
        with runtime.db.read() as conn:
            return {"customers": tenants.list_customers(conn)}

    return json_response(await _run(request, work))


async def show_customer(request: Request) -> Response:
    ref = request.path_params["ref"]

    def work(runtime: Runtime) -> Any:
        with runtime.db.read() as conn:
            return tenants.get_customer(conn, ref)

    return json_response(await _run(request, work))


async def update_customer(request: Request) -> Response:
    ref = request.path_params["ref"]
    body = await read_model(request, CustomerUpdate)
    changes = body.model_dump(exclude_none=True)

    def work(runtime: Runtime) -> Any:
        call = _audited(
            "customer.update", _customer_subject, lambda _r: {"fields": sorted(changes)}
        )
        return call(runtime, tenants.update_customer, runtime.clock, ref, **changes)

    return json_response(await _run(request, work))


async def set_status(request: Request) -> Response:
    ref = request.path_params["ref"]
    body = await read_model(request, StatusSet)

    def work(runtime: Runtime) -> Any:
        call = _audited(
            f"customer.{'enable' if body.status == 'active' else 'disable'}", _customer_subject
        )
        return call(runtime, tenants.set_status, runtime.clock, ref, body.status)

    return json_response(await _run(request, work))


async def rotate(request: Request) -> Response:
    ref = request.path_params["ref"]
    body = await read_model(request, Rotate)

    def work(runtime: Runtime) -> Any:
        call = _audited("customer.rotate", _customer_subject, lambda _r: {"surface": body.surface})
        return call(
            runtime,
            tenants.rotate_secrets,
            runtime.clock,
            ref,
            body.surface,
            pendar_public_key_pem=body.pendar_public_key_pem,
        )

    return json_response(await _run(request, work))


async def topup(request: Request) -> Response:
    ref = request.path_params["ref"]
    body = await read_model(request, Topup)

    def work(runtime: Runtime) -> Any:
        with runtime.db.write() as conn:
            cid = tenants.resolve_customer_id(conn, ref)
            result = tenants.topup(
                conn, runtime.clock, ref, body.wallet, body.amount, reference=body.reference
            )
            runtime.audit.append(
                conn,
                actor="admin",
                action="wallet.topup",
                subject=f"customer:{cid}",
                data={"wallet": body.wallet, "amount": body.amount, "reference": body.reference},
            )
            return result

    return json_response(await _run(request, work))


async def credit_limit(request: Request) -> Response:
    ref = request.path_params["ref"]
    body = await read_model(request, CreditLimit)

    def work(runtime: Runtime) -> Any:
        with runtime.db.write() as conn:
            cid = tenants.resolve_customer_id(conn, ref)
            result = tenants.set_credit_limit(
                conn, runtime.clock, ref, body.wallet, body.credit_limit
            )
            runtime.audit.append(
                conn,
                actor="admin",
                action="wallet.credit_limit",
                subject=f"customer:{cid}",
                data={"wallet": body.wallet, "credit_limit": body.credit_limit},
            )
            return result

    return json_response(await _run(request, work))


async def set_price(request: Request) -> Response:
    ref = request.path_params["ref"]
    body = await read_model(request, PriceSet)

    def work(runtime: Runtime) -> Any:
        with runtime.db.write() as conn:
            cid = tenants.resolve_customer_id(conn, ref)
            result = tenants.set_price(
                conn,
                ref,
                body.surface,
                body.service,
                price=body.price,
                daily_limit=body.daily_limit,
                clear_daily_limit=body.clear_daily_limit,
                enabled=body.enabled,
            )
            runtime.audit.append(
                conn,
                actor="admin",
                action="price.set",
                subject=f"customer:{cid}",
                data=body.model_dump(exclude_none=True),
            )
            return result

    return json_response(await _run(request, work))


def _parse_day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ApiError(400, "invalid_input", f"{name} must be YYYY-MM-DD") from exc


async def usage(request: Request) -> Response:
    ref = request.path_params["ref"]
    q = request.query_params
    day_from = _parse_day(q.get("from"), "from")
    day_to = _parse_day(q.get("to"), "to")
    surface = q.get("surface") or None
    group = q.get("group", "true").lower() not in ("0", "false", "no")
    limit = max(1, min(query_int(request, "limit", 1000), 10000))

    def work(runtime: Runtime) -> Any:
        with runtime.db.read() as conn:
            rows = tenants.usage(
                conn,
                ref,
                day_from=day_from,
                day_to=day_to,
                surface=surface,
                group=group,
                limit=limit,
            )
            return {"customer": ref, "grouped": group, "usage": rows}

    return json_response(await _run(request, work))


_T = ["customers"]
_OK = {200: ("OK", None), 400: ("invalid input", None), 404: ("customer not found", None)}

routes: list[BaseRoute] = [
    ApiRoute(
        "/customers",
        create_customer,
        methods=["POST"],
        op=Op(
            "Create a customer with credentials for all four surfaces (secrets shown once)",
            body=CustomerCreate,
            responses={
                201: ("created, with secrets", None),
                400: ("invalid input", None),
                409: ("slug or code in use", None),
            },
            tags=_T,
            operation_id="createCustomer",
        ),
    ),
    ApiRoute(
        "/customers",
        list_customers,
        methods=["GET"],
        op=Op("List customers", tags=_T, operation_id="listCustomers"),
    ),
    ApiRoute(
        "/customers/{ref}",
        show_customer,
        methods=["GET"],
        op=Op(
            "Show a customer by id or slug (no secrets)",
            responses=_OK,
            tags=_T,
            operation_id="showCustomer",
        ),
    ),
    ApiRoute(
        "/customers/{ref}",
        update_customer,
        methods=["PATCH"],
        op=Op(
            "Update a customer's name, IP allowlists, Paystar services, Payman redirect URLs and banks, Pendar settings",
            body=CustomerUpdate,
            responses=_OK,
            tags=_T,
            operation_id="updateCustomer",
        ),
    ),
    ApiRoute(
        "/customers/{ref}/status",
        set_status,
        methods=["POST"],
        op=Op(
            "Enable or disable a customer",
            body=StatusSet,
            responses=_OK,
            tags=_T,
            operation_id="setCustomerStatus",
        ),
    ),
    ApiRoute(
        "/customers/{ref}/rotate",
        rotate,
        methods=["POST"],
        op=Op(
            "Rotate one surface's secrets (new secrets shown once)",
            body=Rotate,
            responses=_OK,
            tags=_T,
            operation_id="rotateSecrets",
        ),
    ),
    ApiRoute(
        "/customers/{ref}/topup",
        topup,
        methods=["POST"],
        op=Op(
            "Top up (or adjust) a wallet", body=Topup, responses=_OK, tags=_T, operation_id="topup"
        ),
    ),
    ApiRoute(
        "/customers/{ref}/credit-limit",
        credit_limit,
        methods=["POST"],
        op=Op(
            "Set the postpaid credit limit",
            body=CreditLimit,
            responses=_OK,
            tags=_T,
            operation_id="setCreditLimit",
        ),
    ),
    ApiRoute(
        "/customers/{ref}/prices",
        set_price,
        methods=["POST"],
        op=Op(
            "Set a service's price and daily limit for a customer",
            body=PriceSet,
            responses=_OK,
            tags=_T,
            operation_id="setPrice",
        ),
    ),
    ApiRoute(
        "/customers/{ref}/usage",
        usage,
        methods=["GET"],
        op=Op(
            "Usage per day, surface, service and outcome (or raw events with group=false)",
            query=[
                ("from", {"type": "string", "format": "date"}, False, "first Tehran day"),
                ("to", {"type": "string", "format": "date"}, False, "last Tehran day"),
                ("surface", {"type": "string"}, False, "one surface"),
                ("group", {"type": "boolean"}, False, "aggregate (default true)"),
                ("limit", INT64_SCHEMA, False, "raw events: at most this many"),
            ],
            responses=_OK,
            tags=_T,
            operation_id="usage",
        ),
    ),
]
