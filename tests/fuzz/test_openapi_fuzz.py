"""The fuzzing gate: schemathesis against each of the five served OpenAPI documents.

A real ``pishkhan serve`` (uvicorn, SQLite, a small seeded world) answers generated requests
built from ``/_pishkhan/openapi/{jibit,paystar,pendar,payman,control}.json`` with valid
credentials (a customer made through the control plane: a Jibit access token, a Paystar API
key, a Payman OAuth token and App-Key, Pendar requests signed with the customer's RSA key, the
admin token). Every answer must

- not be a 5xx,
- have a status code, content type, headers and body that its document lists,
- carry no traceback text.

The control plane runs against a server of its own (it resets the sandbox, rotates and
disables credentials, moves the clock). Each document gets at most ``PISHKHAN_FUZZ_EXAMPLES``
generated cases per operation (default 20) and ``PISHKHAN_FUZZ_SECONDS`` seconds (default 60)
in all; the cases are derandomized so that a failure reproduces. See docs/architecture.md
("The fuzzing gate").
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pishkhan.providers.pendar.wire import field, lower_keys

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("PISHKHAN_FUZZ_EXAMPLES", "20"))
SECONDS = float(os.environ.get("PISHKHAN_FUZZ_SECONDS", "60"))
ONLY = os.environ.get("PISHKHAN_FUZZ_ONLY", "")  # a regex over "METHOD /path": fuzz just those
PEOPLE = 200  # the seeded world (and the most a fuzzed seed or reset may ask for)

TRACEBACK_MARKERS = ("Traceback (most recent call last)", 'File "', "Internal Server Error")


# The control plane's world import takes JSON Lines: generated strings are sent as plain text.
schemathesis.serializer.alias("application/x-ndjson", "text/plain")


@schemathesis.check
def no_traceback_text(ctx: Any, response: Any, case: Any) -> bool | None:
    """No body may show a stack trace or a framework's bare 500 page."""
    text = response.content.decode("utf-8", "replace")
    for marker in TRACEBACK_MARKERS:
        if marker in text:
            raise AssertionError(f"{marker!r} in the response body: {text[:300]!r}")
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    no_traceback_text,
]


@dataclass
class World:
    """A fuzzing server and the valid credentials of one customer on it."""

    server: Any  # conftest.LiveServer
    headers: dict[str, dict[str, str]]  # surface -> headers sent with every case
    pendar_key: rsa.RSAPrivateKey | None = None
    pendar_customercode: str = ""
    pendar_code: str = ""
    pendar_report_key: str = ""


ADMIN_TOKEN = "test-admin-token"  # what tests/conftest.py's live servers are started with


def _root_conftest(config: pytest.Config) -> Any:
    """tests/conftest.py as pytest loaded it (several test folders have a module named
    ``conftest``, so a plain import could find another one)."""
    root = Path(__file__).resolve().parents[1] / "conftest.py"
    for plugin in config.pluginmanager.get_plugins():
        path = getattr(plugin, "__file__", None)
        if path and Path(path).resolve() == root:
            return plugin
    raise RuntimeError("tests/conftest.py is not loaded")


def _start(request: pytest.FixtureRequest, tmp: Path, template: Path) -> Any:
    conftest = _root_conftest(request.config)
    assert conftest.ADMIN_TOKEN == ADMIN_TOKEN
    db = tmp / "pishkhan.sqlite3"
    shutil.copyfile(template, db)
    data = tmp / "data"
    data.mkdir()
    server = conftest.start_live_server(
        f"sqlite:///{db}", data, workers=1, extra_env={"PISHKHAN_PENDAR_CA_KEY": "ec-p256"}
    )
    with httpx.Client(base_url=server.base_url, timeout=120) as http:
        r = http.post(
            "/_pishkhan/v1/world/seed",
            json={"people": PEOPLE},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        assert r.status_code == 200, r.text
    return server


@pytest.fixture(scope="module")
def surfaces_world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[World]:
    server = _start(request, tmp_path_factory.mktemp("fuzz-surfaces"), sqlite_template)
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            r = http.post(
                "/_pishkhan/v1/customers",
                json={
                    "name": "Fuzz",
                    "slug": "fuzz",
                    "pendar_public_key_pem": pem,
                    "payman_redirect_urls": ["http://127.0.0.1:9/callback"],
                },
                headers=admin,
            )
            assert r.status_code == 201, r.text
            secrets = r.json()["secrets"]
            for wallet in ("jibit.PRF", "jibit.POF", "paystar.open_banking", "pendar.credit"):
                r = http.post(
                    "/_pishkhan/v1/customers/fuzz/topup",
                    json={"wallet": wallet, "amount": 10**12},
                    headers=admin,
                )
                assert r.status_code == 200, r.text
            jibit = secrets["jibit"]
            r = http.post(
                "/ide/v1/tokens/generate",
                json={"apiKey": jibit["apiKey"], "secretKey": jibit["secretKey"]},
            )
            assert r.status_code == 200, r.text
            jibit_token = r.json()["accessToken"]
            paystar = secrets["paystar"]
            r = http.post(
                "/api/open-banking/application/refresh-api-key",
                json={
                    k: paystar[k] for k in ("application_id", "access_password", "refresh_token")
                },
            )
            assert r.status_code == 200 and r.json()["status"] == 1, r.text
            paystar_key = r.json()["data"]["api_key"]
            payman = secrets["payman"]
            r = http.post(
                "/oauth/token",
                data={
                    "client_id": payman["client_id"],
                    "client_secret": payman["client_secret"],
                    "grant_type": "client_credentials",
                },
            )
            assert r.status_code == 200, r.text
            payman_token = r.json()["access_token"]
        pendar = secrets["pendar"]
        yield World(
            server=server,
            headers={
                "jibit": {"Authorization": f"Bearer {jibit_token}"},
                "paystar": {"Authorization": f"Bearer {paystar_key}"},
                "payman": {"Authorization": f"Bearer {payman_token}", "App-Key": payman["app_key"]},
                "pendar": {},
            },
            pendar_key=key,
            pendar_customercode=pendar["customercode"],
            pendar_code=pendar["customer_code"],
            pendar_report_key=pendar["report_key"],
        )
    finally:
        server.stop()


@pytest.fixture(scope="module")
def control_world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[World]:
    server = _start(request, tmp_path_factory.mktemp("fuzz-control"), sqlite_template)
    try:
        yield World(server=server, headers={"control": {"Authorization": f"Bearer {ADMIN_TOKEN}"}})
    finally:
        server.stop()


def _load(world: World, name: str) -> Any:
    schema = schemathesis.openapi.from_url(f"{world.server.base_url}/_pishkhan/openapi/{name}.json")
    schema.config.update(base_url=world.server.base_url)
    return schema


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)

ANONYMOUS_SETTINGS = settings(FUZZ_SETTINGS, max_examples=max(1, EXAMPLES // 5))

_deadlines: dict[str, float] = {}


def _in_budget(surface: str) -> bool:
    """False once the document's time budget is spent (later cases are generated, not sent)."""
    now = time.monotonic()
    deadline = _deadlines.setdefault(surface, now + SECONDS)
    return now < deadline


def _send(case: Any, world: World, surface: str, *, anonymous: bool = False) -> bool:
    """Send one case (unless the budget is spent) and run the checks on its answer; True when
    it was sent, whatever the checks found."""
    if not _in_budget(surface + (" anonymous" if anonymous else "")):
        return False
    headers = {} if anonymous else world.headers[surface]
    if headers:
        case.headers = {
            **{
                k: v
                for k, v in (case.headers or {}).items()
                if k.lower() not in {h.lower() for h in headers}
            },
            **headers,
        }
    case.call_and_validate(base_url=world.server.base_url, checks=CHECKS, timeout=30)
    return True


# -- Pendar: the customer's request signatures --------------------------------------------------


def _sign(key: rsa.RSAPrivateKey, text: str) -> str:
    return base64.b64encode(
        key.sign(text.encode("utf-16-le"), padding.PKCS1v15(), hashes.SHA1())
    ).decode()


def _set(body: dict[str, Any], name: str, value: Any) -> None:
    """Set ``name`` once, whatever casing the generated body used (the server folds case)."""
    for k in [k for k in body if k.lower() == name.lower()]:
        del body[k]
    body[name] = value


_pendar_counter = [0]


def sign_pendar_case(case: Any, world: World) -> None:
    """Make a generated Pendar request an authenticated one: the customer's code and a valid
    signature over the method's signed text (computed from the generated values as the server
    reads them). Every fourth case is left as generated, for the unauthenticated paths."""
    _pendar_counter[0] += 1
    if _pendar_counter[0] % 4 == 0 or world.pendar_key is None:
        return
    key = world.pendar_key
    method = case.operation.path.rsplit("/", 1)[-1]
    if isinstance(case.query, dict):
        for name in ("Customercode", "CustomerCode"):
            if name in case.query:
                case.query[name] = world.pendar_customercode
    body = case.body
    if not isinstance(body, dict):
        return
    if method in ("IssuingReport", "GetCredit"):
        _set(body, "customercode", world.pendar_code)
        _set(body, "reportkey", world.pendar_report_key)
        return
    if method == "IsApproved":
        return
    _set(body, "customercode", world.pendar_customercode)
    data = lower_keys(body)
    if method == "RegisterInfo":
        nc = field(lower_keys(data.get("persondata")), "nationalcode")
        _set(body, "signature", _sign(key, f"{world.pendar_customercode}-{nc}"))
    elif method == "GetTrackingCodeInfo":
        text = field(data, "nationalcode") + field(data, "trackingcode")
        _set(body, "sign", _sign(key, text))
    elif method == "RequestApprove":
        text = field(data, "nationalcode") + field(data, "trackingcode") + field(data, "approver")
        _set(body, "sign", _sign(key, text))
    elif method == "GetUserCertHistory":
        _set(body, "signature", _sign(key, field(data, "serialnumber") + field(data, "rnd")))
    elif method == "IssueCertificateByTrackingCode":
        _set(body, "signature", _sign(key, field(data, "csr")))
    elif method in ("RevokeCertificate", "RecievedCertConfirmation"):
        _set(body, "signature", _sign(key, field(data, "certificate")))


# -- the five documents ----------------------------------------------------------------------------

Prepare = Callable[[Any], None]


def fuzz_document(
    world: World, surface: str, prepare: Prepare | None = None, *, anonymous: bool = False
) -> None:
    """Every operation of the document, with positive and negative data; one failure per
    operation and mode is collected and all are reported together. ``anonymous``: without the
    credentials (what is generated is sent), a few cases per operation."""
    url = f"{world.server.base_url}/_pishkhan/openapi/{surface}.json"
    schema = schemathesis.openapi.from_url(url)
    failures: list[str] = []
    sent = [0]
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        if ONLY and not re.search(ONLY, operation.label):
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @(ANONYMOUS_SETTINGS if anonymous else FUZZ_SETTINGS)
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: Any) -> None:
                if prepare is not None and not anonymous:
                    prepare(case)
                sent[0] += 1
                if not _send(case, world, surface, anonymous=anonymous):
                    sent[0] -= 1

            try:
                run()
            except Unsatisfiable:  # nothing to generate (e.g. no negative data for no input)
                continue
            except (Exception, FailureGroup) as exc:  # a failed check: go on, report them all
                failures.append(f"{operation.label} [{mode.value}]:\n{exc}")
    elapsed = time.monotonic() - started
    surface += " without credentials" if anonymous else ""
    print(f"fuzz {surface}: {sent[0]} requests in {elapsed:.1f} s, {len(failures)} failing")
    assert not failures, f"{len(failures)} failing:\n\n" + "\n\n".join(failures)


def test_jibit_document(surfaces_world: World) -> None:
    fuzz_document(surfaces_world, "jibit")


def test_paystar_document(surfaces_world: World) -> None:
    fuzz_document(surfaces_world, "paystar")


def test_pendar_document(surfaces_world: World) -> None:
    fuzz_document(surfaces_world, "pendar", lambda case: sign_pendar_case(case, surfaces_world))


def test_payman_document(surfaces_world: World) -> None:
    fuzz_document(surfaces_world, "payman")


HEAVY = {"/_pishkhan/v1/world/seed", "/_pishkhan/v1/sandbox/reset"}


def small_world(case: Any) -> None:
    """Seeding a world of a million people is a valid request that takes minutes: keep the
    generated sizes small so that the gate stays bounded in time."""
    if case.operation.path in HEAVY and isinstance(case.body, dict):
        people = case.body.get("people")
        if "people" not in case.body or (
            isinstance(people, int) and not isinstance(people, bool) and people > PEOPLE
        ):
            case.body["people"] = PEOPLE  # absent means the default world of 3000


def test_control_document(control_world: World) -> None:
    fuzz_document(control_world, "control", small_world)


# -- methods a document does not list ------------------------------------------------------------


def _unlisted(world: World, surface: str) -> list[str]:
    """Each documented path with each of GET/POST/PUT/PATCH/DELETE that its document does not
    list for it, with valid credentials: no 5xx, no traceback text."""
    base = world.server.base_url
    doc = httpx.get(f"{base}/_pishkhan/openapi/{surface}.json", timeout=30).json()
    problems: list[str] = []
    with httpx.Client(base_url=base, timeout=30, headers=world.headers[surface]) as http:
        for path, ops in doc["paths"].items():
            url = re.sub(r"\{[^}]+\}", "0", path)
            for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                if method.lower() in ops:
                    continue
                r = http.request(method, url)
                text = r.text
                if r.status_code >= 500 or any(m in text for m in TRACEBACK_MARKERS):
                    problems.append(f"{method} {url} -> {r.status_code} {text[:200]!r}")
    return problems


def test_methods_the_documents_do_not_list(surfaces_world: World, control_world: World) -> None:
    problems = [
        *(
            p
            for s in ("jibit", "paystar", "pendar", "payman")
            for p in _unlisted(surfaces_world, s)
        ),
        *_unlisted(control_world, "control"),
    ]
    assert not problems, "\n".join(problems)


def test_documents_without_credentials(surfaces_world: World, control_world: World) -> None:
    """The answers to requests without valid credentials (401, 403, Pendar's 1200 and 1203)
    are documented too."""
    problems: list[str] = []
    for world, surface in (
        (surfaces_world, "jibit"),
        (surfaces_world, "paystar"),
        (surfaces_world, "pendar"),
        (surfaces_world, "payman"),
        (control_world, "control"),
    ):
        try:
            fuzz_document(world, surface, anonymous=True)
        except AssertionError as exc:
            problems.append(str(exc))
    assert not problems, "\n\n".join(problems)
