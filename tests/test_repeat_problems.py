"""重复问题 per period, worked out by hand on the hand-built city (tests/handbuilt.py).

The city's stored links are the ones the detection rule finds (tests/handbuilt.py derives them
above CASES): case ← its earlier problem, with the registration that places it in a period:

    G1  19 ← 3 (10-22)   21 ← 19 (11-03)
    G2  7 ← 2 (10-06)    20 ← 7 (11-01 00:10)   29 ← 20 (11-11)   22 ← 15 (11-05)
    G3  33 ← 16 (11-17)
    G4  17 ← 10 (10-29)  25 ← 24 (11-20 08:10)
    G5  18 ← 13 (10-31)

城西街道 is G1 G2 G3, 城东街道 (东苑社区) is G4 G5.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from queries.indicators import REPEAT_PROBLEMS, repeat_problems
from queries.models import Case
from queries.periods import DAY, custom, period_for
from queries.repeats import detect_repeats, repeat_inputs
from queries.rules import load_rules
from tests.handbuilt import NOVEMBER, NOW, OCTOBER, HandBuilt, build_handbuilt


@pytest.fixture
def hb(session: Session) -> HandBuilt:
    """The hand-built city, committed."""
    built = build_handbuilt(session)
    session.commit()
    return built


@pytest.mark.parametrize(
    ("area", "period", "expected"),
    [
        (None, OCTOBER, 4),  # 19 7 17 18
        (None, NOVEMBER, 6),  # 21 20 29 22 33 25
        ("G1", OCTOBER, 1),  # 19
        ("G2", OCTOBER, 1),  # 7
        ("C3", OCTOBER, 2),  # 17 (G4) and 18 (G5)
        ("S1", NOVEMBER, 5),  # 21 (G1), 20 22 29 (G2), 33 (G3)
        ("S2", NOVEMBER, 1),  # 25 (G4)
        ("G5", NOVEMBER, 0),  # 26 27 are firsts, 32 was cancelled
        (None, custom(date(2026, 11, 3), date(2026, 11, 3)), 1),  # the day 21 was registered
        (None, custom(date(2026, 11, 19), date(2026, 11, 19)), 0),  # 24: 36 days after 11
        (None, period_for(DAY, NOW), 1),  # 11-20: 25 (08:10) repeats 24
    ],
)
def test_repeat_problems_by_hand(session: Session, hb: HandBuilt, area: str | None,
                                 period: object, expected: int) -> None:
    area_id = hb.areas[area] if area else None
    assert repeat_problems(session, period, area_id=area_id) == expected  # type: ignore[arg-type]


def test_a_cancelled_repeat_does_not_count(session: Session, hb: HandBuilt) -> None:
    # Case 32 (G5, registered 11-16, cancelled 11-16 14:00) marked as a repeat of case 12.
    session.execute(update(Case).where(Case.id == hb.cases[32])
                    .values(repeat_of_id=hb.cases[12]))
    session.commit()
    assert repeat_problems(session, NOVEMBER) == 6  # still 21 20 29 22 33 25


def test_the_stored_links_are_the_ones_the_rule_finds(session: Session, hb: HandBuilt) -> None:
    # The links of the docstring, with each case's occurrence (1 + its earlier problem's):
    # 3 → 19 → 21 is one problem seen 2, 3 times; 2 → 7 → 20 → 29 seen 2, 3, 4 times.
    expected = {(19, 3, 2), (21, 19, 3), (7, 2, 2), (20, 7, 3), (29, 20, 4), (22, 15, 2),
                (33, 16, 2), (17, 10, 2), (25, 24, 2), (18, 13, 2)}
    number = {case_id: no for no, case_id in hb.cases.items()}
    stored = {(number[c], number[o]) for c, o in session.execute(
        select(Case.id, Case.repeat_of_id).where(Case.repeat_of_id.is_not(None)))}
    assert stored == {(c, o) for c, o, _ in expected}
    rule = load_rules().repeat
    found = detect_repeats(repeat_inputs(session, OCTOBER.start - timedelta(days=60), NOW,
                                         rule.days), radius_m=rule.radius_m, days=rule.days)
    assert {(number[m.case_id], number[m.repeat_of_id], m.occurrence)
            for m in found.values()} == expected


def test_repeats_are_a_count_where_lower_is_better() -> None:
    assert (REPEAT_PROBLEMS.key, REPEAT_PROBLEMS.kind) == ("repeats", "count")
    assert REPEAT_PROBLEMS.higher_is_better is False
