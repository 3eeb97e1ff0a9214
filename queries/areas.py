"""Named reads of the grid hierarchy."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from queries import hierarchy
from queries.models import LEVEL_COMMUNITY, LEVEL_DISTRICT, LEVEL_GRID, LEVEL_STREET, Area, Case


def district(session: Session) -> Area | None:
    """Return the district (the root of the hierarchy), or None in an empty database."""
    return session.scalars(
        select(Area).where(Area.level == LEVEL_DISTRICT).order_by(Area.code).limit(1)
    ).first()


def area_by_code(session: Session, code: str) -> Area | None:
    """Return the area with this code, or None."""
    return session.scalars(select(Area).where(Area.code == code)).first()


def children(session: Session, parent_id: int) -> list[Area]:
    """Return an area's children in code order."""
    return list(session.scalars(
        select(Area).where(Area.parent_id == parent_id).order_by(Area.code)))


def areas_at_level(session: Session, level: str) -> list[Area]:
    """Return every area of a level in code order."""
    return list(session.scalars(select(Area).where(Area.level == level).order_by(Area.code)))


def descendants_at_level(session: Session, area: Area, level: str) -> list[Area]:
    """Return the areas of ``level`` inside ``area`` (by parent links: codes are opaque)."""
    return hierarchy.descendants_at_level(session, area.id, level)


def area_clauses(area: Area | None) -> list[ColumnElement[bool]]:
    """Return the WHERE clauses that keep one area's cases (none for the district or None).

    Cases carry their grid, community and street ids, so any level is one equality.
    """
    if area is None or area.level == LEVEL_DISTRICT:
        return []
    column = {LEVEL_STREET: Case.street_id, LEVEL_COMMUNITY: Case.community_id,
              LEVEL_GRID: Case.grid_id}[area.level]
    return [column == area.id]
