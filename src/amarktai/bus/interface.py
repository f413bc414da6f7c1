"""The bus as the rest of the platform sees it: a small Protocol with two backends.

Per-user messages are durable: each gets the next number of the user's strictly
increasing, gap-free `seq` and stays readable for the retention window (count and age).
Public market data is ephemeral: it is fanned out to whoever listens now and never
numbered, so prices cannot push a user's own events out of the retention window.
System events (ended sessions) are ephemeral too and reach every process's hub, never a
client: a hub that misses one still closes the socket at its next session check.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from amarktai.bus.messages import Envelope, Revocation

Sink = Callable[[Envelope], None]
RevocationSink = Callable[[Revocation], None]
Unsubscribe = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """`head` is the newest seq ever assigned (0: none); `oldest` the oldest still kept
    (head + 1 when nothing is kept)."""

    head: int
    oldest: int


@dataclass(frozen=True, slots=True)
class Replay:
    info: StreamInfo
    messages: list[Envelope]


@dataclass(frozen=True, slots=True)
class Retention:
    max_len: int
    max_age_s: float


class Bus(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish_user(self, user_id: str, type_: str, data: Mapping[str, Any]) -> int:
        """Append to the user's stream; returns the seq it got."""
        ...

    async def publish_public(self, type_: str, data: Mapping[str, Any]) -> None: ...

    async def info(self, user_id: str) -> StreamInfo: ...

    async def read_after(self, user_id: str, last_seq: int, limit: int) -> Replay:
        """Up to `limit` retained messages with seq > last_seq, oldest first."""
        ...

    async def subscribe_user(self, user_id: str, sink: Sink) -> Unsubscribe:
        """Live messages of one user from now on (possibly a few already-read ones too:
        consumers drop seq they have seen)."""
        ...

    async def subscribe_public(self, sink: Sink) -> Unsubscribe: ...

    async def publish_revocation(self, revocation: Revocation) -> None:
        """Tell every process's hub that a session ended (fire and forget)."""
        ...

    async def subscribe_revocations(self, sink: RevocationSink) -> Unsubscribe: ...
