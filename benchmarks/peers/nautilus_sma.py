"""nautilus_trader peer for benchmarks/backtest.py: SMA(10)/SMA(50) long-only crossover.

Runs ONLY inside the nautilus venv (``bash benchmarks/peers/setup.sh`` makes
``benchmarks/peers/.venv-nautilus``); it never imports ``amarktai``, because
nautilus_trader pins pandas/uvloop versions that clash with the platform's.

    benchmarks/peers/.venv-nautilus/bin/python benchmarks/peers/nautilus_sma.py BARS.npz

``BARS.npz`` holds ``time`` (int64 ns, bar open time), ``open``, ``high``, ``low``,
``close`` and ``volume``. Prints one JSON line: bars, seconds (``engine.run()`` only),
build_seconds (bars -> nautilus ``Bar`` objects and engine set-up), trades (round trips,
the open one included), fills, final_equity (quote cash + base held at the last close)
and version.

Same rule as our engine and the other peers: long 1 unit while SMA(10) > SMA(50) of the
close, flat otherwise; decisions on each bar's close; 0.1 % taker fee per side; cash
1,000,000 in the quote currency on a spot (CASH) account, so capital is never exhausted.

Fill convention (nautilus 1.221.0, ``bar_execution=True``, L1_MBP book, no latency model,
default ``FillModel``): the simulated exchange first replays every bar as four trade ticks
(open, high, low, close, each sized volume/4) that move its top-of-book, then the
strategy's ``on_bar`` runs, and the market order it submits is queued and matched as soon
as the engine settles the venue at that same timestamp, i.e. against the book the bar just
left: **the fill is at bar t's close**, in the same step as the decision. Ours decides at
bar t's close and fills at bar t+1's open (no look-ahead into a price the strategy could not
trade at). On gapless data (the random walk, where open[t+1] == close[t], and liquid crypto
minute bars, nearly so) the two conventions give the same prices; on gapped data (daily
bars) each trade differs by the overnight gap. The decisions, and so the trade count, are
the same on both: nautilus's SimpleMovingAverage is initialised after ``period`` values,
exactly when our SMA(50) first exists (bar index 49), so the warm-up matches. Left-over
differences: prices are rounded to the instrument's 9 decimals and the quote currency's 8,
and nautilus's running-sum SMA rounds differently from ours, which can flip a near-tie
fast/slow comparison (none did on the benchmark data: same trades on all of it).
"""

from __future__ import annotations

import json
import sys
import time
from decimal import Decimal

import numpy as np
import pandas as pd
from nautilus_trader import __version__ as nautilus_version
from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
from nautilus_trader.config import LoggingConfig, StrategyConfig
from nautilus_trader.indicators import SimpleMovingAverage
from nautilus_trader.model.currencies import BTC, USDT
from nautilus_trader.model.data import Bar, BarType
from nautilus_trader.model.enums import AccountType, OmsType, OrderSide
from nautilus_trader.model.identifiers import InstrumentId, Symbol, TraderId, Venue
from nautilus_trader.model.instruments import CurrencyPair
from nautilus_trader.model.objects import Money, Price, Quantity
from nautilus_trader.persistence.wranglers import BarDataWrangler
from nautilus_trader.trading.strategy import Strategy

CASH = 1_000_000
FEE = Decimal("0.001")
FAST, SLOW = 10, 50
PRICE_PRECISION = 9  # finer than every data set's tick (random walk floats, ETH/BTC 8 dp)
SIZE_PRECISION = 6
VENUE = Venue("SIM")


class SmaCrossConfig(StrategyConfig, frozen=True):
    instrument_id: InstrumentId
    bar_type: BarType
    fast: int = FAST
    slow: int = SLOW


class SmaCross(Strategy):
    """Long 1 unit while SMA(fast) > SMA(slow), flat otherwise (state-based, like ours)."""

    def __init__(self, config: SmaCrossConfig) -> None:
        super().__init__(config)
        self.fast = SimpleMovingAverage(config.fast)
        self.slow = SimpleMovingAverage(config.slow)
        self.qty = Quantity(1, SIZE_PRECISION)
        self.long = False
        self.round_trips = 0

    def on_start(self) -> None:
        self.register_indicator_for_bars(self.config.bar_type, self.fast)
        self.register_indicator_for_bars(self.config.bar_type, self.slow)
        self.subscribe_bars(self.config.bar_type)

    def on_bar(self, bar: Bar) -> None:
        if not self.slow.initialized:
            return  # warm-up: the first SLOW - 1 bars, as ours
        want = self.fast.value > self.slow.value
        if want == self.long:
            return
        side = OrderSide.BUY if want else OrderSide.SELL
        order = self.order_factory.market(self.config.instrument_id, side, self.qty)
        self.submit_order(order)
        self.long = want  # the market order fills at this bar's close (see module doc)
        self.round_trips += want


def instrument() -> CurrencyPair:
    return CurrencyPair(
        instrument_id=InstrumentId(Symbol("BTC/USDT"), VENUE),
        raw_symbol=Symbol("BTCUSDT"),
        base_currency=BTC,
        quote_currency=USDT,
        price_precision=PRICE_PRECISION,
        size_precision=SIZE_PRECISION,
        price_increment=Price(10.0**-PRICE_PRECISION, PRICE_PRECISION),
        size_increment=Quantity(10.0**-SIZE_PRECISION, SIZE_PRECISION),
        ts_event=0,
        ts_init=0,
        margin_init=Decimal(0),
        margin_maint=Decimal(0),
        maker_fee=FEE,
        taker_fee=FEE,
    )


def bar_type_for(inst: CurrencyPair, step_ns: int) -> BarType:
    minutes, seconds = divmod(step_ns // 1_000_000_000, 60)
    if seconds:
        spec = f"{step_ns // 1_000_000_000}-SECOND"
    elif minutes % 1440 == 0:
        spec = f"{minutes // 1440}-DAY"
    else:
        spec = f"{minutes}-MINUTE"
    return BarType.from_str(f"{inst.id}-{spec}-LAST-EXTERNAL")


def main(path: str) -> None:
    data = np.load(path)
    t0 = time.perf_counter()
    inst = instrument()
    times = data["time"].astype(np.int64)
    step = int(times[1] - times[0])
    # nautilus stamps a bar at its close: ts = open time + bar length.
    frame = pd.DataFrame(
        {c: data[c] for c in ("open", "high", "low", "close", "volume")},
        index=pd.to_datetime(times + step, unit="ns", utc=True),
    )
    bar_type = bar_type_for(inst, step)
    bars = BarDataWrangler(bar_type, inst).process(frame)

    engine = BacktestEngine(
        config=BacktestEngineConfig(
            trader_id=TraderId("BENCH-001"),
            logging=LoggingConfig(log_level="ERROR", bypass_logging=True),
        )
    )
    engine.add_venue(
        venue=VENUE,
        oms_type=OmsType.NETTING,
        account_type=AccountType.CASH,
        starting_balances=[Money(CASH, USDT)],
        base_currency=None,
    )
    engine.add_instrument(inst)
    engine.add_data(bars)
    strategy = SmaCross(SmaCrossConfig(instrument_id=inst.id, bar_type=bar_type))
    engine.add_strategy(strategy)
    build = time.perf_counter() - t0

    t1 = time.perf_counter()
    engine.run()
    seconds = time.perf_counter() - t1

    account = engine.cache.account_for_venue(VENUE)
    last_close = float(data["close"][-1])
    base = account.balance_total(BTC)
    held = 0.0 if base is None else base.as_double()
    equity = account.balance_total(USDT).as_double() + held * last_close
    fills = sum(1 for o in engine.cache.orders() if o.is_closed and o.filled_qty > 0)
    print(
        json.dumps(
            {
                "bars": len(bars),
                "seconds": seconds,
                "build_seconds": build,
                "trades": strategy.round_trips,
                "fills": fills,
                "final_equity": equity,
                "version": nautilus_version,
            }
        )
    )
    engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1])
