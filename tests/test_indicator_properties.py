"""Properties of the indicators on small random case sets in the hand-built city (hypothesis)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import and_, delete, not_, or_
from sqlalchemy.orm import Session, sessionmaker

from queries.engine import init_db, make_engine, make_session_factory
from queries.indicators import (
    BACKLOG_OVER_DAYS,
    BULLETIN,
    CLOSED,
    DEFAULT,
    DUE_CONVENTIONS,
    IndicatorSet,
    IndicatorSettings,
    Ratio,
    indicators,
    indicators_by_area,
    indicators_by_department,
)
from queries.models import (
    LEVEL_COMMUNITY,
    LEVEL_GRID,
    LEVEL_STREET,
    PUBLIC_SOURCES,
    SETTLED_LEVELS,
    SOURCES,
    Case,
)
from queries.periods import KINDS, Period, custom, parse_period, period_for, previous
from tests.handbuilt import AREAS, City, build_city, status_of

BASE = datetime(2026, 9, 20)
SPAN_MINUTES = 80 * 24 * 60
GRIDS = tuple(key for key, level, *_ in AREAS if level == LEVEL_GRID)
PARENT = {key: parent for key, _, _, _, parent, _, _ in AREAS}
FAST = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@dataclass(frozen=True)
class Drawn:
    """One random case, in plain Python, before it is cut at ``now`` and inserted."""

    grid: str
    department: str
    source: str
    valid: bool
    times: tuple[datetime, ...]  # reported, then registered, dispatched, handled, closed
    deadline_hours: int
    cancel_after: int | None  # minutes after the last stage, or never
    extended: bool
    misdispatched: bool
    rework: int
    settled: str | None


minutes = st.integers(min_value=0, max_value=3 * 24 * 60)


@st.composite
def drawn_cases(draw: st.DrawFn) -> Drawn:
    """Draw a case that got some way through its life, with plausible gaps between stages."""
    reported = BASE + timedelta(minutes=draw(st.integers(0, SPAN_MINUTES)))
    gaps = draw(st.lists(minutes, min_size=4, max_size=4))
    reached = draw(st.integers(0, 4))
    times = [reported]
    for gap in gaps[:reached]:
        times.append(times[-1] + timedelta(minutes=gap))
    return Drawn(
        grid=draw(st.sampled_from(GRIDS)),
        department=draw(st.sampled_from(("D1", "D2", "D3"))),
        source=draw(st.sampled_from(SOURCES)),
        valid=draw(st.booleans()),
        times=tuple(times),
        deadline_hours=draw(st.integers(1, 120)),
        cancel_after=None if reached == 4 else draw(st.none() | st.integers(0, 600)),
        extended=draw(st.booleans()),
        misdispatched=draw(st.booleans()),
        rework=draw(st.integers(0, 2)),
        settled=draw(st.none() | st.sampled_from(SETTLED_LEVELS)),
    )


@st.composite
def periods(draw: st.DrawFn) -> Period:
    """Draw a day, week, month, quarter or year near the cases, a custom span, or an empty one."""
    anchor = BASE + timedelta(days=draw(st.integers(-10, 90)))
    choice = draw(st.sampled_from((*KINDS, "custom", "empty")))
    if choice == "custom":
        return custom(anchor.date(), anchor.date() + timedelta(days=draw(st.integers(0, 40))))
    if choice == "empty":
        return parse_period("2025-01", anchor)
    return period_for(choice, anchor)


# What a source records: everything, or one stage's time missing or copied from the stage
# before (as a 311 export loaded into these columns does); drawn once per example.
SHAPES = ("full", "full", "no_register", "copied", "no_dispatch", "no_handling", "no_deadline")
shapes = st.sampled_from(SHAPES)


def case_row(drawn: Drawn, now: datetime, city: City,
             shape: str = "full") -> dict[str, Any] | None:
    """Cut a drawn case at ``now`` (nothing happens in the future) and make it a table row,
    with the timestamps a source of ``shape`` would give."""
    times = [t for t in drawn.times if t <= now]
    if not times:
        return None
    stages: list[datetime | None] = [*times, None, None, None, None][:5]
    reported, registered, dispatched, handled, closed = stages
    cancelled = None
    if drawn.cancel_after is not None and closed is None:
        moment = times[-1] + timedelta(minutes=drawn.cancel_after)
        cancelled = moment if moment <= now else None
    deadline = dispatched + timedelta(hours=drawn.deadline_hours) if dispatched else None
    if shape == "no_register":
        registered = None
    elif shape == "copied":
        registered = reported if registered else None
        dispatched = registered if dispatched else None
    elif shape == "no_dispatch":
        dispatched = None
    elif shape == "no_handling":
        handled = None
    elif shape == "no_deadline":
        deadline = None
    grid = drawn.grid
    return {
        "external_id": "",
        "source": drawn.source,
        "category_id": city.categories["K3"],
        "lat": 30.3,
        "lon": 120.1,
        "grid_id": city.areas[grid],
        "community_id": city.areas[PARENT[grid]],
        "street_id": city.areas[PARENT[PARENT[grid]]],
        "department_id": city.departments[drawn.department],
        "status": status_of(registered, dispatched, handled, closed, cancelled),
        "valid_report": drawn.valid,
        "reported_at": reported,
        "registered_at": registered,
        "dispatched_at": dispatched,
        "handled_at": handled,
        "closed_at": closed,
        "cancelled_at": cancelled,
        "deadline_at": deadline,
        "extended": drawn.extended and deadline is not None,
        "misdispatched": drawn.misdispatched and dispatched is not None,
        "rework_count": drawn.rework if handled else 0,
        "settled_level": drawn.settled if closed else None,
    }


@pytest.fixture(scope="module")
def city_db() -> Iterator[tuple[sessionmaker[Session], City]]:
    """One in-memory city for the module; each example adds its cases and rolls them back."""
    engine = make_engine("sqlite://")
    init_db(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        city = build_city(session)
        session.commit()
    yield factory, city
    engine.dispose()


def insert_cases(session: Session, city: City, drawn: list[Drawn], now: datetime,
                 shape: str = "full") -> list[dict]:
    """Insert the drawn cases as they stand at ``now``; return the rows inserted."""
    rows = [row for d in drawn if (row := case_row(d, now, city, shape)) is not None]
    for n, row in enumerate(rows):
        row["external_id"] = f"P{n:04d}"
        session.add(Case(**row))
    session.flush()
    return rows


def additive(s: IndicatorSet) -> dict[str, int]:
    """Every count and every rate's numerator and denominator: what parents must sum."""
    out: dict[str, int] = {}
    for f in fields(IndicatorSet):
        value = getattr(s, f.name)
        if isinstance(value, Ratio):
            out[f"{f.name}.numerator"] = value.numerator
            out[f"{f.name}.denominator"] = value.denominator
        elif isinstance(value, int):
            out[f.name] = value
    return out


def summed(sets: list[IndicatorSet]) -> dict[str, int]:
    """Add up the additive figures of several sets."""
    total: dict[str, int] = {}
    for s in sets:
        for key, value in additive(s).items():
            total[key] = total.get(key, 0) + value
    return total


def handling_hours(s: IndicatorSet) -> float:
    """Total handling hours behind the mean, which add up where means do not."""
    return (s.avg_handling_hours or 0.0) * s.handling_timed


case_lists = st.lists(drawn_cases(), max_size=14)
nows = st.integers(0, SPAN_MINUTES + 20 * 24 * 60).map(lambda m: BASE + timedelta(minutes=m))
# After most drawn cases have run their course, so closures (and their gaps) exist.
late_nows = st.integers(SPAN_MINUTES // 2, SPAN_MINUTES + 20 * 24 * 60).map(
    lambda m: BASE + timedelta(minutes=m))


conventions = st.sampled_from(DUE_CONVENTIONS)


@FAST
@given(drawn=case_lists, period=periods(), now=nows, convention=conventions, shape=shapes)
def test_rates_stay_proportions_and_nothing_divides_by_zero(
    city_db: tuple[sessionmaker[Session], City], drawn: list[Drawn], period: Period,
    now: datetime, convention: str, shape: str,
) -> None:
    factory, city = city_db
    rules = IndicatorSettings(due_convention=convention)  # type: ignore[arg-type]
    with factory() as session:
        insert_cases(session, city, drawn, now, shape)
        every = [indicators(session, period, now=now, settings=rules)]
        for level in (LEVEL_STREET, LEVEL_COMMUNITY, LEVEL_GRID):
            every += indicators_by_area(
                session, period, level=level, now=now, settings=rules).values()
        every += indicators_by_department(session, period, now=now, settings=rules).values()
        session.rollback()
    for s in every:
        for f in fields(IndicatorSet):
            ratio = getattr(s, f.name)
            if isinstance(ratio, Ratio):
                # Numerators are counted inside their denominators' sets, in either convention.
                assert 0 <= ratio.numerator <= ratio.denominator, f.name
                if ratio.na_reason is not None:  # not applicable: no value, never 0% or 100%
                    assert ratio.value is None and ratio.text() == "不适用", f.name
                    assert ratio.text("en") == "n/a" and ratio.reason("en"), f.name
                else:
                    assert (ratio.value is None) == (ratio.denominator == 0) == (
                        ratio.text() == "—")
        assert (s.avg_handling_hours is None) == (s.handling_timed == 0)
        assert s.avg_handling_hours is None or s.avg_handling_hours >= 0
        closed, handled = s.close_rate.numerator, s.handle_rate.numerator
        assert closed == s.ontime_close_rate.numerator + s.overdue_close_rate.numerator
        assert handled == s.ontime_handle_rate.numerator + s.overdue_handle_rate.numerator
        assert s.close_rate.denominator == s.due == s.handle_rate.denominator
        if convention == BULLETIN:
            # D is a subset of the period's kept registrations (按时立案率's denominator).
            assert s.due <= s.ontime_register_rate.denominator
        else:
            # D is the period's closures: every case of it is closed; 结案率 is n/a.
            assert s.due <= s.closed and s.close_rate.numerator == s.due
            assert s.close_rate.na_reason == "closed_convention"
        if s.composite is not None:
            c = s.composite
            scores = (c.public_report_score, c.volume_score, c.close_rate_score,
                      c.ontime_close_score, c.total)
            assert all(v is None or 0 <= v <= 100 for v in scores)
            assert (c.total is None) == (c.grade is None) == (None in scores[:4])


@FAST
@given(drawn=case_lists, period=periods(), now=nows)
def test_parents_are_the_sum_of_their_children(
    city_db: tuple[sessionmaker[Session], City], drawn: list[Drawn], period: Period, now: datetime
) -> None:
    factory, city = city_db
    areas = city.areas
    with factory() as session:
        insert_cases(session, city, drawn, now)
        district = indicators(session, period, now=now)
        streets = indicators_by_area(session, period, level=LEVEL_STREET, now=now)
        communities = indicators_by_area(session, period, level=LEVEL_COMMUNITY, now=now)
        grids = indicators_by_area(session, period, level=LEVEL_GRID, now=now)
        departments = indicators_by_department(session, period, now=now)
        session.rollback()
    children = {
        "D": list(streets.values()),
        "S1": [communities[areas["C1"]], communities[areas["C2"]]],
        "S2": [communities[areas["C3"]]],
        "C1": [grids[areas["G1"]], grids[areas["G2"]]],
        "C2": [grids[areas["G3"]]],
        "C3": [grids[areas["G4"]], grids[areas["G5"]]],
    }
    parents = {"D": district, **{k: streets[areas[k]] for k in ("S1", "S2")},
               **{k: communities[areas[k]] for k in ("C1", "C2", "C3")}}
    for key, parent in parents.items():
        assert additive(parent) == summed(children[key]), key
        assert handling_hours(parent) == pytest.approx(
            sum(handling_hours(c) for c in children[key]), abs=1e-6
        )
    # Every drawn case has a department, so the departments add up to the district too.
    assert additive(district) == summed(list(departments.values()))


@FAST
@given(drawn=case_lists, period=periods(), now=nows, convention=conventions, shape=shapes)
def test_sql_agrees_with_a_plain_reading_of_the_definitions(
    city_db: tuple[sessionmaker[Session], City], drawn: list[Drawn], period: Period,
    now: datetime, convention: str, shape: str,
) -> None:
    check_against_reference(city_db, drawn, period, now, convention, shape)


@st.composite
def long_periods(draw: st.DrawFn) -> Period:
    """Draw a month, quarter or year over the cases, or a long custom span: many cases in it."""
    anchor = BASE + timedelta(days=draw(st.integers(0, 80)))
    choice = draw(st.sampled_from(("month", "quarter", "year", "custom")))
    if choice == "custom":
        return custom(anchor.date(), anchor.date() + timedelta(days=draw(st.integers(20, 60))))
    return period_for(choice, anchor)


@pytest.mark.parametrize("shape", SHAPES[2:])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=st.lists(drawn_cases(), min_size=3, max_size=14), period=long_periods(),
       now=late_nows, convention=conventions)
def test_not_applicable_agrees_with_a_plain_reading(
    city_db: tuple[sessionmaker[Session], City], drawn: list[Drawn], period: Period,
    now: datetime, convention: str, shape: str,
) -> None:
    # Sources that lack (or copy) one stage's time, over long periods: the n/a rules get work.
    check_against_reference(city_db, drawn, period, now, convention, shape)


def check_against_reference(
    city_db: tuple[sessionmaker[Session], City], drawn: list[Drawn], period: Period,
    now: datetime, convention: str, shape: str,
) -> None:
    """Compare the SQL with ``reference``: every count, and every not-applicable reason."""
    factory, city = city_db
    rules = IndicatorSettings(due_convention=convention)  # type: ignore[arg-type]
    with factory() as session:
        rows = insert_cases(session, city, drawn, now, shape)
        s = indicators(session, period, now=now, settings=rules)
        session.rollback()
    expected = reference(rows, period, now, convention)
    got = additive(s)
    assert {k: got[k] for k in REFERENCE_KEYS} == {k: expected[k] for k in REFERENCE_KEYS}
    assert handling_hours(s) == pytest.approx(expected["handling_seconds"] / 3600, abs=1e-6)
    na = {f.name: getattr(s, f.name).na_reason for f in fields(IndicatorSet)
          if isinstance(getattr(s, f.name), Ratio)}
    na["open_overdue"] = s.na_reason("open_overdue")
    event(f"not applicable: {', '.join(sorted({v for v in na.values() if v})) or 'none'}")
    assert na == reference_na(expected, convention)


@FAST
@given(drawn=case_lists, period=periods(), now=nows, convention=conventions, shape=shapes)
def test_the_due_set_holds_only_the_cases_its_convention_names(
    city_db: tuple[sessionmaker[Session], City], drawn: list[Drawn], period: Period,
    now: datetime, convention: str, shape: str,
) -> None:
    # Delete every case the convention leaves out (bulletin: not registered in the period;
    # closed: not closed in [start, as of)); D and every count over D must not move.
    factory, city = city_db
    rules = IndicatorSettings(due_convention=convention)  # type: ignore[arg-type]
    as_of = min(now, period.end)
    moment = Case.registered_at if convention == BULLETIN else Case.closed_at
    last = period.end if convention == BULLETIN else as_of
    named = and_(moment.is_not(None), moment >= period.start, moment < last)
    with factory() as session:
        insert_cases(session, city, drawn, now, shape)
        before = indicators(session, period, now=now, settings=rules)
        session.execute(delete(Case).where(or_(moment.is_(None), not_(named))))
        after = indicators(session, period, now=now, settings=rules)
        session.rollback()
    over_d = ("due", "rework_times", "handle_rate", "ontime_handle_rate", "overdue_handle_rate",
              "extension_rate", "close_rate", "ontime_close_rate", "overdue_close_rate",
              "rework_rate")
    for key in over_d:
        a, b = getattr(before, key), getattr(after, key)
        if isinstance(a, Ratio):
            a, b = (a.numerator, a.denominator), (b.numerator, b.denominator)
        assert a == b, key


REFERENCE_KEYS = (
    "reported", "valid_reported", "registered", "cancelled", "ontime_register_rate.numerator",
    "ontime_register_rate.denominator", "public_report_rate.numerator", "to_dispatch",
    "ontime_dispatch_rate.numerator", "accurate_dispatch_rate.numerator", "dispatched",
    "handled", "closed", "open_overdue", "due", "handle_rate.numerator",
    "ontime_handle_rate.numerator", "close_rate.numerator", "ontime_close_rate.numerator",
    "rework_rate.numerator", "rework_times", "extension_rate.numerator",
    "grid_settle_rate.denominator", "settled_grid", "settled_street", "settled_district",
    "handling_timed", "register_rate.numerator", "backlog_over_30",
)


def reference(rows: list[dict], period: Period, now: datetime,
              convention: str = BULLETIN) -> Counter[str]:
    """Count each measure case by case, straight from docs/indicators.md."""
    start, as_of = period.start, min(now, period.end)
    register_limit = timedelta(minutes=DEFAULT.ontime_register_minutes)
    dispatch_limit = timedelta(minutes=DEFAULT.ontime_dispatch_minutes)
    out: Counter[str] = Counter()

    def count(key: str, condition: bool) -> None:
        out[key] += int(condition)

    def within(t: datetime | None) -> bool:  # in the period, up to as of
        return t is not None and start <= t < as_of

    def before(t: datetime | None, moment: datetime) -> bool:
        return t is not None and t < moment

    for c in rows:
        reg, dis, han, clo, ddl = (c["registered_at"], c["dispatched_at"], c["handled_at"],
                                   c["closed_at"], c["deadline_at"])
        live = c["cancelled_at"] is None
        kept = within(reg) and live
        count("reported", within(c["reported_at"]))
        count("valid_reported", within(c["reported_at"]) and c["valid_report"])
        count("register_rate.numerator",
              within(c["reported_at"]) and c["valid_report"] and reg is not None)
        count("registered", within(reg))
        count("cancelled", within(reg) and not live)
        count("ontime_register_rate.numerator", kept and reg - c["reported_at"] <= register_limit)
        count("ontime_register_rate.denominator", kept)
        count("public_report_rate.numerator", kept and c["source"] in PUBLIC_SOURCES)
        waiting = dis is None and reg is not None and reg > now - dispatch_limit
        to_dispatch = kept and not waiting
        count("to_dispatch", to_dispatch)
        count("ontime_dispatch_rate.numerator",
              to_dispatch and dis is not None and dis - reg <= dispatch_limit)
        count("accurate_dispatch_rate.numerator", to_dispatch and not c["misdispatched"])
        count("dispatched", within(dis) and live)
        count("handled", within(han) and live)
        count("closed", within(clo) and live)
        still_open = before(reg, as_of) and (clo is None or clo >= as_of) and live
        overdue = still_open and before(ddl, as_of)
        count("open_overdue", overdue)
        count("backlog_over_30", still_open and reg < as_of - timedelta(days=BACKLOG_OVER_DAYS))
        if convention == CLOSED:  # closed in the period, by as of
            due = live and clo is not None and start <= clo < as_of
        else:  # registered in the period, closed or past the deadline by as of
            due = kept and (before(clo, as_of) or before(ddl, as_of))
        count("due", due)
        handled_due = due and before(han, as_of)
        closed_due = due and before(clo, as_of)
        count("handle_rate.numerator", handled_due)
        count("ontime_handle_rate.numerator", handled_due and (ddl is None or han <= ddl))
        count("close_rate.numerator", closed_due)
        count("ontime_close_rate.numerator", closed_due and (ddl is None or clo <= ddl))
        count("rework_rate.numerator", due and c["rework_count"] > 0)
        out["rework_times"] += c["rework_count"] if due else 0
        count("extension_rate.numerator", due and c["extended"])
        settled = within(clo) and live and c["settled_level"] is not None
        count("grid_settle_rate.denominator", settled)
        for level in SETTLED_LEVELS:
            count(f"settled_{level}", settled and c["settled_level"] == level)
        timed = within(han) and live and dis is not None
        count("handling_timed", timed)
        out["handling_seconds"] += int((han - dis).total_seconds()) if timed else 0
        # Inputs present? (docs/indicators.md, "No data is not zero")
        in_reg_scope = within(c["reported_at"]) or within(reg)
        count("register_known", in_reg_scope and reg is not None)
        count("register_own", in_reg_scope and reg is not None and reg != c["reported_at"])
        count("register_skipped", within(c["reported_at"]) and reg is None
              and (dis or han or clo) is not None)
        count("dispatch_known", kept and dis is not None)
        count("dispatch_own", kept and dis is not None and dis != reg)
        count("dispatch_skipped", kept and dis is None and (han or clo) is not None)
        count("due_handling_known", due and han is not None)
        count("due_handling_skipped", due and han is None and clo is not None)
        count("due_deadline_known", due and ddl is not None)
        in_overdue_scope = still_open or (within(clo) and live)
        count("overdue_deadline_known", in_overdue_scope and ddl is not None)
        count("overdue_deadline_skipped", in_overdue_scope and ddl is None
              and (dis or han or clo) is not None)
    return out


RATE_KEYS = (
    "valid_report_rate", "register_rate", "ontime_register_rate", "accurate_register_rate",
    "ontime_dispatch_rate", "accurate_dispatch_rate", "handle_rate", "ontime_handle_rate",
    "overdue_handle_rate", "extension_rate", "close_rate", "ontime_close_rate",
    "overdue_close_rate", "rework_rate", "grid_settle_rate", "public_report_rate",
)


def reference_na(n: Counter[str], convention: str) -> dict[str, str | None]:
    """Which indicators are not applicable and why, read straight from docs/indicators.md."""
    no_register = n["register_known"] == 0 and n["register_skipped"] > 0
    copied = n["register_known"] > 0 and n["register_own"] == 0
    no_dispatch = n["dispatch_known"] == 0 and n["dispatch_skipped"] > 0
    dispatch_copied = n["dispatch_known"] > 0 and n["dispatch_own"] == 0
    no_handling = n["due_handling_known"] == 0 and n["due_handling_skipped"] > 0
    no_deadline = n["due"] > 0 and n["due_deadline_known"] == 0
    cohort = convention == BULLETIN
    out: dict[str, str | None] = dict.fromkeys(RATE_KEYS)

    def first(key: str, *checks: tuple[bool, str]) -> None:
        out[key] = next((why for holds, why in checks if holds), None)

    reg = (no_register, "no_register_time")
    first("register_rate", reg, (copied, "register_time_is_report_time"))
    first("ontime_register_rate", reg, (copied, "register_time_is_report_time"))
    first("accurate_register_rate", reg)
    first("public_report_rate", reg)
    first("ontime_dispatch_rate", reg, (no_dispatch, "no_dispatch_time"),
          (dispatch_copied, "dispatch_time_is_registration_time"))
    first("accurate_dispatch_rate", reg, (no_dispatch, "no_dispatch_time"))
    d = (cohort and no_register, "no_register_time")
    first("handle_rate", (not cohort, "closed_convention"), d,
          (no_handling, "no_handling_time"), (cohort and no_deadline, "no_deadline"))
    for key in ("ontime_handle_rate", "overdue_handle_rate"):
        first(key, d, (no_handling, "no_handling_time"), (no_deadline, "no_deadline"))
    first("extension_rate", d, (no_deadline, "no_deadline"))
    first("close_rate", (not cohort, "closed_convention"), d,
          (cohort and no_deadline, "no_deadline"))
    first("ontime_close_rate", d, (no_deadline, "no_deadline"))
    first("overdue_close_rate", d, (no_deadline, "no_deadline"))
    first("rework_rate", d)
    first("open_overdue", (n["overdue_deadline_known"] == 0
                           and n["overdue_deadline_skipped"] > 0, "no_deadline"))
    return out


@settings(max_examples=50, deadline=None)
@given(
    kind=st.sampled_from(KINDS),
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    length=st.integers(0, 400),
)
def test_periods_round_trip_and_tile_time(kind: str, day: date, length: int) -> None:
    now = datetime.combine(day, datetime.min.time()) + timedelta(hours=13)
    for p in (period_for(kind, now), custom(day, day + timedelta(days=length))):
        assert p.start <= now < p.end or p.kind == "custom"
        assert parse_period(p.token, now) == p
        before = previous(p)
        assert before.end == p.start and before.kind == p.kind
        if p.kind in ("day", "week", "custom"):
            assert before.end - before.start == p.end - p.start
