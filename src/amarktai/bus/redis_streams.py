"""Redis Streams bus: durable per-user streams shared by every API and engine process.

Layout (the hash tag keeps a user's two keys in one cluster slot):

* `{prefix}:u:{<user>}:n` — the user's seq counter (INCR; never expires, so a seq is never
  reused even after the stream itself was trimmed away),
* `{prefix}:u:{<user>}:s` — the stream; entry fields `s` seq, `t` type, `b` bot id,
  `y` symbol, `m` the message JSON without its seq.

One Lua script does INCR + XADD (MAXLEN ~) + XTRIM (MINID ~ by age) atomically, so stream
order is seq order and seq is gap-free across processes. Because a stream only loses
entries at its head, it always holds one contiguous run of seq, which lets a second
script find "seq > last_seq" by counting from either end.

Each process runs one reader: XREAD BLOCK over the streams of the users that have a
connection here, from the id that was newest when the first connection subscribed.
Public market data goes over Redis pub/sub (ephemeral, unnumbered), and so do ended
sessions (`{prefix}:system`), on the same subscriber connection: every API process hears a
logout made in any other and closes its sockets of that session.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

import structlog
from redis.asyncio import Redis

from amarktai.bus.interface import (
    Replay,
    Retention,
    RevocationSink,
    Sink,
    StreamInfo,
    Unsubscribe,
)
from amarktai.bus.memory import deliver
from amarktai.bus.messages import Envelope, Revocation, make_body, with_seq
from amarktai.kit.clock import Clock, SystemClock

log = structlog.get_logger("amarktai.bus")

PUBLISH_LUA = """
local seq = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*',
  's', seq, 't', ARGV[3], 'b', ARGV[4], 'y', ARGV[5], 'm', ARGV[6])
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('XTRIM', KEYS[1], 'MINID', '~', now_ms - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return seq
"""

READ_LUA = """
local head = tonumber(redis.call('GET', KEYS[2]) or '0')
local oldest = head + 1
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
if #first > 0 then oldest = tonumber(first[1][2][2]) end
local from = math.max(tonumber(ARGV[1]) + 1, oldest)
local limit = tonumber(ARGV[2])
if from > head or limit <= 0 then return {head, oldest, {}} end
local start
if from - oldest < head - from then
  local fwd = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', from - oldest + 1)
  start = fwd[#fwd][1]
else
  local rev = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', head - from + 1)
  start = rev[#rev][1]
end
return {head, oldest, redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', limit)}
"""

PUBLIC_SEP = "\n"  # JSON never contains a raw newline, so it safely separates fields


def _envelope(fields: Mapping[str, str]) -> Envelope:
    seq = int(fields["s"])
    return Envelope(
        seq, fields["t"], with_seq(fields["m"], seq), fields["b"] or None, fields["y"] or None
    )


def _flat(pairs: list[str]) -> dict[str, str]:
    return dict(zip(pairs[::2], pairs[1::2], strict=True))


class RedisStreamsBus:
    def __init__(
        self,
        url: str,
        retention: Retention,
        clock: Clock | None = None,
        *,
        prefix: str = "amarktai",
        block_ms: int = 200,
    ) -> None:
        self.retention = retention
        self.clock = clock or SystemClock()
        self.prefix = prefix
        self.block_ms = block_ms
        self._redis: Redis = Redis.from_url(url, decode_responses=True)
        self._reader_redis: Redis = Redis.from_url(url, decode_responses=True)
        self._publish = self._redis.register_script(PUBLISH_LUA)
        self._read = self._redis.register_script(READ_LUA)
        self._cursors: dict[str, str] = {}
        self._users: dict[str, str] = {}  # stream key → user id
        self._sinks: dict[str, list[Sink]] = {}
        self._public: list[Sink] = []
        self._revocations: list[RevocationSink] = []
        self._wake = asyncio.Event()
        self._listening = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    # -- keys ---------------------------------------------------------------------------
    def _keys(self, user_id: str) -> list[str]:
        base = f"{self.prefix}:u:{{{user_id}}}"
        return [f"{base}:s", f"{base}:n"]

    @property
    def public_channel(self) -> str:
        return f"{self.prefix}:public"

    @property
    def system_channel(self) -> str:
        return f"{self.prefix}:system"

    # -- lifecycle ----------------------------------------------------------------------
    async def start(self) -> None:
        await self._redis.ping()
        self._tasks = [
            asyncio.create_task(self._read_streams(), name="bus-streams"),
            asyncio.create_task(self._read_public(), name="bus-public"),
        ]
        # A logout right after the first socket connected must not be missed because the
        # subscription was still on its way: wait (briefly) until it stands.
        try:
            await asyncio.wait_for(self._listening.wait(), 5.0)
        except TimeoutError:
            log.warning("bus_pubsub_not_ready")

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self._redis.aclose()
        await self._reader_redis.aclose()

    # -- writing ------------------------------------------------------------------------
    async def publish_user(self, user_id: str, type_: str, data: Mapping[str, Any]) -> int:
        body = make_body(type_, dict(data), self.clock.now())
        max_age_ms = max(int(self.retention.max_age_s * 1000), 1)
        args: list[str | int] = [self.retention.max_len, max_age_ms, body.type,
                                 body.bot_id or "", body.symbol or "", body.json]  # fmt: skip
        seq = await self._publish(keys=self._keys(user_id), args=args)
        return int(seq)

    async def publish_public(self, type_: str, data: Mapping[str, Any]) -> None:
        body = make_body(type_, dict(data), self.clock.now())
        parts = (body.type, body.bot_id or "", body.symbol or "", body.json)
        await self._redis.publish(self.public_channel, PUBLIC_SEP.join(parts))

    async def publish_revocation(self, revocation: Revocation) -> None:
        await self._redis.publish(self.system_channel, revocation.to_json())

    # -- reading history ----------------------------------------------------------------
    async def info(self, user_id: str) -> StreamInfo:
        return (await self.read_after(user_id, 0, 0)).info

    async def read_after(self, user_id: str, last_seq: int, limit: int) -> Replay:
        head, oldest, entries = await self._read(keys=self._keys(user_id), args=[last_seq, limit])
        messages = [_envelope(_flat(pairs)) for _, pairs in entries]
        return Replay(StreamInfo(int(head), int(oldest)), messages)

    # -- live ---------------------------------------------------------------------------
    async def subscribe_user(self, user_id: str, sink: Sink) -> Unsubscribe:
        stream_key = self._keys(user_id)[0]
        if stream_key not in self._cursors:
            newest = await self._redis.xrevrange(stream_key, "+", "-", count=1)
            self._cursors.setdefault(stream_key, str(newest[0][0]) if newest else "0-0")
            self._users[stream_key] = user_id
            self._wake.set()
        self._sinks.setdefault(user_id, []).append(sink)

        async def unsubscribe() -> None:
            sinks = self._sinks.get(user_id, [])
            if sink in sinks:
                sinks.remove(sink)
            if not sinks:
                self._sinks.pop(user_id, None)
                self._cursors.pop(stream_key, None)
                self._users.pop(stream_key, None)

        return unsubscribe

    async def subscribe_public(self, sink: Sink) -> Unsubscribe:
        self._public.append(sink)

        async def unsubscribe() -> None:
            if sink in self._public:
                self._public.remove(sink)

        return unsubscribe

    async def subscribe_revocations(self, sink: RevocationSink) -> Unsubscribe:
        self._revocations.append(sink)

        async def unsubscribe() -> None:
            if sink in self._revocations:
                self._revocations.remove(sink)

        return unsubscribe

    async def _read_streams(self) -> None:
        """The process's single stream reader; survives Redis outages (cursors persist)."""
        while True:
            if not self._cursors:
                self._wake.clear()
                await self._wake.wait()
                continue
            try:
                streams: dict[Any, Any] = dict(self._cursors)
                batch: Any = await self._reader_redis.xread(
                    streams, count=1000, block=self.block_ms
                )
            except (asyncio.CancelledError, KeyboardInterrupt):
                raise
            except Exception:
                log.exception("bus_stream_read_failed")
                await asyncio.sleep(1.0)
                continue
            for stream_key, entries in batch or ():
                self._dispatch(stream_key, entries)

    def _dispatch(self, stream_key: str, entries: list[tuple[str, dict[str, str]]]) -> None:
        user_id = self._users.get(stream_key)
        if user_id is None or stream_key not in self._cursors:
            return  # the last local connection left while we were reading
        self._cursors[stream_key] = entries[-1][0]
        sinks = list(self._sinks.get(user_id, ()))
        for _, fields in entries:
            deliver(sinks, _envelope(fields))

    async def _read_public(self) -> None:
        while True:
            try:
                await self._listen_public()
            except (asyncio.CancelledError, KeyboardInterrupt):
                raise
            except Exception:
                log.exception("bus_public_read_failed")
                await asyncio.sleep(1.0)

    async def _listen_public(self) -> None:
        pubsub = self._reader_redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self.public_channel, self.system_channel)
            self._listening.set()
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                if message.get("channel") == self.system_channel:
                    self._dispatch_system(str(message["data"]))
                else:
                    self._dispatch_public(str(message["data"]))
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    def _dispatch_public(self, raw: str) -> None:
        type_, bot_id, symbol, body = raw.split(PUBLIC_SEP, 3)
        envelope = Envelope(None, type_, with_seq(body, None), bot_id or None, symbol or None)
        deliver(list(self._public), envelope)

    def _dispatch_system(self, raw: str) -> None:
        try:
            revocation = Revocation.from_json(raw)
        except (ValueError, KeyError, TypeError):
            log.warning("bus_bad_system_message", raw=raw[:200])
            return
        for sink in list(self._revocations):
            try:
                sink(revocation)
            except Exception:
                log.exception("bus_revocation_sink_failed")
