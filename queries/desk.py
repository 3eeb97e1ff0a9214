"""The case desk (案件工作台): a department head's or street manager's own cases, one page at a
time, and one case's whole file.

Every read takes the caller's ``Scope`` and puts ``scope.case_clause()`` in its WHERE; the
desk's filters narrow it further, never widen it. Ordering is one rule, in SQL, so every page
of the grid and the export agree: cases under 督办 (an active supervision flag) first, then
open before closed, then by deadline ascending — past deadlines (overdue, most overdue first)
come before the ones due soonest — cases without a deadline last, then by id.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from queries.areas import area_by_code, area_clauses
from queries.indicators import IndicatorSettings
from queries.models import (
    LEVEL_STREET,
    OPEN_STATUSES,
    SOURCES,
    STATUSES,
    Area,
    Case,
    CaseEvent,
    Category,
    Department,
)
from queries.scope import Scope
from queries.supervision import FlagRow, active_flag, flags_of

SEARCH_MAX = 64  # characters of a search kept
EXPORT_CHUNK = 1000  # rows fetched at a time while an export streams


@dataclass(frozen=True)
class DeskFilters:
    """What the desk's controls (and an export URL) narrow the caller's cases to.

    ``statuses`` empty means the open ones; ``reported_to`` is inclusive (a whole day);
    ``search`` matches the start of a case number or any part of the address.
    """

    statuses: tuple[str, ...] = ()
    majors: tuple[str, ...] = ()
    area_code: str = ""
    sources: tuple[str, ...] = ()
    reported_from: date | None = None
    reported_to: date | None = None
    search: str = ""

    def query(self) -> dict[str, str]:
        """Return the filters as URL parameters (what ``filters_from_query`` reads back)."""
        pairs = {"status": ",".join(self.statuses), "major": ",".join(self.majors),
                 "area": self.area_code, "source": ",".join(self.sources),
                 "from": self.reported_from.isoformat() if self.reported_from else "",
                 "to": self.reported_to.isoformat() if self.reported_to else "",
                 "q": self.search}
        return {k: v for k, v in pairs.items() if v}


def _listed(text: str | None, allowed: tuple[str, ...] | None = None) -> tuple[str, ...]:
    items = tuple(dict.fromkeys(p.strip() for p in (text or "").split(",") if p.strip()))
    return tuple(i for i in items if allowed is None or i in allowed)[:50]


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "")[:10]) if text else None
    except ValueError:
        return None


def filters_from_query(query: Mapping[str, str]) -> DeskFilters:
    """Read filters from URL parameters; unknown statuses and sources and bad dates are
    dropped (a hand-edited URL narrows nothing it cannot name)."""
    return DeskFilters(
        statuses=_listed(query.get("status"), STATUSES),
        majors=_listed(query.get("major")),
        area_code=(query.get("area") or "").strip()[:64],
        sources=_listed(query.get("source"), SOURCES),
        reported_from=_day(query.get("from")),
        reported_to=_day(query.get("to")),
        search=(query.get("q") or "").strip()[:SEARCH_MAX],
    )


@dataclass(frozen=True)
class DeskRow:
    """One case of the desk's list (and of an export)."""

    id: int
    external_id: str
    status: str
    source: str
    major: str
    minor: str
    address: str
    street: str
    department: str | None
    urgency: str
    reported_at: datetime
    deadline_at: datetime | None
    flagged: bool


@dataclass(frozen=True)
class DeskPage:
    """One page of the desk's list: its rows and how many cases the whole view holds."""

    rows: list[DeskRow]
    total: int


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _where(session: Session, scope: Scope, filters: DeskFilters) -> list[ColumnElement[bool]]:
    """The scope's clause and the filters' clauses (an unknown area keeps no case)."""
    where: list[ColumnElement[bool]] = [
        scope.case_clause(), Case.status.in_(filters.statuses or OPEN_STATUSES)]
    if filters.majors:
        where.append(Category.major.in_(filters.majors))
    if filters.sources:
        where.append(Case.source.in_(filters.sources))
    if filters.area_code:
        area = area_by_code(session, filters.area_code)
        where.extend(area_clauses(area) if area is not None else [Case.id.is_(None)])
    if filters.reported_from:
        start = datetime.combine(filters.reported_from, datetime.min.time())
        where.append(Case.reported_at >= start)
    if filters.reported_to:
        end = datetime.combine(filters.reported_to + timedelta(days=1), datetime.min.time())
        where.append(Case.reported_at < end)
    if filters.search:
        text = _like(filters.search)
        where.append(or_(Case.external_id.like(f"{text}%", escape="\\"),
                         Case.address.like(f"%{text}%", escape="\\")))
    return where


def _rows(where: list[ColumnElement[bool]]) -> Select[*tuple[Any, ...]]:
    street = aliased(Area)
    pinned = active_flag()
    closed = case((Case.status.in_(OPEN_STATUSES), 0), else_=1)
    return (
        select(Case.id, Case.external_id, Case.status, Case.source, Category.major,
               Category.minor, Case.address, street.name, Department.name, Case.urgency,
               Case.reported_at, Case.deadline_at, pinned)
        .join(Category, Case.category_id == Category.id)
        .join(street, Case.street_id == street.id)
        .outerjoin(Department, Case.department_id == Department.id)
        .where(*where)
        .order_by(pinned.desc(), closed, Case.deadline_at.is_(None), Case.deadline_at, Case.id)
    )


def desk_page(session: Session, *, scope: Scope, filters: DeskFilters, start: int,
              end: int) -> DeskPage:
    """Return rows ``start`` … ``end - 1`` of the view (the grid's infinite row model asks
    one block at a time) and the view's total."""
    where = _where(session, scope, filters)
    start = max(0, start)
    size = max(0, min(end - start, 500))
    rows = [DeskRow(*row) for row in session.execute(_rows(where).offset(start).limit(size))]
    count = select(func.count()).select_from(Case)
    if filters.majors:  # the only filter on the category: otherwise the join is dead weight
        count = count.join(Category, Case.category_id == Category.id)
    total = session.scalar(count.where(*where)) or 0
    return DeskPage(rows, total)


def iter_desk_rows(session: Session, *, scope: Scope,
                   filters: DeskFilters) -> Iterator[DeskRow]:
    """Yield every row of the view in the desk's order, fetched in chunks (the export
    streams them without holding the whole view)."""
    stmt = _rows(_where(session, scope, filters)).execution_options(yield_per=EXPORT_CHUNK)
    for row in session.execute(stmt):
        yield DeskRow(*row)


@dataclass(frozen=True)
class DeskOptions:
    """The choices the filters offer: names, not cases (the same for every caller)."""

    majors: list[str]
    streets: list[tuple[str, str]]  # (code, name)


def desk_options(session: Session) -> DeskOptions:
    """Return the major classes and streets the filters list."""
    majors = list(session.scalars(select(Category.major).distinct().order_by(Category.major)))
    streets = [(code, name) for code, name in session.execute(
        select(Area.code, Area.name).where(Area.level == LEVEL_STREET).order_by(Area.code))]
    return DeskOptions(majors, streets)


@dataclass(frozen=True)
class CaseLink:
    """Another case a case points at (the one it repeats, or one repeating it)."""

    id: int
    external_id: str
    status: str
    reported_at: datetime


@dataclass(frozen=True)
class EventRow:
    """One step of the case's lifecycle log (case_events)."""

    at: datetime
    action: str
    actor: str
    note: str


@dataclass(frozen=True)
class CaseFile:
    """Every field of one case, its log, its links and its 督办 history (the case page)."""

    id: int
    external_id: str
    source_system: str
    source: str
    source_raw: str | None
    kind: str
    major: str
    minor: str
    element: str
    limit_hours: float
    urgent_limit_hours: float
    description: str
    address: str
    lat: float
    lon: float
    location_precise: bool
    location_note: str | None
    street: str
    community: str | None
    grid: str | None
    street_code: str
    community_code: str | None
    department: str | None
    status: str
    status_raw: str | None
    urgency: str
    severity: int
    valid_report: bool
    reported_at: datetime
    registered_at: datetime | None
    dispatched_at: datetime | None
    handled_at: datetime | None
    closed_at: datetime | None
    cancelled_at: datetime | None
    deadline_at: datetime | None
    original_deadline_at: datetime | None
    extended: bool
    misdispatched: bool
    rework_count: int
    settled_level: str | None
    satisfied: bool | None
    photo_urls: str | None
    repeat_of: CaseLink | None = None
    repeated_by: tuple[CaseLink, ...] = ()
    events: tuple[EventRow, ...] = ()
    flags: tuple[FlagRow, ...] = ()

    @property
    def photos(self) -> list[str]:
        """The photos' URLs the source gave (http/https only, as the importer kept them)."""
        return [u for u in (self.photo_urls or "").splitlines()
                if u.lower().startswith(("http://", "https://"))]


_FILE_COLUMNS = (
    Case.id, Case.external_id, Case.source_system, Case.source, Case.source_raw, Category.kind,
    Category.major, Category.minor, Category.element, Category.limit_hours,
    Category.urgent_limit_hours, Case.description, Case.address, Case.lat, Case.lon,
    Case.location_precise, Case.location_note,
)


def case_file(session: Session, case_id: int, *, scope: Scope) -> CaseFile | None:
    """Return one case's file, or None when no case of ``scope`` has this id (another
    department's case reads exactly as a missing one). Linked cases outside the scope are left
    out of its links."""
    street, community, grid = aliased(Area), aliased(Area), aliased(Area)
    row = session.execute(
        select(*_FILE_COLUMNS, street.name, community.name, grid.name, street.code,
               community.code, Department.name,
               Case.status, Case.status_raw, Case.urgency, Case.severity, Case.valid_report,
               Case.reported_at, Case.registered_at, Case.dispatched_at, Case.handled_at,
               Case.closed_at, Case.cancelled_at, Case.deadline_at, Case.original_deadline_at,
               Case.extended, Case.misdispatched, Case.rework_count, Case.settled_level,
               Case.satisfied, Case.photo_urls, Case.repeat_of_id)
        .join(Category, Case.category_id == Category.id)
        .join(street, Case.street_id == street.id)
        .outerjoin(community, Case.community_id == community.id)
        .outerjoin(grid, Case.grid_id == grid.id)
        .outerjoin(Department, Case.department_id == Department.id)
        .where(Case.id == case_id, scope.case_clause())
    ).first()
    if row is None:
        return None
    *fields, repeat_of_id = cast("tuple[Any, ...]", row)
    link = select(Case.id, Case.external_id, Case.status, Case.reported_at).where(
        scope.case_clause())
    repeat_of = None
    if repeat_of_id is not None:
        found = session.execute(link.where(Case.id == repeat_of_id)).first()
        repeat_of = CaseLink(*found) if found is not None else None
    repeated_by = tuple(CaseLink(*r) for r in session.execute(
        link.where(Case.repeat_of_id == case_id).order_by(Case.reported_at, Case.id)))
    events = tuple(EventRow(*r) for r in session.execute(
        select(CaseEvent.at, CaseEvent.action, CaseEvent.actor, CaseEvent.note)
        .where(CaseEvent.case_id == case_id).order_by(CaseEvent.at, CaseEvent.id)))
    return replace(CaseFile(*fields), repeat_of=repeat_of, repeated_by=repeated_by,
                   events=events, flags=tuple(flags_of(session, case_id, scope=scope)))


@dataclass(frozen=True)
class Stage:
    """One stage of a case's lifecycle, how long it took (or has taken so far) and its limit.

    ``limit`` is None where the city sets none (核查 → 结案); ``over`` is None then too.
    ``running`` stages are measured up to ``now``.
    """

    key: str  # register, dispatch, handle, verify
    start: datetime | None
    end: datetime | None
    duration: timedelta | None
    limit: timedelta | None
    over: bool | None
    running: bool


def stages(case: CaseFile, now: datetime, settings: IndicatorSettings) -> list[Stage]:
    """Return the four stages 立案, 派遣, 处置, 核查结案 with durations against their limits.

    The limits are the indicators' own: 按时立案 and 按时派遣 minutes, and the case's deadline
    for handling (its 处置时限 in working hours, already laid on the working calendar).
    """
    ended = case.closed_at or case.cancelled_at
    spans = (
        ("register", case.reported_at, case.registered_at,
         timedelta(minutes=settings.ontime_register_minutes)),
        ("dispatch", case.registered_at, case.dispatched_at,
         timedelta(minutes=settings.ontime_dispatch_minutes)),
        ("handle", case.dispatched_at, case.handled_at,
         case.deadline_at - case.dispatched_at
         if case.deadline_at and case.dispatched_at else None),
        ("verify", case.handled_at, case.closed_at, None),
    )
    out = []
    for key, start, end, limit in spans:
        running = start is not None and end is None and ended is None
        stop = end if end is not None else (now if running else None)
        duration = stop - start if start is not None and stop is not None else None
        over = None if limit is None or duration is None else duration > limit
        out.append(Stage(key, start, end, duration, limit, over, running))
    return out
