"""Four 路长 sections laid over the hand-built city (tests/handbuilt.py), with check-ins.

Every hand-built case sits at its grid's centre (latitude ``LAT0 - STEP / 2``), so a strip
across the grid row holds exactly the cases of the grids it spans::

    LZ-A  grids G1, G2    路长 甲路长    check-ins below
    LZ-B  grids G3, G4    路长 乙路长
    LZ-C  grid  G5        路长 丙路长    (no case of November is due: 销号率 "—")
    LZ-D  east of the city, no case at all

Check-ins (minutes; a day counts with 60 or more in all, the shipped rules):
    LZ-A  10-31 120 (October) · 11-01 60 (counts: ≥ is inclusive) · 11-02 59 (short) ·
          11-03 30 + 30 by two people (counts: 60 in all) · 11-20 90 (today, counts)
    LZ-B  11-05 61
"""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy.orm import Session

from ingest.sections_import import assign_cases
from queries.models import RoadSection, SectionCheckin
from tests.handbuilt import LAT0, LON0, STEP

# (code, name, 路长, first grid column, columns wide)
SECTIONS = (
    ("LZ-A", "西环路1段", "甲路长", 0, 2),
    ("LZ-B", "西环路2段", "乙路长", 2, 2),
    ("LZ-C", "东环路1段", "丙路长", 4, 1),
    ("LZ-D", "外环路1段", "丁路长", 10, 1),
)
CHECKINS = (
    ("LZ-A", "甲路长", date(2026, 10, 31), 120),
    ("LZ-A", "甲路长", date(2026, 11, 1), 60),
    ("LZ-A", "甲路长", date(2026, 11, 2), 59),
    ("LZ-A", "甲路长", date(2026, 11, 3), 30),
    ("LZ-A", "甲副路长", date(2026, 11, 3), 30),
    ("LZ-A", "甲路长", date(2026, 11, 20), 90),
    ("LZ-B", "乙路长", date(2026, 11, 5), 61),
)


def strip(column: int, width: int) -> dict[str, object]:
    """A strip across the grid row, ``width`` grids wide from ``column``."""
    west, east = LON0 + STEP * column, LON0 + STEP * (column + width)
    north, south = LAT0 - STEP * 0.3, LAT0 - STEP * 0.7
    ring = [[west, north], [east, north], [east, south], [west, south], [west, north]]
    return {"type": "Polygon", "coordinates": [ring]}


def build_sections(session: Session) -> dict[str, int]:
    """Insert the sections and check-ins, place the cases; flush; return ids by code."""
    rows = {code: RoadSection(code=code, name=name, road=name[:3], leader=leader,
                              leader_unit="区城管局", leader_phone="13800000000",
                              responsible_unit="城西街道", geometry=json.dumps(strip(col, width)),
                              center_lat=LAT0 - STEP / 2,
                              center_lon=LON0 + STEP * (col + width / 2))
            for code, name, leader, col, width in SECTIONS}
    session.add_all(rows.values())
    session.flush()
    session.add_all(SectionCheckin(section_id=rows[code].id, person=person, day=day,
                                   minutes=minutes)
                    for code, person, day, minutes in CHECKINS)
    assign_cases(session)
    session.flush()
    return {code: s.id for code, s in rows.items()}
