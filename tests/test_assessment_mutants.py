"""Tests that kill mutants bench/mutate.sh found alive in queries/assessment.py.

The city is tests/assessment_city.py (cases in January and February 2026, NOW 2026-03-10 12:00;
its figures are worked out in tests/test_assessment.py); some tests add a case, an activity or
a few months of cases to it, and each expected value is worked out in the comment above it.
docs/mutants.md lists the survivors judged equivalent and why.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from queries.assessment import (
    MAX_PUBLISHER,
    UNGROUPED,
    AssessmentError,
    Change,
    MonthError,
    PublishError,
    _change,
    _grid,
    _json_default,
    _points,
    _street,
    assess_month,
    assessment_from_json,
    assessment_to_json,
    check_month,
    check_publishable,
    dirty_months,
    figures_from_json,
    is_running,
    load_month,
    month_bounds,
    publication,
    publish,
    publish_month,
)
from queries.assessment_data import GridTally, StreetTally
from queries.indicators import CLOSED, DEFAULT, IndicatorSettings
from queries.kept_months import KeptMonths
from queries.models import (
    STATUS_CLOSED,
    STATUS_HANDLING,
    Area,
    Case,
    Category,
    VolunteerActivity,
    VolunteerTeam,
)
from queries.month_figures import month_figures
from queries.repeats import EARTH_RADIUS_M
from queries.rules import Rules, load_rules, parse_rules
from tests.assessment_city import GRIDS, NOW, RULES_YAML, STREETS, build_city

A, B, C, D = (STREETS[k][0] for k in "ABCD")


@pytest.fixture
def city(session: Session) -> dict[str, int]:
    return build_city(session)


@pytest.fixture
def rules() -> Rules:
    return parse_rules(RULES_YAML, "test-rules.yaml")


def test_the_publisher_may_have_exactly_the_column_width(session: Session,
                                                         city: dict[str, int]) -> None:
    # MAX_PUBLISHER is 64 (the column): 64 characters pass, 65 are refused with the limit.
    assert MAX_PUBLISHER == 64
    check_publishable(session, "2026-01", now=NOW, by="张" * 64)
    with pytest.raises(PublishError) as refused:
        check_publishable(session, "2026-01", now=NOW, by="张" * 65)
    assert str(refused.value) == "the publisher's name has 65 characters; at most 64"
    assert refused.value.reason == "publisher" and refused.value.details == {"limit": "64"}


def test_a_month_is_publishable_from_the_minute_it_ends(session: Session,
                                                        city: dict[str, int]) -> None:
    # February ends at 2026-03-01 00:00: publishable at that instant, not a minute before.
    check_publishable(session, "2026-02", now=datetime(2026, 3, 1, 0, 0))
    with pytest.raises(PublishError) as refused:
        check_publishable(session, "2026-02", now=datetime(2026, 2, 28, 23, 59))
    assert str(refused.value) == ("2026-02 is not over yet: it can be published from "
                                  "2026-03-01 00:00")
    assert refused.value.reason == "not_over"
    assert refused.value.details == {"at": "2026-03-01 00:00"}


def test_before_the_data_names_the_first_month(session: Session, city: dict[str, int]) -> None:
    # The earliest case is in January 2026, so December 2025 has nothing to publish.
    with pytest.raises(PublishError) as refused:
        check_publishable(session, "2025-12", now=NOW)
    assert str(refused.value) == ("2025-12 is before the first month with registered cases "
                                  "(2026-01): nothing to publish")
    assert refused.value.reason == "before_data"
    assert refused.value.details == {"first": "2026-01"}


def test_an_empty_database_has_nothing_to_publish(session: Session) -> None:
    # No case at all: no first month, so every month is "before the data".
    with pytest.raises(PublishError) as refused:
        check_publishable(session, "2026-01", now=NOW)
    assert str(refused.value) == ("2026-01 is before the first month with registered cases "
                                  "(none yet): nothing to publish")
    assert refused.value.details == {"first": ""}


def test_already_published_says_when_and_by_whom(session: Session, city: dict[str, int],
                                                rules: Rules) -> None:
    # Published at NOW (2026-03-10 12:00) without a name: the message names no one.
    publish_month(session, "2026-01", rules, now=NOW)
    with pytest.raises(PublishError) as refused:
        check_publishable(session, "2026-01", now=NOW)
    assert str(refused.value) == ("2026-01 was already published on 2026-03-10 12:00; publish "
                                  "it again with force (--force) to replace it")
    assert refused.value.reason == "already"
    assert refused.value.details == {"at": "2026-03-10 12:00", "by": ""}
    check_publishable(session, "2026-01", now=NOW, force=True)


def test_a_publication_reads_back_its_month_and_publisher(session: Session,
                                                         city: dict[str, int],
                                                         rules: Rules) -> None:
    publish_month(session, "2026-01", rules, now=NOW, by="张主任")
    stored = publication(session, "2026-01")
    assert stored is not None
    assert (stored.month, stored.published_at, stored.published_by) == ("2026-01", NOW, "张主任")
    assert publication(session, "2026-02") is None


def test_a_change_without_a_current_value_keeps_the_previous_one() -> None:
    # Last month was 5 and this month has no figure: the previous 5 still shows.
    assert _change(None, 5) == Change(previous=5)
    assert _change(3, None) == Change()


def test_points_never_show_a_negative_zero() -> None:
    # round(-0.0, 2) is -0.0; the + 0.0 makes it 0.0, so "-0" is never printed.
    assert math.copysign(1.0, _points(-0.0)) == 1.0


def test_only_times_can_be_stored() -> None:
    assert _json_default(datetime(2026, 1, 2, 3, 4)) == "2026-01-02T03:04:00"
    with pytest.raises(TypeError, match="^cannot store set in an assessment$"):
        _json_default({1})


# --- building on the city -------------------------------------------------------------------

EAST = 0.003  # degrees: added cases lie ≥ 270 m east of every case of the city (no repeats)


def _grid_area(session: Session, key: str) -> Area:
    code = f"{STREETS[GRIDS[key][0]][0]}001{int(key[1]):02d}"  # as build_city names grids
    return session.scalars(select(Area).where(Area.code == code)).one()


def add_case(session: Session, grid: str, registered: datetime, *, category: str = "暴露垃圾",
             severity: int = 1, north_m: float = 0.0, deadline: datetime | None = None,
             handled: datetime | None = None, still_open: bool = False) -> None:
    """Add a problem to a grid of the city: by default due in 2 days and handled in 1."""
    area = _grid_area(session, grid)
    community = session.get(Area, area.parent_id)
    assert community is not None
    finished = None if still_open else handled or registered + timedelta(days=1)
    session.add(Case(
        external_id=f"extra-{session.scalar(select(Case.id).order_by(Case.id.desc()))}",
        source="巡查上报",
        category_id=session.scalars(select(Category.id).where(Category.minor == category)).one(),
        lat=GRIDS[grid][1] + north_m / EARTH_RADIUS_M * 180 / math.pi, lon=GRIDS[grid][2] + EAST,
        grid_id=area.id, community_id=community.id, street_id=community.parent_id,
        status=STATUS_HANDLING if still_open else STATUS_CLOSED, severity=severity,
        reported_at=registered - timedelta(minutes=30), registered_at=registered,
        deadline_at=deadline or registered + timedelta(days=2), handled_at=finished,
        closed_at=finished, rework_count=0))
    session.flush()


def add_hours(session: Session, grid: str, start: datetime, hours: float) -> None:
    """Add a volunteer activity of ``hours`` service hours in a grid of the city."""
    area = _grid_area(session, grid)
    community = session.get(Area, area.parent_id)
    assert community is not None
    team = VolunteerTeam(name=f"加队{start:%Y%m%d}", street_id=community.parent_id, leader="队长",
                         founded_on=date(2025, 1, 1))
    session.add(team)
    session.flush()
    session.add(VolunteerActivity(
        team_id=team.id, service_type="环境整治", title="清扫", grid_id=area.id,
        lat=GRIDS[grid][1], lon=GRIDS[grid][2], start_at=start,
        end_at=start + timedelta(hours=3), participants=3, service_hours=hours))
    session.commit()


def add_area(session: Session, code: str, name: str, level: str, parent: int | None) -> int:
    square = '{"type":"Polygon","coordinates":[[[0,0],[0,1],[1,1],[0,0]]]}'
    area = Area(code=code, name=name, level=level, parent_id=parent, geometry=square,
                center_lat=34.27, center_lon=108.95)
    session.add(area)
    session.flush()
    return area.id


# --- one street, one grid: _street and _grid ------------------------------------------------


def _tally(problems: float, repeat: float = 0.0, overdue: float = 0.0,
           rework: float = 0.0) -> StreetTally:
    return StreetTally(causes={"problems": problems, "repeat": repeat, "overdue": overdue,
                               "rework": rework}, problems=4, costly=1, overdue=1, rework=2,
                       repeats={2: 1})


def test_per_grid_normalisation_divides_by_the_grids_and_at_least_one() -> None:
    rules = parse_rules(RULES_YAML.replace("normalise: none", "normalise: per_grid"))
    tally = _tally(6.0, repeat=1.0, overdue=0.5, rework=0.5)
    # 2 grids: 3.0 + 0.5 + 0.25 + 0.25 = 4.0 → 96.0 (no cap reached: problems cap is 5).
    two = _street(A, "甲街道", rules, tally, 2, 0.0)
    assert two.deductions == {"problems": 3.0, "repeat": 0.5, "overdue": 0.25, "rework": 0.25}
    assert (two.score, two.capped, two.grids, two.name) == (96.0, (), 2, "甲街道")
    # 1 grid and 0 grids (divided by at least 1): problems 6.0 capped at 5, + 1.0 + 0.5 + 0.5
    # = 7.0 → 93.0.
    for grids in (1, 0):
        one = _street(A, "甲街道", rules, tally, grids, 0.0)
        assert (one.total_deduction, one.score, one.capped) == (7.0, 93.0, ("problems",))


def test_a_cause_exactly_at_its_cap_is_not_capped(rules: Rules) -> None:
    # problems cap 5: exactly 5.0 is within it, so it is not listed as capped.
    street = _street(A, "甲街道", rules, _tally(5.0), 1, 0.0)
    assert (street.deductions["problems"], street.capped, street.score) == (5.0, (), 95.0)
    grid = _grid("g", "A1网格", A, rules, GridTally(causes=_tally(5.0).causes, problems=2))
    assert (grid.deduction, grid.capped, grid.street_code) == (5.0, (), A)


def test_rules_without_a_bonus_give_none() -> None:
    text = RULES_YAML.replace("bonus:\n  volunteer_hours: {points: 0.5, per_hours: 10, cap: 1}\n",
                              "")
    rules = parse_rules(text)
    assert rules.volunteer_bonus is None
    # 30 h would earn the capped 1.0 under the test rules; without a bonus rule, nothing.
    street = _street(A, "甲街道", rules, _tally(0.0), 1, 30.0)
    assert (street.bonus, street.score, street.volunteer_hours) == (0.0, 100.0, 30.0)


def test_a_score_stops_at_zero() -> None:
    # Base 5, no caps: 7.0 of problems would give −2; the score stops at 0.0.
    text = RULES_YAML.replace("caps: {problems: 5, repeat: 3, overdue: 1}\n", "").replace(
        "base_score: 100", "base_score: 5")
    street = _street(A, "甲街道", parse_rules(text), _tally(7.0), 1, 0.0)
    assert (street.total_deduction, street.score) == (7.0, 0.0)


def test_volunteer_hours_show_two_decimals(rules: Rules) -> None:
    # 12.3456 h → shown 12.35; bonus 12.3456 / 10 × 0.5 = 0.61728 → 0.62; score 100.62.
    street = _street(A, "甲街道", rules, _tally(0.0), 1, 12.3456)
    assert (street.volunteer_hours, street.bonus, street.score) == (12.35, 0.62, 100.62)


# --- small helpers and month strings --------------------------------------------------------


def test_a_change_of_counts_stays_a_count_and_a_mixed_one_is_rounded() -> None:
    # 5 problems after 3: +2 (an int, shown "+2", not "+2.0"), +66.67 %.
    change = _change(5, 3)
    assert change == Change(3, 2, 66.67) and type(change.delta) is int
    # 2 against 0.125 is not two counts: 1.875 rounds to 1.88, and 1.88 / 0.125 = 1504 %.
    assert _change(2, 0.125) == Change(0.125, 1.88, 1504.0)
    assert type(_change(2.0, 1).delta) is float


def test_a_month_runs_from_its_first_instant_until_its_end() -> None:
    assert is_running("2026-02", datetime(2026, 2, 1, 0, 0))
    assert is_running("2026-02", datetime(2026, 2, 28, 23, 59))
    assert not is_running("2026-02", datetime(2026, 3, 1, 0, 0))


def test_the_months_gridwatch_handles_are_1900_01_to_2999_12() -> None:
    assert check_month("1900-01") == (datetime(1900, 1, 1), datetime(1900, 2, 1))
    assert check_month("2999-12") == (datetime(2999, 12, 1), datetime(3000, 1, 1))
    for outside in ("1899-12", "3000-01"):
        with pytest.raises(MonthError) as refused:
            check_month(outside)
        assert str(refused.value) == (f"'{outside}' is outside the months Gridwatch handles "
                                      "(1900-01 to 2999-12)")


def test_a_month_that_is_not_a_string_is_a_month_error() -> None:
    for read in (check_month, month_bounds):
        with pytest.raises(MonthError) as refused:
            read(202601)  # type: ignore[arg-type]
        assert str(refused.value) == "202601 is not a month: write YYYY-MM, e.g. 2026-02"


def test_a_month_a_calendar_cannot_hold_says_so() -> None:
    # Year 0 has no 1 January; 9999-12 would end in the year 10000.
    for month in ("0000-01", "9999-12"):
        with pytest.raises(MonthError) as refused:
            month_bounds(month)
        assert str(refused.value) == f"'{month}' is not a month a calendar can hold"


def test_an_empty_database_cannot_be_assessed(session: Session, rules: Rules) -> None:
    with pytest.raises(AssessmentError) as refused:
        assess_month(session, "2026-01", rules, now=NOW)
    assert str(refused.value) == ("the database holds no district: generate or import a city "
                                  "first")


def test_rules_naming_another_street_name_this_district(session: Session,
                                                        city: dict[str, int]) -> None:
    text = RULES_YAML.replace("[610199003, 610199004]", "[610199003, 610199099]")
    with pytest.raises(ValueError, match=r"610199099 is not a street of 测试区 \(write"):
        assess_month(session, "2026-01", parse_rules(text), now=NOW)


# --- the assembled month --------------------------------------------------------------------


def test_the_month_carries_its_rules_district_names_and_grids(session: Session,
                                                              city: dict[str, int],
                                                              rules: Rules) -> None:
    jan = assess_month(session, "2026-01", rules, now=NOW)
    assert (jan.rules_title, jan.rules_sha256, jan.base_score) == ("测试细则", rules.sha256, 100)
    assert (jan.cost_threshold, jan.min_sample, jan.bottom_n) == (2, 2, 1)
    assert (jan.district.code, jan.district.name) == ("610199", "测试区")
    # A has the grids A1 and A2; the others one each (tests/assessment_city.py).
    assert [(s.code, s.name, s.grids) for s in jan.streets] == [
        (B, "乙街道", 1), (D, "丁街道", 1), (A, "甲街道", 2), (C, "丙街道", 1)]
    assert [(g.name, g.street_code) for g in jan.red_grids] == [("A1网格", A), ("B1网格", B)]
    assert jan.street("610199099") is None
    assert [s.code for s in jan.in_group("第一组")] == [B, A] and jan.in_group("第三组") == ()


def test_a_street_without_problems_counts_nothing(session: Session, city: dict[str, int],
                                                  rules: Rules) -> None:
    # December 2025 has no case: every count of every street is 0.
    dec = assess_month(session, "2025-12", rules, now=NOW)
    assert {(s.problems_costing_at_least_k, s.overdue_problems, s.rework_times,
             s.repeat_problems, len(s.repeats_by_occurrence)) for s in dec.streets} == {
        (0, 0, 0, 0, 0)}


def test_a_streets_hours_add_up_over_its_grids(session: Session, city: dict[str, int],
                                               rules: Rules) -> None:
    # A1 has 100 h in December 2025; 4 more in A2 make A's 104 h (bonus still capped at 1).
    add_hours(session, "A2", datetime(2025, 12, 22, 9, 0), 4.0)
    a = assess_month(session, "2025-12", rules, now=NOW).street(A)
    assert a is not None and (a.volunteer_hours, a.bonus, a.score) == (104.0, 1.0, 101.0)


def test_the_black_grid_list_takes_every_grid_above_zero(session: Session,
                                                         city: dict[str, int]) -> None:
    # February with 1 red grid and 4 black: red D1 (0.5, the lowest); black the other four
    # above 0, worst first, B1's 0.75 included (below 1 point, still above 0).
    text = RULES_YAML.replace("red_grids: 2, black_grids: 2", "red_grids: 1, black_grids: 4")
    feb = assess_month(session, "2026-02", parse_rules(text), now=NOW)
    assert [(g.name, g.deduction) for g in feb.red_grids] == [("D1网格", 0.5)]
    assert [(g.name, g.deduction) for g in feb.black_grids] == [
        ("A2网格", 5.75), ("C1网格", 2.0), ("A1网格", 1.5), ("B1网格", 0.75)]


def test_black_grids_of_equal_deduction_list_more_problems_first(session: Session,
                                                                  city: dict[str, int]) -> None:
    # Caps problems 1, repeat/overdue/rework 0.5 make every January grid cost 1.5:
    #   A1 1.0 + repeat 0.5 (2 problems); A2 3.0 → 1 + overdue 0.5 (2); B1 1.25 → 1 + rework
    #   0.5 (2); C1 6.5 → 1 + overdue 0.5 (3); D1 1.5 → 1 + repeat 1.5 → 0.5 (3).
    # Red (fewest problems, then code): A1. Black: 3 problems first (C1, D1), then A2, B1.
    text = RULES_YAML.replace(
        "caps: {problems: 5, repeat: 3, overdue: 1}",
        "caps: {problems: 1, repeat: 0.5, overdue: 0.5, rework: 0.5}").replace(
        "red_grids: 2, black_grids: 2", "red_grids: 1, black_grids: 4")
    jan = assess_month(session, "2026-01", parse_rules(text), now=NOW)
    assert [(g.name, g.deduction, g.problems) for g in jan.red_grids] == [("A1网格", 1.5, 2)]
    assert [(g.name, g.problems) for g in jan.black_grids] == [
        ("C1网格", 3), ("D1网格", 3), ("A2网格", 2), ("B1网格", 2)]
    assert {g.deduction for g in jan.black_grids} == {1.5}


def test_overdue_is_judged_at_a_spans_end_and_a_finished_month_at_now(
        session: Session, city: dict[str, int], rules: Rules) -> None:
    # B1 gets a 井盖 case of 1-04 due 1-10 and never handled, and a 垃圾 case of 1-30 due 2-15
    # and handled late on 2-20.
    add_case(session, "B1", datetime(2026, 1, 4, 9, 0), category="井盖",
             deadline=datetime(2026, 1, 10, 9, 0), still_open=True)
    add_case(session, "B1", datetime(2026, 1, 30, 9, 0), north_m=300,
             deadline=datetime(2026, 2, 15, 9, 0), handled=datetime(2026, 2, 20, 9, 0))
    session.commit()
    # Finished January, judged at NOW: both overdue. B: problems 1 + 0.25 + 0.25 + 0.5 = 2.0,
    # rework 0.5, overdue 2 × 0.5 = 1.0 (exactly the cap: not capped) → 3.5; + 0.45 → 96.95.
    # Judged at January's end instead, the 1-30 case (finished after 2-01) would not be late.
    b = assess_month(session, "2026-01", rules, now=NOW).street(B)
    assert b is not None and (b.overdue_problems, b.score, b.capped) == (2, 96.95, ())
    # February running at 2-06 12:00 compares with January to 1-06 12:00, judged then: b1
    # 1 + rework 0.5 and the 1-04 case 0.25, not yet due → 1.75 → 98.25 (no hours yet).
    running = assess_month(session, "2026-02", rules, now=datetime(2026, 2, 6, 12, 0))
    b = running.street(B)
    assert b is not None and b.score_change.previous == 98.25


def test_a_running_first_month_has_nothing_to_compare(session: Session, city: dict[str, int],
                                                      rules: Rules) -> None:
    # January 2026 is the first month with cases: running on 1-20, it has no last month.
    jan = assess_month(session, "2026-01", rules, now=datetime(2026, 1, 20, 0, 0))
    assert jan.running and jan.district.score_change == Change()
    assert all(s.score_change == Change() and s.previous_rank is None for s in jan.streets)


# --- which streets --------------------------------------------------------------------------


def test_only_this_districts_streets_are_assessed_in_code_order(session: Session,
                                                                city: dict[str, int],
                                                                rules: Rules) -> None:
    # Two streets no group lists, added 006 before 005, and a second district (its code after
    # 610199, so 610199 stays the district) with a street of its own.
    district = session.scalars(select(Area.id).where(Area.code == "610199")).one()
    add_area(session, "610199006", "己街道", "street", district)
    add_area(session, "610199005", "戊街道", "street", district)
    other = add_area(session, "610299", "他区", "district", None)
    add_area(session, "610299001", "他街道", "street", other)
    session.commit()
    jan = assess_month(session, "2026-01", rules, now=NOW)
    assert sorted(s.code for s in jan.streets) == [A, B, C, D, "610199005", "610199006"]
    assert jan.warnings == (f"610199005 戊街道 is in no group: ranked in {UNGROUPED}",
                            f"610199006 己街道 is in no group: ranked in {UNGROUPED}")


def test_the_shipped_example_rules_on_another_city_say_so_first(session: Session,
                                                                city: dict[str, int]) -> None:
    # The shipped rules name 雁湖区's streets (6101200xx): on this city every street is
    # ungrouped, and the first warning says why, naming this district.
    jan = assess_month(session, "2026-01", load_rules(), now=NOW)
    assert jan.warnings == (
        "the shipped example rules name another city's streets, not those of 测试区: write "
        "rules for yours with `gridwatch rules init`",
        *(f"{code} {name} is in no group: ranked in {UNGROUPED}"
          for code, name in STREETS.values()))


def test_the_shipped_example_rules_on_the_demo_city_warn_of_nothing(session: Session) -> None:
    # The demo district 610120 with exactly the ten streets the shipped rules group.
    rules = load_rules()
    district = add_area(session, "610120", "雁湖区", "district", None)
    for group in rules.groups:
        for code in group.streets:
            add_area(session, code, f"{code}街道", "street", district)
    session.commit()
    assert assess_month(session, "2026-01", rules, now=NOW).warnings == ()


# --- stored months --------------------------------------------------------------------------


def test_a_stored_month_of_another_format_is_refused() -> None:
    with pytest.raises(AssessmentError) as refused:
        assessment_from_json('{"format": 2}')
    assert str(refused.value) == "stored assessment has format 2, expected 1"


def test_a_running_month_and_capped_grids_round_trip(session: Session, city: dict[str, int],
                                                     rules: Rules) -> None:
    running = assess_month(session, "2026-02", rules, now=datetime(2026, 2, 6, 12, 0))
    text = assessment_to_json(running)
    assert assessment_from_json(text) == running
    assert assessment_from_json(text).previous_span_end == datetime(2026, 1, 6, 12, 0)
    # January's black grid C1 is capped ("problems"); the text keeps Chinese as it is.
    jan = assess_month(session, "2026-01", rules, now=NOW)
    text = assessment_to_json(jan)
    assert assessment_from_json(text).black_grids[0].capped == ("problems",)
    assert '"rules_title": "测试细则"' in text


def test_a_grid_stored_without_capped_reads_as_uncapped(session: Session, city: dict[str, int],
                                                        rules: Rules) -> None:
    # Months stored before grids had "capped" read back with none.
    data = json.loads(assessment_to_json(assess_month(session, "2026-01", rules, now=NOW)))
    for grid in data["assessment"]["black_grids"]:
        del grid["capped"]
    read = assessment_from_json(json.dumps(data))
    assert [(g.name, g.capped) for g in read.black_grids] == [("C1网格", ()), ("A2网格", ())]


def test_the_decks_figures_ride_with_the_assessment(session: Session, city: dict[str, int],
                                                    rules: Rules) -> None:
    jan = assess_month(session, "2026-01", rules, now=NOW)
    figures = month_figures(session, "2026-01", now=NOW)
    assert figures_from_json(assessment_to_json(jan, figures)) == figures
    assert "deck" in json.loads(assessment_to_json(jan, figures))
    assert figures_from_json(assessment_to_json(jan)) is None


def test_publishing_freezes_the_figures_under_the_indicator_rules_given(
        session: Session, city: dict[str, int], rules: Rules) -> None:
    # Under the 311 convention (closed in the period) the open c1 is not due, so January's
    # figures differ from the bulletin convention's; the frozen ones are the 311 ones.
    closed = IndicatorSettings(due_convention=CLOSED)
    expected = month_figures(session, "2026-01", now=NOW, settings=closed)
    assert expected != month_figures(session, "2026-01", now=NOW, settings=DEFAULT)
    publish_month(session, "2026-01", rules, now=NOW, indicator_rules=closed)
    stored = publication(session, "2026-01")
    assert stored is not None and stored.figures == expected


def test_publishing_refuses_a_name_longer_than_the_column(session: Session,
                                                          city: dict[str, int],
                                                          rules: Rules) -> None:
    with pytest.raises(PublishError) as refused:
        publish_month(session, "2026-01", rules, now=NOW, by="张" * 65)
    assert refused.value.reason == "publisher" and publication(session, "2026-01") is None


# --- a long bottom-of-group streak ----------------------------------------------------------
#
# The city gets two problems a month for A (grid A1) and B (B1) from 2025-02 to 2025-12: the
# last of 第一组 has two of severity 3 (2 points each: 96.0), the other two of severity 1
# (0.5 each: 99.0); both reach min_sample 2, so the group ranks both and its last is at the
# bottom (bottom_n 1). A is last every month except 2025-03 (B), and, as in the city, in
# January and February 2026. Every case has a place of its own (200 m apart, east of the
# city's cases): no repeats.
#
# February 2026's streak for A walks back: 2026-02, 2026-01, 2025-12 … 2025-04 are 11 months
# at the bottom; 2025-03 (B last) ends the run, though 2025-02 has A last again. The walk
# reads its cases in chunks (the first two months, then six at a time), so 2025-04 is in
# the third chunk: a chunk lost or misplaced breaks the run early.

LONG_STREAK = 11


def add_streak_months(session: Session) -> None:
    # A repeat chain at one place of A1, 29 days apart: 2025-09-27, 10-26, 11-24, 12-23, the
    # 1st to 4th occurrence (A only gets worse). December's history reaches back to 09-02,
    # so December counts the 4th only with September's case, read in the walk's third chunk.
    for day in (datetime(2025, 9, 27, 9, 0) + timedelta(days=29 * k) for k in range(4)):
        add_case(session, "A1", day, north_m=900)
    place = 0
    for month in range(2, 13):
        worst = "B1" if month == 3 else "A1"
        for grid in ("A1", "B1"):
            for day in (5, 15):
                add_case(session, grid, datetime(2025, month, day, 9, 0),
                         severity=3 if grid == worst else 1, north_m=1000 + 200 * place)
                place += 1
    session.commit()


def test_a_long_streak_is_counted_back_to_where_it_began(session: Session,
                                                         city: dict[str, int],
                                                         rules: Rules) -> None:
    add_streak_months(session)
    feb = assess_month(session, "2026-02", rules, now=NOW)
    assert [(s.code, s.consecutive_bottom_two) for s in feb.streets if s.group == "第一组"] == [
        (B, 0), (A, LONG_STREAK)]
    # 2025-03: B last for one month (2025-02 had A last); 2025-04: A's run starts again at 1.
    march = assess_month(session, "2025-03", rules, now=NOW)
    assert [(s.code, s.score, s.consecutive_bottom_two) for s in march.streets
            if s.group == "第一组"] == [(A, 99.0, 0), (B, 96.0, 1)]
    assert assess_month(session, "2025-04", rules, now=NOW).street(A).consecutive_bottom_two == 1


def test_a_long_streak_reads_the_same_through_kept_months(
        session: Session, session_factory: sessionmaker[Session], city: dict[str, int],
        rules: Rules) -> None:
    add_streak_months(session)
    kept = KeptMonths(session_factory)
    # Computed and kept at NOW, then read back a minute later: the walk computed February
    # 2026 back to 2025-03 (where the run ends) once each, and the kept months read back are
    # what a fresh computation gives (computed_at included).
    feb = load_month(session, "2026-02", rules, now=NOW, kept=kept)
    assert feb.street(A).consecutive_bottom_two == LONG_STREAK
    session.rollback()
    later = NOW + timedelta(minutes=1)
    assert load_month(session, "2026-02", rules, now=later, kept=kept) == assess_month(
        session, "2026-02", rules, now=later)
    walked = [f"2025-{m:02d}" for m in range(3, 13)] + ["2026-01", "2026-02"]
    assert kept.computed == dict.fromkeys(walked, 1)
    # December and June were computed from the cases of a later chunk of the walk; kept, they
    # read back as they are on their own (December's chain: one 4th occurrence).
    for month in ("2025-12", "2025-06"):
        assert assess_month(session, month, rules, now=later, kept=kept) == assess_month(
            session, month, rules, now=later)
    december = assess_month(session, "2025-12", rules, now=later).street(A)
    assert december is not None and december.repeats_by_occurrence == {4: 1}


def test_a_month_ending_at_now_is_kept(session: Session, session_factory: sessionmaker[Session],
                                       city: dict[str, int], rules: Rules) -> None:
    # January ends at 2-01 00:00: at that instant it is finished, so it is kept.
    kept = KeptMonths(session_factory)
    assess_month(session, "2026-01", rules, now=datetime(2026, 2, 1), kept=kept)
    assert kept.computed == {"2026-01": 1}


def test_a_kept_month_holds_between_the_deadlines_around_its_clock(
        session: Session, session_factory: sessionmaker[Session], city: dict[str, int],
        rules: Rules) -> None:
    # X (1-30, due 2-15, handled late 2-20) is overdue from 2-15 09:00; Y (registered at
    # January's first instant, still open, due NOW + 2 days) from then. Each kept January
    # holds only between the deadlines around the clock it was computed at, so each read
    # below but the second is a computation (3 of them), and each equals a fresh one.
    add_case(session, "B1", datetime(2026, 1, 30, 9, 0), north_m=300,
             deadline=datetime(2026, 2, 15, 9, 0), handled=datetime(2026, 2, 20, 9, 0))
    add_case(session, "B1", datetime(2026, 1, 1, 0, 0), north_m=600,
             deadline=NOW + timedelta(days=2), still_open=True)
    session.commit()
    kept = KeptMonths(session_factory)
    # B's overdue problems: at NOW X (and a minute later, read back: between X's deadline and
    # Y's); 3 days later X and Y; on 2-10 neither.
    for now, overdue in ((NOW, 1), (NOW + timedelta(minutes=1), 1), (NOW + timedelta(days=3), 2),
                         (datetime(2026, 2, 10), 0)):
        jan = assess_month(session, "2026-01", rules, now=now, kept=kept)
        session.rollback()
        assert jan == assess_month(session, "2026-01", rules, now=now)
        b = jan.street(B)
        assert b is not None and b.overdue_problems == overdue
    assert kept.computed == {"2026-01": 3}


def test_a_kept_month_follows_the_areas_and_the_deduction_table(
        session: Session, session_factory: sessionmaker[Session], city: dict[str, int],
        rules: Rules) -> None:
    kept = KeptMonths(session_factory)
    assess_month(session, "2026-01", rules, now=NOW, kept=kept)
    session.rollback()
    # 井盖 becomes an 事件: the default table costs a3 (severity 3) 2, not 1: A 95.0 → 94.0.
    session.execute(update(Category).where(Category.minor == "井盖").values(kind="事件"))
    session.commit()
    a = assess_month(session, "2026-01", rules, now=NOW, kept=kept).street(A)
    assert a is not None and a.score == 94.0
    session.rollback()
    # A street renamed: the kept month names it anew.
    session.execute(update(Area).where(Area.code == A).values(name="甲街道新"))
    session.commit()
    a = assess_month(session, "2026-01", rules, now=NOW, kept=kept).street(A)
    assert a is not None and a.name == "甲街道新"
    assert kept.computed == {"2026-01": 3}


def test_a_published_month_ends_the_walk_with_its_stored_streak(session: Session,
                                                                city: dict[str, int],
                                                                rules: Rules) -> None:
    # 2025-10 published: its streak is 2025-04 … 2025-10 = 7. February 2026 then counts
    # 2026-02, 2026-01, 2025-12, 2025-11 (4) and adds the stored 7: 11, without walking on.
    add_streak_months(session)
    publish_month(session, "2025-10", rules, now=NOW)
    october = publication(session, "2025-10")
    assert october is not None and october.assessment.street(A).consecutive_bottom_two == 7
    feb = assess_month(session, "2026-02", rules, now=NOW)
    assert feb.street(A).consecutive_bottom_two == LONG_STREAK


def test_publish_commits_in_its_own_session_with_the_name_trimmed(
        session: Session, session_factory: sessionmaker[Session], city: dict[str, int],
        rules: Rules) -> None:
    closed = IndicatorSettings(due_convention=CLOSED)
    first = publish(session_factory, "2026-01", rules, now=NOW, by="  张主任 ",
                    indicator_rules=closed)
    assert first.published_by == "张主任"
    assert first.figures == month_figures(session, "2026-01", now=NOW, settings=closed)
    with pytest.raises(PublishError):
        publish(session_factory, "2026-01", rules, now=NOW)
    later = NOW + timedelta(hours=1)
    again = publish(session_factory, "2026-01", rules, now=later, force=True)  # no name
    stored = publication(session, "2026-01")
    assert stored is not None and (stored.published_at, stored.published_by) == (later, "")
    assert again.figures == month_figures(session, "2026-01", now=later)


def test_dirty_months_are_the_finished_unpublished_ones_not_kept(
        session: Session, session_factory: sessionmaker[Session], city: dict[str, int],
        rules: Rules) -> None:
    kept = KeptMonths(session_factory)
    # Nothing kept yet: January and February are dirty once February is over (3-01 00:00),
    # only January a minute before; March is running at NOW.
    assert dirty_months(session, rules, now=datetime(2026, 2, 28, 23, 59), kept=kept) == [
        "2026-01"]
    assert dirty_months(session, rules, now=datetime(2026, 3, 1), kept=kept) == [
        "2026-01", "2026-02"]
    assess_month(session, "2026-02", rules, now=NOW, kept=kept)  # keeps February and January
    session.rollback()
    assert dirty_months(session, rules, now=NOW, kept=kept) == []
    # A January case changes: January is dirty, and February too (its repeat window reads
    # January) — until January is published, which leaves February alone.
    session.execute(update(Case).where(Case.id == city["a1"]).values(severity=3))
    session.commit()
    assert dirty_months(session, rules, now=NOW, kept=kept) == ["2026-01", "2026-02"]
    publish_month(session, "2026-01", rules, now=NOW)
    assert dirty_months(session, rules, now=NOW, kept=kept) == ["2026-02"]
