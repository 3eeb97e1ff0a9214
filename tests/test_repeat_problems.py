"""重复问题 per period, worked out by hand on the hand-built city (tests/handbuilt.py).

Repeats in the city: case 19 (G1, registered 10-22 09:30) repeats case 3, and case 21 (G1,
registered 11-03 09:10) repeats case 19. Nothing else has ``repeat_of_id``.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from queries.indicators import REPEAT_PROBLEMS, repeat_problems
from queries.models import Case
from queries.periods import DAY, custom, period_for
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
        (None, OCTOBER, 1),  # 19
        (None, NOVEMBER, 1),  # 21
        ("G1", OCTOBER, 1),  # 19 lies in G1
        ("S1", NOVEMBER, 1),  # 21 lies in G1, under 城西街道
        ("S2", NOVEMBER, 0),  # 城东街道 has no repeats
        ("G2", OCTOBER, 0),
        (None, custom(date(2026, 11, 3), date(2026, 11, 3)), 1),  # the day 21 was registered
        (None, period_for(DAY, NOW), 0),  # 11-20: nothing registered today repeats
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
    assert repeat_problems(session, NOVEMBER) == 1  # still only 21


def test_repeats_are_a_count_where_lower_is_better() -> None:
    assert (REPEAT_PROBLEMS.key, REPEAT_PROBLEMS.kind) == ("repeats", "count")
    assert REPEAT_PROBLEMS.higher_is_better is False
