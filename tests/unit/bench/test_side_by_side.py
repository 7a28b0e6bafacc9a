"""The side-by-side comparison's bookkeeping: who goes first, what each slice sends, and the
paired differences."""

from __future__ import annotations

import math
import os
import statistics

import pytest
from bench.scenario import Request
from bench.side_by_side import paired, rotation, server_cpu_ns, slice_costs, slice_requests


def test_every_tree_goes_first_in_turn() -> None:
    assert [rotation(pair, 3) for pair in range(4)] == [
        [0, 1, 2],
        [1, 2, 0],
        [2, 0, 1],
        [0, 1, 2],
    ]


def test_stateful_slices_are_disjoint_and_cycled_lists_are_whole() -> None:
    requests = [Request("POST", f"/api/x/{i}") for i in range(6)]
    # a once-scenario's round sends its own requests, never another round's
    assert slice_requests(requests, 1, 2, once=True) == tuple(requests[2:4])
    assert slice_requests(requests, 2, 2, once=True) == tuple(requests[4:6])
    # a cycling scenario's round sends the whole list (wrk cycles it up to the slice's bound)
    assert slice_requests(requests[:3], 5, 400, once=False) == tuple(requests[:3])


def test_a_slice_costs_what_its_server_spent_until_its_next_slice() -> None:
    # CPU ns at the start of each slice and once after the last: the work a slice leaves
    # (a checkpoint during another tree's slice) is in its window
    marks = [1_000_000, 5_000_000, 7_000_000, 10_000_000]
    assert slice_costs(marks, [4, 2, 0]) == [1000.0, 1000.0, 3000.0]  # no answer counts as one
    with pytest.raises(ValueError):
        slice_costs(marks, [4, 2, 1, 1])


def test_paired_differences_are_slice_by_slice() -> None:
    # the machine's phases (the first tree's 100 -> 300) cancel out of the differences
    diff = paired([100.0, 300.0, 200.0], [90.0, 280.0, 195.0])
    assert diff.mean == pytest.approx(-35 / 3)
    assert diff.median == -10.0
    assert diff.stderr == pytest.approx(statistics.stdev([-10.0, -20.0, -5.0]) / math.sqrt(3))
    with pytest.raises(ValueError):
        paired([1.0], [1.0, 2.0])


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="Linux /proc")
def test_server_cpu_counts_this_process_threads() -> None:
    before = server_cpu_ns(os.getpid())
    sum(i * i for i in range(200_000))
    assert server_cpu_ns(os.getpid()) > before
