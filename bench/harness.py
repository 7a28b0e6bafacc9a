"""The harness: start servers on loopback, drive a scenario and its baseline, record results.

One run of a scenario:

1. plans CPUs (server workers on their own cores, the load generator on the rest; no pinning
   when there are not enough cores);
2. starts the baseline server (bare Starlette, same server and workers) and pishkhan, each on a
   free loopback port, pinned with ``taskset``, and waits for their health checks;
3. calls the scenario's ``build`` (prepare state through the admin API, return the requests),
   probes the first request once;
4. warms both up, then for each round measures the baseline and the subject back to back
   (alternating the order between rounds). A ``once`` scenario (stateful requests, each sent
   at most once) gets no warm-up of pishkhan, and its ``build`` prepares the requests of
   every round in one list (``ctx.options["rounds"]``): round *i* sends the *i*-th of
   ``rounds`` contiguous, equal slices (``round_slices``);
5. stops both servers by the PIDs it started and writes a result record (JSON).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Final, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx

from bench.loadgen import LoadGenerator, LoadSpec, affinity_preexec, pinned_argv
from bench.scenario import (
    DEFAULT_MAX_REQUESTS,
    HEALTH_PATH,
    SERVERS,
    BaselineContext,
    CallableBaseline,
    CommandBaseline,
    Measurement,
    NoBaseline,
    Request,
    Scenario,
    ScenarioContext,
    ScenarioError,
    StarletteBaseline,
    percentile,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "bench" / "results"
RESULT_SCHEMA = 1
BASELINE_HEALTH_PATH = "/health"

Log = Callable[[str], None]
T = TypeVar("T")


def default_log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


class HarnessError(RuntimeError):
    pass


class ServerStartError(HarnessError):
    pass


# --------------------------------------------------------------------------------------------
# CPUs


@dataclass(frozen=True)
class CpuPlan:
    server: tuple[int, ...] | None
    load: tuple[int, ...] | None
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "server": list(self.server) if self.server else None,
            "load": list(self.load) if self.load else None,
            "note": self.note,
        }


def available_cpus() -> tuple[int, ...]:
    if hasattr(os, "sched_getaffinity"):
        return tuple(sorted(os.sched_getaffinity(0)))
    return tuple(range(os.cpu_count() or 1))


def plan_cpus(workers: int, cpus: Sequence[int] | None = None, pin: bool = True) -> CpuPlan:
    """One core per server worker, the remaining cores for the load generator.

    Without a spare core for the load generator (e.g. two workers on two cores) nothing is
    pinned: the operating system schedules both, and the record says so.
    """
    cpus = tuple(cpus) if cpus is not None else available_cpus()
    if not pin:
        return CpuPlan(None, None, "not pinned (--no-pin)")
    if shutil.which("taskset") is None and not hasattr(os, "sched_setaffinity"):
        return CpuPlan(None, None, "not pinned (no taskset or sched_setaffinity)")
    if len(cpus) < workers + 1:
        return CpuPlan(
            None,
            None,
            f"not pinned ({workers} worker(s) and the load generator on {len(cpus)} CPU(s))",
        )
    server, load = cpus[:workers], cpus[workers:]
    how = "taskset" if shutil.which("taskset") else "sched_setaffinity"
    return CpuPlan(
        server, load, f"server on CPU {_cpus(server)}, load on CPU {_cpus(load)} ({how})"
    )


def _cpus(cpus: Sequence[int]) -> str:
    return ",".join(str(c) for c in cpus)


# --------------------------------------------------------------------------------------------
# Processes


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ManagedProcess:
    """A child started in its own session, stopped by its PID (SIGTERM, then SIGKILL).

    The child leads a new process group, so after the leader is gone its own workers
    (uvicorn/granian worker processes) are killed through that group, which holds only
    processes this harness started.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        log_path: Path,
        cpus: Sequence[int] | None = None,
    ) -> None:
        self.name = name
        self.argv = pinned_argv(argv, cpus)
        self.env = dict(env)
        self.cwd = cwd
        self.log_path = log_path
        self.cpus = cpus
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> ManagedProcess:
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=affinity_preexec(self.cpus),
        )
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> int | None:
        if self.proc is None:
            return None
        pgid = self.proc.pid  # the leader of its own session and group
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        # workers left behind by the leader (same group, started by us)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        if self._log is not None:
            self._log.close()
            self._log = None
        return self.proc.returncode

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> ManagedProcess:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def group_usage(pgids: Sequence[int]) -> tuple[int, int]:
    """Of the live processes in the process groups ``pgids`` (Linux ``/proc``, one scan): their
    user+system CPU ticks, and the bytes the storage layer read for them (``/proc/<pid>/io``
    ``read_bytes``: page cache misses, e.g. of database pages the kernel dropped; 0 where it
    cannot be read)."""
    wanted = set(pgids)
    ticks = read = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            # after the command: state ppid pgrp session ... utime(12th) stime(13th)
            if len(fields) <= 12 or int(fields[2]) not in wanted:
                continue
            ticks += int(fields[11]) + int(fields[12])
            for line in (entry / "io").read_text().splitlines():
                if line.startswith("read_bytes:"):
                    read += int(line.split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return ticks, read


def cpu_busy_ticks(cpus: Sequence[int]) -> int:
    """Non-idle ticks of the given CPUs since boot (``/proc/stat``)."""
    wanted = {f"cpu{c}" for c in cpus}
    busy = 0
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if name in wanted:
            ticks = [int(v) for v in values]
            idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
            busy += sum(ticks[:8]) - idle  # user..steal, without guest (already in user)
    return busy


def wait_quiet(timeout: float, threshold: float, log: Log) -> float | None:
    """Wait (at most ``timeout`` s) until all CPUs are at most ``threshold`` busy over 1 s.

    Called between measurements, when the harness's own servers are idle, so what it sees is
    other work on the machine. Returns the last busy share (None without ``/proc/stat``).
    """
    if not Path("/proc/stat").exists():
        return None
    cpus = available_cpus()
    deadline = time.monotonic() + timeout
    waited = False
    while True:
        b0, t0 = cpu_busy_ticks(cpus), time.monotonic()
        time.sleep(1.0)
        share = (cpu_busy_ticks(cpus) - b0) / ((time.monotonic() - t0) * _CLK_TCK * len(cpus))
        if share <= threshold:
            if waited:
                log(f"machine quiet ({share:.0%} busy)")
            return share
        if time.monotonic() >= deadline:
            log(f"warning: machine still {share:.0%} busy after waiting {timeout:.0f} s")
            return share
        if not waited:
            log(f"machine {share:.0%} busy: waiting up to {timeout:.0f} s for it to settle")
            waited = True


class CpuSampler:
    """Measures a server's CPU use (and everyone else's on its CPUs) around a load run."""

    def __init__(self, pgids: Sequence[int], cpus: Sequence[int] | None) -> None:
        self.pgids = list(pgids)
        self.cpus = list(cpus) if cpus else None
        self.available = Path("/proc/stat").exists()

    def __enter__(self) -> CpuSampler:
        if self.available:
            self._t0 = time.monotonic()
            self._group0, self._read0 = group_usage(self.pgids)
            self._busy0 = cpu_busy_ticks(self.cpus) if self.cpus else 0
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.available:
            self.elapsed = time.monotonic() - self._t0
            group, read = group_usage(self.pgids)
            self.group, self.read = group - self._group0, read - self._read0
            self.busy = (cpu_busy_ticks(self.cpus) if self.cpus else 0) - self._busy0

    def annotate(self, m: Measurement) -> Measurement:
        if not self.available or self.elapsed <= 0:
            return m
        server_s = self.group / _CLK_TCK
        if m.count:
            m.server_cpu_us_per_req = round(server_s / m.count * 1e6, 1)
            m.server_disk_read_kb_per_req = round(self.read / 1024 / m.count, 3)
        m.server_cores = round(server_s / self.elapsed, 3)
        if self.cpus:
            capacity = self.elapsed * _CLK_TCK * len(self.cpus)
            m.other_cpu_share = round(max(0.0, (self.busy - self.group) / capacity), 3)
        return m


def wait_ready(
    proc: ManagedProcess, url: str, timeout: float, expect: int = 200, interval: float = 0.1
) -> None:
    """Poll ``url`` until it answers ``expect``; fail early when the process exits."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    with httpx.Client(timeout=2.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            if not proc.alive():
                raise ServerStartError(
                    f"{proc.name} exited ({proc.proc.returncode if proc.proc else '?'}) before "
                    f"answering {url}:\n{proc.log_tail()}"
                )
            try:
                response = client.get(url)
            except httpx.HTTPError as exc:
                last = type(exc).__name__
            else:
                if response.status_code == expect:
                    return
                last = f"{response.status_code} {response.text[:200]}"
            time.sleep(interval)
    raise ServerStartError(
        f"{proc.name} did not answer {url} with {expect} within {timeout:.0f} s (last: {last}):\n"
        f"{proc.log_tail()}"
    )


def pishkhan_argv(python: str, port: int, workers: int, server: str) -> list[str]:
    return [
        python, "-m", "pishkhan", "serve",
        "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers), "--server", server,
    ]  # fmt: skip


def baseline_argv(python: str, port: int, workers: int, server: str) -> list[str]:
    return [
        python, "-m", "bench.baseline_app",
        "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers), "--server", server,
    ]  # fmt: skip


def pishkhan_env(
    data_dir: Path,
    admin_token: str,
    *,
    seed_world: bool,
    database_url: str | None,
    extra: Mapping[str, str],
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PISHKHAN_")}
    env.update(
        {
            "PISHKHAN_DATA_DIR": str(data_dir),
            "PISHKHAN_ADMIN_TOKEN": admin_token,
            "PISHKHAN_ACCESS_LOG": "0",
            "PISHKHAN_SEED_WORLD": "1" if seed_world else "0",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if database_url:
        env["PISHKHAN_DATABASE_URL"] = database_url
    env.update(extra)
    return env


def plain_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PISHKHAN_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


# --------------------------------------------------------------------------------------------
# PostgreSQL (scenarios with database="postgres", command baselines with needs_database)


def _pg_conninfo(url: str) -> str:
    """``postgresql+psycopg://...`` -> ``postgresql://...`` (what psycopg accepts)."""
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest if scheme.startswith("postgres") else url


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


@contextlib.contextmanager
def fresh_postgres_database(admin_url: str, prefix: str = "pishkhan_bench") -> Iterator[str]:
    """Create a uniquely named database on the server of ``admin_url``; drop it afterwards."""
    import psycopg
    from psycopg import sql

    host = urlsplit(admin_url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise HarnessError(f"benchmarks use a loopback PostgreSQL only, not {host!r}")
    name = f"{prefix}_{secrets.token_hex(4)}"
    conninfo = _pg_conninfo(admin_url)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _with_database(admin_url, name)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def flush_writes(postgres_url: str | None, log: Log) -> float:
    """Write out what earlier phases left dirty, before a measurement: PostgreSQL's dirty
    buffers (``CHECKPOINT``, when the run uses it) and the kernel's dirty page cache
    (``sync``). Without it the kernel writes back, some 30 s later, the ~250 MB that
    ``pgbench -i`` loads (or a scenario's preparation wrote), and that writeback lands on
    whichever measurement runs then (27-90 MB/s of writes seen during Payman rounds, 3-5 MB/s
    with the flush). Returns the seconds it took."""
    started = time.monotonic()
    if postgres_url:
        import psycopg

        with psycopg.connect(_pg_conninfo(postgres_url), autocommit=True) as conn:
            conn.execute("CHECKPOINT")
    os.sync()
    took = time.monotonic() - started
    if took > 0.5:
        log(f"wrote out earlier phases' dirty data ({took:.1f} s)")
    return took


# --------------------------------------------------------------------------------------------
# Options and records


@dataclass
class RunOptions:
    server: str
    workers: int
    connections: int
    duration: float
    warmup: float
    rounds: int = 1
    threads: int | None = None  # load generator threads; default: one per load CPU
    max_requests: int | None = None  # default: the scenario's bound
    pin: bool = True
    python: str = sys.executable
    postgres_url: str | None = None  # where fresh databases are created
    keep: bool = False  # keep the work directory (data dir, server logs)
    settle: float = 0.0  # before each measurement, wait up to this long for a quiet machine
    quiet: float = 0.05  # "quiet": all CPUs at most this busy over one second

    def __post_init__(self) -> None:
        if self.server not in SERVERS:
            raise HarnessError(f"unknown server {self.server!r}; choose from {list(SERVERS)}")
        if min(self.workers, self.connections, self.rounds) < 1 or self.duration <= 0:
            raise HarnessError("workers, connections, rounds and duration must be positive")


def options_for(scenario: Scenario, **overrides: Any) -> RunOptions:
    """The scenario's defaults with the given (non-None) overrides."""
    base = RunOptions(
        server=scenario.server,
        workers=scenario.workers,
        connections=scenario.connections,
        duration=scenario.duration,
        warmup=scenario.warmup,
    )
    return replace(base, **{k: v for k, v in overrides.items() if v is not None})


@dataclass
class RunResult:
    scenario: Scenario
    options: RunOptions
    loadgen: LoadGenerator
    plan: CpuPlan
    threads: int
    started: datetime
    requests: tuple[Request, ...]
    subject_rounds: list[Measurement] = field(default_factory=list)
    baseline_rounds: list[Measurement] = field(default_factory=list)
    verify_error: str | None = None

    @property
    def per_round(self) -> int:
        """Requests each round's load run is given: a ``once`` scenario's slice (see
        ``round_slices``), else the whole list (cycled through)."""
        if self.scenario.once:
            return len(self.requests) // self.options.rounds
        return len(self.requests)

    def _clean(self, m: Measurement | None) -> bool:
        share = None if m is None else m.other_cpu_share
        return share is None or share <= self.options.quiet

    @property
    def rounds_used(self) -> list[int]:
        """Rounds (0-based) whose subject and baseline measurements were both clean (other
        processes took at most ``options.quiet`` of the server CPUs); all rounds if none."""
        rounds = range(len(self.subject_rounds))
        clean = [
            i
            for i in rounds
            if self._clean(self.subject_rounds[i])
            and self._clean(self.baseline_rounds[i] if i < len(self.baseline_rounds) else None)
        ]
        return clean or list(rounds)

    @property
    def noisy(self) -> bool:
        """True when no round was clean and the summary uses noisy measurements."""
        return not any(
            self._clean(self.subject_rounds[i])
            and self._clean(self.baseline_rounds[i] if i < len(self.baseline_rounds) else None)
            for i in range(len(self.subject_rounds))
        )

    def _pairs(self) -> list[tuple[Measurement, Measurement]]:
        return [
            (self.subject_rounds[i], self.baseline_rounds[i])
            for i in self.rounds_used
            if i < len(self.baseline_rounds)
        ]

    @property
    def subject(self) -> Measurement:
        return median_round([self.subject_rounds[i] for i in self.rounds_used])

    @property
    def baseline(self) -> Measurement | None:
        used = [self.baseline_rounds[i] for i in self.rounds_used if i < len(self.baseline_rounds)]
        return median_round(used) if used else None

    @property
    def ratio(self) -> float | None:
        """Median over the used rounds of pishkhan's rate over the baseline's."""
        pairs = [s.rate / b.rate for s, b in self._pairs() if b.rate > 0]
        return round(statistics.median(pairs), 4) if pairs else None

    @property
    def cpu_ratio(self) -> float | None:
        """Median of baseline CPU per request over pishkhan's (~ the throughput ratio when
        the server is CPU-bound, and less disturbed by other work on the machine)."""
        pairs = [
            b.server_cpu_us_per_req / s.server_cpu_us_per_req
            for s, b in self._pairs()
            if s.server_cpu_us_per_req and b.server_cpu_us_per_req
        ]
        return round(statistics.median(pairs), 4) if pairs else None

    def record(self) -> dict[str, Any]:
        scenario, options = self.scenario, self.options
        subject = self.subject
        verdict = scenario.target.check(subject, self.ratio)
        baseline = self.baseline
        first = self.requests[0]
        return {
            "schema": RESULT_SCHEMA,
            "scenario": scenario.name,
            "description": scenario.description,
            "timestamp": self.started.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "server": options.server,
            "workers": options.workers,
            "connections": options.connections,
            "duration_s": options.duration,
            "warmup_s": options.warmup,
            "rounds": options.rounds,
            "load_threads": self.threads,
            "database": scenario.database,
            "load_generator": {"source": self.loadgen.source, "version": self.loadgen.version},
            "cpu_plan": self.plan.to_dict(),
            "requests": {
                "distinct": len(self.requests),
                "once": scenario.once,
                "per_round": self.per_round,
                "first": f"{first.method} {first.path}",
                "expect_status": sorted(scenario.expect_status),
            },
            "subject": {
                **subject.to_dict(),
                "rounds": [m.to_dict() for m in self.subject_rounds],
            },
            "baseline": {
                "kind": scenario.baseline.kind,
                "label": scenario.baseline.label,
                "measurement": baseline.to_dict() if baseline else None,
                "rounds": [m.to_dict() for m in self.baseline_rounds],
            },
            "ratio": self.ratio,
            "cpu_ratio": self.cpu_ratio,
            "rounds_used": [i + 1 for i in self.rounds_used],
            "noisy": self.noisy,
            "target": {**asdict(scenario.target), "describe": scenario.target.describe()},
            "verdict": "invalid" if self.verify_error else verdict["verdict"],
            "verify": {"ran": scenario.verify is not None, "error": self.verify_error},
            "checks": verdict["checks"],
            "environment": environment(options.python),
        }


def median_round(rounds: Sequence[Measurement]) -> Measurement:
    """The round with the median rate (the lower one for an even count)."""
    if not rounds:
        raise HarnessError("no measurement")
    ordered = sorted(rounds, key=lambda m: m.rate)
    return ordered[(len(ordered) - 1) // 2]


#: Processor features that move the numbers of a scenario against its baseline: OpenSSL's
#: RSA-2048 signature takes ~250 µs with AVX-512 IFMA and ~800 µs without it on the same make
#: of processor, so the Pendar ratio depends on it.
CPU_FEATURES: Final = ("adx", "bmi2", "avx2", "avx512f", "avx512ifma", "sha_ni")


def cpu_features(cpuinfo: str) -> list[str]:
    """Those of :data:`CPU_FEATURES` the first processor of ``/proc/cpuinfo`` text has."""
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            return [f for f in CPU_FEATURES if f in flags]
    return []


def environment(python: str) -> dict[str, Any]:
    cpu_model = ""
    features: list[str] = []
    with contextlib.suppress(OSError):
        cpuinfo = Path("/proc/cpuinfo").read_text()
        features = cpu_features(cpuinfo)
        for line in cpuinfo.splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    loadavg = None
    with contextlib.suppress(OSError):
        loadavg = Path("/proc/loadavg").read_text().split()[:3]
    versions: dict[str, str | None] = {}
    for package in ("pishkhan", "starlette", "uvicorn", "granian", "uvloop", "httptools"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    commit = None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        proc = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=5,
        )
        commit = proc.stdout.strip() or None
    return {
        "cpu_model": cpu_model,
        "cpu_features": features,
        "cpus": os.cpu_count(),
        "loadavg": loadavg,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "server_python": python,
        "packages": versions,
        "commit": commit,
    }


def result_path(record: Mapping[str, Any], results_dir: Path = RESULTS_DIR) -> Path:
    stamp = str(record["timestamp"]).replace("-", "").replace(":", "")
    name = f"{stamp}-{record['scenario']}-{record['server']}-w{record['workers']}.json"
    return results_dir / name


def write_result(record: Mapping[str, Any], results_dir: Path = RESULTS_DIR) -> Path:
    import json

    results_dir.mkdir(parents=True, exist_ok=True)
    path = result_path(record, results_dir)
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------
# Baselines measured in-process or by a command


def run_callable(baseline: CallableBaseline, ctx: BaselineContext) -> Measurement:
    """Time ``baseline``'s operation on the server CPUs, bounded by duration and ``max_ops``."""
    operation = baseline.setup(ctx)
    duration = baseline.duration or ctx.duration
    restore = None
    if ctx.server_cpus and hasattr(os, "sched_setaffinity"):
        restore = os.sched_getaffinity(0)
        os.sched_setaffinity(0, set(ctx.server_cpus))
    latencies: list[float] = []
    try:
        start = time.perf_counter()
        deadline = start + duration
        for _ in range(baseline.max_ops):
            t0 = time.perf_counter()
            operation()
            t1 = time.perf_counter()
            latencies.append((t1 - t0) * 1000.0)
            if t1 >= deadline:
                break
        elapsed = time.perf_counter() - start
    finally:
        if restore is not None:
            os.sched_setaffinity(0, restore)
    latencies.sort()
    return Measurement(
        source="callable",
        count=len(latencies),
        duration_s=round(elapsed, 4),
        unit=baseline.unit,
        p50_ms=round(percentile(latencies, 50), 4),
        p90_ms=round(percentile(latencies, 90), 4),
        p99_ms=round(percentile(latencies, 99), 4),
        max_ms=round(latencies[-1], 4),
        mean_ms=round(sum(latencies) / len(latencies), 4),
        count_bounded=len(latencies) >= baseline.max_ops and elapsed < duration,
    )


def run_command(
    baseline: CommandBaseline,
    ctx: BaselineContext,
    log: Log,
    *,
    settle: float = 0.0,
    quiet: float = 0.05,
) -> Measurement:
    """Prepare (untimed), write out what that left dirty (:func:`flush_writes`), wait for a
    quiet machine when ``settle`` is set, then run and parse the measured command."""
    env = plain_env()
    for argv in baseline.prepare(ctx) if baseline.prepare else ():
        log(f"baseline prepare: {' '.join(argv)}")
        proc = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=baseline.timeout, env=env
        )
        if proc.returncode != 0:
            raise HarnessError(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr[-2000:]}")
    flush_writes(ctx.database_url, log)
    if settle > 0:
        wait_quiet(settle, quiet, log)
    cpus = {"server": ctx.server_cpus, "load": ctx.load_cpus, "none": None}[baseline.pin]
    argv = list(baseline.command(ctx))
    log(f"baseline: {' '.join(argv)}")
    proc = subprocess.run(
        pinned_argv(argv, cpus),
        capture_output=True,
        text=True,
        timeout=baseline.timeout,
        env=env,
        preexec_fn=affinity_preexec(cpus),
    )
    if proc.returncode != 0:
        raise HarnessError(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr[-2000:]}")
    measurement = baseline.parse(proc.stdout)
    measurement.source = "command"
    return measurement


# --------------------------------------------------------------------------------------------
# The run


def round_slices(items: Sequence[T], rounds: int) -> list[tuple[T, ...]]:
    """``rounds`` contiguous, disjoint slices of equal size, in order; the remainder
    (``len(items) % rounds`` items at the end) is dropped. A ``once`` scenario's round *i*
    sends slice *i*, so no request is sent twice over the run."""
    if rounds < 1:
        raise HarnessError(f"rounds must be positive, not {rounds}")
    size = len(items) // rounds
    if size == 0:
        raise ScenarioError(
            f"{len(items)} request(s) cannot be split into {rounds} rounds: build() must "
            "prepare the requests of every round (ctx.options['rounds'])"
        )
    return [tuple(items[i * size : (i + 1) * size]) for i in range(rounds)]


def _probe(client: httpx.Client, req: Request, expect: frozenset[int], what: str) -> None:
    response = client.request(req.method, req.path, headers=dict(req.headers), content=req.body)
    if response.status_code not in expect:
        raise ScenarioError(
            f"{what}: {req.method} {req.path} answered {response.status_code}, expected "
            f"{sorted(expect)}: {response.text[:2000]}"
        )


def run_scenario(
    scenario: Scenario,
    options: RunOptions,
    loadgen: LoadGenerator,
    log: Log = default_log,
) -> RunResult:
    plan = plan_cpus(options.workers, pin=options.pin)
    threads = options.threads or (len(plan.load) if plan.load else 1)
    threads = max(1, min(threads, options.connections))
    max_requests = options.max_requests or scenario.max_requests
    started = datetime.now(UTC).replace(microsecond=0)
    log(
        f"{scenario.name}: {options.server}, {options.workers} worker(s), "
        f"{options.connections} connections, {options.duration:g} s x {options.rounds} round(s); "
        f"{plan.note}; load generator {loadgen.describe()}"
    )
    busy = _loadavg()
    if busy is not None and busy > 0.5:
        log(f"warning: load average {busy:.2f} before the run; other work may skew the numbers")
    work = Path(tempfile.mkdtemp(prefix=f"pishkhan-bench-{scenario.name}-"))
    try:
        with contextlib.ExitStack() as stack:
            result = _run(
                scenario, options, loadgen, log, plan, threads, max_requests, started, work, stack
            )
    finally:
        if options.keep:
            log(f"kept the work directory {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return result


def _run(
    scenario: Scenario,
    options: RunOptions,
    loadgen: LoadGenerator,
    log: Log,
    plan: CpuPlan,
    threads: int,
    max_requests: int,
    started: datetime,
    work: Path,
    stack: contextlib.ExitStack,
) -> RunResult:
    database_url = None
    if scenario.database == "postgres":
        if not options.postgres_url:
            raise HarnessError(
                f"{scenario.name} needs PostgreSQL: pass --postgres-url or set "
                "PISHKHAN_BENCH_POSTGRES_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres)"
            )
        database_url = stack.enter_context(fresh_postgres_database(options.postgres_url))
        log(f"fresh database {urlsplit(database_url).path.lstrip('/')}")

    baseline = scenario.baseline
    baseline_port = None
    base_proc = None
    if isinstance(baseline, StarletteBaseline):
        baseline_port = free_port()
        base_proc = ManagedProcess(
            "baseline server",
            baseline_argv(options.python, baseline_port, options.workers, options.server),
            env=plain_env(),
            cwd=REPO_ROOT,
            log_path=work / "baseline.log",
            cpus=plan.server,
        )
        stack.enter_context(base_proc)
        log(f"baseline server pid {base_proc.pid} on port {baseline_port}")
        wait_ready(base_proc, f"http://127.0.0.1:{baseline_port}{BASELINE_HEALTH_PATH}", 60.0)

    port = free_port()
    admin_token = secrets.token_urlsafe(24)
    data_dir = work / "data"
    data_dir.mkdir()
    subject_proc = ManagedProcess(
        "pishkhan",
        pishkhan_argv(options.python, port, options.workers, options.server),
        env=pishkhan_env(
            data_dir,
            admin_token,
            seed_world=scenario.seed_world,
            database_url=database_url,
            extra=scenario.env,
        ),
        cwd=REPO_ROOT,
        log_path=work / "pishkhan.log",
        cpus=plan.server,
    )
    stack.enter_context(subject_proc)
    log(f"pishkhan pid {subject_proc.pid} on port {port}")
    t0 = time.monotonic()
    wait_ready(subject_proc, f"http://127.0.0.1:{port}{HEALTH_PATH}", scenario.startup_timeout)
    log(f"pishkhan ready in {time.monotonic() - t0:.1f} s")

    ctx = ScenarioContext(
        f"http://127.0.0.1:{port}",
        admin_token,
        data_dir,
        database_url=database_url,
        options=asdict(options),
    )
    stack.callback(ctx.close)
    requests = tuple(scenario.build(ctx))
    if not requests:
        raise ScenarioError(f"{scenario.name}: build() returned no requests")
    if scenario.probe and not scenario.once:
        _probe(ctx.client, requests[0], scenario.expect_status, scenario.name)
    if scenario.once:
        # each round sends its own slice, each request at most once
        slices = round_slices(requests, options.rounds)
        log(
            f"{len(requests)} requests prepared: {options.rounds} round(s) of {len(slices[0])}"
            f" (each sent at most once), {len(requests) - options.rounds * len(slices[0])}"
            " left over"
        )
    else:
        slices = [requests] * options.rounds  # every round cycles through the whole list

    subject_spec = LoadSpec(
        port=port,
        requests=requests,
        connections=options.connections,
        duration=options.duration,
        threads=threads,
        max_requests=max_requests,
        expect_status=scenario.expect_status,
        once=scenario.once,
    )
    baseline_spec = None
    if baseline_port is not None:
        assert isinstance(baseline, StarletteBaseline)
        # the scenario's own bound protects its state; the baseline keeps the default one
        baseline_spec = replace(
            subject_spec,
            once=False,
            max_requests=options.max_requests or DEFAULT_MAX_REQUESTS,
            port=baseline_port,
            requests=baseline.requests,
            expect_status=frozenset({200}),
        )
        with httpx.Client(base_url=f"http://127.0.0.1:{baseline_port}", trust_env=False) as client:
            _probe(client, baseline.requests[0], frozenset({200}), "baseline")

    bctx = BaselineContext(
        duration=options.duration,
        connections=options.connections,
        workers=options.workers,
        server_cpus=plan.server,
        load_cpus=plan.load,
        database_url=None,
        work_dir=work,
    )
    if isinstance(baseline, CommandBaseline) and baseline.needs_database:
        if not options.postgres_url:
            raise HarnessError(f"{scenario.name}'s baseline needs PostgreSQL: pass --postgres-url")
        bctx = replace(
            bctx, database_url=stack.enter_context(fresh_postgres_database(options.postgres_url))
        )

    def load(spec: LoadSpec, proc: ManagedProcess) -> Measurement:
        flush_writes(options.postgres_url if database_url else None, log)
        if options.settle > 0:
            wait_quiet(options.settle, options.quiet, log)
        with CpuSampler([proc.pid], plan.server) as sampler:
            measurement = loadgen.run(spec, plan.load)
        return sampler.annotate(measurement)

    def measure_baseline() -> Measurement | None:
        if baseline_spec is not None:
            assert base_proc is not None
            return load(baseline_spec, base_proc)
        if isinstance(baseline, CommandBaseline):
            # flush_writes runs between the baseline's preparation and its measurement
            return run_command(baseline, bctx, log, settle=options.settle, quiet=options.quiet)
        flush_writes(None, log)
        if options.settle > 0:
            wait_quiet(options.settle, options.quiet, log)
        if isinstance(baseline, CallableBaseline):
            return run_callable(baseline, bctx)
        assert isinstance(baseline, NoBaseline)
        return None

    if options.warmup > 0:
        only = " (baseline only: pishkhan's requests are sent once)" if scenario.once else ""
        log(f"warm-up {options.warmup:g} s{only}")
        if baseline_spec is not None:
            loadgen.run(replace(baseline_spec, duration=options.warmup), plan.load)
        if not scenario.once:
            loadgen.run(replace(subject_spec, duration=options.warmup), plan.load)

    result = RunResult(scenario, options, loadgen, plan, threads, started, requests)
    for index in range(options.rounds):
        order = ("baseline", "subject") if index % 2 == 0 else ("subject", "baseline")
        for which in order:
            if which == "subject":
                m = load(replace(subject_spec, requests=slices[index]), subject_proc)
                result.subject_rounds.append(m)
            else:
                b = measure_baseline()
                if b is None:
                    continue
                result.baseline_rounds.append(b)
                m = b
            cpu = ""
            if m.server_cpu_us_per_req is not None:
                cpu = f", server CPU {m.server_cpu_us_per_req:.0f} µs/req"
            if m.other_cpu_share is not None:
                cpu += f", others {m.other_cpu_share:.0%} of the server CPUs"
            if m.server_disk_read_kb_per_req:
                cpu += f", disk reads {m.server_disk_read_kb_per_req:.2f} KB/req"
            log(
                f"round {index + 1} {which}: {m.rate:,.0f} {m.unit}, p50 {_ms(m.p50_ms)}, "
                f"p99 {_ms(m.p99_ms)}, unexpected {m.unexpected}, socket errors {m.socket_errors}"
                f"{cpu}"
            )
    if not subject_proc.alive():
        raise HarnessError(f"pishkhan exited during the run:\n{subject_proc.log_tail()}")
    if scenario.verify is not None:
        try:
            scenario.verify(ctx)
        except ScenarioError as exc:
            result.verify_error = str(exc)
            log(f"verification failed: {exc}")
    return result


def _loadavg() -> float | None:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} ms"
