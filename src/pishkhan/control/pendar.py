"""Admin API for the Pendar surface: CAs (availability), per-customer grants and identity-check
switches, approver certificates for RequestApprove, and payments for ``paymentId``."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import and_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from pishkhan.control.http import ApiError, api_error_from, json_response, read_model
from pishkhan.core.errors import PishkhanError
from pishkhan.providers.pendar import ca as ca_mod
from pishkhan.providers.pendar import caches, issuance, profiles
from pishkhan.providers.pendar import crl as crl_mod
from pishkhan.providers.pendar.tables import pendar_approvers, pendar_cas
from pishkhan.runtime import Runtime, get_runtime
from pishkhan.tenants import credentials
from pishkhan.tenants import service as tenants
from pishkhan.tenants.service import MAX_RIALS
from pishkhan.tenants.tables import pendar_accounts
from pishkhan.web.openapi import ApiRoute, Op

SWITCHES = ("identity_check", "fill_names", "shahkar_check", "postal_check")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Availability(_Body):
    available: bool


class Grants(_Body):
    cas: dict[str, list[str]] = Field(
        description='CA name -> profile names ("*" for every profile of that CA)'
    )


class Switches(_Body):
    identity_check: bool | None = Field(
        default=None, description="RegisterInfo checks names against the civil registry (1003/1004)"
    )
    fill_names: bool | None = Field(
        default=None, description="missing Persian/Latin names are filled from the registry"
    )
    shahkar_check: bool | None = Field(
        default=None, description="the mobile must belong to the national code (Shahkar)"
    )
    postal_check: bool | None = Field(
        default=None, description="the postal code must exist; fills City/ProvinceName"
    )


class Approver(_Body):
    certificate_pem: str
    name: str = Field(default="", max_length=200)


class ApproverRevoked(_Body):
    revoked: bool = True


class Payment(_Body):
    payment_id: str = Field(min_length=1, max_length=100)
    # Bounded like a wallet top-up, so that the sum of a customer's payments fits 64 bits.
    amount: int = Field(ge=0, le=MAX_RIALS, description="rials")


async def _run(request: Request, fn: Callable[[Runtime], Any]) -> Any:
    try:
        return await run_in_threadpool(fn, get_runtime(request))
    except PishkhanError as exc:
        raise api_error_from(exc) from exc


def _customer(conn: Connection, ref: str) -> tuple[int, dict[str, Any]]:
    customer_id = tenants.resolve_customer_id(conn, ref)
    settings = conn.execute(
        select(pendar_accounts.c.settings).where(pendar_accounts.c.customer_id == customer_id)
    ).scalar_one()
    return customer_id, dict(settings or {})


def _save_settings(conn: Connection, customer_id: int, settings: dict[str, Any]) -> None:
    conn.execute(
        update(pendar_accounts)
        .where(pendar_accounts.c.customer_id == customer_id)
        .values(settings=settings)
    )
    credentials.bump(conn)  # every process's credential cache sees the new settings at once


def _ca_view(runtime: Runtime) -> list[dict[str, Any]]:
    h = ca_mod.hierarchy(runtime)
    with runtime.db.read() as conn:
        rows = {r["name"]: r for r in conn.execute(select(pendar_cas)).mappings()}
    out = []
    for name, loaded in h.cas.items():
        row = rows[name]
        out.append(
            {
                "name": name,
                "title": loaded.definition.title,
                "subject": loaded.certificate.subject.rfc4514_string(),
                "government": loaded.definition.government,
                "available": bool(row["available"]),
                "key_algorithm": row["key_algorithm"],
                "signer": row["signer"],
                "crl_number": int(row["crl_number"]),
                "urls": loaded.urls(),
                "certificate_pem": loaded.certificate.public_bytes(
                    serialization.Encoding.PEM
                ).decode("ascii"),
                "profiles": [p.wire() for p in loaded.definition.profiles],
            }
        )
    return out


def ca_view(runtime: Runtime) -> list[dict[str, Any]]:
    """Every CA: certificate, URLs, profiles, availability, CRL number."""
    return _ca_view(runtime)


def regenerate_crl(runtime: Runtime, name: str) -> dict[str, Any]:
    """Issue a CA's next CRL now; returns its number, size and URL."""
    loaded = ca_mod.hierarchy(runtime).get(name)
    if loaded is None:
        raise ApiError(404, "not_found", f"no CA named {name!r}")
    with runtime.db.write() as conn:
        number, der = crl_mod.regenerate(conn, loaded, runtime.clock.now_utc())
        runtime.audit.append(
            conn,
            actor="admin",
            action="pendar.crl.regenerate",
            subject=f"pendar.ca:{name}",
            data={"crl_number": number},
        )
    return {"name": name, "crl_number": number, "bytes": len(der), "url": loaded.urls()["crl"]}


async def list_cas(request: Request) -> Response:
    return json_response({"cas": await _run(request, _ca_view)})


def set_available(runtime: Runtime, name: str, available: bool) -> dict[str, Any]:
    """Mark a CA up or down (IsAvailable, error 1005)."""
    body = Availability(available=available)
    if ca_mod.hierarchy(runtime).get(name) is None:
        raise ApiError(404, "not_found", f"no CA named {name!r}")
    with runtime.db.write() as conn:
        conn.execute(
            update(pendar_cas).where(pendar_cas.c.name == name).values(available=body.available)
        )
        runtime.audit.append(
            conn,
            actor="admin",
            action="pendar.ca.availability",
            subject=f"pendar.ca:{name}",
            data={"available": body.available},
        )
    caches.forget(runtime)
    return {"name": name, "available": body.available}


async def set_availability(request: Request) -> Response:
    body = await read_model(request, Availability)
    name = request.path_params["name"]
    return json_response(await _run(request, lambda rt: set_available(rt, name, body.available)))


def grant(runtime: Runtime, ref: str, cas: dict[str, list[str]]) -> dict[str, Any]:
    """Replace a customer's granted CAs and profiles."""
    body = Grants(cas=cas)
    for ca_name, names in body.cas.items():
        definition = profiles.BY_NAME.get(ca_name)
        if definition is None:
            raise ApiError(400, "invalid_input", f"unknown CA {ca_name!r}")
        unknown = [n for n in names if n != "*" and definition.profile(n) is None]
        if unknown:
            raise ApiError(400, "invalid_input", f"CA {ca_name} has no profiles {unknown}")
    with runtime.db.write() as conn:
        customer_id, settings = _customer(conn, ref)
        settings["cas"] = body.cas
        _save_settings(conn, customer_id, settings)
        runtime.audit.append(
            conn,
            actor="admin",
            action="pendar.grants",
            subject=f"customer:{customer_id}",
            data={"cas": body.cas},
        )
    return {"customer_id": customer_id, "cas": body.cas}


async def set_grants(request: Request) -> Response:
    body = await read_model(request, Grants)
    ref = request.path_params["ref"]
    return json_response(await _run(request, lambda rt: grant(rt, ref, body.cas)))


def set_switches(runtime: Runtime, ref: str, switches: dict[str, bool]) -> dict[str, Any]:
    """Turn RegisterInfo's identity-check switches on or off (others unchanged)."""
    return _set_switches(runtime, ref, Switches(**switches))


async def patch_switches(request: Request) -> Response:
    body = await read_model(request, Switches)
    ref = request.path_params["ref"]
    return json_response(await _run(request, lambda rt: _set_switches(rt, ref, body)))


def _set_switches(runtime: Runtime, ref: str, body: Switches) -> dict[str, Any]:
    with runtime.db.write() as conn:
        customer_id, settings = _customer(conn, ref)
        for key in SWITCHES:
            value = getattr(body, key)
            if value is not None:
                settings[key] = value
        _save_settings(conn, customer_id, settings)
        runtime.audit.append(
            conn,
            actor="admin",
            action="pendar.settings",
            subject=f"customer:{customer_id}",
            data={k: settings.get(k, False) for k in SWITCHES},
        )
    return {
        "customer_id": customer_id,
        "cas": profiles.grants(settings),
        **{k: bool(settings.get(k, False)) for k in SWITCHES},
    }


def customer_view(runtime: Runtime, ref: str) -> dict[str, Any]:
    """A customer's grants, identity-check switches and approvers."""
    with runtime.db.read() as conn:
        customer_id, settings = _customer(conn, ref)
        approvers = [
            {
                "fingerprint": r["fingerprint"],
                "name": r["name"],
                "revoked": bool(r["revoked"]),
            }
            for r in conn.execute(
                select(pendar_approvers).where(pendar_approvers.c.customer_id == customer_id)
            ).mappings()
        ]
    return {
        "customer_id": customer_id,
        "cas": profiles.grants(settings),
        **{k: bool(settings.get(k, False)) for k in SWITCHES},
        "approvers": approvers,
    }


async def show_settings(request: Request) -> Response:
    ref = request.path_params["ref"]
    return json_response(await _run(request, lambda rt: customer_view(rt, ref)))


def approver_add(
    runtime: Runtime, ref: str, certificate_pem: str, name: str = ""
) -> dict[str, Any]:
    """Register an approver certificate for RequestApprove's ``approverSign``."""
    body = Approver(certificate_pem=certificate_pem, name=name)
    try:
        cert = x509.load_pem_x509_certificate(body.certificate_pem.strip().encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise ApiError(
            400, "invalid_input", f"certificate_pem is not a PEM certificate: {exc}"
        ) from exc
    der = cert.public_bytes(serialization.Encoding.DER)
    fingerprint = hashlib.sha256(der).hexdigest()
    with runtime.db.write() as conn:
        customer_id, _settings = _customer(conn, ref)
        try:
            with conn.begin_nested():
                conn.execute(
                    pendar_approvers.insert().values(
                        customer_id=customer_id,
                        fingerprint=fingerprint,
                        name=body.name or cert.subject.rfc4514_string()[:200],
                        certificate_der=der,
                        revoked=False,
                        added_at=runtime.clock.now_utc(),
                    )
                )
        except IntegrityError as exc:
            raise ApiError(409, "conflict", "this approver is already registered") from exc
        runtime.audit.append(
            conn,
            actor="admin",
            action="pendar.approver.add",
            subject=f"customer:{customer_id}",
            data={"fingerprint": fingerprint},
        )
    return {"fingerprint": fingerprint, "subject": cert.subject.rfc4514_string()}


async def add_approver(request: Request) -> Response:
    body = await read_model(request, Approver)
    ref = request.path_params["ref"]
    return json_response(
        await _run(request, lambda rt: approver_add(rt, ref, body.certificate_pem, body.name)),
        201,
    )


def approver_revoked(
    runtime: Runtime, ref: str, fingerprint: str, revoked: bool = True
) -> dict[str, Any]:
    """Mark an approver certificate revoked (RequestApprove answers 1107) or not."""
    body = ApproverRevoked(revoked=revoked)
    fingerprint = fingerprint.lower()
    with runtime.db.write() as conn:
        customer_id, _settings = _customer(conn, ref)
        changed = conn.execute(
            update(pendar_approvers)
            .where(
                and_(
                    pendar_approvers.c.customer_id == customer_id,
                    pendar_approvers.c.fingerprint == fingerprint,
                )
            )
            .values(revoked=body.revoked)
        ).rowcount
        if not changed:
            raise ApiError(404, "not_found", "no such approver for this customer")
        runtime.audit.append(
            conn,
            actor="admin",
            action="pendar.approver.revoked",
            subject=f"customer:{customer_id}",
            data={"fingerprint": fingerprint, "revoked": body.revoked},
        )
    return {"fingerprint": fingerprint, "revoked": body.revoked}


async def revoke_approver(request: Request) -> Response:
    body = await read_model(request, ApproverRevoked)
    ref = request.path_params["ref"]
    fingerprint = request.path_params["fingerprint"]
    return json_response(
        await _run(request, lambda rt: approver_revoked(rt, ref, fingerprint, body.revoked))
    )


def payment_add(runtime: Runtime, ref: str, payment_id: str, amount: int) -> dict[str, Any]:
    """Register a payment usable once as IssueCertificateByTrackingCode's ``paymentId``."""
    return _add_payment(runtime, ref, Payment(payment_id=payment_id, amount=amount))


async def add_payment(request: Request) -> Response:
    body = await read_model(request, Payment)
    ref = request.path_params["ref"]
    return json_response(await _run(request, lambda rt: _add_payment(rt, ref, body)), 201)


def _add_payment(runtime: Runtime, ref: str, body: Payment) -> dict[str, Any]:
    with runtime.db.write() as conn:
        customer_id, _settings = _customer(conn, ref)
        try:
            with conn.begin_nested():
                out = issuance.new_payment(conn, runtime, customer_id, body.payment_id, body.amount)
        except IntegrityError as exc:
            raise ApiError(409, "conflict", "this payment id already exists") from exc
        runtime.audit.append(
            conn,
            actor="admin",
            action="pendar.payment.add",
            subject=f"customer:{customer_id}",
            data=out,
        )
    return out


_T = ["pendar"]
_NF = {200: ("OK", None), 400: ("invalid input", None), 404: ("customer not found", None)}

routes: list[BaseRoute] = [
    ApiRoute(
        "/pendar/cas",
        list_cas,
        methods=["GET"],
        op=Op(
            "Pendar CAs: certificates, URLs, profiles, availability",
            tags=_T,
            operation_id="pendarListCas",
        ),
    ),
    ApiRoute(
        "/pendar/cas/{name}/availability",
        set_availability,
        methods=["PUT"],
        op=Op(
            "Mark a CA up or down (IsAvailable, error 1005)",
            body=Availability,
            responses={200: ("OK", None), 404: ("unknown CA", None)},
            tags=_T,
            operation_id="pendarSetAvailability",
        ),
    ),
    ApiRoute(
        "/pendar/customers/{ref}",
        show_settings,
        methods=["GET"],
        op=Op(
            "A customer's Pendar grants, switches and approvers",
            responses=_NF,
            tags=_T,
            operation_id="pendarShowCustomer",
        ),
    ),
    ApiRoute(
        "/pendar/customers/{ref}/grants",
        set_grants,
        methods=["PUT"],
        op=Op(
            "Grant CAs and profiles (others answer 1102)",
            body=Grants,
            responses=_NF,
            tags=_T,
            operation_id="pendarSetGrants",
        ),
    ),
    ApiRoute(
        "/pendar/customers/{ref}/settings",
        patch_switches,
        methods=["PATCH"],
        op=Op(
            "Identity-check switches for RegisterInfo",
            body=Switches,
            responses=_NF,
            tags=_T,
            operation_id="pendarSetSwitches",
        ),
    ),
    ApiRoute(
        "/pendar/customers/{ref}/approvers",
        add_approver,
        methods=["POST"],
        op=Op(
            "Register an approver certificate (RequestApprove approverSign)",
            body=Approver,
            responses={201: ("created", None), 400: ("invalid", None), 409: ("exists", None)},
            tags=_T,
            operation_id="pendarAddApprover",
        ),
    ),
    ApiRoute(
        "/pendar/customers/{ref}/approvers/{fingerprint}",
        revoke_approver,
        methods=["PATCH"],
        op=Op(
            "Mark an approver certificate revoked (1107) or not",
            body=ApproverRevoked,
            responses=_NF,
            tags=_T,
            operation_id="pendarRevokeApprover",
        ),
    ),
    ApiRoute(
        "/pendar/customers/{ref}/payments",
        add_payment,
        methods=["POST"],
        op=Op(
            "Register a payment usable once as paymentId",
            body=Payment,
            responses={201: ("created", None), 409: ("exists", None)},
            tags=_T,
            operation_id="pendarAddPayment",
        ),
    ),
]
