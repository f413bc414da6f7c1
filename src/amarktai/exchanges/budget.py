"""A per-venue request budget (token bucket) shared by every bot and request on a venue.

Venues publish request limits per key or per IP and ban clients that exceed them; one
bucket per (venue, key) in a process keeps the sum of every bot's calls under the limit,
waiting instead of failing. `capacity` is the burst; `rate` the sustained calls/s, set
at or below the venue's published figure.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass
class RequestBudget:
    rate: float  # tokens per second
    capacity: float
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    _tokens: float = field(init=False)
    _stamp: float = field(init=False)
    _lock: asyncio.Lock = field(init=False, default_factory=asyncio.Lock)
    used: int = field(init=False, default=0)
    waited_s: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.capacity < 1:
            raise ValueError("a request budget needs rate > 0 and capacity >= 1")
        self._tokens = self.capacity
        self._stamp = self.monotonic()

    def _refill(self) -> None:
        now = self.monotonic()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    async def acquire(self, cost: float = 1.0) -> float:
        """Wait until `cost` tokens are free and take them; returns the seconds waited.
        Callers queue in order (one lock), so a heavy caller cannot starve the others."""
        if cost > self.capacity:
            raise ValueError(f"cost {cost} exceeds the budget's capacity {self.capacity}")
        waited = 0.0
        async with self._lock:
            self._refill()
            # the tolerance: refilling by elapsed time can land a hair short of `cost` in
            # floating point, and a sleep of 1e-12 s never moves a large clock on
            while self._tokens < cost - 1e-9:
                delay = (cost - self._tokens) / self.rate
                await self.sleep(delay)
                waited += delay
                self._refill()
            self._tokens = max(0.0, self._tokens - cost)
            self.used += 1
            self.waited_s += waited
        return waited

    def available(self) -> float:
        self._refill()
        return self._tokens


_BUDGETS: dict[tuple[str, str], RequestBudget] = {}


def shared_budget(venue: str, key_id: str, rate: float, capacity: float) -> RequestBudget:
    """The one bucket of this process for (venue, key or 'public'): every client built
    for the same venue and key draws from it."""
    found = _BUDGETS.get((venue, key_id))
    if found is None:
        found = _BUDGETS[(venue, key_id)] = RequestBudget(rate=rate, capacity=capacity)
    return found
