"""What the grid management page (网格化管理) shows for one area and period, read in one place.

Every indicator comes from ``queries.indicators`` (the area's own set, its previous period's,
and its children's from one GROUP BY); this module adds only what indicators do not cover:
the hierarchy around the area (breadcrumb, the level the map shows), the roster, the open
cases list, the worst minor classes and the daily trend.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from queries import hierarchy
from queries.areas import area_by_code, area_clauses, district
from queries.cases import open_at, status_at
from queries.indicators import (
    DEFAULT,
    IndicatorSet,
    IndicatorSettings,
    indicators,
    indicators_by_area,
)
from queries.models import (
    LEVEL_GRID,
    LEVELS,
    OPEN_STATUSES,
    Area,
    Case,
    Category,
)
from queries.periods import Period, previous
from queries.scope import Scope
from queries.trends import DailySeries, reported_vs_closed

OPEN_CASES_SHOWN = 200
WORST_CATEGORIES = 8
MIN_TREND_DAYS = 7  # a day or a short range still gets a week of context


@dataclass(frozen=True)
class AreaRef:
    """An area as the page names and links it."""

    id: int
    code: str
    name: str
    level: str


@dataclass(frozen=True)
class Roster:
    """Who answers for an area: the grid's 网格长, 网格员 and 包抓 unit, or a leader and counts."""

    leader: str | None
    leader_phone: str | None
    workers: tuple[str, ...]
    responsible_unit: str | None
    unit_leader: str | None
    below: dict[str, int]  # level -> number of areas of that level inside this one


@dataclass(frozen=True)
class OpenCaseRow:
    """One open case in the area's list, most urgent first."""

    external_id: str
    minor: str
    status: str
    deadline_at: datetime | None
    overdue: bool


@dataclass(frozen=True)
class OpenCases:
    """The area's open cases now: the most urgent ``rows``, and the full counts."""

    rows: list[OpenCaseRow]
    total: int
    overdue: int


@dataclass(frozen=True)
class GridView:
    """Everything the page shows for one area and period, computed at ``now``."""

    area: AreaRef
    lineage: list[AreaRef]  # the district first, the area itself last
    map_parent: AreaRef  # whose children the map and the table show (a grid: its community)
    child_level: str
    period: Period
    previous: Period
    now: datetime
    current: IndicatorSet
    before: IndicatorSet
    children: list[tuple[AreaRef, IndicatorSet]]
    roster: Roster
    open_cases: OpenCases
    worst_categories: list[tuple[str, int]]
    trend: DailySeries
    # True when the period is still running at ``now``: ``previous`` is then cut to the same
    # elapsed span (the 2nd of a month at 04:10 against the 1st of last month to 04:10, not
    # against the whole of last month), and the page says 同期.
    same_span: bool = False


def child_level(level: str) -> str:
    """Return the level the map shows under an area of ``level`` (a grid shows its siblings)."""
    return LEVEL_GRID if level == LEVEL_GRID else LEVELS[LEVELS.index(level) + 1]


def ref(area: Area) -> AreaRef:
    """Return the page's reference to an area."""
    return AreaRef(id=area.id, code=area.code, name=area.name, level=area.level)


def lineage(session: Session, area: Area) -> list[AreaRef]:
    """Return the area's ancestors from the district down, and the area itself."""
    return [ref(a) for a in hierarchy.ancestors(session, area.id)]


def roster(session: Session, area: Area) -> Roster:
    """Return the area's roster and how many streets, communities and grids lie inside it."""
    below: dict[str, int] = {}
    if area.level != LEVEL_GRID:
        below = hierarchy.counts_below(session, area.id)
    workers = tuple(w for w in (area.workers or "").split("、") if w)
    return Roster(leader=area.leader, leader_phone=area.leader_phone, workers=workers,
                  responsible_unit=area.responsible_unit, unit_leader=area.unit_leader,
                  below=below)


def open_cases(session: Session, area: Area, now: datetime,
               limit: int = OPEN_CASES_SHOWN, *, scope: Scope,
               looking_back: bool = False) -> OpenCases:
    """Return the area's open cases in ``scope``, overdue and nearest deadlines first, with the
    counts (of the same cases: the list's title counts what the list can hold).

    Live, "open" is the stored status; looking back (``GRIDWATCH_AS_OF``), it is the stage
    times at ``now``, as the wall reads them (``queries.cases.open_at``).
    """
    where = [open_at(now) if looking_back else Case.status.in_(OPEN_STATUSES)]
    where += [*area_clauses(area), scope.case_clause()]
    status = status_at(now) if looking_back else Case.status
    late = Case.deadline_at < now
    total, overdue = session.execute(
        select(func.count(), func.count(case((late, 1)))).where(*where)).one()
    rows = session.execute(
        select(Case.external_id, Category.minor, status, Case.deadline_at)
        .join(Category, Case.category_id == Category.id)
        .where(*where)
        .order_by(Case.deadline_at.is_(None), Case.deadline_at, Case.id)
        .limit(limit))
    return OpenCases(
        rows=[OpenCaseRow(external_id, minor, status, deadline,
                          deadline is not None and deadline < now)
              for external_id, minor, status, deadline in rows],
        total=total, overdue=overdue or 0)


def worst_categories(session: Session, period: Period, area: Area,
                     limit: int | None = WORST_CATEGORIES) -> list[tuple[str, int]]:
    """Return the minor classes with the most cases registered in the period, not cancelled.

    These are the cases 立案数 counts minus 作废数 (``indicators``), split by minor class.
    """
    where = [Case.registered_at >= period.start, Case.registered_at < period.end,
             Case.cancelled_at.is_(None)]
    where += area_clauses(area)
    n = func.count().label("n")
    stmt = (select(Category.minor, n).select_from(Case)
            .join(Category, Case.category_id == Category.id)
            .where(*where).group_by(Category.minor).order_by(n.desc(), Category.minor))
    if limit is not None:
        stmt = stmt.limit(limit)
    return [(minor, count) for minor, count in session.execute(stmt)]


def trend_window(period: Period, now: datetime) -> tuple[date, int]:
    """Return the last day and length of the daily trend: the period so far, a week at least."""
    first = period.start.date()
    last = max(first, min(period.last_day, now.date()))
    return last, max((last - first).days + 1, MIN_TREND_DAYS)


def compared_period(period: Period, now: datetime) -> tuple[Period, bool]:
    """Return the period to compare with, and whether it is cut to the same elapsed span.

    A finished period is compared with the whole period before; a running one with the same
    elapsed span of the period before (never past that period's end).
    """
    before = previous(period)
    if not period.start <= now < period.end:
        return before, False
    return replace(before, end=min(before.start + (now - period.start), before.end)), True


def grid_view(session: Session, area_code: str, period: Period, now: datetime, *,
              scope: Scope, settings: IndicatorSettings = DEFAULT, looking_back: bool = False,
              ) -> GridView | None:
    """Read the page for an area code ("" for the district) and period; None for no such area.

    ``scope`` limits the open-cases list (case by case); the indicators, worst classes and
    trend are aggregates and stay area-wide for every caller.

    ``looking_back``: ``now`` is a moment of the past (``GRIDWATCH_AS_OF``), so the open cases
    are those open then, not those open today.
    """
    area = district(session) if not area_code else area_by_code(session, area_code)
    if area is None:
        return None
    parent, level = hierarchy.listing(session, area)
    before, same_span = compared_period(period, now)
    sets = indicators_by_area(session, period, level=level, parent_id=parent.id, now=now,
                              settings=settings)
    kids = {a.id: ref(a) for a in session.scalars(
        select(Area).where(Area.id.in_(list(sets))))}
    last_day, days = trend_window(period, now)
    return GridView(
        area=ref(area),
        lineage=lineage(session, area),
        map_parent=ref(parent),
        child_level=level,
        period=period,
        previous=before,
        now=now,
        current=indicators(session, period, area_id=area.id, now=now, settings=settings),
        before=indicators(session, before, area_id=area.id, now=now, settings=settings),
        children=[(kids[area_id], values) for area_id, values in sets.items()],
        roster=roster(session, area),
        open_cases=open_cases(session, area, now, scope=scope, looking_back=looking_back),
        worst_categories=worst_categories(session, period, area),
        trend=reported_vs_closed(session, last_day=last_day, days=days, area=area),
        same_span=same_span,
    )

