"""Paystar open banking over HTTP: URL -> handler, and the surface's OpenAPI document.

A handler reads the request's fields through :mod:`.wire`, calls a rule (:mod:`.api_keys`'
refresh, :mod:`.matching`) in the threadpool and answers through :mod:`.wire`; an unexpected
failure answers HTTP 500 with status 0.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from pishkhan import __version__
from pishkhan.core.logging import request_id_var
from pishkhan.runtime import Runtime
from pishkhan.web.openapi import ApiRoute, Op, build_document
from pishkhan.web.unrouted import enveloped

from . import api_keys, errors, matching, wire
from .errors import Status
from .errors import body_refusal as body_refusal  # the surface's answer to a refused body
from .wire import Outcome

log = logging.getLogger("pishkhan.paystar")

#: The paths the surface answers under (anything else there: :data:`unrouted`).
PREFIXES: Final = ("/api/open-banking/", "/api/application/")
#: Anything under the surface's paths no route takes: 405 (with Allow) or 404, status 10.
unrouted: Final = enveloped(errors.unrouted)

REFRESH_PATHS: Final = (
    "/api/open-banking/application/refresh-api-key",
    "/api/application/refresh-api-key",
)
MATCHING_PREFIX: Final = "/api/open-banking/service/info-matching/"

#: The body of an unexpected failure's 500 (the request middleware's last resort).
SERVER_ERROR: Final = errors.envelope(Status.SERVER_ERROR)

Handler = Callable[[Request], Awaitable[Response]]


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


async def _answer(work: Callable[[], Outcome]) -> Response:
    try:
        outcome = await run_in_threadpool(work)
    except Exception:
        log.exception("paystar call failed")
        outcome = Outcome(Status.SERVER_ERROR)
    return wire.render(outcome)


def _refresh_handler(runtime: Runtime, signer: api_keys.ApiKeySigner) -> Handler:
    async def refresh_api_key(request: Request) -> Response:
        fields = await wire.read_fields(request)
        ip = _client_ip(request)
        return await _answer(lambda: api_keys.refresh(runtime, signer, fields, ip))

    return refresh_api_key


def _match_handler(runtime: Runtime, signer: api_keys.ApiKeySigner, name: str) -> Handler:
    async def match(request: Request) -> Response:
        fields = await wire.read_fields(request)
        authorization = request.headers.get("authorization")
        ip = _client_ip(request)
        track_id = request_id_var.get()
        return await _answer(
            lambda: matching.match(runtime, signer, name, fields, authorization, ip, track_id)
        )

    match.__name__ = f"match_{name.replace('-', '_')}"
    return match


# -- the document of each route ------------------------------------------------------------

_ANSWERED: Final = "Every business outcome: `status` 1 on success, 2..13 on failure"
_SERVER_ERROR: Final = ("Server error (status 0)", wire.ServerErrorResponse)
_MATCH_SUMMARIES: Final = {
    wire.MOBILE_NATIONAL_ID: "Shahkar: does the mobile number belong to the national id?",
    wire.CARD_NATIONAL_ID: "Does the card belong to the national id, with this Gregorian birth "
    "date?",
    wire.IBAN_NATIONAL_ID: "Does the IBAN (deposit) belong to the national id, with this "
    "Gregorian birth date?",
}


def _refresh_op(operation_id: str) -> Op:
    return Op(
        summary="Issue a new API key (valid 24 hours) from the application's refresh token",
        body=wire.RefreshApiKeyRequest,
        body_media=wire.BODY_MEDIA,
        responses={200: (_ANSWERED, wire.RefreshApiKeyAnswer), 500: _SERVER_ERROR},
        tags=("api-key",),
        security=[],
        operation_id=operation_id,
    )


def _match_op(name: str) -> Op:
    return Op(
        summary=_MATCH_SUMMARIES[name],
        body=wire.MATCH_REQUESTS[name],
        body_media=wire.BODY_MEDIA,
        responses={200: (_ANSWERED, wire.MatchAnswer), 500: _SERVER_ERROR},
        tags=("info-matching",),
        security=[{"apiKey": []}],
        operation_id="match_" + name.replace("-", "_"),
    )


def _routes(runtime: Runtime) -> list[ApiRoute]:
    signer = api_keys.ApiKeySigner(runtime.settings.token_secret)
    refresh = _refresh_handler(runtime, signer)
    ids = ("refreshApiKey", "refreshApiKeyShortPath")
    routes = [
        ApiRoute(path, refresh, methods=["POST"], op=_refresh_op(operation_id))
        for path, operation_id in zip(REFRESH_PATHS, ids, strict=True)
    ]
    for name in wire.SERVICES:
        handler = _match_handler(runtime, signer, name)
        routes.append(
            ApiRoute(MATCHING_PREFIX + name, handler, methods=["POST"], op=_match_op(name))
        )
    return routes


def build(runtime: Runtime) -> list[BaseRoute]:
    return list(_routes(runtime))


def openapi(runtime: Runtime) -> dict[str, Any]:
    """The OpenAPI 3.1 document of this surface (committed as ``specs/paystar.openapi.json``)."""
    return build_document(
        title="pishkhan: Paystar open banking (core.paystar.ir)",
        version=__version__,
        description=(
            "API-key lifecycle and identity matching (Shahkar mobile/national id, card/national "
            "id, IBAN/national id). Every answer is `{status, data, message}`; `status` 1 is "
            "success, 2..13 are business failures answered with HTTP 200, 0 a server error "
            "(HTTP 500). Matching calls need `Authorization: Bearer <api_key>` and the "
            "application's `application_id` and `access_password` in the body."
        ),
        routes=_routes(runtime),
        security_schemes={
            "apiKey": {
                "type": "http",
                "scheme": "bearer",
                "description": "`Authorization: Bearer <api_key>` from refresh-api-key; "
                "status 4 when missing or wrong, 5 when expired",
            }
        },
        body_refusal=lambda _op: wire.FailureResponse,  # status 10 (errors.body_refusal)
    )
