"""Chaos: a client consuming a steady stream while its connection is cut at random
moments (and, on Redis, one of two API processes is killed and restarted). Whatever
happens, the client must end with every seq exactly once, in order.

Each test is bounded: a few seconds of traffic, a hard deadline on the catch-up. (The
Redis one also waits for `amarktai serve` to start, twice; that is most of its time.)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from tests.realtime.support import Live, free_port, live_server
from websockets.exceptions import ConnectionClosed, InvalidStatus

from amarktai.bus.interface import Bus, Retention
from amarktai.bus.redis_streams import RedisStreamsBus

TRAFFIC_S = 6.0
RATE_HZ = 250


class Consumer:
    """Reconnects forever with the last seq it saw; records every durable seq."""

    def __init__(self, token: str, pick: Callable[[], Live]) -> None:
        self.token = token
        self.pick = pick
        self.seen: list[int] = []
        self.gaps = 0
        self.connections = 0
        self.current: Any = None

    async def run(self) -> None:
        while True:
            try:
                await self._session()
            except (ConnectionClosed, OSError, InvalidStatus, TimeoutError):
                await asyncio.sleep(0.02)

    async def _session(self) -> None:
        last = self.seen[-1] if self.seen else 0
        async with self.pick().connect(self.token, last_seq=last) as ws:
            self.current, self.connections = ws, self.connections + 1
            async for raw in ws:
                msg = json.loads(raw)
                if msg["type"] == "resume" and msg["data"]["gap"]:
                    self.gaps += 1
                if msg["seq"] is not None:
                    self.seen.append(msg["seq"])

    async def drop_randomly(self, rng: random.Random, stop: asyncio.Event) -> int:
        """Abort the TCP connection (no close handshake) at random moments."""
        drops = 0
        while not stop.is_set():
            await asyncio.sleep(rng.uniform(0.05, 0.4))
            if self.current is not None:
                self.current.transport.abort()
                drops += 1
        return drops


async def produce(bus: Bus, user_id: str, stop: asyncio.Event) -> int:
    """A steady stream through the same bus API the engine's listener uses."""
    count = 0
    while not stop.is_set():
        data = {"bot_id": "b1", "status": "running", "reason": f"tick {count}"}
        await bus.publish_user(user_id, "bot_status", data)
        count += 1
        await asyncio.sleep(1 / RATE_HZ)
    return count


async def settle(consumer: Consumer, head: int, deadline_s: float = 10.0) -> None:
    end = time.monotonic() + deadline_s
    while (not consumer.seen or consumer.seen[-1] < head) and time.monotonic() < end:  # noqa: ASYNC110
        await asyncio.sleep(0.05)


def assert_exactly_once_in_order(seen: list[int], head: int) -> None:
    assert len(seen) == len(set(seen)), "duplicates"
    assert seen == sorted(seen), "out of order"
    assert seen == list(range(1, len(seen) + 1)), "lost messages"
    assert len(seen) >= head


async def test_in_process_bus_survives_random_drops(tmp_path: Path, sqlite_url: str) -> None:
    rng = random.Random(1234)
    async with live_server(tmp_path, sqlite_url) as live:
        token, uid = await live.user("chaos@example.com")
        assert live.runtime is not None
        consumer = Consumer(token, lambda: live)
        reader = asyncio.create_task(consumer.run())
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(TRAFFIC_S, stop.set)
        drops, produced = await asyncio.gather(
            consumer.drop_randomly(rng, stop), produce(live.runtime.bus, uid, stop)
        )
        await settle(consumer, produced)
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
    assert drops >= 10 and consumer.connections > drops // 2
    assert consumer.gaps == 0
    assert_exactly_once_in_order(consumer.seen, produced)


# -- two `amarktai serve` processes on one PostgreSQL and one Redis ------------------------
class ServeProcess:
    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.live = Live(f"http://127.0.0.1:{port}")

    def start(self) -> None:
        cmd = [sys.executable, "-m", "amarktai.cli.main", "serve", "--port", str(self.port)]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(cmd, env=self.env, stdout=out, stderr=out)

    async def ready(self, timeout_s: float = 60.0) -> None:
        end = time.monotonic() + timeout_s
        async with httpx.AsyncClient() as client:
            while time.monotonic() < end:
                assert self.proc is not None and self.proc.poll() is None, self.log.read_text()
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.live.base}/health")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise AssertionError(f"server did not start:\n{self.log.read_text()}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)


@pytest.fixture
def serve_env(tmp_path: Path, postgres_url: str) -> dict[str, str]:
    """Both processes share the database, the data dir and the signing key."""
    return {
        **os.environ,
        "AMARKTAI_DATA_DIR": str(tmp_path / "shared-data"),
        "AMARKTAI_DATABASE_URL": postgres_url,
        "AMARKTAI_ENV": "test",
        "AMARKTAI_LOG_LEVEL": "WARNING",
        "AMARKTAI_SECRET_KEY": "chaos-" + "k3y-f0r-b0th-pr0cesses-0123456789abcdef",
        "AMARKTAI_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    }


async def test_redis_bus_survives_drops_and_a_process_restart(
    tmp_path: Path, redis_url: str, serve_env: dict[str, str], postgres_url: str
) -> None:
    from tests.support import truncate_all

    from amarktai.db.engine import make_engine

    engine = make_engine(postgres_url)
    await truncate_all(engine)
    await engine.dispose()
    env = {**serve_env, "AMARKTAI_REDIS_URL": redis_url}
    a = ServeProcess(env, free_port(), tmp_path / "a.log")
    b = ServeProcess(env, free_port(), tmp_path / "b.log")
    producer_bus = RedisStreamsBus(redis_url, Retention(100_000, 3600))
    rng = random.Random(4321)
    try:
        a.start()
        b.start()  # the database is migrated already, so both can start at once
        await asyncio.gather(a.ready(), b.ready())
        token, uid = await a.live.user("chaos@example.com")
        consumer = Consumer(token, lambda: rng.choice([a, b]).live)
        reader = asyncio.create_task(consumer.run())
        stop = asyncio.Event()

        async def restart_b() -> None:
            """Kill B mid-stream, bring it back, keep the traffic going a little longer."""
            started = time.monotonic()
            await asyncio.sleep(TRAFFIC_S / 3)
            b.kill()
            b.start()
            await b.ready()
            await asyncio.sleep(max(1.5, TRAFFIC_S - (time.monotonic() - started)))
            stop.set()

        drops, produced, _ = await asyncio.gather(
            consumer.drop_randomly(rng, stop), produce(producer_bus, uid, stop), restart_b()
        )
        head = (await producer_bus.info(uid)).head
        assert head == produced
        await settle(consumer, head)
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        assert drops >= 10 and consumer.gaps == 0
        assert_exactly_once_in_order(consumer.seen, head)
    finally:
        a.kill()
        b.kill()
        await producer_bus.close()
        await a.live.http.aclose()
        await b.live.http.aclose()
