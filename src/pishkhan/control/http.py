"""Small HTTP helpers for the control plane's JSON API."""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from pishkhan.core.clock import ClockUnavailable
from pishkhan.core.errors import Conflict, InvalidInput, NotFound, PishkhanError
from pishkhan.core.ints import INT64_MAX, INT64_MIN, ints_beyond_int64, parse_int

M = TypeVar("M", bound=BaseModel)


def json_response(data: Any, status: int = 200) -> Response:
    return Response(
        orjson.dumps(data, default=_default, option=orjson.OPT_NON_STR_KEYS),
        status_code=status,
        media_type="application/json",
    )


def _default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")


class ApiError(Exception):
    """An error answered as ``{"error": {"code", "message", "details"}}``."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def response(self) -> Response:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return json_response({"error": body}, self.status)


def body_refusal(_scope: Any, status: int, detail: str) -> tuple[bytes, bytes]:
    """The control plane's answer to a body too large (413 ``too_large``) or too slow (408
    ``body_timeout``): see ``pishkhan.web.limits``."""
    code = "too_large" if status == 413 else "body_timeout"
    return b"application/json", bytes(ApiError(status, code, detail).response().body)


def api_error_from(exc: PishkhanError) -> ApiError:
    if isinstance(exc, NotFound):
        return ApiError(404, "not_found", str(exc))
    if isinstance(exc, Conflict):
        return ApiError(409, "conflict", str(exc))
    if isinstance(exc, InvalidInput):
        return ApiError(400, "invalid_input", str(exc), exc.errors or None)
    if isinstance(exc, ClockUnavailable):
        return ApiError(503, "clock_unavailable", str(exc))
    return ApiError(400, "error", str(exc))


async def read_model(request: Request, model: type[M]) -> M:
    """Parse the JSON body into ``model``; an empty body means ``{}``."""
    raw = await request.body()
    try:
        data = orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "invalid_json", f"request body is not JSON: {exc}") from exc
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        details = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        raise ApiError(400, "invalid_input", "request body is invalid", details) from exc
    # Every integer the control plane takes is kept in (or hashed into) a 64-bit column.
    beyond = ints_beyond_int64(parsed.model_dump())
    if beyond:
        details = [{"field": f, "message": INT64_MESSAGE} for f in beyond]
        raise ApiError(400, "invalid_input", "request body is invalid", details)
    return parsed


INT64_MESSAGE = f"Input should be between {INT64_MIN} and {INT64_MAX}"


def query_int(
    request: Request, name: str, default: int, *, lo: int = INT64_MIN, hi: int = INT64_MAX
) -> int:
    """An integer query parameter in ``[lo, hi]`` (by default: one that fits 64 bits);
    otherwise 400 ``invalid_input``."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        return parse_int(raw, lo=lo, hi=hi)
    except ValueError:
        raise ApiError(
            400,
            "invalid_input",
            f"{name} must be an integer between {lo} and {hi}",
            {name: raw[:100]},
        ) from None
