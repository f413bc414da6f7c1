"""The in-process queue and the runner on a real migrated database (SQLite)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from amarktai.accounts.models import User
from amarktai.db.engine import make_engine, make_sessionmaker, transaction
from amarktai.jobs.models import Job, OptimisationTrial
from amarktai.jobs.queue import InProcessQueue
from amarktai.jobs.repository import JobRepository
from amarktai.jobs.requests import BacktestRequest, OptimisationRequest
from amarktai.jobs.runner import JobControl, JobEvent, JobRunner
from amarktai.jobs.service import JobService
from amarktai.kit.clock import Clock, ManualClock
from amarktai.kit.ids import new_id

WALK = {"random_walk": {"n": 300, "seed": 5, "sigma": 0.01}}
BACKTEST = BacktestRequest.model_validate(
    {"strategy": "sma_cross", "params": {"fast": 3, "slow": 10}, "data": WALK}
)


@pytest.fixture
async def sessions(sqlite_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(sqlite_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2025, 1, 1, tzinfo=UTC))


async def make_user(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> str:
    user = User(id=new_id(), email=f"{new_id()}@example.com", password_hash="x",
                role="trader", created_at=clock.now())  # fmt: skip
    async with transaction(sessions) as session:
        session.add(user)
    return user.id


async def submit(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, user_id: str,
    request: BacktestRequest | OptimisationRequest = BACKTEST,
) -> str:  # fmt: skip
    async with transaction(sessions) as session:
        service = JobService(session, clock, user_id)
        if isinstance(request, BacktestRequest):
            job = await service.submit_backtest(request)
        else:
            job = await service.submit_optimisation(request)
    return job.id


async def load(sessions: async_sessionmaker[AsyncSession], job_id: str) -> Job:
    async with sessions() as session:
        job = await JobRepository(session).get(job_id)
        assert job is not None
        return job


async def test_a_job_runs_to_success_and_listeners_hear_it(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    user_id = await make_user(sessions, clock)
    queue = InProcessQueue(sessions, clock, workers=1, poll_s=0.01)
    events: list[JobEvent] = []

    async def listen(event: JobEvent) -> None:
        events.append(event)

    queue.add_listener(listen)
    job_id = await submit(sessions, clock, user_id)
    await queue.enqueue(job_id)
    await queue.wait_idle()
    job = await load(sessions, job_id)
    assert (job.status, job.progress, job.started_at, job.finished_at) == (
        "succeeded", 1.0, clock.now(), clock.now()
    )  # fmt: skip
    assert job.result is not None and job.trades is not None and job.report_html
    assert events[0].status == "running" and events[-1].status == "succeeded"
    assert {e.user_id for e in events} == {user_id}
    await queue.close()


async def test_an_optimisation_persists_its_study(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    user_id = await make_user(sessions, clock)
    queue = InProcessQueue(sessions, clock, poll_s=0.01)
    request = OptimisationRequest.model_validate(
        {"strategy": "sma_cross", "data": WALK, "n_trials": 5, "seed": 2}
    )
    job_id = await submit(sessions, clock, user_id, request)
    await queue.enqueue(job_id)
    await queue.wait_idle()
    assert (await load(sessions, job_id)).status == "succeeded"
    async with sessions() as session:
        trials = await JobService(session, clock, user_id).trials(job_id)
        assert sorted(t.number for t in trials) == [0, 1, 2, 3, 4]
        assert all(isinstance(t, OptimisationTrial) for t in trials)
        other = await JobService(session, clock, await make_user(sessions, clock)).jobs.trials(
            job_id
        )
        assert list(other) == []
    await queue.close()


async def test_a_queued_job_cancelled_before_it_starts_never_runs(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    user_id = await make_user(sessions, clock)
    job_id = await submit(sessions, clock, user_id)
    async with transaction(sessions) as session:
        job = await JobService(session, clock, user_id).cancel("backtest", job_id)
        assert job.status == "cancelled"
    queue = InProcessQueue(sessions, clock, poll_s=0.01)
    await queue.enqueue(job_id)
    await queue.wait_idle()
    job = await load(sessions, job_id)
    assert (job.status, job.started_at, job.result) == ("cancelled", None, None)
    await queue.close()


async def test_recover_reruns_queued_jobs_and_fails_interrupted_ones(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    user_id = await make_user(sessions, clock)
    queued = await submit(sessions, clock, user_id)
    interrupted = await submit(sessions, clock, user_id)
    async with transaction(sessions) as session:
        assert await JobRepository(session).claim(interrupted, clock.now()) is not None
    queue = InProcessQueue(sessions, clock, poll_s=0.01)
    await queue.recover()
    await queue.wait_idle()
    assert (await load(sessions, queued)).status == "succeeded"
    lost = await load(sessions, interrupted)
    assert (lost.status, lost.error_code) == ("failed", "interrupted")
    await queue.close()


async def test_a_failed_cancel_poll_does_not_stop_the_watch(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    """A Redis hiccup on one poll must not leave the job uncancellable for good."""
    user_id = await make_user(sessions, clock)
    request = OptimisationRequest.model_validate(
        {"strategy": "sma_cross", "data": {"random_walk": {"n": 400}}, "n_trials": 2000}
    )
    job_id = await submit(sessions, clock, user_id, request)
    polls = 0

    async def flaky_then_cancelled(_: str) -> bool:
        nonlocal polls
        polls += 1
        if polls == 1:
            raise ConnectionError("redis went away for a moment")
        return True

    runner = JobRunner(sessions, clock, poll_s=0.01)
    assert await runner.run(job_id, JobControl(), flaky_then_cancelled) == "cancelled"
    assert polls >= 2
    job = await load(sessions, job_id)
    assert (job.status, job.error_code) == ("cancelled", "cancelled")
