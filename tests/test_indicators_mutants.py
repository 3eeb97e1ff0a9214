"""Tests that kill mutants bench/mutate.sh found alive in queries/indicators.py.

The rest are listed in docs/mutants.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from queries.indicators import (
    AMBER_FROM,
    NA_REASONS,
    CompositeWeights,
    IndicatorSettings,
    Ratio,
    _area,
    backlog_by_age,
    deadline_light,
    indicator_def,
    indicators,
    indicators_by_area,
    indicators_by_department,
    indicators_grouped,
    na_text,
    repeat_problems,
    score_composite,
    target_light,
)
from queries.models import Area, Case, Department
from queries.periods import parse_period, period_for
from tests.handbuilt import NOVEMBER, OCTOBER, City, build_city, build_handbuilt
from tests.handbuilt_due import Due, case_row


def test_not_applicable_texts_in_both_languages() -> None:
    reason = "no_dispatch_time"
    assert na_text(reason) == "数据源没有派遣时间:案件未记派遣时间即被处置或结案"
    assert na_text(reason, "en") == ("The source records no dispatch times: cases were handled "
                                     "or closed without one")
    assert na_text(reason, "zh") == NA_REASONS[reason][0]


def test_a_not_applicable_ratio_reads_and_explains_itself() -> None:
    ratio = Ratio(3, 4, na_reason="no_dispatch_time")
    assert ratio.text() == "不适用" and ratio.text("en") == "n/a"
    assert ratio.reason() == na_text("no_dispatch_time")
    assert ratio.reason("en") == na_text("no_dispatch_time", "en")
    assert Ratio(3, 4).reason("en") is None
    with pytest.raises(ValueError, match="unknown not-applicable reason 'nope'"):
        Ratio(1, 2, na_reason="nope")


def test_deadline_light_edges() -> None:
    # Dispatched 00:00, due 20:00: 20 h allowed. At 16:00 exactly 0.8 is used (not more) and 4 h
    # are left (more than 2): green; a minute later 0.8008 is used: yellow.
    d, due = datetime(2026, 1, 5, 0, 0), datetime(2026, 1, 5, 20, 0)
    assert deadline_light(datetime(2026, 1, 5, 16, 0), d, due) == "green"
    assert deadline_light(datetime(2026, 1, 5, 16, 1), d, due) == "yellow"
    # Exactly 2 h before the deadline is "due soon"; exactly at it is not yet late.
    assert deadline_light(datetime(2026, 1, 5, 18, 0), datetime(2026, 1, 5, 17, 0), due) == "yellow"
    assert deadline_light(due, d, due) == "yellow"
    assert deadline_light(datetime(2026, 1, 5, 20, 1), d, due) == "red"
    # No dispatch time: nothing to measure the share against, and 10 h left: yellow, not green.
    assert deadline_light(datetime(2026, 1, 5, 10, 0), None, due) == "yellow"
    # No deadline: green whatever the time.
    assert deadline_light(datetime(2026, 1, 5, 10, 0), d, None) == "green"


def test_a_target_score_exactly_at_amber_is_amber() -> None:
    # AMBER_FROM is 0.9: 0.9 itself is amber (not red), just under it red, 1.0 meets the target.
    assert AMBER_FROM == 0.9
    assert target_light(0.9) == "amber"
    assert target_light(0.8999) == "red"
    assert target_light(1.0) == "green"


def test_half_a_second_allowed_is_still_measured() -> None:
    # Dispatched half a second before the deadline, looked at the instant of dispatch, with no
    # due-soon window: 0 of the 0.5 s is used (not more than 0.8), so green; only an allowance of
    # 0 s or less (nothing to measure against) is yellow.
    due = datetime(2026, 1, 5, 20, 0)
    dispatched = due - timedelta(milliseconds=500)
    assert deadline_light(dispatched, dispatched, due, due_soon=timedelta(0)) == "green"
    assert deadline_light(dispatched, due, due, due_soon=timedelta(0)) == "yellow"


def _areas(session: Session) -> dict[str, int]:
    """A district with street 002 (one community, one grid) added before street 001 (none)."""
    square = '{"type":"Polygon","coordinates":[[[0,0],[0,1],[1,1],[0,0]]]}'
    ids: dict[str, int] = {}
    for key, code, level, parent in (("D", "610199", "district", None),
                                     ("S2", "610199002", "street", "D"),
                                     ("C2", "610199002001", "community", "S2"),
                                     ("G2", "61019900200101", "grid", "C2"),
                                     ("S1", "610199001", "street", "D")):
        area = Area(code=code, name=key, level=level, parent_id=ids.get(parent or ""),
                    geometry=square, center_lat=34.27, center_lon=108.95)
        session.add(area)
        session.flush()
        ids[key] = area.id
    session.commit()
    return ids


def test_areas_come_in_code_order_and_a_street_without_grids_has_no_volume_score(
        session: Session) -> None:
    ids = _areas(session)
    now = datetime(2026, 1, 20, 12, 0)
    streets = indicators_by_area(session, period_for("month", now), level="street", now=now)
    assert list(streets) == [ids["S1"], ids["S2"]]  # 001 first, though added second
    # S1 has 0 grids: its composite counts them as 0 and cannot band the volume.
    composite = streets[ids["S1"]].composite
    assert composite is not None and (composite.grids, composite.volume_score) == (0, None)
    grids = streets[ids["S2"]].composite
    assert grids is not None and grids.grids == 1


def test_indicators_by_area_explains_a_bad_level_or_parent(session: Session) -> None:
    ids = _areas(session)
    now = datetime(2026, 1, 20, 12, 0)
    month = period_for("month", now)
    with pytest.raises(ValueError) as refused:
        indicators_by_area(session, month, level="district", now=now)
    assert str(refused.value) == "level must be one of street, community, grid, not 'district'"
    with pytest.raises(ValueError) as refused:
        indicators_by_area(session, month, level="street", parent_id=ids["G2"], now=now)
    assert str(refused.value) == "a grid has no street below it"
    with pytest.raises(LookupError) as missing:
        _area(session, 999_999)
    assert missing.value.args == ("no area with id 999999",)


# --- 2026-12-03, second round: the rest of queries/indicators.py ----------------------------


def test_a_repeat_registered_at_a_months_first_instant_is_that_months(session: Session) -> None:
    # Case 20 (G2, a repeat of 7) moved from 11-01 00:10 to exactly 11-01 00:00, the end of
    # October and the start of November (periods are half-open): still November's, so October
    # keeps its 4 (19 7 17 18) and November its 6 (21 20 29 22 33 25).
    hb = build_handbuilt(session)
    session.execute(update(Case).where(Case.id == hb.cases[20])
                    .values(registered_at=datetime(2026, 11, 1, 0, 0)))
    session.commit()
    assert repeat_problems(session, OCTOBER) == 4
    assert repeat_problems(session, NOVEMBER) == 6


def test_backlog_bands_at_their_exact_edges(session: Session) -> None:
    # As of 2027-06-01 00:00, four open cases of G1 (tests/handbuilt_due.py's rows):
    # - "AT" registered at that very instant: not yet registered *before* it, so not open;
    # - "D30" registered 05-02 00:00, exactly 30 days before: in 8–30 (the band is inclusive);
    # - "D90" registered 03-03 00:00, exactly 90 days before (06-01 − 31 − 30 − 29 days): in
    #   31–90, and not also in > 90;
    # - "C" registered 05-31 12:00 and closed at the instant itself: still open then (≤ 7).
    # Buckets ≤7 8–30 31–90 >90 = 1 1 1 0, total 3.
    city = build_city(session)
    rows = [case_row(city, spec) for spec in (
        Due("AT", "06-01 00:00", None), Due("D30", "05-02 00:00", None),
        Due("D90", "03-03 00:00", None), Due("C", "05-31 12:00", None, closed="06-01 00:00"))]
    session.execute(insert(Case), rows)
    session.commit()
    as_of = datetime(2027, 6, 1, 0, 0)
    backlog = backlog_by_age(session, as_of=as_of)
    assert [b.count for b in backlog.buckets] == [1, 1, 1, 0]
    assert backlog.total == 3
    assert backlog.as_of == as_of


def test_the_composite_bands_the_volume_by_its_own_settings() -> None:
    # 3 registered in 1 grid: 3 per grid. The default bands give 75.0 (3 ≤ 4); one band
    # (≤ 10 → 50.0) gives 50.0, and the total uses it: 0.1·100 + 0.2·50 + 0.3·100 + 0.4·100 = 90,
    # graded by the same settings: below their only bound (95 → A), so E (the default says A).
    rules = IndicatorSettings(volume_bands=((10, 50.0),), grades=((95.0, "A"),))
    full = Ratio(1, 1)
    composite = score_composite(public_report_rate=Ratio(0, 1), registered=3, grids=1,
                                close_rate=full, ontime_close_rate=full, settings=rules)
    assert composite.volume_score == 50.0
    assert composite.total == 90.0
    assert composite.grade == "E"


def test_the_composite_total_is_rounded_to_six_decimals() -> None:
    # 监督举报率 1/3 scores 100·(1 − 1/3) = 66.666…; no cases registered (band ≤ 0 → 100) and
    # both closure rates 1/1 (100): 6.6666… + 20 + 30 + 40 = 96.6666…, kept as 96.666667.
    full = Ratio(1, 1)
    composite = score_composite(public_report_rate=Ratio(1, 3), registered=0, grids=1,
                                close_rate=full, ontime_close_rate=full)
    assert composite.total == 96.666667


# April 2027 is running: NOW_APRIL is 04-10 12:00, so every figure is taken at it (as of).
NOW_APRIL = datetime(2027, 4, 10, 12, 0)
APRIL = parse_period("2027-04", NOW_APRIL)


def _edge_cases(session: Session) -> None:
    """Cases of G1 at the edges of April, as of NOW_APRIL (tests/handbuilt_due.py's rows:
    reported 10 minutes before registration, dispatched 10 after, handled an hour before the
    closure unless given):

    X  registered 04-02 09:00, closed 04-03 09:00, then cancelled 04-03 10:00
    E  registered 03-20 09:00, due 03-22 09:00, closed at NOW_APRIL itself
    S  registered 03-30 09:00, closed at April's first instant (04-01 00:00)
    P  registered 03-25 09:00, closed 03-28 09:00 (before April)
    H  registered 04-05 09:00, due 04-06 09:00, handled at NOW_APRIL itself, not closed
    C  registered 04-05 10:00, due 04-06 10:00, handled 04-10 11:00, closed at NOW_APRIL
    D1 registered 04-10 11:50 (10 minutes before now), dispatched 11:55, no deadline
    D2 registered 04-10 11:30 (exactly the 30-minute dispatch limit before now), not dispatched
    """
    city = build_city(session)
    specs = {
        "X": Due("X", "04-02 09:00", None, closed="04-03 09:00", cancelled="04-03 10:00"),
        "E": Due("E", "03-20 09:00", "03-22 09:00", closed="04-10 12:00"),
        "S": Due("S", "03-30 09:00", None, closed="04-01 00:00"),
        "P": Due("P", "03-25 09:00", None, closed="03-28 09:00"),
        "H": Due("H", "04-05 09:00", "04-06 09:00", handled="04-10 12:00"),
        "C": Due("C", "04-05 10:00", "04-06 10:00", closed="04-10 12:00",
                 handled="04-10 11:00"),
        "D1": Due("D1", "04-10 11:50", None),
        "D2": Due("D2", "04-10 11:30", None),
    }
    rows = {name: case_row(city, spec) for name, spec in specs.items()}
    rows["D1"]["dispatched_at"] = datetime(2027, 4, 10, 11, 55)
    rows["D2"]["dispatched_at"] = None
    session.execute(insert(Case), list(rows.values()))
    session.commit()


def test_the_bulletin_figures_at_the_edges_of_a_running_month(session: Session) -> None:
    _edge_cases(session)
    s = indicators(session, APRIL, now=NOW_APRIL)
    # 结案数: closed in [04-01 00:00, now) and not cancelled: S only (X was cancelled; C and E
    # close at now itself, not before it).
    assert s.closed == 1
    # Kept registrations of April: H C D1 D2 (X cancelled). 应结案 (closed, or past the
    # deadline, before now): H and C, both past their deadlines.
    assert s.due == 2
    # Of those, handled before now: C (H is handled at now itself); closed before now: none
    # (C closes at now).
    assert (s.handle_rate.numerator, s.handle_rate.denominator) == (1, 2)
    assert (s.close_rate.numerator, s.close_rate.denominator) == (0, 2)
    # 超期未结案: registered before now, not closed before now, past the deadline: E and C
    # (closed at now itself: still open then) and H.
    assert s.open_overdue == 3
    # 应派遣: kept and dispatched (H C D1), or registered at least 30 minutes ago (D2, exactly).
    assert s.to_dispatch == 4


def test_the_311_due_set_is_the_closures_of_the_period_up_to_now(session: Session) -> None:
    _edge_cases(session)
    s = indicators(session, APRIL, now=NOW_APRIL,
                   settings=IndicatorSettings(due_convention="closed"))
    # Closed in [04-01 00:00, now), not cancelled: S (at the first instant). Not X (cancelled),
    # P (March), E and C (at now itself).
    assert s.due == 1


def test_a_case_registered_at_a_months_end_is_not_open_in_that_month(session: Session) -> None:
    # March is over: its figures are taken at 04-01 00:00. The only case is registered at that
    # very instant (dispatched 00:10, no deadline): not registered *before* it, so not open in
    # March, and March has no case to judge overdue at all: 超期未结案 is 0 and applicable. Were
    # it counted open, it would be a case past dispatch without a deadline: "no_deadline".
    city = build_city(session)
    session.execute(insert(Case), [case_row(city, Due("R", "04-01 00:00", None))])
    session.commit()
    s = indicators(session, parse_period("2027-03", NOW_APRIL), now=NOW_APRIL)
    assert s.open_overdue == 0
    assert s.na_reason("open_overdue") is None


def test_registrations_across_a_month_boundary_are_judged_in_both_months(
        session: Session) -> None:
    # "Registration time copies the report time" looks at the cases reported *or* registered
    # in the period. Q1 (03-10 09:00) and Q4 (04-05 09:00) were registered at their report
    # time; Q2 was reported 03-31 23:50 and registered 04-01 00:10, a step of its own.
    # March: reported Q1 Q2, registered Q1: Q2 has its own time, so 立案率 is applicable.
    # April: reported Q4, registered Q2 Q4: again Q2's own time keeps it applicable.
    city = build_city(session)
    rows = [case_row(city, Due(name, reg, None))
            for name, reg in (("Q1", "03-10 09:00"), ("Q2", "04-01 00:10"), ("Q4", "04-05 09:00"))]
    rows[0]["reported_at"] = rows[0]["registered_at"]
    rows[1]["reported_at"] = datetime(2027, 3, 31, 23, 50)
    rows[2]["reported_at"] = rows[2]["registered_at"]
    session.execute(insert(Case), rows)
    session.commit()
    for month in ("2027-03", "2027-04"):
        s = indicators(session, parse_period(month, NOW_APRIL), now=NOW_APRIL)
        assert s.register_rate.na_reason is None, month
        assert s.ontime_register_rate.na_reason is None, month


def test_a_case_handled_without_a_dispatch_time_is_not_timed(session: Session) -> None:
    # April, as of NOW_APRIL: T1 dispatched 04-02 09:10 and handled 11:10 (2 h); T2 handled
    # 04-03 10:00 with no dispatch time. Only T1 is timed: a mean of 2.0 hours over 1 case.
    city = build_city(session)
    rows = [case_row(city, Due("T1", "04-02 09:00", None, handled="04-02 11:10")),
            case_row(city, Due("T2", "04-03 09:00", None, handled="04-03 10:00"))]
    rows[1]["dispatched_at"] = None
    session.execute(insert(Case), rows)
    session.commit()
    s = indicators(session, APRIL, now=NOW_APRIL)
    assert s.handled == 2
    assert s.handling_timed == 1
    assert s.avg_handling_hours == 2.0


def test_half_a_minute_over_a_limit_is_late_and_30_days_is_not_over_30(session: Session) -> None:
    # March is over (as of 04-01 00:00). L1 was reported 03-05 09:00, registered 10:00:30
    # (60 min 30 s later: the limit is 60 min) and dispatched 10:31:00 (30 min 30 s after that:
    # the limit is 30 min): late twice. B30 was registered 03-02 00:00, exactly 30 days before
    # 04-01 00:00 (reported 10 minutes before, dispatched 10 minutes after: on time), and is
    # still open: 积案 > 30 天 wants more than 30 days, so it is not counted.
    city = build_city(session)
    late = case_row(city, Due("L1", "03-05 10:00", None))
    late.update(reported_at=datetime(2027, 3, 5, 9, 0),
                registered_at=datetime(2027, 3, 5, 10, 0, 30),
                dispatched_at=datetime(2027, 3, 5, 10, 31, 0))
    session.execute(insert(Case), [late, case_row(city, Due("B30", "03-02 00:00", None))])
    session.commit()
    s = indicators(session, parse_period("2027-03", NOW_APRIL), now=NOW_APRIL)
    assert (s.ontime_register_rate.numerator, s.ontime_register_rate.denominator) == (1, 2)
    assert (s.ontime_dispatch_rate.numerator, s.ontime_dispatch_rate.denominator) == (1, 2)
    assert s.backlog_over_30 == 0


def test_copied_times_are_judged_on_the_periods_own_cases(session: Session) -> None:
    # April, as of NOW_APRIL. K1 was reported, registered and dispatched at the same instant
    # (04-03 09:00): the source has neither a registration nor a dispatch step of its own. O1,
    # a March case still open (reported 03-01 09:00, registered 09:10, dispatched 09:20), is
    # read for April's backlog but is none of April's registrations: its own steps do not
    # make April's copies real.
    city = build_city(session)
    copy = case_row(city, Due("K1", "04-03 09:00", None, handled="04-03 12:00"))
    copy.update(reported_at=copy["registered_at"], dispatched_at=copy["registered_at"])
    session.execute(insert(Case), [copy, case_row(city, Due("O1", "03-01 09:10", None))])
    session.commit()
    s = indicators(session, APRIL, now=NOW_APRIL)
    assert s.register_rate.na_reason == "register_time_is_report_time"
    assert s.ontime_dispatch_rate.na_reason == "dispatch_time_is_registration_time"


def test_a_report_dispatched_or_handled_without_registration_lacks_it(
        session: Session) -> None:
    # Two reports never registered: A (03-10 09:00) was dispatched 09:30, nothing else; B
    # (04-03 09:00) was handled 10:00, nothing else. Each month's only case went past
    # registration without a registration time: 立案率 is not applicable in March or April.
    city = build_city(session)
    a = case_row(city, Due("A", "03-10 09:10", None))
    a.update(registered_at=None, dispatched_at=datetime(2027, 3, 10, 9, 30))
    b = case_row(city, Due("B", "04-03 09:10", None, handled="04-03 10:00"))
    b.update(registered_at=None, dispatched_at=None)
    session.execute(insert(Case), [a, b])
    session.commit()
    for month in ("2027-03", "2027-04"):
        s = indicators(session, parse_period(month, NOW_APRIL), now=NOW_APRIL)
        assert s.register_rate.na_reason == "no_register_time", month


def _insert(session: Session, *specs: Due, **changes: dict[str, Any]) -> City:
    """Insert G1 cases of tests/handbuilt_due.py's form, with column changes by case name."""
    city = build_city(session)
    rows = []
    for spec in specs:
        row = case_row(city, spec)
        row.update(changes.get(spec.name, {}))
        rows.append(row)
    session.execute(insert(Case), rows)
    session.commit()
    return city


def test_some_known_times_keep_handling_and_deadlines_applicable(session: Session) -> None:
    # April, as of NOW_APRIL. H1 and H2 were registered 04-02, both closed 04-02 16:00 before
    # their deadlines of 04-03: both due. H1 has a handling time (15:00), H2 none; N2
    # (registered 04-04 09:00, dispatched, open) has no deadline. Some due case has a handling
    # time and some case in scope of 超期未结案 has a deadline: nothing is "not applicable".
    _insert(session,
            Due("H1", "04-02 09:00", "04-03 09:00", closed="04-02 16:00", handled="04-02 15:00"),
            Due("H2", "04-02 10:00", "04-03 10:00", closed="04-02 16:00"),
            Due("N2", "04-04 09:00", None),
            H2={"handled_at": None})
    s = indicators(session, APRIL, now=NOW_APRIL)
    assert s.due == 2
    assert s.handle_rate.na_reason is None
    assert s.na_reason("open_overdue") is None


def test_only_the_due_cases_say_whether_handling_times_and_deadlines_exist(
        session: Session) -> None:
    # April, as of NOW_APRIL. Z1 (registered 04-02 09:00, no deadline, closed 16:00 without a
    # handling time) is April's only due case. Z2, a March case (registered 03-20, due 03-25,
    # handled 04-03 09:00, still open), has both a handling time and a deadline, but is not
    # due in April (the bulletin convention's set is April's registrations). So for April:
    # handling times are missing (处置率 says so first) and deadlines are missing (按期结案率).
    _insert(session,
            Due("Z1", "04-02 09:00", None, closed="04-02 16:00"),
            Due("Z2", "03-20 09:00", "03-25 09:00", handled="04-03 09:00"),
            Z1={"handled_at": None})
    s = indicators(session, APRIL, now=NOW_APRIL)
    assert s.due == 1
    assert s.handle_rate.na_reason == "no_handling_time"
    assert s.ontime_close_rate.na_reason == "no_deadline"


def test_handling_is_missing_only_for_a_due_case_closed_without_it(session: Session) -> None:
    # April, as of NOW_APRIL. Y1 (registered 04-02 09:00, due 04-03 09:00, neither handled nor
    # closed) is due, being past its deadline, but has not got to handling; Y2, a March case
    # (registered 03-20) closed 04-02 10:00 without a handling time, is not due in April.
    # No due case was closed without a handling time: 处置率 is applicable (0 of 1).
    _insert(session,
            Due("Y1", "04-02 09:00", "04-03 09:00"),
            Due("Y2", "03-20 09:00", None, closed="04-02 10:00"),
            Y2={"handled_at": None})
    s = indicators(session, APRIL, now=NOW_APRIL)
    assert (s.handle_rate.numerator, s.handle_rate.denominator) == (0, 1)
    assert s.handle_rate.na_reason is None


def test_a_cancelled_cases_deadline_does_not_judge_open_overdue(session: Session) -> None:
    # April, as of NOW_APRIL. W1 (registered 04-02 09:00, dispatched, no deadline) is open; W2
    # (registered 04-03 09:00, due 04-04 09:00) was cancelled 04-03 12:00. Of the cases 超期未结案
    # looks at (open, or closed in April, and not cancelled) none has a deadline though W1 went
    # past dispatch: not applicable, whatever the cancelled case had.
    _insert(session,
            Due("W1", "04-02 09:00", None),
            Due("W2", "04-03 09:00", "04-04 09:00", cancelled="04-03 12:00"))
    s = indicators(session, APRIL, now=NOW_APRIL)
    assert s.na_reason("open_overdue") == "no_deadline"


def test_a_case_handled_without_a_deadline_leaves_open_overdue_unjudged(
        session: Session) -> None:
    # April, as of NOW_APRIL: one case, registered 04-02 09:00, never dispatched, handled 04-03
    # 09:00 and still open, with no deadline. It went past dispatch without one: 超期未结案 is
    # not applicable (the handling time alone shows it).
    _insert(session, Due("V1", "04-02 09:00", None, handled="04-03 09:00"),
            V1={"dispatched_at": None})
    s = indicators(session, APRIL, now=NOW_APRIL)
    assert s.na_reason("open_overdue") == "no_deadline"


def test_every_case_a_measure_counts_is_read(session: Session) -> None:
    # The query first keeps the cases any measure needs; each of these is needed by one term.
    # April, as of NOW_APRIL:
    # - R2, reported 03-31 23:50, registered 04-01 00:10 and cancelled 08:00 (never dispatched
    #   or closed): April's 立案数 and 作废数 (1 each), and nothing else of April.
    # - O2, reported 03-20 09:00, registered 09:10 and closed 03-28, then dispatched 04-02
    #   (handled 03-27), and O3, the same but dispatched 03-20 09:20 and handled 04-03 (the
    #   importer checks times only against the report time): April's 派遣数 (O2) and 处置数
    #   (O3), 1 each. Under the 311 convention April's 应结案 are its closures, F1 and F2
    #   below, not O2 or O3 (closed in March).
    # March, as of 04-01 00:00 (F1, F2 registered, due and handled in February):
    # - F1 closed at 04-01 00:00 itself, F2 closed 04-05: both still open at March's end and
    #   past their deadlines, so 超期未结案 is 2. O2 and O3 (closed 03-28) were not open then.
    _insert(session,
            Due("R2", "04-01 00:10", None, cancelled="04-01 08:00"),
            Due("O2", "03-20 09:10", None, closed="03-28 09:00"),
            Due("O3", "03-20 09:10", None, closed="03-28 09:00"),
            Due("F1", "02-10 09:00", "02-12 09:00", closed="04-01 00:00", handled="02-11 09:00"),
            Due("F2", "02-15 09:00", "02-17 09:00", closed="04-05 09:00", handled="02-16 09:00"),
            R2={"reported_at": datetime(2027, 3, 31, 23, 50), "dispatched_at": None},
            O2={"dispatched_at": datetime(2027, 4, 2, 9, 0),
                "handled_at": datetime(2027, 3, 27, 9, 0)},
            O3={"handled_at": datetime(2027, 4, 3, 9, 0)})
    april = indicators(session, APRIL, now=NOW_APRIL)
    assert (april.registered, april.cancelled) == (1, 1)
    assert (april.dispatched, april.handled) == (1, 1)
    closures = indicators(session, APRIL, now=NOW_APRIL,
                          settings=IndicatorSettings(due_convention="closed"))
    assert closures.due == 2
    march = indicators(session, parse_period("2027-03", NOW_APRIL), now=NOW_APRIL)
    assert march.open_overdue == 2


def test_the_composite_of_indicators_follows_the_settings_passed_in(session: Session) -> None:
    # The hand-built city's areas, no cases: the district's 5 grids registered 0 cases, 0 per
    # grid. The default bands score that 100.0; a single band (≤ 0 → 10.0) scores it 10.0.
    build_city(session)
    session.commit()
    rules = IndicatorSettings(volume_bands=((0, 10.0),))
    composite = indicators(session, APRIL, now=NOW_APRIL, settings=rules).composite
    assert composite is not None
    assert (composite.grids, composite.volume_score) == (5, 10.0)


def test_a_group_with_no_case_of_the_period_is_left_out(session: Session) -> None:
    # April, as of NOW_APRIL, grouped by department: G3 (环卫, registered 04-02 09:00, open)
    # is April's; G1 (城管执法, registered and closed in March) is none of April's figures, so
    # 城管执法 has no group at all.
    city = _insert(session, Due("G3", "04-02 09:00", None),
                   Due("G1", "03-02 09:00", None, closed="03-03 09:00"))
    session.execute(update(Case).where(Case.external_id == "DUE-G1")
                    .values(department_id=city.departments["D1"]))
    session.commit()
    groups = indicators_grouped(session, APRIL, group=Case.department_id, where=[],
                                now=NOW_APRIL)
    assert list(groups) == [city.departments["D3"]]
    assert groups[city.departments["D3"]].registered == 1


def test_departments_come_in_code_order_even_without_cases(session: Session) -> None:
    # The hand-built departments BM01 BM02 BM03, then BM00 added last with no case at all:
    # BM00 comes first (code order, not insertion order) with all-zero figures.
    city = _insert(session, Due("G3", "04-02 09:00", None))
    first = Department(code="BM00", name="园林")
    session.add(first)
    session.commit()
    by_department = indicators_by_department(session, APRIL, now=NOW_APRIL)
    d = city.departments
    assert list(by_department) == [first.id, d["D1"], d["D2"], d["D3"]]
    assert by_department[first.id].registered == 0
    assert by_department[d["D3"]].registered == 1


def test_indicator_settings_say_what_is_wrong() -> None:
    with pytest.raises(ValueError) as refused:
        IndicatorSettings(due_convention="weekly")  # type: ignore[arg-type]
    assert str(refused.value) == "due_convention must be one of bulletin, closed, not 'weekly'"
    # Backlog bounds rise from above 0: none at all, or a bound of 0, is refused; 1 day is the
    # smallest accepted.
    for bounds in ((), (0, 7)):
        with pytest.raises(ValueError) as refused:
            IndicatorSettings(backlog_bounds_days=bounds)
        assert str(refused.value) == f"backlog_bounds_days must rise from above 0, not {bounds!r}"
    assert IndicatorSettings(backlog_bounds_days=(1, 7)).backlog_bounds_days == (1, 7)


def test_composite_weights_say_what_they_sum_to() -> None:
    # 0 + 0 + 0 + 0.5 = 0.5, exactly in binary.
    with pytest.raises(ValueError) as refused:
        CompositeWeights(public_report_rate=0.0, registered=0.0, close_rate=0.0,
                         ontime_close_rate=0.5)
    assert str(refused.value) == "composite weights must sum to 1, not 0.5"


def test_indicator_labels_in_both_languages() -> None:
    # The names of the table in queries/indicators.py: 结案率 is "Closure rate" in English;
    # every language but "en" reads Chinese.
    close_rate = indicator_def("close_rate")
    assert close_rate.label("en") == "Closure rate"
    assert close_rate.label("zh") == "结案率"
    assert close_rate.label("fr") == "结案率"
    assert indicator_def("repeats").label("en") == "Repeat problems"
