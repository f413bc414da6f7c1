"""Job use cases for the API and CLI: submit (validate first), read, list, cancel.

Submitting validates the request against the strategy and the data *before* the row is
written, so bad input is a 422 and leaves nothing behind. The service never commits and
never enqueues: the caller commits, then hands the id to the queue, so a worker can
never pick up a job whose row is not there yet.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from amarktai.jobs.models import Job, OptimisationTrial
from amarktai.jobs.repository import UserJobs
from amarktai.jobs.requests import BacktestRequest, OptimisationRequest
from amarktai.jobs.work import prepare_backtest, prepare_optimisation
from amarktai.kit.clock import Clock
from amarktai.kit.errors import Conflict, NotFound
from amarktai.kit.pagination import Page, clamp_limit, decode_cursor, encode_cursor


class JobService:
    def __init__(self, session: AsyncSession, clock: Clock, user_id: str) -> None:
        self.clock = clock
        self.jobs = UserJobs(session, user_id)

    async def submit_backtest(self, request: BacktestRequest) -> Job:
        # Reading and checking a data file is CPU work: keep it off the event loop.
        await asyncio.to_thread(prepare_backtest, request)
        return self.jobs.add("backtest", request.model_dump(mode="json"), self.clock.now())

    async def submit_optimisation(self, request: OptimisationRequest) -> Job:
        await asyncio.to_thread(prepare_optimisation, request)
        return self.jobs.add("optimisation", request.model_dump(mode="json"), self.clock.now())

    async def get(self, kind: str, job_id: str) -> Job:
        job = await self.jobs.get(kind, job_id)
        if job is None:
            raise NotFound(f"no {kind} {job_id} of yours", code=f"{kind}_not_found")
        return job

    async def page(self, kind: str, cursor: str | None, limit: int) -> Page[Job]:
        after = decode_cursor(cursor)
        items = await self.jobs.page(kind, after, clamp_limit(limit) + 1)
        more = len(items) > limit
        items = items[:limit]
        return Page(items, encode_cursor(items[-1].id) if more and items else None)

    async def cancel(self, kind: str, job_id: str) -> Job:
        """A queued job is cancelled at once; a running one is asked to stop (its runner
        sees the request at its next progress report and ends it as cancelled)."""
        job = await self.get(kind, job_id)
        if job.finished:
            raise Conflict(
                f"{kind} {job_id} already {job.status}",
                code="job_finished",
                details={"status": job.status},
            )
        job.cancel_requested = True
        if job.status == "queued":
            job.status = "cancelled"
            job.message = "cancelled before it started"
            job.finished_at = self.clock.now()
        return job

    async def trials(self, job_id: str) -> Sequence[OptimisationTrial]:
        await self.get("optimisation", job_id)
        return await self.jobs.trials(job_id)
