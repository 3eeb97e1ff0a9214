"""Cases of two departments in two streets, with strings no other fixture uses, for scope tests.

On the hand-built city's areas (``tests.handbuilt.build_city``: 城西街道 S1 with grid G1, 城东街道
S2 with grids G4, G5), department A is D1 城管执法 and department B is D2 市政设施::

    case   department  grid (street)  status      reported     location
    A1     A           G1 (S1)        dispatched  11-10 09:00  precise
    A2     A           G4 (S2)        dispatched  11-11 09:00  default geocode (imprecise)
    B1     B           G4 (S2)        dispatched  11-12 09:00  precise
    B2     B           G1 (S1)        dispatched  11-13 09:00  default geocode (imprecise)
    B3     B           G5 (S2)        closed      11-14 09:00  precise

the 路长 sections of ``tests.handbuilt_sections`` over them (A1 lies in LZ-A, B1 in LZ-B, B3 in
LZ-C; the imprecise A2 and B2 in none), and one quarantined row of department B's source whose
payload holds a B address. Every string
of department B contains ``B_MARKERS``, so a test can search any response body for them.

So: department A's head reads A1, A2; the manager of street S1 reads A1, B2; nobody but the
whole-city scope reads the quarantined row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from queries.models import SOURCE_PATROL, STATUS_CLOSED, STATUS_DISPATCHED, Case, QuarantinedRow
from tests.handbuilt import LAT0, LON0, STEP, build_city
from tests.handbuilt_sections import build_sections

B_MARKERS = ("SCOPE-B-SECRET", "乙部门保密")
COLUMNS = {"G1": 0, "G4": 3, "G5": 4}
PARENTS = {"G1": ("C1", "S1"), "G4": ("C3", "S2"), "G5": ("C3", "S2")}
# (key, external id, department, grid, closed, reported day, imprecise, address, description)
CASES = (
    ("A1", "SCOPE-A-001", "D1", "G1", False, 10, False, "甲部门一路1号", "甲部门案件一"),
    ("A2", "SCOPE-A-002", "D1", "G4", False, 11, True, "甲部门二路2号", "甲部门案件二"),
    ("B1", "SCOPE-B-SECRET-001", "D2", "G4", False, 12, False, "乙部门保密路101号",
     "乙部门保密描述101"),
    ("B2", "SCOPE-B-SECRET-002", "D2", "G1", False, 13, True, "乙部门保密路202号",
     "乙部门保密描述202"),
    ("B3", "SCOPE-B-SECRET-003", "D2", "G5", True, 14, False, "乙部门保密路303号",
     "乙部门保密描述303"),
)


@dataclass(frozen=True)
class ScopeCity:
    """Database ids: areas and departments by hand-built key, cases by A1 … B3."""

    areas: dict[str, int]
    departments: dict[str, int]
    cases: dict[str, int]

    @property
    def department_a(self) -> int:
        return self.departments["D1"]

    @property
    def department_b(self) -> int:
        return self.departments["D2"]


def build_scope_city(session: Session) -> ScopeCity:
    """Insert the areas and the five cases and the quarantined row; flush, do not commit."""
    city = build_city(session)
    rows: dict[str, Case] = {}
    for key, external_id, department, grid, closed, day, imprecise, address, text in CASES:
        community, street = PARENTS[grid]
        reported = datetime(2026, 11, day, 9, 0)
        rows[key] = Case(
            external_id=external_id, source=SOURCE_PATROL, category_id=city.categories["K1"],
            description=text, address=address,
            lat=LAT0 - STEP / 2, lon=LON0 + STEP * (COLUMNS[grid] + 0.5),
            location_precise=not imprecise,
            location_note="default_geocode" if imprecise else None,
            grid_id=city.areas[grid], community_id=city.areas[community],
            street_id=city.areas[street], department_id=city.departments[department],
            status=STATUS_CLOSED if closed else STATUS_DISPATCHED,
            reported_at=reported, registered_at=reported.replace(minute=10),
            dispatched_at=reported.replace(minute=20),
            handled_at=reported.replace(hour=15) if closed else None,
            closed_at=reported.replace(hour=16) if closed else None,
            deadline_at=datetime(2026, 11, day + 1, 9, 20),
        )
    session.add_all(rows.values())
    session.add(QuarantinedRow(
        source="import-cases b.csv", source_system="dept-b", file_name="b.csv", row_number=2,
        external_id="SCOPE-B-SECRET-Q", reason_code="bad_timestamp", reason="bad time",
        payload=json.dumps({"address": "乙部门保密路404号"}, ensure_ascii=False),
        at=datetime(2026, 11, 15, 9, 0)))
    session.flush()
    build_sections(session)  # 路长 sections: A1 in LZ-A, B1 in LZ-B, B3 in LZ-C (by point)
    return ScopeCity(areas=city.areas, departments=city.departments,
                     cases={key: case.id for key, case in rows.items()})
