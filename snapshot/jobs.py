"""The one scheduler of a deployment and its declarative list of jobs.

Exactly one process runs it (the APScheduler FAQ: processes cannot share a job store): the
``gridwatch serve``/``demo`` process, or ``gridwatch scheduler`` beside gunicorn workers.
Every job has a stable id, never overlaps itself and coalesces missed runs, and runs inside
``GuardedJob``: a job that keeps failing (a locked or unreachable database) logs one warning
per kind of failure and one line when it recovers, not a traceback every interval.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from apscheduler.schedulers.background import BackgroundScheduler

from queries.engine import error_reason

log = logging.getLogger(__name__)


@dataclass
class Repeating:
    """A daemon thread calling a function every few seconds until ``stop``."""

    thread: threading.Thread
    stopped: threading.Event

    def stop(self) -> None:
        """End the thread after its current round (tests; a worker's runs until it exits)."""
        self.stopped.set()
        self.thread.join(timeout=10)


def repeat_in_thread(func: Callable[[], None], seconds: float, name: str) -> Repeating:
    """Call ``func`` every ``seconds`` from a daemon thread of this process until stopped.

    A serving worker's own upkeep (reading the shared snapshot's state, the kiosk tokens),
    not the scheduler's jobs: it keeps a worker's database statements the same whether
    requests reach it or not. An exception is logged and the next round runs.
    """
    stopped = threading.Event()

    def run() -> None:
        while not stopped.wait(seconds):
            try:
                func()
            except Exception:  # noqa: BLE001 - the thread must outlive a bug in one round
                log.exception("%s failed", name)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return Repeating(thread, stopped)


@dataclass(frozen=True)
class JobDefinition:
    """One periodic job: what to call and how often."""

    id: str
    func: Callable[[], None]
    seconds: int


def failure_kind(exc: BaseException) -> str:
    """Return a failure's kind: its type and the first line of its reason (a DBAPI error's own).

    SQLAlchemy's message carries the statement and its parameters, which differ every run; the
    driver's reason ("database is locked") does not.
    """
    return f"{type(exc).__name__}: {error_reason(exc, empty='(no message)')}"


@dataclass
class GuardedJob:
    """A job as the scheduler runs it: failures logged once per kind, recovery said once.

    Each failure's traceback goes to DEBUG (shown with ``gridwatch -v``). A kind of failure is
    warned about at most once every ``quiet_seconds``: a job that flaps (a write that fails
    while another process holds the lock, then works, then fails again) says so once, with the
    one "recovered" line that ends the warned run, instead of two lines every few seconds.
    The job is retried at its next run as always.
    """

    job: JobDefinition
    quiet_seconds: float = 600.0
    clock: Callable[[], float] = time.monotonic
    failing: str | None = None  # the kind of the current run of failures
    failures: int = 0  # failed runs since the last success
    _warned_at: dict[str, float] = field(default_factory=dict, repr=False)
    _run_warned: bool = False  # this run of failures was warned about: its end is said too
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self) -> None:
        try:
            self.job.func()
        except Exception as exc:  # noqa: BLE001 - the job boundary: the next run retries
            self._failed(failure_kind(exc))
            log.debug("job %s failed (%d in a row)", self.job.id, self.failures, exc_info=True)
            return
        with self._lock:
            failures, warned = self.failures, self._run_warned
            self.failing, self.failures, self._run_warned = None, 0, False
        if failures and warned:
            log.warning("job %s recovered after %d failed run%s", self.job.id, failures,
                        "" if failures == 1 else "s")

    def _failed(self, kind: str) -> None:
        now = self.clock()
        with self._lock:
            self.failures += 1
            self.failing = kind
            last = self._warned_at.get(kind)
            warn = last is None or now - last >= self.quiet_seconds
            if warn:
                self._warned_at[kind] = now
                self._run_warned = True
        if warn:
            log.warning("job %s failed: %s (retrying every %d s; -v shows each failure)",
                        self.job.id, kind, self.job.seconds)


def create_scheduler(jobs: list[JobDefinition], *, timezone: str) -> BackgroundScheduler:
    """Return a scheduler (not started) with every job registered once."""
    scheduler = BackgroundScheduler(timezone=timezone)
    for job in jobs:
        scheduler.add_job(
            GuardedJob(job),
            "interval",
            seconds=job.seconds,
            id=job.id,
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(1, job.seconds),
        )
    return scheduler
