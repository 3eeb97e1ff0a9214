"""路长 sections on the hand-built city: 销号率, 按期销号率, check-in days, score, 红黑榜, scope;
and the rules file's ``sections`` block.

Every expected number is worked out by hand from tests/handbuilt.py (cases, by number) and
tests/handbuilt_sections.py (which grids each section spans, the check-ins). November is
1–20 November with NOW 2026-11-20 12:00, so 20 days have begun; October is over: 31 days.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from queries.indicators import DASH
from queries.rules import DEFAULT_RULES_FILE, RulesError, SectionRules, load_rules, parse_rules
from queries.scope import Scope
from queries.sections import SectionFigures, rank, section_board, section_detail
from tests.handbuilt import NOVEMBER, NOW, OCTOBER, build_handbuilt
from tests.handbuilt_sections import build_sections

EVERYTHING = Scope.everything()
SHIPPED = SectionRules()  # weights 0.3 / 0.4 / 0.3, 60 minutes, min_due 3, red 10, black 10


@pytest.fixture
def city(session: Session) -> Iterator[dict[str, int]]:
    hb = build_handbuilt(session)
    ids = build_sections(session)
    session.commit()
    yield {**hb.areas, **ids}


def by_code(session: Session, period: object, rules: SectionRules = SHIPPED,
            scope: Scope = EVERYTHING) -> dict[str, SectionFigures]:
    board = section_board(session, period, NOW, rules, scope=scope)  # type: ignore[arg-type]
    return {f.section.code: f for f in board.rows}


def test_section_a_in_november(session: Session, city: dict[str, int]) -> None:
    a = by_code(session, NOVEMBER)["LZ-A"]
    # LZ-A spans G1 and G2. November's 应销号 (registered 11-01 … NOW, not cancelled, closed or
    # past deadline by NOW): 20, 21, 22, 28, 29 → 5. All five are closed → 销号率 5/5 = 100.00%.
    # By their deadline: 20 (closed 11-01 10:00 ≤ 11-02 00:40), 21 (11-03 16:00 ≤ 11-04 09:20),
    # 28 (11-16 15:00 ≤ 11-17 09:20); 22 and 29 closed late → 按期销号率 3/5 = 60.00%.
    assert a.due == 5
    assert (a.close_rate.numerator, a.close_rate.denominator) == (5, 5)
    assert a.close_rate.text() == "100.00%"
    assert (a.ontime_close_rate.numerator, a.ontime_close_rate.text()) == (3, "60.00%")
    # Check-in days: 11-01 (60, inclusive), 11-03 (30 + 30 by two people), 11-20 (today, 90);
    # not 11-02 (59) nor 10-31 (October) → 3 of the 20 days begun → 到岗率 15.00%.
    assert (a.checkin_days, a.period_days, a.checkin_rate.text()) == (3, 20, "15.00%")
    # Every case of G1 and G2 is closed or cancelled now.
    assert (a.open_cases, a.open_overdue) == (0, 0)
    # score = 100 × (0.3 × 1 + 0.4 × 0.6 + 0.3 × 0.15) = 30 + 24 + 4.5 = 58.5.
    assert a.score is not None and math.isclose(a.score, 58.5)


def test_section_b_in_november_and_its_overdue_list(session: Session,
                                                    city: dict[str, int]) -> None:
    b = by_code(session, NOVEMBER)["LZ-B"]
    # LZ-B spans G3 and G4. 应销号: 23 (deadline 11-12 09:00 passed, still 待核查) and 33 (closed
    # 11-18 10:00 ≤ 11-19 09:30); 24 and 25 are not yet due, 31 not registered → 2.
    # 销号率 1/2 = 50.00%; 按期销号率 1/2 = 50.00%.
    assert (b.due, b.close_rate.text(), b.ontime_close_rate.text()) == (2, "50.00%", "50.00%")
    # One check-in day (11-05, 61 minutes) of 20 → 5.00%.
    assert (b.checkin_days, b.checkin_rate.text()) == (1, "5.00%")
    # Open now: 1, 23, 24, 25, 31 → 5; overdue: 1 (09-28 09:20) and 23 (11-12 09:00) → 2.
    assert (b.open_cases, b.open_overdue) == (5, 2)
    # 2 to close out is below the shipped min_due of 3: listed, not ranked.
    assert b.score is None and not b.ranked and b.rank is None
    detail = section_detail(session, "LZ-B", NOVEMBER, NOW, SHIPPED, scope=EVERYTHING)
    assert detail is not None
    # Most overdue first: case 1 is 53 days 2 h 40 min past (1274.7 h), case 23 8 days 3 h
    # (195.0 h).
    assert [(c.external_id, c.hours_over) for c in detail.overdue] == [
        ("HB-001", 1274.7), ("HB-023", 195.0)]
    assert [d.isoformat() for d in detail.checkin_dates] == ["2026-11-05"]


def test_no_case_due_is_a_dash_not_zero(session: Session, city: dict[str, int]) -> None:
    rows = by_code(session, NOVEMBER)
    c, d = rows["LZ-C"], rows["LZ-D"]
    # LZ-C (G5): 26 and 27 have no deadline and are open, 32 is cancelled → nothing is due.
    assert c.due == 0 and c.close_rate.value is None and c.close_rate.text() == DASH
    assert c.ontime_close_rate.text() == DASH and c.score is None
    # Open: 18 (overdue since 11-01 00:00), 26, 27.
    assert (c.open_cases, c.open_overdue) == (3, 1)
    # LZ-D holds no case and no check-in: no rate, but 0 of 20 days is a real 0.00%.
    assert (d.due, d.open_cases, d.close_rate.text()) == (0, 0, DASH)
    assert (d.checkin_days, d.checkin_rate.text()) == (0, "0.00%")


def test_section_a_in_october(session: Session, city: dict[str, int]) -> None:
    a = by_code(session, OCTOBER)["LZ-A"]
    # October's 应销号 in G1, G2: 3, 7, 14, 19 (closed on time) and 15 (past its deadline 10-22,
    # still open at the month's end) → 5; 销号 4 → 80.00%; 按期 4 → 80.00%.
    assert (a.due, a.close_rate.text(), a.ontime_close_rate.text()) == (5, "80.00%", "80.00%")
    # One check-in day (10-31) of October's 31 days.
    assert (a.checkin_days, a.period_days) == (1, 31)
    # score = 100 × (0.3 × 0.8 + 0.4 × 0.8 + 0.3 × 1/31) = 24 + 32 + 30/31.
    assert a.score is not None and math.isclose(a.score, 56 + 30 / 31)


def test_ranking_and_red_black_lists(session: Session, city: dict[str, int]) -> None:
    rules = SectionRules(min_due=2, red=1, black=1)
    board = section_board(session, NOVEMBER, NOW, rules, scope=EVERYTHING)
    # With min_due 2, LZ-B is ranked too: 100 × (0.3 × 0.5 + 0.4 × 0.5 + 0.3 × 0.05) = 36.5.
    assert [(f.section.code, f.rank) for f in board.rows] == [
        ("LZ-A", 1), ("LZ-B", 2), ("LZ-C", None), ("LZ-D", None)]
    assert math.isclose(board.rows[1].score or 0.0, 36.5)
    assert [f.section.leader for f in board.red] == ["甲路长"]
    assert [f.section.leader for f in board.black] == ["乙路长"]
    # Two ranked sections and lists of two: the red list takes both, the black list none.
    wide = section_board(session, NOVEMBER, NOW, SectionRules(min_due=2, red=2, black=2),
                         scope=EVERYTHING)
    assert [f.section.code for f in wide.red] == ["LZ-A", "LZ-B"] and wide.black == []


def test_equal_scores_share_a_rank(session: Session, city: dict[str, int]) -> None:
    rows = by_code(session, NOVEMBER, SectionRules(min_due=2))
    a = rows["LZ-A"]
    twin = SectionFigures(rows["LZ-C"].section, 0, 0, 5, a.close_rate, a.ontime_close_rate,
                          3, 20, a.score)
    ranked = rank([rows["LZ-B"], twin, a])
    assert [(f.section.code, f.rank) for f in ranked] == [("LZ-A", 1), ("LZ-C", 1),
                                                        ("LZ-B", 3)]


def test_scope_limits_the_case_figures(session: Session, city: dict[str, int]) -> None:
    # A grid manager of G4 sees only G4's cases of LZ-B: none due in November (24, 25 not yet
    # due; 31 not registered) → "—"; open: 1, 24, 25, 31 → 4, overdue: 1 → 1.
    b = by_code(session, NOVEMBER, scope=Scope.area(city["G4"]))["LZ-B"]
    assert (b.due, b.close_rate.text(), b.open_cases, b.open_overdue) == (0, DASH, 4, 1)
    detail = section_detail(session, "LZ-B", NOVEMBER, NOW, SHIPPED,
                            scope=Scope.area(city["G4"]))
    assert detail is not None and [c.external_id for c in detail.overdue] == ["HB-001"]
    # 环卫 (D3) sees 20, 21, 29 of LZ-A's five: closed 3/3, on time 20, 21 → 66.67%.
    a = by_code(session, NOVEMBER, scope=Scope.department(city_department(session, "BM03")))
    assert (a["LZ-A"].due, a["LZ-A"].ontime_close_rate.text()) == (3, "66.67%")
    # Nothing: no case at all, however many check-ins.
    none = by_code(session, NOVEMBER, scope=Scope.nothing())["LZ-A"]
    assert (none.due, none.open_cases, none.checkin_days) == (0, 0, 3)


def city_department(session: Session, code: str) -> int:
    from sqlalchemy import select

    from queries.models import Department

    return session.scalars(select(Department.id).where(Department.code == code)).one()


def test_unknown_section_has_no_detail(session: Session, city: dict[str, int]) -> None:
    assert section_detail(session, "LZ-X", NOVEMBER, NOW, SHIPPED, scope=EVERYTHING) is None


# ------------------------------------------------------------------ the rules file


def test_shipped_rules_have_the_sections_block() -> None:
    rules = load_rules()
    assert rules.sections == SectionRules()
    assert dict(rules.sections.weights) == {"close_rate": 0.3, "ontime_close_rate": 0.4,
                                            "checkin_rate": 0.3}


def test_rules_without_the_block_get_the_defaults() -> None:
    text = DEFAULT_RULES_FILE.read_text(encoding="utf-8")
    start = text.index("sections:")
    end = text.index("# 考核分组")
    assert parse_rules(text[:start] + text[end:]).sections == SectionRules()


def test_a_changed_block_is_read() -> None:
    text = DEFAULT_RULES_FILE.read_text(encoding="utf-8").replace(
        "  red: 10\n  black: 10\n\n# 考核", "  red: 5\n  black: 3\n\n# 考核").replace(
        "  checkin_minutes: 60", "  checkin_minutes: 45")
    sections = parse_rules(text).sections
    assert (sections.red, sections.black, sections.checkin_minutes) == (5, 3, 45)


@pytest.mark.parametrize(("old", "new", "message"), [
    ("{close_rate: 0.3, ontime_close_rate: 0.4, checkin_rate: 0.3}",
     "{close_rate: 0.3, ontime_close_rate: 0.4, checkin_rate: 0.4}",
     "sections.weights: must add up to 1, they add up to 1.1"),
    ("{close_rate: 0.3, ontime_close_rate: 0.4, checkin_rate: 0.3}",
     "{close_rate: 0.6, ontime_close_rate: 0.4}", "sections.weights.checkin_rate is missing"),
    ("checkin_rate: 0.3}", "checkin_rate: 0.3, speed: 0}", "unknown key 'sections.weights.speed'"),
    ("checkin_rate: 0.3}", "checkin_rate: lots}", "sections.weights.checkin_rate: expected a "
                                                  "number, got 'lots'"),
    ("  checkin_minutes: 60", "  checkin_minutes: 0",
     "sections.checkin_minutes: must be ≥ 1, got 0"),
    ("  checkin_minutes: 60", "  checkin_minutes: 1500",
     "sections.checkin_minutes: a day has 1440 minutes, got 1500"),
    ("  min_due: 3", "  min_due: 2.5", "sections.min_due: expected a whole number, got '2.5'"),
    ("  red: 10\n  black: 10\n\n# 考核", "  red: -1\n  black: 10\n\n# 考核",
     "sections.red: must be ≥ 0, got -1"),
    ("  min_due: 3", "  min_due: 3\n  colour: red", "unknown key 'sections.colour'"),
])
def test_each_sections_mistake_names_its_line(old: str, new: str, message: str) -> None:
    text = DEFAULT_RULES_FILE.read_text(encoding="utf-8")
    assert old in text
    bad = text.replace(old, new, 1)
    # The line named is the one holding the bad value (the weights' line for a weights error).
    on = "colour" if "colour" in new else new.split("\n")[0].strip()
    line = next(n for n, row in enumerate(bad.splitlines(), 1) if on in row)
    with pytest.raises(RulesError) as caught:
        parse_rules(bad, "rules.yaml")
    assert caught.value.message.startswith(message)
    assert caught.value.line == line


def test_the_default_period_waits_for_min_days_of_the_month() -> None:
    from datetime import datetime

    from queries.sections import default_period

    # On 2 December (one whole day) with min_days 5: November; on 6 December (5 days): December.
    assert default_period(datetime(2026, 12, 2, 18, 0), 5).token == "2026-11"
    assert default_period(datetime(2026, 12, 6, 0, 0), 5).token == "2026-12"
    assert default_period(datetime(2026, 12, 1, 0, 0), 0).token == "2026-12"
