"""The engine's quick pre-trade gate: it answers without a query only for a bot nothing
binds; every limit or trip that could bind sends the bot to the full gate."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from amarktai.engine.planner import Limits
from amarktai.risk.breakers import BreakerLimits
from amarktai.risk.pretrade import GateCache


@dataclass
class FakeBot:
    id: str = "b1"
    user_id: str = "u1"
    risk: dict[str, Any] = field(default_factory=dict)


def cache(
    user: dict[str, Any] | None = None,
    platform: dict[str, Any] | None = None,
    active: list[tuple[str, str]] | None = None,
) -> GateCache:
    found = {("platform", "platform"): platform or {}, ("user", "u1"): user or {}}
    return GateCache.of((found, active or []))


def test_a_bot_nothing_binds_passes_without_a_query() -> None:
    gate = cache(active=[("bot", "other"), ("user", "u2")]).quick(FakeBot(), Limits())
    assert gate is not None and not gate.blocked
    assert gate.pre.checks[-1]["detail"] == "no active breaker"
    assert gate.trade_returns == [] and gate.exposure is None


@pytest.mark.parametrize(
    ("gate_cache", "bot", "limits"),
    [
        (cache(user={"daily_loss_pct": "0.05"}), FakeBot(), Limits()),
        (cache(user={"max_exposure": "1000"}), FakeBot(), Limits()),
        (cache(platform={"max_drawdown_pct": "0.2"}), FakeBot(), Limits()),
        (cache(active=[("bot", "b1")]), FakeBot(), Limits()),
        (cache(active=[("user", "u1")]), FakeBot(), Limits()),
        (cache(active=[("platform", "platform")]), FakeBot(), Limits()),
        (cache(), FakeBot(risk={"breakers": {"error_burst_count": 3}}), Limits()),
        (cache(), FakeBot(), Limits(sizing="kelly")),
        (cache(), FakeBot(user_id="u9"), Limits()),  # a user the cache did not load
    ],
)
def test_anything_that_may_bind_takes_the_full_gate(
    gate_cache: GateCache, bot: FakeBot, limits: Limits
) -> None:
    assert gate_cache.quick(bot, limits) is None


def test_limits_are_parsed_per_level() -> None:
    c = cache(user={"max_exposure": "5"}, platform={"daily_loss_amount": "7"})
    assert c.users == {"u1": BreakerLimits.from_dict({"max_exposure": "5"})}
    assert c.platform == BreakerLimits.from_dict({"daily_loss_amount": "7"})
