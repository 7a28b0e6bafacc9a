"""HTTP for the Pendar surface: ``/api/{Method}`` (case-insensitive) and the CA's ``/pki/...``.

URL -> handler only: requests are read and answers rendered by :mod:`.wire`, the methods'
rules are :data:`.methods.METHODS`, the CA's answers come from :mod:`.ca`, :mod:`.crl` and
:mod:`.ocsp`.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any, Final
from urllib.parse import unquote

import orjson
from cryptography.hazmat.primitives import serialization
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope

from pishkhan import __version__
from pishkhan.runtime import Runtime
from pishkhan.web.asgi import InvalidQuery, read_body
from pishkhan.web.fast import FastRequest, FastRoute, json_answer
from pishkhan.web.openapi import ApiRoute, Op, build_document

from . import ca as ca_mod
from . import caches, issuance, wire
from . import crl as crl_mod
from . import errors as E
from . import ocsp as ocsp_mod
from .accounts import record_failure
from .errors import PendarError
from .methods import BY_LOWER, METHODS

#: The body of an unexpected failure's 500 (the request middleware's last resort).
SERVER_ERROR: Final = orjson.dumps(
    {"ErrorCode": E.PROGRAM_ERROR, "ErrorMessage": E.MESSAGES[E.PROGRAM_ERROR]}
)

log = logging.getLogger("pishkhan.pendar")

#: The paths the surface answers under (Starlette's plain 404 and 405 for what none takes).
PREFIXES: Final = ("/api/", "/pki/")

_JSON_TYPE: Final = b"application/json; charset=utf-8"

#: ``Description`` of a body refused for its size (413) or its slowness (408).
_REFUSED: Final = {
    413: "حجم بدنه درخواست بیش از حد مجاز است",
    408: "بدنه درخواست در زمان مجاز دریافت نشد",
}


def body_refusal(scope: Scope, status: int, detail: str) -> tuple[bytes, bytes]:
    """The answer to a body too large (413) or too slow (408), see ``pishkhan.web.limits``.

    ``/api/{Method}``: the method's own shape with ErrorCode 1 ("error running the program"),
    as for a body that is not JSON, the reason in ``Description``; an unknown method: ASP.NET's
    ``{"Message"}``; the CA's ``/pki/`` paths: plain text, as their other errors."""
    path: str = scope.get("path", "")
    if path.startswith("/api/"):
        method = BY_LOWER.get(path[len("/api/") :].lower())
        if method is None:
            return _JSON_TYPE, orjson.dumps({"Message": detail})
        exc = PendarError(E.PROGRAM_ERROR, _REFUSED.get(status, ""), status=status)
        return _JSON_TYPE, orjson.dumps(method.answer.error(exc))
    return b"text/plain; charset=utf-8", detail.encode()


def build(runtime: Runtime) -> list[BaseRoute]:
    runtime.reset_hooks.append(lambda: ca_mod.forget(runtime))
    runtime.reset_hooks.append(lambda: caches.forget(runtime))

    # SQLite transactions run faster inline (on a kept connection, no threadpool handoff) than
    # through the threadpool: a method with a ``batched`` rule runs it there, concurrent calls
    # sharing their transaction's BEGIN and COMMIT (a database another process holds sends the
    # batch to the threadpool, see core.group_commit).
    inline = runtime.db.is_sqlite
    batcher = issuance.batcher(runtime)

    async def api(scope: Scope, receive: Receive) -> tuple[int, bytes]:
        method = BY_LOWER.get(scope["path_params"]["method"].lower())
        if method is None:
            url = Request(scope).url
            return 404, orjson.dumps(
                {"Message": f"No HTTP resource was found that matches the request URI '{url}'."}
            )
        try:
            data = wire.fields(scope, await read_body(receive))
        except InvalidQuery:
            # unreadable input, as an unreadable body: the method's shape, ErrorCode 1
            return 200, orjson.dumps(
                method.answer.error(PendarError(E.PROGRAM_ERROR, "رشته پرس‌وجو UTF-8 نیست"))
            )
        if data is None:
            return 200, orjson.dumps(
                method.answer.error(PendarError(E.PROGRAM_ERROR, "بدنه درخواست JSON نیست"))
            )
        try:
            if method.batched is not None and inline and ca_mod.is_loaded(runtime):
                result = await method.batched(runtime, batcher, data)
            else:
                result = await run_in_threadpool(method.rule, runtime, data)
        except PendarError as exc:
            customer_id = getattr(exc, "customer_id", None)
            if customer_id is not None:
                await run_in_threadpool(record_failure, runtime, customer_id, method.name, exc.code)
            return exc.status, orjson.dumps(method.answer.error(exc))
        return 200, orjson.dumps(result)

    def loaded(request: Request) -> ca_mod.LoadedCA | None:
        return ca_mod.hierarchy(runtime).get(request.path_params["ca"])

    async def ca_certificate(request: Request) -> Response:
        ca = await run_in_threadpool(loaded, request)
        if ca is None:
            return Response(b"unknown CA", 404, media_type="text/plain")
        if request.path_params["fmt"] == "pem":
            pem = ca.certificate.public_bytes(serialization.Encoding.PEM)
            return Response(pem, media_type="application/x-pem-file")
        return Response(ca.der, media_type="application/pkix-cert")

    async def chain(request: Request) -> Response:
        ca = await run_in_threadpool(loaded, request)
        if ca is None:
            return Response(b"unknown CA", 404, media_type="text/plain")
        pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in ca.chain())
        return Response(pem, media_type="application/x-pem-file")

    async def crl(request: Request) -> Response:
        ca = await run_in_threadpool(loaded, request)
        if ca is None:
            return Response(b"unknown CA", 404, media_type="text/plain")
        der = await run_in_threadpool(crl_mod.served, runtime, ca)
        if request.path_params.get("fmt") == "pem":
            pem = (
                b"-----BEGIN X509 CRL-----\n"
                + base64.encodebytes(der)
                + b"-----END X509 CRL-----\n"
            )
            return Response(pem, media_type="application/x-pem-file")
        return Response(der, media_type="application/pkix-crl")

    def answer_ocsp(ca: ca_mod.LoadedCA, der: bytes) -> bytes:
        with runtime.db.read() as conn:
            return ocsp_mod.respond(conn, ca, der, runtime.clock.now_utc())

    async def ocsp_post(request: Request) -> Response:
        ca = await run_in_threadpool(loaded, request)
        if ca is None:
            return Response(b"unknown CA", 404, media_type="text/plain")
        body = await request.body()
        der = await run_in_threadpool(answer_ocsp, ca, body)
        return Response(der, media_type="application/ocsp-response")

    async def ocsp_get(request: Request) -> Response:
        ca = await run_in_threadpool(loaded, request)
        if ca is None:
            return Response(b"unknown CA", 404, media_type="text/plain")
        encoded = unquote(request.path_params["request"])
        try:
            der = base64.b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError):
            der = b""
        out = await run_in_threadpool(answer_ocsp, ca, der)
        return Response(out, media_type="application/ocsp-response")

    async def serve_api(request: FastRequest) -> Response:
        status, body = await api(request.scope, request.receive)
        return json_answer(status, body, _JSON_TYPE)

    return [
        # answered without request_response, as Response would send it (GET brings HEAD)
        FastRoute("/api/{method}", serve_api, methods=["GET", "HEAD", "POST"], name="pendar_api"),
        Route("/pki/{ca}/ca.{fmt:str}", ca_certificate, methods=["GET"]),
        Route("/pki/{ca}/chain.pem", chain, methods=["GET"]),
        Route("/pki/{ca}/crl", crl, methods=["GET"]),
        Route("/pki/{ca}/crl.{fmt:str}", crl, methods=["GET"]),
        Route("/pki/{ca}/ocsp", ocsp_post, methods=["POST"]),
        Route("/pki/{ca}/ocsp/{request:path}", ocsp_get, methods=["GET"]),
    ]


def openapi(runtime: Runtime) -> dict[str, Any]:
    """The surface's document, generated from :mod:`.wire`'s request models and answers."""
    del runtime
    routes = []
    for m in METHODS:
        query = [
            (q, wire.TEXT, False, "bound case-insensitively") for q in wire.QUERY.get(m.name, [])
        ]
        answer = m.answer.document()
        responses: dict[int, tuple[str, Any]] = {
            200: (wire.SAYS.get(m.name, "the method's body"), answer)
        }
        if m.name in ("GetCAList", "GetCAProfileInfo"):
            responses[401] = ("unknown customer (ErrorCode 1203)", answer)
        routes.append(
            ApiRoute(
                f"/api/{m.name}",
                lambda r: None,
                methods=[m.http],
                op=Op(
                    m.name,
                    body=wire.BODIES.get(m.name),
                    query=query,
                    responses=responses,
                    tags=["pendar"],
                    operation_id=m.name,
                ),
            )
        )
    return build_document(
        title="Pendar Koushk RA (pishkhan)",
        version=__version__,
        description="Registration authority API v1.10 at /api/{Method} (method names and JSON "
        "keys case-insensitive; GET methods read the query string) and the CA under /pki/.",
        routes=routes,
        # the method's own shape with ErrorCode 1 (body_refusal above)
        body_refusal=lambda op: op.responses[200][1] if 200 in op.responses else None,
    )
