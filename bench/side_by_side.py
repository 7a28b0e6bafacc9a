"""Two or more pishkhan trees served side by side, compared per request on the same CPU.

Whole benchmark runs move by several percent from one run to the next on a shared machine,
more than a change of a few microseconds per request. This tool serves each tree (a checkout,
e.g. a ``git worktree``, whose ``src/`` goes first on ``PYTHONPATH``) from its own data
directory, all pinned to the same CPU, prepares each one's requests with the scenario's
``build``, and then sends short slices to each tree in turn, rotating which goes first. Each
slice's cost is the server's CPU time (``/proc/<pid>/task/*/schedstat``, nanoseconds) over the
answers it gave, so the machine's slow and fast phases fall on every tree alike; the report
gives each tree's median and, against the first tree, the mean ± standard error and the median
of the paired differences.

    .venv/bin/python -m bench.side_by_side pendar_issue /work/main /tmp/other-tree --pairs 60

An A/A run (the same tree twice) shows the noise floor. A slice's cost runs from its start to
the start of the same tree's next slice (after the last, ``--settle`` seconds of quiet), so the
server's background work after a slice (its WAL checkpoint, every half second or so) is counted
for the tree that caused it even when it runs during another tree's slice; it takes that CPU
from the other tree, so compare CPU per request rather than rates. Loopback only; every slice
is bounded by ``--slice`` requests and ``--seconds``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness import (
    ManagedProcess,
    free_port,
    pishkhan_argv,
    pishkhan_env,
    plan_cpus,
    wait_ready,
)
from bench.loadgen import LoadSpec, Wrk, ensure_wrk
from bench.scenario import Request, Scenario, ScenarioContext
from bench.scenarios import load_scenarios


def server_cpu_ns(pid: int) -> int:
    """CPU time of every thread of ``pid`` so far, in nanoseconds (Linux schedstat)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # a thread that ended meanwhile
    return total


def slice_requests(
    requests: Sequence[Request], pair: int, size: int, once: bool
) -> tuple[Request, ...]:
    """What round ``pair`` sends: its own ``size`` requests of a stateful (``once``) scenario's
    list, else the whole list, cycled by wrk up to ``size`` requests."""
    if once:
        return tuple(requests[pair * size : (pair + 1) * size])
    return tuple(requests)


def rotation(pair: int, trees: int) -> list[int]:
    """The order in which the trees get their slice in round ``pair``: each goes first in turn."""
    return [(pair + k) % trees for k in range(trees)]


@dataclass(frozen=True)
class Paired:
    mean: float
    stderr: float
    median: float


def slice_costs(marks: Sequence[int], answered: Sequence[int]) -> list[float]:
    """CPU µs per answer of each slice: ``marks`` are the server's CPU nanoseconds at the start
    of each of its slices and once after the last (one more than ``answered``), so a slice
    counts the work it left behind for the server to do after it."""
    if len(marks) != len(answered) + 1:
        raise ValueError("one mark per slice, and one after the last")
    return [(marks[k + 1] - marks[k]) / 1e3 / max(1, n) for k, n in enumerate(answered)]


def paired(first: Sequence[float], other: Sequence[float]) -> Paired:
    """Differences ``other - first`` slice by slice."""
    diffs = [b - a for a, b in zip(first, other, strict=True)]
    stderr = statistics.stdev(diffs) / len(diffs) ** 0.5 if len(diffs) > 1 else float("nan")
    return Paired(statistics.mean(diffs), stderr, statistics.median(diffs))


@dataclass
class Served:
    tree: Path
    port: int
    proc: ManagedProcess
    ctx: ScenarioContext
    requests: list[Request] = field(default_factory=list)
    #: the server's CPU nanoseconds at the start of each slice (and after the last)
    marks: list[int] = field(default_factory=list)
    answered: list[int] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)

    @property
    def cpu_us(self) -> list[float]:
        """CPU µs per answer of each slice measured to its end (see :func:`slice_costs`)."""
        done = len(self.marks) - 1
        return slice_costs(self.marks, self.answered[:done]) if done > 0 else []


def _start(
    tree: Path, index: int, work: Path, scenario: Scenario, options: dict[str, object]
) -> Served:
    port = free_port()
    token = secrets.token_urlsafe(16)
    data = work / f"tree{index}"
    data.mkdir()
    env = pishkhan_env(
        data, token, seed_world=scenario.seed_world, database_url=None, extra=scenario.env
    )
    env["PYTHONPATH"] = os.pathsep.join([str(tree / "src"), str(Path(__file__).parents[1])])
    cpus = plan_cpus(1).server
    proc = ManagedProcess(
        f"tree{index}",
        pishkhan_argv(sys.executable, port, 1, scenario.server),
        env=env,
        cwd=tree,
        log_path=data / "server.log",
        cpus=cpus,
    ).start()
    base = f"http://127.0.0.1:{port}"
    wait_ready(proc, f"{base}/_pishkhan/health", scenario.startup_timeout)
    return Served(tree, port, proc, ScenarioContext(base, token, data, options=options))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario")
    parser.add_argument("trees", nargs="+", type=Path, help="checkouts to compare (two or more)")
    parser.add_argument("--pairs", type=int, default=60, help="rounds of one slice per tree")
    parser.add_argument("--slice", type=int, default=400, help="requests per slice")
    parser.add_argument("--seconds", type=float, default=1.0, help="wrk's duration per slice")
    parser.add_argument("--connections", type=int, default=None)
    parser.add_argument(
        "--settle",
        type=float,
        default=3.0,
        help="seconds the servers get after the last slice to finish its background work",
    )
    args = parser.parse_args(argv)
    if len(args.trees) < 2:
        parser.error("give two trees or more")
    scenario = load_scenarios()[args.scenario]
    if scenario.database != "sqlite" or scenario.workers != 1:
        parser.error("side by side serves one SQLite worker per tree")
    wrk_path = ensure_wrk(install=False, log=print)
    if wrk_path is None:
        parser.error("wrk is needed (apt-get install wrk)")
    load_cpus = plan_cpus(1).load
    total = args.pairs * args.slice
    # build prepares the whole run in one round (a once-scenario: every request sent once)
    options: dict[str, object] = {"rounds": 1, "duration": 1e6, "max_requests": total}
    work = Path(tempfile.mkdtemp(prefix="pishkhan-side-by-side-"))
    served: list[Served] = []
    try:
        for index, tree in enumerate(args.trees):
            served.append(_start(tree.resolve(), index, work, scenario, options))

        def build(one: Served) -> None:
            one.requests = list(scenario.build(one.ctx))
            if scenario.once and len(one.requests) < total:
                raise SystemExit(f"{one.tree}: {len(one.requests)} requests built, {total} needed")

        with ThreadPoolExecutor(len(served)) as pool:
            list(pool.map(build, served))
        wrk = Wrk(wrk_path)
        for pair in range(args.pairs):
            for index in rotation(pair, len(served)):
                one = served[index]
                spec = LoadSpec(
                    port=one.port,
                    requests=slice_requests(one.requests, pair, args.slice, scenario.once),
                    connections=args.connections or scenario.connections,
                    duration=args.seconds,
                    max_requests=args.slice,
                    once=scenario.once,
                    expect_status=scenario.expect_status,
                )
                one.marks.append(server_cpu_ns(one.proc.pid))
                measured = wrk.run(spec, load_cpus)
                one.answered.append(measured.count - measured.unexpected)
                one.rates.append(measured.rate)
            if pair:  # the slices of the pair before are over: each tree has begun another
                print(pair - 1, " ".join(f"{s.cpu_us[pair - 1]:7.1f}" for s in served), flush=True)
        time.sleep(args.settle)
        for one in served:
            one.marks.append(server_cpu_ns(one.proc.pid))
        print(args.pairs - 1, " ".join(f"{s.cpu_us[-1]:7.1f}" for s in served), flush=True)
        if scenario.verify is not None:
            for one in served:
                scenario.verify(one.ctx)
        first = served[0]
        for one in served:
            line = (
                f"{one.tree}: CPU µs/request median {statistics.median(one.cpu_us):.1f}, "
                f"rate median {statistics.median(one.rates):,.0f}/s"
            )
            if one is not first:
                d = paired(first.cpu_us, one.cpu_us)
                line += (
                    f"; minus the first: {d.mean:+.1f} ± {d.stderr:.1f} (median {d.median:+.1f})"
                )
            print(line)
        return 0
    finally:
        for one in served:
            one.proc.stop()


if __name__ == "__main__":
    raise SystemExit(main())
