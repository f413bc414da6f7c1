"""Emergency-stop benchmark on the embedded default (SQLite): N running bots, each with a
resting limit order and an open position, stopped in one action (optionally flattened).

Prints the time of the stop itself (one transaction: cancel every order in the venue and
the database, halt every bot, record the event, commit; with ``--flatten`` also sell every
position at market, booked by one batched ``LedgerService.post_fills``), the target being
< 1 s for 100 bots. Not a test: run it by hand.

    .venv/bin/python benchmarks/emergency_stop.py [--bots 100] [--flatten] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from amarktai.accounts.passwords import Passwords
from amarktai.config import Settings
from amarktai.db.engine import transaction
from amarktai.db.migrate import upgrade
from amarktai.engine.recorder import Recorder
from amarktai.engine.runner import Engine
from amarktai.engine.service import BotService, BotSpec
from amarktai.execution.orders import new_order
from amarktai.kit.clock import ManualClock
from amarktai.ledger import journal
from amarktai.ledger.service import LedgerService
from amarktai.markets.sim import SimConfig, SimMarket
from amarktai.risk.emergency import emergency_stop
from amarktai.risk.service import Level, RiskService
from amarktai.runtime import Runtime, build_runtime


async def setup(rt: Runtime, clock: ManualClock, engine: Engine, bots: int) -> str:
    """A user with `bots` running bots, each holding BTC and a resting limit buy."""
    steps = SimMarket(SimConfig(seed=3), start=clock.now()).steps()
    while "BTC/ZAR" not in engine.last_prices:
        for event in next(steps):
            clock.set(max(clock.now(), event.ts))
            await engine.handle(event)
    price = engine.last_prices["BTC/ZAR"]
    async with transaction(rt.sessions) as s:
        user = await rt.accounts(s).register(f"stop{time.time_ns()}@example.com", "benchmark pw")
        ledger = LedgerService(s, clock)
        await ledger.post(journal.deposit(user.id, "ZAR", Decimal(10_000_000)))
        svc, recorder = BotService(s, clock, rt.instruments), Recorder(s, ledger)
        for i in range(bots):
            spec = BotSpec(f"b{i}", "dca", {"quote_amount": 100.0, "every_bars": 1}, "sim",
                           "BTC/ZAR", 3600, "paper_public", {})  # fmt: skip
            bot = await svc.create(user.id, spec)
            await svc.allocate(user.id, bot.id, Decimal(50_000))
            bot.status = "running"
            for side, limit in (("buy", None), ("buy", (price / 2).quantize(Decimal(1)))):
                order = new_order(
                    client_order_id=f"{side}{limit}",
                    bot_id=bot.id,
                    symbol="BTC/ZAR",
                    side=side,
                    type="limit" if limit else "market",
                    qty=Decimal("0.001"),
                    limit_price=limit,
                    created_at=clock.now(),
                )
                execution = engine.venues["paper_public"].submit(order)
                await recorder.save_order(execution.order, user.id, clock.now())
                for fill in execution.fills:
                    await recorder.save_fill(
                        fill, user.id, bot.id, engine.registry.get("sim", "BTC/ZAR")
                    )
    await engine.load()
    return str(user.id)


async def one_round(bots: int, flatten: bool) -> tuple[float, int, int]:
    with tempfile.TemporaryDirectory() as tmp:
        clock = ManualClock()
        rt = build_runtime(Settings(data_dir=Path(tmp), env="test"), clock=clock,
                           passwords=Passwords(1, 1024))  # fmt: skip
        await upgrade(rt.engine)
        engine = Engine(rt.sessions, clock, rt.instruments)
        user_id = await setup(rt, clock, engine, bots)
        started = time.perf_counter()
        async with transaction(rt.sessions) as s:
            report = await emergency_stop(
                RiskService(s, clock), Level.of_user(user_id), engine=engine,
                registry=rt.instruments, flatten=flatten, by="benchmark",
            )  # fmt: skip
        elapsed = time.perf_counter() - started
        await rt.close()
        return elapsed, len(report.bots_halted), len(report.orders_cancelled)


async def main(bots: int, flatten: bool, rounds: int) -> None:
    times = []
    for _ in range(rounds):
        elapsed, halted, cancelled = await one_round(bots, flatten)
        times.append(elapsed)
    print(f"emergency stop, SQLite, {bots} bots, flatten={flatten}: {halted} halted, "
          f"{cancelled} orders cancelled")  # fmt: skip
    print(f"  median {statistics.median(times) * 1000:.1f} ms, worst {max(times) * 1000:.1f} ms "
          f"over {rounds} rounds (target < 1000 ms), including the commit; "
          f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bots", type=int, default=100)
    parser.add_argument("--flatten", action="store_true")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.bots, args.flatten, args.rounds))
