"""Bus tests run on both backends; the Redis one gets a database of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from tests.realtime.support import claim_redis_db, flush_redis

from amarktai.bus.interface import Bus, Retention
from amarktai.bus.memory import MemoryBus
from amarktai.bus.redis_streams import RedisStreamsBus

BusFactory = Callable[[Retention], Bus]


@pytest.fixture(params=["memory", "redis"])
async def make_bus(request: pytest.FixtureRequest) -> AsyncIterator[BusFactory]:
    """Builds started buses; Redis ones share one database like separate processes."""
    made: list[Bus] = []
    url = None
    if request.param == "redis":
        url = await claim_redis_db()
        await flush_redis(url)
    shared: dict[str, MemoryBus] = {}

    def factory(retention: Retention) -> Bus:
        if url is None:
            bus: Bus = shared.setdefault("bus", MemoryBus(retention))
        else:
            bus = RedisStreamsBus(url, retention, block_ms=50)
        made.append(bus)
        return bus

    yield factory
    for bus in made:
        await bus.close()
    if url is not None:
        await flush_redis(url)
