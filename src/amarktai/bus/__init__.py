"""Message bus: typed real-time messages, durable per-user streams, public market data.

`build_bus` picks the backend from the settings: Redis Streams when `AMARKTAI_REDIS_URL`
is set (several processes share streams and fan-out), else the in-process ring buffer.
"""

from __future__ import annotations

from amarktai.bus.interface import Bus, Replay, Retention, StreamInfo
from amarktai.bus.memory import MemoryBus
from amarktai.config import Settings
from amarktai.kit.clock import Clock

__all__ = ["Bus", "MemoryBus", "Replay", "Retention", "StreamInfo", "build_bus"]


def build_bus(settings: Settings, clock: Clock | None = None) -> Bus:
    retention = Retention(settings.stream_max_len, settings.stream_max_age_s)
    if settings.redis_url:
        from amarktai.bus.redis_streams import RedisStreamsBus

        return RedisStreamsBus(settings.redis_url, retention, clock)
    return MemoryBus(retention, clock)
