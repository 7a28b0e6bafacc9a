"""Load generators: wrk (driven by a generated Lua script) and the pure-Python fallback.

Both run as a subprocess pinned to the load CPUs, talk only to 127.0.0.1, stop after the
duration or ``max_requests`` responses, and print one ``BENCH_JSON {...}`` line:

``{"requests", "duration_us", "bytes", "latency_us": {"p50", "p90", "p99", "max", "mean"},
"errors": {"connect", "read", "write", "status", "timeout"}, "statuses": {"200": n, ...}}``
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.pyloadgen import build_raw
from bench.scenario import Measurement, Request

REPO_ROOT = Path(__file__).resolve().parent.parent
MARKER = "BENCH_JSON "
WRK_SOURCE = "wrk"
PYTHON_SOURCE = "python-fallback"

Log = Callable[[str], None]


class LoadGenError(RuntimeError):
    pass


@dataclass(frozen=True)
class LoadSpec:
    port: int
    requests: tuple[Request, ...]
    connections: int = 64
    duration: float = 10.0
    threads: int = 1
    max_requests: int = 5_000_000
    timeout: float = 5.0
    expect_status: frozenset[int] = frozenset({200})
    # send each request at most once (stateful requests): the list is split between the
    # load threads and the run ends when every request has been answered
    once: bool = False

    @property
    def load_threads(self) -> int:
        """wrk threads actually used (wrk needs at least one connection per thread)."""
        return max(1, min(self.threads, self.connections))

    def __post_init__(self) -> None:
        if not self.requests:
            raise ValueError("a load run needs at least one request")
        if self.connections < 1 or self.threads < 1 or self.duration <= 0:
            raise ValueError("connections, threads and duration must be positive")
        if self.max_requests < 1:
            raise ValueError("max_requests must be positive")


# --------------------------------------------------------------------------------------------
# CPU pinning


def pinned_argv(argv: Sequence[str], cpus: Sequence[int] | None) -> list[str]:
    """Prefix ``argv`` with ``taskset -c`` when CPUs are given and taskset exists."""
    if not cpus:
        return list(argv)
    taskset = shutil.which("taskset")
    if taskset is None:
        return list(argv)
    return [taskset, "-c", ",".join(str(c) for c in cpus), *argv]


def affinity_preexec(cpus: Sequence[int] | None) -> Callable[[], None] | None:
    """Pin a child without taskset (``os.sched_setaffinity`` before exec)."""
    if not cpus or shutil.which("taskset") is not None or not hasattr(os, "sched_setaffinity"):
        return None
    wanted = set(cpus)

    def pin() -> None:
        os.sched_setaffinity(0, wanted)

    return pin


# --------------------------------------------------------------------------------------------
# Parsing


def parse_output(stdout: str) -> dict[str, Any]:
    """Find the ``BENCH_JSON`` line in a load generator's output and decode it."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(MARKER):
            data: dict[str, Any] = json.loads(line[len(MARKER) :])
            return data
    raise LoadGenError(f"no {MARKER.strip()} line in load generator output:\n{stdout[-2000:]}")


def measurement_from_raw(
    raw: dict[str, Any], expect_status: frozenset[int], source: str
) -> Measurement:
    """Turn the raw JSON record into a :class:`Measurement` (latencies in milliseconds)."""
    lat = raw.get("latency_us") or {}

    def ms(key: str) -> float | None:
        value = lat.get(key)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        return round(float(value) / 1000.0, 3)

    statuses = {str(k): int(v) for k, v in (raw.get("statuses") or {}).items()}
    unexpected = sum(n for k, n in statuses.items() if int(k) not in expect_status)
    errors = {k: int(v) for k, v in (raw.get("errors") or {}).items() if k != "status"}
    return Measurement(
        source=source,
        count=int(raw["requests"]),
        duration_s=round(int(raw["duration_us"]) / 1e6, 4),
        p50_ms=ms("p50"),
        p90_ms=ms("p90"),
        p99_ms=ms("p99"),
        max_ms=ms("max"),
        mean_ms=ms("mean"),
        statuses=statuses,
        unexpected=unexpected,
        errors=errors,
        count_bounded=bool(raw.get("count_bounded", False)),
    )


# --------------------------------------------------------------------------------------------
# wrk


def lua_string(value: str | bytes) -> str:
    """A Lua string literal for arbitrary bytes (UTF-8 for ``str``)."""
    data = value.encode() if isinstance(value, str) else value
    out = ['"']
    for byte in data:
        if byte in (0x22, 0x5C):  # " and backslash
            out.append("\\" + chr(byte))
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03d}")
    out.append('"')
    return "".join(out)


_LUA_STATE = r"""
local max_per_thread = %(max_per_thread)d
local thread_total = %(threads)d
local threads = {}
local thread_count = 0
local responses = 0
local sent = 0
local exhausted = false
statuses = {}
started_us = -1
stopped_us = -1

-- a monotonic clock (LuaJIT's ffi), to time runs that stop on the request bound
local now_us = nil
do
  local ok, ffi = pcall(require, "ffi")
  if ok then
    pcall(ffi.cdef, [[
      typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
      int clock_gettime(int clk_id, bench_timespec *tp);
    ]])
    local ts = ffi.new("bench_timespec")
    now_us = function()
      ffi.C.clock_gettime(1, ts)
      return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
    end
  end
end

local function stop_thread()
  if now_us and stopped_us < 0 then stopped_us = now_us() end
  wrk.thread:stop()
end
"""

# Several requests: read from a file of "<length>\n<raw request>" records (no Lua constants,
# so no LuaJIT limit on their number). Cycling: thread i's first request is the one at
# 0-based index (i * 7919) % n, then it wraps around. Once: thread i owns the i-th contiguous
# slice of the list, sends each of its requests once, and stops when all are answered.
_LUA_LIST = r"""
local requests_path = %(path)s
local once = %(once)s
local prepared = {}
local first, last, cursor = 1, 0, 0

function prepare()
  local f = assert(io.open(requests_path, "rb"))
  while true do
    local header = f:read("*l")
    if not header then break end
    prepared[#prepared + 1] = f:read(tonumber(header))
  end
  f:close()
  local n = #prepared
  local id = thread_id or 0
  if once then
    first = math.floor(id * n / thread_total) + 1
    last = math.floor((id + 1) * n / thread_total)
    cursor = first - 1
  else
    first, last = 1, n
    cursor = (id * 7919) %% n
  end
end

local peeked = false

function request()
  -- wrk calls request() once on thread 0 before the run, to count pipelined requests
  -- (script_verify_request); answer that call without consuming a request
  if not peeked and (thread_id or 0) == 0 then
    peeked = true
    return prepared[1]
  end
  cursor = cursor + 1
  if cursor > last then
    if once then
      -- nothing left to send: idle this connection, stop once nothing is in flight
      exhausted = true
      if responses >= sent then stop_thread() end
      return ""
    end
    cursor = first
  end
  sent = sent + 1
  return prepared[cursor]
end
"""

_LUA_COMMON = r"""
function setup(thread)
  thread:set("thread_id", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

function init(args)
  if prepare then prepare() end
  if now_us then started_us = now_us() end
end

function response(status, headers, body)
  responses = responses + 1
  statuses[status] = (statuses[status] or 0) + 1
  if responses >= max_per_thread or (exhausted and responses >= sent) then
    stop_thread()
  end
end

function done(summary, latency, requests)
  local agg = {}
  local first_start, last_stop, all_stopped = nil, nil, true
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    if s then
      for k, v in pairs(s) do agg[k] = (agg[k] or 0) + v end
    end
    local st, sp = t:get("started_us"), t:get("stopped_us")
    if st and st >= 0 and (first_start == nil or st < first_start) then first_start = st end
    if sp and sp >= 0 then
      if last_stop == nil or sp > last_stop then last_stop = sp end
    else
      all_stopped = false
    end
  end
  local duration = summary.duration
  local bounded = false
  if all_stopped and first_start and last_stop and last_stop > first_start then
    duration = last_stop - first_start
    bounded = true
  end
  local parts = {}
  for k, v in pairs(agg) do parts[#parts + 1] = string.format('"%d":%d', k, v) end
  local e = summary.errors
  io.write("BENCH_JSON ", string.format(
    '{"requests":%.0f,"duration_us":%.0f,"bytes":%.0f,"count_bounded":%s,'
    .. '"latency_us":{"p50":%.0f,"p90":%.0f,"p99":%.0f,"max":%.0f,"mean":%.1f},'
    .. '"errors":{"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f},'
    .. '"statuses":{%s}}',
    summary.requests, duration, summary.bytes, tostring(bounded),
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout,
    table.concat(parts, ",")), "\n")
end
"""


def raw_request(req: Request, port: int) -> bytes:
    """The request as wrk sends it (``Host: 127.0.0.1:port``, ``Content-Length`` for a body)."""
    return build_raw(req.to_wire(), port)


def write_requests_file(spec: LoadSpec, path: Path) -> None:
    with path.open("wb") as f:
        for req in spec.requests:
            raw = raw_request(req, spec.port)
            f.write(b"%d\n" % len(raw))
            f.write(raw)


def uses_request_file(spec: LoadSpec) -> bool:
    return spec.once or len(spec.requests) > 1


def wrk_lua(spec: LoadSpec, requests_path: Path | None = None) -> str:
    """The Lua script for ``spec``.

    One request (and not ``once``): wrk's static request. Otherwise the requests are read from
    ``requests_path`` (see :func:`write_requests_file`).
    """
    max_per_thread = max(1, math.ceil(spec.max_requests / spec.load_threads))
    lines = [
        "-- generated by bench/loadgen.py",
        _LUA_STATE % {"max_per_thread": max_per_thread, "threads": spec.load_threads},
    ]
    if not uses_request_file(spec):
        req = spec.requests[0]
        lines.append(f"wrk.method = {lua_string(req.method)}")
        lines.append(f"wrk.path = {lua_string(req.path)}")
        for name, value in req.headers.items():
            lines.append(f"wrk.headers[{lua_string(name)}] = {lua_string(value)}")
        if req.body is not None:
            lines.append(f"wrk.body = {lua_string(req.body)}")
    else:
        if requests_path is None:
            raise ValueError("several requests (or once=True) need a requests file")
        lines.append(
            _LUA_LIST
            % {"path": lua_string(str(requests_path)), "once": "true" if spec.once else "false"}
        )
    lines.append(_LUA_COMMON)
    return "\n".join(lines) + "\n"


def wrk_version(path: str) -> str:
    try:
        proc = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    first = (proc.stdout or proc.stderr).strip().splitlines()
    return first[0].split(" Copyright")[0].strip() if first else "unknown"


def ensure_wrk(install: bool, log: Log) -> str | None:
    """Return wrk's path, installing Debian's package with apt-get when allowed (as root)."""
    found = shutil.which("wrk")
    if found or not install:
        return found
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        log("wrk is missing and cannot be installed here (needs apt-get as root)")
        return None
    log("wrk is missing: apt-get update && apt-get install -y wrk")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in ([apt, "update", "-qq"], [apt, "install", "-y", "-qq", "wrk"]):
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=600, env=env)
        except (OSError, subprocess.TimeoutExpired) as exc:
            log(f"{' '.join(argv)} failed: {exc}")
            return None
        if proc.returncode != 0:
            log(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr[-1000:]}")
            return None
    return shutil.which("wrk")


class LoadGenerator:
    """Common interface: ``run(spec, cpus) -> Measurement``."""

    source: str = ""
    version: str = ""

    def run(self, spec: LoadSpec, cpus: Sequence[int] | None) -> Measurement:
        raise NotImplementedError

    def describe(self) -> str:
        return f"{self.source} ({self.version})" if self.version else self.source


def _run_generator(
    argv: list[str], cpus: Sequence[int] | None, timeout: float, stdin: str | None = None
) -> str:
    try:
        proc = subprocess.run(
            pinned_argv(argv, cpus),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            preexec_fn=affinity_preexec(cpus),
            cwd=REPO_ROOT,
        )
    except subprocess.TimeoutExpired as exc:
        raise LoadGenError(f"load generator did not finish within {timeout:.0f} s") from exc
    if proc.returncode != 0:
        raise LoadGenError(
            f"load generator exited {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
        )
    return proc.stdout


class Wrk(LoadGenerator):
    source = WRK_SOURCE

    def __init__(self, path: str) -> None:
        self.path = path
        self.version = wrk_version(path)

    def command(self, spec: LoadSpec, script: Path) -> list[str]:
        seconds = max(1, round(spec.duration))
        url = f"http://127.0.0.1:{spec.port}{spec.requests[0].path}"
        return [
            self.path,
            "-t",
            str(spec.load_threads),
            "-c",
            str(spec.connections),
            "-d",
            f"{seconds}s",
            "--timeout",
            f"{max(1, math.ceil(spec.timeout))}s",
            "-s",
            str(script),
            url,
        ]

    def run(self, spec: LoadSpec, cpus: Sequence[int] | None) -> Measurement:
        with tempfile.TemporaryDirectory(prefix="pishkhan-wrk-") as tmp:
            script = Path(tmp) / "scenario.lua"
            requests_path = None
            if uses_request_file(spec):
                requests_path = Path(tmp) / "requests.bin"
                write_requests_file(spec, requests_path)
            script.write_text(wrk_lua(spec, requests_path), encoding="utf-8")
            stdout = _run_generator(
                self.command(spec, script), cpus, timeout=spec.duration + spec.timeout + 30
            )
        return measurement_from_raw(parse_output(stdout), spec.expect_status, self.source)


class PythonLoadGen(LoadGenerator):
    """``bench/pyloadgen.py`` in a subprocess: the fallback when wrk cannot be had."""

    source = PYTHON_SOURCE

    def __init__(self, python: str = sys.executable) -> None:
        self.python = python
        self.version = f"asyncio, python {sys.version.split()[0]}"

    def run(self, spec: LoadSpec, cpus: Sequence[int] | None) -> Measurement:
        payload = json.dumps(
            {
                "port": spec.port,
                "requests": [r.to_wire() for r in spec.requests],
                "connections": spec.connections,
                "duration": spec.duration,
                "max_requests": spec.max_requests,
                "timeout": spec.timeout,
                "once": spec.once,
            }
        )
        stdout = _run_generator(
            [self.python, "-m", "bench.pyloadgen"],
            cpus,
            timeout=spec.duration + spec.timeout + 30,
            stdin=payload,
        )
        measurement = measurement_from_raw(parse_output(stdout), spec.expect_status, self.source)
        measurement.note = "pure-Python fallback load generator: throughput capped by the generator"
        return measurement


def choose_loadgen(
    kind: str, install: bool, log: Log, python: str = sys.executable
) -> LoadGenerator:
    """``kind``: ``auto`` (wrk, installing it if allowed; else the fallback), ``wrk``, ``python``."""
    if kind == "python":
        return PythonLoadGen(python)
    path = ensure_wrk(install, log)
    if path is not None:
        return Wrk(path)
    if kind == "wrk":
        raise LoadGenError("wrk is not installed (apt-get install -y wrk)")
    log("WARNING: wrk unavailable; using the pure-Python fallback load generator")
    return PythonLoadGen(python)
