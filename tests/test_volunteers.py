"""Volunteer counters on a hand-built city (tests.handbuilt areas), worked out by hand.

NOW is Friday 2026-11-20 10:00. Teams A and B are based in 城西 (S1), C in 城东 (S2).
Activities (hours = participants × duration, as stored):

    1  A 美化家园 G1 11-20 08:00–11:00 ×10  30 h  running at NOW
    2  B 交通劝导 G3 11-20 07:00–09:00 ×4    8 h  done today
    3  C 美化家园 G4 11-19 14:00–16:00 ×5   10 h  yesterday
    4  A 扫雪除冰 G2 11-03 09:00–12:00 ×6   18 h
    5  C 交通劝导 G5 10-31 22:00–11-01 01:00 ×3  9 h  ends in November
    6  B 文明劝导 G3 03-10 09:00–11:00 ×2    4 h  this year
    7  A 美化家园 G1 2025-12-30 10:00–12:00 ×8  16 h  last year
    8  C 交通劝导 G4 11-20 09:30–12:00 ×2    5 h  running at NOW
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy.orm import Session

from queries.models import Area, VolunteerActivity, VolunteerTeam
from queries.volunteers import (
    activities_by_type,
    activities_on,
    daily_trend,
    on_duty,
    service_hours,
    teams_active,
    teams_by_hours,
    volunteer_counts,
    work_by_area,
)
from tests.handbuilt import build_city

NOW = datetime(2026, 11, 20, 10, 0)
DAY, NEXT_DAY = datetime(2026, 11, 20), datetime(2026, 11, 21)
MONTH, NEXT_MONTH, YEAR = datetime(2026, 11, 1), datetime(2026, 12, 1), datetime(2026, 1, 1)
ACTIVITIES = [
    ("A", "美化家园", "G1", (2026, 11, 20, 8), (2026, 11, 20, 11), 10),
    ("B", "交通劝导", "G3", (2026, 11, 20, 7), (2026, 11, 20, 9), 4),
    ("C", "美化家园", "G4", (2026, 11, 19, 14), (2026, 11, 19, 16), 5),
    ("A", "扫雪除冰", "G2", (2026, 11, 3, 9), (2026, 11, 3, 12), 6),
    ("C", "交通劝导", "G5", (2026, 10, 31, 22), (2026, 11, 1, 1), 3),
    ("B", "文明劝导", "G3", (2026, 3, 10, 9), (2026, 3, 10, 11), 2),
    ("A", "美化家园", "G1", (2025, 12, 30, 10), (2025, 12, 30, 12), 8),
    ("C", "交通劝导", "G4", (2026, 11, 20, 9, 30), (2026, 11, 20, 12), 2),
]


@pytest.fixture
def areas(session: Session) -> dict[str, int]:
    city = build_city(session)
    teams = {key: VolunteerTeam(name=f"{key}队", street_id=city.areas[street], leader="队长",
                                founded_on=date(2020, 1, 1))
             for key, street in (("A", "S1"), ("B", "S1"), ("C", "S2"))}
    session.add_all(teams.values())
    session.flush()
    for n, (team, kind, grid, start, end, people) in enumerate(ACTIVITIES, start=1):
        begin, finish = datetime(*start), datetime(*end)
        session.add(VolunteerActivity(
            team_id=teams[team].id, service_type=kind, title=f"活动{n}",
            grid_id=city.areas[grid], lat=30.0 + n / 1000, lon=120.0, start_at=begin,
            end_at=finish, participants=people,
            service_hours=people * (finish - begin).total_seconds() / 3600))
    session.commit()
    return city.areas


def _area(session: Session, key_id: int) -> Area:
    area = session.get(Area, key_id)
    assert area is not None
    return area


def test_the_walls_counters(session: Session, areas: dict[str, int]) -> None:
    counts = volunteer_counts(session, day_start=DAY, day_end=NEXT_DAY, month_start=MONTH,
                              now=NOW)
    assert counts.teams_active_today == 3  # A (1), B (2), C (8)
    assert counts.on_duty_now == 12  # 10 (1) + 2 (8); activity 2 ended at 09:00
    assert list(counts.activities_today.items()) == [("交通劝导", 2), ("美化家园", 1)]
    assert counts.hours_this_month == 45.0  # 8 + 10 + 18 + 9: completed in November
    west = volunteer_counts(session, day_start=DAY, day_end=NEXT_DAY, month_start=MONTH,
                            now=NOW, area=_area(session, areas["S1"]))
    assert (west.teams_active_today, west.on_duty_now, west.hours_this_month) == (2, 10, 26.0)


def test_month_and_year(session: Session, areas: dict[str, int]) -> None:
    assert teams_active(session, start=MONTH, end=NEXT_MONTH) == 3
    assert service_hours(session, start=YEAR, now=NOW) == 49.0  # 45 + 4; 2025 left out
    assert on_duty(session, now=datetime(2026, 11, 20, 11, 0)) == 2  # 1 ends at 11:00 (open end)
    assert activities_by_type(session, start=MONTH, end=NEXT_MONTH) == {
        "交通劝导": 3, "美化家园": 2, "扫雪除冰": 1}


def test_teams_ranked_by_hours(session: Session, areas: dict[str, int]) -> None:
    ranked = teams_by_hours(session, start=MONTH, now=NOW)
    assert [(t.team, t.street, t.activities, t.participants, t.hours) for t in ranked] == [
        ("C队", "城东街道", 2, 8, 19.0), ("A队", "城西街道", 1, 6, 18.0),
        ("B队", "城西街道", 1, 4, 8.0)]


def test_todays_map_and_the_trend(session: Session, areas: dict[str, int]) -> None:
    today = activities_on(session, start=DAY, end=NEXT_DAY, now=NOW)
    assert [(a.title, a.running) for a in today] == [("活动2", False), ("活动1", True),
                                                     ("活动8", True)]
    trend = daily_trend(session, first=date(2026, 11, 18), days=3, now=NOW)
    assert [(d.day.day, d.activities, d.hours) for d in trend] == [
        (18, 0, 0.0), (19, 1, 10.0), (20, 3, 43.0)]


def test_work_by_area_for_the_grid_page(session: Session, areas: dict[str, int]) -> None:
    work = work_by_area(session, codes=["330199001", "33019900100101", "33019900100102",
                                        "330199002"], start=MONTH, now=NOW)
    assert (work["330199001"].activities, work["330199001"].participants,
            work["330199001"].hours) == (2, 10, 26.0)
    assert work["33019900100101"].hours == 0.0  # activity 1 is still running
    assert work["33019900100102"].hours == 18.0
    assert work["330199002"].hours == 19.0


def test_the_page_reads_the_same_counters(session: Session, areas: dict[str, int]) -> None:
    from queries.volunteers import volunteer_page

    page = volunteer_page(session, now=NOW, trend_days=3)
    assert (page.teams_today, page.teams_month, page.on_duty_now) == (3, 3, 12)
    assert (page.hours_month, page.hours_year) == (45.0, 49.0)
    assert [t.team for t in page.teams] == ["C队", "A队", "B队"]
    # The trend's three days end yesterday: 17 and 18 none, 19 活动3; today's three (活动1, 2
    # and 8) are on the page's today panels, not the trend.
    assert [(d.day.day, d.activities) for d in page.trend] == [(17, 0), (18, 0), (19, 1)]
    assert len(page.today) == 3
