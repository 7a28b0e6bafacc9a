"""Run a benchmark scenario: ``python bench/run.py SCENARIO [options]``; ``--list`` lists them.

Examples (from the repository root, with the project's virtualenv)::

    .venv/bin/python bench/run.py --list
    .venv/bin/python bench/run.py health --server granian --duration 10
    .venv/bin/python bench/run.py health --server uvicorn,granian --rounds 3

Each run writes ``bench/results/<timestamp>-<scenario>-<server>-w<workers>.json`` and
regenerates the table in ``docs/benchmarks.md`` (``--no-report`` to skip).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(REPO_ROOT))

from bench import report  # noqa: E402
from bench.harness import (  # noqa: E402
    RESULTS_DIR,
    HarnessError,
    default_log,
    options_for,
    run_scenario,
    write_result,
)
from bench.loadgen import LoadGenError, choose_loadgen  # noqa: E402
from bench.scenario import SERVERS, Scenario, ScenarioError  # noqa: E402
from bench.scenarios import load_scenarios  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench/run.py", description="Run a pishkhan benchmark scenario against its baseline."
    )
    parser.add_argument("scenario", nargs="?", help="scenario name (see --list)")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument(
        "--server",
        help=f"ASGI server, or a comma-separated list run one after the other ({', '.join(SERVERS)}; "
        "default: the scenario's)",
    )
    parser.add_argument("--workers", type=int, help="server worker processes")
    parser.add_argument("--connections", "-c", type=int, help="concurrent connections")
    parser.add_argument("--duration", "-d", type=float, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, help="warm-up seconds per server (0: none)")
    parser.add_argument("--rounds", type=int, help="measurements per side; the median is kept")
    parser.add_argument(
        "--threads", type=int, help="load generator threads (default: one per load CPU)"
    )
    parser.add_argument("--max-requests", type=int, help="bound on the requests of one load run")
    parser.add_argument(
        "--loadgen",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="auto: wrk (installed with apt-get when missing), else the Python fallback",
    )
    parser.add_argument("--no-install", action="store_true", help="never apt-get install wrk")
    parser.add_argument("--no-pin", action="store_true", help="do not pin server and load to CPUs")
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="interpreter that runs the servers (default: this one)",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("PISHKHAN_BENCH_POSTGRES_URL"),
        help="loopback PostgreSQL where fresh databases are created for postgres scenarios "
        "(default PISHKHAN_BENCH_POSTGRES_URL)",
    )
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="results directory")
    parser.add_argument("--doc", type=Path, default=report.DOC_PATH, help="document with the table")
    parser.add_argument("--no-report", action="store_true", help="do not regenerate the table")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (data, logs)")
    parser.add_argument(
        "--settle",
        type=float,
        default=0.0,
        help="before each measurement wait up to this many seconds for the machine to be quiet",
    )
    parser.add_argument(
        "--quiet",
        type=float,
        default=0.05,
        help="busy share of all CPUs (over 1 s) under which the machine counts as quiet",
    )
    return parser


def _load() -> dict[str, Scenario]:
    errors: dict[str, str] = {}
    scenarios = load_scenarios(strict=False, errors=errors)
    for module, error in errors.items():
        default_log(f"warning: scenario module {module} does not import: {error}")
    return scenarios


def list_scenarios() -> int:
    for name, scenario in _load().items():
        defaults = (
            f"{scenario.server}, {scenario.workers} worker(s), {scenario.connections} conns, "
            f"{scenario.duration:g} s, baseline {scenario.baseline.kind}, "
            f"target {scenario.target.describe()}"
        )
        print(f"{name:24} {scenario.description}\n{'':24} ({defaults})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list:
        return list_scenarios()
    scenarios = _load()
    if not args.scenario:
        parser.error("name a scenario (see --list)")
    scenario = scenarios.get(args.scenario)
    if scenario is None:
        parser.error(f"unknown scenario {args.scenario!r}; known: {', '.join(scenarios)}")
    servers = [s.strip() for s in (args.server or scenario.server).split(",") if s.strip()]
    for server in servers:
        if server not in SERVERS:
            parser.error(f"unknown server {server!r}; choose from {', '.join(SERVERS)}")
    try:
        loadgen = choose_loadgen(args.loadgen, not args.no_install, default_log, args.python)
        status = 0
        for server in servers:
            options = options_for(
                scenario,
                server=server,
                workers=args.workers,
                connections=args.connections,
                duration=args.duration,
                warmup=args.warmup,
                rounds=args.rounds,
                threads=args.threads,
                max_requests=args.max_requests,
                pin=not args.no_pin,
                python=args.python,
                postgres_url=args.postgres_url,
                keep=args.keep,
                settle=args.settle,
                quiet=args.quiet,
            )
            result = run_scenario(scenario, options, loadgen)
            record = result.record()
            path = write_result(record, args.results)
            ratio = record["ratio"]
            s = record["subject"]
            default_log(
                f"{scenario.name} on {server}: {s['rate']:,.0f} {s['unit']}, p50 {s['p50_ms']} ms, "
                f"p99 {s['p99_ms']} ms; ratio {ratio if ratio is not None else '—'}; "
                f"target {record['target']['describe']}: {record['verdict']} -> {path}"
            )
            if record["verdict"] in ("not met", "invalid"):
                status = 1
        if not args.no_report:
            report.write_report(args.results, args.doc)
            default_log(f"table updated in {args.doc}")
        return status
    except (HarnessError, LoadGenError, ScenarioError) as exc:
        default_log(f"error: {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
