"""Every real-time test runs on both bus backends: in-process and Redis Streams."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from tests.realtime.support import claim_redis_db, flush_redis


@pytest.fixture(params=["memory", "redis"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[dict[str, Any]]:
    """Settings overrides selecting the bus; the Redis one gets a database of its own."""
    if request.param == "memory":
        yield {}
        return
    url = await claim_redis_db()
    await flush_redis(url)
    yield {"redis_url": url}
    await flush_redis(url)


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    url = await claim_redis_db()
    await flush_redis(url)
    yield url
    await flush_redis(url)
