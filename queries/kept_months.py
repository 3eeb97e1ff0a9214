"""Finished months of the assessment, computed once and kept until something they read changes.

A finished, unpublished month's result (``_compute``: scores, ranks, repeat chains, no
comparison or streak, which are put together from kept months each time) is kept in
``kept_months`` under (month, rules sha256) with ``inputs``, a digest of everything else the
computation read:

- the district's streets and grids and the deduction table by category (what ``_Source``
  reads anyway);
- the volunteer hours by grid of the month (one small GROUP BY);
- per day of the month's **window** (its days and the ``repeat.history_days`` before them,
  through which its repeat chains are followed) one checksum row over the cases registered that
  day and not cancelled: how many, the sums of their ids, registration times and coordinates
  (whole micro-degrees, so the sums are exact whatever order a database adds in), and the sums
  weighted by case id of every column the assessment reads (category, street, grid, severity,
  rework count, imprecise flag, deadline and finish times, the last two as offsets from the
  registration; the coordinates weighted by the id modulo 2^16).

**Why a content checksum** rather than trusting an updated-at column or ``case_events``
alone: a case is written by the importers, the simulator, the desk, Open311 pulls, and by hand
in SQL, and a city may serve ``cases`` as a view over its own platform (docs/import.md), where no
column of ours is kept up to date and no event is written. A checksum of what the computation
reads sees every such change, needs nothing from any writer, and works on a read-only role. It
is a checksum, not a cryptographic hash: only edits made to cancel each other (two cases of one
day swapping the same amount) could escape it.

**What it costs per refresh**: the day rows are kept by the process (``DayCache``) and a
refresh re-reads only the days of cases written since its last look, found by
``cases.updated_at`` (UTC, stamped on every insert and every UPDATE SQLAlchemy sends and by
the bulk writers, indexed): O(changes), not one aggregate over the 14 months the streaks
walk. Writes that keep no updated-at (SQL by hand, a hard delete, a view) are caught when
their day is read again for another change, and at the latest by re-reading every day each
``BACKSTOP_SECONDS`` (10 minutes); with no updated-at at all every day is re-read each time.
A row read again is compared with the kept one: a dirty month is tallied from the case columns
the process keeps (``KeptColumns`` in queries/assessment_data.py), which read again every day
whose row changed, so they are never staler than the digest, and a backstop that finds every
row as it was reads no case again.

A case whose registration time is moved leaves a day whose row is not read again (its old day
is not known): every month whose window holds the new day is dirty, but a month that held only
the old day (a time moved later, into the next month, or earlier than its repeat window) is seen
at the backstop, as a write without updated-at is.

The day rows are read before the cases of those days (``DayRows.ensure`` runs before every case
load), so under READ COMMITTED a change committed in between leaves the month dirty, never kept
stale. The result also depends on the clock: an open problem turns overdue at its deadline with
no row changing, so a kept month holds for ``now`` in (``valid_after``, ``valid_until``], the
deadlines around ``now`` of the problems whose overdue flag the clock decides.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import BigInteger, Float, case, cast, delete, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.functions import FunctionElement

from queries.assessment_data import KeptColumns, KeptRepeats, day_runs
from queries.changes import (
    BACKSTOP_SECONDS,
    IDS_PER_STATEMENT,
    MARGIN,
    MAX_CHANGES,
    WrittenSince,
)
from queries.models import STATUS_CANCELLED, Case, KeptMonth

log = logging.getLogger(__name__)
DayRow = tuple[Any, ...]


class _seconds(FunctionElement[float]):  # noqa: N801 - a SQL function, named as one
    """A timestamp as seconds since a fixed epoch, so a sum moves when one time is edited."""

    type = Float()
    inherit_cache = True


@compiles(_seconds)
def _seconds_default(element: _seconds, compiler: Any, **kw: Any) -> str:
    return f"EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})"


@compiles(_seconds, "sqlite")
def _seconds_sqlite(element: _seconds, compiler: Any, **kw: Any) -> str:
    return f"(julianday({compiler.process(element.clauses, **kw)}) * 86400.0)"


@dataclass(frozen=True)
class Entry:
    """A kept month as read back: its inputs digest, clock bounds and stored result."""

    inputs: str
    valid_after: datetime | None
    valid_until: datetime | None
    result_json: str

    def holds(self, inputs: str, now: datetime) -> bool:
        """Whether the result is what a computation at ``now`` on ``inputs`` gives."""
        return (
            self.inputs == inputs
            and (self.valid_after is None or self.valid_after < now)
            and (self.valid_until is None or now <= self.valid_until)
        )


class DayCache:
    """The checksum rows of days, kept across assessments by one process (its KeptMonths).

    ``begin`` marks for reading again the days of cases written since the last look
    (queries/changes.py: one small range read on the indexed ``cases.updated_at``), so a refresh
    re-reads the days that changed, not the 14 months of history the streaks walk through; every
    day is marked when the look says so (the backstop, no updated-at kept, a bulk write). A row
    read again is compared with the one kept: ``versions`` counts, per day, the reads that found
    its row new or changed, and the kept case columns read a day's cases again whenever its
    version moved (``KeptColumns``), so they are never staler than the rows a kept month's
    digest is made of, and a backstop that finds nothing changed reads no case again.
    ``epoch`` is a new token when the cache drops everything (a failure after a look: the
    changes it found are not found again). ``loaded_days`` counts the days read, for the tests.
    """

    def __init__(self, *, backstop_seconds: float = BACKSTOP_SECONDS, margin: timedelta = MARGIN,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.rows: dict[str, DayRow] = {}  # the last row read of each day (none: no cases)
        self.known: set[str] = set()  # days whose row needs no reading again
        self.versions: dict[str, int] = {}  # every day read, with its version
        self.loaded_days = 0
        self.epoch = object()
        self.lock = threading.Lock()
        self._changes = WrittenSince(limit=MAX_CHANGES, backstop_seconds=backstop_seconds,
                                     margin=margin, monotonic=monotonic)

    def begin(self, session: Session) -> None:
        """Forget what changed since the last look; call before any row of ``session`` is read."""
        changed = self._changes.look(session)
        try:
            if changed is None:
                self.known.clear()  # every day read again, and compared with its kept row
                return
            day = func.date(Case.registered_at)
            for batch in range(0, len(changed), IDS_PER_STATEMENT):
                ids = changed[batch:batch + IDS_PER_STATEMENT]
                for written in session.scalars(select(day).where(Case.id.in_(ids)).distinct()):
                    self.known.discard(str(written)[:10])
        except BaseException:  # the changes the look found would be lost: keep nothing
            self._forget_all()
            raise

    def reads(self) -> tuple[object, dict[str, int]]:
        """Return the epoch and a copy of the day versions, for ``KeptColumns.load``."""
        with self.lock:
            return self.epoch, dict(self.versions)

    def took(self, day: str, row: DayRow | None) -> None:
        """Keep a day's row as just read (None: no cases), moving its version if it changed."""
        if day not in self.versions or self.rows.get(day) != row:
            self.versions[day] = self.versions.get(day, 0) + 1
        if row is None:
            self.rows.pop(day, None)
        else:
            self.rows[day] = row
        self.known.add(day)
        self.loaded_days += 1

    def _forget_all(self) -> None:
        self.rows.clear()
        self.known.clear()
        self.versions.clear()
        self.epoch = object()


def _days(start: datetime, end: datetime) -> list[date]:
    """The days [start, end) touches."""
    first, last = start.date(), (end - timedelta(microseconds=1)).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


class DayRows:
    """The checksum rows of the days one assessment looks at, each day read once.

    With a ``cache`` (the KeptMonths' of a long-running process) a day read by an earlier
    assessment and not written since is not read again. The assessment's digests are made of
    its own copy of each row, taken when ``ensure`` first met the day (before the cases of
    that day were loaded): another request's look may mark the day for reading again while
    this assessment still tallies from the cases it loaded, and a row read then would be
    fresher than those cases (found by review: a month kept under a digest its tally did not
    see, stale until its day changed again).
    """

    def __init__(self, session: Session, cache: DayCache | None = None) -> None:
        self.session = session
        self.cache = DayCache() if cache is None else cache
        self._own: dict[str, DayRow | None] = {}  # every day met, as first met
        if cache is not None:
            with cache.lock:
                cache.begin(session)

    def ensure(self, start: datetime, end: datetime) -> None:
        """Read the rows of the days of [start, end) not read yet (call before loading those
        cases)."""
        cache, own = self.cache, self._own
        with cache.lock:
            new = [d for d in _days(start, end) if f"{d:%Y-%m-%d}" not in own]
            missing = [d for d in new if f"{d:%Y-%m-%d}" not in cache.known]
            for low, high in day_runs(missing):
                rows = self._load(low, high)
                for d in _days(low, high):
                    key = f"{d:%Y-%m-%d}"
                    cache.took(key, rows.get(key))
            for d in new:
                key = f"{d:%Y-%m-%d}"
                own[key] = cache.rows.get(key)

    def digest(self, start: datetime, end: datetime) -> str:
        """Return the digest of the days in [start, end) (met by ``ensure`` first)."""
        first, last = f"{start:%Y-%m-%d}", f"{end:%Y-%m-%d}"
        days = sorted((d, row) for d, row in self._own.items()
                      if first <= d < last and row is not None)
        return hashlib.sha256(repr(days).encode()).hexdigest()

    def _load(self, start: datetime, end: datetime) -> dict[str, DayRow]:
        registered = _seconds(Case.registered_at)
        deadline = func.coalesce(_seconds(Case.deadline_at) - registered, -1.0)
        finished = func.coalesce(
            _seconds(func.coalesce(Case.handled_at, Case.closed_at)) - registered, -1.0
        )
        # The coordinates in whole micro-degrees (0.1 m), summed as integers: a float sum
        # depends on the order it adds in, and PostgreSQL's parallel aggregate adds in another
        # order at each read (360 of 365 days' rows differed between two reads, so no new
        # process ever found a kept month clean: docs/plans.md). Integer sums are exact.
        lat = cast(func.round(Case.lat * 1_000_000), BigInteger)
        lon = cast(func.round(Case.lon * 1_000_000), BigInteger)
        # Weighted by id, an integer column's sum moves by (change × id) when one case changes;
        # the coordinates by id modulo 2^16, which keeps the products and a day's sum of them
        # inside 64 bits (SQLite's sum fails past them) for any city's ids.
        weighted = (
            Case.category_id,
            Case.street_id,
            func.coalesce(Case.grid_id, -1),
            func.coalesce(Case.severity, 1),
            func.coalesce(Case.rework_count, 0),
            deadline,
            finished,
        )
        coordinate_weight = Case.id % 65536
        day = func.date(Case.registered_at)
        rows = self.session.execute(
            select(
                day,
                func.count(),
                func.sum(Case.id),
                func.sum(registered),
                func.sum(case((Case.location_precise.is_(False), Case.id), else_=0)),
                func.sum(lat),
                func.sum(lon),
                *(func.sum(c * Case.id) for c in weighted),
                func.sum(lat * coordinate_weight),
                func.sum(lon * coordinate_weight),
            )
            .where(
                Case.registered_at >= start,
                Case.registered_at < end,
                Case.status != STATUS_CANCELLED,
            )
            .group_by(day)
        )
        return {str(row[0])[:10]: tuple(row[1:]) for row in rows}


def context_digest(
    streets: dict[str, tuple[int, str]], grids: dict[int, tuple[str, str, str]], points: np.ndarray
) -> str:
    """Digest what every month of one assessment shares: its areas and deduction table."""
    digest = hashlib.sha256(repr(sorted(streets.items())).encode())
    digest.update(repr(sorted(grids.items())).encode())
    digest.update(np.ascontiguousarray(points).tobytes())
    return digest.hexdigest()


def inputs_digest(context: str, days: str, hours: dict[int, float]) -> str:
    """Digest a month's inputs: shared context, its window's day rows, its volunteer hours."""
    return hashlib.sha256(f"{context}|{days}|{sorted(hours.items())!r}".encode()).hexdigest()


def clock_bounds(
    deadline: np.ndarray, finished: np.ndarray, now_us: int
) -> tuple[int | None, int | None]:
    """Return (after, until) in microseconds: the result holds for a clock in (after, until].

    A problem finished after its deadline, or not at all, is overdue exactly when the clock is
    past its deadline; the others do not depend on the clock.
    """
    turns = deadline[deadline < finished]
    before, later = turns[turns < now_us], turns[turns >= now_us]
    return (int(before.max()) if len(before) else None, int(later.min()) if len(later) else None)


class KeptMonths:
    """Where finished months are kept: read through the assessment's own session (its view of
    the data), written through ``writes`` in short transactions of their own.

    ``computed`` counts, by month, the months computed because nothing clean was kept. The
    process also keeps the case columns it loaded and the repeat occurrences found in them
    (queries/assessment_data.py), so a dirty month is tallied again from memory.
    """

    def __init__(self, writes: sessionmaker[Session], *, margin: timedelta = MARGIN,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.writes = writes
        self.computed: Counter[str] = Counter()
        self.days = DayCache(margin=margin, monotonic=monotonic)
        self.columns = KeptColumns(margin=margin, monotonic=monotonic)
        self.repeats = KeptRepeats()

    def get(self, session: Session, month: str, rules_sha256: str) -> Entry | None:
        """Return what is kept of a month under these rules (the caller checks it holds)."""
        row = session.execute(
            select(
                KeptMonth.inputs,
                KeptMonth.valid_after,
                KeptMonth.valid_until,
                KeptMonth.result_json,
            ).where(KeptMonth.month == month, KeptMonth.rules_sha256 == rules_sha256)
        ).first()
        return None if row is None else Entry(*row)

    def put(self, month: str, rules_sha256: str, entry: Entry, computed_at: datetime) -> None:
        """Keep a newly computed month, replacing what was kept of it under these rules.

        A failed write (a read-only role, a locked file) is logged and costs only the next
        computation: the result handed back is right either way.
        """
        self.computed[month] += 1
        try:
            with self.writes() as session:
                session.execute(
                    delete(KeptMonth).where(
                        KeptMonth.month == month, KeptMonth.rules_sha256 == rules_sha256
                    )
                )
                session.add(
                    KeptMonth(
                        month=month,
                        rules_sha256=rules_sha256,
                        inputs=entry.inputs,
                        valid_after=entry.valid_after,
                        valid_until=entry.valid_until,
                        computed_at=computed_at,
                        result_json=entry.result_json,
                    )
                )
                session.commit()
        except SQLAlchemyError as exc:
            log.warning("could not keep the assessment of %s: %s", month, exc)
