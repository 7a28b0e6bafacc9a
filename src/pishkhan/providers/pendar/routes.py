"""HTTP for the Pendar surface: ``/api/{Method}`` (case-insensitive) and the CA's ``/pki/...``.

Parsing and rendering only; the rules live in :mod:`.service`. ASP.NET binds method names and
JSON keys case-insensitively, GET methods read the query string, and a POST body may also come
URL-encoded (some mobile clients send ``URLEncoder.encode(json)``).
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import unquote, unquote_plus

import orjson
from cryptography.hazmat.primitives import serialization
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope

from pishkhan import __version__
from pishkhan.core.db import is_busy
from pishkhan.runtime import Runtime
from pishkhan.web.asgi import InvalidQuery, query_map, read_body
from pishkhan.web.fast import FastRequest, FastRoute, json_answer
from pishkhan.web.openapi import ApiRoute, Op, build_document

from . import ca as ca_mod
from . import crl as crl_mod
from . import errors as E
from . import hot, service
from . import ocsp as ocsp_mod
from . import schemas as S
from .errors import PendarError

#: The body of an unexpected failure's 500 (the request middleware's last resort).
SERVER_ERROR: Final = orjson.dumps(
    {"ErrorCode": E.PROGRAM_ERROR, "ErrorMessage": E.MESSAGES[E.PROGRAM_ERROR]}
)

log = logging.getLogger("pishkhan.pendar")

#: The paths the surface answers under (Starlette's plain 404 and 405 for what none takes).
PREFIXES: Final = ("/api/", "/pki/")

Handler = Callable[[Runtime, dict[str, Any]], Any]


@dataclass(frozen=True)
class Method:
    name: str
    handler: Handler
    http: str  # the document's HTTP method ("GET" or "POST"); both are accepted
    family: str  # how errors are rendered: "is", "result", "available", "array"
    defaults: tuple[tuple[str, Any], ...] = ()
    # on SQLite, run on the event loop with Database.hot_write (handler takes ``write``)
    inline: bool = False


def _version(_rt: Runtime, _data: dict[str, Any]) -> Any:
    return service.VERSION


METHODS: tuple[Method, ...] = (
    Method("GetVersion", _version, "GET", "is"),
    Method("GetCAList", service.get_ca_list, "GET", "is", (("CAList", []),)),
    Method("GetCAProfileInfo", service.get_ca_profile_info, "GET", "is", (("Profile", []),)),
    Method("IsAvailable", service.is_available, "GET", "available"),
    Method(
        "RegisterInfo",
        service.register_info,
        "POST",
        "is",
        (("TrackingCode", ""), ("Description", "")),
    ),
    Method("GetTrackingCodeInfo", service.get_tracking_code_info, "POST", "result"),
    Method(
        "IssueCertificateByTrackingCode",
        service.issue_certificate,
        "POST",
        "is",
        (
            ("Certificate", ""),
            ("PaymentStatus", ""),
            ("Description", ""),
            ("CN", ""),
            ("IssuerName", ""),
            ("ValidFrom", ""),
            ("ValidTo", ""),
        ),
        inline=True,
    ),
    Method("RevokeCertificate", service.revoke_certificate, "POST", "is", (("Description", ""),)),
    Method("IsApproved", service.is_approved, "POST", "result"),
    Method("RequestApprove", service.request_approve, "POST", "result"),
    Method(
        "RecievedCertConfirmation",
        service.received_cert_confirmation,
        "POST",
        "is",
        (("Description", ""),),
    ),
    Method("GetAllCert", service.get_all_cert, "GET", "array"),
    Method("GetAllMobileCert", service.get_all_mobile_cert, "GET", "array"),
    Method("GetUserCertHistory", service.get_user_cert_history, "POST", "is", (("CertList", []),)),
    Method("IssuingReport", service.issuing_report, "POST", "array"),
    Method("GetCredit", service.get_credit, "POST", "is", (("Credit", "0"), ("Description", ""))),
)
BY_LOWER: dict[str, Method] = {m.name.lower(): m for m in METHODS}


def error_body(method: Method, exc: PendarError) -> dict[str, Any]:
    """The method's own shape with ``ErrorCode``/``ErrorMessage`` (and the detail in
    ``Description`` where the method has one)."""
    if method.family == "result":
        return {
            "ResultCode": False,
            "Description": exc.detail,
            "Message": "Unsuccess",
            "ErrorCode": exc.code,
            "ErrorMessage": exc.message,
        }
    if method.family == "available":
        return {
            "IsAvailable": False,
            "Description": exc.detail,
            "ErrorCode": exc.code,
            "ErrorMessage": exc.message,
        }
    body: dict[str, Any] = {"IsSuccess": False}
    for key, default in method.defaults:
        body[key] = list(default) if isinstance(default, list) else default
    if "Description" in body:
        body["Description"] = exc.detail
    body["ErrorCode"] = exc.code
    body["ErrorMessage"] = exc.message
    return body


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
        return _JSON_TYPE, orjson.dumps(error_body(method, exc))
    return b"text/plain; charset=utf-8", detail.encode()


def _fields(scope: Scope, body: bytes) -> dict[str, Any] | None:
    """Query parameters and JSON body, keys lower-cased; the body wins. None: unreadable body.
    The query is decoded by the one rule of :func:`query_map` (``InvalidQuery``: not UTF-8)."""
    query = scope.get("query_string", b"")
    data = {k.lower(): v for k, v in query_map(query).items()} if query else {}
    raw = body.strip()
    if not raw:
        return data
    parsed: Any
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        try:
            parsed = orjson.loads(unquote_plus(raw.decode("utf-8")))
        except (orjson.JSONDecodeError, UnicodeDecodeError):
            return None
    if parsed is None:
        return data
    if not isinstance(parsed, dict):
        return None
    data.update(service.lower_keys(parsed))
    return data


def build(runtime: Runtime) -> list[BaseRoute]:
    runtime.reset_hooks.append(lambda: ca_mod.forget(runtime))
    runtime.reset_hooks.append(lambda: hot.forget(runtime))

    # SQLite transactions run faster inline (on a kept connection, no threadpool handoff) than
    # through the threadpool; a database another process holds sends the call to the threadpool
    # with an ordinary, waiting connection (nothing of the first attempt was committed).
    inline = runtime.db.is_sqlite
    # Concurrent issuances share their transaction's BEGIN and COMMIT (one savepoint each).
    batcher = hot.batcher(runtime)

    async def _inline(method: Method, data: dict[str, Any]) -> Any:
        if method.handler is service.issue_certificate:
            job = service.IssueJob(runtime, data)
            try:
                job.prepare()
                with runtime.db.hot_read() as conn:
                    job.read(conn)
                # the batch's signatures back to back, outside the write lock
                await batcher.run(job.run, before=job.sign)
            except PendarError as exc:
                raise service.failing(exc, job) from None
            return job.body()
        try:
            return method.handler(runtime, data, runtime.db.hot_write)  # type: ignore[call-arg]
        except Exception as exc:
            if not is_busy(exc):
                raise
        return await run_in_threadpool(method.handler, runtime, data)

    async def api(scope: Scope, receive: Receive) -> tuple[int, bytes]:
        method = BY_LOWER.get(scope["path_params"]["method"].lower())
        if method is None:
            url = Request(scope).url
            return 404, orjson.dumps(
                {"Message": f"No HTTP resource was found that matches the request URI '{url}'."}
            )
        try:
            data = _fields(scope, await read_body(receive))
        except InvalidQuery:
            # unreadable input, as an unreadable body: the method's shape, ErrorCode 1
            return 200, orjson.dumps(
                error_body(method, PendarError(E.PROGRAM_ERROR, "رشته پرس‌وجو UTF-8 نیست"))
            )
        if data is None:
            return 200, orjson.dumps(
                error_body(method, PendarError(E.PROGRAM_ERROR, "بدنه درخواست JSON نیست"))
            )
        try:
            if method.inline and inline and ca_mod.is_loaded(runtime):
                result = await _inline(method, data)
            else:
                result = await run_in_threadpool(method.handler, runtime, data)
        except PendarError as exc:
            customer_id = getattr(exc, "customer_id", None)
            if customer_id is not None:
                await run_in_threadpool(
                    service.record_failure, runtime, customer_id, method.name, exc.code
                )
            return exc.status, orjson.dumps(error_body(method, exc))
        return 200, orjson.dumps(result)

    async def serve_api(request: FastRequest) -> Response:
        status, body = await api(request.scope, request.receive)
        return json_answer(status, body, _JSON_TYPE)

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

    def current_crl(ca: ca_mod.LoadedCA) -> bytes:
        now = runtime.clock.now_utc()
        with runtime.db.read() as conn:
            der, stale = crl_mod.current(conn, ca, now)
        if stale:
            with runtime.db.write() as conn:
                der, stale = crl_mod.current(conn, ca, now)  # another worker may have done it
                if stale:
                    _number, der = crl_mod.regenerate(conn, ca, now)
        return der

    async def crl(request: Request) -> Response:
        ca = await run_in_threadpool(loaded, request)
        if ca is None:
            return Response(b"unknown CA", 404, media_type="text/plain")
        der = await run_in_threadpool(current_crl, ca)
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


_S = {"type": "string"}
_B = {"type": "boolean"}
_ARR = {"type": "array", "items": {"type": "object"}}
_BODIES: dict[str, Any] = {
    "RegisterInfo": S.RegisterInfoRequest,
    "GetTrackingCodeInfo": S.GetTrackingCodeInfoRequest,
    "IssueCertificateByTrackingCode": S.IssueCertificateRequest,
    "RevokeCertificate": S.RevokeCertificateRequest,
    "IsApproved": S.IsApprovedRequest,
    "RequestApprove": S.RequestApproveRequest,
    "RecievedCertConfirmation": S.RecievedCertConfirmationRequest,
    "GetUserCertHistory": S.GetUserCertHistoryRequest,
    "IssuingReport": S.IssuingReportRequest,
    "GetCredit": S.GetCreditRequest,
}
_QUERY: dict[str, list[str]] = {
    "GetCAList": ["Customercode"],
    "GetCAProfileInfo": ["Customercode", "caName"],
    "IsAvailable": ["caName"],
    "GetAllCert": ["SerialNumber"],
    "GetAllMobileCert": ["NationalCode", "TrackingCode", "CAName", "CustomerCode"],
}

_ANSWERS: dict[str, str] = {
    "GetAllCert": "the active certificates ([] when there are none); ErrorCode 1103 when "
    "SerialNumber (the person's national code or national id) is missing",
    "GetAllMobileCert": "the active certificates ([] when there are none); ErrorCode 1103 when "
    "neither NationalCode nor TrackingCode is given (one of them is mandatory; TrackingCode "
    "wins when both are)",
}


def _response(method: Method) -> dict[str, Any]:
    if method.name == "GetVersion":
        return _S
    if method.family == "array":
        return {"oneOf": [_ARR, S.envelope({"IsSuccess": _B})]}
    if method.family == "result":
        return S.envelope({"Description": _S}, result=True)
    if method.family == "available":
        return S.envelope({"IsAvailable": _B, "Description": _S})
    props: dict[str, Any] = {"IsSuccess": _B}
    for key, default in method.defaults:
        props[key] = _ARR if isinstance(default, list) else _S
    if method.name == "GetCAList":
        props["CAList"] = {"type": "array", "items": _S, "description": "CA names, e.g. 01"}
    if method.name == "IssueCertificateByTrackingCode":
        props["P12"] = {"type": "string", "description": "base64 PKCS#12 (P12 tokens only)"}
    return S.envelope(props)


def openapi(runtime: Runtime) -> dict[str, Any]:
    del runtime
    routes = []
    for m in METHODS:
        query = [(q, _S, False, "bound case-insensitively") for q in _QUERY.get(m.name, [])]
        responses: dict[int, tuple[str, Any]] = {
            200: (_ANSWERS.get(m.name, "the method's body"), _response(m))
        }
        if m.name in ("GetCAList", "GetCAProfileInfo"):
            responses[401] = ("unknown customer (ErrorCode 1203)", _response(m))
        routes.append(
            ApiRoute(
                f"/api/{m.name}",
                lambda r: None,
                methods=[m.http],
                op=Op(
                    m.name,
                    body=_BODIES.get(m.name),
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
