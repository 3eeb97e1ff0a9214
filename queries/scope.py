"""Whose cases a caller may read: the scope every case-level read in ``queries/`` takes.

Scoping is enforced where the data is read, not filtered afterwards: a function that returns
case rows (or figures computed case by case for a department or area) takes a ``Scope`` and
adds ``scope.case_clause()`` to its WHERE. A leader, the wall's scheduler and a kiosk token read
everything (``Scope.everything()``); a department head reads their department's cases; a street
or grid manager reads the cases inside their area (any level: cases carry street, community and
grid ids). ``Scope.nothing()`` is what an anonymous caller gets where a login is needed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, or_, true

from queries.models import Case

SCOPE_ALL = "all"
SCOPE_DEPARTMENT = "department"
SCOPE_AREA = "area"
SCOPE_NONE = "none"


@dataclass(frozen=True)
class Scope:
    """The cases a caller may see case by case.

    ``department_ids`` and ``area_ids`` are database ids (departments.id, areas.id of any level);
    a scope of kind "department" keeps cases of those departments, "area" keeps cases inside any
    of those areas. Frozen and hashable, so a cache can key on it.
    """

    kind: str
    department_ids: frozenset[int] = frozenset()
    area_ids: frozenset[int] = frozenset()

    @classmethod
    def everything(cls) -> Scope:
        """Every case: leaders, the scheduler's snapshot, the CLI."""
        return cls(SCOPE_ALL)

    @classmethod
    def nothing(cls) -> Scope:
        """No case at all: an anonymous caller where a login is required."""
        return cls(SCOPE_NONE)

    @classmethod
    def department(cls, *department_ids: int) -> Scope:
        """The cases dispatched to these departments (部门负责人)."""
        return cls(SCOPE_DEPARTMENT, department_ids=frozenset(department_ids))

    @classmethod
    def area(cls, *area_ids: int) -> Scope:
        """The cases inside these areas, any level (街道 / 社区 / 网格长)."""
        return cls(SCOPE_AREA, area_ids=frozenset(area_ids))

    @property
    def is_everything(self) -> bool:
        """True when nothing is hidden from this caller."""
        return self.kind == SCOPE_ALL

    def case_clause(self) -> ColumnElement[bool]:
        """Return the WHERE clause that keeps exactly this scope's cases."""
        if self.kind == SCOPE_ALL:
            return true()
        if self.kind == SCOPE_DEPARTMENT and self.department_ids:
            return Case.department_id.in_(sorted(self.department_ids))
        if self.kind == SCOPE_AREA and self.area_ids:
            ids = sorted(self.area_ids)
            return or_(Case.street_id.in_(ids), Case.community_id.in_(ids),
                       and_(Case.grid_id.is_not(None), Case.grid_id.in_(ids)))
        return false()
