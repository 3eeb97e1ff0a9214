"""A tiny hand-built city for the assessment tests: 4 streets in 2 groups, 5 grids, 23 cases.

Every figure the tests expect is worked out by hand in tests/test_assessment.py from the table
below. Places are given in metres north of each grid's anchor, so distances are exact.

    street  group   grids    anchor (lat, lon)
    A 甲街道 第一组  A1, A2   A1 (34.26, 108.94)  A2 (34.26, 108.96)
    B 乙街道 第一组  B1       (34.27, 108.94)
    C 丙街道 第二组  C1       (34.28, 108.94)
    D 丁街道 第二组  D1       (34.29, 108.94)

Categories: 垃圾 = 事件/市容环境/暴露垃圾 (default table), 井盖 = 部件/公用设施/井盖 (by_kind 部件),
突发 = 事件/突发事件/路面塌陷 (by_major).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from queries.models import (
    STATUS_CANCELLED,
    STATUS_CLOSED,
    STATUS_HANDLING,
    STATUS_REPORTED,
    Area,
    Case,
    Category,
    VolunteerActivity,
    VolunteerTeam,
)
from queries.repeats import EARTH_RADIUS_M

DISTRICT = "610199"
STREETS = {"A": ("610199001", "甲街道"), "B": ("610199002", "乙街道"),
           "C": ("610199003", "丙街道"), "D": ("610199004", "丁街道")}
GRIDS = {"A1": ("A", 34.26, 108.94), "A2": ("A", 34.26, 108.96), "B1": ("B", 34.27, 108.94),
         "C1": ("C", 34.28, 108.94), "D1": ("D", 34.29, 108.94)}
CATEGORIES = {"垃圾": ("事件", "市容环境", "暴露垃圾"), "井盖": ("部件", "公用设施", "井盖"),
              "突发": ("事件", "突发事件", "路面塌陷")}
NOW = datetime(2026, 3, 10, 12, 0)

# The rules of the tests: simple numbers so every score can be worked out by hand.
RULES_YAML = """\
title: 测试细则
base_score: 100
normalise: none
deductions:
  default: {1: 0.5, 2: 1, 3: 2}
  by_kind:
    部件: {1: 0.25, 2: 0.5, 3: 1}
  by_major:
    事件/突发事件: {1: 1, 2: 2, 3: 3}
overdue: {per_case: 0.5}
rework: {per_time: 0.25}
repeat: {radius_m: 50, days: 30, history_days: 90, multipliers: {2: 2, 3: 3}}
caps: {problems: 5, repeat: 3, overdue: 1}
bonus:
  volunteer_hours: {points: 0.5, per_hours: 10, cap: 1}
min_sample: 2
cost_threshold: 2
bottom_n: 1
lists: {red_streets: 1, black_streets: 1, red_grids: 2, black_grids: 2}
groups:
  第一组: [610199001, 610199002]
  第二组: [610199003, 610199004]
"""


@dataclass(frozen=True)
class Spec:
    """One case of the table: where, what, when, and how it went."""

    name: str
    grid: str
    category: str
    registered: datetime
    severity: int = 1
    north_m: float = 0.0
    status: str = STATUS_CLOSED
    overdue: bool = False  # handled a day after a one-day deadline (or never, when open)
    rework: int = 0


def d(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 9, 0)


CASES = (
    # January 2026
    Spec("a1", "A1", "垃圾", d(1, 5)),
    Spec("a2", "A1", "垃圾", d(1, 20), north_m=10),  # 10 m, 15 days after a1: 2nd occurrence
    Spec("a3", "A2", "井盖", d(1, 10), severity=3, overdue=True),
    Spec("a4", "A2", "突发", d(1, 12), severity=2, north_m=200),
    Spec("b1", "B1", "垃圾", d(1, 3), severity=2, rework=2),
    Spec("b2", "B1", "井盖", d(1, 15), north_m=200),
    Spec("b3", "B1", "垃圾", d(1, 25), north_m=400, status=STATUS_CANCELLED),  # not a problem
    Spec("c1", "C1", "突发", d(1, 8), severity=3, status=STATUS_HANDLING, overdue=True),
    Spec("c2", "C1", "突发", d(1, 9), severity=3, north_m=200),
    Spec("c3", "C1", "垃圾", d(1, 10), north_m=400),
    Spec("d1", "D1", "垃圾", d(1, 6)),
    Spec("d2", "D1", "垃圾", d(1, 7), north_m=30),  # 30 m from d1: 2nd occurrence
    Spec("d3", "D1", "垃圾", d(1, 8), north_m=50),  # 20 m from d2 (50 m from d1): 3rd
    # February 2026
    Spec("a5", "A1", "垃圾", d(2, 10), north_m=20),  # 10 m, 21 days after a2: 3rd occurrence
    Spec("a6", "A2", "突发", d(2, 2), severity=3, north_m=400, rework=1),
    Spec("a7", "A2", "突发", d(2, 3), severity=2, north_m=600, overdue=True),
    Spec("b4", "B1", "垃圾", d(2, 4)),  # same place as b1 but 32 days later: not a repeat
    Spec("b5", "B1", "井盖", d(2, 11), north_m=600),
    Spec("c4", "C1", "垃圾", d(2, 5), north_m=400),  # same place as c3, 26 days later: 2nd
    Spec("c5", "C1", "垃圾", d(2, 6), severity=2, north_m=460),  # 60 m from c4: a first
    Spec("d4", "D1", "垃圾", d(2, 20), north_m=200),
)
# Reported but never registered: not a problem in any month.
UNREGISTERED = Spec("e1", "A1", "垃圾", d(2, 12), north_m=800, status=STATUS_REPORTED)
# Volunteer service: (grid, start, hours). B gets 9 h in January (+0.45), C 30 h in February
# (+1.5, capped at +1); A's December hours fall outside both months.
ACTIVITIES = (("B1", d(1, 15), 9.0), ("C1", d(2, 8), 30.0), ("A1", datetime(2025, 12, 20), 100.0))


def build_city(session: Session) -> dict[str, int]:
    """Write the city into an empty database; return case ids by name."""
    square = '{"type":"Polygon","coordinates":[[[0,0],[0,1],[1,1],[0,0]]]}'
    district = Area(code=DISTRICT, name="测试区", level="district", geometry=square,
                    center_lat=34.27, center_lon=108.95)
    session.add(district)
    session.flush()
    streets, communities, grids = {}, {}, {}
    for key, (code, name) in STREETS.items():
        streets[key] = Area(code=code, name=name, level="street", parent_id=district.id,
                            geometry=square, center_lat=34.27, center_lon=108.95)
        session.add(streets[key])
        session.flush()
        communities[key] = Area(code=code + "001", name=name + "一社区", level="community",
                                parent_id=streets[key].id, geometry=square,
                                center_lat=34.27, center_lon=108.95)
        session.add(communities[key])
    session.flush()
    for key, (street, lat, lon) in GRIDS.items():
        grids[key] = Area(code=f"{STREETS[street][0]}001{int(key[1]):02d}", name=f"{key}网格",
                          level="grid", parent_id=communities[street].id, geometry=square,
                          center_lat=lat, center_lon=lon)
        session.add(grids[key])
    categories = {}
    for n, (key, (kind, major, minor)) in enumerate(CATEGORIES.items()):
        categories[key] = Category(code=f"T{n}", kind=kind, major=major, minor=minor,
                                   element="环卫", limit_hours=8, urgent_limit_hours=2)
        session.add(categories[key])
    session.flush()
    ids = {}
    for spec in (*CASES, UNREGISTERED):
        street, lat, lon = GRIDS[spec.grid]
        registered = None if spec.status == STATUS_REPORTED else spec.registered
        deadline = spec.registered + timedelta(days=1 if spec.overdue else 2)
        handled = None if spec.status in (STATUS_HANDLING, STATUS_REPORTED) else (
            spec.registered + timedelta(days=2 if spec.overdue else 1))
        case = Case(
            external_id=spec.name, source="巡查上报", category_id=categories[spec.category].id,
            lat=lat + spec.north_m / EARTH_RADIUS_M * 180 / 3.141592653589793, lon=lon,
            grid_id=grids[spec.grid].id, community_id=communities[street].id,
            street_id=streets[street].id, status=spec.status, severity=spec.severity,
            reported_at=spec.registered - timedelta(minutes=30), registered_at=registered,
            deadline_at=deadline, handled_at=handled,
            closed_at=handled if spec.status == STATUS_CLOSED else None,
            cancelled_at=spec.registered if spec.status == STATUS_CANCELLED else None,
            rework_count=spec.rework,
        )
        session.add(case)
        session.flush()
        ids[spec.name] = case.id
    for n, (grid, start, hours) in enumerate(ACTIVITIES):
        street = GRIDS[grid][0]
        team = VolunteerTeam(name=f"志愿队{n}", street_id=streets[street].id, leader="队长",
                             founded_on=date(2025, 1, 1))
        session.add(team)
        session.flush()
        session.add(VolunteerActivity(
            team_id=team.id, service_type="环境整治", title="清扫", grid_id=grids[grid].id,
            lat=GRIDS[grid][1], lon=GRIDS[grid][2], start_at=start,
            end_at=start + timedelta(hours=3), participants=3, service_hours=hours))
    session.commit()
    return ids
