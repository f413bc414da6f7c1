"""The one strategy API shared by live trading, paper trading and backtests.

A strategy is a pure decision rule: given the candles up to and including the current
bar (never later ones), its own position and cash, it returns a ``Decision`` — a target
position or an explicit order intent, plus a trace explaining why. It never places
orders; the engine turns decisions into orders after the risk checks, so the same code
is safe to run anywhere.

Decisions are made at the close of the current bar. Candles are keyed by open time.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal, Self

import numpy as np
import numpy.typing as npt

from amarktai.kit.errors import ValidationFailed
from amarktai.kit.money import ZERO

FloatArray = npt.NDArray[np.float64]
ParamValue = int | float | bool | str
OrderSide = Literal["buy", "sell"]
OrderType = Literal["market", "limit", "stop", "stop_limit"]

# ------------------------------------------------------------------------------ params


def param(
    default: ParamValue,
    *,
    description: str,
    min: float | None = None,
    max: float | None = None,
    choices: tuple[str, ...] | None = None,
) -> Any:
    """Declare a strategy parameter with the range the optimiser and the API enforce."""
    meta = {"min": min, "max": max, "description": description, "choices": choices}
    return dataclasses.field(default=default, metadata=meta)


def _invalid(name: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, code="invalid_parameter", details={"param": name})


def _coerce(name: str, kind: type, value: Any) -> ParamValue:
    """Accept JSON types only: a bool is never a number, an int field takes 3.0 but not 3.5."""
    if kind is bool and isinstance(value, bool):
        return value
    if kind is str and isinstance(value, str):
        return value
    if kind in (int, float) and isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise _invalid(name, f"parameter '{name}' must be finite")
        if kind is int:
            if float(value) != int(value):
                raise _invalid(name, f"parameter '{name}' must be an integer, got {value!r}")
            return int(value)
        return float(value)
    raise _invalid(name, f"parameter '{name}' must be of type {kind.__name__}, got {value!r}")


@dataclasses.dataclass(frozen=True, slots=True)
class ParamSpec:
    """One parameter's schema entry (JSON-serialisable through ``to_dict``)."""

    name: str
    type: type
    default: ParamValue
    min: float | None
    max: float | None
    description: str
    choices: tuple[str, ...] | None

    def validate(self, value: Any) -> ParamValue:
        coerced = _coerce(self.name, self.type, value)
        if self.choices is not None and coerced not in self.choices:
            raise _invalid(
                self.name, f"parameter '{self.name}' must be one of {list(self.choices)}"
            )
        if isinstance(coerced, int | float) and not isinstance(coerced, bool):
            if self.min is not None and coerced < self.min:
                raise _invalid(
                    self.name, f"parameter '{self.name}' must be >= {self.min}, got {coerced}"
                )
            if self.max is not None and coerced > self.max:
                raise _invalid(
                    self.name, f"parameter '{self.name}' must be <= {self.max}, got {coerced}"
                )
        return coerced

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type.__name__,
            "default": self.default,
            "min": self.min,
            "max": self.max,
            "description": self.description,
            "choices": list(self.choices) if self.choices is not None else None,
        }


@dataclasses.dataclass(frozen=True, slots=True)
class StrategyParams:
    """Base for each strategy's frozen ``Params`` dataclass, whose fields use ``param()``."""

    @classmethod
    def specs(cls) -> tuple[ParamSpec, ...]:
        hints = typing.get_type_hints(cls)
        return tuple(
            ParamSpec(
                name=f.name,
                type=hints[f.name],
                default=typing.cast(ParamValue, f.default),
                min=f.metadata.get("min"),
                max=f.metadata.get("max"),
                description=f.metadata.get("description", ""),
                choices=f.metadata.get("choices"),
            )
            for f in dataclasses.fields(cls)
        )

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Self:
        """Validate user input: unknown or out-of-range names raise ``invalid_parameter``."""
        specs = {spec.name: spec for spec in cls.specs()}
        for name in raw:
            if name not in specs:
                raise _invalid(name, f"unknown parameter '{name}'; expected one of {sorted(specs)}")
        values = {name: spec.validate(raw[name]) for name, spec in specs.items() if name in raw}
        params = cls(**values)
        for name, message in params.violations():
            raise _invalid(name, message)
        return params

    def violations(self) -> list[tuple[str, str]]:
        """Cross-parameter rules (e.g. fast < slow) as (param name, message) pairs."""
        return []

    def to_dict(self) -> dict[str, ParamValue]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


# ------------------------------------------------------------------------------- bars


def _readonly(values: npt.ArrayLike, dtype: npt.DTypeLike) -> npt.NDArray[Any]:
    arr = np.asarray(values, dtype=dtype)
    if arr.flags.writeable:
        arr = arr.view()
        arr.flags.writeable = False
    return arr


@dataclasses.dataclass(frozen=True, slots=True)
class Bars:
    """Read-only OHLCV columns; ``time`` holds candle open times as datetime64[ns] (UTC)."""

    time: npt.NDArray[np.datetime64]
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray

    @classmethod
    def from_arrays(
        cls,
        time: npt.ArrayLike,
        open: npt.ArrayLike,
        high: npt.ArrayLike,
        low: npt.ArrayLike,
        close: npt.ArrayLike,
        volume: npt.ArrayLike,
    ) -> Bars:
        cols = [_readonly(c, np.float64) for c in (open, high, low, close, volume)]
        stamps = _readonly(time, "datetime64[ns]")
        if any(c.ndim != 1 or len(c) != len(stamps) for c in cols):
            raise ValidationFailed(
                "bar columns must be 1-D and equally long", code="invalid_series"
            )
        return cls(stamps, *cols)

    def __len__(self) -> int:
        return len(self.close)

    def upto(self, index: int) -> Bars:
        """Bars 0..index inclusive, as views: what a strategy may see at bar ``index``."""
        end = index + 1
        return Bars(
            self.time[:end],
            self.open[:end],
            self.high[:end],
            self.low[:end],
            self.close[:end],
            self.volume[:end],
        )


# ---------------------------------------------------------------------------- context


@dataclasses.dataclass(frozen=True, slots=True)
class StrategyContext:
    """Everything a strategy may look at for one decision, read-only.

    ``bars`` ends at the current bar. ``bar_index`` counts bars since the bot (or the
    backtest) started, so schedules such as DCA survive the engine trimming history.

    ``previous_target`` is the target of this strategy's decision on the bar before, when
    the caller made one (the engine and the bar-by-bar backtest carry it; None on the
    first bar or when unknown). Rules with state (a latch between an entry and an exit
    event, a grid's inventory) continue from it, because the trimmed history the engine
    passes may no longer show the event that set the state; with it, a windowed decision
    equals the full-history one.
    """

    bars: Bars
    position_qty: Decimal = ZERO
    cash: Decimal = ZERO
    equity: Decimal = ZERO
    bar_index: int = 0
    previous_target: float | None = None

    @property
    def close(self) -> FloatArray:
        return self.bars.close

    @property
    def high(self) -> FloatArray:
        return self.bars.high

    @property
    def low(self) -> FloatArray:
        return self.bars.low

    @property
    def volume(self) -> FloatArray:
        return self.bars.volume

    @property
    def price(self) -> float:
        return float(self.bars.close[-1])

    @property
    def time(self) -> datetime:
        """Open time of the current bar, timezone-aware UTC."""
        ns = int(self.bars.time[-1].astype("datetime64[ns]").astype(np.int64))
        return datetime.fromtimestamp(ns / 1e9, tz=UTC)


# --------------------------------------------------------------------------- decision


@dataclasses.dataclass(frozen=True, slots=True)
class OrderIntent:
    """An explicit order request; sizes are Decimal because they become real orders."""

    side: OrderSide
    type: OrderType = "market"
    qty: Decimal | None = None
    notional: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None

    def __post_init__(self) -> None:
        sizes = [s for s in (self.qty, self.notional) if s is not None]
        if len(sizes) != 1 or sizes[0] <= 0:
            raise ValidationFailed(
                "order intent needs exactly one positive qty or notional", code="invalid_order"
            )
        if self.type in ("limit", "stop_limit") and self.limit_price is None:
            raise ValidationFailed(f"{self.type} order needs a limit price", code="invalid_order")
        if self.type in ("stop", "stop_limit") and self.stop_price is None:
            raise ValidationFailed(f"{self.type} order needs a stop price", code="invalid_order")

    def to_dict(self) -> dict[str, Any]:
        def text(v: Decimal | None) -> str | None:
            return None if v is None else str(v)

        return {
            "side": self.side,
            "type": self.type,
            "qty": text(self.qty),
            "notional": text(self.notional),
            "limit_price": text(self.limit_price),
            "stop_price": text(self.stop_price),
        }


def _json_float(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


@dataclasses.dataclass(frozen=True, slots=True)
class Decision:
    """What the strategy wants now, and why.

    Exactly one of ``target`` (fraction of the bot's allocated capital to hold, in
    [0, 1] for long-only) or ``order`` is set, or neither when the strategy has no
    opinion yet (warm-up, not enough cash): the engine then leaves the position alone.
    """

    rule: str
    signal: float
    target: float | None = None
    order: OrderIntent | None = None
    inputs: Mapping[str, float] = dataclasses.field(default_factory=dict)
    indicators: Mapping[str, float] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.target is not None and self.order is not None:
            raise ValidationFailed(
                "a decision sets a target or an order, not both", code="invalid_decision"
            )
        if self.target is not None and not 0.0 <= self.target <= 1.0:
            raise ValidationFailed(f"target {self.target} outside [0, 1]", code="invalid_decision")
        if not -1.0 <= self.signal <= 1.0:
            raise ValidationFailed(f"signal {self.signal} outside [-1, 1]", code="invalid_decision")

    @property
    def trace(self) -> dict[str, Any]:
        """The decision-trace payload: JSON-friendly (NaN becomes None)."""
        return {
            "rule": self.rule,
            "signal": self.signal,
            "target": self.target,
            "order": self.order.to_dict() if self.order is not None else None,
            "inputs": {k: _json_float(v) for k, v in self.inputs.items()},
            "indicators": {k: _json_float(v) for k, v in self.indicators.items()},
        }


# --------------------------------------------------------------------------- strategy


class Strategy(ABC):
    """Base class of every strategy.

    Subclasses set ``name``, ``description`` and ``Params`` and implement ``warmup_bars``
    and ``on_bar``. ``on_bar`` must depend only on the context: indicators are computed
    on ``ctx.bars`` (history up to now), so a decision never changes when later bars do,
    and replaying history reproduces live decisions exactly.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    Params: ClassVar[type[StrategyParams]]

    def __init__(self, params: Mapping[str, Any] | StrategyParams | None = None) -> None:
        if isinstance(params, StrategyParams):
            if not isinstance(params, self.Params):
                raise ValidationFailed(
                    f"{type(params).__name__} is not {self.name}'s params", code="invalid_parameter"
                )
            params = params.to_dict()
        self.params = self.Params.parse(params or {})

    @classmethod
    def params_schema(cls) -> list[dict[str, Any]]:
        return [spec.to_dict() for spec in cls.Params.specs()]

    @property
    @abstractmethod
    def warmup_bars(self) -> int:
        """Bars of history needed before the first non-empty decision."""

    @property
    def lookback_bars(self) -> int:
        """History the engine should pass so live decisions match a full-history replay.

        Equal to ``warmup_bars`` for window indicators; strategies built on recursive
        smoothing (EMA, Wilder) ask for more so the seed has decayed below 1e-9.
        """
        return self.warmup_bars

    @abstractmethod
    def on_bar(self, ctx: StrategyContext) -> Decision:
        """Decide at the close of the context's last bar."""

    def signals(self, bars: Bars) -> FloatArray | None:
        """Target position per bar for the backtester's fast path, or None when the
        strategy emits orders rather than targets (then the backtester iterates
        ``on_bar``). Element t equals ``on_bar`` at bar t: NaN where the target is None.
        """
        return None

    def stream(self, bars: Bars) -> DecisionStream:
        """This strategy's decisions over a fixed bar history, one bar at a time.

        The event-driven backtester's default decision source. ``decide(i, ...)`` must
        equal ``on_bar`` on a context ending at bar ``i``; see ``DecisionStream``. The
        default replays ``on_bar`` on the trailing ``lookback_bars`` (the live engine's
        context) and takes its per-bar targets from ``signals()`` when there is one, so
        bars whose target needs no order cost nothing. Built-ins override it with
        indicator columns computed once (causal: element i reads bars <= i only).
        """
        return OnBarStream(self, bars, targets=self.signals(bars))


# ----------------------------------------------------------------------------- stream


class DecisionStream(ABC):
    """A strategy's decisions over one fixed history ``bars``, bar by bar.

    The contract, per bar ``i``:

    - ``decide(i, position_qty=q, cash=c, equity=e)`` returns the ``Decision`` that
      ``on_bar(StrategyContext(bars.upto(i), q, c, e, bar_index=i))`` returns (target,
      order, rule, signal, inputs and indicators, so the trace is the same).
    - ``targets`` (target strategies) is the per-bar target as floats, NaN where the
      decision has none: ``targets[i] == decide(i, ...).target``. A backtest reads it
      on every bar and calls ``decide`` only on bars whose target needs an order.
    - ``order_bars`` (order strategies), when not None, lists in ascending order every
      bar at which ``decide`` can return an order or a target; on the other bars the
      decision has neither, so the backtest skips them. None means "any bar".

    Indicators are computed on ``bars`` once, and every value at ``i`` depends only on
    bars ``<= i``, so nothing later leaks into a decision (tests scramble the future
    to check). ``tests/unit/strategies/test_streams.py`` holds every built-in's stream
    equal to its ``on_bar`` at every bar of the shared real data.
    """

    targets: FloatArray | None = None
    order_bars: npt.NDArray[np.int64] | None = None

    def __init__(self, bars: Bars) -> None:
        self.bars = bars

    @abstractmethod
    def decide(
        self, i: int, *, position_qty: Decimal = ZERO, cash: Decimal = ZERO, equity: Decimal = ZERO
    ) -> Decision:
        """The decision at the close of bar ``i``."""


class OnBarStream(DecisionStream):
    """The generic stream: ``on_bar`` on a context of the last ``lookback_bars`` bars,
    what the live engine passes (equal to the full history by the ``lookback_bars``
    contract). ``targets``, when given, must be the strategy's ``signals()``."""

    def __init__(self, strategy: Strategy, bars: Bars, targets: FloatArray | None = None) -> None:
        super().__init__(bars)
        self.strategy = strategy
        self.lookback = max(1, strategy.lookback_bars)
        self.targets = None if targets is None else np.asarray(targets, dtype=np.float64)
        self._last: tuple[int, float | None] | None = None  # (bar, target) decided last

    def context(
        self, i: int, position_qty: Decimal, cash: Decimal, equity: Decimal
    ) -> StrategyContext:
        b, start, end = self.bars, max(0, i + 1 - self.lookback), i + 1
        window = Bars(b.time[start:end], b.open[start:end], b.high[start:end],
                      b.low[start:end], b.close[start:end], b.volume[start:end])  # fmt: skip
        # The previous bar's target, as the engine carries it, when bars come in order.
        previous = self._last[1] if self._last is not None and self._last[0] == i - 1 else None
        return StrategyContext(
            window, position_qty, cash, equity, bar_index=i, previous_target=previous
        )

    def decide(
        self, i: int, *, position_qty: Decimal = ZERO, cash: Decimal = ZERO, equity: Decimal = ZERO
    ) -> Decision:
        decision = self.strategy.on_bar(self.context(i, position_qty, cash, equity))
        self._last = (i, decision.target)
        return decision
