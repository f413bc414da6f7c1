"""End-to-end engine benchmark in one process, on the embedded default (SQLite):
market events → 100 bots (strategy → pre-trade checks → paper fill → ledger). The engine
runs as `amarktai serve` runs it: its own inline SQLite pool, background WAL checkpoints,
the start-up heap frozen.

Two markets, each run on a fresh database:

* ``replay`` (the issue's scenario): every trade print of Binance's BTC/USDT and
  ETH/USDT spot WebSocket capture in ../shared/data (hftbacktest, 2024-08-08 23:54 →
  08-09 00:05, about 34,000 prints in 11 minutes), replayed as fast as possible; the bots
  decide on 1-minute candles built from those prints.
* ``sim``: the seeded `sim` market (trade prints and book updates on three ZAR pairs), one
  simulated hour: a decision-heavy mix (about 4.6 events per decision).
* ``fills``: the same simulated hour with every bot trading as often as it can (half buy
  on every bar, half flip on a 2/3-bar moving-average cross), so that committed fills/s
  measures what the commit path sustains rather than how often the scenario trades.

Prints market events/s through the engine (wall time of `Engine.handle` over every
event, candle closes included), p50/p99 decision latency (the wall time of one candle
close, which decides for every bot on that stream, divided by its bots: an average per
bot, not a per-bot measurement), and committed fills/s (fills in the database after the
run / the same wall time; each fill = order row + fill row + ledger entry + postings +
decision trace, committed), and the wall time spent inside SQLite's own calls (statements
and commits), per fill: the part of a fill's cost only fewer rows or indexes would
remove. The DCA bots buy on every bar, so a third of the decisions are fills. Not a
test: run it by hand.

    .venv/bin/python benchmarks/engine.py [--market replay|sim|fills|all] [--bots 100]
        [--steps 3600] [--timeframe 60] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from amarktai.accounts.passwords import Passwords
from amarktai.config import Settings
from amarktai.db import sqlite_driver
from amarktai.db.engine import transaction
from amarktai.db.migrate import upgrade
from amarktai.engine.models import FillRow
from amarktai.engine.runner import Engine
from amarktai.engine.service import BotService, BotSpec
from amarktai.kit.clock import ManualClock
from amarktai.kit.heap import freeze_startup_heap
from amarktai.ledger import journal
from amarktai.ledger.service import LedgerService
from amarktai.markets.replay import ReplayMarket
from amarktai.markets.sim import SimConfig, SimMarket
from amarktai.markets.types import MarketEvent, event_time
from amarktai.runtime import build_runtime

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script
from benchmarks.shared_data import find_shared_data_dir

Strategies = tuple[tuple[str, dict[str, object]], ...]
STRATEGIES: Strategies = (
    ("dca", {"quote_amount": 200.0, "every_bars": 1}),
    ("sma_cross", {"fast": 3, "slow": 8}),
    ("rsi_reversion", {"period": 5, "oversold": 45.0, "exit": 55.0}),
)
FILL_HEAVY: Strategies = (
    ("dca", {"quote_amount": 200.0, "every_bars": 1}),
    ("sma_cross", {"fast": 2, "slow": 3}),
)
Scenario = tuple[str, str, tuple[str, ...], list[list[MarketEvent]]]
CAPTURE = "more/orderbook_trades/nkaz001__hftbacktest/spot"
CAPTURE_FILES: tuple[str, ...] = ("btcusdt_20240808.gz", "btcusdt_20240809.gz")
CAPTURE_FILES += ("ethusdt_20240808.gz", "ethusdt_20240809.gz")


def replay_events() -> Scenario:
    market = ReplayMarket.from_files(find_shared_data_dir() / CAPTURE / f for f in CAPTURE_FILES)
    return "replay", "USDT", ("BTC/USDT", "ETH/USDT"), [[e] for e in market.events()]


def sim_events(steps: int) -> Scenario:
    market = SimMarket(SimConfig(seed=3), start=ManualClock().now())
    batches = [b for _, b in zip(range(steps), market.steps(), strict=False)]
    return "sim", "ZAR", ("BTC/ZAR", "ETH/ZAR", "XRP/ZAR"), batches


class SqliteTime:
    """Wall time inside SQLite's own calls (statements, commits) on the engine's inline
    connections, which run on this thread: how much of a fill's cost no Python change
    can remove, short of writing fewer rows or indexes."""

    def __init__(self) -> None:
        self.statements = self.commits = 0.0
        self.commit_count = 0

    @contextlib.contextmanager
    def measuring(self) -> Iterator[None]:
        run, commit = sqlite_driver._run, sqlite_driver._commit

        def timed_run(*args: object) -> object:
            t0 = time.perf_counter()
            try:
                return run(*args)
            finally:
                self.statements += time.perf_counter() - t0

        def timed_commit(conn: object) -> None:
            t0 = time.perf_counter()
            try:
                commit(conn)
            finally:
                self.commits += time.perf_counter() - t0
                self.commit_count += 1

        sqlite_driver._run, sqlite_driver._commit = timed_run, timed_commit
        try:
            yield
        finally:
            sqlite_driver._run, sqlite_driver._commit = run, commit


async def run(
    exchange: str,
    quote: str,
    symbols: Sequence[str],
    batches: list[list[MarketEvent]],
    bots: int,
    timeframe: int,
    profile: bool,
    strategies: Sequence[tuple[str, dict[str, object]]] = STRATEGIES,
    label: str = "",
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), env="test")
        clock = ManualClock(event_time(batches[0][0]))
        rt = build_runtime(settings, clock=clock, passwords=Passwords(1, 1024))
        await upgrade(rt.engine)
        async with transaction(rt.sessions) as s:
            user = await rt.accounts(s).register("bench@example.com", "benchmark password")
            await LedgerService(s, clock).post(
                journal.deposit(user.id, quote, Decimal(100_000_000))
            )
            svc = BotService(s, clock, rt.instruments)
            for i in range(bots):
                name, params = strategies[i % len(strategies)]
                symbol = symbols[i % len(symbols)]
                spec = BotSpec(
                    f"bot{i}", name, params, exchange, symbol, timeframe, "paper_public", {}
                )
                bot = await svc.create(user.id, spec)
                await svc.allocate(user.id, bot.id, Decimal(500_000))
                await svc.act(user.id, bot.id, "start")
        events = sum(len(b) for b in batches)
        engine = Engine(rt.trading_sessions(), clock, rt.instruments, exchange=exchange)
        await engine.load()
        rt.start_wal_checkpointer()  # as `amarktai serve` does
        freeze_startup_heap()  # as `amarktai serve` does once its engine has started
        latencies: list[float] = []
        original = engine._on_candle

        async def timed(candle, runners):  # type: ignore[no-untyped-def]
            t0 = time.perf_counter()
            await original(candle, runners)
            per_bot = (time.perf_counter() - t0) / len(runners)
            latencies.extend([per_bot] * len(runners))

        engine._on_candle = timed
        profiler = cProfile.Profile() if profile else None
        inside = SqliteTime()
        t0, cpu0 = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        with inside.measuring():
            for batch in batches:
                clock.set(max(clock.now(), event_time(batch[0])))
                for event in batch:
                    await engine.handle(event)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        if profiler:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(40)
        async with rt.sessions() as s:
            fills = int((await s.execute(select(func.count(FillRow.id)))).scalar_one())
        await rt.close()
    lat = sorted(latencies)
    print(
        f"== market {label or exchange}: bots={bots} timeframe={timeframe}s market_events={events}"
    )
    print(f"engine wall time      : {elapsed:8.2f} s   (CPU, all threads: {cpu:.2f} s)")
    print(f"market events/s       : {events / elapsed:10,.0f}   (target >= 50,000)")
    print(f"decisions             : {len(lat):8d}")
    if lat:
        p50 = statistics.median(lat) * 1e3
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1e3
        print(f"decision latency      : p50 {p50:.2f} ms   p99 {p99:.2f} ms  (close / its bots)")
    print(
        f"fills committed       : {fills:8d}   -> {fills / elapsed:,.0f} fills/s "
        "(target >= 5,000; each fill = order + fill + ledger entry + postings)"
    )
    sqlite_s = inside.statements + inside.commits
    per_fill = f" = {sqlite_s / fills * 1e3:.3f} ms per fill" if fills else ""
    statements, commits = inside.statements, inside.commits
    print(
        f"inside SQLite         : {sqlite_s:8.2f} s{per_fill} (statements {statements:.2f} s,"
        f" {inside.commit_count} commits {commits:.2f} s)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--market", choices=("replay", "sim", "fills", "all"), default="all")
    parser.add_argument("--bots", type=int, default=100)
    parser.add_argument("--steps", type=int, default=3600, help="sim: seconds simulated")
    parser.add_argument("--timeframe", type=int, default=60)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the loop")
    args = parser.parse_args()
    chosen = ("replay", "sim", "fills") if args.market == "all" else (args.market,)
    sim = sim_events(args.steps) if {"sim", "fills"} & set(chosen) else None
    for name in chosen:
        scenario = replay_events() if name == "replay" else sim
        assert scenario is not None
        strategies = FILL_HEAVY if name == "fills" else STRATEGIES
        exchange, quote, symbols, batches = scenario
        asyncio.run(
            run(
                exchange,
                quote,
                symbols,
                batches,
                args.bots,
                args.timeframe,
                args.profile,
                strategies,
                label=name,
            )
        )
