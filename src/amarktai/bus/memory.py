"""In-process bus: the embedded default when no Redis is configured.

Each user has a ring buffer (bounded by count, trimmed by age) and a seq counter; a
publish appends and calls the live sinks synchronously, so delivery order is publish
order. Durable only for the life of the process: after a restart every stream starts
empty at seq 0 and a client that remembers a higher seq gets `last_seq_ahead`.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping
from itertools import islice
from typing import Any

import structlog

from amarktai.bus.interface import (
    Replay,
    Retention,
    RevocationSink,
    Sink,
    StreamInfo,
    Unsubscribe,
)
from amarktai.bus.messages import Envelope, Revocation, make_body
from amarktai.kit.clock import Clock, SystemClock

log = structlog.get_logger("amarktai.bus")


class _Stream:
    __slots__ = ("entries", "head")

    def __init__(self, max_len: int) -> None:
        self.head = 0
        self.entries: deque[tuple[float, Envelope]] = deque(maxlen=max_len)

    def trim(self, cutoff: float) -> None:
        while self.entries and self.entries[0][0] < cutoff:
            self.entries.popleft()

    @property
    def oldest(self) -> int:
        first = self.entries[0][1].seq if self.entries else None
        return self.head + 1 if first is None else first


def deliver(sinks: list[Sink], envelope: Envelope) -> None:
    """Call every sink; one failing consumer must not stop the others."""
    for sink in sinks:
        try:
            sink(envelope)
        except Exception:
            log.exception("bus_sink_failed", type=envelope.type)


class MemoryBus:
    def __init__(self, retention: Retention, clock: Clock | None = None) -> None:
        self.retention = retention
        self.clock = clock or SystemClock()
        self._streams: dict[str, _Stream] = {}
        self._sinks: dict[str, list[Sink]] = {}
        self._public: list[Sink] = []
        self._revocations: list[RevocationSink] = []

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._sinks.clear()
        self._public.clear()
        self._revocations.clear()

    def _stream(self, user_id: str) -> _Stream:
        stream = self._streams.get(user_id)
        if stream is None:
            stream = self._streams[user_id] = _Stream(self.retention.max_len)
        stream.trim(time.monotonic() - self.retention.max_age_s)
        return stream

    async def publish_user(self, user_id: str, type_: str, data: Mapping[str, Any]) -> int:
        body = make_body(type_, dict(data), self.clock.now())
        stream = self._stream(user_id)
        stream.head += 1
        envelope = body.render(stream.head)
        stream.entries.append((time.monotonic(), envelope))
        deliver(list(self._sinks.get(user_id, ())), envelope)
        return stream.head

    async def publish_public(self, type_: str, data: Mapping[str, Any]) -> None:
        envelope = make_body(type_, dict(data), self.clock.now()).render(None)
        deliver(list(self._public), envelope)

    async def info(self, user_id: str) -> StreamInfo:
        stream = self._stream(user_id)
        return StreamInfo(stream.head, stream.oldest)

    async def read_after(self, user_id: str, last_seq: int, limit: int) -> Replay:
        stream = self._stream(user_id)
        info = StreamInfo(stream.head, stream.oldest)
        start = max(last_seq + 1 - info.oldest, 0)
        picked = islice(stream.entries, start, start + max(limit, 0))
        return Replay(info, [envelope for _, envelope in picked])

    async def subscribe_user(self, user_id: str, sink: Sink) -> Unsubscribe:
        self._sinks.setdefault(user_id, []).append(sink)

        async def unsubscribe() -> None:
            sinks = self._sinks.get(user_id, [])
            if sink in sinks:
                sinks.remove(sink)
            if not sinks:
                self._sinks.pop(user_id, None)

        return unsubscribe

    async def subscribe_public(self, sink: Sink) -> Unsubscribe:
        self._public.append(sink)

        async def unsubscribe() -> None:
            if sink in self._public:
                self._public.remove(sink)

        return unsubscribe

    async def publish_revocation(self, revocation: Revocation) -> None:
        """In-process only: another process (the CLI) cannot reach this one's hub; the
        hub's periodic session check covers that case."""
        for sink in list(self._revocations):
            try:
                sink(revocation)
            except Exception:
                log.exception("bus_revocation_sink_failed")

    async def subscribe_revocations(self, sink: RevocationSink) -> Unsubscribe:
        self._revocations.append(sink)

        async def unsubscribe() -> None:
            if sink in self._revocations:
                self._revocations.remove(sink)

        return unsubscribe
