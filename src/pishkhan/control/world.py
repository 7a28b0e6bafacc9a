"""Admin API for the world (mounted under ``/_pishkhan/v1``).

``GET/POST /world/{kind}``, ``GET/PATCH/PUT/DELETE /world/{kind}/{key}``,
``POST /world/import`` (JSON Lines body), ``GET /world/export[?kind=..]`` (JSON Lines),
``GET /world/stats``, ``GET /world/fixtures``, ``POST /world/seed``. Kinds: person, sim,
address, legal_entity, bank, deposit, card, foreigner, guild, military, sana. Every change is
one transaction with its audit-log entry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from pishkhan.control.http import ApiError, api_error_from, json_response, query_int, read_model
from pishkhan.core.errors import PishkhanError
from pishkhan.runtime import Runtime, get_runtime
from pishkhan.web.openapi import ApiRoute, Op
from pishkhan.world import fixtures as world_fixtures
from pishkhan.world import service
from pishkhan.world.generator import DEFAULT_PEOPLE, MAX_PEOPLE, seed_world

_T = ("world",)
_KIND_SCHEMA = {"type": "string", "enum": list(service.KIND_NAMES)}
_RECORD = {"type": "object", "description": "the record's fields (see docs/world.md)"}


class SeedBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    people: int = Field(default=DEFAULT_PEOPLE, ge=0, le=MAX_PEOPLE)
    seed: int = 1


async def _call(request: Request, fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return await run_in_threadpool(fn, get_runtime(request), *args)
    except PishkhanError as exc:
        raise api_error_from(exc) from exc


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        data = orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "invalid_json", f"request body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_input", "request body must be a JSON object")
    return data


def _kind(request: Request) -> str:
    kind: str = request.path_params["kind"]
    try:
        return service.record_class(kind).kind
    except PishkhanError as exc:
        raise ApiError(404, "unknown_kind", str(exc)) from exc


def _audit(runtime: Runtime, conn: Any, action: str, subject: str, data: dict[str, Any]) -> None:
    runtime.audit.append(conn, actor="admin", action=action, subject=subject, data=data)


async def list_records(request: Request) -> Response:
    kind = _kind(request)
    params = dict(request.query_params)
    params.pop("limit", None)
    params.pop("offset", None)
    limit = query_int(request, "limit", 100)
    offset = query_int(request, "offset", 0)

    def work(runtime: Runtime) -> Any:
        with runtime.db.read() as conn:
            records = service.list_records(conn, kind, filters=params, limit=limit, offset=offset)
            return {
                "kind": kind,
                "total": service.count(conn, kind),
                "records": [r.to_json() for r in records],
            }

    return json_response(await _call(request, work))


async def create_record(request: Request) -> Response:
    kind = _kind(request)
    data = await _json_object(request)

    def work(runtime: Runtime) -> Any:
        with runtime.db.write() as conn:
            record = service.create(conn, kind, data)
            _audit(runtime, conn, f"world.{kind}.create", f"{kind}:{record.key}", {})
            return record.to_json()

    return json_response(await _call(request, work), 201)


async def show_record(request: Request) -> Response:
    kind = _kind(request)
    key = request.path_params["key"]

    def work(runtime: Runtime) -> Any:
        with runtime.db.read() as conn:
            return service.get(conn, kind, key).to_json()

    return json_response(await _call(request, work))


async def update_record(request: Request) -> Response:
    kind = _kind(request)
    key = request.path_params["key"]
    data = await _json_object(request)
    replace = request.method == "PUT"

    def work(runtime: Runtime) -> Any:
        with runtime.db.write() as conn:
            if replace:
                canonical = service.parse_key(kind, key)
                cls = service.record_class(kind)
                payload = {**data, cls.key_field: data.get(cls.key_field, canonical)}
                if service.record_class(kind).parse_key(str(payload[cls.key_field])) != canonical:
                    raise ApiError(400, "invalid_input", "the body's key differs from the URL's")
                record, created = service.upsert(conn, kind, payload)
                action = "create" if created else "replace"
            else:
                record = service.update(conn, kind, key, data)
                action = "update"
            _audit(
                runtime,
                conn,
                f"world.{kind}.{action}",
                f"{kind}:{record.key}",
                {"fields": sorted(k for k in data if k != "kind")},
            )
            return record.to_json()

    return json_response(await _call(request, work))


async def delete_record(request: Request) -> Response:
    kind = _kind(request)
    key = request.path_params["key"]

    def work(runtime: Runtime) -> Any:
        with runtime.db.write() as conn:
            record = service.delete_record(conn, kind, key)
            _audit(runtime, conn, f"world.{kind}.delete", f"{kind}:{record.key}", {})
            return {"deleted": record.to_json()}

    return json_response(await _call(request, work))


async def import_records(request: Request) -> Response:
    body = await request.body()  # at most PISHKHAN_MAX_IMPORT_BODY bytes (web/limits.py)
    lines = body.splitlines()

    def work(runtime: Runtime) -> Any:
        with runtime.db.write() as conn:
            result = service.import_jsonl(conn, lines)
            _audit(runtime, conn, "world.import", "world", {"result": result})
            return {"imported": result}

    return json_response(await _call(request, work))


async def export_records(request: Request) -> Response:
    kinds = request.query_params.getlist("kind") or None

    def work(runtime: Runtime) -> bytes:
        with runtime.db.read() as conn:
            return b"".join(service.export_jsonl(conn, kinds))

    body = await _call(request, work)
    return Response(body, media_type="application/x-ndjson")


async def stats(request: Request) -> Response:
    def work(runtime: Runtime) -> Any:
        with runtime.db.read() as conn:
            return service.stats(conn)

    return json_response(await _call(request, work))


async def fixtures(request: Request) -> Response:
    return json_response({"fixtures": [f.to_json() for f in world_fixtures.CATALOGUE]})


async def seed(request: Request) -> Response:
    body = await read_model(request, SeedBody)

    def work(runtime: Runtime) -> Any:
        with runtime.db.write() as conn:
            counts = seed_world(conn, body.people, body.seed)
            _audit(runtime, conn, "world.seed", "world", {"people": body.people, "seed": body.seed})
            return {"people": body.people, "seed": body.seed, "rows": counts}

    return json_response(await _call(request, work))


_KIND_PARAM = (("kind", _KIND_SCHEMA, True, "record kind"),)
_ERRORS = {400: ("invalid input", None), 404: ("not found", None)}

routes: list[BaseRoute] = [
    ApiRoute(
        "/world/stats",
        stats,
        methods=["GET"],
        op=Op("World statistics: counts and breakdowns", tags=_T, operation_id="worldStats"),
    ),
    ApiRoute(
        "/world/fixtures",
        fixtures,
        methods=["GET"],
        op=Op(
            "The documented magic values present in every seeded world",
            tags=_T,
            operation_id="worldFixtures",
        ),
    ),
    ApiRoute(
        "/world/export",
        export_records,
        methods=["GET"],
        op=Op(
            "Export the world as JSON Lines (optionally some kinds)",
            query=(("kind", _KIND_SCHEMA, False, "repeatable"),),
            tags=_T,
            responses={200: ("JSON Lines, one record a line", {"type": "string"})},
            response_media="application/x-ndjson",
            error_media="application/json",
            operation_id="worldExport",
        ),
    ),
    ApiRoute(
        "/world/import",
        import_records,
        methods=["POST"],
        op=Op(
            "Create or replace records from JSON Lines (all or nothing)",
            body={"type": "string"},
            body_media="application/x-ndjson",
            responses=_ERRORS,
            tags=_T,
            operation_id="worldImport",
        ),
    ),
    ApiRoute(
        "/world/seed",
        seed,
        methods=["POST"],
        op=Op(
            "Replace the world with the fixtures plus a generated one",
            body=SeedBody,
            tags=_T,
            operation_id="worldSeed",
        ),
    ),
    ApiRoute(
        "/world/{kind}",
        list_records,
        methods=["GET"],
        op=Op(
            "List records of a kind (query: limit, offset, column=value filters)",
            query=_KIND_PARAM,
            responses=_ERRORS,
            tags=_T,
            operation_id="worldList",
        ),
    ),
    ApiRoute(
        "/world/{kind}",
        create_record,
        methods=["POST"],
        op=Op(
            "Create a record",
            body=_RECORD,
            responses={201: ("created", None), 409: ("exists", None), **_ERRORS},
            tags=_T,
            operation_id="worldCreate",
        ),
    ),
    ApiRoute(
        "/world/{kind}/{key}",
        show_record,
        methods=["GET"],
        op=Op("Show a record by key", responses=_ERRORS, tags=_T, operation_id="worldShow"),
    ),
    ApiRoute(
        "/world/{kind}/{key}",
        update_record,
        methods=["PATCH", "PUT"],
        op=Op(
            "Update some fields (PATCH) or create/replace the record (PUT)",
            body=_RECORD,
            responses=_ERRORS,
            tags=_T,
            operation_id="worldUpdate",
        ),
    ),
    ApiRoute(
        "/world/{kind}/{key}",
        delete_record,
        methods=["DELETE"],
        op=Op("Delete a record", responses=_ERRORS, tags=_T, operation_id="worldDelete"),
    ),
]
