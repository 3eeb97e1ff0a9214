# ruff: noqa: E501 (the case table keeps one case per line)
"""Cases for the desk's tests, on the hand-built city's areas (``tests.handbuilt.build_city``).

NOW is 2026-11-20 12:00. Department D1 城管执法 has X1 … X7, department D2 市政设施 Y1, Y2::

    case  dept  grid (street)  source     major     status  reported     deadline     note
    X1    D1    G1 (S1)        巡查上报   公用设施   派遣    11-18 09:00  11-19 12:00  overdue 24 h
    X2    D1    G4 (S2)        12345热线  市容环境   派遣    11-19 09:00  11-20 10:00  overdue 2 h
    X3    D1    G2 (S1)        巡查上报   街面秩序   派遣    11-19 10:00  11-20 14:00  due in 2 h
    X4    D1    G3 (S1)        随手拍     公用设施   派遣    11-19 11:00  11-22 09:00  repeats X1
    X5    D1    G5 (S2)        巡查上报   市容环境   立案    11-20 08:00  (none)       not dispatched
    X6    D1    G1 (S1)        巡查上报   公用设施   结案    11-14 09:00  11-15 09:00  closed 11-15 08:00
    X7    D1    G4 (S2)        巡查上报   公用设施   派遣    11-20 09:00  11-25 09:00  flagged (督办)
    Y1    D2    G1 (S1)        巡查上报   公用设施   派遣    11-17 09:00  11-18 09:00  overdue 51 h
    Y2    D2    G4 (S2)        巡查上报   公用设施   派遣    11-20 09:30  11-21 12:00  repeats X1

Every case is registered 30 minutes after its report and (but X5) dispatched an hour after its
registration. X1 has two photo URLs. X1 has events 上报 11-18 09:00, 立案 09:30, 派遣 10:30 (so its 派遣 took 60 min
against the 30-minute limit). Addresses are "<street name>路<n>号" with n the case's number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from queries.models import (
    SOURCE_HOTLINE,
    SOURCE_PATROL,
    SOURCE_PHOTO,
    STATUS_CLOSED,
    STATUS_DISPATCHED,
    STATUS_REGISTERED,
    Case,
    CaseEvent,
    SupervisionFlag,
)
from tests.handbuilt import LAT0, LON0, STEP, build_city

NOW = datetime(2026, 11, 20, 12, 0)
PARENTS = {"G1": ("C1", "S1"), "G2": ("C1", "S1"), "G3": ("C2", "S1"), "G4": ("C3", "S2"),
           "G5": ("C3", "S2")}
COLUMNS = {"G1": 0, "G2": 1, "G3": 2, "G4": 3, "G5": 4}
# (key, department, grid, source, category, status, reported, deadline, closed, address)
CASES = (
    ("X1", "D1", "G1", SOURCE_PATROL, "K1", STATUS_DISPATCHED, (11, 18, 9), (11, 19, 12), None, "人民路1号"),
    ("X2", "D1", "G4", SOURCE_HOTLINE, "K3", STATUS_DISPATCHED, (11, 19, 9), (11, 20, 10), None, "解放路2号"),
    ("X3", "D1", "G2", SOURCE_PATROL, "K4", STATUS_DISPATCHED, (11, 19, 10), (11, 20, 14), None, "人民路3号"),
    ("X4", "D1", "G3", SOURCE_PHOTO, "K1", STATUS_DISPATCHED, (11, 19, 11), (11, 22, 9), None, "人民路4号"),
    ("X5", "D1", "G5", SOURCE_PATROL, "K3", STATUS_REGISTERED, (11, 20, 8), None, None, "解放路5号"),
    ("X6", "D1", "G1", SOURCE_PATROL, "K1", STATUS_CLOSED, (11, 14, 9), (11, 15, 9), (11, 15, 8), "人民路6号"),
    ("X7", "D1", "G4", SOURCE_PATROL, "K1", STATUS_DISPATCHED, (11, 20, 9), (11, 25, 9), None, "解放路7号"),
    ("Y1", "D2", "G1", SOURCE_PATROL, "K1", STATUS_DISPATCHED, (11, 17, 9), (11, 18, 9), None, "人民路91号"),
    ("Y2", "D2", "G4", SOURCE_PATROL, "K1", STATUS_DISPATCHED, (11, 20, 9, 30), (11, 21, 12), None, "解放路92号"),
)
REPEATS = {"X4": "X1", "Y2": "X1"}
# X1's source gave two photos; X2's one web address and a value that is not one.
PHOTOS = {"X1": "https://photos.example/x1a.jpg\nhttps://photos.example/x1b.jpg",
          "X2": "javascript:alert(1)\nhttps://photos.example/x2.jpg"}


@dataclass(frozen=True)
class DeskCity:
    """Database ids: areas and departments by hand-built key, cases by X1 … Y2."""

    areas: dict[str, int]
    departments: dict[str, int]
    cases: dict[str, int]


def _at(parts: tuple[int, ...] | None) -> datetime | None:
    return None if parts is None else datetime(2026, *parts)


def build_desk_city(session: Session) -> DeskCity:
    """Insert the areas, the nine cases, X1's events and X7's flag; flush, do not commit."""
    city = build_city(session)
    rows: dict[str, Case] = {}
    for key, dept, grid, source, category, status, reported, deadline, closed, address in CASES:
        community, street = PARENTS[grid]
        at = _at(reported)
        assert at is not None
        registered = at + timedelta(minutes=30)
        dispatched = registered + timedelta(hours=1) if status != STATUS_REGISTERED else None
        rows[key] = Case(
            external_id=f"DESK-{key}", source=source, category_id=city.categories[category],
            description=f"{key} 的描述", address=address,
            lat=LAT0 - STEP / 2, lon=LON0 + STEP * (COLUMNS[grid] + 0.5),
            grid_id=city.areas[grid], community_id=city.areas[community],
            street_id=city.areas[street], department_id=city.departments[dept],
            status=status, reported_at=at, registered_at=registered, dispatched_at=dispatched,
            handled_at=_at(closed), closed_at=_at(closed), deadline_at=_at(deadline),
            photo_urls=PHOTOS.get(key))
    session.add_all(rows.values())
    session.flush()
    for key, earlier in REPEATS.items():
        rows[key].repeat_of_id = rows[earlier].id
    x1 = rows["X1"].id
    session.add_all([
        CaseEvent(case_id=x1, at=datetime(2026, 11, 18, 9, 0), action="上报", actor="巡查员"),
        CaseEvent(case_id=x1, at=datetime(2026, 11, 18, 9, 30), action="立案", actor="受理员"),
        CaseEvent(case_id=x1, at=datetime(2026, 11, 18, 10, 30), action="派遣", actor="派遣员",
                  note="派往城管执法"),
        SupervisionFlag(case_id=rows["X7"].id, flagged_by="leader", note="尽快处置",
                        at=datetime(2026, 11, 20, 10, 0)),
    ])
    session.flush()
    return DeskCity(areas=city.areas, departments=city.departments,
                    cases={key: case.id for key, case in rows.items()})
