"""Every response a test receives is held to the served OpenAPI documents.

The ``client`` fixture (``tests/conftest.py``) installs :meth:`DocumentedResponses.hook` as an
httpx response event hook, so every response to a request of a test is checked as it arrives:

* the documents are the app's own, fetched once per app from
  ``/_pishkhan/openapi/{jibit,paystar,pendar,payman,control}.json`` (a surface the app does not
  serve has none);
* the operation is the document path template matching the request's path (``{name}`` is one
  path segment; a literal template wins over one with parameters; Pendar's ``/api/{Method}``
  paths are matched case-insensitively, as the server reads method names) and the request's
  method (HEAD is checked as the GET operation, without a body);
* the test fails when the path is documented but not with this method, when the status is not
  listed, when the content type is not one the status lists (or a body comes where the status
  lists none), or when a JSON body does not validate against the listed schema (JSON Schema
  Draft 2020-12, with the document's components).

The rule for what is not checked: a response to a path that no document's templates match
(pages, ``/_pishkhan/health``, ``/_pishkhan/metrics``, the documents themselves, and unknown
paths under a surface's prefix) is skipped.

A test that deliberately sends what its surface does not document (a wrong method, say) carries
``@pytest.mark.undocumented("why")``: its responses are not checked. Nothing else turns the
check off; a mismatch raises :class:`UndocumentedResponse` from the request call, and one that
the code under test swallowed still fails the test at teardown.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
import orjson
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

SURFACES: Final = ("jibit", "paystar", "pendar", "payman", "control")
#: Surfaces whose path templates are matched case-insensitively (the server reads them so).
CASE_INSENSITIVE: Final = frozenset({"pendar"})
DOCUMENT_PATH: Final = "/_pishkhan/openapi/{surface}.json"

Fetch = Callable[[str], "dict[str, Any] | None"]


class UndocumentedResponse(AssertionError):
    """A response that its surface's served document does not describe."""


@dataclass(frozen=True)
class _Template:
    surface: str
    path: str
    regex: re.Pattern[str]
    params: int


@dataclass
class DocumentedResponses:
    """The served documents of one app and the check of a response against them."""

    fetch: Fetch
    _docs: dict[str, dict[str, Any]] | None = None
    _templates: list[_Template] = field(default_factory=list)
    _validators: dict[tuple[str, str, str, str, str], Draft202012Validator] = field(
        default_factory=dict
    )

    def _load(self) -> dict[str, dict[str, Any]]:
        if self._docs is None:
            docs: dict[str, dict[str, Any]] = {}
            for surface in SURFACES:
                doc = self.fetch(surface)
                if doc is not None:
                    docs[surface] = doc
            templates = []
            for surface, doc in docs.items():
                flags = re.IGNORECASE if surface in CASE_INSENSITIVE else 0
                for path in doc.get("paths", {}):
                    parts = re.split(r"\{[^}/]+\}", path)
                    regex = re.compile("[^/]+".join(re.escape(p) for p in parts), flags)
                    templates.append(_Template(surface, path, regex, len(parts) - 1))
            # A literal template wins over one with parameters.
            self._templates = sorted(templates, key=lambda t: t.params)
            self._docs = docs
        return self._docs

    def operation(self, path: str) -> _Template | None:
        self._load()
        for template in self._templates:
            if template.regex.fullmatch(path):
                return template
        return None

    def problem(
        self, method: str, path: str, status: int, content_type: str | None, body: bytes
    ) -> str | None:
        """What is wrong with this response, or None (also when no document covers the path)."""
        template = self.operation(path)
        if template is None:
            return None
        doc = self._load()[template.surface]
        item = doc["paths"][template.path]
        head = method.upper() == "HEAD"
        op_method = "get" if head else method.lower()
        op = item.get(op_method)
        where = f"{method} {path} -> {status} ({template.surface}: {op_method} {template.path})"
        if op is None:
            return f"{where}: the document has no {op_method.upper()} here ({sorted(item)})"
        responses: dict[str, Any] = op.get("responses", {})
        key = _response_key(responses, status)
        if key is None:
            return f"{where}: status {status} is not listed ({sorted(responses)})"
        content: dict[str, Any] = responses[key].get("content") or {}
        if head:
            return None
        media = (content_type or "").split(";")[0].strip().lower()
        if not content:
            if body:
                return f"{where}: a {media or 'untyped'} body where the document lists none"
            return None
        listed = {m.lower(): m for m in content}
        if media not in listed:
            return f"{where}: content type {media or '(none)'} is not listed ({sorted(content)})"
        if not _is_json(media):
            return None
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError:
            return f"{where}: the {media} body is not JSON: {body[:200]!r}"
        validator = self._validator(template, op_method, key, listed[media], content)
        error = best_match(validator.iter_errors(value))
        if error is not None:
            at = "/".join(str(p) for p in error.absolute_path) or "(root)"
            return f"{where}: the body does not validate at {at}: {error.message}; body {value!r}"
        return None

    def _validator(
        self,
        template: _Template,
        method: str,
        key: str,
        media: str,
        content: dict[str, Any],
    ) -> Draft202012Validator:
        cache_key = (template.surface, template.path, method, key, media)
        validator = self._validators.get(cache_key)
        if validator is None:
            doc = self._load()[template.surface]
            schema = content[media].get("schema", {})
            validator = Draft202012Validator({**schema, "components": doc.get("components", {})})
            self._validators[cache_key] = validator
        return validator


@dataclass
class Watch:
    """The check of every response one test receives (an httpx response event hook)."""

    checker: DocumentedResponses
    #: Mismatches found (each also raised), so one that the code under test swallowed still
    #: fails the test.
    mismatches: list[str] = field(default_factory=list)

    def __call__(self, response: httpx.Response) -> None:
        request = response.request
        if request.url.path.startswith("/_pishkhan/openapi/"):
            return  # the documents themselves
        response.read()
        problem = self.checker.problem(
            request.method,
            request.url.path,
            response.status_code,
            response.headers.get("content-type"),
            response.content,
        )
        if problem is not None:
            self.mismatches.append(problem)
            raise UndocumentedResponse(problem)

    def install(self, client: httpx.Client) -> None:
        client.event_hooks["response"].append(self)


def _response_key(responses: dict[str, Any], status: int) -> str | None:
    for key in (str(status), f"{status // 100}XX", f"{status // 100}xx", "default"):
        if key in responses:
            return key
    return None


def _is_json(media: str) -> bool:
    return media == "application/json" or media.endswith("+json")


def for_app(app: Any) -> DocumentedResponses:
    """The checker of an in-process app (kept on ``app.state``), its documents fetched once
    through a plain client."""
    checker: DocumentedResponses | None = getattr(app.state, "documented_responses", None)
    if checker is None:
        from starlette.testclient import TestClient

        plain = TestClient(app, base_url="http://127.0.0.1")

        def fetch(surface: str) -> dict[str, Any] | None:
            r = plain.get(DOCUMENT_PATH.format(surface=surface))
            return r.json() if r.status_code == 200 else None

        checker = DocumentedResponses(fetch)
        app.state.documented_responses = checker
    return checker
