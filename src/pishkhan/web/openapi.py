"""A small OpenAPI 3.1 builder: routes declare their bodies with pydantic models or schemas."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pydantic import BaseModel
from starlette.routing import Route

Schema = dict[str, Any]


@dataclass(frozen=True)
class Op:
    """What one (path, method) accepts and answers, for the OpenAPI document."""

    summary: str
    body: type[BaseModel] | Schema | None = None
    body_media: str | Sequence[str] = "application/json"  # or several, each with the body's schema
    response_media: str = "application/json"  # the media type of every documented answer body
    error_media: str | None = None  # that of answers >= 400, when not response_media
    query: Sequence[tuple[str, Schema, bool, str]] = ()  # (name, schema, required, description)
    headers: Sequence[tuple[str, Schema, bool, str]] = ()
    responses: Mapping[int, tuple[str, type[BaseModel] | Schema | None]] = field(
        default_factory=dict
    )
    tags: Sequence[str] = ()
    security: Sequence[dict[str, list[str]]] | None = None
    operation_id: str | None = None


#: The methods whose requests carry a body (bounded by ``pishkhan.web.limits``).
BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH"})
#: What ``pishkhan.web.limits`` answers for a body refused by its size or its slowness.
BODY_REFUSALS: Final = {
    408: "the body did not all arrive within PISHKHAN_BODY_TIMEOUT seconds of the request's head",
    413: "the body is larger than the server's bound (PISHKHAN_MAX_BODY)",
}


class ApiRoute(Route):
    """A Starlette route that carries its OpenAPI description."""

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Sequence[str],
        op: Op,
        name: str | None = None,
    ) -> None:
        super().__init__(path, endpoint, methods=list(methods), name=name)
        self.op = op


def _schema(item: type[BaseModel] | Schema, components: dict[str, Schema]) -> Schema:
    if isinstance(item, dict):
        return item
    schema = item.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in [*schema.pop("$defs", {}).items(), (item.__name__, schema)]:
        if components.setdefault(name, sub) != sub:
            raise ValueError(f"two different schemas are named {name!r} in one document")
    return {"$ref": f"#/components/schemas/{item.__name__}"}


def build_document(
    *,
    title: str,
    version: str,
    description: str,
    routes: Sequence[Any],
    prefix: str = "",
    security_schemes: dict[str, Schema] | None = None,
    default_security: Sequence[dict[str, list[str]]] | None = None,
    extra_components: dict[str, Schema] | None = None,
    common_responses: Callable[[str, str], Mapping[int, tuple[str, type[BaseModel] | Schema]]]
    | None = None,
    body_refusal: Callable[[Op], type[BaseModel] | Schema | None] | None = None,
    bodiless: Callable[[int], type[BaseModel] | Schema | None] | None = None,
) -> Schema:
    """The document of ``routes``. ``common_responses(path, method)`` names the answers that a
    layer around the routes gives (authentication, error handlers) for one operation; they are
    added to what the route declares (the route's description wins, the common body fills in a
    route's bodiless entry). ``body_refusal(op)`` is the schema of the surface's answer to a
    body too large (413) or too slow (408) (``pishkhan.web.limits``): every POST, PUT and PATCH
    lists both. ``bodiless(status)`` is the body of a listed answer that neither the route nor
    ``common_responses`` gives one."""
    components: dict[str, Schema] = dict(extra_components or {})
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        if not isinstance(route, ApiRoute):
            continue
        op = route.op
        methods = sorted(m for m in (route.methods or ()) if m != "HEAD")
        for method in methods:
            entry: dict[str, Any] = {"summary": op.summary}
            if op.operation_id:
                # Operation ids must be unique: suffix the method when a route has several.
                entry["operationId"] = (
                    op.operation_id if len(methods) == 1 else f"{op.operation_id}_{method.lower()}"
                )
            if op.tags:
                entry["tags"] = list(op.tags)
            params: list[dict[str, Any]] = []
            for p in route.param_convertors:
                params.append(
                    {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                )
            for name, schema, required, desc in op.query:
                params.append(
                    {
                        "name": name,
                        "in": "query",
                        "required": required,
                        "schema": schema,
                        "description": desc,
                    }
                )
            for name, schema, required, desc in op.headers:
                params.append(
                    {
                        "name": name,
                        "in": "header",
                        "required": required,
                        "schema": schema,
                        "description": desc,
                    }
                )
            if params:
                entry["parameters"] = params
            if op.body is not None:
                body = {"schema": _schema(op.body, components)}
                media = (op.body_media,) if isinstance(op.body_media, str) else op.body_media
                entry["requestBody"] = {"required": True, "content": dict.fromkeys(media, body)}
            responses: dict[str, Any] = {}
            declared: dict[int, tuple[str, type[BaseModel] | Schema | None]] = dict(op.responses)
            if not any(status < 400 for status in declared):
                declared[200] = ("OK", None)
            common: dict[int, tuple[str, type[BaseModel] | Schema | None]] = {}
            if body_refusal is not None and method in BODY_METHODS:
                refusal = body_refusal(op)
                common.update({status: (desc, refusal) for status, desc in BODY_REFUSALS.items()})
            if common_responses is not None:
                common.update(common_responses(prefix + route.path, method))
            for status, (common_desc, common_body) in common.items():
                own_desc, own_body = declared.get(status, (common_desc, None))
                declared[status] = (own_desc, own_body if own_body is not None else common_body)
            for status, (desc, answer) in sorted(declared.items()):
                if answer is None and bodiless is not None:
                    answer = bodiless(status)
                resp: dict[str, Any] = {"description": desc}
                if answer is not None:
                    media = (
                        op.error_media if status >= 400 and op.error_media else op.response_media
                    )
                    resp["content"] = {media: {"schema": _schema(answer, components)}}
                responses[str(status)] = resp
            entry["responses"] = responses
            security = op.security if op.security is not None else default_security
            if security is not None:
                entry["security"] = list(security)
            paths.setdefault(prefix + route.path, {})[method.lower()] = entry
    doc: Schema = {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": dict(sorted(components.items()))},
    }
    if security_schemes:
        doc["components"]["securitySchemes"] = security_schemes
    return doc
