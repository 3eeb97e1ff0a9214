# ruff: noqa: E501 (the case table keeps one case per line)
"""A tiny city built by hand, so every indicator can be worked out by hand in the tests.

Reuse it (``build_handbuilt(session)`` on an empty database) wherever a test needs answers a
person can check. It is a fixed contract: add cases at the end, never change existing ones,
or every hand-worked expectation built on it moves.

The city, west to east in one row of 100 m × 100 m unit grids (codes nest, GB/T 30428.1)::

    示范区 330199 (D)
    ├── 城西街道 330199001 (S1)
    │   ├── 西苑社区 330199001001 (C1): grids G1 33019900100101, G2 33019900100102
    │   └── 西城社区 330199001002 (C2): grid  G3 33019900100201
    └── 城东街道 330199002 (S2)
        └── 东苑社区 330199002001 (C3): grids G4 33019900200101, G5 33019900200102

Departments: D1 城管执法, D2 市政设施, D3 环卫. Categories: K1 井盖, K2 路灯 (部件);
K3 暴露垃圾, K4 占道经营 (事件).

Two periods: OCTOBER (the month, already over) and NOVEMBER (1–20 November, still running:
NOW is 2026-11-20 12:00). Deadlines are set by hand, not from the working calendar.
No CaseEvent rows are written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from queries.models import (
    LEVEL_COMMUNITY,
    LEVEL_DISTRICT,
    LEVEL_GRID,
    LEVEL_STREET,
    SETTLED_DISTRICT,
    SETTLED_GRID,
    SETTLED_STREET,
    SOURCE_HOTLINE,
    SOURCE_LEADER,
    SOURCE_PATROL,
    SOURCE_PHOTO,
    SOURCE_VIDEO,
    STATUS_CANCELLED,
    STATUS_CLOSED,
    STATUS_DISPATCHED,
    STATUS_REGISTERED,
    STATUS_REPORTED,
    STATUS_VERIFYING,
    Area,
    Case,
    Category,
    Department,
)
from queries.periods import Period, custom, parse_period

YEAR = 2026
NOW = datetime(YEAR, 11, 20, 12, 0)
OCTOBER: Period = parse_period("2026-10", NOW)
NOVEMBER: Period = custom(date(YEAR, 11, 1), date(YEAR, 11, 20))

# (key, level, code, name, parent key, first grid column, columns wide)
AREAS = (
    ("D", LEVEL_DISTRICT, "330199", "示范区", None, 0, 5),
    ("S1", LEVEL_STREET, "330199001", "城西街道", "D", 0, 3),
    ("S2", LEVEL_STREET, "330199002", "城东街道", "D", 3, 2),
    ("C1", LEVEL_COMMUNITY, "330199001001", "西苑社区", "S1", 0, 2),
    ("C2", LEVEL_COMMUNITY, "330199001002", "西城社区", "S1", 2, 1),
    ("C3", LEVEL_COMMUNITY, "330199002001", "东苑社区", "S2", 3, 2),
    ("G1", LEVEL_GRID, "33019900100101", "西苑社区01网格", "C1", 0, 1),
    ("G2", LEVEL_GRID, "33019900100102", "西苑社区02网格", "C1", 1, 1),
    ("G3", LEVEL_GRID, "33019900100201", "西城社区01网格", "C2", 2, 1),
    ("G4", LEVEL_GRID, "33019900200101", "东苑社区01网格", "C3", 3, 1),
    ("G5", LEVEL_GRID, "33019900200102", "东苑社区02网格", "C3", 4, 1),
)
# Each grid lists its cases, so a test can check an area's cases at a glance.
GRID_CASES = {
    "G1": (3, 4, 5, 14, 19, 21, 28),
    "G2": (2, 6, 7, 15, 20, 22, 29),
    "G3": (8, 9, 16, 23, 30, 33),
    "G4": (1, 10, 11, 17, 24, 25, 31),
    "G5": (12, 13, 18, 26, 27, 32),
}
DEPARTMENTS = (("D1", "BM01", "城管执法"), ("D2", "BM02", "市政设施"), ("D3", "BM03", "环卫"))
# (key, code, kind, major, minor, element, limit hours, urgent limit hours, department code)
CATEGORIES = (
    ("K1", "BJ0101", "部件", "公用设施", "井盖", "市政", 24.0, 4.0, "BM02"),
    ("K2", "BJ0102", "部件", "公用设施", "路灯", "亮灯", 48.0, 8.0, "BM02"),
    ("K3", "SJ0101", "事件", "市容环境", "暴露垃圾", "环卫", 8.0, 2.0, "BM03"),
    ("K4", "SJ0501", "事件", "街面秩序", "占道经营", "道路", 8.0, 2.0, "BM01"),
)

LON0, LAT0, STEP = 120.100, 30.300, 0.001  # north-west corner; one grid is STEP degrees square
PAT, HOT, PHO, VID, LDR = SOURCE_PATROL, SOURCE_HOTLINE, SOURCE_PHOTO, SOURCE_VIDEO, SOURCE_LEADER
GRID, STREET, DIST = SETTLED_GRID, SETTLED_STREET, SETTLED_DISTRICT


@dataclass(frozen=True)
class Spec:
    """One hand-made case; times are "MM-DD HH:MM" in 2026.

    ``timeline`` is the chain 上报 > 立案 > 派遣 > 处置 > 结案 as far as the case got; a bare
    "HH:MM" is on the same day as the stage before it.
    """

    no: int
    grid: str
    source: str
    category: str
    department: str | None
    timeline: str
    deadline: str | None = None
    cancelled: str | None = None
    valid: bool = True
    ext_from: str | None = None  # the deadline before an approved 延期
    mis: bool = False
    rework: int = 0
    settled: str | None = None
    repeat_of: int | None = None


# One line per case, wider than 100 columns on purpose; the comment above each says why the case
# is there. Read it as a table.
#
# Repeat links (重复问题) are exactly what the rule of queries/repeats.py finds (same minor class,
# within 50 m, registered at most 30 days after; cancelled and unregistered cases take no part).
# All cases of a grid lie on its centre and grids are 0.001° (≈ 96 m) apart, so a repeat is a
# later registration of the same class in the same grid within 30 days, linked to the latest:
#   G1 K3: 3 (10-02 09:20) ← 19 (10-22 09:30, 20 d) ← 21 (11-03 09:10, 12 d)
#   G2 K3: 2 (09-28 10:10) ← 7 (10-06 10:30, 8 d) ← 20 (11-01 00:10, 25.6 d) ← 29 (11-11 09:05)
#   G2 K4: 15 (10-20 09:10) ← 22 (11-05 09:20, 16 d)
#   G3 K3: 16 (10-30 15:10) ← 33 (11-17 09:10, 17.75 d)
#   G4 K4: 10 (10-12 09:15) ← 17 (10-29 09:05, 17 d)
#   G4 K3: 11 (10-14 09:30), 24 (11-19 09:10: 36 d later, a first) ← 25 (11-20 08:10)
#   G5 K3: 13 (10-16 09:20) ← 18 (10-31 10:10, 15 d)
# Cancelled 6 (G2 K1) and 32 (G5 K4) and unregistered 4 5 30 31 repeat nothing and are no one's
# earlier problem; every case not named above is the only registered, not cancelled one of its
# class in its grid. 10 links: 19 7 17 18 registered in October, 21 20 29 22 33 25 in November.
# fmt: off
CASES = (
    # 1 registered in September, never handled: open and overdue in both periods
    Spec(1, "G4", PAT, "K1", "D2", "09-25 09:00 > 09:10 > 09:20", "09-28 09:20"),
    # 2 September case handled and closed late in October: October's 结案数, but not in
    #   October's 应结案 (a September registration); its closure level was not recorded (out of
    #   小事不出网格率)
    Spec(2, "G2", PAT, "K3", "D3", "09-28 10:00 > 10:10 > 10:30 > 10-03 10:00 > 15:00", "09-30 10:30"),
    # 3 the plain good case: every stage on time, settled in the grid
    Spec(3, "G1", PAT, "K3", "D3", "10-02 09:00 > 09:20 > 09:40 > 15:00 > 17:00", "10-03 09:40", settled=GRID),
    # 4 invalid report (无效上报), cancelled without registration
    Spec(4, "G1", PAT, "K3", None, "10-03 10:00", cancelled="10-03 10:30", valid=False),
    # 5 valid hotline report not registered (不予立案): lowers 立案率, not in 监督举报率
    Spec(5, "G1", HOT, "K3", None, "10-03 11:00", cancelled="10-03 11:30"),
    # 6 registered, dispatched, then cancelled (作废): in 立案数, 作废数, 准确立案率 only
    Spec(6, "G2", PAT, "K1", "D2", "10-05 08:00 > 08:30 > 08:50", "10-06 08:50", cancelled="10-05 11:00"),
    # 7 late registration: 90 minutes after the report (limit 60)
    Spec(7, "G2", PAT, "K3", "D3", "10-06 09:00 > 10:30 > 10:45 > 16:00 > 10-07 09:00", "10-07 10:45", settled=GRID, repeat_of=2),
    # 8 late dispatch: 50 minutes after registration (limit 30); settled at street level
    Spec(8, "G3", VID, "K4", "D1", "10-08 14:00 > 14:10 > 15:00 > 10-09 10:00 > 11:00", "10-09 15:00", settled=STREET),
    # 9 misdispatched (sent back, now with 市政设施), otherwise on time
    Spec(9, "G3", PAT, "K2", "D2", "10-10 09:00 > 09:10 > 09:30 > 10-11 10:00 > 14:00", "10-12 09:30", mis=True, settled=STREET),
    # 10 handled late and closed late; settled by a district department
    Spec(10, "G4", PAT, "K4", "D1", "10-12 09:00 > 09:15 > 09:30 > 10-14 10:00 > 16:00", "10-13 09:30", settled=DIST),
    # 11 handled on time, closed late (slow verification); a public (hotline) case
    Spec(11, "G4", HOT, "K3", "D3", "10-14 09:00 > 09:30 > 09:45 > 10-15 09:00 > 10-16 09:00", "10-15 09:45", settled=GRID),
    # 12 reworked once, closed exactly at its deadline: still on time (the limit is inclusive)
    Spec(12, "G5", PAT, "K1", "D2", "10-15 09:00 > 09:10 > 09:20 > 10-17 09:00 > 11:00", "10-17 11:00", rework=1, settled=STREET),
    # 13 reworked twice, handled and closed late; a public (photo) case
    Spec(13, "G5", PHO, "K3", "D3", "10-16 09:00 > 09:20 > 09:30 > 10-20 10:00 > 15:00", "10-19 09:30", rework=2, settled=GRID),
    # 14 extension (延期) from 10-21 to 10-25, closed within the new deadline
    Spec(14, "G1", PAT, "K2", "D2", "10-18 09:00 > 09:10 > 09:20 > 10-24 10:00 > 15:00", "10-25 09:20", ext_from="10-21 09:20", settled=DIST),
    # 15 open and overdue at October's end; handled and closed late in November
    Spec(15, "G2", PAT, "K4", "D1", "10-20 09:00 > 09:10 > 09:20 > 11-03 10:00 > 15:00", "10-22 09:20", settled=STREET),
    # 16 crosses the boundary: registered in October, deadline in November, closed on time then
    #    (open and not yet due at October's end: in no period's 应结案 by the bulletin rule)
    Spec(16, "G3", PAT, "K3", "D3", "10-30 15:00 > 15:10 > 15:20 > 11-02 09:00 > 10:00", "11-03 15:20", settled=GRID),
    # 17 handled in October, closed at the very first instant of November (periods are half-open):
    #    closed in November; not in October's 应结案 (neither closed nor past due by its end)
    Spec(17, "G4", LDR, "K4", "D1", "10-29 09:00 > 09:05 > 09:10 > 10-31 16:00 > 11-01 00:00", "11-02 09:10", settled=STREET, repeat_of=10),
    # 18 open at October's end with its deadline at that very instant (11-01 00:00): not yet
    #    overdue then, so not due in October; open and overdue now (超期未结案)
    Spec(18, "G5", PAT, "K3", "D3", "10-31 10:00 > 10:10 > 10:20", "11-01 00:00", repeat_of=13),
    # 19 repeat problem (重复问题) of case 3; a public (photo) case, all on time
    Spec(19, "G1", PHO, "K3", "D3", "10-22 09:00 > 09:30 > 09:50 > 15:00 > 16:00", "10-23 09:50", settled=GRID, repeat_of=3),
    # 20 reported 10-31 23:40, registered 11-01 00:10: October's 上报 and 立案率, November's 立案数;
    #    dispatched exactly 30 minutes after registration: on time (the limit is inclusive)
    Spec(20, "G2", VID, "K3", "D3", "10-31 23:40 > 11-01 00:10 > 00:40 > 09:00 > 10:00", "11-02 00:40", settled=GRID, repeat_of=7),
    # 21 November's plain good case; the problem of case 3 seen a third time (repeat of 19)
    Spec(21, "G1", PAT, "K3", "D3", "11-03 09:00 > 09:10 > 09:20 > 14:00 > 16:00", "11-04 09:20", settled=GRID, repeat_of=19),
    # 22 hotline case handled and closed late
    Spec(22, "G2", HOT, "K4", "D1", "11-05 09:00 > 09:20 > 09:40 > 11-07 09:00 > 10:00", "11-06 09:40", settled=STREET, repeat_of=15),
    # 23 handled exactly at its deadline (on time), still waiting for verification (待核查)
    #    past it: open and overdue
    Spec(23, "G3", PAT, "K1", "D2", "11-10 09:00 > 09:10 > 09:20 > 11-12 09:00", "11-12 09:00"),
    # 24 open, deadline after the period: neither due nor overdue
    Spec(24, "G4", PAT, "K3", "D3", "11-19 09:00 > 09:10 > 09:20", "11-21 09:20"),
    # 25 open, deadline inside the period but after NOW: not yet due
    Spec(25, "G4", PAT, "K3", "D3", "11-20 08:00 > 08:10 > 08:20", "11-20 16:20", repeat_of=24),
    # 26 registered 10 minutes before NOW, not dispatched: inside its dispatch window, not 应派遣 yet
    Spec(26, "G5", PAT, "K4", None, "11-20 11:40 > 11:50"),
    # 27 registered late (90 minutes), not dispatched 2 hours later: a late dispatch, still pending
    Spec(27, "G5", PHO, "K2", None, "11-20 08:30 > 10:00"),
    # 28 extension from 11-13 to 11-17, handled and closed on time; settled by a district department
    Spec(28, "G1", PAT, "K1", "D2", "11-10 09:00 > 09:10 > 09:20 > 11-16 10:00 > 15:00", "11-17 09:20", ext_from="11-13 09:20", settled=DIST),
    # 29 leader-assigned, registered exactly 60 minutes after the report (on time), reworked
    #    once, handled and closed late
    Spec(29, "G2", LDR, "K3", "D3", "11-11 08:05 > 09:05 > 09:10 > 11-14 09:00 > 11:00", "11-13 09:10", rework=1, settled=GRID, repeat_of=20),
    # 30 invalid report in November
    Spec(30, "G3", PAT, "K3", None, "11-15 10:00", cancelled="11-15 10:20", valid=False),
    # 31 hotline report not registered yet (上报, 30 minutes old)
    Spec(31, "G4", HOT, "K3", None, "11-20 11:30"),
    # 32 registered, dispatched, then cancelled in November
    Spec(32, "G5", PAT, "K4", "D1", "11-16 09:00 > 09:10 > 09:20", "11-17 09:20", cancelled="11-16 14:00"),
    # 33 misdispatched in November, otherwise on time; settled at street level
    Spec(33, "G3", VID, "K3", "D3", "11-17 09:00 > 09:10 > 09:30 > 11-18 09:00 > 10:00", "11-19 09:30", mis=True, settled=STREET, repeat_of=16),
)
# fmt: on


@dataclass(frozen=True)
class City:
    """Database ids of the hand-built areas, departments and categories, by their keys."""

    areas: dict[str, int]
    departments: dict[str, int]
    categories: dict[str, int]


@dataclass(frozen=True)
class HandBuilt(City):
    """The city plus its cases: ``cases`` maps a case number in CASES to its database id."""

    cases: dict[int, int]


def build_city(session: Session) -> City:
    """Insert the areas, departments and categories (no cases); flush, do not commit."""
    areas: dict[str, Area] = {}
    for key, level, code, name, parent, column, width in AREAS:
        areas[key] = Area(
            code=code,
            name=name,
            level=level,
            parent=areas[parent] if parent else None,
            geometry=json.dumps(_rectangle(column, width)),
            center_lat=LAT0 - STEP / 2,
            center_lon=LON0 + STEP * (column + width / 2),
            area_m2=10_000.0 * width,
            leader=f"{name}负责人",
        )
    departments = {key: Department(code=code, name=name) for key, code, name in DEPARTMENTS}
    categories = {
        key: Category(
            code=code, kind=kind, major=major, minor=minor, element=element,
            limit_hours=limit, urgent_limit_hours=urgent, department_code=dept,
        )
        for key, code, kind, major, minor, element, limit, urgent, dept in CATEGORIES
    }
    session.add_all([*areas.values(), *departments.values(), *categories.values()])
    session.flush()
    return City(
        areas={k: a.id for k, a in areas.items()},
        departments={k: d.id for k, d in departments.items()},
        categories={k: c.id for k, c in categories.items()},
    )


def build_handbuilt(session: Session) -> HandBuilt:
    """Insert the whole hand-built city with its cases; flush, do not commit."""
    city = build_city(session)
    parents = {key: parent for key, _, _, _, parent, _, _ in AREAS}
    columns = {key: column for key, _, _, _, _, column, _ in AREAS}
    rows: dict[int, Case] = {}
    for spec in CASES:
        grid = spec.grid
        community = parents[grid]
        stages = _timeline(spec.timeline) + [None] * 5
        reported, registered, dispatched, handled, closed = stages[:5]
        cancelled = _at(spec.cancelled) if spec.cancelled else None
        rows[spec.no] = Case(
            external_id=f"HB-{spec.no:03d}",
            source=spec.source,
            category_id=city.categories[spec.category],
            description=f"hand-built case {spec.no}",
            lat=LAT0 - STEP / 2,
            lon=LON0 + STEP * (columns[grid] + 0.5),
            grid_id=city.areas[grid],
            community_id=city.areas[community],
            street_id=city.areas[parents[community]],
            department_id=city.departments[spec.department] if spec.department else None,
            status=status_of(registered, dispatched, handled, closed, cancelled),
            valid_report=spec.valid,
            reported_at=reported,
            registered_at=registered,
            dispatched_at=dispatched,
            handled_at=handled,
            closed_at=closed,
            cancelled_at=cancelled,
            deadline_at=_at(spec.deadline) if spec.deadline else None,
            original_deadline_at=_at(spec.ext_from or spec.deadline) if spec.deadline else None,
            extended=spec.ext_from is not None,
            misdispatched=spec.mis,
            rework_count=spec.rework,
            settled_level=spec.settled,
        )
    session.add_all(rows.values())
    session.flush()
    for spec in CASES:
        if spec.repeat_of is not None:
            rows[spec.no].repeat_of_id = rows[spec.repeat_of].id
    session.flush()
    return HandBuilt(
        areas=city.areas,
        departments=city.departments,
        categories=city.categories,
        cases={no: case.id for no, case in rows.items()},
    )


def _at(text: str) -> datetime:
    return datetime.strptime(f"{YEAR}-{text}", "%Y-%m-%d %H:%M")


def _timeline(text: str) -> list[datetime | None]:
    """Read "MM-DD HH:MM > HH:MM > MM-DD HH:MM"; a bare time is on the previous stage's day."""
    moments: list[datetime | None] = []
    day = ""
    for part in (p.strip() for p in text.split(">")):
        if " " in part:
            day = part.split(" ")[0]
        else:
            part = f"{day} {part}"
        moments.append(_at(part))
    return moments


def status_of(
    registered: datetime | None,
    dispatched: datetime | None,
    handled: datetime | None,
    closed: datetime | None,
    cancelled: datetime | None,
) -> str:
    """Return the status (案件状态) a case with these timestamps is in."""
    if cancelled:
        return STATUS_CANCELLED
    if closed:
        return STATUS_CLOSED
    if handled:
        return STATUS_VERIFYING
    if dispatched:
        return STATUS_DISPATCHED
    return STATUS_REGISTERED if registered else STATUS_REPORTED


def _rectangle(column: int, width: int) -> dict[str, object]:
    west, east = LON0 + STEP * column, LON0 + STEP * (column + width)
    north, south = LAT0, LAT0 - STEP
    ring = [[west, north], [east, north], [east, south], [west, south], [west, north]]
    return {"type": "Polygon", "coordinates": [ring]}
