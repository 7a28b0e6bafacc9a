"""``GET /_pishkhan/health`` (it runs ``SELECT 1`` on the database) against the bare
Starlette JSON route, on the same server, worker count and connections."""

from __future__ import annotations

from collections.abc import Sequence

from bench.scenario import HEALTH_PATH, Request, Scenario, ScenarioContext, StarletteBaseline


def build(_ctx: ScenarioContext) -> Sequence[Request]:
    return [Request.get(HEALTH_PATH)]


SCENARIO = Scenario(
    name="health",
    description="GET /_pishkhan/health (database check) vs a bare Starlette JSON route",
    build=build,
    baseline=StarletteBaseline(),
)
