"""The two 应结案 conventions, 积案 by age, and "no data is not zero", worked out by hand.

The cases are in tests/handbuilt_due.py (read its table first); the bulletin check and the
"2.38% for a day" backlog are built here from literal counts. May is over, so its figures are
taken at its end (06-01 00:00); June runs, so at NOW (06-10 12:00).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields, replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session, sessionmaker

from dashboard.deck.build import kpi_texts
from dashboard.grids.view import indicator_parts, indicator_text, row
from dashboard.tiles import hover_text, value_text
from queries.engine import init_db, make_engine, make_session_factory
from queries.grid_view import AreaRef
from queries.indicators import (
    BULLETIN,
    CLOSED,
    NA_REASONS,
    IndicatorSet,
    IndicatorSettings,
    Ratio,
    backlog_by_age,
    indicators,
    value_of,
)
from queries.models import SOURCE_PATROL, STATUS_CLOSED, STATUS_HANDLING, STATUS_REPORTED, Case
from queries.periods import parse_period
from settings import Settings, SettingsError
from snapshot.build import DayFigures, tile_entries
from tests.handbuilt import City, build_city
from tests.handbuilt_due import JUNE, MAY, NOW, build_due_city

BULLETIN_RULES = IndicatorSettings(due_convention=BULLETIN)
CLOSED_RULES = IndicatorSettings(due_convention=CLOSED)


@pytest.fixture(scope="module")
def due_city(shared_database_url: str) -> Iterator[tuple[Session, City]]:
    """The cases of tests/handbuilt_due.py (in memory on SQLite), shared read-only here."""
    engine = make_engine(shared_database_url)
    init_db(engine)
    with make_session_factory(engine)() as session:
        city = build_due_city(session)
        session.commit()
        yield session, city
    engine.dispose()


def parts(r: Ratio) -> tuple[int, int]:
    return r.numerator, r.denominator


# --- The bulletin convention ----------------------------------------------------------------


def test_bulletin_may(due_city: tuple[Session, City]) -> None:
    db, _ = due_city
    s = indicators(db, MAY, now=NOW, settings=BULLETIN_RULES)
    # May's kept registrations: M1 M2 M3 M4 M5 M6 J1 (X1 cancelled). Closed, or past the
    # deadline, by 06-01 00:00: M1 M2 M5 (closed) and M3 (due 05-22, open) = 4. M4 (due 06-03)
    # and M6 (due 06-05) are not due yet; J1 closed at 06-01 09:00, after the end, due 10:00.
    # The backlog B1 B2 and April's A1 A2 are not May's registrations.
    assert (s.registered, s.due, s.closed) == (8, 4, 5)  # 立案 M1–M6 J1 X1; 结案 A1 A2 M1 M2 M5
    assert parts(s.close_rate) == (3, 4) and s.close_rate.text() == "75.00%"  # M1 M2 M5
    assert parts(s.ontime_close_rate) == (2, 4)  # M1; M5 has no deadline (none to miss)
    assert s.ontime_close_rate.text() == "50.00%"
    assert parts(s.overdue_close_rate) == (1, 4)  # M2
    assert parts(s.handle_rate) == (3, 4)  # M1 M2 M5 handled by the end
    assert parts(s.ontime_handle_rate) == (2, 4)  # M1 M5
    assert parts(s.overdue_handle_rate) == (1, 4)  # M2
    # The backlog as its own indicators: open at 06-01 00:00 past the deadline: B2 B1 M3;
    # open and registered more than 30 days before the end (before 05-02 00:00): B2 B1.
    assert (s.open_overdue, s.backlog_over_30) == (3, 2)
    assert all(r.applicable for r in _ratios(s))


def test_bulletin_june_while_it_runs(due_city: tuple[Session, City]) -> None:
    db, _ = due_city
    s = indicators(db, JUNE, now=NOW, settings=BULLETIN_RULES)
    # June's registrations J2 (closed on time 06-03) and J3 (due 06-11, after NOW): D = J2.
    # J1 is May's registration, so its June closure counts in 结案数 but not in June's D.
    assert (s.registered, s.due, s.closed) == (2, 1, 2)
    assert parts(s.ontime_close_rate) == (1, 1)
    # Open at NOW past the deadline: B2 B1 M3 M4 (due 06-03) M6 (due 06-05) = 5; older than
    # 30 days (registered before 05-11 12:00): B2 B1.
    assert (s.open_overdue, s.backlog_over_30) == (5, 2)


def test_the_old_rule_would_have_sunk_may(due_city: tuple[Session, City]) -> None:
    # Until this round D also held every case handled in the period and every open case past
    # its deadline: May's set was M1 M2 M3 A1 A2 M5 M6 B1 B2 = 9 with 3 on time (M1 A2 M5) =
    # 33.33%. The bulletin convention reads 50.00% (above) and the backlog B1 B2 M3 shows as
    # 超期未结案 3 instead. This test pins that the backlog cannot enter May's D.
    db, _ = due_city
    s = indicators(db, MAY, now=NOW, settings=BULLETIN_RULES)
    assert s.due == 4 and s.ontime_close_rate.text() != "33.33%"


# --- The 311 (closed) convention --------------------------------------------------------------


def test_closed_convention_may(due_city: tuple[Session, City]) -> None:
    db, _ = due_city
    s = indicators(db, MAY, now=NOW, settings=CLOSED_RULES)
    # D = closed in May: A1 A2 M1 M2 M5 = 5, whenever registered. On time: A2 and M5 (no
    # deadline: on time, as 311 systems flag it) and M1 = 3 → 60.00%; late A1 M2 = 2.
    assert (s.due, s.closed) == (5, 5)
    assert parts(s.ontime_close_rate) == (3, 5) and s.ontime_close_rate.text() == "60.00%"
    assert parts(s.overdue_close_rate) == (2, 5) and s.overdue_close_rate.text() == "40.00%"
    # Handling against the deadline: A1 (05-06 08:00 > 04-28) and M2 late; A2 M1 M5 on time.
    assert parts(s.ontime_handle_rate) == (3, 5) and parts(s.overdue_handle_rate) == (2, 5)
    # Every case of D is closed by definition: 结案率 and 处置率 would read 100%, so they are
    # not applicable, and the composite (whose 结案率 term is one of them) has no total.
    assert parts(s.close_rate) == (5, 5) and s.close_rate.na_reason == "closed_convention"
    assert s.handle_rate.na_reason == "closed_convention"
    assert s.close_rate.text() == "不适用" and s.close_rate.text("en") == "n/a"
    assert s.composite is not None and s.composite.total is None
    # The backlog indicators do not depend on the convention.
    assert (s.open_overdue, s.backlog_over_30) == (3, 2)


def test_closed_convention_june_while_it_runs(due_city: tuple[Session, City]) -> None:
    db, _ = due_city
    s = indicators(db, JUNE, now=NOW, settings=CLOSED_RULES)
    # Closed in June by NOW: J1 (06-01 09:00, due 10:00) and J2, both on time.
    assert s.due == 2 and parts(s.ontime_close_rate) == (2, 2)


# --- 积案 by age ------------------------------------------------------------------------------


def test_backlog_by_age_at_may_end(due_city: tuple[Session, City]) -> None:
    db, city = due_city
    backlog = backlog_by_age(db, as_of=MAY.end)
    # Open at 06-01 00:00 (registered before, not closed by then, not cancelled): B2 B1 M3 M4
    # M6 J1 (closed 06-01 09:00, after the moment) = 6. Days since registration: B2 147.6,
    # B1 51.6, M3 11.6, M4 1.6, M6 exactly 7 (the band "≤ 7" includes it), J1 0.04.
    assert backlog.total == 6
    assert [(b.label("zh"), b.count) for b in backlog.buckets] == [
        ("≤7天", 3), ("8–30天", 1), ("31–90天", 1), (">90天", 1)]
    assert [b.label("en") for b in backlog.buckets] == [
        "≤ 7 days", "8–30 days", "31–90 days", "> 90 days"]
    # The indicator counts the two bands above 30 days, the same cases.
    assert indicators(db, MAY, now=NOW).backlog_over_30 == sum(
        b.count for b in backlog.buckets if b.above_days >= 30)
    assert backlog_by_age(db, as_of=MAY.end, area_id=city.areas["S2"]).total == 0  # all in G1


def test_backlog_by_age_now_and_custom_bands(due_city: tuple[Session, City]) -> None:
    db, city = due_city
    # At NOW (06-10 12:00): open B2 B1 M3 M4 M6 J3 (J1 J2 closed). Days: B2 156, B1 61, M3 21,
    # M4 11, M6 16.5, J3 1.1.
    backlog = backlog_by_age(db, as_of=NOW, department_id=city.departments["D3"])
    assert [b.count for b in backlog.buckets] == [1, 3, 1, 1]
    wide = backlog_by_age(db, as_of=NOW, settings=IndicatorSettings(backlog_bounds_days=(60,)))
    assert [(b.above_days, b.up_to_days, b.count) for b in wide.buckets] == [
        (0, 60, 4), (60, None, 2)]
    with pytest.raises(ValueError):
        IndicatorSettings(backlog_bounds_days=(30, 7))


# --- The bulletin check (DOMAIN.md §3), with a backlog the old rule let in -------------------


def test_bulletin_check_holds_under_the_bulletin_convention(session: Session) -> None:
    city = build_city(session)
    march = parse_period("2027-03", NOW)
    reported = datetime(2027, 3, 2, 9, 0)
    in_time, late, april = datetime(2027, 3, 20), datetime(2027, 3, 25), datetime(2027, 4, 10)
    # (how many, reported, deadline, closed at): March's 996 registrations: 737 closed on time
    # + 174 late = 911 closed, + 61 open past their deadline = 972 应结案; 24 not due until
    # April. And 50 February cases still open past their deadline: the backlog, which joined
    # March's set under the old rule (1022) and must not now.
    groups = [(737, reported, in_time, datetime(2027, 3, 10)), (174, reported, in_time, late),
              (61, reported, in_time, None), (24, reported, april, None),
              (50, datetime(2027, 2, 3, 9), datetime(2027, 2, 6), None)]
    rows = []
    for how_many, at, deadline, closed in groups:
        rows += [_row(city, len(rows) + i, at, deadline, closed) for i in range(how_many)]
    session.execute(insert(Case), rows)
    s = indicators(session, march, now=datetime(2027, 4, 5), settings=BULLETIN_RULES)
    assert (s.registered, s.due) == (996, 972)
    assert parts(s.close_rate) == (911, 972) and s.close_rate.text() == "93.72%"
    assert parts(s.ontime_close_rate) == (737, 972) and s.ontime_close_rate.text() == "75.82%"
    assert s.open_overdue == 61 + 50  # the backlog shows as its own count
    # The 311 reading of the same month: 737 on time of the 911 closed in March = 80.90%.
    closed = indicators(session, march, now=datetime(2027, 4, 5), settings=CLOSED_RULES)
    assert parts(closed.ontime_close_rate) == (737, 911)
    assert closed.ontime_close_rate.text() == "80.90%"


def test_a_backlog_no_longer_sinks_a_day(session: Session) -> None:
    # The "2.38% for a day": 41 old cases open past their deadline and one case
    # registered today and closed on time. The old rule put all 42 in today's set: 1/42 =
    # 2.38%. Bulletin: today's registrations → 1/1; 311: today's closures → 1/1.
    city = build_city(session)
    day = parse_period("2027-03-15", NOW)
    today = datetime(2027, 3, 15, 9, 0)
    rows = [_row(city, n, datetime(2027, 1, 10), datetime(2027, 1, 12), None) for n in range(41)]
    rows.append(_row(city, 41, today, today + timedelta(hours=8), today + timedelta(hours=2)))
    session.execute(insert(Case), rows)
    for rules in (BULLETIN_RULES, CLOSED_RULES):
        s = indicators(session, day, now=datetime(2027, 3, 16), settings=rules)
        assert parts(s.ontime_close_rate) == (1, 1), rules.due_convention
        assert s.ontime_close_rate.text() == "100.00%"
        assert (s.open_overdue, s.backlog_over_30) == (41, 41)


def _row(city: City, n: int, reported: datetime, deadline: datetime | None,
         closed: datetime | None, **changes: Any) -> dict[str, Any]:
    """A G1 case reported at ``reported``, registered 10 and dispatched 20 minutes later."""
    areas = city.areas
    row_ = {
        "external_id": f"ROW-{n:05d}", "source": SOURCE_PATROL,
        "category_id": city.categories["K3"], "lat": 30.2995, "lon": 120.1005,
        "grid_id": areas["G1"], "community_id": areas["C1"], "street_id": areas["S1"],
        "status": STATUS_CLOSED if closed else STATUS_HANDLING,
        "reported_at": reported, "registered_at": reported + timedelta(minutes=10),
        "dispatched_at": reported + timedelta(minutes=20), "handled_at": closed,
        "closed_at": closed, "deadline_at": deadline,
    }
    row_.update(changes)
    return row_


# --- No data is not zero ----------------------------------------------------------------------

MARCH = parse_period("2027-03", NOW)
AFTER = datetime(2027, 4, 5)
R1 = datetime(2027, 3, 2, 9, 0)


def _ratios(s: IndicatorSet) -> list[Ratio]:
    return [getattr(s, f.name) for f in fields(IndicatorSet) if f.type == "Ratio"]


def _na(s: IndicatorSet) -> dict[str, str]:
    return {f.name: getattr(s, f.name).na_reason for f in fields(IndicatorSet)
            if f.type == "Ratio" and getattr(s, f.name).na_reason is not None}


def test_copied_timestamps_are_not_a_100_percent(session: Session) -> None:
    # A 311-style export loaded with the report time copied into the registration and dispatch
    # times: 3 cases, all closed in March on time. 按时立案率 and 按时派遣率 used to read
    # 100.00% (0 minutes each); they are not applicable, with the reason on hover.
    city = build_city(session)
    rows = [_row(city, n, R1, datetime(2027, 3, 5), datetime(2027, 3, 4), registered_at=R1,
                 dispatched_at=R1) for n in range(3)]
    session.execute(insert(Case), rows)
    s = indicators(session, MARCH, now=AFTER)
    assert _na(s) == {
        "register_rate": "register_time_is_report_time",
        "ontime_register_rate": "register_time_is_report_time",
        "ontime_dispatch_rate": "dispatch_time_is_registration_time",
    }
    rate = s.ontime_register_rate
    assert parts(rate) == (3, 3)  # the counts stay, for the hover
    assert (rate.value, rate.text(), rate.text("en")) == (None, "不适用", "n/a")
    assert rate.reason() == NA_REASONS["register_time_is_report_time"][0]
    assert rate.reason("en") == NA_REASONS["register_time_is_report_time"][1]
    assert s.na_reason("ontime_dispatch_rate") == "dispatch_time_is_registration_time"
    assert value_of(s, "ontime_dispatch_rate") is None
    # The rest is measured: 3 of 3 closed on time; nothing is overdue.
    assert s.ontime_close_rate.text() == "100.00%" and s.na_reason("open_overdue") is None


def test_a_source_without_registration_dispatch_handling_or_deadlines(session: Session) -> None:
    # Only reports and closures: 4 cases reported in March and closed in March, no other time.
    city = build_city(session)
    rows = [_row(city, n, R1, None, datetime(2027, 3, 4), registered_at=None,
                 dispatched_at=None, handled_at=None) for n in range(4)]
    rows.append(_row(city, 4, R1, None, None, registered_at=None, dispatched_at=None,
                     status=STATUS_REPORTED))  # and one still open
    session.execute(insert(Case), rows)
    closed = indicators(session, MARCH, now=AFTER, settings=CLOSED_RULES)
    # 311: D = the 4 closures. Without deadlines each would count "on time" → 100%: n/a.
    # 结案率 and 处置率 are 100% by definition under 311; no handling times for the rest.
    assert closed.due == 4
    assert _na(closed) == {
        "register_rate": "no_register_time", "ontime_register_rate": "no_register_time",
        "accurate_register_rate": "no_register_time", "public_report_rate": "no_register_time",
        "ontime_dispatch_rate": "no_register_time", "accurate_dispatch_rate": "no_register_time",
        "handle_rate": "closed_convention", "ontime_handle_rate": "no_handling_time",
        "overdue_handle_rate": "no_handling_time", "extension_rate": "no_deadline",
        "close_rate": "closed_convention", "ontime_close_rate": "no_deadline",
        "overdue_close_rate": "no_deadline",
    }
    assert parts(closed.ontime_close_rate) == (4, 4)  # what used to show as 100.00%
    assert closed.valid_report_rate.text() == "100.00%"  # reports are measured
    # 超期未结案 counts 0 without any deadline: that count is not applicable either.
    assert closed.na_reason("open_overdue") == "no_deadline"
    assert closed.composite is not None and closed.composite.total is None
    # Bulletin: D is a set of registrations, and there are none to be had: every rate over D
    # says why, instead of "—" for an empty set.
    cohort = indicators(session, MARCH, now=AFTER, settings=BULLETIN_RULES)
    assert cohort.due == 0
    assert cohort.close_rate.na_reason == cohort.rework_rate.na_reason == "no_register_time"
    assert cohort.ontime_close_rate.text("en") == "n/a"


def test_no_deadlines_under_the_bulletin_convention(session: Session) -> None:
    # Every stage recorded but no deadline: D holds only the closed cases (2), so 结案率 would
    # be 100% by construction and 按期 undefined: n/a. 返工率 over the closed cohort stays.
    city = build_city(session)
    rows = [_row(city, n, R1, None, datetime(2027, 3, 4)) for n in range(2)]
    rows.append(_row(city, 2, R1, None, None))  # dispatched, open, no deadline
    session.execute(insert(Case), rows)
    s = indicators(session, MARCH, now=AFTER, settings=BULLETIN_RULES)
    assert s.due == 2
    assert _na(s) == {"handle_rate": "no_deadline", "ontime_handle_rate": "no_deadline",
                      "overdue_handle_rate": "no_deadline", "extension_rate": "no_deadline",
                      "close_rate": "no_deadline", "ontime_close_rate": "no_deadline",
                      "overdue_close_rate": "no_deadline"}
    assert s.rework_rate.text() == "0.00%" and s.ontime_dispatch_rate.text() == "100.00%"
    assert s.na_reason("open_overdue") == "no_deadline"


def test_nothing_past_the_report_yet_is_a_real_figure(session: Session) -> None:
    # Two reports this morning, neither registered yet: nothing went past 上报 without a
    # registration time, so nothing says the source lacks one. 立案率 is 0/2 = 0.00% so far,
    # and 按时立案率 has no registration to judge: "—".
    city = build_city(session)
    rows = [_row(city, n, R1, None, None, registered_at=None, dispatched_at=None,
                 status=STATUS_REPORTED) for n in range(2)]
    session.execute(insert(Case), rows)
    s = indicators(session, MARCH, now=R1 + timedelta(hours=1))
    assert _na(s) == {}
    assert (s.register_rate.text(), s.ontime_register_rate.text()) == ("0.00%", "—")


def test_not_applicable_reaches_every_consumer(session: Session) -> None:
    # The grid page, the wall's tiles and the deck read a not-applicable rate as "不适用"
    # (never a number) and do not fail on it.
    city = build_city(session)
    rows = [_row(city, n, R1, None, datetime(2027, 3, 4), registered_at=None,
                 dispatched_at=None, handled_at=None) for n in range(2)]
    session.execute(insert(Case), rows)
    s = indicators(session, MARCH, now=AFTER, settings=CLOSED_RULES)
    assert indicator_text(s, "ontime_close_rate") == "不适用"
    assert indicator_text(s, "open_overdue", "en") == "n/a"  # a count without deadlines
    assert indicator_parts(s, "ontime_close_rate", "en") == (
        f"{NA_REASONS['no_deadline'][1]} · 2 / 2")
    line = row(AreaRef(1, "330199", "示范区", "district"), s, "en")
    assert (line["ontime_close_rate"], line["ontime_close_rate__t"]) == (None, "n/a")
    figures = DayFigures(s, repeats=0)
    tile = {t["key"]: t for t in tile_entries([figures] * 3, [figures] * 2,
                                              {"ontime_close_rate": 0.95})}["ontime_close_rate"]
    assert (tile["na"], tile["value"], tile["light"]) == ("no_deadline", None, None)
    assert (value_text(tile), value_text(tile, "en")) == ("不适用", "n/a")
    assert NA_REASONS["no_deadline"][0] in hover_text(tile, "zh")
    assert kpi_texts("ontime_close_rate", s, s)[0] == "不适用"
    assert kpi_texts("close_rate", s, s)[2] is None


def test_ratio_rejects_an_unknown_reason() -> None:
    with pytest.raises(ValueError, match="reason"):
        Ratio(1, 2, "because")
    assert replace(Ratio(1, 2), na_reason="no_deadline").value is None


# --- The setting --------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "convention"),
                         [(None, BULLETIN), ("bulletin", BULLETIN), ("closed", CLOSED),
                          ("311", CLOSED), (" Closed ", CLOSED)])
def test_due_convention_setting(raw: str | None, convention: str) -> None:
    env = {} if raw is None else {"GRIDWATCH_DUE_CONVENTION": raw}
    settings = Settings.from_env(env)
    assert settings.due_convention == convention
    assert settings.indicator_settings().due_convention == convention


def test_a_bad_due_convention_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="GRIDWATCH_DUE_CONVENTION"):
        Settings.from_env({"GRIDWATCH_DUE_CONVENTION": "cohort"})
    with pytest.raises(ValueError, match="due_convention"):
        IndicatorSettings(due_convention="cohort")  # type: ignore[arg-type]


# --- The shipped 311 sample, imported ---------------------------------------------------------


def test_an_imported_311_export_reads_not_applicable_where_it_has_no_times(
    engine: Engine, session_factory: sessionmaker[Session],
) -> None:
    # tests/data/cases_311.csv through ingest/mappings/cases_311.yaml: the registration time is
    # the report time (copied by the mapping), there are no dispatch or handling times, and
    # most requests have a target date. Those rates say why instead of 100% or 0%.
    from tests.city311 import build_city311
    from tests.test_import_cases import DATA, MAPPINGS, NOW_311, run

    with session_factory() as s:
        build_city311(s)
        s.commit()
    run(engine, DATA / "cases_311.csv", MAPPINGS / "cases_311.yaml")
    november = parse_period("2026-11", NOW_311)
    with session_factory() as s:
        for rules in (BULLETIN_RULES, CLOSED_RULES):
            got = indicators(s, november, now=NOW_311, settings=rules)
            na = _na(got)
            assert na["register_rate"] == na["ontime_register_rate"] == (
                "register_time_is_report_time")
            assert na["ontime_dispatch_rate"] == na["accurate_dispatch_rate"] == (
                "no_dispatch_time")
            assert na["ontime_handle_rate"] == "no_handling_time"
            # The closure figures are measured: most requests carry a target date.
            assert got.ontime_close_rate.applicable and got.ontime_close_rate.denominator > 0
        assert got.due == got.closed  # the 311 set is the month's closures
        assert got.close_rate.na_reason == "closed_convention"
        assert backlog_by_age(s, as_of=NOW_311).total > 0
