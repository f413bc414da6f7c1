"""Backtests and optimisations as background jobs: submit (202), poll, results, cancel.

Progress also arrives over the WebSocket as ``metrics`` messages whose ``values`` carry
``job_id``, ``kind``, ``status``, ``progress`` (0..1) and ``message``.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, status
from fastapi.responses import HTMLResponse
from pydantic import Field

from amarktai.api.deps import CallerDep, RuntimeDep, SessionDep, TraderDep, require_feature
from amarktai.api.schemas import ResponseModel
from amarktai.jobs.models import Job
from amarktai.jobs.requests import BacktestRequest, OptimisationRequest
from amarktai.jobs.service import JobService
from amarktai.jobs.work import data_files
from amarktai.kit.errors import Conflict
from amarktai.runtime import Runtime

# An admin may hide backtests and the optimiser (`accounts.features`): every route here.
router = APIRouter(
    prefix="/api/v1", tags=["backtests"], dependencies=[require_feature("backtests")]
)

BACKTEST_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such backtest of yours"},
}
OPTIMISATION_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such optimisation of yours"},
}
SUBMIT_ERRORS: dict[int | str, dict[str, Any]] = {
    422: {
        "description": "bad input, with a stable code: unknown_strategy, invalid_parameter, "
        "unknown_data_file, empty_range, range_too_short, data_gap, not_vectorisable, ..."
    },
}
CANCEL_ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"description": "`job_finished`: the job already ended"},
}


class JobError(ResponseModel):
    code: str
    message: str


class JobOut(ResponseModel):
    id: str
    kind: str
    status: str = Field(description="queued, running, succeeded, failed or cancelled")
    progress: float = Field(description="0..1")
    message: str | None
    request: dict[str, Any]
    error: JobError | None = None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    result: dict[str, Any] | None = Field(
        default=None,
        description="backtest: summary (metrics), monte_carlo, equity curve; "
        "optimisation: status, reason, pareto front, folds",
    )


class JobPage(ResponseModel):
    items: list[JobOut]
    next_cursor: str | None


class TrialOut(ResponseModel):
    fold: int
    number: int
    state: str
    params: dict[str, Any]
    values: list[float | None] | None
    error: str | None


def job_service(session: SessionDep, runtime: RuntimeDep, caller: CallerDep) -> JobService:
    return JobService(session, runtime.clock, caller.id)


JobsDep = Annotated[JobService, Depends(job_service)]


def job_out(job: Job, *, with_result: bool = True) -> JobOut:
    error = JobError(code=job.error_code, message=job.error or "") if job.error_code else None
    return JobOut(
        id=job.id,
        kind=job.kind,
        status=job.status,
        progress=job.progress,
        message=job.message,
        request=job.request,
        error=error,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        result=job.result if with_result else None,
    )


async def _submitted(job: Job, session: SessionDep, runtime: Runtime) -> JobOut:
    """Commit first, then enqueue: a worker must never see an id whose row is missing."""
    await session.commit()
    await runtime.jobs.enqueue(job.id)
    return job_out(job)


async def _cancel(kind: str, job_id: str, jobs: JobService, session: SessionDep,
                  runtime: Runtime) -> JobOut:  # fmt: skip
    job = await jobs.cancel(kind, job_id)
    await session.commit()
    if job.status == "running":
        await runtime.jobs.cancel(job.id)
    return job_out(job)


async def _page(kind: str, jobs: JobService, cursor: str | None, limit: int) -> JobPage:
    page = await jobs.page(kind, cursor, limit)
    return JobPage(
        items=[job_out(j, with_result=False) for j in page.items], next_cursor=page.next_cursor
    )


# ------------------------------------------------------------------------- backtests


@router.get("/backtests/data-files")
async def list_data_files(_: CallerDep) -> list[dict[str, Any]]:
    """What a backtest can read (`data.file`): stored series (`source` "store", or "sample"
    for the series shipped with the package), then files of the folder named by
    `AMARKTAI_SHARED_DATA` ("files"); each with its bars and span, or the problem that
    makes it unusable (e.g. gaps)."""
    return await asyncio.to_thread(data_files)


@router.post(
    "/backtests",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobOut,
    responses=SUBMIT_ERRORS,
)
async def submit_backtest(
    body: BacktestRequest, _: TraderDep, jobs: JobsDep, session: SessionDep, runtime: RuntimeDep
) -> JobOut:
    """Validate and queue a backtest; poll `GET /backtests/{id}` or watch the WebSocket."""
    return await _submitted(await jobs.submit_backtest(body), session, runtime)


@router.get("/backtests", response_model=JobPage)
async def list_backtests(jobs: JobsDep, cursor: str | None = None, limit: int = 50) -> JobPage:
    """Your backtests, newest first (without results; fetch one for those)."""
    return await _page("backtest", jobs, cursor, limit)


@router.get("/backtests/{job_id}", response_model=JobOut, responses=BACKTEST_ERRORS)
async def get_backtest(job_id: str, jobs: JobsDep) -> JobOut:
    return job_out(await jobs.get("backtest", job_id))


@router.get(
    "/backtests/{job_id}/report",
    response_class=HTMLResponse,
    responses={**BACKTEST_ERRORS, 409: {"description": "`not_finished`: no report yet"}},
)
async def backtest_report(job_id: str, jobs: JobsDep) -> HTMLResponse:
    """The self-contained HTML report (charts inline, no scripts)."""
    job = await jobs.get("backtest", job_id)
    if job.report_html is None:
        raise Conflict(f"backtest {job_id} has no report ({job.status})", code="not_finished")
    return HTMLResponse(job.report_html)


@router.get(
    "/backtests/{job_id}/trades",
    responses={**BACKTEST_ERRORS, 409: {"description": "`not_finished`: no trades yet"}},
)
async def backtest_trades(job_id: str, jobs: JobsDep) -> list[dict[str, Any]]:
    """Round trips (flat → long → flat); `exit_*` null for a position still open."""
    job = await jobs.get("backtest", job_id)
    if job.trades is None:
        raise Conflict(f"backtest {job_id} has no trades ({job.status})", code="not_finished")
    return job.trades


@router.delete(
    "/backtests/{job_id}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobOut,
    responses={**BACKTEST_ERRORS, **CANCEL_ERRORS},
)
async def cancel_backtest(
    job_id: str, _: TraderDep, jobs: JobsDep, session: SessionDep, runtime: RuntimeDep
) -> JobOut:
    """Cancel: a queued backtest at once, a running one at its next progress step."""
    return await _cancel("backtest", job_id, jobs, session, runtime)


# ---------------------------------------------------------------------- optimisations


@router.post(
    "/optimisations",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobOut,
    responses=SUBMIT_ERRORS,
    tags=["optimisations"],
)
async def submit_optimisation(
    body: OptimisationRequest,
    _: TraderDep,
    jobs: JobsDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> JobOut:
    """Genetic (NSGA-II) multi-objective search with optional walk-forward validation.
    Zero valid trials ends the job as `failed` with the reason, never as a success."""
    return await _submitted(await jobs.submit_optimisation(body), session, runtime)


@router.get("/optimisations", response_model=JobPage, tags=["optimisations"])
async def list_optimisations(jobs: JobsDep, cursor: str | None = None, limit: int = 50) -> JobPage:
    return await _page("optimisation", jobs, cursor, limit)


@router.get(
    "/optimisations/{job_id}",
    response_model=JobOut,
    responses=OPTIMISATION_ERRORS,
    tags=["optimisations"],
)
async def get_optimisation(job_id: str, jobs: JobsDep) -> JobOut:
    """Status and, when finished, the Pareto front (each point with its out-of-sample
    score) and the per-fold results."""
    return job_out(await jobs.get("optimisation", job_id))


@router.get(
    "/optimisations/{job_id}/trials",
    response_model=list[TrialOut],
    responses=OPTIMISATION_ERRORS,
    tags=["optimisations"],
)
async def optimisation_trials(job_id: str, jobs: JobsDep) -> list[TrialOut]:
    """Every trial of the study (per fold): parameters, objective values or why it was
    invalid. Written when the optimisation ends."""
    return [TrialOut.model_validate(t) for t in await jobs.trials(job_id)]


@router.delete(
    "/optimisations/{job_id}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobOut,
    responses={**OPTIMISATION_ERRORS, **CANCEL_ERRORS},
    tags=["optimisations"],
)
async def cancel_optimisation(
    job_id: str, _: TraderDep, jobs: JobsDep, session: SessionDep, runtime: RuntimeDep
) -> JobOut:
    return await _cancel("optimisation", job_id, jobs, session, runtime)
