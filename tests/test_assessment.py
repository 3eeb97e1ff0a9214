"""The monthly assessment on a hand-built city: every score and rank worked out by hand.

The city and the rules are in tests/assessment_city.py. The rules in short: base 100, no
normalisation; a problem costs 0.5/1/2 by severity (部件 0.25/0.5/1, 突发事件 1/2/3); a repeat
multiplies the base by 2 (2nd occurrence) or 3 (3rd+), the extra going to the "repeat" cause;
overdue +0.5, rework +0.25 per time; caps problems 5, repeat 3, overdue 1; volunteer bonus
0.5 per 10 h, at most 1; min_sample 2; K = 2; bottom_n 1 (last of the group); red/black lists
1 street and 2 grids each.

January 2026 (no earlier month has cases, so no changes and streaks start at 1)

    A 甲街道 第一组  a1 垃圾 s1 0.5 · a2 垃圾 s1 0.5 + repeat 0.5 (10 m, 15 d after a1: 2nd)
                    · a3 井盖 s3 1 + overdue 0.5 · a4 突发 s2 2
                    problems 4.0, repeat 0.5, overdue 0.5 → 5.0 → score 95.0
                    costs 0.5, 1.0, 1.5, 2.0 → 1 problem ≥ 2; repeats {2: 1}
    B 乙街道 第一组  b1 垃圾 s2 1 + rework 2×0.25 · b2 井盖 s1 0.25 · b3 cancelled (not counted)
                    problems 1.25, rework 0.5 → 1.75; bonus 9 h → 0.45 → score 98.7
    C 丙街道 第二组  c1 突发 s3 3 + overdue 0.5 (still open past its deadline) · c2 突发 s3 3
                    · c3 垃圾 s1 0.5; problems 6.5 capped at 5, overdue 0.5 → 5.5 → 94.5
                    costs 3.5, 3, 0.5 → 2 problems ≥ 2
    D 丁街道 第二组  d1 0.5 · d2 0.5 + 0.5 (2nd) · d3 0.5 + 1.0 (3rd: repeats d2, the most
                    recent) → problems 1.5, repeat 1.5 → 3.0 → score 97.0; repeats {2: 1, 3: 1}

    rank: B 98.7 (1), D 97.0 (2), A 95.0 (3), C 94.5 (4)
    groups: 第一组 B 1, A 2 (A last); 第二组 D 1, C 2 (C last)
    district: (95 + 98.7 + 94.5 + 97) / 4 = 96.3; spread 98.7 − 94.5 = 4.2
    totals: 12 problems, 3 costing ≥ 2, 3 repeats {2: 2, 3: 1}
    grids: A1 1.5 (2), A2 3.5 (2), B1 1.75 (2), C1 5.5 (3: capped as C), D1 3.0 (3)
           red: A1, B1; black: C1, A2

February 2026

    A  a5 垃圾 s1 0.5 + repeat 1.0 (10 m, 21 d after a2, which was the 2nd: 3rd)
       · a6 突发 s3 3 + rework 0.25 · a7 突发 s2 2 + overdue 0.5
       problems 5.5 capped at 5, repeat 1.0, overdue 0.5, rework 0.25 → 6.75 → 93.25
       costs 1.5, 3.25, 2.5 → 2 problems ≥ 2; repeats {3: 1}
    B  b4 垃圾 0.5 (b1's place, but 32 days later: a first) · b5 井盖 0.25 → 0.75 → 99.25
    C  c4 垃圾 0.5 + 0.5 (c3's place, 26 d later: 2nd) · c5 垃圾 s2 1 (60 m away: a first)
       problems 1.5, repeat 0.5 → 2.0; bonus 30 h → 1.5 capped at 1 → score 99.0
    D  d4 0.5 → 99.5 but 1 problem < min_sample 2: flagged, not ranked

    rank: B 99.25 (1), C 99.0 (2), A 93.25 (3); D unranked
    groups: 第一组 B 1, A 2 (A last again: 2 months in a row); 第二组 C alone ranked → nobody
    district: (93.25 + 99.25 + 99.0) / 3 = 97.1666… → 97.17; change +0.87 = 0.87 / 96.3 = 0.90 %
    totals: 8 problems (D counts), 2 costing ≥ 2, 2 repeats {2: 1, 3: 1}
    grids: A1 1.5 (1), A2 5.75 (2), B1 0.75 (2), C1 2.0 (2), D1 0.5 (1)
           red: D1, B1; black: A2, C1
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from queries.assessment import (
    FLAG_MIN_SAMPLE,
    Change,
    MonthAssessment,
    MonthError,
    PublishError,
    assess_month,
    assessment_from_json,
    assessment_to_json,
    list_months,
    load_month,
    month_bounds,
    publication,
    publish_month,
    same_span_end,
    shift_month,
    shown_month,
)
from queries.models import STATUS_CANCELLED, Case
from queries.rules import Rules, RulesError, parse_rules
from tests.assessment_city import NOW, RULES_YAML, build_city

A, B, C, D = "610199001", "610199002", "610199003", "610199004"


@pytest.fixture
def city(session: Session) -> dict[str, int]:
    return build_city(session)


@pytest.fixture
def rules() -> Rules:
    return parse_rules(RULES_YAML, "test-rules.yaml")


def test_january_scores_ranks_and_deductions(session: Session, city: dict[str, int],
                                             rules: Rules) -> None:
    jan = assess_month(session, "2026-01", rules, now=NOW)
    assert [(s.code, s.score, s.rank, s.group_rank) for s in jan.streets] == [
        (B, 98.7, 1, 1), (D, 97.0, 2, 1), (A, 95.0, 3, 2), (C, 94.5, 4, 2)]
    a, b, c, d = (jan.street(code) for code in (A, B, C, D))
    assert a.deductions == {"problems": 4.0, "repeat": 0.5, "overdue": 0.5, "rework": 0.0}
    assert (a.total_deduction, a.problems, a.problems_costing_at_least_k) == (5.0, 4, 1)
    assert (a.repeats_by_occurrence, a.overdue_problems, a.rework_times) == ({2: 1}, 1, 0)
    assert b.deductions == {"problems": 1.25, "repeat": 0.0, "overdue": 0.0, "rework": 0.5}
    assert (b.bonus, b.volunteer_hours, b.problems, b.rework_times) == (0.45, 9.0, 2, 2)
    assert c.deductions == {"problems": 5.0, "repeat": 0.0, "overdue": 0.5, "rework": 0.0}
    assert (c.capped, c.problems_costing_at_least_k) == (("problems",), 2)
    assert d.deductions == {"problems": 1.5, "repeat": 1.5, "overdue": 0.0, "rework": 0.0}
    assert (d.repeats_by_occurrence, d.repeat_problems) == ({2: 1, 3: 1}, 2)
    assert all(s.ranked and s.flag is None for s in jan.streets)


def test_january_groups_district_and_lists(session: Session, city: dict[str, int],
                                           rules: Rules) -> None:
    jan = assess_month(session, "2026-01", rules, now=NOW)
    assert [(g.name, g.streets, g.mean_score, g.spread, g.bottom_two) for g in jan.groups] == [
        ("第一组", (B, A), 96.85, 3.7, (A,)), ("第二组", (D, C), 95.75, 2.5, (C,))]
    assert [(s.code, s.bottom_two, s.consecutive_bottom_two) for s in jan.streets] == [
        (B, False, 0), (D, False, 0), (A, True, 1), (C, True, 1)]
    district = jan.district
    assert (district.score, district.spread, district.ranked_streets) == (96.3, 4.2, 4)
    assert (district.problems, district.problems_costing_at_least_k) == (12, 3)
    assert (district.repeat_problems, district.repeats_by_occurrence) == (3, {2: 2, 3: 1})
    assert district.score_change == Change() and district.previous_repeats_by_occurrence is None
    assert (jan.red_streets, jan.black_streets) == ((B,), (C,))
    assert [(g.name, g.deduction, g.problems) for g in jan.red_grids] == [
        ("A1网格", 1.5, 2), ("B1网格", 1.75, 2)]
    # C1 is capped as C is (a grid is scored as a street of one grid): problems 6.5 → 5,
    # + overdue 0.5 = 5.5, not the uncapped 7.0.
    assert [(g.name, g.deduction, g.problems, g.capped) for g in jan.black_grids] == [
        ("C1网格", 5.5, 3, ("problems",)), ("A2网格", 3.5, 2, ())]
    assert all(s.score_change == Change() and s.previous_rank is None for s in jan.streets)
    assert not jan.published and jan.warnings == ()


def test_february_against_january(session: Session, city: dict[str, int], rules: Rules) -> None:
    feb = assess_month(session, "2026-02", rules, now=NOW)
    assert [(s.code, s.score, s.rank, s.group_rank, s.flag) for s in feb.streets] == [
        (B, 99.25, 1, 1, None), (C, 99.0, 2, 1, None), (A, 93.25, 3, 2, None),
        (D, 99.5, None, None, FLAG_MIN_SAMPLE)]
    a, b, c, d = (feb.street(code) for code in (A, B, C, D))
    assert a.deductions == {"problems": 5.0, "repeat": 1.0, "overdue": 0.5, "rework": 0.25}
    assert (a.capped, a.repeats_by_occurrence, a.problems_costing_at_least_k) == (
        ("problems",), {3: 1}, 2)
    assert b.deductions == {"problems": 0.75, "repeat": 0.0, "overdue": 0.0, "rework": 0.0}
    assert (c.bonus, c.volunteer_hours, c.repeats_by_occurrence) == (1.0, 30.0, {2: 1})
    # A: 93.25 − 95.0 = −1.75 = −1.84 %; rank 3 → 3; problems 4 → 3 (−25 %);
    # costing ≥ 2: 1 → 2 (+100 %); repeats 1 → 1 (0 %).
    assert a.score_change == Change(95.0, -1.75, -1.84)
    assert (a.previous_rank, a.rank_change) == (3, 0)
    assert a.problems_change == Change(4, -1, -25.0)
    assert a.costly_change == Change(1, 1, 100.0)
    assert a.repeats_change == Change(1, 0, 0.0)
    # B: +0.55 = 0.55 / 98.7 = 0.56 %; 0 → 0 costly problems: a zero denominator, no %.
    assert b.score_change == Change(98.7, 0.55, 0.56)
    assert b.costly_change == Change(0, 0, None) and b.repeats_change == Change(0, 0, None)
    # C: +4.5 = 4.76 %; rank 4 → 2 (up 2); problems 3 → 2 (−33.33 %); costly 2 → 0 (−100 %).
    assert c.score_change == Change(94.5, 4.5, 4.76)
    assert (c.previous_rank, c.rank_change) == (4, 2)
    assert c.problems_change == Change(3, -1, -33.33)
    assert c.costly_change == Change(2, -2, -100.0) and c.repeats_change == Change(0, 1, None)
    # D is unranked now: no rank change, but its score and counts still compare.
    assert (d.previous_rank, d.rank_change) == (2, None)
    assert d.score_change == Change(97.0, 2.5, 2.58)
    assert d.problems_change == Change(3, -2, -66.67)


def test_february_streak_groups_district_and_lists(session: Session, city: dict[str, int],
                                                   rules: Rules) -> None:
    feb = assess_month(session, "2026-02", rules, now=NOW)
    # A is last of 第一组 in January and February; 第二组 has one ranked street: nobody is last.
    assert [(s.code, s.bottom_two, s.consecutive_bottom_two) for s in feb.streets] == [
        (B, False, 0), (C, False, 0), (A, True, 2), (D, False, 0)]
    assert [(g.name, g.streets, g.mean_score, g.spread, g.bottom_two) for g in feb.groups] == [
        ("第一组", (B, A), 96.25, 6.0, (A,)), ("第二组", (C, D), 99.0, 0.0, ())]
    district = feb.district
    assert (district.score, district.ranked_streets, district.spread) == (97.17, 3, 6.0)
    assert district.score_change == Change(96.3, 0.87, 0.9)
    assert district.problems_change == Change(12, -4, -33.33)
    assert district.costly_change == Change(3, -1, -33.33)
    assert district.repeats_change == Change(3, -1, -33.33)
    assert (district.repeats_by_occurrence, district.previous_repeats_by_occurrence) == (
        {2: 1, 3: 1}, {2: 2, 3: 1})
    assert (feb.red_streets, feb.black_streets) == ((B,), (A,))
    assert [(g.name, g.deduction) for g in feb.red_grids] == [("D1网格", 0.5), ("B1网格", 0.75)]
    assert [(g.name, g.deduction) for g in feb.black_grids] == [("A2网格", 5.75),
                                                                ("C1网格", 2.0)]


def test_publishing_freezes_a_month(session: Session, city: dict[str, int], rules: Rules) -> None:
    published = publish_month(session, "2026-01", rules, now=NOW, by="张主任")
    assert published.rules_sha256 == rules.sha256 and published.rules_text == RULES_YAML
    assert published.assessment.published and published.assessment.published_by == "张主任"
    # c1 is cancelled afterwards: C loses 3 + 0.5 (problems 3.5, no longer capped) → 96.5.
    session.execute(update(Case).where(Case.id == city["c1"]).values(status=STATUS_CANCELLED))
    session.commit()
    frozen = load_month(session, "2026-01", rules, now=NOW)
    assert frozen == published.assessment and frozen.street(C).score == 94.5
    assert frozen.published_at == NOW
    provisional = assess_month(session, "2026-01", rules, now=NOW)
    assert not provisional.published and provisional.street(C).score == 96.5
    # February compares against the published January, not a recomputed one.
    feb = load_month(session, "2026-02", rules, now=NOW)
    assert not feb.published and feb.street(C).score_change.previous == 94.5
    assert feb.street(A).consecutive_bottom_two == 2  # 1 stored in January, + February
    assert list_months(session) == [("2026-01", True), ("2026-02", False)]


def test_publishing_twice_needs_force(session: Session, city: dict[str, int],
                                      rules: Rules) -> None:
    publish_month(session, "2026-01", rules, now=NOW, by="张主任")
    with pytest.raises(PublishError, match="already published.*张主任"):
        publish_month(session, "2026-01", rules, now=NOW)
    session.execute(update(Case).where(Case.id == city["c1"]).values(status=STATUS_CANCELLED))
    session.commit()
    again = publish_month(session, "2026-01", rules, now=NOW, force=True)
    assert again.assessment.street(C).score == 96.5
    assert publication(session, "2026-01").assessment.street(C).score == 96.5


def test_a_month_not_over_or_before_the_data_cannot_be_published(
        session: Session, city: dict[str, int], rules: Rules) -> None:
    with pytest.raises(PublishError, match="not over yet"):
        publish_month(session, "2026-03", rules, now=NOW)
    with pytest.raises(PublishError, match="before the first month with registered cases"):
        publish_month(session, "2025-12", rules, now=NOW)
    assert list_months(session) == [("2026-01", False), ("2026-02", False)]


def test_json_round_trip_is_exact(session: Session, city: dict[str, int], rules: Rules) -> None:
    feb: MonthAssessment = assess_month(session, "2026-02", rules, now=NOW)
    assert assessment_from_json(assessment_to_json(feb)) == feb


@pytest.mark.parametrize("bad", ["2026-13", "2026-2", "26-02", "2026/02", "", "2026-00"])
def test_bad_month_strings(bad: str) -> None:
    with pytest.raises(MonthError, match="YYYY-MM"):
        month_bounds(bad)


def test_month_arithmetic() -> None:
    assert month_bounds("2026-12")[1].isoformat() == "2027-01-01T00:00:00"
    assert shift_month("2026-01", -1) == "2025-12" and shift_month("2026-11", 3) == "2027-02"


def test_streets_missing_from_groups_are_ranked_apart(session: Session, city: dict[str, int],
                                                      rules: Rules) -> None:
    text = RULES_YAML.replace("  第二组: [610199003, 610199004]\n", "  第二组: [610199003]\n")
    jan = assess_month(session, "2026-01", parse_rules(text), now=NOW)
    assert jan.street(D).group == "未分组" and jan.street(D).group_rank == 1
    assert [g.name for g in jan.groups] == ["第一组", "第二组", "未分组"]
    assert len(jan.warnings) == 1 and "610199004" in jan.warnings[0]


def test_rules_naming_an_unknown_street_fail_with_the_line(session: Session,
                                                           city: dict[str, int]) -> None:
    text = RULES_YAML.replace("  第二组: [610199003, 610199004]\n",
                              "  第二组: [610199003, 610199099]\n")
    line = text.splitlines().index("  第二组: [610199003, 610199099]") + 1
    with pytest.raises(RulesError, match=rf"<rules>, line {line}: groups.第二组: 610199099 is not "
                                         r"a street of .*gridwatch rules init"):
        assess_month(session, "2026-01", parse_rules(text), now=NOW)


def test_a_month_without_cases(session: Session, city: dict[str, int], rules: Rules) -> None:
    # December 2025 has no registered case: every street keeps its base score, unranked, but
    # A's 100 volunteer hours in December earn it the capped bonus of 1 → 101.
    dec = assess_month(session, "2025-12", rules, now=NOW)
    assert [(s.code, s.score, s.problems, s.rank, s.flag) for s in dec.streets] == [
        (code, 101.0 if code == A else 100.0, 0, None, FLAG_MIN_SAMPLE) for code in (A, B, C, D)]
    assert dec.district.score is None and dec.red_streets == () and dec.black_grids == ()
    assert dec.red_grids == ()  # no problems is not excellence: nobody on the red list


# --- a running month -------------------------------------------------------------------------
#
# At 2026-02-06 12:00 February has run 5 days 12 h, so it is compared with 2026-01-01 00:00 –
# 2026-01-06 12:00, not with the whole of January:
#   February so far: A a6 3 + rework 0.25, a7 2 + overdue 0.5 → problems 5 (cap 5), 5.75 → 94.25;
#     B b4 0.5 → 99.5 (1 problem: unranked); C c4 0.5 + repeat 0.5 (c3's place), c5 1 → 2.0,
#     and no bonus (C1's 30 h start on 2-08, after now) → 98.0; D nothing → 100 (unranked).
#     Later February cases (a5, b5, d4) are registered after now and do not count.
#   January's same span: b1 1 + rework 0.5 → 98.5, a1 0.5 → 99.5, d1 0.5 → 99.5, C 100;
#     3 problems, each street 1 or 0 → nobody ranked, so the district score has no change.
#   changes: A −5.25 (problems 1 → 2), B +1.0, C −2.0 (0 → 2, pct "—"), D +0.5;
#     district problems 3 → 5: +2 (+66.67%), where the whole of January (12) would say −7.
RUNNING = datetime(2026, 2, 6, 12, 0)


def test_a_running_month_is_compared_with_the_same_span(session: Session, city: dict[str, int],
                                                          rules: Rules) -> None:
    feb = assess_month(session, "2026-02", rules, now=RUNNING)
    assert feb.running and feb.previous_span_end == datetime(2026, 1, 6, 12, 0)
    assert [(s.code, s.score, s.rank, s.problems) for s in feb.streets] == [
        (C, 98.0, 1, 2), (A, 94.25, 2, 2), (B, 99.5, None, 1), (D, 100.0, None, 0)]
    a, b, c, d = (feb.street(code) for code in (A, B, C, D))
    assert a.score_change == Change(previous=99.5, delta=-5.25, pct=-5.28)
    assert a.problems_change == Change(previous=1, delta=1, pct=100.0)
    assert b.score_change.delta == 1.0 and d.score_change.delta == 0.5
    assert c.score_change.delta == -2.0 and c.problems_change == Change(0, 2, None)
    assert (c.bonus, c.volunteer_hours) == (0.0, 0.0)
    assert feb.district.problems_change == Change(previous=3, delta=2, pct=66.67)
    assert feb.district.score == 96.12 and feb.district.score_change == Change()


def test_a_running_month_counts_in_no_streak(session: Session, city: dict[str, int],
                                             rules: Rules) -> None:
    # On 2-21 A is provisionally last of 第一组 again (as in the finished February), but a
    # running month is never counted: its streak is 0 until the month is over.
    feb = assess_month(session, "2026-02", rules, now=datetime(2026, 2, 21, 0, 0))
    assert feb.street(A).bottom_two and feb.street(A).consecutive_bottom_two == 0
    assert feb.previous_span_end == datetime(2026, 1, 21, 0, 0)
    finished = assess_month(session, "2026-02", rules, now=NOW)
    assert not finished.running and finished.previous_span_end is None
    assert finished.street(A).consecutive_bottom_two == 2


def test_same_span_end_is_capped_at_last_months_end() -> None:
    assert same_span_end("2026-03", datetime(2026, 3, 31, 10, 0)) == datetime(2026, 3, 1, 0, 0)
    assert same_span_end("2026-02", datetime(2026, 2, 2, 4, 10)) == datetime(2026, 1, 2, 4, 10)


def test_the_shown_month_waits_for_min_days(rules: Rules) -> None:
    assert rules.ranking_min_days == 5
    assert shown_month(datetime(2026, 12, 2, 4, 10), rules) == "2026-11"
    assert shown_month(datetime(2026, 12, 5, 23, 59), rules) == "2026-11"
    assert shown_month(datetime(2026, 12, 6, 0, 0), rules) == "2026-12"
    assert shown_month(datetime(2027, 1, 1, 0, 0), rules) == "2026-12"  # across a year


def test_a_grid_deduction_never_exceeds_the_base_score(session: Session,
                                                       city: dict[str, int]) -> None:
    # No caps and a base of 5: C1's January problems cost 3.5 + 3 + 0.5 = 7.0 uncapped, which
    # reads "扣7分" on a 5-point scale; the grid's deduction stops at the base, 5.0.
    text = RULES_YAML.replace("caps: {problems: 5, repeat: 3, overdue: 1}\n", "").replace(
        "base_score: 100", "base_score: 5")
    jan = assess_month(session, "2026-01", parse_rules(text), now=NOW)
    c1 = next(g for g in jan.black_grids if g.name == "C1网格")
    assert (c1.deduction, c1.capped) == (5.0, ())


def test_the_red_grid_list_needs_a_minimum_of_problems(session: Session,
                                                       city: dict[str, int]) -> None:
    # With lists.red_grid_min_problems 3 only C1 (5.5, 3 problems) and D1 (3.0, 3) may be red:
    # D1 first (lower deduction); the black list is then the others above 0, worst first.
    text = RULES_YAML.replace("red_grids: 2,", "red_grids: 2, red_grid_min_problems: 3,")
    jan = assess_month(session, "2026-01", parse_rules(text), now=NOW)
    assert [(g.name, g.deduction) for g in jan.red_grids] == [("D1网格", 3.0), ("C1网格", 5.5)]
    assert [(g.name, g.deduction) for g in jan.black_grids] == [("A2网格", 3.5),
                                                                 ("B1网格", 1.75)]
