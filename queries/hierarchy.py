"""The grid hierarchy walked by ``Area.parent_id``, never by code prefixes.

A city's own codes are opaque ("0502A", "W03") and do not nest, so "inside an area" is a walk
down the parent links. The walks are recursive CTEs (SQLite and PostgreSQL both run them): one
statement each, no matter how deep the tree. ``UNION`` (not ``UNION ALL``) makes a parent
cycle in bad data end the walk instead of looping.
"""

from __future__ import annotations

from sqlalchemy import CTE, ColumnElement, Select, func, literal, select
from sqlalchemy.orm import Session, aliased

from queries.models import LEVEL_GRID, LEVEL_STREET, LEVELS, Area


def subtree(area_id: int) -> CTE:
    """Return a CTE of the ids of ``area_id`` and every area below it (column ``id``)."""
    anchor = select(Area.id.label("id")).where(Area.id == area_id)
    tree = anchor.cte("subtree", recursive=True)
    child = aliased(Area)
    return tree.union(select(child.id).join(tree, child.parent_id == tree.c.id))


def in_subtree(column: ColumnElement[int], area_id: int) -> ColumnElement[bool]:
    """Return a clause keeping rows whose area ``column`` lies in ``area_id``'s subtree."""
    return column.in_(select(subtree(area_id).c.id))


def grid_ancestry() -> CTE:
    """Return a CTE pairing every unit grid with itself and each area above it.

    Columns ``grid_id`` and ``ancestor_id``; counting grids per area is one GROUP BY on it.
    """
    anchor = select(Area.id.label("grid_id"), Area.id.label("ancestor_id")).where(
        Area.level == LEVEL_GRID)
    walk = anchor.cte("grid_ancestry", recursive=True)
    up = aliased(Area)
    return walk.union(
        select(walk.c.grid_id, up.parent_id)
        .join(up, up.id == walk.c.ancestor_id)
        .where(up.parent_id.is_not(None))
    )


def grid_counts(session: Session, level: str) -> dict[int, int]:
    """Return {area id: unit grids inside it} for every area of ``level`` that has grids."""
    walk = grid_ancestry()
    above = aliased(Area)
    stmt: Select = (
        select(walk.c.ancestor_id, func.count(func.distinct(walk.c.grid_id)))
        .join(above, above.id == walk.c.ancestor_id)
        .where(above.level == level)
        .group_by(walk.c.ancestor_id)
    )
    return {area_id: count for area_id, count in session.execute(stmt)}


def grids_inside(session: Session, area_id: int | None) -> int:
    """Return the number of unit grids inside an area (None: the whole database)."""
    if area_id is None:
        return session.scalar(select(func.count()).where(Area.level == LEVEL_GRID)) or 0
    tree = subtree(area_id)
    return session.scalar(
        select(func.count()).select_from(Area).join(tree, tree.c.id == Area.id)
        .where(Area.level == LEVEL_GRID)) or 0


def street_of_grids(session: Session, under_id: int | None = None) -> dict[int, int]:
    """Return {grid id: street id} (within one area's subtree if given)."""
    walk = grid_ancestry()
    street = aliased(Area)
    stmt = (select(walk.c.grid_id, walk.c.ancestor_id)
            .join(street, street.id == walk.c.ancestor_id)
            .where(street.level == LEVEL_STREET))
    if under_id is not None:
        stmt = stmt.where(in_subtree(walk.c.grid_id, under_id))
    return {grid_id: street_id for grid_id, street_id in session.execute(stmt)}


def descendants_at_level(session: Session, area_id: int, level: str) -> list[Area]:
    """Return the areas of ``level`` inside an area, in code order."""
    tree = subtree(area_id)
    return list(session.scalars(
        select(Area).join(tree, tree.c.id == Area.id).where(Area.level == level)
        .order_by(Area.code)))


def counts_below(session: Session, area_id: int) -> dict[str, int]:
    """Return {level: number of areas} strictly below an area, top level first."""
    tree = subtree(area_id)
    rows = dict(session.execute(
        select(Area.level, func.count()).join(tree, tree.c.id == Area.id)
        .where(Area.id != area_id).group_by(Area.level)).all())
    return {level: rows[level] for level in LEVELS if level in rows}


def ancestors(session: Session, area_id: int) -> list[Area]:
    """Return the area's ancestors from the root down, and the area itself."""
    anchor = select(Area.id.label("id"), Area.parent_id.label("parent_id"),
                    literal(0).label("depth")).where(Area.id == area_id)
    walk = anchor.cte("ancestors", recursive=True)
    up = aliased(Area)
    walk = walk.union(
        select(up.id, up.parent_id, walk.c.depth + 1).join(walk, up.id == walk.c.parent_id)
        .where(walk.c.depth < len(LEVELS) * 4))  # a bound: bad data with a cycle still ends
    rows = session.execute(
        select(Area, walk.c.depth).join(walk, walk.c.id == Area.id)
        .order_by(walk.c.depth.desc())).all()
    seen: set[int] = set()
    out: list[Area] = []
    for area, _depth in rows:
        if area.id not in seen:
            seen.add(area.id)
            out.append(area)
    return out


def children_to_show(session: Session, parent_id: int) -> list[Area]:
    """Return the areas a page lists under an area, skipping derived levels.

    A derived area (the one child an importer makes for a level the city lacks) only repeats
    its parent, so its own children are shown in its place: a two-level city's street lists
    its precincts' grids' parents, not one copy of itself.
    """
    shown: list[Area] = []
    frontier = [parent_id]
    seen = {parent_id}
    while frontier:
        rows = list(session.scalars(
            select(Area).where(Area.parent_id.in_(frontier)).order_by(Area.code)))
        frontier = []
        for area in rows:
            if area.id in seen:
                continue
            seen.add(area.id)
            if area.derived:
                frontier.append(area.id)
            else:
                shown.append(area)
    return sorted(shown, key=lambda a: (LEVELS.index(a.level), a.code))


def listing(session: Session, area: Area) -> tuple[Area, str]:
    """Return whose children the page lists, and their level.

    An area lists its children, skipping derived levels (they only repeat their parent); an
    area with nothing to list below it (a grid, or a precinct whose only child is derived)
    lists itself among its siblings, under its nearest real ancestor.
    """
    shown = children_to_show(session, area.id) if area.level != LEVEL_GRID else []
    if shown:
        return area, shown[0].level
    parent = area
    while parent.parent_id is not None:
        above = session.get(Area, parent.parent_id)
        if above is None:
            break
        parent = above
        if not parent.derived:
            break
    if parent is area:  # a lone root: it lists nothing
        return area, LEVELS[min(LEVELS.index(area.level) + 1, len(LEVELS) - 1)]
    return parent, area.level
