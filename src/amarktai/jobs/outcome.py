"""What a job's computation hands back, and how a cancel reaches it.

Apart from ``amarktai.jobs.work`` so the queue, the runner and the repository can name
these without importing the backtest stack (pandas, optuna, scipy): the API process and
every CLI command build a job queue, and only a job's run needs the work itself.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal


class JobCancelled(Exception):
    """Raised from a progress report once the job's cancellation was requested."""


@dataclasses.dataclass(frozen=True, slots=True)
class TrialRecord:
    fold: int
    number: int
    state: str
    params: dict[str, Any]
    values: list[float] | None
    error: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    """What a finished computation leaves behind (the runner stores it on the job)."""

    status: Literal["succeeded", "failed"]
    result: dict[str, Any]
    trades: list[dict[str, Any]] | None = None
    report_html: str | None = None
    trials: tuple[TrialRecord, ...] = ()
    error_code: str | None = None
    error: str | None = None
