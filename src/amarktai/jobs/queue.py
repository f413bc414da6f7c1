"""Where jobs run: a ``JobQueue`` hands a committed job id to something that executes it.

* ``InProcessQueue`` (embedded default, zero configuration): an asyncio task per job,
  at most ``workers`` at a time, the CPU work on a thread pool so the API keeps
  answering. Cancelling sets the running job's flag directly.
* ``DramatiqQueue`` (``AMARKTAI_JOB_QUEUE=dramatiq`` + ``AMARKTAI_REDIS_URL``): the id
  is sent to a Dramatiq actor over Redis and ``amarktai worker`` processes execute it.
  Cancelling sets a Redis key that the worker's runner polls.

Dramatiq rather than arq: arq pins ``redis<6`` while the platform (the Redis Streams
bus) runs on redis-py 8; Dramatiq works with it. Jobs are not retried automatically
(a failed backtest fails the same way again) and have no time limit beyond the
platform's: an optimisation may legitimately take hours.

Both queues execute through ``JobRunner``, so status, progress, results and
cancellation behave identically; only the transport differs.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

import dramatiq
import structlog
from dramatiq.brokers.redis import RedisBroker
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.pool import NullPool

from amarktai.bus import build_bus
from amarktai.bus.interface import Bus
from amarktai.config import Settings
from amarktai.db.engine import make_engine, make_sessionmaker, transaction
from amarktai.jobs.repository import JobRepository
from amarktai.jobs.runner import JobControl, JobEvent, JobRunner, Listener, event_values
from amarktai.kit.clock import Clock, SystemClock
from amarktai.kit.errors import ConfigError

log = structlog.get_logger("amarktai.jobs")

QUEUE_NAME = "amarktai-jobs"
ACTOR_NAME = "amarktai_run_job"
NAMESPACE = "amarktai-dramatiq"
CANCEL_KEY = "amarktai:jobs:cancel:{}"
CANCEL_TTL_S = 7 * 24 * 3600
NO_TIME_LIMIT_MS = 7 * 24 * 3600 * 1000


class JobQueue(Protocol):
    async def enqueue(self, job_id: str) -> None:
        """Call only after the job row is committed."""
        ...

    async def cancel(self, job_id: str) -> None:
        """Signal a running job (the service already marked the row)."""
        ...

    def add_listener(self, listener: Listener) -> None: ...

    async def recover(self) -> None:
        """After a restart: pick up what this queue had not finished."""
        ...

    async def close(self) -> None: ...


class InProcessQueue:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        workers: int = 2,
        poll_s: float = 0.25,
    ) -> None:
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="amarktai-job")
        self.runner = JobRunner(sessions, clock, self._pool, poll_s=poll_s)
        self._slots = asyncio.Semaphore(workers)
        self._controls: dict[str, JobControl] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def add_listener(self, listener: Listener) -> None:
        self.runner.listeners.append(listener)

    async def enqueue(self, job_id: str) -> None:
        control = self._controls.setdefault(job_id, JobControl())
        task = asyncio.create_task(self._run(job_id, control), name=f"job-{job_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, job_id: str, control: JobControl) -> None:
        try:
            async with self._slots:
                if not control.cancelled.is_set():
                    await self.runner.run(job_id, control)
        except Exception:
            log.exception("job_run_failed", job_id=job_id)
        finally:
            self._controls.pop(job_id, None)

    async def cancel(self, job_id: str) -> None:
        control = self._controls.get(job_id)
        if control is not None:
            control.cancelled.set()

    async def wait_idle(self) -> None:
        """Until every enqueued job has ended (tests, CLI)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def recover(self) -> None:
        """Jobs this process owned before a restart: queued ones run again, ones cut off
        while running are marked failed (their partial work is gone)."""
        async with transaction(self.runner.sessions) as session:
            repo = JobRepository(session)
            unfinished = await repo.unfinished()
            for job in unfinished:
                if job.status == "running":
                    await repo.end(
                        job.id, "failed", "interrupted", "the platform restarted while it ran",
                        self.runner.clock.now(),
                    )  # fmt: skip
        for job in unfinished:
            if job.status == "queued":
                await self.enqueue(job.id)

    async def close(self) -> None:
        for control in self._controls.values():
            control.cancelled.set()
        await self.wait_idle()
        self._pool.shutdown(wait=True, cancel_futures=True)


# ---------------------------------------------------------------------------- Dramatiq


def make_broker(redis_url: str) -> RedisBroker:
    return RedisBroker(url=redis_url, namespace=NAMESPACE)


def job_actor(broker: dramatiq.Broker, settings: Settings) -> dramatiq.Actor[[str], None]:
    """The worker's entry point, bound to ``broker``; the API side only sends to it."""

    def run_job(job_id: str) -> None:
        asyncio.run(execute_in_worker(settings, job_id))

    declare = dramatiq.actor(
        broker=broker,
        actor_name=ACTOR_NAME,
        queue_name=QUEUE_NAME,
        max_retries=0,
        time_limit=NO_TIME_LIMIT_MS,
    )
    return declare(run_job)


async def execute_in_worker(
    settings: Settings, job_id: str, *, clock: Clock | None = None, poll_s: float = 0.5
) -> str | None:
    """One job in a worker process: its own engine and Redis connection for the job's
    lifetime (a worker thread runs its own event loop, which pooled connections from
    another loop could not be used on), progress published on the bus."""
    assert settings.redis_url is not None
    engine = make_engine(settings.effective_database_url, poolclass=NullPool)
    redis: Redis = Redis.from_url(settings.redis_url)
    bus = build_bus(settings, clock)
    await bus.start()
    runner = JobRunner(make_sessionmaker(engine), clock or SystemClock(), poll_s=poll_s)
    runner.listeners.append(bus_listener(bus))

    async def cancel_requested(jid: str) -> bool:
        return bool(await redis.exists(CANCEL_KEY.format(jid)))

    try:
        return await runner.run(job_id, JobControl(), cancel_requested)
    finally:
        await bus.close()
        await redis.aclose()
        await engine.dispose()


def bus_listener(bus: Bus) -> Listener:
    """Job events as ``metrics`` messages on the user's stream (the WebSocket)."""

    async def publish(event: JobEvent) -> None:
        await bus.publish_user(event.user_id, "metrics", event_values(event))

    return publish


class DramatiqQueue:
    def __init__(self, settings: Settings, broker: dramatiq.Broker | None = None) -> None:
        if not settings.redis_url:
            raise ConfigError("AMARKTAI_JOB_QUEUE=dramatiq needs AMARKTAI_REDIS_URL")
        self.broker = broker or make_broker(settings.redis_url)
        self.actor = job_actor(self.broker, settings)
        self._redis: Redis = Redis.from_url(settings.redis_url)

    def add_listener(self, listener: Listener) -> None:
        """Workers publish progress themselves; nothing runs here to listen to."""

    async def enqueue(self, job_id: str) -> None:
        await asyncio.to_thread(self.actor.send, job_id)

    async def cancel(self, job_id: str) -> None:
        await self._redis.set(CANCEL_KEY.format(job_id), 1, ex=CANCEL_TTL_S)

    async def recover(self) -> None:
        """Queued messages survive in Redis; nothing to do."""

    async def close(self) -> None:
        await self._redis.aclose()
        await asyncio.to_thread(self.broker.close)


def build_queue(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> JobQueue:
    if settings.job_queue == "dramatiq":
        return DramatiqQueue(settings)
    return InProcessQueue(sessions, clock, workers=settings.job_workers)


def run_worker(settings: Settings, *, threads: int) -> None:
    """Consume the job queue until SIGINT/SIGTERM (``amarktai worker``)."""
    if not settings.redis_url:
        raise ConfigError("amarktai worker needs AMARKTAI_REDIS_URL")
    broker = make_broker(settings.redis_url)
    job_actor(broker, settings)
    worker = dramatiq.Worker(broker, queues={QUEUE_NAME}, worker_threads=threads)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    worker.start()
    log.info("worker_started", queue=QUEUE_NAME, threads=threads)
    try:
        stop.wait()
    finally:
        worker.stop()
        broker.close()
