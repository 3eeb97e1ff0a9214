"""The wall's ranking panel at every level, worked out by hand on tests/ranking_city.py.

A street's or community's wall ranks its children by this month's 综合指标值 (best first, ties
share a rank, the bottom two of more than two marked); the district's wall ranks its streets by
the monthly assessment. Every expected rank, score and mark below is a literal derived in the
comments from the case table of the fixture, never from the functions the code calls.

综合指标值 = 监督举报率分值 × 10% + 立案数分值 × 20% + 结案率分值 × 30% + 按期结案率分值 × 40%.
Every case is a patrol case, so 监督举报率 = 0 and its 分值 = 100 → 10 points everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from dashboard.screen.panels import ranking_panel_words
from settings import Settings
from snapshot.build import make_builder
from snapshot.store import DISTRICT
from tests.ranking_city import NOW, RULES_YAML, RankingCity, build_ranking_city

Rows = list[dict[str, Any]]


@pytest.fixture
def city(session: Session) -> RankingCity:
    return build_ranking_city(session)


@pytest.fixture
def ranking(city: RankingCity, session_factory: sessionmaker[Session],
            tmp_path: Path) -> Callable[[str], dict[str, Any]]:
    """Return the ranking panel of an area's wall (by fixture key, or DISTRICT) at NOW."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES_YAML, encoding="utf-8")
    builder = make_builder(session_factory, Settings(rules_file=str(rules)))

    def panel(key: str) -> dict[str, Any]:
        code = DISTRICT if key == DISTRICT else city.codes[key]
        return builder(code, NOW).payload["ranking"]

    return panel


def table(rows: Rows, *keys: str) -> list[tuple[Any, ...]]:
    return [tuple(row[k] for k in ("name", *keys)) for row in rows]


def test_a_community_wall_ranks_its_grids(ranking: Callable[[str], dict[str, Any]]) -> None:
    # Each grid of 一社区 has 2 cases in 1 grid: 2 per grid → 立案数分值 90 → 18 points.
    #   G1 ON ON:     结案 2/2 → 30, 按期 2/2 → 40: 10 + 18 + 30 + 40 = 98.00 (A)
    #   G2 ON LATE:   结案 2/2 → 30, 按期 1/2 → 20: 10 + 18 + 30 + 20 = 78.00 (B)
    #   G3 LATE LATE: 结案 2/2 → 30, 按期 0/2 → 0:  10 + 18 + 30 + 0  = 58.00 (D)
    #   G4 ON OPEN:   结案 1/2 → 15, 按期 1/2 → 20: 10 + 18 + 15 + 20 = 63.00 (C)
    # Best first: G1 98, G2 78, G4 63, G3 58 (not code order); the last two are G4 and G3.
    panel = ranking("C1")
    assert (panel["level"], panel["month"]) == ("grid", "2026-11")
    assert table(panel["rows"], "score", "grade", "rank", "bottom", "self") == [
        ("一社区01网格", 98.0, "A", 1, False, False),
        ("一社区02网格", 78.0, "B", 2, False, False),
        ("一社区04网格", 63.0, "C", 3, True, False),
        ("一社区03网格", 58.0, "D", 4, True, False),
    ]


def test_a_street_wall_ranks_its_communities(ranking: Callable[[str], dict[str, Any]]) -> None:
    # 一社区 (G1–G4): 8 cases in 4 grids = 2 per grid → 90 → 18 points;
    #   结案 7/8 (G4's OPEN is not closed) → 87.5 × 30% = 26.25;
    #   按期 4/8 (G1 2, G2 1, G3 0, G4 1) → 50 × 40% = 20: 10 + 18 + 26.25 + 20 = 74.25 (C)
    # 二社区 (G5 ON ON) and 三社区 (G6 ON ON): 98.00 each, as G1 above; a tie shares rank 1
    #   and the next rank is 3 (competition ranking).
    # 四社区 (G7 ON LATE): 78.00, as G2 above.
    # Best first (ties by code): 二 98, 三 98, 四 78, 一 74.25; the last two are 四 and 一.
    panel = ranking("S1")
    assert (panel["level"], panel["month"]) == ("community", "2026-11")
    assert table(panel["rows"], "score", "grade", "rank", "bottom", "self") == [
        ("二社区", 98.0, "A", 1, False, False),
        ("三社区", 98.0, "A", 1, False, False),
        ("四社区", 78.0, "B", 3, True, False),
        ("一社区", 74.25, "C", 4, True, False),
    ]


def test_a_grid_wall_ranks_its_siblings_and_marks_itself(
        ranking: Callable[[str], dict[str, Any]]) -> None:
    # A grid has no children: its wall ranks the grids of its community (as 一社区's wall
    # above) and marks its own row.
    panel = ranking("G2")
    assert panel["level"] == "grid"
    assert table(panel["rows"], "rank", "bottom", "self") == [
        ("一社区01网格", 1, False, False),
        ("一社区02网格", 2, False, True),
        ("一社区04网格", 3, True, False),
        ("一社区03网格", 4, True, False),
    ]


def test_two_scored_children_mark_no_bottom(ranking: Callable[[str], dict[str, Any]],
                                            session: Session, city: RankingCity) -> None:
    # Only "more than two" scored areas have a bottom two. Delete G3's and G4's cases: G1 98
    # and G2 78 keep their scores, G3 and G4 have no 应结案 (no 结案率, no score, no rank).
    from queries.models import Case

    session.query(Case).filter(Case.grid_id.in_([city.ids["G3"], city.ids["G4"]])).delete()
    session.commit()
    assert table(ranking("C1")["rows"], "score", "rank", "bottom") == [
        ("一社区01网格", 98.0, 1, False),
        ("一社区02网格", 78.0, 2, False),
        ("一社区03网格", None, None, False),
        ("一社区04网格", None, None, False),
    ]


def test_three_scored_children_mark_the_last_two(ranking: Callable[[str], dict[str, Any]],
                                                 session: Session, city: RankingCity) -> None:
    # Delete G4's cases: G1 98, G2 78, G3 58 are three scored grids, more than two, so the
    # last two (G2, G3) are marked; G4 has no score and no mark.
    from queries.models import Case

    session.query(Case).filter(Case.grid_id == city.ids["G4"]).delete()
    session.commit()
    assert table(ranking("C1")["rows"], "score", "rank", "bottom") == [
        ("一社区01网格", 98.0, 1, False),
        ("一社区02网格", 78.0, 2, True),
        ("一社区03网格", 58.0, 3, True),
        ("一社区04网格", None, None, False),
    ]


def test_the_district_wall_ranks_streets_by_the_assessment(
        ranking: Callable[[str], dict[str, Any]]) -> None:
    # Rules (RULES_YAML): 1 point per problem, 1 more per overdue problem, base 100; a street
    # with fewer than 2 problems is not ranked; one group, its bottom 2 marked.
    #   一街道: 14 problems (8 + 2 + 2 + 2); overdue: G2 1, G3 2, G4 1 (open), G7 1 = 5
    #           → 100 − 19 = 81
    #   二街道: 3 problems, none overdue → 97
    #   三街道: 4 problems, 2 overdue → 100 − 6 = 94
    #   四街道: 6 problems, 1 overdue (open) → 100 − 7 = 93
    #   五街道: 1 problem → 99, but fewer than min_sample 2: not ranked, listed last
    # Ranked: 二 97 (1), 三 94 (2), 四 93 (3), 一 81 (4); bottom two of the group: 四 and 一.
    panel = ranking(DISTRICT)
    assert (panel["level"], panel["month"]) == ("street", "2026-11")
    assert table(panel["rows"], "score", "rank", "group_rank", "ranked", "bottom") == [
        ("二街道", 97.0, 1, 1, True, False),
        ("三街道", 94.0, 2, 2, True, False),
        ("四街道", 93.0, 3, 3, True, True),
        ("一街道", 81.0, 4, 4, True, True),
        ("五街道", 99.0, None, None, False, False),
    ]
    # Every street is in 第一组. November is still running at NOW, and streaks count finished
    # months only (docs/assessment.md §4a), so every streak reads 0; the district's rows carry no
    # grade and no "self" (the district is not one of its streets).
    assert table(panel["rows"], "code", "group", "streak", "flag", "grade", "self",
                 "published") == [
        ("二街道", "330188002", "第一组", 0, None, None, False, False),
        ("三街道", "330188003", "第一组", 0, None, None, False, False),
        ("四街道", "330188004", "第一组", 0, None, None, False, False),
        ("一街道", "330188001", "第一组", 0, None, None, False, False),
        ("五街道", "330188005", "第一组", 0, "min_sample", None, False, False),
    ]


def test_the_hint_says_what_each_wall_ranks(ranking: Callable[[str], dict[str, Any]]) -> None:
    district_title, district = ranking_panel_words(ranking(DISTRICT), "zh")
    street_title, street = ranking_panel_words(ranking("S1"), "zh")
    assert "考核得分" in district_title + district and "综合指标值" not in district
    assert "综合指标值" in street_title and "考核得分" not in street_title
    assert "Assessment" in " ".join(ranking_panel_words(ranking(DISTRICT), "en"))
    assert "Composite" in " ".join(ranking_panel_words(ranking("C1"), "en"))


def test_a_tie_at_the_boundary_marks_both(ranking: Callable[[str], dict[str, Any]],
                                          session: Session, city: RankingCity) -> None:
    # G4's open case is closed late (handled 11-12 08:00, closed 09:00, due 11-11 09:20):
    # G4 becomes ON LATE = 78.00, tied with G2. Scores 98, 78, 78, 58: G2 and G4 each have
    # one area below them (G3), so both are in the bottom two, as the assessment counts them
    # (倒数后两名 with a tie for second-to-last), and G3 too: three marks, ranks 1 2 2 4.
    from queries.models import STATUS_CLOSED, Case

    case = session.query(Case).filter(Case.grid_id == city.ids["G4"],
                                      Case.closed_at.is_(None)).one()
    case.handled_at = case.deadline_at.replace(hour=8, minute=0) + timedelta(days=1)
    case.closed_at = case.handled_at + timedelta(hours=1)
    case.status = STATUS_CLOSED
    session.commit()
    assert table(ranking("C1")["rows"], "score", "rank", "bottom") == [
        ("一社区01网格", 98.0, 1, False),
        ("一社区02网格", 78.0, 2, True),
        ("一社区04网格", 78.0, 2, True),
        ("一社区03网格", 58.0, 4, True),
    ]
