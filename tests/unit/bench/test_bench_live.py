"""The harness against the real baseline app: start on a random loopback port, drive it
briefly with wrk (skipped when wrk is missing) and with the Python fallback, stop it."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from bench.harness import (
    REPO_ROOT,
    CpuSampler,
    ManagedProcess,
    RunOptions,
    ServerStartError,
    baseline_argv,
    free_port,
    plain_env,
    run_scenario,
    wait_ready,
)
from bench.loadgen import LoadGenerator, LoadSpec, PythonLoadGen, Wrk
from bench.scenario import HEALTH_PATH, Measurement, Request, Scenario, ScenarioContext

REQUESTS = (
    Request.get("/json?name=a"),
    Request.json("POST", "/json", {"name": "بهار"}),
    Request.get("/json"),  # 400: name missing
)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManagedProcess]:
    port = free_port()
    proc = ManagedProcess(
        "baseline",
        baseline_argv(sys.executable, port, 1, "uvicorn"),
        env=plain_env(),
        cwd=REPO_ROOT,
        log_path=tmp_path_factory.mktemp("bench") / "baseline.log",
    )
    with proc:
        wait_ready(proc, f"http://127.0.0.1:{port}/health", 20.0)
        proc.port = port  # type: ignore[attr-defined]
        yield proc
        pid = proc.pid
    assert proc.proc is not None and proc.proc.returncode is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_wrk_one_second_run(baseline: ManagedProcess) -> None:
    wrk = Wrk(shutil.which("wrk") or "wrk")
    spec = LoadSpec(
        port=baseline.port,  # type: ignore[attr-defined]
        requests=REQUESTS,
        connections=4,
        duration=1,
        max_requests=300,
        expect_status=frozenset({200}),
    )
    m = wrk.run(spec, None)
    assert m.source == "wrk"
    assert 300 <= m.count < 320 and m.count_bounded  # stopped on the request bound
    assert set(m.statuses) == {"200", "400"}
    assert m.unexpected == m.statuses["400"] > 0 and not m.valid
    assert m.p50_ms is not None and m.p99_ms is not None and m.p50_ms <= m.p99_ms


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_wrk_once_sends_each_request_once(baseline: ManagedProcess) -> None:
    wrk = Wrk(shutil.which("wrk") or "wrk")
    requests = tuple(Request.get(f"/json?name={i}") for i in range(101))
    spec = LoadSpec(
        port=baseline.port,  # type: ignore[attr-defined]
        requests=requests,
        connections=8,
        threads=2,
        duration=1,
        once=True,
    )
    m = wrk.run(spec, None)
    # a lost request (wrk's pre-run request() call) gives 100, a repeated one 102
    assert m.count == 101 and m.statuses == {"200": 101} and m.count_bounded
    assert m.duration_s < 0.9  # timed until everything was answered, not the duration


def test_python_fallback_run(baseline: ManagedProcess) -> None:
    spec = LoadSpec(
        port=baseline.port,  # type: ignore[attr-defined]
        requests=REQUESTS[:2],
        connections=4,
        duration=2,
        max_requests=1000,
    )
    with CpuSampler([baseline.pid], [0]) as sampler:
        m = PythonLoadGen(sys.executable).run(spec, None)
    sampler.annotate(m)
    assert m.source == "python-fallback" and "fallback" in m.note
    assert m.server_cpu_us_per_req is not None and m.server_cpu_us_per_req > 0
    assert m.other_cpu_share is not None and 0 <= m.other_cpu_share <= 1
    assert m.server_disk_read_kb_per_req is not None and m.server_disk_read_kb_per_req >= 0
    once = PythonLoadGen(sys.executable).run(replace(spec, requests=REQUESTS * 5, once=True), None)
    assert once.count == 15 and once.count_bounded
    assert m.count == 1000 and m.statuses == {"200": 1000} and m.valid and m.count_bounded
    assert m.p99_ms is not None and m.rate > 0


def test_a_server_that_dies_is_reported(tmp_path: Path) -> None:
    proc = ManagedProcess(
        "broken",
        [sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"],
        env=plain_env(),
        cwd=REPO_ROOT,
        log_path=tmp_path / "broken.log",
    )
    with proc, pytest.raises(ServerStartError, match="boom"):
        wait_ready(proc, f"http://127.0.0.1:{free_port()}/health", 10.0)


class Recording(LoadGenerator):
    """The real load generator, remembering the requests of every pishkhan (once) run."""

    def __init__(self, inner: LoadGenerator) -> None:
        self.inner = inner
        self.source, self.version = inner.source, inner.version
        self.once_runs: list[tuple[Request, ...]] = []

    def run(self, spec: LoadSpec, cpus: Sequence[int] | None) -> Measurement:
        if spec.once:
            self.once_runs.append(spec.requests)
        return self.inner.run(spec, cpus)


def test_a_once_scenario_sends_one_slice_per_round(tmp_path: Path) -> None:
    """A real run: pishkhan and the baseline server, three alternating rounds; build()
    prepares 3 x 40 + 2 distinct requests, each round sends its own 40 exactly once."""
    prepared: list[int] = []

    def build(ctx: ScenarioContext) -> list[Request]:
        rounds = int(ctx.options["rounds"])
        prepared.append(rounds)
        return [Request.get(f"{HEALTH_PATH}?n={i}") for i in range(40 * rounds + 2)]

    scenario = Scenario(name="once_probe", description="x", build=build, once=True, warmup=0)
    options = RunOptions(
        server="uvicorn",
        workers=1,
        connections=4,
        threads=2,
        duration=1,
        warmup=0.5,
        rounds=3,
        max_requests=2000,
    )
    wrk = shutil.which("wrk")
    loadgen = Recording(Wrk(wrk) if wrk else PythonLoadGen(sys.executable))
    result = run_scenario(scenario, options, loadgen, log=lambda _m: None)

    assert prepared == [3]
    assert len(result.subject_rounds) == len(result.baseline_rounds) == 3
    assert [m.count for m in result.subject_rounds] == [40, 40, 40]
    assert all(m.valid and m.count_bounded for m in result.subject_rounds)
    runs = loadgen.once_runs  # no warm-up of pishkhan: exactly the three rounds
    assert [len(r) for r in runs] == [40, 40, 40]
    assert [req for run in runs for req in run] == list(result.requests[:120])  # in order
    assert len({req.path for run in runs for req in run}) == 120  # disjoint
    record = result.record()
    assert record["requests"]["distinct"] == 122 and record["requests"]["per_round"] == 40
    assert record["ratio"] is not None and len(record["subject"]["rounds"]) == 3
