"""The desk's reads on ``tests.desk_city``: order, filters, paging, scope, the case file,
stage durations and 督办. Expected orders are worked out from the table in desk_city."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from queries.desk import (
    DeskFilters,
    case_file,
    desk_options,
    desk_page,
    filters_from_query,
    iter_desk_rows,
    stages,
)
from queries.engine import make_session_factory
from queries.indicators import DEFAULT, scope_indicators
from queries.models import AuditEntry, SupervisionFlag
from queries.periods import custom
from queries.scope import Scope
from queries.supervision import clear_flag, flag_case, flags_of
from tests.desk_city import NOW, DeskCity, build_desk_city


@pytest.fixture
def db(engine: Engine) -> Iterator[tuple[Session, DeskCity]]:
    with make_session_factory(engine)() as session:
        city = build_desk_city(session)
        session.commit()
        yield session, city


def keys(city: DeskCity, ids: list[int]) -> list[str]:
    by_id = {v: k for k, v in city.cases.items()}
    return [by_id[i] for i in ids]


def view(session: Session, city: DeskCity, scope: Scope, **filters: object) -> list[str]:
    page = desk_page(session, scope=scope, filters=DeskFilters(**filters),  # type: ignore[arg-type]
                     start=0, end=100)
    return keys(city, [row.id for row in page.rows])


def dept(city: DeskCity, key: str = "D1") -> Scope:
    return Scope.department(city.departments[key])


def test_flagged_first_then_overdue_then_due_soonest_then_no_deadline(db) -> None:
    session, city = db
    # X7 is flagged; X1 (11-19 12:00) and X2 (11-20 10:00) are past due, most overdue first;
    # X3 (11-20 14:00), X4 (11-22); X5 has no deadline. X6 is closed: not in the open view.
    assert view(session, city, dept(city)) == ["X7", "X1", "X2", "X3", "X4", "X5"]
    # The city: Y1 (11-18 09:00) is the most overdue; Y2 (11-21 12:00) falls between X3 and X4.
    assert view(session, city, Scope.everything()) == [
        "X7", "Y1", "X1", "X2", "X3", "Y2", "X4", "X5"]


def test_the_scope_keeps_only_its_cases(db) -> None:
    session, city = db
    assert view(session, city, dept(city, "D2")) == ["Y1", "Y2"]
    # Street S2 holds X2, X5, X7 (D1) and Y2 (D2), whichever department.
    assert view(session, city, Scope.area(city.areas["S2"])) == ["X7", "X2", "Y2", "X5"]
    assert view(session, city, Scope.nothing()) == []
    page = desk_page(session, scope=Scope.nothing(), filters=DeskFilters(), start=0, end=100)
    assert page.total == 0


def test_filters_narrow_within_the_scope(db) -> None:
    session, city = db
    d1 = dept(city)
    assert view(session, city, d1, statuses=("结案",)) == ["X6"]
    assert view(session, city, d1, statuses=("立案",)) == ["X5"]
    assert view(session, city, d1, majors=("市容环境",)) == ["X2", "X5"]
    assert view(session, city, d1, sources=("12345热线", "随手拍")) == ["X2", "X4"]
    assert view(session, city, d1, area_code="330199002") == ["X7", "X2", "X5"]  # S2
    assert view(session, city, d1, area_code="33019900100102") == ["X3"]  # G2
    assert view(session, city, d1, area_code="no-such-area") == []
    # Reported 11-19 (whole day, inclusive): X2, X3, X4.
    assert view(session, city, d1, reported_from=date(2026, 11, 19),
                reported_to=date(2026, 11, 19)) == ["X2", "X3", "X4"]
    assert view(session, city, d1, search="DESK-X3") == ["X3"]
    assert view(session, city, d1, search="解放路") == ["X7", "X2", "X5"]
    assert view(session, city, d1, search="%") == []  # a wildcard is a plain character
    # A filter never widens the scope: D2's Y1 is on 人民路 in S1, D1's head does not get it.
    assert view(session, city, d1, search="人民路9") == []
    assert view(session, city, d1, area_code="330199001", majors=("公用设施",)) == ["X1", "X4"]


def test_paging_returns_the_asked_block_and_the_total(db) -> None:
    session, city = db
    page = desk_page(session, scope=dept(city), filters=DeskFilters(), start=1, end=3)
    assert keys(city, [r.id for r in page.rows]) == ["X1", "X2"]
    assert page.total == 6
    last = desk_page(session, scope=dept(city), filters=DeskFilters(), start=5, end=105)
    assert keys(city, [r.id for r in last.rows]) == ["X5"]
    assert last.rows[0].flagged is False
    first = desk_page(session, scope=dept(city), filters=DeskFilters(), start=0, end=1)
    assert first.rows[0].flagged is True and first.rows[0].external_id == "DESK-X7"
    assert first.rows[0].street == "城东街道" and first.rows[0].department == "城管执法"


def test_the_export_yields_the_same_rows_in_the_same_order(db) -> None:
    session, city = db
    for scope in (dept(city), Scope.area(city.areas["S1"]), Scope.everything()):
        shown = desk_page(session, scope=scope, filters=DeskFilters(), start=0, end=100).rows
        assert list(iter_desk_rows(session, scope=scope, filters=DeskFilters())) == shown
    assert list(iter_desk_rows(session, scope=Scope.nothing(), filters=DeskFilters())) == []


def test_filters_read_from_a_url_and_back() -> None:
    filters = filters_from_query({"status": "派遣,结案,bogus", "source": "随手拍,nope",
                                  "major": "公用设施", "area": "330199001",
                                  "from": "2026-11-01", "to": "not-a-day", "q": " 人民路 "})
    assert filters == DeskFilters(statuses=("派遣", "结案"), majors=("公用设施",),
                                  area_code="330199001", sources=("随手拍",),
                                  reported_from=date(2026, 11, 1), search="人民路")
    assert filters_from_query(filters.query()) == filters
    assert filters_from_query({}) == DeskFilters()


def test_a_case_file_in_scope_and_none_outside(db) -> None:
    session, city = db
    assert case_file(session, city.cases["Y1"], scope=dept(city)) is None
    assert case_file(session, 99_999, scope=Scope.everything()) is None
    x1 = case_file(session, city.cases["X1"], scope=dept(city))
    assert x1 is not None
    assert (x1.external_id, x1.street, x1.community, x1.grid, x1.department) == (
        "DESK-X1", "城西街道", "西苑社区", "西苑社区01网格", "城管执法")
    assert (x1.major, x1.minor, x1.limit_hours) == ("公用设施", "井盖", 24.0)
    assert [(e.action, e.actor) for e in x1.events] == [
        ("上报", "巡查员"), ("立案", "受理员"), ("派遣", "派遣员")]
    # X4 and Y2 repeat X1; D1's head sees only X4 among them, a leader both.
    assert [link.external_id for link in x1.repeated_by] == ["DESK-X4"]
    whole = case_file(session, city.cases["X1"], scope=Scope.everything())
    assert whole is not None
    assert [link.external_id for link in whole.repeated_by] == ["DESK-X4", "DESK-Y2"]
    # Y2 repeats X1, which D2's head may not open: the link is left out.
    y2 = case_file(session, city.cases["Y2"], scope=dept(city, "D2"))
    assert y2 is not None and y2.repeat_of is None
    x4 = case_file(session, city.cases["X4"], scope=dept(city))
    assert x4 is not None and x4.repeat_of is not None and x4.repeat_of.external_id == "DESK-X1"
    assert x1.photos == ["https://photos.example/x1a.jpg", "https://photos.example/x1b.jpg"]
    x2 = case_file(session, city.cases["X2"], scope=dept(city))
    assert x2 is not None and x2.photos == ["https://photos.example/x2.jpg"]
    x7 = case_file(session, city.cases["X7"], scope=dept(city))
    assert x7 is not None and [(f.flagged_by, f.note, f.active) for f in x7.flags] == [
        ("leader", "尽快处置", True)]


def test_stage_durations_against_their_limits(db) -> None:
    session, city = db
    x1 = case_file(session, city.cases["X1"], scope=Scope.everything())
    assert x1 is not None
    register, dispatch, handle, verify = stages(x1, NOW, DEFAULT)
    # 立案 09:00 → 09:30: 30 min against 60; 派遣 09:30 → 10:30: 60 min against 30 (over).
    assert (register.duration, register.limit, register.over) == (
        timedelta(minutes=30), timedelta(minutes=60), False)
    assert (dispatch.duration, dispatch.limit, dispatch.over) == (
        timedelta(hours=1), timedelta(minutes=30), True)
    # 处置 runs from 11-18 10:30 to NOW 11-20 12:00 (49 h 30 min) against the deadline
    # 11-19 12:00 (25 h 30 min after dispatch): over, still running.
    assert (handle.duration, handle.limit, handle.over, handle.running) == (
        timedelta(hours=49, minutes=30), timedelta(hours=25, minutes=30), True, True)
    assert (verify.start, verify.duration, verify.limit, verify.over) == (None, None, None, None)
    x6 = case_file(session, city.cases["X6"], scope=Scope.everything())
    assert x6 is not None
    # Closed X6: dispatched 11-14 10:30, handled = closed 11-15 08:00 (21 h 30 min) against
    # 11-15 09:00 (22 h 30 min): on time; 核查 took no time and has no limit.
    handle6, verify6 = stages(x6, NOW, DEFAULT)[2:]
    assert (handle6.duration, handle6.over, handle6.running) == (
        timedelta(hours=21, minutes=30), False, False)
    assert (verify6.duration, verify6.over) == (timedelta(0), None)


def test_a_flag_pins_the_case_and_stays_in_its_history(db) -> None:
    session, city = db
    at = datetime(2026, 11, 20, 11, 0)
    flag = flag_case(session, city.cases["X4"], scope=Scope.everything(), by="leader",
                     note="  请今日办结  ", now=at)
    session.commit()
    assert flag is not None and flag.note == "请今日办结" and flag.active
    # Two flagged cases: both pinned, each in deadline order (X4 11-22 before X7 11-25).
    assert view(session, city, dept(city))[:3] == ["X4", "X7", "X1"]
    assert clear_flag(session, flag.id, scope=Scope.everything(), by="leader",
                      now=at + timedelta(hours=1))
    assert not clear_flag(session, flag.id, scope=Scope.everything(), by="leader", now=at)
    session.commit()
    assert view(session, city, dept(city))[:2] == ["X7", "X1"]
    history = flags_of(session, city.cases["X4"], scope=dept(city))
    assert [(f.cleared_by, f.cleared_at) for f in history] == [("leader", at + timedelta(hours=1))]
    audit = session.execute(select(AuditEntry.action, AuditEntry.target, AuditEntry.detail)
                            .order_by(AuditEntry.id)).all()
    assert [tuple(a) for a in audit] == [("supervise", "DESK-X4", "请今日办结"),
                                         ("supervise-clear", "DESK-X4", "请今日办结")]


def test_a_flag_outside_the_scope_is_neither_written_nor_read(db) -> None:
    session, city = db
    y1 = city.cases["Y1"]
    assert flag_case(session, y1, scope=dept(city), by="head", note="x", now=NOW) is None
    assert flag_case(session, 99_999, scope=Scope.everything(), by="x", note="", now=NOW) is None
    session.commit()
    assert session.scalars(select(SupervisionFlag).where(SupervisionFlag.case_id == y1)).all() == []
    x7 = city.cases["X7"]
    assert flags_of(session, x7, scope=dept(city, "D2")) == []
    flag = flags_of(session, x7, scope=Scope.everything())[0]
    assert not clear_flag(session, flag.id, scope=dept(city, "D2"), by="head", now=NOW)
    assert flags_of(session, x7, scope=Scope.everything())[0].active


def test_own_tiles_count_only_the_scope(db) -> None:
    session, city = db
    period = custom(date(2026, 11, 1), date(2026, 11, 20))
    # 超期未结案 at NOW: X1, X2 of D1; Y1 of D2 too for the city.
    assert scope_indicators(session, period, scope=dept(city), now=NOW).open_overdue == 2
    assert scope_indicators(session, period, scope=Scope.everything(), now=NOW).open_overdue == 3
    # Reported in 1–20 November: X1 … X7 for D1; none for nobody.
    assert scope_indicators(session, period, scope=dept(city), now=NOW).reported == 7
    assert scope_indicators(session, period, scope=Scope.nothing(), now=NOW).reported == 0


def test_filter_options_list_names(db: tuple[Session, DeskCity]) -> None:
    options = desk_options(db[0])
    assert options.majors == ["公用设施", "市容环境", "街面秩序"]
    assert options.streets == [("330199001", "城西街道"), ("330199002", "城东街道")]
