"""Run one stored job to its end, whichever queue delivered it.

The computation runs in a worker thread (``amarktai.jobs.work``, pure CPU); the event
loop meanwhile watches it: every ``poll_s`` it writes the latest progress to the row,
tells the listeners (the WebSocket bus) and asks the queue whether a cancel was
requested. A cancel sets a flag the computation's next progress report raises on, so a
job stops between two trials or stages, never half-way through a database write.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from amarktai.db.engine import transaction
from amarktai.jobs.models import Job
from amarktai.jobs.outcome import JobCancelled, Outcome
from amarktai.jobs.repository import JobRepository
from amarktai.jobs.requests import BacktestRequest, OptimisationRequest
from amarktai.kit.clock import Clock
from amarktai.kit.errors import DomainError

log = structlog.get_logger("amarktai.jobs")


@dataclasses.dataclass(frozen=True, slots=True)
class JobEvent:
    """A job's state as listeners see it (published as a ``metrics`` message)."""

    user_id: str
    job_id: str
    kind: str
    status: str
    progress: float | None
    message: str | None

    def values(self) -> dict[str, float | str | None]:
        return {
            "job_id": self.job_id,
            "kind": self.kind,
            "status": self.status,
            "progress": self.progress,
            "message": self.message,
        }


Listener = Callable[[JobEvent], Awaitable[None]]
CancelCheck = Callable[[str], Awaitable[bool]]


class JobControl:
    """Shared by the computing thread (reports) and the event loop (reads, cancels)."""

    def __init__(self) -> None:
        self.cancelled = threading.Event()
        self._lock = threading.Lock()
        self._latest: tuple[float, str] | None = None

    def report(self, fraction: float, message: str) -> None:
        if self.cancelled.is_set():
            raise JobCancelled()
        with self._lock:
            self._latest = (fraction, message)

    def take(self) -> tuple[float, str] | None:
        with self._lock:
            latest, self._latest = self._latest, None
        return latest


def compute(job: Job, report: Callable[[float, str], None]) -> Outcome:
    """The job's work, by kind (runs in a worker thread). The backtest stack is imported
    here, on the first job, not when the queue is built (see `amarktai.jobs.outcome`)."""
    from amarktai.jobs.work import run_backtest, run_optimisation

    if job.kind == "backtest":
        return run_backtest(BacktestRequest.model_validate(job.request), report)
    request = OptimisationRequest.model_validate(job.request)
    return run_optimisation(request, report, study_name=f"job-{job.id}")


@dataclasses.dataclass
class JobRunner:
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    executor: Executor | None = None
    listeners: list[Listener] = dataclasses.field(default_factory=list)
    poll_s: float = 0.25

    async def run(
        self, job_id: str, control: JobControl, cancel_check: CancelCheck | None = None
    ) -> str | None:
        """Execute the job if it is still queued; returns its final status."""
        async with transaction(self.sessions) as session:
            job = await JobRepository(session).claim(job_id, self.clock.now())
        if job is None:
            return None
        await self._notify(job, "running", 0.0, "started")
        loop = asyncio.get_running_loop()
        work = loop.run_in_executor(self.executor, compute, job, control.report)
        watch = asyncio.create_task(self._watch(job, control, cancel_check))
        try:
            status = await self._settle(job, work)
        finally:
            watch.cancel()
            await asyncio.gather(watch, return_exceptions=True)
        return status

    async def _settle(self, job: Job, work: asyncio.Future[Outcome]) -> str:
        now = self.clock.now
        try:
            outcome = await work
        except JobCancelled:
            await self._end(job, "cancelled", "cancelled", "cancelled by the user")
            return "cancelled"
        except DomainError as exc:
            await self._end(job, "failed", exc.code, exc.message)
            return "failed"
        except Exception as exc:  # a bug must fail the job, not leave it running
            log.exception("job_crashed", job_id=job.id, kind=job.kind)
            await self._end(job, "failed", "internal_error", f"{type(exc).__name__}: {exc}")
            return "failed"
        async with transaction(self.sessions) as session:
            await JobRepository(session).finish(job.id, outcome, now())
        await self._notify(job, outcome.status, 1.0, outcome.error or outcome.status)
        return outcome.status

    async def _end(self, job: Job, status: str, code: str, message: str) -> None:
        async with transaction(self.sessions) as session:
            await JobRepository(session).end(job.id, status, code, message, self.clock.now())
        await self._notify(job, status, None, message)

    async def _watch(self, job: Job, control: JobControl, cancel_check: CancelCheck | None) -> None:
        while True:
            await asyncio.sleep(self.poll_s)
            try:
                await self._poll(job, control, cancel_check)
            except Exception:  # a Redis or database hiccup must not end cancel delivery
                log.exception("job_watch_failed", job_id=job.id)

    async def _poll(self, job: Job, control: JobControl, cancel_check: CancelCheck | None) -> None:
        if cancel_check is not None and await cancel_check(job.id):
            control.cancelled.set()
        latest = control.take()
        if latest is None:
            return
        async with transaction(self.sessions) as session:
            await JobRepository(session).progress(job.id, *latest)
        await self._notify(job, "running", *latest)

    async def _notify(
        self, job: Job, status: str, progress: float | None, message: str | None
    ) -> None:
        event = JobEvent(job.user_id, job.id, job.kind, status, progress, message)
        for listener in self.listeners:
            try:
                await listener(event)
            except Exception:  # a broken listener must not break the job
                log.exception("job_listener_failed", job_id=job.id)


def event_values(event: JobEvent) -> dict[str, Any]:
    """The ``metrics`` payload published on the bus for a job event."""
    return {"bot_id": None, "values": event.values()}
