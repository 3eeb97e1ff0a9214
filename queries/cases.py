"""Named reads of individual cases: the open cases on the map, the newest for the ticker, and
one case's card.

Each read takes the caller's ``Scope`` and applies it in its WHERE (``scope.case_clause()``):
a case outside the scope never leaves the database, so no caller can filter it afterwards or
forget to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, and_, case, exists, or_, select
from sqlalchemy.orm import Session, aliased

from queries.areas import area_clauses
from queries.models import (
    OPEN_STATUSES,
    STATUS_HANDLING,
    STATUS_REGISTERED,
    STATUS_REPORTED,
    STATUS_VERIFYING,
    Area,
    Case,
    Category,
    Department,
)
from queries.scope import Scope


@dataclass(frozen=True)
class OpenCase:
    """An open case as the map and its card need it."""

    id: int
    external_id: str
    lat: float
    lon: float
    status: str
    source: str
    kind: str
    major: str
    minor: str
    address: str
    department: str | None
    reported_at: datetime
    dispatched_at: datetime | None
    deadline_at: datetime | None
    grid_id: int | None  # None: the case is known only down to its street (or community)
    street_id: int
    # False: a default geocode, a shared or coarse point, or an area centre (Case.location_note);
    # the map shows such cases as a count ("位置不精确 N 件"), not as points.
    location_precise: bool = True



def status_at(as_of: datetime) -> ColumnElement[str]:
    """Return a case's status as it stood at ``as_of``, from its stage times (history view).

    The stored status is today's; a wall looking back reads the last stage reached by then.
    """
    return case(
        (Case.handled_at <= as_of, STATUS_VERIFYING),
        (Case.dispatched_at <= as_of, STATUS_HANDLING),
        (Case.registered_at <= as_of, STATUS_REGISTERED),
        else_=STATUS_REPORTED,
    )


def open_at(as_of: datetime) -> ColumnElement[bool]:
    """Return the clause "open at ``as_of``": reported by then, neither closed nor cancelled."""
    return and_(Case.reported_at <= as_of,
                or_(Case.closed_at.is_(None), Case.closed_at > as_of),
                or_(Case.cancelled_at.is_(None), Case.cancelled_at > as_of))


def _case_rows(as_of: datetime | None = None) -> Select[*tuple[Any, ...]]:
    """Select the columns of ``OpenCase`` with the joins they need (statuses as of a moment)."""
    status = Case.status if as_of is None else status_at(as_of)
    return (
        select(
            Case.id, Case.external_id, Case.lat, Case.lon, status, Case.source,
            Category.kind, Category.major, Category.minor, Case.address, Department.name,
            Case.reported_at, Case.dispatched_at, Case.deadline_at, Case.grid_id, Case.street_id,
            Case.location_precise,
        )
        .join(Category, Case.category_id == Category.id)
        .outerjoin(Department, Case.department_id == Department.id)
    )


def open_cases(session: Session, *, scope: Scope, area: Area | None = None,
               as_of: datetime | None = None) -> list[OpenCase]:
    """Return every open case (上报 … 待核查) in ``scope``, oldest first; as at ``as_of`` if given.

    Live, "open" is the stored status (indexed); looking back, it is the stage times.
    """
    opened = Case.status.in_(OPEN_STATUSES) if as_of is None else open_at(as_of)
    stmt = _case_rows(as_of).where(opened, scope.case_clause()).order_by(Case.reported_at)
    stmt = stmt.where(*area_clauses(area))
    return [OpenCase(*row) for row in session.execute(stmt)]


def newest_cases(session: Session, *, scope: Scope, limit: int = 20, area: Area | None = None,
                 as_of: datetime | None = None) -> list[OpenCase]:
    """Return the most recently reported cases in ``scope``, newest first (the ticker)."""
    stmt = (_case_rows(as_of).where(scope.case_clause())
            .order_by(Case.reported_at.desc(), Case.id.desc()).limit(limit))
    if as_of is not None:
        stmt = stmt.where(Case.reported_at <= as_of)
    stmt = stmt.where(*area_clauses(area))
    return [OpenCase(*row) for row in session.execute(stmt)]



@dataclass(frozen=True)
class CaseDetail:
    """One case as its card on the map shows it."""

    id: int
    external_id: str
    kind: str
    major: str
    minor: str
    description: str
    address: str
    source: str
    status: str
    urgency: str
    department: str | None
    street: str
    grid: str | None
    reported_at: datetime
    deadline_at: datetime | None
    closed_at: datetime | None
    rework_count: int
    dispatched_at: datetime | None


def case_detail(session: Session, case_id: int, *, scope: Scope) -> CaseDetail | None:
    """Return the card of one case, or None when no case of ``scope`` has this id."""
    street = aliased(Area)
    grid = aliased(Area)
    row = session.execute(
        select(
            Case.id, Case.external_id, Category.kind, Category.major, Category.minor,
            Case.description, Case.address, Case.source, Case.status, Case.urgency,
            Department.name, street.name, grid.name, Case.reported_at, Case.deadline_at,
            Case.closed_at, Case.rework_count, Case.dispatched_at,
        )
        .join(Category, Case.category_id == Category.id)
        .join(street, Case.street_id == street.id)
        .outerjoin(grid, Case.grid_id == grid.id)
        .outerjoin(Department, Case.department_id == Department.id)
        .where(Case.id == case_id, scope.case_clause())
    ).first()
    return None if row is None else CaseDetail(*cast("tuple[Any, ...]", row))


def case_exists(session: Session, case_id: int) -> bool:
    """Return whether any case has this id, whoever asks: the map shows every open case's
    point, so its bare existence is no detail; it tells "outside your scope" from "no case"."""
    return bool(session.scalar(select(exists().where(Case.id == case_id))))
