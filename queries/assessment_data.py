"""What the monthly assessment reads, as numpy columns, and one month's tally per street and grid.

Scoring a month needs its problems and, for repeat detection, the cases registered up to
``history_days`` before it. ``CaseColumns`` loads a range of months in one query, so the
bottom-of-group streak, which walks back month by month, reads each case once rather than once
for every month that looks at it. The tally is vectorised: no Python loop over cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import String, func, select, type_coerce
from sqlalchemy.orm import Session

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

    def extend(self, later: CaseColumns) -> CaseColumns:
        """Return these cases followed by ``later`` ones."""
        return CaseColumns(**{name: np.concatenate([getattr(self, name), getattr(later, name)])
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
    """Load the cases registered in [start, end), not cancelled."""
    # Timestamps are fetched untyped: numpy parses SQLite's ISO text ten times faster than
    # datetime objects, and a driver that returns datetimes (psycopg) converts just the same.
    raw = [type_coerce(column, String) for column in (
        Case.registered_at, Case.deadline_at, func.coalesce(Case.handled_at, Case.closed_at))]
    rows = session.connection().execute(
        select(Case.id, Case.category_id, Case.lat, Case.lon, Case.street_id, Case.grid_id,
               Case.severity, Case.rework_count, *raw, Case.location_precise)
        .where(Case.registered_at >= start, Case.registered_at < end,
               Case.status != STATUS_CANCELLED)
    ).all()
    columns = list(zip(*rows)) if rows else [()] * 12
    ints = [np.array(c, dtype=np.int64) for c in columns[:2]]
    registered, deadline, finished = (_micros(c) for c in columns[8:11])
    return CaseColumns(
        ids=ints[0], category=ints[1],
        lat=np.array(columns[2], dtype=np.float64), lon=np.array(columns[3], dtype=np.float64),
        registered=registered, street=np.array(columns[4], dtype=np.int64),
        grid=np.array([-1 if g is None else g for g in columns[5]], dtype=np.int64),
        severity=np.array([s or 1 for s in columns[6]], dtype=np.int64),
        rework=np.array([r or 0 for r in columns[7]], dtype=np.int64),
        deadline=deadline, finished=finished,
        precise=np.array([p is None or bool(p) for p in columns[11]], dtype=bool),
    )


def category_points(session: Session, rules: Rules) -> np.ndarray:
    """Return the base deduction by category id (rows) and severity 1–3 (columns)."""
    rows = session.execute(select(Category.id, Category.kind, Category.major)).all()
    table = np.zeros((max((r[0] for r in rows), default=0) + 1, 3))
    for category_id, kind, major in rows:
        table[category_id] = [rules.deductions.points(kind, major, s) for s in (1, 2, 3)]
    return table


def tally_month(cases: CaseColumns, start: datetime, end: datetime, rules: Rules,
                points: np.ndarray, now: datetime) -> MonthTally:
    """Cost every problem registered in [start, end) and add the costs up by street and grid."""
    window = (cases.registered >= micros(start) - rules.repeat.history_days * 86_400_000_000) & (
        cases.registered < micros(end))
    seen = cases.take(np.flatnonzero(window))
    occurrence = np.ones(len(seen.ids), dtype=np.int64)
    placed = np.flatnonzero(seen.precise)  # an imprecise point repeats nothing
    _, occurrence[placed] = find_repeats(
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
    """Convert timestamps (ISO text or datetime; None for missing) to microseconds,
    NEVER for None."""
    stamps = np.array(values, dtype="datetime64[us]")
    out = stamps.astype(np.int64)
    out[np.isnat(stamps)] = NEVER
    return out
