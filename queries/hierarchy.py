"""The grid hierarchy walked by ``Area.parent_id``, never by code prefixes.

A city's own codes are opaque ("0502A", "W03") and do not nest, so "inside an area" is a walk
down the parent links. Subtrees are recursive CTEs (SQLite and PostgreSQL both run them): one
statement each, no matter how deep the tree; ``UNION`` (not ``UNION ALL``) makes a parent cycle
in bad data end the walk instead of looping. Grid counts, asked by every page, join a fixed
chain of parents instead: every grid has a community and every community a street, because
the importers derive a level a city lacks (``Area.derived``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CTE, ColumnElement, Select, func, literal, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from queries.models import LEVEL_GRID, LEVEL_STREET, LEVELS, Area

# Aliases of the table made once: building an alias and its column collection costs
# milliseconds a call, more than the queries themselves. Statements are immutable, so sharing
# them is safe; the names only have to differ within one statement.
_AREAS = Area.__table__
_HOP = tuple(_AREAS.alias(f"hierarchy_{k}") for k in range(len(LEVELS)))
_CHILD = _AREAS.alias("hierarchy_child")
_UP = _AREAS.alias("hierarchy_up")


def subtree(area_id: int) -> CTE:
    """Return a CTE of the ids of ``area_id`` and every area below it (column ``id``)."""
    anchor = select(Area.id.label("id")).where(Area.id == area_id)
    tree = anchor.cte("subtree", recursive=True)
    return tree.union(select(_CHILD.c.id).join(tree, _CHILD.c.parent_id == tree.c.id))


def in_subtree(column: ColumnElement[int] | InstrumentedAttribute[int],
               area_id: int) -> ColumnElement[bool]:
    """Return a clause keeping rows whose area ``column`` lies in ``area_id``'s subtree."""
    return column.in_(select(subtree(area_id).c.id))


def _grids_under(level: str) -> tuple[Select, Any, Any]:
    """Return (statement, grid alias, ancestor alias) joining each grid to its ``level`` area.

    Grids sit exactly ``depth(grid) - depth(level)`` parent links below an area of ``level``
    (importers derive missing levels, so no level is skipped): a fixed chain of joins on the
    primary key, cheaper than a recursive walk for the counts every page asks for.
    """
    grid = node = _HOP[0]
    stmt = select().select_from(grid)
    for k in range(1, LEVELS.index(LEVEL_GRID) - LEVELS.index(level) + 1):
        stmt = stmt.join(_HOP[k], _HOP[k].c.id == node.c.parent_id)
        node = _HOP[k]
    stmt = stmt.where(grid.c.level == LEVEL_GRID, node.c.level == level)
    return stmt, grid.c, node.c


def grid_counts(session: Session, level: str) -> dict[int, int]:
    """Return {area id: unit grids inside it} for every area of ``level`` that has grids."""
    stmt, _grid, above = _grids_under(level)
    stmt = stmt.add_columns(above.id, func.count()).group_by(above.id)
    return {area_id: count for area_id, count in session.execute(stmt)}


def grids_inside(session: Session, area_id: int | None) -> int:
    """Return the number of unit grids inside an area (None: the whole database)."""
    if area_id is None:
        return session.scalar(select(func.count()).where(Area.level == LEVEL_GRID)) or 0
    level = session.scalar(select(Area.level).where(Area.id == area_id))
    if level is None:
        return 0
    stmt, _grid, above = _grids_under(level)
    return session.scalar(stmt.add_columns(func.count()).where(above.id == area_id)) or 0


def street_of_grids(session: Session, under_id: int | None = None) -> dict[int, int]:
    """Return {grid id: street id} (within one area's subtree if given)."""
    stmt, grid, street = _grids_under(LEVEL_STREET)
    stmt = stmt.add_columns(grid.id, street.id)
    if under_id is not None:
        stmt = stmt.where(in_subtree(grid.id, under_id))
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
    up = _UP
    walk = walk.union(
        select(up.c.id, up.c.parent_id, walk.c.depth + 1).join(walk, up.c.id == walk.c.parent_id)
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
