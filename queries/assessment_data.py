"""What the monthly assessment reads, as numpy columns, and one month's tally per street and grid.

Scoring a month needs its problems and, for repeat detection, the cases registered up to
``history_days`` before it. ``CaseColumns`` loads a range of months in one query, so the
bottom-of-group streak, which walks back month by month, reads each case once rather than once
for every month that looks at it. The tally is vectorised: no Python loop over cases.

A long-running process keeps what it loaded (``KeptColumns``): each later load looks for the
cases written since (queries/changes.py) and re-reads just those by id, so a month made dirty by
a hundred closed cases is tallied again from memory rather than from two months of rows; and
repeat detection, which reads only category, place and time, is not run again while those
columns are the same (``KeptRepeats``): a case dispatched, handled or closed moves no chain.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
from sqlalchemy import ColumnElement, String, cast, func, select
from sqlalchemy.orm import Session

from queries.changes import (
    IDS_PER_STATEMENT,
    MARGIN,
    MAX_CHANGES,
    WrittenSince,
)
from queries.models import STATUS_CANCELLED, Case, Category, VolunteerActivity
from queries.repeats import find_repeats
from queries.rules import (
    CAUSE_OVERDUE,
    CAUSE_PROBLEMS,
    CAUSE_REPEAT,
    CAUSE_REWORK,
    CAUSES,
    Rules,
)

NEVER = np.iinfo(np.int64).max  # "no deadline" / "not finished" in microsecond columns


@dataclass(frozen=True)
class CaseColumns:
    """Registered, non-cancelled cases as columns; times in microseconds since 1970."""

    ids: np.ndarray
    category: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    registered: np.ndarray
    street: np.ndarray
    grid: np.ndarray
    severity: np.ndarray
    deadline: np.ndarray  # NEVER when the case has none
    finished: np.ndarray  # handled, else closed; NEVER while still open
    rework: np.ndarray
    precise: np.ndarray  # location_precise: imprecise cases take no part in spatial repeats

    def take(self, index: np.ndarray) -> CaseColumns:
        """Return the cases at ``index``."""
        return CaseColumns(**{name: getattr(self, name)[index] for name in self.__annotations__})

    def extend(self, *later: CaseColumns) -> CaseColumns:
        """Return these cases followed by the ``later`` ones."""
        return CaseColumns(**{name: np.concatenate([getattr(c, name) for c in (self, *later)])
                              for name in self.__annotations__})


@dataclass(frozen=True)
class StreetTally:
    """What a street's problems cost in a month, before normalisation and caps."""

    causes: dict[str, float]
    problems: int
    costly: int
    overdue: int
    rework: int
    repeats: dict[int, int]


@dataclass(frozen=True)
class GridTally:
    """What a unit grid's problems cost in a month, per cause (before caps)."""

    causes: dict[str, float]
    problems: int


@dataclass(frozen=True)
class MonthTally:
    """A month's tallies: per street area id, and per grid area id."""

    streets: dict[int, StreetTally]
    grids: dict[int, GridTally]


def micros(moment: datetime) -> int:
    """Return microseconds since 1970-01-01 of a naive local timestamp."""
    return int(np.datetime64(moment, "us").astype(np.int64))


def load_case_columns(session: Session, start: datetime, end: datetime) -> CaseColumns:
    """Load the cases registered in [start, end), not cancelled, in id order.

    In id order so that the same cases give the same columns however they were read (whole, or
    patched by ``KeptColumns``), and every sum over them adds in the same order.
    """
    return _read_columns(session, Case.registered_at >= start, Case.registered_at < end)


def _read_columns(session: Session, *where: ColumnElement[bool]) -> CaseColumns:
    # Timestamps are fetched as text, cast in SQL: numpy parses ISO text ten times faster than
    # it converts datetime objects, and psycopg made one per timestamp (a 1M-case year's five
    # months read 2.1 s instead of 3.9 s on PostgreSQL). SQLite stores ISO text; PostgreSQL's
    # cast follows DateStyle, which the engine sets to ISO on every connection.
    raw = [cast(column, String) for column in (
        Case.registered_at, Case.deadline_at, func.coalesce(Case.handled_at, Case.closed_at))]
    rows = session.connection().execute(
        select(Case.id, Case.category_id, Case.lat, Case.lon, Case.street_id, Case.grid_id,
               Case.severity, Case.rework_count, *raw, Case.location_precise)
        .where(*where, Case.status != STATUS_CANCELLED)
    ).all()
    columns = list(zip(*rows)) if rows else [()] * 12
    ints = [np.array(c, dtype=np.int64) for c in columns[:2]]
    registered, deadline, finished = (_micros(c) for c in columns[8:11])
    read = CaseColumns(
        ids=ints[0], category=ints[1],
        lat=np.array(columns[2], dtype=np.float64), lon=np.array(columns[3], dtype=np.float64),
        registered=registered, street=np.array(columns[4], dtype=np.int64),
        grid=np.array([-1 if g is None else g for g in columns[5]], dtype=np.int64),
        severity=np.array([s or 1 for s in columns[6]], dtype=np.int64),
        rework=np.array([r or 0 for r in columns[7]], dtype=np.int64),
        deadline=deadline, finished=finished,
        precise=np.array([p is None or bool(p) for p in columns[11]], dtype=bool),
    )
    return read.take(np.argsort(read.ids, kind="stable"))


def day_runs(days: Iterable[date]) -> list[tuple[datetime, datetime]]:
    """Return the days as [start, end) spans of consecutive days, in order: one read each."""
    spans: list[tuple[datetime, datetime]] = []
    for day in sorted(set(days)):
        low = datetime.combine(day, datetime.min.time())
        if spans and spans[-1][1] == low:
            spans[-1] = (spans[-1][0], low + timedelta(days=1))
        else:
            spans.append((low, low + timedelta(days=1)))
    return spans


class KeptColumns:
    """The case columns of the ranges a process's assessments load, kept and patched.

    Each ``load`` first looks for the cases written since the previous look and re-reads those
    rows by id, in every kept range: a written case leaves the range it was in and joins the one
    its new registration time falls in (or none, once cancelled). Then it reads again the cases
    of every kept day whose checksum row the day cache found changed since (its version moved:
    ``DayCache.versions``): that row was read after the write that changed it, and may hold
    writes no updated-at shows (SQL by hand, a hard delete), so the columns hold at least what
    the row holds. Those writes are the day cache's to find (its 10-minute backstop): one that
    finds every row as it was reads no case again (it read five months of cases whole, 4-8 s
    on a 1M-case year). One case is beyond the rows: a write by hand committed between an
    assessment's row read and its column read (the columns then hold it, which is allowed) and
    later undone by hand reads as the kept row again, so no version moves; the ranges are read
    whole again every ``BACKSTOP_SECONDS`` (an hour) for it (found by review). The look and
    those reads come after the caller read the day rows (``DayRows.ensure``), and every range
    is dropped when the day cache dropped its rows (a new ``epoch``), so a kept month is never
    stored under a digest fresher than the columns it was tallied from, under READ COMMITTED
    too. At most ``RANGES`` ranges are kept (the least recently used go); a case costs about
    90 bytes, some 40 MB a range for a 1M-case year.
    """

    RANGES = 4
    BACKSTOP_SECONDS = 3600.0

    def __init__(self, *, margin: timedelta = MARGIN,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.lock = threading.Lock()
        self.read_whole = 0  # ranges read whole, for the tests
        self.read_again = 0  # written cases re-read by id, for the tests
        self.days_again = 0  # days whose cases were read again, for the tests
        self._ranges: OrderedDict[tuple[datetime, datetime], CaseColumns] = OrderedDict()
        self._epoch: object | None = None
        self._versions: dict[str, int] = {}  # the day cache's versions the columns hold
        self._changes = WrittenSince(limit=MAX_CHANGES, backstop_seconds=self.BACKSTOP_SECONDS,
                                     margin=margin, monotonic=monotonic)

    def load(self, session: Session, start: datetime, end: datetime,
             reads: tuple[object, dict[str, int]]) -> CaseColumns:
        """Return the cases registered in [start, end), not cancelled, as ``load_case_columns``.

        ``reads`` is the day cache's ``reads()``, taken after the days of the range were read.
        """
        epoch, versions = reads
        with self.lock:
            changed = self._changes.look(session)
            try:
                if changed is None or epoch is not self._epoch:
                    self._ranges.clear()
                    self._epoch = epoch
                else:
                    if changed:
                        self._patch(session, changed)
                    self._read_days_again(session, [
                        day for day, version in versions.items()
                        if self._versions.get(day) != version])
                self._versions = versions
                key = (start, end)
                columns = self._ranges.get(key)
                if columns is None:
                    columns = load_case_columns(session, start, end)
                    self.read_whole += 1
                    self._ranges[key] = columns
                    while len(self._ranges) > self.RANGES:
                        self._ranges.popitem(last=False)
                self._ranges.move_to_end(key)
                return columns
            except BaseException:  # the changes the look found would be lost: keep nothing
                self._ranges.clear()
                raise

    def _patch(self, session: Session, changed: list[int]) -> None:
        batches = [_read_columns(session, Case.id.in_(changed[i:i + IDS_PER_STATEMENT]))
                   for i in range(0, len(changed), IDS_PER_STATEMENT)]
        self.read_again += len(changed)
        self._replace(batches[0].extend(*batches[1:]), np.array(changed, dtype=np.int64), None)

    def _read_days_again(self, session: Session, days: list[str]) -> None:
        one = timedelta(days=1)
        wanted = [day for day in (datetime.strptime(d, "%Y-%m-%d") for d in days)
                  if any(day < end and day + one > start for start, end in self._ranges)]
        for low, high in day_runs(day.date() for day in wanted):
            fresh = load_case_columns(session, low, high)
            self.days_again += (high - low).days
            self._replace(fresh, fresh.ids, (low, high))

    def _replace(self, fresh: CaseColumns, gone: np.ndarray,
                 span: tuple[datetime, datetime] | None) -> None:
        """Put ``fresh`` rows in every range, dropping the ``gone`` ids and, with ``span``,
        every row registered in it (those rows are read again whole)."""
        for (start, end), columns in self._ranges.items():
            stay = ~np.isin(columns.ids, gone)
            if span is not None:
                stay &= (columns.registered < micros(span[0])) | (
                    columns.registered >= micros(span[1]))
            joins = np.flatnonzero((fresh.registered >= micros(start))
                                   & (fresh.registered < micros(end)))
            patched = columns.take(np.flatnonzero(stay)).extend(fresh.take(joins))
            self._ranges[(start, end)] = patched.take(np.argsort(patched.ids, kind="stable"))


Occurrences = Callable[..., np.ndarray]


def occurrences(case_ids: np.ndarray, categories: np.ndarray, lat: np.ndarray, lon: np.ndarray,
                micros: np.ndarray, *, radius_m: float, days: int) -> np.ndarray:
    """Return each case's repeat occurrence (``find_repeats``, computed every time)."""
    return find_repeats(case_ids, categories, lat, lon, micros, radius_m=radius_m, days=days)[1]


@dataclass(frozen=True)
class _Detected:
    """One detection's inputs and occurrences, all in rank order (time, then case id)."""

    inputs: tuple[np.ndarray, ...]  # ids, categories, lat, lon, times
    occurrence: np.ndarray
    rule: tuple[float, int]  # radius_m, days


class KeptRepeats:
    """Repeat occurrences kept with the inputs they came from, reused or extended.

    Detection is about a second for a month's window on a 1M-case year and reads only ids,
    categories, places and times. A tally made again because cases were dispatched, handled or
    closed finds the same inputs and takes the kept answer. Inputs that are kept ones plus cases
    ranked after all of them (the running month's new registrations) leave every earlier
    occurrence as it was, since a case's match is always an earlier case: only the new cases are
    matched, against the earlier cases of their categories within the rule's days. Anything else
    (a case moved, cancelled, backdated) is detected again in full. ``SIZE`` detections are kept.
    """

    SIZE = 3

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.computed = 0  # full detections run, for the tests
        self.extended = 0  # detections extended by later cases, for the tests
        self._kept: list[_Detected] = []  # the most recently used first

    def __call__(self, case_ids: np.ndarray, categories: np.ndarray, lat: np.ndarray,
                 lon: np.ndarray, micros: np.ndarray, *, radius_m: float,
                 days: int) -> np.ndarray:
        """Return ``occurrences(...)`` for these inputs."""
        order = np.lexsort((case_ids, micros))
        ranked = tuple(np.asarray(c)[order] for c in (case_ids, categories, lat, lon, micros))
        rule = (float(radius_m), int(days))
        with self.lock:
            base = max((d for d in self._kept if d.rule == rule and _heads(d.inputs, ranked)),
                       key=lambda d: len(d.occurrence), default=None)
        if base is not None and len(base.occurrence) == len(order):
            found = base
        else:
            if base is None:
                occurrence = occurrences(*ranked, radius_m=radius_m, days=days)
            else:
                occurrence = _extend(base, ranked, radius_m=radius_m, days=days)
            occurrence.setflags(write=False)
            found = _Detected(ranked, occurrence, rule)
        with self.lock:
            if base is None:
                self.computed += 1
            elif found is not base:
                self.extended += 1
            self._kept = [found, *(d for d in self._kept if d is not found)]
            del self._kept[self.SIZE:]
        result = np.empty(len(order), dtype=np.int64)
        result[order] = found.occurrence
        return result


def _heads(kept: tuple[np.ndarray, ...], ranked: tuple[np.ndarray, ...]) -> bool:
    """Whether ``kept`` inputs are the first cases, in rank order, of ``ranked``."""
    n = len(kept[0])
    return n <= len(ranked[0]) and all(
        np.array_equal(old, new[:n]) for old, new in zip(kept, ranked, strict=True))


def _extend(base: _Detected, ranked: tuple[np.ndarray, ...], *, radius_m: float,
            days: int) -> np.ndarray:
    """Return the occurrences of ``ranked``, whose first cases are ``base``'s, in rank order."""
    ids, categories, lat, lon, times = ranked
    head = len(base.occurrence)
    since = times[head] - days * 86_400_000_000
    earlier = np.flatnonzero((times[:head] >= since)
                             & np.isin(categories[:head], categories[head:]))
    subset = np.concatenate([earlier, np.arange(head, len(ids))])
    match, _ = find_repeats(ids[subset], categories[subset], lat[subset], lon[subset],
                            times[subset], radius_m=radius_m, days=days)
    occurrence = np.concatenate([base.occurrence, np.zeros(len(ids) - head, dtype=np.int64)])
    for k in range(len(earlier), len(subset)):  # the new cases, in rank order
        occurrence[subset[k]] = 1 if match[k] < 0 else occurrence[subset[match[k]]] + 1
    return occurrence


def category_points(session: Session, rules: Rules) -> np.ndarray:
    """Return the base deduction by category id (rows) and severity 1–3 (columns)."""
    rows = session.execute(select(Category.id, Category.kind, Category.major)).all()
    table = np.zeros((max((r[0] for r in rows), default=0) + 1, 3))
    for category_id, kind, major in rows:
        table[category_id] = [rules.deductions.points(kind, major, s) for s in (1, 2, 3)]
    return table


def tally_month(cases: CaseColumns, start: datetime, end: datetime, rules: Rules,
                points: np.ndarray, now: datetime,
                find: Occurrences = occurrences) -> MonthTally:
    """Cost every problem registered in [start, end) and add the costs up by street and grid.

    ``find`` finds the repeat occurrences (``KeptRepeats`` in a long-running process)."""
    window = (cases.registered >= micros(start) - rules.repeat.history_days * 86_400_000_000) & (
        cases.registered < micros(end))
    seen = cases.take(np.flatnonzero(window))
    occurrence = np.ones(len(seen.ids), dtype=np.int64)
    placed = np.flatnonzero(seen.precise)  # an imprecise point repeats nothing
    occurrence[placed] = find(
        seen.ids[placed], seen.category[placed], seen.lat[placed], seen.lon[placed],
        seen.registered[placed], radius_m=rules.repeat.radius_m, days=rules.repeat.days)
    in_month = np.flatnonzero(seen.registered >= micros(start))
    month, occurrence = seen.take(in_month), occurrence[in_month]
    if len(in_month) == 0:
        return MonthTally(streets={}, grids={})

    base = points[month.category, np.clip(month.severity, 1, 3) - 1]
    factors = np.array([rules.repeat.multiplier(k) for k in range(int(occurrence.max()) + 1)])
    # Overdue as it stood at ``now``: finished after its deadline, or still open past it then
    # (``now`` may be the end of an earlier span, so later finishes count as open).
    overdue = month.deadline < np.minimum(month.finished, micros(now))
    costs = {
        CAUSE_PROBLEMS: base,
        CAUSE_REPEAT: base * (factors[occurrence] - 1),
        CAUSE_OVERDUE: overdue * rules.overdue_per_case,
        CAUSE_REWORK: month.rework * rules.rework_per_time,
    }
    cost = sum(costs.values())
    streets, street_of = np.unique(month.street, return_inverse=True)
    size = len(streets)

    def per_street(values: np.ndarray) -> np.ndarray:
        return np.bincount(street_of, weights=values, minlength=size)

    sums = {cause: per_street(values) for cause, values in costs.items()}
    counts = np.bincount(street_of, minlength=size)
    costly = per_street(cost >= rules.cost_threshold - 1e-9)
    late = per_street(overdue)
    rework = per_street(month.rework)
    repeats: dict[int, dict[int, int]] = {int(s): {} for s in streets}
    found = occurrence > 1
    pairs, n = np.unique(np.stack([month.street[found], occurrence[found]]), axis=1,
                         return_counts=True)
    for (street, times), count in zip(pairs.T, n, strict=True):
        repeats[int(street)][int(times)] = int(count)
    tallies = {
        int(street): StreetTally(
            causes={cause: float(sums[cause][k]) for cause in CAUSES}, problems=int(counts[k]),
            costly=int(costly[k]), overdue=int(late[k]), rework=int(rework[k]),
            repeats=repeats[int(street)])
        for k, street in enumerate(streets)
    }
    grids, grid_of = np.unique(month.grid, return_inverse=True)
    grid_sums = {cause: np.bincount(grid_of, weights=values, minlength=len(grids))
                 for cause, values in costs.items()}
    grid_counts = np.bincount(grid_of, minlength=len(grids))
    return MonthTally(streets=tallies, grids={  # -1: no grid known (kept at street level)
        int(g): GridTally(causes={cause: float(grid_sums[cause][k]) for cause in CAUSES},
                          problems=int(grid_counts[k]))
        for k, g in enumerate(grids) if g >= 0})


def volunteer_hours(session: Session, start: datetime, end: datetime) -> dict[int, float]:
    """Return service hours of the activities that started in [start, end), by grid id."""
    rows = session.execute(
        select(VolunteerActivity.grid_id, func.sum(VolunteerActivity.service_hours))
        .where(VolunteerActivity.start_at >= start, VolunteerActivity.start_at < end)
        .group_by(VolunteerActivity.grid_id)
    )
    return {grid_id: float(total or 0.0) for grid_id, total in rows}


def _micros(values: tuple) -> np.ndarray:
    """Convert timestamps (ISO text; None for missing) to microseconds, NEVER for None."""
    stamps = np.array(values, dtype="datetime64[us]")
    out = stamps.astype(np.int64)
    out[np.isnat(stamps)] = NEVER
    return out
