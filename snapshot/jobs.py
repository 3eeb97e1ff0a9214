"""The one scheduler of a deployment and its declarative list of jobs.

Exactly one process runs it (the APScheduler FAQ: processes cannot share a job store): the
``gridwatch serve``/``demo`` process, or ``gridwatch scheduler`` beside gunicorn workers.
Every job has a stable id, never overlaps itself and coalesces missed runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from apscheduler.schedulers.background import BackgroundScheduler


@dataclass(frozen=True)
class JobDefinition:
    """One periodic job: what to call and how often."""

    id: str
    func: Callable[[], None]
    seconds: int


def create_scheduler(jobs: list[JobDefinition], *, timezone: str) -> BackgroundScheduler:
    """Return a scheduler (not started) with every job registered once."""
    scheduler = BackgroundScheduler(timezone=timezone)
    for job in jobs:
        scheduler.add_job(
            job.func,
            "interval",
            seconds=job.seconds,
            id=job.id,
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(1, job.seconds),
        )
    return scheduler
