"""Backtest settings and results, shared by the event-driven and the vectorised paths.

Both paths follow the same rules (see ``amarktai.backtest.event``), so one result type
serves both and the API/CLI never need to know which path produced a result.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

import numpy as np
import numpy.typing as npt

from amarktai.analytics.metrics import PerformanceMetrics, compute_metrics
from amarktai.execution.orders import Fill
from amarktai.kit.errors import ValidationFailed
from amarktai.strategies.base import Bars

if TYPE_CHECKING:
    from amarktai.engine.planner import Limits

FloatArray = npt.NDArray[np.float64]
Path = Literal["event", "vectorised"]
BPS = Decimal(10_000)
T = TypeVar("T")


@dataclasses.dataclass(frozen=True, slots=True)
class BacktestConfig:
    """Money and execution settings.

    ``fixed_qty``: when set, a strategy target ``t`` means "hold ``t × fixed_qty`` units"
    instead of "``t`` of my equity"; with enough cash every engine then takes identical
    trades, which is what the peer parity test and the benchmark need.
    ``rebalance_band``: a target that differs from the holding by less than this fraction
    of equity is not traded (except a move to flat), so fill-price drift does not turn
    into a stream of dust orders.
    """

    initial_cash: Decimal = Decimal(10_000)
    fee_bps: Decimal = Decimal(10)
    slippage_bps: Decimal = Decimal(0)
    fixed_qty: Decimal | None = None
    rebalance_band: Decimal = Decimal("0.01")
    limits: Limits | None = None
    allocation: Mapping[str, Decimal] | None = None

    def __post_init__(self) -> None:
        checks = (
            (self.initial_cash > 0, "initial_cash must be positive"),
            (Decimal(0) <= self.fee_bps < BPS, "fee_bps must be in [0, 10000)"),
            (Decimal(0) <= self.slippage_bps < BPS, "slippage_bps must be in [0, 10000)"),
            (self.fixed_qty is None or self.fixed_qty > 0, "fixed_qty must be positive"),
            (Decimal(0) <= self.rebalance_band < 1, "rebalance_band must be in [0, 1)"),
        )
        for ok, message in checks:
            if not ok:
                raise ValidationFailed(message, code="invalid_backtest_setting")

    @property
    def risk_limits(self) -> Limits:
        """``limits``, or the planner's defaults with no price buffer (fills happen at
        known prices in a backtest). Loaded on use: the vectorised path needs only
        ``max_position_fraction``, and the planner brings the whole risk stack."""
        if self.limits is not None:
            return self.limits
        from amarktai.engine.planner import Limits

        return Limits(price_buffer=Decimal(0))

    @property
    def max_position_fraction(self) -> Decimal:
        return Decimal(1) if self.limits is None else self.limits.max_position_fraction

    @property
    def fee_rate(self) -> Decimal:
        return self.fee_bps / BPS

    @property
    def slippage_rate(self) -> Decimal:
        return self.slippage_bps / BPS

    def cash_for(self, symbols: list[str]) -> dict[str, Decimal]:
        """Each instrument trades its own sub-account, as separate bots would; the split is
        ``allocation`` (fractions summing to at most 1) or equal."""
        if self.allocation is None:
            share = self.initial_cash / len(symbols)
            return {s: share for s in symbols}
        unknown = set(self.allocation) - set(symbols)
        missing = set(symbols) - set(self.allocation)
        total = sum(self.allocation.values(), Decimal(0))
        if unknown or missing or total > 1 or any(v <= 0 for v in self.allocation.values()):
            raise ValidationFailed(
                "allocation must give every symbol a positive share, summing to at most 1",
                code="invalid_allocation",
                details={"unknown": sorted(unknown), "missing": sorted(missing)},
            )
        return {s: self.initial_cash * self.allocation[s] for s in symbols}


@dataclasses.dataclass(frozen=True, slots=True)
class TradeRecord:
    """One round trip, flat → long → flat; ``exit_*`` None while still open at the end.

    ``pnl`` is net: realised by average cost minus every fee paid inside the trade.
    """

    symbol: str
    entry_bar: int
    entry_time: datetime
    entry_price: Decimal
    qty: Decimal
    exit_bar: int | None
    exit_time: datetime | None
    exit_price: Decimal | None
    pnl: Decimal
    fees: Decimal

    @property
    def is_open(self) -> bool:
        return self.exit_bar is None

    def to_dict(self) -> dict[str, Any]:
        def text(v: Decimal | None) -> str | None:
            return None if v is None else str(v)

        return {
            "symbol": self.symbol,
            "entry_bar": self.entry_bar,
            "entry_time": self.entry_time.isoformat(),
            "entry_price": str(self.entry_price),
            "qty": str(self.qty),
            "exit_bar": self.exit_bar,
            "exit_time": None if self.exit_time is None else self.exit_time.isoformat(),
            "exit_price": text(self.exit_price),
            "pnl": str(self.pnl),
            "fees": str(self.fees),
        }


class LazyRecords(Sequence[T]):
    """A read-only sequence of records built from columns on first use.

    The vectorised path computes trades and fills as NumPy columns; turning 10^4 of
    them into Decimal records costs more than the simulation, so it happens when a
    caller reads them (a slice builds only its rows) and the whole tuple is then kept.
    ``build(start, stop)`` returns the records ``start..stop-1``.
    """

    __slots__ = ("_all", "_build", "_count")

    def __init__(self, count: int, build: Callable[[int, int], list[T]]) -> None:
        self._count = count
        self._build = build
        self._all: tuple[T, ...] | None = None

    def __len__(self) -> int:
        return self._count

    def materialise(self) -> tuple[T, ...]:
        if self._all is None:
            self._all = tuple(self._build(0, self._count))
        return self._all

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[T]: ...

    def __getitem__(self, index: int | slice) -> T | Sequence[T]:
        if self._all is not None:
            return self._all[index]
        if isinstance(index, slice):
            start, stop, step = index.indices(self._count)
            if step == 1:
                return tuple(self._build(start, max(start, stop)))
            return self.materialise()[index]
        at = index + self._count if index < 0 else index
        if not 0 <= at < self._count:
            raise IndexError("record index out of range")
        return self._build(at, at + 1)[0]

    def __iter__(self) -> Iterator[T]:
        return iter(self.materialise())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyRecords | tuple | list):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.materialise())

    def __repr__(self) -> str:
        return f"LazyRecords({self._count} records)"


@dataclasses.dataclass(frozen=True, slots=True)
class BacktestResult:
    """What a run produced. ``equity`` is marked to market at each bar close of the common
    clock ``times``; an open position is valued at the last close without an exit fee.

    ``trades`` and ``fills`` are sequences of records (a tuple, or ``LazyRecords`` built
    on first read); ``closed_pnl`` is the closed trades' net pnl as floats, in order,
    which is all the metrics and the Monte Carlo need."""

    path: Path
    strategy: str
    params: dict[str, Any]
    config: BacktestConfig
    times: npt.NDArray[np.datetime64]
    equity: FloatArray
    in_market: npt.NDArray[np.bool_]
    trades: Sequence[TradeRecord]
    fills: Sequence[Fill]
    decisions: int
    denied: int
    metrics: PerformanceMetrics
    closed_pnl: FloatArray

    @property
    def final_equity(self) -> float:
        return float(self.equity[-1])

    @property
    def closed_trades(self) -> tuple[TradeRecord, ...]:
        return tuple(t for t in self.trades if not t.is_open)

    def summary(self) -> dict[str, Any]:
        """JSON-friendly headline numbers (the job layer stores this)."""
        return {
            "path": self.path,
            "strategy": self.strategy,
            "params": self.params,
            "bars": len(self.equity),
            "final_equity": self.final_equity,
            "trades": len(self.trades),
            "closed_trades": len(self.closed_pnl),
            "fills": len(self.fills),
            "decisions": self.decisions,
            "denied": self.denied,
            "metrics": self.metrics.to_dict(),
        }


def bars_close_times(bars: Bars) -> npt.NDArray[np.datetime64]:
    """Close time of each bar (open time + bar length): when its decision is made."""
    if len(bars) < 2:
        return bars.time.copy()
    step = bars.time[1] - bars.time[0]
    return bars.time + step


def closed_pnl_of(trades: Iterable[TradeRecord]) -> FloatArray:
    """Closed trades' net pnl as floats, in order (open trades left out)."""
    return np.array([float(t.pnl) for t in trades if not t.is_open], dtype=np.float64)


def finish_metrics(
    times: npt.NDArray[np.datetime64],
    equity: FloatArray,
    closed_pnl: FloatArray,
    in_market: npt.NDArray[np.bool_],
) -> PerformanceMetrics:
    """The live analytics (``compute_metrics``) over closed trades' net pnl only."""
    safe = np.maximum(equity, np.finfo(np.float64).tiny)
    return compute_metrics(times, safe, closed_pnl, in_market=in_market)
