"""End-to-end engine benchmark in one process, on the embedded default (SQLite):
recorded market events → 100 bots (strategy → pre-trade checks → paper fill → ledger).

Prints market events/s through the engine (wall time of `Engine.handle` over every
event, candle closes included), p50/p99 decision latency (the wall time of one candle
close, which decides for every bot on that stream, divided by its bots: an average per
bot, not a per-bot measurement), and committed fills/s (fills in the database after the
run / the same wall time; each fill = order row + fill row + ledger entry + postings +
decision trace, committed). The DCA bots all trade BTC/ZAR, so one stream in three
carries the fills. Not a test: run it by hand.

    .venv/bin/python benchmarks/engine.py [--bots 100] [--steps 3600] [--timeframe 60]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from amarktai.accounts.passwords import Passwords
from amarktai.bootstrap import accounts
from amarktai.config import Settings
from amarktai.db.engine import transaction
from amarktai.db.migrate import upgrade
from amarktai.engine.models import FillRow
from amarktai.engine.runner import Engine
from amarktai.engine.service import BotService, BotSpec
from amarktai.kit.clock import ManualClock
from amarktai.ledger import journal
from amarktai.ledger.service import LedgerService
from amarktai.markets.sim import SimConfig, SimMarket
from amarktai.runtime import build_runtime

STRATEGIES = (
    ("dca", {"quote_amount": 200.0, "every_bars": 1}),
    ("sma_cross", {"fast": 3, "slow": 8}),
    ("rsi_reversion", {"period": 5, "oversold": 45.0, "exit": 55.0}),
)
SYMBOLS = ("BTC/ZAR", "ETH/ZAR", "XRP/ZAR")


async def main(bots: int, steps: int, timeframe: int, profile: bool = False) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), env="test")
        clock = ManualClock()
        rt = build_runtime(settings, clock=clock, passwords=Passwords(1, 1024))
        await upgrade(rt.engine)
        async with transaction(rt.sessions) as s:
            user = await accounts(rt, s).register("bench@example.com", "benchmark password")
            await LedgerService(s, clock).post(
                journal.deposit(user.id, "ZAR", Decimal(100_000_000))
            )
            svc = BotService(s, clock, rt.instruments)
            for i in range(bots):
                name, params = STRATEGIES[i % len(STRATEGIES)]
                spec = BotSpec(
                    f"bot{i}", name, params, "sim", SYMBOLS[i % 3], timeframe, "paper_public", {}
                )
                bot = await svc.create(user.id, spec)
                await svc.allocate(user.id, bot.id, Decimal(500_000))
                await svc.act(user.id, bot.id, "start")
        market = SimMarket(SimConfig(seed=3), start=clock.now())
        batches = [b for _, b in zip(range(steps), market.steps(), strict=False)]
        events = sum(len(b) for b in batches)
        engine = Engine(rt.sessions, clock, rt.instruments)
        await engine.load()
        latencies: list[float] = []
        original = engine._on_candle

        async def timed(candle, runners):  # type: ignore[no-untyped-def]
            t0 = time.perf_counter()
            await original(candle, runners)
            per_bot = (time.perf_counter() - t0) / len(runners)
            latencies.extend([per_bot] * len(runners))

        engine._on_candle = timed  # type: ignore[method-assign]
        profiler = cProfile.Profile() if profile else None
        t0, cpu0 = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        for batch in batches:
            clock.set(max(clock.now(), batch[0].ts))
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
    print(f"bots={bots} steps={steps} timeframe={timeframe}s market_events={events}")
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


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bots", type=int, default=100)
    parser.add_argument("--steps", type=int, default=3600)
    parser.add_argument("--timeframe", type=int, default=60)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the loop")
    args = parser.parse_args()
    asyncio.run(main(args.bots, args.steps, args.timeframe, args.profile))
