"""Prometheus metrics: requests by surface, route and status; a latency histogram; the group
commits' transactions and jobs."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from pishkhan.core.group_commit import all_stats

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "pishkhan_requests",
            "HTTP requests served",
            ["surface", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "pishkhan_request_seconds",
            "HTTP request latency",
            ["surface", "route"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_GroupCommitCollector())
        # Label children are cached: looking them up per request costs more than observing.
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe(self, surface: str, route: str, status: int, seconds: float) -> None:
        key = (surface, route, status)
        pair = self._children.get(key)
        if pair is None:
            pair = (
                self.requests.labels(surface, route, str(status)),
                self.latency.labels(surface, route),
            )
            self._children[key] = pair
        pair[0].inc()
        pair[1].observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _GroupCommitCollector(Collector):
    """The process's group commits (``core.group_commit``), read when scraped."""

    def collect(self) -> Iterator[Metric]:
        stats = all_stats()
        families = (
            ("transactions", "Write transactions committed", "commits"),
            ("jobs", "Write jobs committed in them", "jobs"),
            ("reruns", "Jobs run again alone after their batch was rolled back", "alone"),
            ("threadpool", "Jobs sent to the threadpool (database locked elsewhere)", "threadpool"),
        )
        for suffix, help_text, attr in families:
            family = CounterMetricFamily(
                f"pishkhan_group_commit_{suffix}", help_text, labels=["name"]
            )
            for name, counts in sorted(stats.items()):
                family.add_metric([name], getattr(counts, attr))
            yield family
