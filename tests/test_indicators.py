"""Every indicator worked out by hand on the hand-built city (tests/handbuilt.py).

Read the case table in tests/handbuilt.py first: each expectation below names the case numbers
that count. Cases by grid: G1 3 4 5 14 19 21 28 · G2 2 6 7 15 20 22 29 · G3 8 9 16 23 30 33 ·
G4 1 10 11 17 24 25 31 · G5 12 13 18 26 27 32. C1 = G1+G2, C2 = G3, S1 = C1+C2, S2 = C3 = G4+G5.

October is over, so its figures are taken at its end (11-01 00:00); November (1–20) is still
running, so its figures are taken at NOW (11-20 12:00). Handling minutes are dispatch → handled.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import fields
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from queries.engine import init_db, make_engine, make_session_factory
from queries.indicators import (
    INDICATOR_BY_KEY,
    INDICATORS,
    CompositeWeights,
    IndicatorSet,
    IndicatorSettings,
    Ratio,
    _Seconds,
    band_volume,
    deadline_light,
    grade,
    indicators,
    indicators_by_area,
    indicators_by_department,
    ranking,
    score_composite,
    target_light,
    target_score,
)
from queries.models import (
    OPEN_STATUSES,
    SOURCE_PATROL,
    STATUS_CLOSED,
    STATUS_HANDLING,
    Case,
    Department,
)
from queries.periods import (
    PeriodError,
    custom,
    parse_period,
    period_for,
    previous,
    same_weekday_last_week,
)
from tests.handbuilt import (
    CASES,
    GRID_CASES,
    NOVEMBER,
    NOW,
    OCTOBER,
    City,
    HandBuilt,
    build_city,
    build_handbuilt,
)

# Expected values: counts as ints, rates as (numerator, denominator), the mean in hours, and the
# composite as (监督举报率分值, 立案数分值, 结案率分值, 按期结案率分值, total, grade).

# District, October. Reported 3–20 (18), 4 invalid. Registered in October: 3 6–19 (15); 6 was
# cancelled, so the kept registrations K are 3 7–19 (14). 应结案 D (bulletin convention: K
# closed, or past their deadline, by 11-01 00:00): 3 7 8 9 10 11 12 13 14 19 (closed) and 15
# (open, due 10-22) = 11. Out of K: 16 (open, due 11-03), 17 (closed at 11-01 00:00, which is
# not before the end; due 11-02), 18 (due at that very instant: not yet past it). The backlog
# from September (1 open, 2 closed in October) is no longer in D: it is registered in
# September. (Until this round D was 14: 1 2 17 were in it and 15 besides.)
OCT_DISTRICT: dict[str, Any] = {
    "reported": 18,
    "valid_reported": 17,
    "valid_report_rate": (17, 18),
    "registered": 15,
    "register_rate": (16, 17),  # valid 3 5–20; all registered by now but 5 (20 on 11-01)
    "ontime_register_rate": (13, 14),  # K, all within 60 minutes but 7 (90)
    "cancelled": 1,  # 6
    "accurate_register_rate": (14, 15),
    "dispatched": 14,  # K, all dispatched in October
    "to_dispatch": 14,
    "ontime_dispatch_rate": (13, 14),  # all within 30 minutes but 8 (50)
    "accurate_dispatch_rate": (13, 14),  # 9 was misdispatched
    "due": 11,
    "handled": 12,  # 2 3 7 8 9 10 11 12 13 14 17 19 (placed by handled_at, not by D)
    "handle_rate": (10, 11),  # D less 15 (not handled by 11-01)
    "ontime_handle_rate": (8, 11),  # 3 7 8 9 11 12 14 19
    "overdue_handle_rate": (2, 11),  # 10 13
    "extension_rate": (1, 11),  # 14
    "closed": 11,  # 2 3 7 8 9 10 11 12 13 14 19 (placed by closed_at: 2 is September's case)
    "close_rate": (10, 11),  # D less 15
    "ontime_close_rate": (7, 11),  # 3 7 8 9 12 14 19 (12 closed exactly at its deadline)
    "overdue_close_rate": (3, 11),  # 10 11 13
    "rework_rate": (2, 11),  # 12 13
    "rework_times": 3,  # 1 + 2
    "open_overdue": 2,  # 1 15; 16 17 18 are open at 11-01 00:00 but not past due (18 is due
    # at that very instant: not yet past it)
    "backlog_over_30": 1,  # open at 11-01 00:00 and registered before 10-02 00:00: 1 (09-25)
    "grid_settle_rate": (5, 10),  # closed with a level: all 11 but 2; grid 3 7 11 13 19
    "settled_grid": 5,
    "settled_street": 3,  # 8 9 12
    "settled_district": 2,  # 10 14
    "public_report_rate": (3, 14),  # 11 (hotline) 13 19 (photo); 5 was never registered
    "handling_timed": 12,
    # minutes: 2 7170, 3 320, 7 315, 8 1140, 9 1470, 10 2910, 11 1395, 12 2860, 13 5790,
    # 14 8680, 17 3290, 19 310 = 35650 over 12 cases
    "avg_handling_hours": 35650 / 12 / 60,
    # 100 × 11/14; 15 立案 / 5 grids = 3 → 75; 100 × 10/11; 100 × 7/11.
    # 0.1 × 78.571 + 0.2 × 75 + 0.3 × 90.909 + 0.4 × 63.636 = 7.857 + 15 + 27.273 + 25.455
    # = 55/7 + 15 + 580/11 = 5820/77 = 75.584 (B; it was 66.429, C, with the backlog in D)
    "composite": (1100 / 14, 75.0, 1000 / 11, 700 / 11, 5820 / 77, "B"),
    "not_applicable": (),
}

# District, November (as of 11-20 12:00). Reported 21–33 (13), 30 invalid. Registered: 20
# (11-01 00:20) 21–29 32 33 (12); 32 cancelled, so K = 20–29 33 (11). D (bulletin: K closed or
# past their deadline by now): 20 21 22 28 29 33 (closed) and 23 (open, due 11-12) = 7; 24 and
# 25 are not yet due (deadlines 11-21 and today 16:20), 26 27 have no deadline yet. October's
# 15 16 17 18 and September's 1 are not November's registrations, so they are out of D (until
# this round D was 12 with them): 1 18 still count in 超期未结案.
NOV_DISTRICT: dict[str, Any] = {
    "reported": 13,
    "valid_reported": 12,
    "valid_report_rate": (12, 13),
    "registered": 12,
    "register_rate": (11, 12),  # valid 21–29 31–33; 31 not registered yet
    "ontime_register_rate": (10, 11),  # 27 took 90 minutes; 29 exactly 60, on time
    "cancelled": 1,  # 32
    "accurate_register_rate": (11, 12),
    "dispatched": 9,  # 20 21 22 23 24 25 28 29 33
    "to_dispatch": 10,  # K less 26 (registered 10 minutes ago, not dispatched yet)
    # 27 is 2 hours past registration, still not dispatched; 20 took exactly 30 minutes
    "ontime_dispatch_rate": (9, 10),
    "accurate_dispatch_rate": (9, 10),  # 33 was misdispatched
    "due": 7,
    "handled": 9,  # 15 16 20 21 22 23 28 29 33
    "handle_rate": (7, 7),  # all of D was handled (23 waits for verification)
    "ontime_handle_rate": (5, 7),  # 20 21 23 28 33 (23 exactly at its deadline)
    "overdue_handle_rate": (2, 7),  # 22 29
    "extension_rate": (1, 7),  # 28
    "closed": 9,  # 15 16 17 20 21 22 28 29 33
    "close_rate": (6, 7),  # D less 23
    "ontime_close_rate": (4, 7),  # 20 21 28 33
    "overdue_close_rate": (2, 7),  # 22 29
    "rework_rate": (1, 7),  # 29
    "rework_times": 1,
    "open_overdue": 3,  # 1 18 23 (23 waits for verification: still open)
    "backlog_over_30": 1,  # open now and registered before 10-21 12:00: 1
    "grid_settle_rate": (4, 9),  # grid 16 20 21 29
    "settled_grid": 4,
    "settled_street": 4,  # 15 17 22 33
    "settled_district": 1,  # 28
    "public_report_rate": (2, 11),  # 22 (hotline) 27 (photo)
    "handling_timed": 9,
    # minutes: 15 20200, 16 3940, 20 500, 21 280, 22 2840, 23 2860, 28 8680, 29 4310,
    # 33 1410 = 45020 over 9 cases
    "avg_handling_hours": 45020 / 9 / 60,
    # 100 × 9/11; 12 / 5 grids = 2.4 → 2 → 90; 100 × 6/7; 100 × 4/7.
    # 8.182 + 18 + 25.714 + 22.857 = 90/11 + 18 + 340/7 = 74.753 (C; it was 68.682)
    "composite": (900 / 11, 90.0, 600 / 7, 400 / 7, 90 / 11 + 18 + 340 / 7, "C"),
    "not_applicable": (),
}

# Grid G1, October: 3 4 5 14 19 reported; 4 invalid, 5 not registered; 3 14 19 all on time.
OCT_G1: dict[str, Any] = {
    "reported": 5,
    "valid_reported": 4,
    "valid_report_rate": (4, 5),
    "registered": 3,
    "register_rate": (3, 4),  # 3 14 19 of valid 3 5 14 19
    "ontime_register_rate": (3, 3),
    "cancelled": 0,
    "accurate_register_rate": (3, 3),
    "dispatched": 3,
    "to_dispatch": 3,
    "ontime_dispatch_rate": (3, 3),
    "accurate_dispatch_rate": (3, 3),
    "due": 3,  # 3 14 19
    "handled": 3,
    "handle_rate": (3, 3),
    "ontime_handle_rate": (3, 3),
    "overdue_handle_rate": (0, 3),
    "extension_rate": (1, 3),  # 14
    "closed": 3,
    "close_rate": (3, 3),
    "ontime_close_rate": (3, 3),
    "overdue_close_rate": (0, 3),
    "rework_rate": (0, 3),
    "rework_times": 0,
    "open_overdue": 0,
    "backlog_over_30": 0,
    "grid_settle_rate": (2, 3),  # 3 19; 14 at district
    "settled_grid": 2,
    "settled_street": 0,
    "settled_district": 1,
    "public_report_rate": (1, 3),  # 19
    "handling_timed": 3,
    "avg_handling_hours": (320 + 8680 + 310) / 3 / 60,  # 3 14 19
    # 100 × 2/3; 3 立案 in 1 grid → 75; 100; 100: 6.667 + 15 + 30 + 40 = 91.667
    "composite": (200 / 3, 75.0, 100.0, 100.0, 20 / 3 + 85, "A"),
    "not_applicable": (),
}

# Grid G1, November: 21 28, both on time; 28 was extended and settled at district level.
NOV_G1: dict[str, Any] = {
    "reported": 2,
    "valid_reported": 2,
    "valid_report_rate": (2, 2),
    "registered": 2,
    "register_rate": (2, 2),
    "ontime_register_rate": (2, 2),
    "cancelled": 0,
    "accurate_register_rate": (2, 2),
    "dispatched": 2,
    "to_dispatch": 2,
    "ontime_dispatch_rate": (2, 2),
    "accurate_dispatch_rate": (2, 2),
    "due": 2,
    "handled": 2,
    "handle_rate": (2, 2),
    "ontime_handle_rate": (2, 2),
    "overdue_handle_rate": (0, 2),
    "extension_rate": (1, 2),
    "closed": 2,
    "close_rate": (2, 2),
    "ontime_close_rate": (2, 2),
    "overdue_close_rate": (0, 2),
    "rework_rate": (0, 2),
    "rework_times": 0,
    "open_overdue": 0,
    "backlog_over_30": 0,
    "grid_settle_rate": (1, 2),
    "settled_grid": 1,
    "settled_street": 0,
    "settled_district": 1,
    "public_report_rate": (0, 2),
    "handling_timed": 2,
    "avg_handling_hours": (280 + 8680) / 2 / 60,
    # 100; 2 in 1 grid → 90; 100; 100: 10 + 18 + 30 + 40 = 98
    "composite": (100.0, 90.0, 100.0, 100.0, 98.0, "A"),
    "not_applicable": (),
}

# Community C1 (G1 + G2), October: G1 as above plus G2's 6 (cancelled) 7 (late registration)
# 15 (open, overdue at the end) 20 (reported only) and 2 (September, handled and closed late).
OCT_C1: dict[str, Any] = {
    "reported": 9,  # 3 4 5 14 19 + 6 7 15 20
    "valid_reported": 8,
    "valid_report_rate": (8, 9),
    "registered": 6,  # 3 14 19 + 6 7 15
    "register_rate": (7, 8),  # 3 14 19 6 7 15 20 of valid 3 5 14 19 6 7 15 20
    "ontime_register_rate": (4, 5),  # K 3 14 19 7 15; 7 late
    "cancelled": 1,
    "accurate_register_rate": (5, 6),
    "dispatched": 5,
    "to_dispatch": 5,
    "ontime_dispatch_rate": (5, 5),
    "accurate_dispatch_rate": (5, 5),
    # D: K closed by 11-01 (3 14 19 7) or past its deadline (15, open) = 5; September's 2
    # (handled and closed late in October) was in D until this round (6), now it is not.
    "due": 5,
    "handled": 5,  # 3 14 19 2 7
    "handle_rate": (4, 5),  # 3 14 19 7
    "ontime_handle_rate": (4, 5),  # 3 14 19 7
    "overdue_handle_rate": (0, 5),  # (it was 2, now out of D)
    "extension_rate": (1, 5),  # 14
    "closed": 5,  # 3 14 19 7 2
    "close_rate": (4, 5),  # 3 14 19 7
    "ontime_close_rate": (4, 5),
    "overdue_close_rate": (0, 5),
    "rework_rate": (0, 5),
    "rework_times": 0,
    "open_overdue": 1,  # 15
    "backlog_over_30": 0,  # 15 was registered 10-20: 11 days old at the end
    "grid_settle_rate": (3, 4),  # 3 19 7 of 3 14 19 7 (2 has no level)
    "settled_grid": 3,
    "settled_street": 0,
    "settled_district": 1,
    "public_report_rate": (1, 5),
    "handling_timed": 5,
    "avg_handling_hours": (320 + 8680 + 310 + 7170 + 315) / 5 / 60,
    # 80; 6 / 2 grids = 3 → 75; 100 × 4/5; 100 × 4/5: 8 + 15 + 24 + 32 = 79 (B; it was
    # 74.667, C, with September's 2 in D)
    "composite": (80.0, 75.0, 80.0, 80.0, 79.0, "B"),
    "not_applicable": (),
}

# Community C1, November: 21 28 22 29 reported; 20 registered; 15 handled and closed late.
NOV_C1: dict[str, Any] = {
    "reported": 4,
    "valid_reported": 4,
    "valid_report_rate": (4, 4),
    "registered": 5,  # 21 28 20 22 29
    "register_rate": (4, 4),  # 20 was reported in October
    "ontime_register_rate": (5, 5),
    "cancelled": 0,
    "accurate_register_rate": (5, 5),
    "dispatched": 5,
    "to_dispatch": 5,
    "ontime_dispatch_rate": (5, 5),
    "accurate_dispatch_rate": (5, 5),
    # D: November's K, all closed: 21 28 20 22 29 = 5 (October's 15 was in D until this round)
    "due": 5,
    "handled": 6,  # 21 28 15 20 22 29
    "handle_rate": (5, 5),
    "ontime_handle_rate": (3, 5),  # 21 28 20
    "overdue_handle_rate": (2, 5),  # 22 29
    "extension_rate": (1, 5),  # 28
    "closed": 6,  # 21 28 15 20 22 29
    "close_rate": (5, 5),
    "ontime_close_rate": (3, 5),  # 21 28 20
    "overdue_close_rate": (2, 5),  # 22 29
    "rework_rate": (1, 5),  # 29
    "rework_times": 1,
    "open_overdue": 0,
    "backlog_over_30": 0,
    "grid_settle_rate": (3, 6),  # 21 20 29
    "settled_grid": 3,
    "settled_street": 2,  # 15 22
    "settled_district": 1,  # 28
    "public_report_rate": (1, 5),  # 22
    "handling_timed": 6,
    "avg_handling_hours": (280 + 8680 + 20200 + 500 + 2840 + 4310) / 6 / 60,
    # 80; 5 / 2 = 2.5 rounds half up to 3 → 75 (banker's rounding would say 2 → 90); 100; 60
    # 8 + 15 + 30 + 24 = 77 (B; it was 73, C, with October's late 15 in D)
    "composite": (80.0, 75.0, 100.0, 60.0, 77.0, "B"),
    "not_applicable": (),
}

# Street S2 (G4 + G5), October: 10 11 12 13 17 18 reported, all kept; 1 is open from September.
OCT_S2: dict[str, Any] = {
    "reported": 6,
    "valid_reported": 6,
    "valid_report_rate": (6, 6),
    "registered": 6,
    "register_rate": (6, 6),
    "ontime_register_rate": (6, 6),
    "cancelled": 0,
    "accurate_register_rate": (6, 6),
    "dispatched": 6,
    "to_dispatch": 6,
    "ontime_dispatch_rate": (6, 6),
    "accurate_dispatch_rate": (6, 6),
    # D: K closed by 11-01: 10 11 12 13 = 4. 17 (closed at 11-01 00:00, due 11-02) and 18 (due
    # at 11-01 00:00) are not due by the end; September's 1 is not October's. (It was 6: 1 17.)
    "due": 4,
    "handled": 5,  # 10 11 12 13 17
    "handle_rate": (4, 4),
    "ontime_handle_rate": (2, 4),  # 11 12
    "overdue_handle_rate": (2, 4),  # 10 13
    "extension_rate": (0, 4),
    "closed": 4,  # 10 11 12 13
    "close_rate": (4, 4),
    "ontime_close_rate": (1, 4),  # 12
    "overdue_close_rate": (3, 4),  # 10 11 13
    "rework_rate": (2, 4),  # 12 13
    "rework_times": 3,
    "open_overdue": 1,  # 1
    "backlog_over_30": 1,  # 1, registered 09-25: 36 days old at the end
    "grid_settle_rate": (2, 4),  # 11 13 of 10 11 12 13
    "settled_grid": 2,
    "settled_street": 1,
    "settled_district": 1,
    "public_report_rate": (2, 6),  # 11 13
    "handling_timed": 5,
    "avg_handling_hours": (2910 + 1395 + 2860 + 5790 + 3290) / 5 / 60,
    # 100 × 4/6; 6 / 2 = 3 → 75; 100; 100 × 1/4: 6.667 + 15 + 30 + 10 = 61.667 (C; it was
    # 48.333, D, with the open case 1 from September in D)
    "composite": (400 / 6, 75.0, 100.0, 25.0, 55 + 20 / 3, "C"),
    "not_applicable": (),
}

# Street S2, November: 24 25 26 27 31 32 reported; nothing handled in the period.
NOV_S2: dict[str, Any] = {
    "reported": 6,
    "valid_reported": 6,
    "valid_report_rate": (6, 6),
    "registered": 5,  # 24 25 26 27 32
    "register_rate": (5, 6),  # 31 not registered yet
    "ontime_register_rate": (3, 4),  # K 24 25 26 27; 27 late
    "cancelled": 1,  # 32
    "accurate_register_rate": (4, 5),
    "dispatched": 2,  # 24 25
    "to_dispatch": 3,  # 24 25 27 (26 still inside its dispatch window)
    "ontime_dispatch_rate": (2, 3),
    "accurate_dispatch_rate": (3, 3),
    # D: K = 24 25 26 27, none closed, none past a deadline (24 due 11-21, 25 today 16:20, 26 27
    # none yet) = 0, so every rate over D is "—". Until this round D was 3 (1 17 18): the
    # backlog of earlier periods; it stays visible as 超期未结案 and 积案.
    "due": 0,
    "handled": 0,
    "handle_rate": (0, 0),
    "ontime_handle_rate": (0, 0),
    "overdue_handle_rate": (0, 0),
    "extension_rate": (0, 0),
    "closed": 1,  # 17
    "close_rate": (0, 0),
    "ontime_close_rate": (0, 0),
    "overdue_close_rate": (0, 0),
    "rework_rate": (0, 0),
    "rework_times": 0,
    "open_overdue": 2,  # 1 18
    "backlog_over_30": 1,  # 1
    "grid_settle_rate": (0, 1),  # 17 at street level
    "settled_grid": 0,
    "settled_street": 1,
    "settled_district": 0,
    "public_report_rate": (1, 4),  # 27
    "handling_timed": 0,
    "avg_handling_hours": None,  # nothing handled: no mean, not 0
    # 75; 5 / 2 = 2.5 → 3 → 75; no 结案率 and no 按期结案率 (nothing due), so no total and no
    # grade (it was 45.833, D)
    "composite": (75.0, 75.0, None, None, None, None),
    "not_applicable": (),
}


def _mismatches(actual: IndicatorSet, expected: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Compare every field of a set with its expectation; the expectation must name them all."""
    assert set(expected) == {f.name for f in fields(IndicatorSet)}
    wrong: dict[str, tuple[Any, Any]] = {}
    for name, want in expected.items():
        got = getattr(actual, name)
        if isinstance(got, Ratio):
            got = (got.numerator, got.denominator)
        elif name == "composite":
            got = (
                got.public_report_score, got.volume_score, got.close_rate_score,
                got.ontime_close_score, got.total, got.grade,
            )
            same = got[:5] == pytest.approx(want[:5], abs=1e-5) and got[5] == want[5]
            if not same:
                wrong[name] = (got, want)
            continue
        elif name == "avg_handling_hours" and want is not None:
            want = pytest.approx(want)
        if got != want:
            wrong[name] = (got, want)
    return wrong


@pytest.fixture(scope="module")
def city(shared_database_url: str) -> Iterator[tuple[Session, HandBuilt]]:
    """The hand-built city (in memory on SQLite), built once for this module's read-only tests."""
    engine = make_engine(shared_database_url)
    init_db(engine)
    with make_session_factory(engine)() as session:
        built = build_handbuilt(session)
        session.commit()
        yield session, built
    engine.dispose()


@pytest.fixture
def db(city: tuple[Session, HandBuilt]) -> Session:
    """A session on the hand-built city (read only: the city is shared by the module)."""
    return city[0]


@pytest.fixture
def hb(city: tuple[Session, HandBuilt]) -> HandBuilt:
    """The ids of the hand-built city."""
    return city[1]


@pytest.mark.parametrize(
    ("area", "period", "expected"),
    [
        (None, OCTOBER, OCT_DISTRICT),
        (None, NOVEMBER, NOV_DISTRICT),
        ("G1", OCTOBER, OCT_G1),
        ("G1", NOVEMBER, NOV_G1),
        ("C1", OCTOBER, OCT_C1),
        ("C1", NOVEMBER, NOV_C1),
        ("S2", OCTOBER, OCT_S2),
        ("S2", NOVEMBER, NOV_S2),
    ],
    ids=["district-oct", "district-nov", "grid-oct", "grid-nov", "community-oct",
         "community-nov", "street-oct", "street-nov"],
)
def test_every_indicator_by_hand(
    db: Session, hb: HandBuilt, area: str | None, period: Any, expected: dict[str, Any]
) -> None:
    area_id = hb.areas[area] if area else None
    assert _mismatches(indicators(db, period, area_id=area_id, now=NOW), expected) == {}


def test_the_district_by_id_is_everything(db: Session, hb: HandBuilt) -> None:
    by_id = indicators(db, OCTOBER, area_id=hb.areas["D"], now=NOW)
    assert by_id == indicators(db, OCTOBER, now=NOW)


def test_grid_case_lists_match_the_case_table() -> None:
    assert {spec.no: spec.grid for spec in CASES} == {
        no: grid for grid, numbers in GRID_CASES.items() for no in numbers
    }


def test_by_area_rows_equal_single_area_queries(db: Session, hb: HandBuilt) -> None:
    streets = indicators_by_area(db, NOVEMBER, level="street", now=NOW)
    assert list(streets) == [hb.areas["S1"], hb.areas["S2"]]
    assert streets[hb.areas["S2"]] == indicators(db, NOVEMBER, area_id=hb.areas["S2"], now=NOW)
    communities = indicators_by_area(
        db, OCTOBER, level="community", parent_id=hb.areas["S1"], now=NOW
    )
    assert list(communities) == [hb.areas["C1"], hb.areas["C2"]]
    assert communities[hb.areas["C1"]] == indicators(
        db, OCTOBER, area_id=hb.areas["C1"], now=NOW
    )


def test_by_area_reaches_two_levels_down_and_defaults_to_everything(
    db: Session, hb: HandBuilt
) -> None:
    under_s1 = indicators_by_area(db, OCTOBER, level="grid", parent_id=hb.areas["S1"], now=NOW)
    assert list(under_s1) == [hb.areas[g] for g in ("G1", "G2", "G3")]
    every_grid = indicators_by_area(db, OCTOBER, level="grid", now=NOW)
    assert list(every_grid) == [hb.areas[g] for g in ("G1", "G2", "G3", "G4", "G5")]
    # G3 in October: 8 9 16 reported and registered; 8 dispatched late; 9 misdispatched.
    g3 = every_grid[hb.areas["G3"]]
    assert (g3.registered, g3.due, g3.closed) == (3, 2, 2)
    assert g3.ontime_dispatch_rate == Ratio(2, 3)
    assert g3.accurate_dispatch_rate == Ratio(2, 3)
    assert g3.composite is not None and g3.composite.grids == 1


def test_by_area_rejects_bad_levels_and_parents(db: Session, hb: HandBuilt) -> None:
    with pytest.raises(ValueError):
        indicators_by_area(db, OCTOBER, level="district", now=NOW)
    with pytest.raises(ValueError):
        indicators_by_area(db, OCTOBER, level="street", parent_id=hb.areas["S1"], now=NOW)
    with pytest.raises(LookupError):
        indicators(db, OCTOBER, area_id=999_999, now=NOW)


def test_open_overdue_now_matches_the_open_statuses(db: Session, hb: HandBuilt) -> None:
    by_status = db.scalars(
        select(Case.external_id).where(
            Case.status.in_(OPEN_STATUSES),
            Case.registered_at.is_not(None),
            Case.deadline_at < NOW,
        )
    ).all()
    assert sorted(by_status) == ["HB-001", "HB-018", "HB-023"]
    assert indicators(db, NOVEMBER, now=NOW).open_overdue == len(by_status)


# Departments (bulletin D). October D: D1 8 10 15 · D2 9 12 14 · D3 3 7 11 13 19.
# November D: D1 22 · D2 23 28 · D3 20 21 29 33. 处置数 places a case by handled_at, not by D.
@pytest.mark.parametrize(
    ("period", "expected"),
    [
        (
            OCTOBER,
            {
                # due, handled, 处置率, 按期处置率, 超期处置率, 返工率, 超期未结案
                "D1": (3, 3, (2, 3), (1, 3), (1, 3), (0, 3), 1),  # late 10; 15 open
                "D2": (3, 3, (3, 3), (3, 3), (0, 3), (1, 3), 1),  # 1 open; rework 12
                "D3": (5, 6, (5, 5), (4, 5), (1, 5), (1, 5), 0),  # late 13; rework 13
            },
        ),
        (
            NOVEMBER,
            {
                "D1": (1, 2, (1, 1), (0, 1), (1, 1), (0, 1), 0),  # 22 late; handled 15 22
                "D2": (2, 2, (2, 2), (2, 2), (0, 2), (0, 2), 2),  # 1 23 open and overdue
                "D3": (4, 5, (4, 4), (3, 4), (1, 4), (1, 4), 1),  # late 29; 18 open
            },
        ),
    ],
    ids=["october", "november"],
)
def test_department_indicators(
    db: Session, hb: HandBuilt, period: Any, expected: dict[str, tuple[Any, ...]]
) -> None:
    by_department = indicators_by_department(db, period, now=NOW)
    assert list(by_department) == [hb.departments[d] for d in ("D1", "D2", "D3")]
    for key, want in expected.items():
        s = by_department[hb.departments[key]]
        got = (
            s.due, s.handled,
            (s.handle_rate.numerator, s.handle_rate.denominator),
            (s.ontime_handle_rate.numerator, s.ontime_handle_rate.denominator),
            (s.overdue_handle_rate.numerator, s.overdue_handle_rate.denominator),
            (s.rework_rate.numerator, s.rework_rate.denominator),
            s.open_overdue,
        )
        assert got == want, key
        assert s.composite is None  # the composite scores areas, not departments


def test_department_within_an_area(db: Session, hb: HandBuilt) -> None:
    # S2 ∩ 环卫 in November: reported and registered 24 25, neither due yet (D = 0; October's
    # 18 is out of November's D); 18 is open and overdue; 11 13 closed in October.
    s = indicators(
        db, NOVEMBER, area_id=hb.areas["S2"], department_id=hb.departments["D3"], now=NOW
    )
    assert (s.reported, s.registered, s.due, s.open_overdue) == (2, 2, 0, 1)
    assert s.composite is None
    within = indicators_by_department(db, NOVEMBER, area_id=hb.areas["S2"], now=NOW)
    assert within[hb.departments["D3"]] == s


def test_ranking_shares_ties_and_follows_direction(db: Session, hb: HandBuilt) -> None:
    by_department = indicators_by_department(db, NOVEMBER, now=NOW)
    d1, d2, d3 = (hb.departments[k] for k in ("D1", "D2", "D3"))
    # 按期处置率: D1 0/1, D2 2/2, D3 3/4 → D2, D3, D1.
    assert ranking(by_department, "ontime_handle_rate") == {d1: 3, d2: 1, d3: 2}
    # 结案率: D1 1/1 (22), D2 1/2 (23 open), D3 4/4 → D1 and D3 share first place.
    assert ranking(by_department, "close_rate") == {d1: 1, d2: 3, d3: 1}
    # 超期未结案 is lower-is-better: D1 0, D3 1, D2 2.
    assert ranking(by_department, "open_overdue") == {d1: 1, d2: 3, d3: 2}
    empty = indicators_by_department(db, parse_period("2025-01", NOW), now=NOW)
    assert set(ranking(empty, "close_rate").values()) == {None}


# The worked check from a real monthly bulletin (DOMAIN.md §3).
def test_worked_bulletin_example(session: Session) -> None:
    city = build_city(session)
    march = parse_period("2027-03", NOW)
    reported = datetime(2027, 3, 2, 9, 0)
    in_time, late, april = datetime(2027, 3, 20), datetime(2027, 3, 25), datetime(2027, 4, 10)
    # (how many, deadline, closed at): 737 on time + 174 late = 911 closed of 972 due;
    # 61 open past their deadline; 24 more registered but not due until April: 立案 996.
    groups = [(737, in_time, datetime(2027, 3, 10)), (174, in_time, late), (61, in_time, None),
              (24, april, None)]
    rows = []
    for how_many, deadline, closed in groups:
        for _ in range(how_many):
            rows.append(_bulletin_row(city, len(rows), reported, deadline, closed))
    session.execute(insert(Case), rows)
    s = indicators(session, march, area_id=city.areas["G1"], now=datetime(2027, 4, 5))
    assert (s.registered, s.due) == (996, 972)
    assert s.close_rate == Ratio(911, 972) and s.close_rate.text() == "93.72%"
    assert s.ontime_close_rate == Ratio(737, 972) and s.ontime_close_rate.text() == "75.82%"
    assert s.composite is not None
    assert s.composite.close_rate_score == pytest.approx(93.72, abs=0.005)


def _bulletin_row(
    city: City, n: int, reported: datetime, deadline: datetime, closed: datetime | None
) -> dict[str, Any]:
    areas = city.areas
    return {
        "external_id": f"BULLETIN-{n:04d}", "source": SOURCE_PATROL,
        "category_id": city.categories["K3"], "lat": 30.3, "lon": 120.1,
        "grid_id": areas["G1"], "community_id": areas["C1"], "street_id": areas["S1"],
        "status": STATUS_CLOSED if closed else STATUS_HANDLING,
        "reported_at": reported, "registered_at": reported + timedelta(minutes=10),
        "dispatched_at": reported + timedelta(minutes=20), "handled_at": closed,
        "closed_at": closed, "deadline_at": deadline,
    }


# The composite.
def test_close_rate_term_is_the_rate_not_its_complement() -> None:
    # A well-known platform scores the 结案率 term as 100 − 结案率: 93.72% closed would score
    # 6.28 there. Ours scores 93.72, and closing more cases must raise the total.
    def scored(closed: int) -> Any:
        return score_composite(
            public_report_rate=Ratio(0, 996), registered=996, grids=996,
            close_rate=Ratio(closed, 972), ontime_close_rate=Ratio(737, 972),
        )

    assert scored(911).close_rate_score == pytest.approx(100 * 911 / 972)
    assert scored(911).close_rate_score > 90
    assert scored(972).total > scored(911).total > scored(800).total


def test_composite_by_hand_with_custom_weights() -> None:
    weights = CompositeWeights(public_report_rate=0.25, registered=0.25, close_rate=0.25,
                               ontime_close_rate=0.25)
    c = score_composite(
        public_report_rate=Ratio(1, 4), registered=7, grids=2, close_rate=Ratio(3, 4),
        ontime_close_rate=Ratio(1, 2), settings=IndicatorSettings(weights=weights),
    )
    # 100 × (1 − 1/4) = 75; 7 / 2 = 3.5 → 4 → 75; 75; 50 → (75 + 75 + 75 + 50) / 4 = 68.75
    assert (c.public_report_score, c.volume_score, c.close_rate_score, c.ontime_close_score) == (
        75.0, 75.0, 75.0, 50.0
    )
    assert (c.total, c.grade, c.weights, c.registered_per_grid) == (68.75, "C", weights, 3.5)


def test_composite_weights_must_sum_to_one() -> None:
    with pytest.raises(ValueError):
        CompositeWeights(0.5, 0.5, 0.5, 0.5)


def test_a_missing_term_leaves_the_total_empty() -> None:
    # No case due: 结案率 and 按期结案率 have no value, so neither has the total (never
    # re-weighted: a total must be made of the weights it claims).
    c = score_composite(
        public_report_rate=Ratio(0, 3), registered=3, grids=1,
        close_rate=Ratio(0, 0), ontime_close_rate=Ratio(0, 0),
    )
    assert (c.public_report_score, c.volume_score) == (100.0, 75.0)
    assert (c.close_rate_score, c.ontime_close_score, c.total, c.grade) == (None, None, None, None)


@pytest.mark.parametrize(
    ("registered", "grids", "score"),
    [
        (0, 5, 100.0),
        (2, 5, 100.0),  # 0.4 rounds to 0
        (3, 5, 90.0),  # 0.6 rounds to 1
        (4, 2, 90.0),  # 2
        (5, 2, 75.0),  # 2.5 rounds half up to 3
        (8, 2, 75.0),  # 4
        (9, 2, 60.0),  # 4.5 → 5
        (16, 2, 40.0),  # 8
        (17, 2, 0.0),  # 8.5 → 9
        (1, 0, None),  # an area without grids has no average
    ],
)
def test_volume_bands(registered: int, grids: int, score: float | None) -> None:
    assert band_volume(registered, grids) == score


@pytest.mark.parametrize(
    ("total", "letter"),
    [(100, "A"), (90, "A"), (89.999999, "B"), (75, "B"), (60, "C"), (40, "D"), (39.99, "E"),
     (0, "E")],
)
def test_grades(total: float, letter: str) -> None:
    assert grade(total) == letter


# Zero denominators.
def test_an_empty_period_shows_dashes_never_zero_or_hundred(
    db: Session, hb: HandBuilt
) -> None:
    s = indicators(db, parse_period("2025-01", NOW), now=NOW)
    ratios = [getattr(s, f.name) for f in fields(IndicatorSet) if f.type == "Ratio"]
    assert len(ratios) == 16
    assert all(r.value is None and r.text() == "—" for r in ratios)
    assert s.avg_handling_hours is None
    assert s.composite is not None
    assert s.composite.volume_score == 100.0  # no case in 5 grids is a real 0 per grid
    assert (s.composite.public_report_score, s.composite.total, s.composite.grade) == (
        None, None, None
    )


def test_an_empty_database_divides_nothing_by_zero(session: Session) -> None:
    s = indicators(session, OCTOBER, now=NOW)
    assert s.composite is not None
    assert (s.composite.grids, s.composite.volume_score, s.composite.total) == (0, None, None)
    assert indicators_by_area(session, OCTOBER, level="street", now=NOW) == {}
    assert indicators_by_department(session, OCTOBER, now=NOW) == {}


@pytest.mark.parametrize(
    ("ratio", "text", "value"),
    [
        (Ratio(911, 972), "93.72%", 911 / 972),
        (Ratio(1, 32), "3.13%", 1 / 32),  # 3.125 rounds half up (format() would say 3.12)
        (Ratio(0, 5), "0.00%", 0.0),
        (Ratio(5, 5), "100.00%", 1.0),
        (Ratio(0, 0), "—", None),
        # Not applicable: the inputs are missing, so no value and never 0% or 100%
        (Ratio(4, 4, "no_deadline"), "不适用", None),
        (Ratio(0, 0, "no_register_time"), "不适用", None),
    ],
)
def test_ratio_text(ratio: Ratio, text: str, value: float | None) -> None:
    assert (ratio.text(), ratio.value) == (text, value)


# Against a target, and the live light.
@pytest.mark.parametrize(
    ("actual", "target", "higher", "score", "light"),
    [
        (0.96, 0.95, True, 0.96 / 0.95, "green"),
        (0.90, 0.95, True, 0.90 / 0.95, "amber"),
        (0.80, 0.95, True, 0.80 / 0.95, "red"),
        (2, 4, False, 2.0, "green"),  # 超期未结案 2 against at most 4
        (5, 4, False, 0.8, "red"),
        (0, 3, False, math.inf, "green"),  # nothing overdue beats any target
        (0, 0, False, 1.0, "green"),
        (None, 0.95, True, None, None),
    ],
)
def test_target_score_and_light(
    actual: float | None, target: float, higher: bool, score: float | None, light: str | None
) -> None:
    got = target_score(actual, target, higher)
    assert got == (pytest.approx(score) if score not in (None, math.inf) else score)
    assert target_light(got) == light


@pytest.mark.parametrize(
    ("now", "light"),
    [
        ("15:00", "green"),  # 7 of 10 hours used
        ("16:00", "green"),  # exactly 80%: not more than
        ("16:01", "yellow"),
        ("18:00", "yellow"),  # at the deadline, not past it
        ("18:01", "red"),
    ],
)
def test_deadline_light_by_time_used(now: str, light: str) -> None:
    day = date(2026, 11, 20)
    at = datetime.combine(day, datetime.strptime(now, "%H:%M").time())
    light_now = deadline_light(at, datetime(2026, 11, 20, 8), datetime(2026, 11, 20, 18),
                               due_soon=timedelta(0))
    assert light_now == light


@pytest.mark.parametrize(
    ("now", "light"),
    [("09:59", "green"),  # 2 h 1 min left, half of the four hours used
     ("10:00", "yellow"),  # due within two hours
     ("12:00", "yellow"), ("12:01", "red")],
)
def test_deadline_light_due_within_two_hours(now: str, light: str) -> None:
    at = datetime.combine(date(2026, 11, 20), datetime.strptime(now, "%H:%M").time())
    assert deadline_light(at, datetime(2026, 11, 20, 8), datetime(2026, 11, 20, 12)) == light


def test_deadline_light_edges() -> None:
    moment = datetime(2026, 11, 20, 8)
    assert deadline_light(moment, moment, moment) == "yellow"  # no time allowed, not yet late
    assert deadline_light(moment + timedelta(seconds=1), moment, moment) == "red"
    assert deadline_light(datetime(2026, 11, 20, 14), moment, datetime(2026, 11, 20, 23),
                          warn_fraction=0.3) == "yellow"  # 6 of 15 hours used
    assert deadline_light(moment, None, None) == "green"  # not dispatched: no deadline yet


# The registry.
def test_registry_names_every_indicator_field() -> None:
    keys = [d.key for d in INDICATORS]
    assert len(keys) == len(set(keys)) == len(INDICATOR_BY_KEY)
    set_fields = {f.name: f.type for f in fields(IndicatorSet)}
    assert set(keys) <= set(set_fields)
    rates = {name for name, kind in set_fields.items() if kind == "Ratio"}
    assert rates == {d.key for d in INDICATORS if d.kind == "rate"}
    assert {d.kind for d in INDICATORS} == {"count", "rate", "hours", "score"}
    assert INDICATOR_BY_KEY["public_report_rate"].higher_is_better is False
    assert INDICATOR_BY_KEY["close_rate"].higher_is_better is True


def test_seconds_compile_for_postgresql() -> None:
    sql = str(select(_Seconds(Case.dispatched_at, Case.handled_at)).compile(
        dialect=postgresql.dialect()
    ))
    assert "EXTRACT(EPOCH FROM (cases.handled_at - cases.dispatched_at))" in sql


# Periods.
FRIDAY = datetime(2026, 11, 20, 12, 0)


@pytest.mark.parametrize(
    ("kind", "start", "end", "label_zh", "token"),
    [
        ("day", date(2026, 11, 20), date(2026, 11, 21), "2026年11月20日 周五", "2026-11-20"),
        ("week", date(2026, 11, 16), date(2026, 11, 23), "2026年第47周(11月16日—11月22日)",
         "2026-W47"),
        ("month", date(2026, 11, 1), date(2026, 12, 1), "2026年11月", "2026-11"),
        ("quarter", date(2026, 10, 1), date(2027, 1, 1), "2026年第四季度", "2026-Q4"),
        ("year", date(2026, 1, 1), date(2027, 1, 1), "2026年", "2026"),
    ],
)
def test_period_for_each_kind(kind: str, start: date, end: date, label_zh: str, token: str) -> None:
    p = period_for(kind, FRIDAY)
    assert (p.start.date(), p.end.date(), p.kind, p.label_zh, p.token) == (
        start, end, kind, label_zh, token
    )
    assert p.start.time() == p.end.time() == datetime.min.time()
    assert parse_period(kind, FRIDAY) == p == parse_period(token, FRIDAY)


@pytest.mark.parametrize(
    ("token", "previous_start", "previous_end"),
    [
        ("day", date(2026, 11, 19), date(2026, 11, 20)),  # yesterday
        ("week", date(2026, 11, 9), date(2026, 11, 16)),
        ("month", date(2026, 10, 1), date(2026, 11, 1)),
        ("2026-01", date(2025, 12, 1), date(2026, 1, 1)),
        ("2026-03", date(2026, 2, 1), date(2026, 3, 1)),
        ("2026-Q1", date(2025, 10, 1), date(2026, 1, 1)),
        ("year", date(2025, 1, 1), date(2026, 1, 1)),
        ("2026-11-01..2026-11-20", date(2026, 10, 12), date(2026, 11, 1)),  # 20 days before
    ],
)
def test_previous_period(token: str, previous_start: date, previous_end: date) -> None:
    p = parse_period(token, FRIDAY)
    before = previous(p)
    assert (before.start.date(), before.end.date(), before.kind) == (
        previous_start, previous_end, p.kind
    )


def test_custom_period_labels_and_errors() -> None:
    p = parse_period("2026-10-01..2026-10-15", FRIDAY)
    assert p == custom(date(2026, 10, 1), date(2026, 10, 15))
    assert (p.start, p.end, p.last_day) == (
        datetime(2026, 10, 1), datetime(2026, 10, 16), date(2026, 10, 15)
    )
    assert p.label_zh == "2026年10月1日至2026年10月15日"
    assert p.label_en == "2026-10-01 – 2026-10-15"
    for bad in ("fortnight", "2026-13", "2026-02-30", "2026-10-15..2026-10-01", "2026-W54", ""):
        with pytest.raises(PeriodError):
            parse_period(bad, FRIDAY)


def test_same_weekday_last_week() -> None:
    friday = period_for("day", FRIDAY)
    assert same_weekday_last_week(friday) == period_for("day", FRIDAY - timedelta(days=7))
    assert same_weekday_last_week(friday).label_en == "Fri 13 Nov 2026"
    with pytest.raises(PeriodError):
        same_weekday_last_week(period_for("week", FRIDAY))


def test_handbuilt_periods() -> None:
    assert (OCTOBER.start, OCTOBER.end) == (datetime(2026, 10, 1), datetime(2026, 11, 1))
    assert (NOVEMBER.start, NOVEMBER.end) == (datetime(2026, 11, 1), datetime(2026, 11, 21))
    assert OCTOBER.end <= NOW < NOVEMBER.end


def test_departments_come_in_code_order_whatever_order_they_were_stored_in(
        session: Session) -> None:
    # Stored Z, M, A: a query without its ORDER BY returns them in storage order on PostgreSQL
    # (SQLite happens to read code order from the unique index, so this test is the one that
    # kills the dropped ORDER BY, in the PostgreSQL pass).
    for code in ("Z9", "M5", "A1"):
        session.add(Department(code=code, name=f"部门{code}"))
    session.commit()
    ids = {d.code: d.id for d in session.scalars(select(Department))}
    assert list(indicators_by_department(session, OCTOBER, now=NOW)) == [
        ids["A1"], ids["M5"], ids["Z9"]]
