"""Tests that kill mutants bench/mutate.sh found alive in the wall's ranking.

The city is tests/ranking_city.py (NOW 2026-11-20 12:00, November running); every score below
is worked out by hand in the comment above it, from the fixture's table of cases, never with
the functions the code calls. tests/test_wall_ranking.py derives the fixture's own figures;
docs/mutants.md lists the mutants left alive and why each is equivalent.

综合指标值 = 监督举报率分值 × 10% + 立案数分值 × 20% + 结案率分值 × 30% + 按期结案率分值 × 40%;
every case is a patrol case, so 监督举报率 = 0 and its 分值 = 100 → 10 points everywhere.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from queries.assessment import publish_month
from queries.indicators import CompositeWeights, IndicatorSettings
from queries.models import Area, Case
from queries.periods import MONTH, period_for
from queries.rules import Rules, parse_rules
from snapshot.build import ranking_section
from snapshot.ranking import assessment_ranking
from tests.ranking_city import NOW, RULES_YAML, RankingCity, build_ranking_city

SHAPE = ("level", "month", "kind", "running", "published")


@pytest.fixture
def city(session: Session) -> RankingCity:
    return build_ranking_city(session)


@pytest.fixture
def rules() -> Rules:
    return parse_rules(RULES_YAML, "ranking-rules.yaml")


def area(session: Session, city: RankingCity, key: str) -> Area:
    found = session.get(Area, city.ids[key])
    assert found is not None
    return found


def rows(section: dict[str, Any], *keys: str) -> list[tuple[Any, ...]]:
    return [tuple(row[k] for k in ("name", *keys)) for row in section["rows"]]


def move_the_late_case_of_g2_to_g1(session: Session, city: RankingCity) -> None:
    """G2 (ON LATE) gives its LATE case to G1: G1 becomes ON ON LATE, G2 ON (both in 一社区)."""
    late = (
        session.query(Case)
        .filter(Case.grid_id == city.ids["G2"], Case.closed_at > Case.deadline_at)
        .one()
    )
    late.grid_id = city.ids["G1"]
    session.commit()


def test_without_a_month_the_wall_ranks_the_month_holding_now(
    session: Session, city: RankingCity
) -> None:
    # NOW is 2026-11-20 12:00: the month is November, running; the composite is never frozen.
    # The four grids of 一社区 score 98, 78, 63, 58 (test_a_community_wall_ranks_its_grids).
    section = ranking_section(session, area(session, city, "C1"), NOW)
    assert tuple(section[k] for k in SHAPE) == ("grid", "2026-11", "composite", True, False)
    assert rows(section, "score", "rank") == [
        ("一社区01网格", 98.0, 1),
        ("一社区02网格", 78.0, 2),
        ("一社区04网格", 63.0, 3),
        ("一社区03网格", 58.0, 4),
    ]


def test_a_month_runs_from_its_first_instant_until_the_next_begins(
    session: Session, city: RankingCity
) -> None:
    # November is [11-01 00:00, 12-01 00:00): running at its first instant; October, asked
    # for at 11-01 00:00 (its end), is over, and a minute before it was still running.
    c1 = area(session, city, "C1")
    assert ranking_section(session, c1, datetime(2026, 11, 1))["running"] is True
    october = period_for(MONTH, datetime(2026, 10, 15))
    assert ranking_section(session, c1, datetime(2026, 11, 1), october)["running"] is False
    assert ranking_section(session, c1, datetime(2026, 10, 31, 23, 59), october)["running"]


def test_scores_are_shown_to_two_decimals(session: Session, city: RankingCity) -> None:
    move_the_late_case_of_g2_to_g1(session, city)
    # G1 ON ON LATE: 3 cases in 1 grid, whole (2·3 + 1) // 2 = 3 ≤ 4 → 立案数分值 75 → 15;
    #   结案 3/3 → 30; 按期 2/3 → 66.666…% × 40% = 26.666…: 10 + 15 + 30 + 26.666… = 81.666…
    #   → 81.67 (B, ≥ 75), not 81.667.
    # G2 ON: 1 case, whole (2 + 1) // 2 = 1 ≤ 2 → 90 → 18; 30; 40: 98.00 (A).
    # G3 58 (D) and G4 63 (C) as before. Best first: G2, G1, G4, G3; the last two marked.
    section = ranking_section(session, area(session, city, "C1"), NOW)
    assert rows(section, "score", "grade", "rank", "bottom") == [
        ("一社区02网格", 98.0, "A", 1, False),
        ("一社区01网格", 81.67, "B", 2, False),
        ("一社区04网格", 63.0, "C", 3, True),
        ("一社区03网格", 58.0, "D", 4, True),
    ]


def test_the_rules_given_make_the_scores_and_a_zero_sorts_last(
    session: Session, city: RankingCity
) -> None:
    move_the_late_case_of_g2_to_g1(session, city)
    # Only 立案数 weighs (weight 1), scored 100 for a whole 0 per grid, 1 up to 2, else the
    # floor 0: G1 3 cases → whole 3 > 2 → 0.0; G2 1 case → whole 1 → 1.0; G3 and G4 2 cases →
    # whole (2·2 + 1) // 2 = 2 → 1.0. Every total is below 40: grade E.
    # Best first: G2 G3 G4 tied at 1.0 (rank 1, by code), G1 0.0 (rank 4) last, not first.
    # Each of the three has one area (G1) below it, fewer than two: all four are marked.
    rules = IndicatorSettings(
        weights=CompositeWeights(0.0, 1.0, 0.0, 0.0),
        volume_bands=((0, 100.0), (2, 1.0)),
        volume_floor=0.0,
    )
    section = ranking_section(session, area(session, city, "C1"), NOW, rules=rules)
    assert rows(section, "score", "grade", "rank", "bottom") == [
        ("一社区02网格", 1.0, "E", 1, True),
        ("一社区03网格", 1.0, "E", 1, True),
        ("一社区04网格", 1.0, "E", 1, True),
        ("一社区01网格", 0.0, "E", 4, True),
    ]


def test_the_district_wall_says_when_its_month_is_published(
    session: Session, city: RankingCity, rules: Rules
) -> None:
    # At 12-02 12:00 December has run 1.5 days, fewer than the default ranking.min_days 5:
    # the wall shows November, over. Once November is published the panel says so.
    at = datetime(2026, 12, 2, 12, 0)
    before = assessment_ranking(session, at, rules)
    assert tuple(before[k] for k in SHAPE) == ("street", "2026-11", "assessment", False, False)
    publish_month(session, "2026-11", rules, now=at, by="测试员")
    after = assessment_ranking(session, at, rules)
    assert tuple(after[k] for k in SHAPE) == ("street", "2026-11", "assessment", False, True)


def test_the_street_rows_are_the_shown_month_by_rank(
    session: Session, city: RankingCity, rules: Rules
) -> None:
    # NOW: November has run 19.5 days ≥ 5, so November shows; the ranks of
    # test_the_district_wall_ranks_streets_by_the_assessment (二 97, 三 94, 四 93, 一 81,
    # 五 99 unranked: one problem, fewer than min_sample 2).
    assert [
        (r["name"], r["score"], r["rank"], r["bottom"])
        for r in assessment_ranking(session, NOW, rules)["rows"]
    ] == [
        ("二街道", 97.0, 1, False),
        ("三街道", 94.0, 2, False),
        ("四街道", 93.0, 3, True),
        ("一街道", 81.0, 4, True),
        ("五街道", 99.0, None, False),
    ]
