"""What a scenario author writes: requests, baselines, targets, measurements, the scenario.

A scenario names the requests to drive (built after the server is up, so it can create a
customer and get a token first), the baseline measured in the same run, and the target the
report marks as met or not. See ``bench/README.md`` for a walk-through.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import httpx

SERVERS: tuple[str, ...] = ("uvicorn", "granian")
ADMIN_PREFIX = "/_pishkhan/v1"
HEALTH_PATH = "/_pishkhan/health"
DEFAULT_MAX_REQUESTS = 5_000_000  # per load run: a safety bound, far above what a run reaches


class ScenarioError(RuntimeError):
    """A scenario could not prepare its state or its requests were answered unexpectedly."""


# --------------------------------------------------------------------------------------------
# Requests


@dataclass(frozen=True)
class Request:
    """One HTTP request the load generator sends (path includes the query string)."""

    method: str = "GET"
    path: str = "/"
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None

    @classmethod
    def get(cls, path: str, headers: Mapping[str, str] | None = None) -> Request:
        return cls("GET", path, dict(headers or {}))

    @classmethod
    def json(
        cls,
        method: str,
        path: str,
        payload: Any,
        headers: Mapping[str, str] | None = None,
    ) -> Request:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        merged = {"Content-Type": "application/json", **(headers or {})}
        return cls(method.upper(), path, merged, body)

    def to_wire(self) -> dict[str, Any]:
        """A JSON-safe form (body base64) for the fallback load generator."""
        return {
            "method": self.method,
            "path": self.path,
            "headers": dict(self.headers),
            "body": base64.b64encode(self.body).decode() if self.body is not None else None,
        }

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Request:
        body = data.get("body")
        return cls(
            str(data["method"]),
            str(data["path"]),
            dict(data.get("headers") or {}),
            base64.b64decode(body) if body is not None else None,
        )


# --------------------------------------------------------------------------------------------
# Measurements


@dataclass
class Measurement:
    """One measured run: throughput and latency of a load run, a callable or a command."""

    source: str  # "wrk", "python-fallback", "callable", "command"
    count: int
    duration_s: float
    unit: str = "req/s"
    p50_ms: float | None = None
    p90_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    mean_ms: float | None = None
    statuses: dict[str, int] = field(default_factory=dict)
    unexpected: int = 0  # responses whose status was not in the expected set
    errors: dict[str, int] = field(default_factory=dict)  # socket-level: connect/read/write/timeout
    count_bounded: bool = False  # the run stopped on its request bound before the duration
    # CPU accounting of a load run (Linux /proc): the server's processes' CPU time per
    # request, the cores they used on average, and the share of the server CPUs' capacity
    # taken by other processes meanwhile (noise from a busy machine)
    server_cpu_us_per_req: float | None = None
    server_cores: float | None = None
    other_cpu_share: float | None = None
    # what the server's processes had read from the disk per request (page cache misses: on
    # machines whose kernel pages out cold file pages, the database's; see bench/README.md)
    server_disk_read_kb_per_req: float | None = None
    rate_override: float | None = None  # a command reporting its own rate (pgbench tps)
    note: str = ""

    @property
    def rate(self) -> float:
        if self.rate_override is not None:
            return self.rate_override
        return self.count / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def non_2xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if not status.startswith("2"))

    @property
    def socket_errors(self) -> int:
        return sum(self.errors.get(k, 0) for k in ("connect", "read", "write", "timeout"))

    @property
    def valid(self) -> bool:
        """No unexpected statuses and socket errors within 0.1% of the requests."""
        if self.unexpected:
            return False
        return self.socket_errors <= max(1, self.count // 1000)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("rate_override")
        data["rate"] = round(self.rate, 1)
        data["non_2xx"] = self.non_2xx
        data["valid"] = self.valid
        return data


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of an ascending sequence (``pct`` in 0..100)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return float(sorted_values[min(rank, len(sorted_values)) - 1])


# --------------------------------------------------------------------------------------------
# Targets


@dataclass(frozen=True)
class Target:
    """What the report checks: any of a throughput ratio, a p99 bound, an absolute rate."""

    min_ratio: float | None = None  # subject rate / baseline rate, e.g. 0.25
    max_p99_ms: float | None = None  # e.g. 20.0
    min_rate: float | None = None  # e.g. 1000 (req/s)

    @property
    def empty(self) -> bool:
        return self.min_ratio is None and self.max_p99_ms is None and self.min_rate is None

    def describe(self) -> str:
        parts = []
        if self.min_ratio is not None:
            parts.append(f"ratio ≥ {self.min_ratio:g}")
        if self.max_p99_ms is not None:
            parts.append(f"p99 < {self.max_p99_ms:g} ms")
        if self.min_rate is not None:
            parts.append(f"≥ {self.min_rate:,.0f}/s")
        return ", ".join(parts) or "—"

    def check(self, subject: Measurement, ratio: float | None) -> dict[str, Any]:
        """Return ``{"verdict": "met"|"not met"|"invalid"|"none", "checks": [...]}``."""
        checks: list[dict[str, Any]] = []
        if self.min_ratio is not None:
            ok = ratio is not None and ratio >= self.min_ratio
            checks.append({"what": "ratio", "want": self.min_ratio, "got": ratio, "met": ok})
        if self.max_p99_ms is not None:
            p99 = subject.p99_ms
            ok = p99 is not None and p99 < self.max_p99_ms
            checks.append({"what": "p99_ms", "want": self.max_p99_ms, "got": p99, "met": ok})
        if self.min_rate is not None:
            ok = subject.rate >= self.min_rate
            checks.append(
                {"what": "rate", "want": self.min_rate, "got": round(subject.rate, 1), "met": ok}
            )
        if not subject.valid:
            verdict = "invalid"
        elif not checks:
            verdict = "none"
        else:
            verdict = "met" if all(c["met"] for c in checks) else "not met"
        return {"verdict": verdict, "checks": checks}


# --------------------------------------------------------------------------------------------
# Baselines


@dataclass(frozen=True)
class BaselineContext:
    """What a callable or command baseline may use."""

    duration: float
    connections: int
    workers: int
    server_cpus: tuple[int, ...] | None
    load_cpus: tuple[int, ...] | None
    database_url: str | None  # a fresh PostgreSQL database when the baseline asks for one
    work_dir: Path


@dataclass(frozen=True)
class StarletteBaseline:
    """A bare Starlette JSON route (``bench/baseline_app.py``) on the same server and workers,
    driven by the same load generator with the same connections and duration."""

    kind: ClassVar[str] = "starlette"
    requests: tuple[Request, ...] = (Request.get("/json?name=bench"),)
    label: str = "bare Starlette JSON route"


@dataclass(frozen=True)
class CallableBaseline:
    """A Python operation timed in the harness process, pinned to the server's CPUs.

    ``setup`` runs untimed (build keys, CSRs) and returns the operation to time; the loop is
    bounded by the run duration (or ``duration``) and by ``max_ops``.
    """

    kind: ClassVar[str] = "callable"
    label: str
    setup: Callable[[BaselineContext], Callable[[], object]]
    max_ops: int = 1_000_000
    duration: float | None = None
    unit: str = "ops/s"


@dataclass(frozen=True)
class CommandBaseline:
    """An external command (e.g. pgbench) run in the same run, its output parsed for a rate.

    ``prepare`` commands run first, untimed; ``command`` is measured; ``parse`` turns its
    standard output into a :class:`Measurement` (usually with ``rate_override``).
    With ``needs_database`` the harness creates a fresh PostgreSQL database for it.
    """

    kind: ClassVar[str] = "command"
    label: str
    command: Callable[[BaselineContext], Sequence[str]]
    parse: Callable[[str], Measurement]
    prepare: Callable[[BaselineContext], Sequence[Sequence[str]]] | None = None
    needs_database: bool = False
    timeout: float = 300.0
    pin: Literal["server", "load", "none"] = "load"


@dataclass(frozen=True)
class NoBaseline:
    """No baseline: only absolute targets (``min_rate``, ``max_p99_ms``) apply."""

    kind: ClassVar[str] = "none"
    label: str = "none"


Baseline = StarletteBaseline | CallableBaseline | CommandBaseline | NoBaseline


# --------------------------------------------------------------------------------------------
# Scenario context (handed to Scenario.build once the server answers)


class ScenarioContext:
    """A running pishkhan: its URL, admin token and an HTTP client to prepare state with."""

    def __init__(
        self,
        base_url: str,
        admin_token: str,
        data_dir: Path,
        *,
        database_url: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self.base_url = base_url
        self.admin_token = admin_token
        self.data_dir = data_dir
        self.database_url = database_url
        self.options: Mapping[str, Any] = options or {}
        self.state: dict[str, Any] = {}
        self._client: httpx.Client | None = None

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(base_url=self.base_url, timeout=60.0, trust_env=False)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        expect: Sequence[int] = (200, 201),
    ) -> httpx.Response:
        response = self.client.request(
            method, path, json=json, headers=dict(headers or {}), content=content
        )
        if response.status_code not in expect:
            raise ScenarioError(
                f"{method} {path} answered {response.status_code} (expected {list(expect)}): "
                f"{response.text[:2000]}"
            )
        return response

    def admin(self, method: str, path: str, json: Any = None) -> Any:
        """Call the admin API; ``path`` is relative to ``/_pishkhan/v1`` unless absolute."""
        if not path.startswith("/"):
            path = f"{ADMIN_PREFIX}/{path}"
        response = self.request(
            method, path, json=json, headers={"Authorization": f"Bearer {self.admin_token}"}
        )
        return response.json() if response.content else None

    def create_customer(self, name: str = "bench", **fields: Any) -> dict[str, Any]:
        """Create a customer; the answer carries its credentials for every surface."""
        customer: dict[str, Any] = self.admin("POST", "customers", {"name": name, **fields})
        return customer


# --------------------------------------------------------------------------------------------
# Scenario


def _no_setup(ctx: ScenarioContext) -> Sequence[Request]:
    raise NotImplementedError


@dataclass(frozen=True)
class Scenario:
    """A named benchmark.

    ``build`` is called once pishkhan answers its health check: prepare state through the
    admin API or the surface itself (``ctx.create_customer``, ``ctx.request``) and return the
    request(s) to drive; with several, the load generator cycles through them.
    """

    name: str
    description: str
    build: Callable[[ScenarioContext], Sequence[Request]] = _no_setup
    baseline: Baseline = StarletteBaseline()
    target: Target = Target()
    expect_status: frozenset[int] = frozenset({200})
    # defaults for the command line
    server: str = "uvicorn"
    workers: int = 1
    connections: int = 64
    duration: float = 10.0
    warmup: float = 2.0
    # safety bound on the requests of one load run (all threads together)
    max_requests: int = DEFAULT_MAX_REQUESTS
    # pishkhan's environment
    database: Literal["sqlite", "postgres"] = "sqlite"
    seed_world: bool = False
    env: Mapping[str, str] = field(default_factory=dict)
    startup_timeout: float = 120.0
    # send the first request once before the load and fail early on an unexpected status;
    # turn off when a request must not be repeated (it consumes state)
    probe: bool = True
    # stateful requests: send each request of the list at most once (the list is split
    # between the load threads; the run ends when all are answered or at the duration).
    # Implies no probe and no warm-up of pishkhan; with --rounds N, build prepares N rounds'
    # worth (ctx.options["rounds"]) and round i sends the i-th of N equal slices.
    once: bool = False
    # called after the last measurement while pishkhan still runs (e.g. read the usage
    # ledger through the admin API); raise ScenarioError to mark the run invalid, with the
    # message in the record
    verify: Callable[[ScenarioContext], None] | None = None
