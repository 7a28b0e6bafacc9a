"""Jibit card inquiry, authenticated, with quota and usage accounting (SQLite, one worker),
against a bare Starlette JSON route on the same server (issue 4: >= 25 %, p99 < 20 ms)."""

from __future__ import annotations

from collections.abc import Sequence

from bench.scenario import Request, Scenario, ScenarioContext, StarletteBaseline, Target
from pishkhan.world import fixtures as F

CARDS = (F.CARD_ACTIVE, F.CARD_CREDIT, F.CARD_GIFT)


def build(ctx: ScenarioContext) -> Sequence[Request]:
    jibit = ctx.create_customer("bench")["secrets"]["jibit"]
    token = ctx.request(
        "POST",
        "/ide/v1/tokens/generate",
        json={"apiKey": jibit["apiKey"], "secretKey": jibit["secretKey"]},
    ).json()["accessToken"]
    auth = {"Authorization": f"Bearer {token}"}
    return [Request.get(f"/ide/v1/cards?number={card}", auth) for card in CARDS]


SCENARIO = Scenario(
    name="jibit_card_inquiry",
    description="GET /ide/v1/cards (token check, world lookup, daily limit, wallet debit, "
    "usage event in one transaction) vs a bare Starlette JSON route",
    build=build,
    baseline=StarletteBaseline(),
    target=Target(min_ratio=0.25, max_p99_ms=20.0),
    seed_world=True,
)
