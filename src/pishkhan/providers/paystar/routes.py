"""Paystar open banking over HTTP: parse the request, call the service, render the answer.

Every answer is ``{"status": <int>, "data": <object|null>, "message": "<Persian>"}``; business
outcomes come back with HTTP 200 (clients check ``status === 1``), a server error with HTTP 500
and status 0.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any, Final

import orjson
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from pishkhan import __version__
from pishkhan.core.logging import request_id_var
from pishkhan.runtime import Runtime
from pishkhan.web.openapi import ApiRoute, Op, build_document
from pishkhan.web.unrouted import enveloped

from . import errors, schemas
from .errors import Status, http_status_of, message_of
from .errors import body_refusal as body_refusal  # for app.py
from .service import Outcome, PaystarService

log = logging.getLogger("pishkhan.paystar")

#: The paths the surface answers under (anything else there: :data:`unrouted`).
PREFIXES: Final = ("/api/open-banking/", "/api/application/")
#: Anything under the surface's paths no route takes: 405 (with Allow) or 404, status 10.
unrouted: Final = enveloped(errors.unrouted)

REFRESH_PATHS: Final = (
    "/api/open-banking/application/refresh-api-key",
    "/api/application/refresh-api-key",
)

#: The body of an unexpected failure's 500 (the request middleware's last resort).
SERVER_ERROR: Final = orjson.dumps(
    {"status": int(Status.SERVER_ERROR), "data": None, "message": message_of(Status.SERVER_ERROR)}
)
MATCHING_PREFIX: Final = "/api/open-banking/service/info-matching/"
_FORM_TYPES: Final = ("application/x-www-form-urlencoded", "multipart/form-data")


def render(outcome: Outcome) -> Response:
    body = {
        "status": int(outcome.status),
        "data": outcome.data,
        "message": message_of(outcome.status),
    }
    return Response(
        orjson.dumps(body),
        status_code=http_status_of(outcome.status),
        media_type="application/json",
    )


async def read_body(request: Request) -> dict[str, Any] | None:
    """The request's fields: a JSON object or a form; None when the body is malformed."""
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith(_FORM_TYPES):
        try:
            form = await request.form()
        except Exception:  # a malformed form is bad input, not a server error
            return None
        return {k: v for k, v in form.items() if isinstance(v, str)}
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


async def _guarded(work: Callable[[], Outcome]) -> Response:
    try:
        outcome = await run_in_threadpool(work)
    except Exception:
        log.exception("paystar call failed")
        outcome = Outcome(Status.SERVER_ERROR)
    return render(outcome)


def _refresh_handler(service: PaystarService) -> Callable[[Request], Awaitable[Response]]:
    async def refresh_api_key(request: Request) -> Response:
        body = await read_body(request)
        ip = _client_ip(request)
        return await _guarded(lambda: service.refresh_api_key(body, ip))

    return refresh_api_key


def _match_handler(service: PaystarService, name: str) -> Callable[[Request], Awaitable[Response]]:
    async def match(request: Request) -> Response:
        body = await read_body(request)
        authorization = request.headers.get("authorization")
        ip = _client_ip(request)
        track_id = request_id_var.get()
        return await _guarded(lambda: service.match(name, body, authorization, ip, track_id))

    match.__name__ = f"match_{name.replace('-', '_')}"
    return match


# -- OpenAPI -------------------------------------------------------------------------------

_BEARER: Final[list[dict[str, list[str]]]] = [{"apiKey": []}]
_ENVELOPE_200: Final = "Every business outcome: `status` 1 on success, 2..13 on failure"


def _answers(success: type[BaseModel]) -> dict[int, tuple[str, Any]]:
    ref = f"#/components/schemas/{success.__name__}"
    return {
        200: (
            _ENVELOPE_200,
            {
                "oneOf": [
                    {"$ref": ref},
                    {"$ref": "#/components/schemas/FailureResponse"},
                ]
            },
        ),
        500: ("Server error (status 0)", {"$ref": "#/components/schemas/ServerErrorResponse"}),
    }


_REFRESH_OP: Final = Op(
    summary="Issue a new API key (valid 24 hours) from the application's refresh token",
    body=schemas.RefreshApiKeyRequest,
    responses=_answers(schemas.RefreshApiKeyResponse),
    tags=("api-key",),
    security=[],
    operation_id="refreshApiKey",
)

_MATCH_OPS: Final[dict[str, tuple[type[BaseModel], str]]] = {
    schemas.MOBILE_NATIONAL_ID: (
        schemas.MobileNationalIdRequest,
        "Shahkar: does the mobile number belong to the national id?",
    ),
    schemas.CARD_NATIONAL_ID: (
        schemas.CardNationalIdRequest,
        "Does the card belong to the national id, with this Gregorian birth date?",
    ),
    schemas.IBAN_NATIONAL_ID: (
        schemas.IbanNationalIdRequest,
        "Does the IBAN (deposit) belong to the national id, with this Gregorian birth date?",
    ),
}


def _match_op(name: str) -> Op:
    model, summary = _MATCH_OPS[name]
    return Op(
        summary=summary,
        body=model,
        responses=_answers(schemas.MatchResponse),
        tags=("info-matching",),
        security=_BEARER,
        operation_id="match_" + name.replace("-", "_"),
    )


def _routes(
    refresh: Callable[..., Any], matcher: Callable[[str], Callable[..., Any]]
) -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for i, path in enumerate(REFRESH_PATHS):
        op = _REFRESH_OP
        if i:
            op = Op(**{**op.__dict__, "operation_id": "refreshApiKeyShortPath"})
        routes.append(ApiRoute(path, refresh, methods=["POST"], op=op))
    for name in schemas.SERVICES:
        routes.append(
            ApiRoute(MATCHING_PREFIX + name, matcher(name), methods=["POST"], op=_match_op(name))
        )
    return routes


def build(runtime: Runtime) -> list[BaseRoute]:
    service = PaystarService(runtime)
    return _routes(_refresh_handler(service), lambda name: _match_handler(service, name))


def _component(model: type[BaseModel]) -> dict[str, Any]:
    schema: dict[str, Any] = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return schema


def _add_form_bodies(doc: dict[str, Any]) -> None:
    """The same bodies are accepted form-encoded (as Laravel reads them)."""
    for item in doc["paths"].values():
        for op in item.values():
            content = op.get("requestBody", {}).get("content")
            if content and "application/json" in content:
                schema = content["application/json"]["schema"]
                content["application/x-www-form-urlencoded"] = {"schema": schema}
                content["multipart/form-data"] = {"schema": schema}


@lru_cache(maxsize=1)
def _document() -> bytes:
    async def placeholder(_request: Request) -> Response:  # pragma: no cover - never routed
        return Response(status_code=404)

    routes = _routes(placeholder, lambda _name: placeholder)
    extra = {
        m.__name__: _component(m)
        for m in (
            schemas.RefreshApiKeyResponse,
            schemas.ApiKeyData,
            schemas.MatchResponse,
            schemas.MatchData,
            schemas.FailureResponse,
            schemas.ServerErrorResponse,
        )
    }
    doc = build_document(
        title="pishkhan: Paystar open banking (core.paystar.ir)",
        version=__version__,
        description=(
            "API-key lifecycle and identity matching (Shahkar mobile/national id, card/national "
            "id, IBAN/national id). Every answer is `{status, data, message}`; `status` 1 is "
            "success, 2..13 are business failures answered with HTTP 200, 0 a server error "
            "(HTTP 500). Matching calls need `Authorization: Bearer <api_key>` and the "
            "application's `application_id` and `access_password` in the body."
        ),
        routes=routes,
        security_schemes={
            "apiKey": {
                "type": "http",
                "scheme": "bearer",
                "description": "`Authorization: Bearer <api_key>` from refresh-api-key; "
                "status 4 when missing or wrong, 5 when expired",
            }
        },
        extra_components=extra,
        # status 10 (errors.body_refusal)
        body_refusal=lambda _op: {"$ref": "#/components/schemas/FailureResponse"},
    )
    _add_form_bodies(doc)
    return orjson.dumps(doc)


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of this surface (committed as ``specs/paystar.openapi.json``)."""
    doc: dict[str, Any] = orjson.loads(_document())
    return doc


def openapi(_runtime: Runtime) -> dict[str, Any]:
    return openapi_document()


if (
    __name__ == "__main__"
):  # python -m pishkhan.providers.paystar.routes > specs/paystar.openapi.json
    import json
    import sys

    json.dump(openapi_document(), sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
