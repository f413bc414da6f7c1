"""What a user may ask a job to do, as validated models.

The same models parse the API body, the CLI flags and, in the worker, the stored
``jobs.request`` JSON, so a request means the same thing wherever it is run. Shape rules
live here (pydantic → 422 before anything is written); rules that need the data or the
strategy (ranges, warm-up, gaps) are checked in ``amarktai.jobs.work.prepare_*``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from amarktai.backtest.models import BacktestConfig

Objective = Literal["return", "max_drawdown", "sharpe"]
Mode = Literal["event", "vectorised"]
MAX_TRIALS = 2000


def _default_objectives() -> list[Objective]:
    return ["return", "max_drawdown"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RandomWalk(_Strict):
    n: int = Field(ge=10, le=200_000, description="number of bars")
    seed: int = 12345
    sigma: float = Field(default=0.001, gt=0, le=0.2, description="per-bar log-return stdev")
    bar_seconds: int = Field(default=60, ge=1, le=7 * 86400)


class DataSource(_Strict):
    """A stored candle series (``binance/BTC-USDT/1h``: the user's store, else the sample
    shipped with the package) or a file in the folder the user pointed at
    (``$AMARKTAI_SHARED_DATA``), see ``GET /api/v1/backtests/data-files``, restricted to
    ``[start, end)``; or a seeded random walk."""

    file: str | None = Field(default=None, max_length=300, examples=["binance/BTC-USDT/1h"])
    start: datetime | None = None
    end: datetime | None = None
    random_walk: RandomWalk | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.file is None) == (self.random_walk is None):
            raise ValueError("give exactly one of 'file' or 'random_walk'")
        if self.random_walk is not None and (self.start or self.end):
            raise ValueError("'start'/'end' apply to a file, not to a random walk")
        for moment in (self.start, self.end):
            if moment is not None and moment.tzinfo is None:
                raise ValueError("start/end need a timezone (e.g. 2024-01-01T00:00:00Z)")
        return self


class Costs(_Strict):
    initial_cash: Decimal = Field(default=Decimal(10_000), gt=0, max_digits=30)
    fee_bps: Decimal = Field(default=Decimal(10), ge=0, lt=10_000)
    slippage_bps: Decimal = Field(default=Decimal(0), ge=0, lt=10_000)

    def to_config(self) -> BacktestConfig:
        return BacktestConfig(
            initial_cash=self.initial_cash, fee_bps=self.fee_bps, slippage_bps=self.slippage_bps
        )


class BacktestRequest(_Strict):
    strategy: str = Field(max_length=64, examples=["sma_cross"])
    params: dict[str, Any] = Field(default_factory=dict, examples=[{"fast": 10, "slow": 50}])
    data: DataSource
    config: Costs = Field(default_factory=Costs)
    mode: Mode = "event"
    monte_carlo_simulations: int = Field(
        default=1000, ge=0, le=20_000, description="trade-sequence resamples (0: skip)"
    )
    seed: int | None = Field(default=None, description="Monte Carlo seed")


class WalkForwardIn(_Strict):
    train_bars: int = Field(ge=2)
    test_bars: int = Field(ge=2)


class OptimisationRequest(_Strict):
    strategy: str = Field(max_length=64, examples=["sma_cross"])
    data: DataSource
    config: Costs = Field(default_factory=Costs)
    objectives: list[Objective] = Field(
        default_factory=_default_objectives, min_length=1, max_length=3
    )
    n_trials: int = Field(default=30, ge=1, le=MAX_TRIALS, description="trials per fold")
    walk_forward: WalkForwardIn | None = None
    space: dict[str, list[Any]] = Field(
        default_factory=dict,
        description="narrowed ranges: [low, high] for numbers, the allowed values otherwise",
        examples=[{"fast": [5, 30], "slow": [40, 120]}],
    )
    fixed: dict[str, Any] = Field(default_factory=dict, description="parameters not searched")
    seed: int | None = None

    @model_validator(mode="after")
    def _distinct_objectives(self) -> Self:
        if len(set(self.objectives)) != len(self.objectives):
            raise ValueError("objectives must not repeat")
        return self
