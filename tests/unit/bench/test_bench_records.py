"""Pure parts of the harness: wrk output parsing, targets, CPU plans, the report table."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from bench import harness, report
from bench.baselines import libpq_url, parse_pgbench
from bench.harness import (
    CpuPlan,
    HarnessError,
    RunOptions,
    RunResult,
    median_round,
    plan_cpus,
    result_path,
    round_slices,
)
from bench.loadgen import (
    LoadGenerator,
    LoadGenError,
    LoadSpec,
    lua_string,
    measurement_from_raw,
    parse_output,
    raw_request,
    write_requests_file,
    wrk_lua,
)
from bench.scenario import Measurement, Request, Scenario, ScenarioError, Target
from bench.scenarios import load_scenarios

WRK_STDOUT = """Running 10s test @ http://127.0.0.1:8000/_pishkhan/health
  1 threads and 64 connections
BENCH_JSON {"requests":300000,"duration_us":10000000,"bytes":1234,"count_bounded":false,\
"latency_us":{"p50":2100,"p90":3000,"p99":9500,"max":21000,"mean":2200.5},\
"errors":{"connect":0,"read":0,"write":0,"status":2,"timeout":0},"statuses":{"200":299998,"503":2}}
"""


def _m(rate: float, p99: float = 5.0, **kw: Any) -> Measurement:
    return Measurement(source="wrk", count=int(rate * 10), duration_s=10.0, p99_ms=p99, **kw)


def test_wrk_output_parses_into_a_measurement() -> None:
    raw = parse_output(WRK_STDOUT)
    m = measurement_from_raw(raw, frozenset({200}), "wrk")
    assert m.count == 300000 and m.duration_s == 10.0 and m.rate == 30000.0
    assert (m.p50_ms, m.p90_ms, m.p99_ms, m.max_ms) == (2.1, 3.0, 9.5, 21.0)
    assert m.statuses == {"200": 299998, "503": 2}
    assert m.unexpected == 2 and m.non_2xx == 2
    assert "status" not in m.errors and m.socket_errors == 0
    assert not m.valid  # an unexpected status invalidates the run
    assert measurement_from_raw(raw, frozenset({200, 503}), "wrk").valid


def test_missing_marker_is_an_error() -> None:
    with pytest.raises(LoadGenError):
        parse_output("Running 10s test\nsegfault\n")


def test_socket_errors_within_a_thousandth_are_tolerated() -> None:
    assert _m(1000, errors={"read": 10}).valid  # 10 of 10,000
    assert not _m(1000, errors={"timeout": 11}).valid


def test_lua_string_escapes_bytes() -> None:
    assert lua_string('a"b\\c') == '"a\\"b\\\\c"'
    assert lua_string("x\r\n") == '"x\\013\\010"'
    assert lua_string("ب") == '"\\216\\168"'  # UTF-8 bytes, decimal escapes


def test_wrk_script_static_and_cycling(tmp_path: Path) -> None:
    one = LoadSpec(port=1, requests=(Request.get("/_pishkhan/health"),), threads=2, max_requests=11)
    script = wrk_lua(one)
    assert 'wrk.path = "/_pishkhan/health"' in script
    assert "function request()" not in script  # static: wrk builds the request once
    assert "local max_per_thread = 6" in script and "local thread_total = 2" in script
    assert "function done(summary, latency, requests)" in script
    many = LoadSpec(
        port=8080,
        requests=(
            Request.json("POST", "/t", {"n": 1}, {"Authorization": "Bearer x"}),
            Request.get("/u"),
        ),
        threads=8,
        connections=4,
    )
    assert many.load_threads == 4
    path = tmp_path / "requests.bin"
    write_requests_file(many, path)
    data = path.read_bytes()
    first = raw_request(many.requests[0], 8080)
    assert data.startswith(b"%d\n" % len(first) + first)
    assert first.startswith(b"POST /t HTTP/1.1\r\n") and first.endswith(b'\r\n\r\n{"n":1}')
    assert b"Host: 127.0.0.1:8080\r\n" in first and b"Content-Length: 7\r\n" in first
    assert b"Authorization: Bearer x\r\n" in first
    script = wrk_lua(many, path)
    assert "function request()" in script and "local once = false" in script
    assert lua_string(str(path)) in script
    assert "local once = true" in wrk_lua(replace(many, once=True), path)
    with pytest.raises(ValueError):
        wrk_lua(many)


def test_load_spec_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        LoadSpec(port=1, requests=())
    with pytest.raises(ValueError):
        LoadSpec(port=1, requests=(Request.get("/"),), connections=0)


def test_request_wire_round_trip() -> None:
    req = Request.json("post", "/x?y=1", {"name": "علی"})
    assert req.method == "POST" and req.headers["Content-Type"] == "application/json"
    assert Request.from_wire(json.loads(json.dumps(req.to_wire()))) == req


def test_target_verdicts() -> None:
    target = Target(min_ratio=0.25, max_p99_ms=20.0)
    assert target.check(_m(1000, p99=10.0), 0.30)["verdict"] == "met"
    assert target.check(_m(1000, p99=25.0), 0.30)["verdict"] == "not met"
    assert target.check(_m(1000, p99=10.0), 0.20)["verdict"] == "not met"
    assert target.check(_m(1000, unexpected=1), 0.30)["verdict"] == "invalid"
    assert Target().check(_m(1000), None)["verdict"] == "none"
    assert Target(min_rate=1000).check(_m(999), None)["verdict"] == "not met"
    assert target.describe() == "ratio ≥ 0.25, p99 < 20 ms"


def test_cpu_plans() -> None:
    assert plan_cpus(1, cpus=(0, 1)).server == (0,)
    assert plan_cpus(1, cpus=(0, 1)).load == (1,)
    assert plan_cpus(2, cpus=(0, 1, 2, 3)) == CpuPlan(
        (0, 1), (2, 3), plan_cpus(2, (0, 1, 2, 3)).note
    )
    unpinned = plan_cpus(2, cpus=(0, 1))
    assert unpinned.server is None and unpinned.load is None and "not pinned" in unpinned.note
    assert plan_cpus(1, cpus=(0, 1), pin=False).server is None


def test_median_round_and_ratio() -> None:
    class Fake(LoadGenerator):
        source = "wrk"

    scenario = Scenario(name="x", description="x")
    options = RunOptions(server="uvicorn", workers=1, connections=8, duration=1, warmup=0, rounds=3)
    result = RunResult(
        scenario,
        options,
        Fake(),
        CpuPlan(None, None, ""),
        1,
        datetime.now(UTC),
        (Request.get("/"),),
    )
    result.subject_rounds = [_m(100), _m(300), _m(200)]
    result.baseline_rounds = [_m(400), _m(400), _m(1000)]
    assert median_round(result.subject_rounds).rate == 200
    assert result.ratio == 0.25  # median of 0.25, 0.75, 0.2
    record = result.record()
    assert record["subject"]["rate"] == 200 and record["verdict"] == "none"
    assert result_path(record, Path("/r")).name.endswith("-x-uvicorn-w1.json")
    assert record["rounds_used"] == [1, 2, 3] and not record["noisy"]
    result.verify_error = "3 issuances refused"
    assert result.record()["verdict"] == "invalid"
    assert result.record()["verify"] == {"ran": False, "error": "3 issuances refused"}
    result.verify_error = None
    with pytest.raises(HarnessError):
        RunOptions(server="gunicorn", workers=1, connections=1, duration=1, warmup=0)

    # rounds where other processes took more than options.quiet of the server CPU are left out
    result.subject_rounds[0].other_cpu_share = 0.30
    result.baseline_rounds[2].other_cpu_share = 0.06
    assert result.rounds_used == [1] and result.ratio == 0.75 and result.subject.rate == 300
    for m in result.subject_rounds:
        m.other_cpu_share = 0.5
    assert result.rounds_used == [0, 1, 2] and result.noisy and result.record()["noisy"]


def test_round_slices_are_contiguous_disjoint_and_equal() -> None:
    items = list(range(11))
    slices = round_slices(items, 3)
    assert slices == [(0, 1, 2), (3, 4, 5), (6, 7, 8)]  # the remainder (9, 10) is dropped
    assert round_slices(items, 1) == [tuple(items)]
    assert round_slices(items, 11) == [(i,) for i in items]
    with pytest.raises(ScenarioError, match="cannot be split into 12 rounds"):
        round_slices(items, 12)  # a slice would be empty
    with pytest.raises(HarnessError):
        round_slices(items, 0)


def test_record_says_how_many_requests_each_round_gets() -> None:
    class Fake(LoadGenerator):
        source = "wrk"

    requests = tuple(Request.get(f"/{i}") for i in range(10))
    options = RunOptions(server="uvicorn", workers=1, connections=8, duration=1, warmup=0, rounds=3)
    plan = CpuPlan(None, None, "")
    for once, per_round in ((True, 3), (False, 10)):
        scenario = Scenario(name="x", description="x", once=once)
        result = RunResult(scenario, options, Fake(), plan, 1, datetime.now(UTC), requests)
        result.subject_rounds = [_m(100)] * 3
        assert result.record()["requests"] == {
            "distinct": 10,
            "once": once,
            "per_round": per_round,
            "first": "GET /0",
            "expect_status": [200],
        }


def test_registry_has_health() -> None:
    scenarios = load_scenarios()
    assert "health" in scenarios
    assert scenarios["health"].baseline.kind == "starlette"


def test_pgbench_summary_parses() -> None:
    out = (
        "duration: 10 s\nnumber of transactions actually processed: 43480\n"
        "latency average = 3.679 ms\ntps = 4348.1 (without initial connection time)\n"
    )
    m = parse_pgbench(out)
    assert m.rate == 4348.1 and m.count == 43480 and m.mean_ms == 3.679 and m.unit == "tps"
    assert libpq_url("postgresql+psycopg://u@127.0.0.1/db") == "postgresql://u@127.0.0.1/db"


# --- the report ---------------------------------------------------------------------------


def _record(scenario: str, server: str, ts: str, rate: float, ratio: float) -> dict[str, Any]:
    return {
        "scenario": scenario,
        "server": server,
        "workers": 1,
        "connections": 64,
        "timestamp": ts,
        "subject": {
            "rate": rate,
            "unit": "req/s",
            "p50_ms": 1.5,
            "p99_ms": 12.25,
            "server_cpu_us_per_req": 450.0,
            "server_disk_read_kb_per_req": 1.254,
            "other_cpu_share": 0.01,
        },
        "baseline": {
            "label": "bare Starlette JSON route",
            "measurement": {
                "rate": rate / ratio,
                "unit": "req/s",
                "server_cpu_us_per_req": 95.4,
                "other_cpu_share": 0.04,
            },
        },
        "ratio": ratio,
        "target": {"describe": "ratio ≥ 0.25"},
        "verdict": "met",
        "load_generator": {"source": "wrk"},
        "environment": {"cpu_model": "Test CPU", "cpus": 2},
    }


def test_report_keeps_the_newest_result_per_key(tmp_path: Path) -> None:
    for i, (ts, rate) in enumerate(
        [("2026-01-01T00:00:00Z", 100.0), ("2026-01-02T00:00:00Z", 200.0)]
    ):
        (tmp_path / f"{i}.json").write_text(json.dumps(_record("health", "uvicorn", ts, rate, 0.5)))
    (tmp_path / "2.json").write_text(
        json.dumps(_record("health", "granian", "2026-01-01T00:00:00Z", 300.0, 0.5))
    )
    (tmp_path / "junk.json").write_text("{not json")
    rows = report.latest(report.load_results(tmp_path))
    assert [(r["server"], r["subject"]["rate"]) for r in rows] == [
        ("granian", 300.0),
        ("uvicorn", 200.0),
    ]
    table = report.render_table(rows)
    lines = table.splitlines()
    assert lines[0].startswith("| Scenario | Server |")
    assert (
        "| health | uvicorn | 1 | 64 | 200 | 1.50 | 12.25 | 450 | 1.25 | bare Starlette JSON route | 400 "
        "| 95 | 0.50 | ratio ≥ 0.25 | ✅ met | 4% | 2026-01-02 00:00:00 |"
    ) in table
    assert len(lines) == 4 and lines[1].count("|") == len(report.HEADER) + 1


def test_report_names_the_machines_and_their_ifma() -> None:
    """Rows from a processor with AVX-512 IFMA (RSA three times faster) say so on the machine
    line; a record without the features (older records) reads as before."""
    ifma = _record("pendar_issue", "uvicorn", "2026-01-01T00:00:00Z", 1.0, 0.6)
    ifma["environment"] = {"cpu_model": "AMD EPYC", "cpus": 2, "cpu_features": ["avx512ifma"]}
    plain = _record("health", "uvicorn", "2026-01-01T00:00:00Z", 1.0, 0.6)
    plain["environment"] = {"cpu_model": "AMD EPYC", "cpus": 2, "cpu_features": ["avx2"]}
    old = _record("health", "granian", "2026-01-01T00:00:00Z", 1.0, 0.6)
    old["environment"] = {"cpu_model": "AMD EPYC", "cpus": 2}
    section = report.render_section([ifma, plain, old])
    assert "Machine: AMD EPYC with AVX-512 IFMA, 2 CPUs; AMD EPYC, 2 CPUs." in section


def test_cpu_features_come_from_the_first_processors_flags() -> None:
    cpuinfo = (
        "processor\t: 0\nmodel name\t: AMD EPYC\n"
        "flags\t\t: fpu sse2 avx2 adx bmi2 avx512f avx512ifma sha_ni\n\n"
        "processor\t: 1\nflags\t\t: fpu\n"
    )
    assert harness.cpu_features(cpuinfo) == [
        "adx", "bmi2", "avx2", "avx512f", "avx512ifma", "sha_ni",
    ]  # fmt: skip
    assert harness.cpu_features("flags\t: fpu avx2 bmi2\n") == ["bmi2", "avx2"]
    assert harness.cpu_features("model name\t: no flags here\n") == []


def test_report_cuts_ratios_so_a_missed_target_never_reads_as_reached() -> None:
    cells = {
        ratio: report.row(_record("pendar_issue", "uvicorn", "2026-01-01T00:00:00Z", 1.0, ratio))
        for ratio in (0.5973, 0.6, 0.29, 0.5, 1.0)
    }
    column = report.HEADER.index("Ratio")
    assert {ratio: cells[column] for ratio, cells in cells.items()} == {
        0.5973: "0.59",
        0.6: "0.60",
        0.29: "0.29",
        0.5: "0.50",
        1.0: "1.00",
    }


def test_report_rewrites_only_its_section(tmp_path: Path) -> None:
    section = report.render_section(
        [_record("health", "uvicorn", "2026-01-01T00:00:00Z", 100.0, 0.5)]
    )
    assert section.startswith(report.START) and section.rstrip().endswith(report.END)
    other = "# Benchmarks\n\n## World seeding\n\nseeded 3000 people in 2 s\n"
    appended = report.update_document(other, section)
    assert appended.startswith(other.rstrip("\n")) and appended.endswith(section)
    newer = report.render_section(
        [_record("health", "uvicorn", "2026-01-02T00:00:00Z", 900.0, 0.9)]
    )
    doc = appended + "\n## Later section\n\nkept\n"
    updated = report.update_document(doc, newer)
    assert "## World seeding" in updated and "## Later section\n\nkept" in updated
    assert "| 900 |" in updated and "| 100 |" not in updated
    assert report.update_document(updated, newer) == updated
    assert report.update_document("", newer).startswith("# Benchmarks\n")

    results = tmp_path / "results"
    results.mkdir()
    target = tmp_path / "docs" / "benchmarks.md"
    assert report.write_report(results, target)
    assert "No results yet" in target.read_text()
    assert not report.write_report(results, target)
