"""The live simulator: the demo city carries on in real time, in a steady state at every hour.

Runs as a scheduler job in demo mode only. Each ``tick`` covers the simulated time since the
last one, whatever the interval:

- **arrivals** are Poisson with the generator's hourly intensity (hour of day, rest days,
  season: ``lifecycle.arrival_weight``), scaled to the city's own volume over the last 28 days,
  so a 150,000-case demo gets the ~380 cases a day its history has;
- **stage times are drawn when a case enters a stage**, from the model the generator used for
  the history (``ingest.lifecycle``), and a case moves on when its drawn time has passed, with
  that time as its stage timestamp. A case the simulator finds already open (the history, or
  its own cases after a restart) gets its remaining times drawn then, from the same
  distribution conditioned on the time it has already spent in its stage — drawn lazily rather
  than stored by the generator, because the simulator's plans live in memory and must be
  redrawn after any restart anyway, and because the same rule then works on a database the
  generator did not write;
- **catch-up is bounded**: a pause up to ``max_gap`` is replayed exactly (arrivals and
  transitions of the span, at their own times); after a longer one (a laptop asleep, a
  database restored) the simulator starts afresh at ``now`` — plans redrawn conditioned on age,
  arrivals from ``now`` — instead of writing hours of cases at once.

A registered case is linked to the problem it repeats by the detection rule itself
(``queries.repeats.find_repeats`` by registration time, cancelled cases excluded), and the
cases linked to one that is cancelled later are linked again, so stored links always equal
what detection finds.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import shapely
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ingest import lifecycle as lc
from ingest.democity import (
    CENTRE,
    P_REPEAT,
    P_SATISFIED,
    P_URGENT,
    REPEAT_DAYS,
    REPEAT_RADIUS_M,
    SETTLED_P,
    SOURCE_WEIGHTS,
    YEAR_SHAPE,
    make_address,
    make_description,
    sample_point_in_grid,
)
from ingest.geometry import LocalFrame
from ingest.reference import CATEGORIES, SEASONS, local_department_code
from ingest.spatial import SectionLocator
from queries.engine import error_reason
from queries.models import (
    LEVEL_COMMUNITY,
    LEVEL_GRID,
    LEVEL_STREET,
    OPEN_STATUSES,
    SETTLED_LEVELS,
    SOURCE_HOTLINE,
    STATUS_CANCELLED,
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
from queries.repeats import EARTH_RADIUS_M, find_repeats
from queries.rules import RepeatRule, load_rules
from queries.workcalendar import WorkCalendar, default_calendar

log = logging.getLogger(__name__)

RATE_WINDOW_DAYS = 28  # the city's volume is measured over this many days before the start
GRID_WINDOW_DAYS = 90  # and where it happens (each grid's share) over this many
CLOCK_BEFORE_DAYS = 120  # the working-time table reaches this far back from now
CLOCK_AFTER_DAYS = 240  # and this far ahead; rebuilt when now comes within half of it
ACTOR = "指挥中心"

# Actions a planned transition can take, and the statuses a case must hold for it to apply.
REGISTER, INVALID, CANCEL, MISDISPATCH, DISPATCH, ACCEPT, EXTEND, HANDLED, REWORK, CLOSE = (
    "register", "invalid", "cancel", "misdispatch", "dispatch", "accept", "extend", "handled",
    "rework", "close")
FROM_STATUS = {
    REGISTER: (STATUS_REPORTED,), INVALID: (STATUS_REPORTED,),
    CANCEL: (STATUS_REGISTERED,), MISDISPATCH: (STATUS_REGISTERED,),
    DISPATCH: (STATUS_REGISTERED,), ACCEPT: (STATUS_DISPATCHED,),
    EXTEND: (STATUS_DISPATCHED, STATUS_HANDLING), HANDLED: (STATUS_DISPATCHED, STATUS_HANDLING),
    REWORK: (STATUS_VERIFYING,), CLOSE: (STATUS_VERIFYING,),
}


@dataclass(frozen=True)
class _Grid:
    id: int
    community_id: int
    street_id: int
    street: str
    community: str
    polygon: shapely.Polygon


@dataclass(frozen=True)
class _Category:
    id: int
    minor: str
    limit: float
    urgent_limit: float
    department_id: int | None
    local: bool  # a problem the street settles itself, often (属地)


@dataclass
class _Live:
    """What the simulator keeps of an open case to draw its next stages."""

    id: int
    limit: float  # working hours, by urgency
    department: str
    hotline: bool
    department_id: int | None = None
    local: bool = False  # its category is one a street often settles itself
    level: str | None = None  # settled level, drawn at arrival (None: draw at handling)
    dispatched: int | None = None
    handled: int | None = None
    first_deadline: int | None = None
    deadline: int | None = None
    extended: bool = False
    reworks: int = 0
    stuck: bool = False


class Simulator:
    """Adds and advances cases in the live database; ``tick`` is the scheduled job."""

    def __init__(self, sessions: sessionmaker[Session], *, seed: int | None = None,
                 speedup: float = 1.0, daily_cases: float | None = None,
                 calendar: WorkCalendar | None = None, repeat: RepeatRule | None = None,
                 clock: Callable[[], datetime] = datetime.now,
                 tick_seconds: float = 5.0, max_gap: timedelta = timedelta(hours=1)) -> None:
        """``speedup`` multiplies arrivals only (1: the city's own rate, a steady state);
        ``daily_cases`` fixes the rate instead of measuring it from the database."""
        self.sessions = sessions
        self.rng = np.random.default_rng(seed)
        self.speedup = speedup
        self.daily_cases = daily_cases
        self.calendar = calendar or default_calendar()
        self.clock = clock
        self.repeat = repeat or load_rules().repeat
        self.tick_seconds = tick_seconds
        self.max_gap = max_gap
        self._sources = list(SOURCE_WEIGHTS)
        self._source_p = np.array(list(SOURCE_WEIGHTS.values())) / sum(SOURCE_WEIGHTS.values())
        self._frame = LocalFrame(*CENTRE)
        self._grids: list[_Grid] = []
        self._sections = SectionLocator([], [], [])
        self._grid_p = np.empty(0)
        self._categories: list[_Category] = []
        self._season = np.empty((0, 12))
        self._local_department: dict[int, int] = {}  # street id → its 属地 department
        self._department_name: dict[int, str] = {}
        self._month_volume = np.ones(12)
        self._scale = 0.0  # arrivals per unit of arrival weight
        self._work: lc.WorkClock | None = None
        self._live: dict[int, _Live] = {}
        # (time, case id, serial, action, the case's plan): in time order, then by case id
        self._queue: list[tuple[int, int, int, str, _Live]] = []
        self._serial = 0
        self._case_serial = 0
        self._last: int | None = None

    # --- the tick ---------------------------------------------------------------------------

    def tick(self, now: datetime | None = None) -> int:
        """Advance the city to ``now``: arrivals and due transitions; return cases touched."""
        now_s = lc.seconds_of((now or self.clock()).replace(microsecond=0))
        try:
            with self.sessions() as session:
                touched = self._run(session, now_s)
                session.commit()
        except OperationalError as exc:  # a locked or vanished database: try again next tick
            log.warning("simulator: tick skipped, the database is unavailable (%s)",
                        error_reason(exc))
            self._last = None  # start afresh: plans drawn before the failure may not be stored
            return 0
        return touched

    def _run(self, session: Session, now: int) -> int:
        if self._last is None or now - self._last > self.max_gap.total_seconds():
            self._start(session, now)
        if now <= self._last:  # type: ignore[operator]
            return 0
        start = self._last
        self._last = now
        if not self._grids or not self._categories:
            return 0
        self._ensure_clock(now)
        arrivals = self._arrivals(session, start, now)  # type: ignore[arg-type]
        self._plan_open(session, now)
        moved = self._apply_due(session, now)
        if arrivals or moved:
            log.info("simulator: %d new cases, %d moved on", arrivals, moved)
        return arrivals + moved

    def _start(self, session: Session, now: int) -> None:
        """Load the city and its rate; forget every plan (they are redrawn conditioned on age)."""
        self._load(session, now)
        self._live.clear()
        self._queue.clear()
        self._last = now - round(self.tick_seconds)

    def _load(self, session: Session, now: int) -> None:
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
        self._sections = SectionLocator.load(session)  # 路长 sections: a layer beside the grids
        moment = lc.datetime_of(now)
        recent = dict(session.execute(
            select(Case.grid_id, func.count()).where(
                Case.reported_at >= moment - timedelta(days=GRID_WINDOW_DAYS),
                Case.reported_at < moment).group_by(Case.grid_id)).all())
        # Where the city is busy: each grid's recent cases (plus a little, so none is never).
        weight = np.array([recent.get(g.id, 0) + 0.5 for g in self._grids], dtype=float)
        self._grid_p = weight / weight.sum() if len(weight) else weight
        departments = dict(session.execute(select(Department.code, Department.id)).all())
        self._department_name = {i: n for i, n in session.execute(
            select(Department.id, Department.name)).all()}
        codes = {a.id: a.code for a in areas.values() if a.level == LEVEL_STREET}
        self._local_department = {
            sid: departments[local_department_code(code)] for sid, code in codes.items()
            if local_department_code(code) in departments}
        specs = {c.code: c for c in CATEGORIES}
        rows = list(session.scalars(select(Category).order_by(Category.code)))
        self._categories = [
            _Category(c.id, c.minor, c.limit_hours, c.urgent_limit_hours,
                      departments.get(c.department_code or ""),
                      bool(specs[c.code].local) if c.code in specs else False)
            for c in rows]
        weights = np.array([specs[c.code].weight if c.code in specs else 1.0 for c in rows])
        season = np.array([SEASONS[specs[c.code].season] if c.code in specs else (1.0,) * 12
                           for c in rows])
        self._season = weights[:, None] * season if len(rows) else np.empty((0, 12))
        self._month_volume = (self._season.sum(axis=0) * YEAR_SHAPE if len(rows)
                              else np.ones(12))
        self._scale = self._measure_rate(session, now)
        self._case_serial = session.scalar(select(func.count()).select_from(Case)) or 0

    def _measure_rate(self, session: Session, now: int) -> float:
        """Arrivals per unit of ``arrival_weight``: the city's own volume, or ``daily_cases``.

        Measured over the 28 days before the last report, so a database left unused for a
        while (nothing reported since) does not read as a quiet city.
        """
        latest = session.scalar(select(func.max(Case.reported_at)))
        end = now if latest is None else min(now, lc.seconds_of(latest.replace(microsecond=0)))
        end -= end % 3600
        hours = np.arange(end - RATE_WINDOW_DAYS * lc.DAY, end, 3600)
        weight = lc.arrival_weight(hours, self.calendar, self._month_volume)
        if self.daily_cases is not None:
            return self.daily_cases * RATE_WINDOW_DAYS / float(weight.sum())
        count = session.scalar(select(func.count()).select_from(Case).where(
            Case.reported_at >= lc.datetime_of(int(hours[0])),
            Case.reported_at < lc.datetime_of(int(hours[-1]) + 3600))) or 0
        return count / float(weight.sum())

    def expected_arrivals(self, start: datetime, end: datetime) -> float:
        """Return the mean number of cases the simulator adds in [start, end) (after a tick)."""
        first, last = lc.seconds_of(start), lc.seconds_of(end)
        hours = np.arange(first - first % 3600, last, 3600)
        length = np.minimum(hours + 3600, last) - np.maximum(hours, first)
        weight = lc.arrival_weight(hours, self.calendar, self._month_volume)
        return float(self._scale * self.speedup * (weight * length / 3600).sum())

    def _ensure_clock(self, now: int) -> None:
        today = lc.datetime_of(now).date()
        if (self._work is None or (self._work.last - today).days < CLOCK_AFTER_DAYS // 2
                or (today - self._work.first).days > CLOCK_BEFORE_DAYS + 30):
            self._work = lc.WorkClock(self.calendar, today - timedelta(days=CLOCK_BEFORE_DAYS),
                                      today + timedelta(days=CLOCK_AFTER_DAYS))

    @property
    def work(self) -> lc.WorkClock:
        """The working-time table in use (built on the first tick)."""
        assert self._work is not None
        return self._work

    def _clamp(self, moment: int) -> int:
        """Keep a time inside the working-time table (a case dispatched long before it)."""
        return max(moment, lc.seconds_of(datetime.combine(self.work.first, datetime.min.time())))

    # --- arrivals ---------------------------------------------------------------------------

    def _arrivals(self, session: Session, start: int, end: int) -> int:
        """Insert the cases reported in (start, end], Poisson with the hourly intensity."""
        edges = np.unique(np.concatenate((
            [start], np.arange(start - start % 3600 + 3600, end, 3600), [end])))
        lows, highs = edges[:-1], edges[1:]
        rate = (self._scale * self.speedup * (highs - lows) / 3600
                * lc.arrival_weight(lows - lows % 3600, self.calendar, self._month_volume))
        counts = self.rng.poisson(rate)
        times = np.concatenate([
            lo + 1 + np.floor(self.rng.random(k) * (hi - lo)).astype(np.int64)
            for lo, hi, k in zip(lows.tolist(), highs.tolist(), counts.tolist())]
            or [np.empty(0, np.int64)])
        for at in np.sort(times).tolist():
            self._add_case(session, int(at))
        return int(counts.sum())

    def _add_case(self, session: Session, at: int) -> None:
        moment = lc.datetime_of(at)
        month = moment.month - 1
        p = self._season[:, month] / self._season[:, month].sum()
        cat = self._categories[int(self.rng.choice(len(p), p=p))]
        grid = self._grids[int(self.rng.choice(len(self._grids), p=self._grid_p))]
        lat, lon = sample_point_in_grid(self.rng, grid.polygon)
        if self.rng.random() < P_REPEAT:  # the same problem again, near an earlier case
            origin = self._origin(session, moment)
            if origin is not None:
                cat = next((c for c in self._categories if c.id == origin[1]), cat)
                grid = next((g for g in self._grids if g.id == origin[2]), grid)
                lat, lon = self._near(origin[3], origin[4], grid.polygon)
        urgent = bool(self.rng.random() < P_URGENT)
        severity = (int(self.rng.choice([2, 3], p=[0.6, 0.4])) if urgent
                    else int(self.rng.choice([1, 2, 3], p=[0.78, 0.19, 0.03])))
        level = int(self.rng.choice(3, p=SETTLED_P[cat.local]))
        department = cat.department_id
        if cat.local and level == 1:  # settled by the street itself: its own department
            department = self._local_department.get(grid.street_id, department)
        source = self._sources[int(self.rng.choice(len(self._sources), p=self._source_p))]
        self._case_serial += 1
        case_id = session.execute(insert(Case).values(
            source_system="demo", external_id=f"YH{moment:%Y%m%d}L{self._case_serial:07d}",
            source=source, category_id=cat.id, description=make_description(self.rng, cat.minor),
            address=make_address(self.rng, grid.street, grid.community), lat=lat, lon=lon,
            grid_id=grid.id, community_id=grid.community_id, street_id=grid.street_id,
            section_id=self._sections.locate(lon, lat), department_id=None, status=STATUS_REPORTED,
            urgency=URGENCY_URGENT if urgent else URGENCY_NORMAL, severity=severity,
            valid_report=True, reported_at=moment,
        ).returning(Case.id)).scalar_one()
        session.add(CaseEvent(case_id=case_id, at=moment, action="上报", actor=source))
        live = _Live(case_id, cat.urgent_limit if urgent else cat.limit,
                     self._department_name.get(department or -1, ACTOR),
                     source == SOURCE_HOTLINE, department_id=department,
                     local=cat.local, level=SETTLED_LEVELS[level])
        self._live[case_id] = live
        if self.rng.random() < lc.P_INVALID:
            self._push(at + int(lc.draw_between(self.rng, lc.INVALID_S, 1)[0]), live, INVALID)
        else:
            self._push(at + int(lc.REGISTER_DELAY.sample(self.rng, 1)[0]), live, REGISTER)

    def _origin(self, session: Session, moment: datetime) -> tuple | None:
        """Pick an earlier case (reported within ``REPEAT_DAYS``) for a repeat to follow."""
        window = (Case.reported_at >= moment - timedelta(days=REPEAT_DAYS),
                  Case.reported_at < moment - timedelta(hours=1))
        count = session.scalar(select(func.count()).select_from(Case).where(*window)) or 0
        if not count:
            return None
        offset = int(self.rng.integers(count))
        return session.execute(
            select(Case.id, Case.category_id, Case.grid_id, Case.lat, Case.lon)
            .where(*window).order_by(Case.id).offset(offset).limit(1)).first()

    def _near(self, lat: float, lon: float, polygon: shapely.Polygon) -> tuple[float, float]:
        """A point within ``REPEAT_RADIUS_M`` of (lat, lon) inside the grid, as the generator."""
        reach = float(self.rng.uniform(3.0, REPEAT_RADIUS_M))
        angle = float(self.rng.uniform(0.0, 2 * np.pi))
        for _ in range(6):
            cand_lat, cand_lon = self._frame.offset(np.array([lat]), np.array([lon]),
                                                    np.array([reach * np.cos(angle)]),
                                                    np.array([reach * np.sin(angle)]))
            c_lat, c_lon = round(float(cand_lat[0]), 6), round(float(cand_lon[0]), 6)
            if shapely.contains_xy(polygon, c_lon, c_lat):
                return c_lat, c_lon
            reach /= 2
        return lat, lon

    # --- plans ------------------------------------------------------------------------------

    def _push(self, at: int, live: _Live, action: str) -> None:
        self._serial += 1
        heapq.heappush(self._queue, (int(at), live.id, self._serial, action, live))

    def _plan_open(self, session: Session, now: int) -> None:
        """Draw the next stage of every open case not yet planned, conditioned on its age."""
        unknown = [i for i in session.scalars(select(Case.id).where(
            Case.status.in_(OPEN_STATUSES)).order_by(Case.id)).all() if i not in self._live]
        if not unknown:
            return
        rows = session.execute(
            select(Case.id, Case.status, Case.category_id, Case.urgency, Case.source,
                   Case.reported_at, Case.registered_at, Case.dispatched_at, Case.handled_at,
                   Case.deadline_at, Case.original_deadline_at, Case.extended,
                   Case.misdispatched, Case.rework_count, Case.department_id)
            .where(Case.id.in_(unknown)).order_by(Case.id)).all()
        categories = {c.id: c for c in self._categories}
        since = self._last_events(session, [r.id for r in rows if r.rework_count or r.extended
                                            or r.misdispatched])
        for r in rows:
            cat = categories.get(r.category_id)
            if cat is None:
                continue
            department = r.department_id or cat.department_id
            live = _Live(r.id, cat.urgent_limit if r.urgency == URGENCY_URGENT else cat.limit,
                         self._department_name.get(department or -1, ACTOR),
                         r.source == SOURCE_HOTLINE, department_id=department,
                         local=cat.local, reworks=r.rework_count or 0,
                         extended=bool(r.extended))
            self._live[r.id] = live
            if r.dispatched_at is not None:
                live.dispatched = lc.seconds_of(r.dispatched_at)
                live.deadline = lc.seconds_of(r.deadline_at)
                live.first_deadline = lc.seconds_of(r.original_deadline_at or r.deadline_at)
            if r.handled_at is not None:
                live.handled = lc.seconds_of(r.handled_at)
            if r.status == STATUS_REPORTED:
                self._plan_reported(live, lc.seconds_of(r.reported_at), now)
            elif r.status == STATUS_REGISTERED:
                bounced = since.get((r.id, "派遣")) if r.misdispatched else None
                self._plan_registered(live, lc.seconds_of(r.registered_at), now, bounced)
            elif r.status in (STATUS_DISPATCHED, STATUS_HANDLING):
                entered = since.get((r.id, "返工"), live.dispatched) if live.reworks else None
                self._plan_handling(live, entered or live.dispatched or now, now,  # type: ignore
                                    accepted=r.status == STATUS_HANDLING,
                                    rework_at=since.get((r.id, "返工")),
                                    extended_at=since.get((r.id, "延期")))
            elif r.status == STATUS_VERIFYING:
                self._plan_verifying(live, lc.seconds_of(r.handled_at), now)

    def _last_events(self, session: Session, ids: list[int]) -> dict[tuple[int, str], int]:
        """The last 派遣, 返工 and 延期 of some cases: where a stage's clock restarted."""
        if not ids:
            return {}
        rows = session.execute(
            select(CaseEvent.case_id, CaseEvent.action, func.max(CaseEvent.at))
            .where(CaseEvent.case_id.in_(ids), CaseEvent.action.in_(("派遣", "返工", "延期")))
            .group_by(CaseEvent.case_id, CaseEvent.action)).all()
        return {(c, a): lc.seconds_of(t) for c, a, t in rows}

    def _plan_reported(self, live: _Live, reported: int, now: int) -> None:
        age = np.array([float(now - reported)])
        weights = np.array([[(1 - lc.P_INVALID) * lc.delay_survival(lc.REGISTER_DELAY, age)[0],
                             lc.P_INVALID * lc.uniform_survival(lc.INVALID_S, age)[0]]])
        if self._choose(weights) == 1:
            at = reported + int(lc.draw_between(self.rng, lc.INVALID_S, 1, age)[0])
            self._push(max(at, now + 1), live, INVALID)
        else:
            at = reported + int(lc.REGISTER_DELAY.sample(self.rng, 1, age)[0])
            self._push(at, live, REGISTER)

    def _plan_registered(self, live: _Live, registered: int, now: int | None,
                         bounced: int | None = None) -> None:
        """From 立案: dispatched (maybe after a wrong dispatch) or cancelled (作废)."""
        if bounced is not None:  # sent to the wrong unit already: the right one follows
            at = bounced + int(lc.draw_between(
                self.rng, lc.MISDISPATCH_S, 1, np.array([float((now or 0) - bounced)]))[0])
            self._push(max(at, (now or 0) + 1), live, DISPATCH)
            return
        age = np.array([float(0 if now is None else now - registered)])
        weights = np.array([[(1 - lc.P_CANCEL) * lc.delay_survival(lc.DISPATCH_DELAY, age)[0],
                             lc.P_CANCEL * lc.uniform_survival(lc.CANCEL_S, age)[0]]])
        if self._choose(weights) == 1:
            at = registered + int(lc.draw_between(self.rng, lc.CANCEL_S, 1, age)[0])
            self._push(max(at, registered + 1 if now is None else now + 1), live, CANCEL)
            return
        at = registered + int(lc.DISPATCH_DELAY.sample(self.rng, 1, age)[0])
        if self.rng.random() < lc.P_MISDISPATCH:
            self._push(at, live, MISDISPATCH)
            at += int(lc.draw_between(self.rng, lc.MISDISPATCH_S, 1)[0])
        self._push(at, live, DISPATCH)

    def _plan_handling(self, live: _Live, entered: int, now: int | None, *, accepted: bool,
                       rework_at: int | None = None, extended_at: int | None = None) -> None:
        """From dispatch (or 返工): when handling ends, and 延期 and acceptance on the way.

        ``entered`` is when the stage began; ``now`` None: the case has just entered it
        (nothing to condition on), else the draw is conditioned on the time spent until now.
        """
        assert live.dispatched is not None and live.first_deadline is not None
        seconds = live.limit * 3600
        when = entered if now is None else now
        if live.reworks and rework_at is not None:  # handling again after a failed check
            restart = rework_at + int(lc.draw_between(self.rng, lc.REWORK_RESTART_S, 1)[0])
            begun = self._clamp(restart)
            gone = float(self.work.worked(np.array([begun]), np.array([when]))[0]) / seconds
            share = float(lc._uniform_above(self.rng, np.array([lc.REWORK_SHARE[0]]),
                                            np.array([lc.REWORK_SHARE[1]]),
                                            np.array([min(gone, lc.REWORK_SHARE[1] - 1e-6)]))[0])
            end = int(self.work.add(np.array([begun]), np.array([share * live.limit]))[0])
            self._push_handling(live, max(end, when + 1), accepted, when)
            return
        dispatched = self._clamp(live.dispatched)
        worked = float(self.work.worked(np.array([dispatched]), np.array([when]))[0]) / seconds
        clock = (when - live.dispatched) / seconds
        if live.extended:  # 延期 granted: handling ends within the second limit
            used = (float(self.work.worked(np.array([dispatched]),
                                           np.array([self._clamp(extended_at)]))[0]) / seconds
                    if extended_at is not None else float(np.mean(lc.EXTEND_USED)))
            share = float(lc.draw_extended_share(self.rng, np.array([used]),
                                                 np.array([worked]))[0])
            end = int(self.work.add(np.array([dispatched]), np.array([share * live.limit]))[0])
            self._push_handling(live, max(end, when + 1), accepted, when)
            return
        overdue = float(when - live.first_deadline)
        weights = lc.handling_weights(np.array([worked]), np.array([clock]),
                                      np.array([overdue]))
        outcome = self._choose(weights)
        base = live.first_deadline
        if outcome < 0:  # older than the model allows: its remaining time drawn afresh
            outcome = self._choose(lc.handling_weights(np.zeros(1), np.zeros(1),
                                                       np.array([-float(lc.FAR)])))
            dispatched, worked, clock, overdue = when, 0.0, 0.0, -float(lc.FAR)
            base = int(self.work.add(np.array([when]), np.array([live.limit]))[0])
        if outcome == lc.STUCK:
            live.stuck = True
            end = base + int(lc.draw_stuck_overdue(self.rng, np.array([overdue]))[0])
        elif outcome == lc.EXTEND:
            used = float(lc.draw_extension_used(self.rng, np.array([worked]))[0])
            granted = int(self.work.add(np.array([dispatched]), np.array([used * live.limit]))[0])
            self._push(max(granted, when + 1), live, EXTEND)
            share = float(lc.draw_extended_share(self.rng, np.array([used]))[0])
            end = int(self.work.add(np.array([dispatched]), np.array([share * live.limit]))[0])
        else:
            share = float(lc.draw_share(self.rng, np.array([outcome]), np.array([worked]),
                                        np.array([clock]))[0])
            if outcome == lc.PLAIN_CLOCK:
                end = dispatched + int(share * seconds)
            else:
                end = int(self.work.add(np.array([dispatched]), np.array([share * live.limit]))[0])
        self._push_handling(live, max(end, when + 1), accepted, when)

    def _push_handling(self, live: _Live, end: int, accepted: bool, when: int) -> None:
        if not accepted:
            wait = int(lc.draw_accept_delay(self.rng, np.array([end - when]))[0])
            self._push(when + max(wait, 1), live, ACCEPT)
        self._push(end, live, HANDLED)

    def _plan_verifying(self, live: _Live, handled: int, now: int | None) -> None:
        """From 待核查: closed, or back to the unit (返工)."""
        deadline = live.deadline if live.deadline is not None else handled + lc.DAY
        slack = np.array([deadline - handled])
        age = np.array([float(0 if now is None else now - handled)])
        p_fail = (0.0 if live.extended or live.stuck else
                  lc.P_REWORK if live.reworks == 0 else
                  lc.P_REWORK_AGAIN if live.reworks == 1 else 0.0)
        weights = np.array([[p_fail * lc.uniform_survival(lc.REWORK_FAIL_S, age)[0],
                             (1 - p_fail) * lc.close_survival(slack, age)[0]]])
        floor = handled + 1 if now is None else now + 1
        if self._choose(weights) == 0:
            at = handled + int(lc.draw_between(self.rng, lc.REWORK_FAIL_S, 1, age)[0])
            self._push(max(at, floor), live, REWORK)
        else:
            at = handled + int(lc.draw_close_delay(self.rng, slack, age)[0])
            self._push(max(at, floor), live, CLOSE)

    def _choose(self, weights: np.ndarray) -> int:
        """Pick a column of a one-row weight table; -1 when every weight is zero."""
        total = float(weights.sum())
        if total <= 0:
            return -1
        return int(self.rng.choice(weights.shape[1], p=weights[0] / total))

    # --- transitions ------------------------------------------------------------------------

    def _apply_due(self, session: Session, now: int) -> int:
        """Apply every planned transition due by ``now``, in time order (then by case id)."""
        moved = 0
        while self._queue and self._queue[0][0] <= now:
            at, case_id, _, action, live = heapq.heappop(self._queue)
            if self._live.get(case_id) is not live:  # a plan since forgotten or redrawn
                continue
            if self._apply(session, live, action, at):
                moved += 1
            else:  # changed by someone else: forget it (replanned if it is still open)
                self._live.pop(case_id, None)
        return moved

    def _apply(self, session: Session, live: _Live, action: str, at: int) -> bool:
        moment = lc.datetime_of(at)
        values: dict[str, object]
        event, actor, note = "", ACTOR, ""
        if action == REGISTER:
            values, event = {"status": STATUS_REGISTERED, "registered_at": moment}, "立案"
        elif action == INVALID:
            values = {"status": STATUS_CANCELLED, "cancelled_at": moment, "valid_report": False}
            event, note = "作废", "信息不实"
        elif action == CANCEL:
            values = {"status": STATUS_CANCELLED, "cancelled_at": moment, "repeat_of_id": None}
            event, note = "作废", "经核实不属于受理范围"
        elif action == MISDISPATCH:
            values, event = {"misdispatched": True}, "派遣"
            note = "派遣至其他部门,职责不符退回"
        elif action == DISPATCH:
            first = int(self.work.add(np.array([self._clamp(at)]), np.array([live.limit]))[0])
            live.dispatched, live.first_deadline, live.deadline = at, first, first
            values = {"status": STATUS_DISPATCHED, "dispatched_at": moment,
                      "deadline_at": lc.datetime_of(first), "department_id": live.department_id}
            event, note = "派遣", "派遣至" + live.department
        elif action == ACCEPT:
            values = {"status": STATUS_HANDLING}
        elif action == EXTEND:
            assert live.first_deadline is not None
            second = int(self.work.add(np.array([live.first_deadline]),
                                       np.array([live.limit]))[0])
            live.extended, live.deadline = True, second
            values = {"extended": True, "original_deadline_at": lc.datetime_of(live.first_deadline),
                      "deadline_at": lc.datetime_of(second)}
            event, actor, note = "延期", live.department, "申请延期已批准"
        elif action == HANDLED:
            level = live.level or SETTLED_LEVELS[int(self.rng.choice(3, p=SETTLED_P[live.local]))]
            values = {"status": STATUS_VERIFYING, "handled_at": moment, "settled_level": level}
            live.handled = at
            event, actor, note = "处置", live.department, "已处置"
        elif action == REWORK:
            live.reworks += 1
            values = {"status": STATUS_HANDLING, "handled_at": None, "settled_level": None,
                      "rework_count": Case.rework_count + 1}
            event, note = "返工", "核查未通过,返工"
        else:  # CLOSE
            values = {"status": STATUS_CLOSED, "closed_at": moment}
            if live.hotline:
                values["satisfied"] = bool(self.rng.random() < P_SATISFIED)
        done = session.execute(update(Case).where(
            Case.id == live.id, Case.status.in_(FROM_STATUS[action])).values(**values))
        if not done.rowcount:  # type: ignore[attr-defined]
            return False
        if action == CLOSE:  # verified at 70% of the way from handling to closing
            handled = live.handled if live.handled is not None else at
            checked = lc.datetime_of(handled + int(0.7 * (at - handled)))
            session.add(CaseEvent(case_id=live.id, at=checked, action="核查", actor="监督员",
                                  note="核查通过"))
            event = "结案"
        if event:
            session.add(CaseEvent(case_id=live.id, at=moment, action=event, actor=actor,
                                  note=note))
        self._after(session, live, action, at)
        return True

    def _after(self, session: Session, live: _Live, action: str, at: int) -> None:
        """Link repeats, and draw the next stage of the case that has just entered it."""
        if action == REGISTER:
            self._link(session, live.id)
            self._plan_registered(live, at, None)
        elif action == DISPATCH:
            self._plan_handling(live, at, None, accepted=False)
        elif action == HANDLED:
            self._plan_verifying(live, at, None)
        elif action == REWORK:
            self._plan_handling(live, at, None, accepted=True, rework_at=at)
        elif action in (INVALID, CANCEL, CLOSE):
            self._live.pop(live.id, None)
            if action == CANCEL:  # cases that repeated it now repeat what came before it
                for (other,) in session.execute(
                        select(Case.id).where(Case.repeat_of_id == live.id)).all():
                    self._link(session, other)

    def _link(self, session: Session, case_id: int) -> None:
        """Store the problem a registered case repeats, by the detection rule itself."""
        category, lat, lon, registered = session.execute(
            select(Case.category_id, Case.lat, Case.lon, Case.registered_at)
            .where(Case.id == case_id)).one()
        if registered is None:
            return
        at: datetime = registered
        radius, days = self.repeat.radius_m, self.repeat.days
        dlat = float(np.degrees((radius + 1.0) / EARTH_RADIUS_M))
        dlon = dlat / max(float(np.cos(np.radians(abs(lat) + dlat))), 1e-6)
        rows = session.execute(
            select(Case.id, Case.lat, Case.lon, Case.registered_at)
            .where(Case.category_id == category, Case.status != STATUS_CANCELLED,
                   Case.registered_at >= at - timedelta(days=days), Case.registered_at <= at,
                   Case.lat.between(lat - dlat, lat + dlat),
                   Case.lon.between(lon - dlon, lon + dlon))).all()
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        micros = np.array([(r[3] - lc.EPOCH) // timedelta(microseconds=1)  # type: ignore[operator]
                           for r in rows], dtype=np.int64)
        match, _ = find_repeats(ids, np.zeros(len(ids), np.int64),
                                np.array([r[1] for r in rows], dtype=float),
                                np.array([r[2] for r in rows], dtype=float), micros,
                                radius_m=radius, days=days)
        own = int(np.flatnonzero(ids == case_id)[0])
        origin = int(ids[match[own]]) if match[own] >= 0 else None
        session.execute(update(Case).where(Case.id == case_id).values(repeat_of_id=origin))

