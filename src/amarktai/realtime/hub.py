"""The WebSocket hub: one per process, between the bus and the connected clients.

Delivery guarantee, per connection, for the user's durable messages: every seq after the
client's `last_seq` exactly once and in order, or an explicit `resume` with `gap: true`
when the retention window has moved past it. How:

1. catch-up: the connection reads the stream after `last_seq` page by page (live
   messages are ignored meanwhile, nothing is queued);
2. it switches to live, then reads the stream once more, closing the window between the
   last page and the switch;
3. live: messages at or below the connection's cursor are dropped (duplicates from the
   overlap); a message above cursor + 1 first back-fills the missing seq from the stream.

So ordering and completeness never depend on the live feed being perfect, only on the
stream; the feed is just the low-latency path.

Backpressure: every connection has a bounded queue. The bus callback only does
`put_nowait`, so a slow client never blocks the publisher or the other clients; when the
queue is full the connection is closed with 4008 and the client resumes from its
`last_seq`. Public market data is ephemeral and never worth a disconnect: it is dropped
for a connection whose queue is half full.

Sessions: a connection belongs to one login session and lives no longer than it. A
logout, a revoked session, a reused refresh token or a deactivated account reaches every
process's hub over the bus (`Revocation`); the hub ends the matching connections at once
(4403, with the reason), and their queued private messages are never sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import structlog

from amarktai.bus.interface import Bus, Unsubscribe
from amarktai.bus.messages import Envelope, Revocation, control
from amarktai.kit.clock import Clock, SystemClock

log = structlog.get_logger("amarktai.realtime")

CLOSE_TOO_BIG = 1009
CLOSE_SLOW_CONSUMER = 4008
CLOSE_UNAUTHORIZED = 4401
CLOSE_REVOKED = 4403
CLOSE_PROTOCOL = 4400
CLOSE_SEQ_AHEAD = 4409
PAGE = 500

#: Close reasons of an ended session, by the reason the accounts service stores on it.
REVOKE_REASONS = {
    "logout": "logged out",
    "revoked": "session revoked",
    "revoked_all": "signed out everywhere",
    "deactivated": "account deactivated",
    "refresh_token_reuse": "refresh token reused",
}


def revoke_reason(code: str | None) -> str:
    """The close reason a client reads for a session ended with `code`."""
    return REVOKE_REASONS.get(code or "", "session revoked")


class Socket(Protocol):
    async def send_text(self, data: str) -> None: ...


@dataclass(frozen=True)
class Filter:
    """A connection's subscription; None means "everything" for that dimension. Messages
    without a bot or symbol (alerts, heartbeats) are never filtered by it."""

    bots: frozenset[str] | None = None
    symbols: frozenset[str] | None = None
    types: frozenset[str] | None = None

    def wants(self, env: Envelope) -> bool:
        if self.types is not None and env.type not in self.types:
            return False
        if self.bots is not None and env.bot_id is not None and env.bot_id not in self.bots:
            return False
        return not (
            self.symbols is not None and env.symbol is not None and env.symbol not in self.symbols
        )

    def describe(self) -> dict[str, list[str] | None]:
        def out(values: frozenset[str] | None) -> list[str] | None:
            return None if values is None else sorted(values)

        return {"bots": out(self.bots), "symbols": out(self.symbols), "types": out(self.types)}


@dataclass(eq=False)
class Connection:
    """`session_id` and `expires_at` come from the access token the socket authenticated
    with (None: not tied to a session, as in tests of the hub alone)."""

    user_id: str
    queue_size: int
    filter: Filter = field(default_factory=Filter)
    session_id: str | None = None
    expires_at: datetime | None = None
    cursor: int = 0
    live: bool = False
    last_send: float = field(default_factory=time.monotonic)
    queue: asyncio.Queue[Envelope] = field(init=False)
    overflowed: asyncio.Event = field(default_factory=asyncio.Event)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    end_code: int = 1000
    end_reason: str = ""

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(self.queue_size)

    def end(self, code: int, reason: str) -> None:
        """Close this connection with `code` (the first call wins): nothing more is
        queued for it, and its serving loop closes the socket (see `wait_ended`)."""
        if self.ended.is_set():
            return
        self.end_code, self.end_reason = code, reason
        self.ended.set()

    def offer(self, env: Envelope) -> None:
        """Called from the bus callback: never blocks; a full queue marks overflow."""
        if not self.live or self.overflowed.is_set() or self.ended.is_set():
            return
        try:
            self.queue.put_nowait(env)
        except asyncio.QueueFull:
            self.overflowed.set()

    def reply(self, env: Envelope) -> None:
        """A control reply (pong, error, subscribed): queued even during catch-up."""
        try:
            self.queue.put_nowait(env)
        except asyncio.QueueFull:
            self.overflowed.set()

    def offer_public(self, env: Envelope) -> None:
        if self.live and self.queue.qsize() * 2 < self.queue_size and self.filter.wants(env):
            self.offer(env)


@dataclass
class HubStats:
    connections: int = 0
    overflows: int = 0
    delivered: int = 0
    revoked: int = 0


def deepest_queue(hub: Hub) -> int:
    """The fullest connection queue (messages waiting): how far the slowest client lags."""
    return max((conn.queue.qsize() for conn in hub._all), default=0)


class SeqAhead(Exception):
    def __init__(self, head: int) -> None:
        super().__init__(f"last_seq is ahead of the stream (head is {head})")
        self.head = head


class Hub:
    def __init__(
        self,
        bus: Bus,
        *,
        queue_size: int,
        heartbeat_s: float,
        clock: Clock | None = None,
    ) -> None:
        self.bus = bus
        self.queue_size = queue_size
        self.heartbeat_s = heartbeat_s
        self.clock = clock or SystemClock()
        self.stats = HubStats()
        self._users: dict[str, set[Connection]] = {}
        self._unsubscribe: dict[str, Unsubscribe] = {}
        self._all: set[Connection] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._started = False
        self._lock = asyncio.Lock()
        self._stop_revocations: Unsubscribe | None = None

    # -- lifecycle ----------------------------------------------------------------------
    async def ensure_started(self) -> None:
        """Idempotent: the first WebSocket starts the bus readers and heartbeats."""
        async with self._lock:
            if self._started:
                return
            await self.bus.start()
            self._unsubscribe[""] = await self.bus.subscribe_public(self._fan_public)
            self._stop_revocations = await self.bus.subscribe_revocations(self.revoke)
            self._tasks.append(asyncio.create_task(self._heartbeats(), name="ws-heartbeats"))
            self._started = True

    async def close(self) -> None:
        if self._stop_revocations is not None:
            await self._stop_revocations()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self.bus.close()
        self._stop_revocations = None
        self._started = False

    # -- membership ---------------------------------------------------------------------
    def connection(
        self,
        user_id: str,
        flt: Filter,
        *,
        session_id: str | None = None,
        expires_at: datetime | None = None,
    ) -> Connection:
        return Connection(user_id, self.queue_size, flt, session_id, expires_at)

    async def attach(self, conn: Connection) -> None:
        conns = self._users.get(conn.user_id)
        if conns is None:
            conns = self._users[conn.user_id] = set()
            conns.add(conn)
            sink = functools.partial(self._fan_user, conn.user_id)
            self._unsubscribe[conn.user_id] = await self.bus.subscribe_user(conn.user_id, sink)
        conns.add(conn)
        self._all.add(conn)
        self.stats.connections = len(self._all)

    async def detach(self, conn: Connection) -> None:
        self._all.discard(conn)
        self.stats.connections = len(self._all)
        conns = self._users.get(conn.user_id)
        if conns is None:
            return
        conns.discard(conn)
        if not conns:
            self._users.pop(conn.user_id, None)
            unsubscribe = self._unsubscribe.pop(conn.user_id, None)
            if unsubscribe is not None:
                await unsubscribe()

    def _fan_user(self, user_id: str, env: Envelope) -> None:
        for conn in self._users.get(user_id, ()):
            conn.offer(env)

    def revoke(self, revocation: Revocation) -> None:
        """A session ended (here or in another process): end its connections in this
        process, every one of the user's when `session_id` is None (the bus callback:
        never blocks)."""
        reason = revoke_reason(revocation.reason)
        count = 0
        for conn in list(self._users.get(revocation.user_id, ())):
            if revocation.session_id is None or conn.session_id == revocation.session_id:
                conn.end(CLOSE_REVOKED, reason)
                count += 1
        if count:
            self.stats.revoked += count
            log.info("ws_session_revoked", user_id=revocation.user_id, closed=count,
                     session_id=revocation.session_id, reason=revocation.reason)  # fmt: skip

    def _fan_public(self, env: Envelope) -> None:
        for conn in self._all:
            conn.offer_public(env)

    async def _heartbeats(self) -> None:
        """One task for all connections: idle ones get a heartbeat every `heartbeat_s`."""
        while True:
            await asyncio.sleep(self.heartbeat_s)
            idle_since = time.monotonic() - self.heartbeat_s
            beat = control("heartbeat", {"interval_s": self.heartbeat_s}, self.clock.now())
            for conn in list(self._all):
                if conn.last_send <= idle_since:
                    conn.offer(beat)

    # -- one connection's delivery ------------------------------------------------------
    async def catch_up(self, conn: Connection, socket: Socket, last_seq: int | None) -> None:
        """Send `resume` and everything after `last_seq`, then go live (see module doc)."""
        info = await self.bus.info(conn.user_id)
        if last_seq is not None and last_seq > info.head:
            raise SeqAhead(info.head)
        gap = last_seq is not None and last_seq < info.oldest - 1
        conn.cursor = info.head if last_seq is None else max(last_seq, info.oldest - 1)
        await self._send_resume(conn, socket, gap, last_seq, info.head)
        await self._backfill(conn, socket, None)
        conn.live = True
        await self._backfill(conn, socket, None)

    async def _send_resume(
        self, conn: Connection, socket: Socket, gap: bool, last_seq: int | None, head: int
    ) -> None:
        data = {"gap": gap, "last_seq": last_seq, "from_seq": conn.cursor + 1, "head_seq": head,
                "expires_at": conn.expires_at}  # fmt: skip
        await self._send(conn, socket, control("resume", data, self.clock.now()))

    async def _backfill(self, conn: Connection, socket: Socket, upto: int | None) -> None:
        """Read the stream after the cursor (up to `upto`, else to its end) and send it."""
        while upto is None or conn.cursor < upto:
            replay = await self.bus.read_after(conn.user_id, conn.cursor, PAGE)
            batch = [m for m in replay.messages if upto is None or (m.seq or 0) <= upto]
            if not batch:
                return
            first = batch[0].seq or 0
            if first > conn.cursor + 1:  # trimmed while we were behind: say so
                conn.cursor = first - 1
                await self._send_resume(conn, socket, True, conn.cursor, replay.info.head)
            for env in batch:
                await self._deliver(conn, socket, env)

    async def pump(self, conn: Connection, socket: Socket) -> None:
        """The live loop: dedupe by seq, back-fill holes, send in order."""
        while True:
            env = await conn.queue.get()
            if env.seq is None:
                await self._send(conn, socket, env)
            elif env.seq > conn.cursor:
                if env.seq > conn.cursor + 1:
                    await self._backfill(conn, socket, env.seq - 1)
                if env.seq > conn.cursor:
                    await self._deliver(conn, socket, env)

    async def _deliver(self, conn: Connection, socket: Socket, env: Envelope) -> None:
        conn.cursor = env.seq or conn.cursor
        if conn.filter.wants(env):
            await self._send(conn, socket, env)

    async def _send(self, conn: Connection, socket: Socket, env: Envelope) -> None:
        await socket.send_text(env.text)
        conn.last_send = time.monotonic()
        self.stats.delivered += 1

    async def wait_ended(self, conn: Connection) -> None:
        await conn.ended.wait()

    async def wait_overflow(self, conn: Connection) -> None:
        await conn.overflowed.wait()
        self.stats.overflows += 1
        log.info("ws_slow_consumer", user_id=conn.user_id, queue_size=conn.queue_size)


async def cancel_quietly(*tasks: asyncio.Task[None]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
