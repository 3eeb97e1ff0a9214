"""A city built by hand for the wall's rankings: several ranked children at every level.

tests/test_wall_ranking.py works every rank and every bottom-two mark out by hand from the
table below. NOW is 2026-11-20 12:00 (the month is November, still running)::

    排名区 330188 (D)
    ├── 一街道 330188001 (S1)
    │   ├── 一社区 330188001001 (C1): grids G1 G2 G3 G4
    │   ├── 二社区 330188001002 (C2): grid G5
    │   ├── 三社区 330188001003 (C3): grid G6
    │   └── 四社区 330188001004 (C4): grid G7
    ├── 二街道 330188002 (S2) ── 五社区 (C5): grid G8
    ├── 三街道 330188003 (S3) ── 六社区 (C6): grid G9
    ├── 四街道 330188004 (S4) ── 七社区 (C7): grid G10
    └── 五街道 330188005 (S5) ── 八社区 (C8): grid G11

Every case is a patrol case (监督员巡查, not public) of one category, registered in November,
due the next day at 09:20, and ends one of three ways:

- ``ON`` on time: handled the next day 08:00, closed 09:00 (before the deadline);
- ``LATE``: handled two days later 08:00, closed 09:00 (past the deadline);
- ``OPEN``: never handled, so open and overdue at NOW.

Cases stand 111 m apart (0.001° of latitude each), so no case repeats another (50 m rule).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from queries.models import (
    LEVEL_COMMUNITY,
    LEVEL_DISTRICT,
    LEVEL_GRID,
    LEVEL_STREET,
    SOURCE_PATROL,
    STATUS_CLOSED,
    STATUS_DISPATCHED,
    Area,
    Case,
    Category,
    Department,
)

NOW = datetime(2026, 11, 20, 12, 0)
ON, LATE, OPEN = "on", "late", "open"

# (key, level, code, name, parent key, first grid column, columns wide)
AREAS = (
    ("D", LEVEL_DISTRICT, "330188", "排名区", None, 0, 11),
    ("S1", LEVEL_STREET, "330188001", "一街道", "D", 0, 7),
    ("S2", LEVEL_STREET, "330188002", "二街道", "D", 7, 1),
    ("S3", LEVEL_STREET, "330188003", "三街道", "D", 8, 1),
    ("S4", LEVEL_STREET, "330188004", "四街道", "D", 9, 1),
    ("S5", LEVEL_STREET, "330188005", "五街道", "D", 10, 1),
    ("C1", LEVEL_COMMUNITY, "330188001001", "一社区", "S1", 0, 4),
    ("C2", LEVEL_COMMUNITY, "330188001002", "二社区", "S1", 4, 1),
    ("C3", LEVEL_COMMUNITY, "330188001003", "三社区", "S1", 5, 1),
    ("C4", LEVEL_COMMUNITY, "330188001004", "四社区", "S1", 6, 1),
    ("C5", LEVEL_COMMUNITY, "330188002001", "五社区", "S2", 7, 1),
    ("C6", LEVEL_COMMUNITY, "330188003001", "六社区", "S3", 8, 1),
    ("C7", LEVEL_COMMUNITY, "330188004001", "七社区", "S4", 9, 1),
    ("C8", LEVEL_COMMUNITY, "330188005001", "八社区", "S5", 10, 1),
    ("G1", LEVEL_GRID, "33018800100101", "一社区01网格", "C1", 0, 1),
    ("G2", LEVEL_GRID, "33018800100102", "一社区02网格", "C1", 1, 1),
    ("G3", LEVEL_GRID, "33018800100103", "一社区03网格", "C1", 2, 1),
    ("G4", LEVEL_GRID, "33018800100104", "一社区04网格", "C1", 3, 1),
    ("G5", LEVEL_GRID, "33018800100201", "二社区01网格", "C2", 4, 1),
    ("G6", LEVEL_GRID, "33018800100301", "三社区01网格", "C3", 5, 1),
    ("G7", LEVEL_GRID, "33018800100401", "四社区01网格", "C4", 6, 1),
    ("G8", LEVEL_GRID, "33018800200101", "五社区01网格", "C5", 7, 1),
    ("G9", LEVEL_GRID, "33018800300101", "六社区01网格", "C6", 8, 1),
    ("G10", LEVEL_GRID, "33018800400101", "七社区01网格", "C7", 9, 1),
    ("G11", LEVEL_GRID, "33018800500101", "八社区01网格", "C8", 10, 1),
)
# Each grid's cases, by how they end. The tests derive every figure from this table.
GRID_CASES = {
    "G1": (ON, ON),
    "G2": (ON, LATE),
    "G3": (LATE, LATE),
    "G4": (ON, OPEN),
    "G5": (ON, ON),
    "G6": (ON, ON),
    "G7": (ON, LATE),
    "G8": (ON, ON, ON),
    "G9": (ON, ON, LATE, LATE),
    "G10": (ON, ON, ON, ON, ON, OPEN),
    "G11": (ON,),
}

# The assessment rules of the district wall: one point per problem, one more when it is
# overdue, no repeats (cases stand apart), one group of all five streets, bottom two marked.
RULES_YAML = """\
title: 排名测试细则
base_score: 100
normalise: none
deductions:
  default: {1: 1, 2: 2, 3: 3}
overdue: {per_case: 1}
rework: {per_time: 0}
repeat: {radius_m: 50, days: 30, history_days: 90, multipliers: {2: 2}}
caps: {}
min_sample: 2
cost_threshold: 2
bottom_n: 2
lists: {red_streets: 1, black_streets: 1, red_grids: 1, black_grids: 1}
groups:
  第一组: [330188001, 330188002, 330188003, 330188004, 330188005]
"""

LON0, LAT0, STEP = 108.900, 34.300, 0.001


@dataclass(frozen=True)
class RankingCity:
    """Database ids of the areas by key, and the codes by key (for building walls)."""

    ids: dict[str, int]
    codes: dict[str, str]


def build_ranking_city(session: Session) -> RankingCity:
    """Insert the areas and cases of the table above; commit."""
    areas: dict[str, Area] = {}
    for key, level, code, name, parent, column, width in AREAS:
        west, east = LON0 + STEP * column, LON0 + STEP * (column + width)
        ring = [[west, LAT0], [east, LAT0], [east, LAT0 - STEP], [west, LAT0 - STEP],
                [west, LAT0]]
        areas[key] = Area(code=code, name=name, level=level,
                          parent=areas[parent] if parent else None,
                          geometry=json.dumps({"type": "Polygon", "coordinates": [ring]}),
                          center_lat=LAT0 - STEP / 2, center_lon=(west + east) / 2,
                          area_m2=10_000.0 * width, leader=f"{name}负责人")
    category = Category(code="SJ0101", kind="事件", major="市容环境", minor="暴露垃圾",
                        element="环卫", limit_hours=8.0, urgent_limit_hours=2.0,
                        department_code="BM03")
    department = Department(code="BM03", name="环卫")
    session.add_all([*areas.values(), category, department])
    session.flush()
    parent = {key: parent for key, _, _, _, parent, _, _ in AREAS}
    number = 0
    for grid, endings in GRID_CASES.items():
        community = parent[grid]
        for ending in endings:
            day = datetime(2026, 11, 2 + number % 8, 9, 0)  # 2–9 November, 09:00
            deadline = day + timedelta(days=1, minutes=20)
            finished = {ON: day + timedelta(hours=23), LATE: day + timedelta(days=1, hours=23)}
            handled = finished.get(ending)
            session.add(Case(
                external_id=f"RK-{number:03d}", source=SOURCE_PATROL, category_id=category.id,
                lat=LAT0 - STEP * number, lon=areas[grid].center_lon,
                grid_id=areas[grid].id, community_id=areas[community].id,
                street_id=areas[parent[community]].id, department_id=department.id,
                status=STATUS_DISPATCHED if handled is None else STATUS_CLOSED,
                reported_at=day, registered_at=day + timedelta(minutes=10),
                dispatched_at=day + timedelta(minutes=20),
                handled_at=handled,
                closed_at=None if handled is None else handled + timedelta(hours=1),
                deadline_at=deadline, original_deadline_at=deadline))
            number += 1
    session.commit()
    return RankingCity(ids={k: a.id for k, a in areas.items()},
                       codes={k: a.code for k, a in areas.items()})
