"""Jibit token generation (credential check, two signed JWTs): at least 1,000 per second."""

from __future__ import annotations

from collections.abc import Sequence

from bench.scenario import Request, Scenario, ScenarioContext, StarletteBaseline, Target


def build(ctx: ScenarioContext) -> Sequence[Request]:
    jibit = ctx.create_customer("bench")["secrets"]["jibit"]
    return [
        Request.json(
            "POST",
            "/ide/v1/tokens/generate",
            {"apiKey": jibit["apiKey"], "secretKey": jibit["secretKey"]},
        )
    ]


SCENARIO = Scenario(
    name="jibit_token_generate",
    description="POST /ide/v1/tokens/generate vs a bare Starlette JSON POST route",
    build=build,
    baseline=StarletteBaseline(requests=(Request.json("POST", "/json", {"name": "x"}),)),
    target=Target(min_rate=1000),
)
