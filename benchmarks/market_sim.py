"""Throughput of the market hot paths: sim generation, replay loading, verified book walks.

Run: .venv/bin/python benchmarks/market_sim.py
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from amarktai.execution import PaperVenue, VerifiedPaperFillModel, new_order
from amarktai.kit.clock import ManualClock
from amarktai.markets import OrderBook
from amarktai.markets.replay import load_file
from amarktai.markets.sim import SimConfig, SimMarket

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script
from benchmarks.shared_data import find_shared_data_dir

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def timed(work: Callable[[], int]) -> tuple[int, float]:
    start = time.perf_counter()
    count = work()
    return count, time.perf_counter() - start


def sim_events() -> int:
    return sum(1 for _ in SimMarket(SimConfig(seed=1), steps=20_000).events())


def replay_rows() -> int:
    data = find_shared_data_dir() / "intraday"
    names = ["UNITTEST_BTC-1m.json", "XRP_ETH-trades.json.gz", "ETH_BTC-5m.feather"]
    return sum(len(load_file(data / n)) for n in names)


BOOKS = [e for e in SimMarket(steps=2_000).events() if isinstance(e, OrderBook)]


def book_walk_fills() -> int:
    books = BOOKS
    venue = PaperVenue(VerifiedPaperFillModel(), SimMarket().instruments(), ManualClock(T0))
    fills = 0
    for i, book in enumerate(books):
        venue.on_event(book)
        qty = Decimal("0.15") if book.symbol == "BTC/ZAR" else Decimal("5")
        if book.symbol == "XRP/ZAR":
            qty = Decimal("5000")
        order = new_order(
            client_order_id=f"c{i}",
            bot_id="bench",
            symbol=book.symbol,
            side="buy" if i % 2 else "sell",
            type="market",
            qty=qty,
            created_at=T0,
        )
        fills += len(venue.submit(order).fills)
    return fills


def main() -> None:
    for label, work in (
        ("sim events", sim_events),
        ("replay rows (load+validate)", replay_rows),
        ("verified book-walk fills", book_walk_fills),
    ):
        count, seconds = timed(work)
        print(f"{label:30s} {count:>9,d} in {seconds:6.2f}s = {count / seconds:>12,.0f}/s")


if __name__ == "__main__":
    main()
