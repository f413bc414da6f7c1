"""Queries on the job tables. ``UserJobs`` is what the API sees (every query scoped to
one user, so another user's job cannot be fetched by forgetting a filter);
``JobRepository`` is the runner's view of a single job by id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from amarktai.jobs.models import FINISHED, Job, OptimisationTrial
from amarktai.jobs.outcome import Outcome, TrialRecord
from amarktai.kit.ids import new_id


class UserJobs:
    def __init__(self, session: AsyncSession, user_id: str) -> None:
        self.session = session
        self.user_id = user_id

    def add(self, kind: str, request: dict[str, Any], now: datetime) -> Job:
        job = Job(
            id=new_id(),
            user_id=self.user_id,
            kind=kind,
            status="queued",
            request=request,
            progress=0.0,
            cancel_requested=False,
            created_at=now,
        )
        self.session.add(job)
        return job

    async def get(self, kind: str, job_id: str) -> Job | None:
        found = await self.session.execute(
            select(Job).where(Job.id == job_id, Job.user_id == self.user_id, Job.kind == kind)
        )
        return found.scalar_one_or_none()

    async def page(self, kind: str, after: str | None, limit: int) -> list[Job]:
        """Newest first, keyset on the (time-sortable) id."""
        query = select(Job).where(Job.user_id == self.user_id, Job.kind == kind)
        if after is not None:
            query = query.where(Job.id < after)
        found = await self.session.execute(query.order_by(Job.id.desc()).limit(limit))
        return list(found.scalars())

    async def trials(self, job_id: str) -> Sequence[OptimisationTrial]:
        found = await self.session.execute(
            select(OptimisationTrial)
            .join(Job, Job.id == OptimisationTrial.job_id)
            .where(Job.id == job_id, Job.user_id == self.user_id)
            .order_by(OptimisationTrial.fold, OptimisationTrial.number)
        )
        return found.scalars().all()


class JobRepository:
    """The runner's writes. Each is one conditional UPDATE, so two processes racing on
    a job (a worker starting it while the API cancels it) cannot both win."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, job_id: str) -> Job | None:
        return await self.session.get(Job, job_id)

    async def claim(self, job_id: str, now: datetime) -> Job | None:
        """queued → running; None when the job was cancelled (or taken) meanwhile."""
        done = await self.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "queued")
            .values(status="running", started_at=now, message="started")
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return await self.session.get(Job, job_id, populate_existing=True)

    async def progress(self, job_id: str, fraction: float, message: str) -> None:
        await self.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "running")
            .values(progress=round(min(max(fraction, 0.0), 1.0), 4), message=message[:500])
        )

    async def cancel_requested(self, job_id: str) -> bool:
        found = await self.session.execute(select(Job.cancel_requested).where(Job.id == job_id))
        return bool(found.scalar_one_or_none())

    async def finish(self, job_id: str, outcome: Outcome, now: datetime) -> None:
        await self.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status.not_in(FINISHED))
            .values(
                status=outcome.status,
                progress=1.0 if outcome.status == "succeeded" else Job.progress,
                message=outcome.status if outcome.error is None else outcome.error[:500],
                result=outcome.result,
                trades=outcome.trades,
                report_html=outcome.report_html,
                error_code=outcome.error_code,
                error=outcome.error,
                finished_at=now,
            )
        )
        self.add_trials(job_id, outcome.trials)

    async def end(self, job_id: str, status: str, code: str, message: str, now: datetime) -> None:
        """Finish without results: cancelled, or failed before producing any."""
        await self.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status.not_in(FINISHED))
            .values(status=status, error_code=code, error=message, message=message[:500],
                    finished_at=now)
        )  # fmt: skip

    def add_trials(self, job_id: str, trials: Sequence[TrialRecord]) -> None:
        self.session.add_all(
            OptimisationTrial(
                id=new_id(),
                job_id=job_id,
                fold=t.fold,
                number=t.number,
                state=t.state,
                params=t.params,
                values=t.values,
                error=t.error,
            )
            for t in trials
        )

    async def unfinished(self) -> list[Job]:
        found = await self.session.execute(
            select(Job).where(Job.status.in_(("queued", "running"))).order_by(Job.id)
        )
        return list(found.scalars())
