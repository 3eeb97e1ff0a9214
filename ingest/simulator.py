"""The live simulator: new cases arrive and open ones move along their lifecycle.

Runs as a scheduler job in demo mode only. Arrivals follow the hour of day (busy daytime, quiet
night) at ``speedup`` times a real district's rate, so a wall left running visibly changes
within a minute or two; every step writes the case's stage timestamp and a ``CaseEvent``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import shapely
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from ingest.democity import SOURCE_WEIGHTS, make_address, make_description, sample_point_in_grid
from queries.models import (
    LEVEL_COMMUNITY,
    LEVEL_GRID,
    LEVEL_STREET,
    SETTLED_DISTRICT,
    SETTLED_GRID,
    SETTLED_STREET,
    STATUS_CLOSED,
    STATUS_DISPATCHED,
    STATUS_HANDLING,
    STATUS_REGISTERED,
    STATUS_REPORTED,
    STATUS_VERIFYING,
    URGENCY_NORMAL,
    URGENCY_URGENT,
    Area,
    Case,
    CaseEvent,
    Category,
    Department,
)
from queries.repeats import earlier_problem
from queries.rules import RepeatRule, load_rules
from queries.workcalendar import WorkCalendar, default_calendar

log = logging.getLogger(__name__)

# Relative arrivals per hour of day (sums to 24): the daytime peak of a real district.
HOURLY_SHAPE = np.array([0.2, 0.1, 0.1, 0.1, 0.2, 0.4, 0.8, 1.3, 1.8, 2.0, 2.0, 1.7,
                         1.3, 1.4, 1.8, 1.9, 1.8, 1.6, 1.2, 0.9, 0.6, 0.4, 0.3, 0.2])
HOURLY_SHAPE = HOURLY_SHAPE / HOURLY_SHAPE.sum() * 24
# Minimum age in a stage before the simulator may move a case on, and the chance per tick.
STEP_RULES: dict[str, tuple[timedelta, float]] = {
    STATUS_REPORTED: (timedelta(minutes=1), 0.5),
    STATUS_REGISTERED: (timedelta(minutes=1), 0.5),
    STATUS_DISPATCHED: (timedelta(minutes=3), 0.2),
    STATUS_HANDLING: (timedelta(minutes=10), 0.05),
    STATUS_VERIFYING: (timedelta(minutes=3), 0.3),
}
STAGE_COLUMN = {
    STATUS_REPORTED: Case.reported_at,
    STATUS_REGISTERED: Case.registered_at,
    STATUS_DISPATCHED: Case.dispatched_at,
    STATUS_HANDLING: Case.dispatched_at,
    STATUS_VERIFYING: Case.handled_at,
}


@dataclass(frozen=True)
class _Grid:
    id: int
    community_id: int
    street_id: int
    street: str
    community: str
    polygon: shapely.Polygon


class Simulator:
    """Adds and advances cases in the live database; ``tick`` is the scheduled job."""

    def __init__(self, sessions: sessionmaker[Session], *, seed: int | None = None,
                 speedup: float = 6.0, daily_cases: float = 400.0, max_steps: int = 40,
                 calendar: WorkCalendar | None = None, repeat: RepeatRule | None = None,
                 clock: Callable[[], datetime] = datetime.now) -> None:
        self.sessions = sessions
        self.rng = np.random.default_rng(seed)
        self.speedup = speedup
        self.daily_cases = daily_cases
        self.max_steps = max_steps
        self.calendar = calendar or default_calendar()
        self.clock = clock
        self.repeat = repeat or load_rules().repeat
        self._sources = list(SOURCE_WEIGHTS)
        self._source_p = np.array(list(SOURCE_WEIGHTS.values())) / sum(SOURCE_WEIGHTS.values())
        self._grids: list[_Grid] | None = None
        self._categories: list[tuple[int, str, float, float, int | None]] = []
        self._last_tick: datetime | None = None
        self._serial = 0

    def _load(self, session: Session) -> None:
        areas = {a.id: a for a in session.scalars(
            select(Area).where(Area.level.in_((LEVEL_STREET, LEVEL_COMMUNITY, LEVEL_GRID))))}
        grids = []
        for a in areas.values():
            if a.level != LEVEL_GRID or a.parent_id is None:
                continue
            community = areas[a.parent_id]
            street = areas[community.parent_id]  # type: ignore[index]
            grids.append(_Grid(a.id, community.id, street.id, street.name, community.name,
                               shapely.from_geojson(a.geometry)))
        self._grids = sorted(grids, key=lambda g: g.id)
        departments = dict(session.execute(select(Department.code, Department.id)).all())
        self._categories = [
            (c.id, c.minor, c.limit_hours, c.urgent_limit_hours, departments.get(c.department_code))
            for c in session.scalars(select(Category).order_by(Category.id))
        ]
        self._serial = session.scalar(select(func.count()).select_from(Case)) or 0

    def tick(self, now: datetime | None = None) -> int:
        """Run one step at ``now``: add arrivals, advance open cases; return cases touched."""
        now = (now or self.clock()).replace(microsecond=0)
        elapsed = 5.0 if self._last_tick is None else (now - self._last_tick).total_seconds()
        self._last_tick = now
        with self.sessions() as session:
            if self._grids is None:
                self._load(session)
            if not self._grids or not self._categories:
                return 0
            rate = self.daily_cases / 24 * HOURLY_SHAPE[now.hour] * self.speedup
            arrivals = int(self.rng.poisson(rate * max(elapsed, 0.0) / 3600))
            for _ in range(arrivals):
                self._add_case(session, now)
            moved = self._advance(session, now)
            session.commit()
        if arrivals or moved:
            log.info("simulator: %d new cases, %d moved on", arrivals, moved)
        return arrivals + moved

    def _add_case(self, session: Session, now: datetime) -> None:
        assert self._grids is not None
        grid = self._grids[int(self.rng.integers(len(self._grids)))]
        cat_id, minor, _limit, _urgent, dept_id = self._categories[
            int(self.rng.integers(len(self._categories)))]
        lat, lon = sample_point_in_grid(self.rng, grid.polygon)
        self._serial += 1
        source = self._sources[int(self.rng.choice(len(self._sources), p=self._source_p))]
        case_id = session.execute(insert(Case).values(
            source_system="demo", external_id=f"YH{now:%Y%m%d}L{self._serial:07d}",
            source=source, category_id=cat_id, description=make_description(self.rng, minor),
            address=make_address(self.rng, grid.street, grid.community), lat=lat, lon=lon,
            grid_id=grid.id, community_id=grid.community_id, street_id=grid.street_id,
            department_id=dept_id, status=STATUS_REPORTED,
            urgency=URGENCY_URGENT if self.rng.random() < 0.08 else URGENCY_NORMAL,
            severity=int(self.rng.choice([1, 2, 3], p=[0.7, 0.25, 0.05])),
            valid_report=True, reported_at=now,
        ).returning(Case.id)).scalar_one()
        session.add(CaseEvent(case_id=case_id, at=now, action="上报", actor=source))

    def _advance(self, session: Session, now: datetime) -> int:
        moved = 0
        limits = {c[0]: (c[2], c[3]) for c in self._categories}
        for status, (min_age, chance) in STEP_RULES.items():
            column = STAGE_COLUMN[status]
            rows = session.execute(
                select(Case.id, Case.category_id, Case.urgency, Case.grid_id)
                .where(Case.status == status, column <= now - min_age)
                .order_by(column).limit(self.max_steps)
            ).all()
            for case_id, category_id, urgency, _grid in rows:
                if self.rng.random() >= chance:
                    continue
                self._step(session, case_id, status, now, limits[category_id],
                           urgency == URGENCY_URGENT)
                moved += 1
        return moved

    def _step(self, session: Session, case_id: int, status: str, now: datetime,
              limits: tuple[float, float], urgent: bool) -> None:
        values: dict[str, object]
        if status == STATUS_REPORTED:
            # A registered case is linked to the problem it repeats, by the one repeat rule.
            category_id, lat, lon = session.execute(
                select(Case.category_id, Case.lat, Case.lon).where(Case.id == case_id)).one()
            repeat_of = earlier_problem(session, category_id=category_id, lat=lat, lon=lon,
                                        at=now, radius_m=self.repeat.radius_m,
                                        days=self.repeat.days)
            values = {"status": STATUS_REGISTERED, "registered_at": now, "repeat_of_id": repeat_of}
            action = "立案"
        elif status == STATUS_REGISTERED:
            deadline = self.calendar.add_working_hours(now, limits[1] if urgent else limits[0])
            values = {"status": STATUS_DISPATCHED, "dispatched_at": now, "deadline_at": deadline,
                      "original_deadline_at": deadline}
            action = "派遣"
        elif status == STATUS_DISPATCHED:
            values, action = {"status": STATUS_HANDLING}, "处置"
        elif status == STATUS_HANDLING:
            values, action = {"status": STATUS_VERIFYING, "handled_at": now}, "处置完成"
        elif self.rng.random() < 0.06:  # failed verification: back to the unit (返工)
            values = {"status": STATUS_HANDLING, "handled_at": None,
                      "rework_count": Case.rework_count + 1}
            action = "返工"
        else:
            level = self.rng.choice([SETTLED_GRID, SETTLED_STREET, SETTLED_DISTRICT],
                                    p=[0.65, 0.25, 0.10])
            values = {"status": STATUS_CLOSED, "closed_at": now, "settled_level": str(level)}
            action = "结案"
        session.execute(update(Case).where(Case.id == case_id).values(**values))
        session.add(CaseEvent(case_id=case_id, at=now, action=action, actor="指挥中心"))
