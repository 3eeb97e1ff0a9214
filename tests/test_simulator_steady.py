"""The simulated city keeps a steady state: a compressed day, pauses, and repeat links.

One generated city (40,000 cases, seed 21, generated at Wednesday 2026-11-25 00:00) is copied
for each test, and the simulator runs on it with an injected clock.

Where the ranges come from (the generator's parameters, ``ingest.lifecycle``):

- arrivals: 40,000 cases over 13 months with the seasonal and weekly weights give λ ≈ 96 a
  day in the 28 days before (~115 on a November working day);
- time open (report → close) in the generated history: W ≈ 1.26 days (handling is a share of
  the limit in working hours; 0.65% 老大难 stay open 1–60 days past the deadline);
- Little's law: the open backlog L = λW ≈ 121 on average. The generator's own state at
  Mon 00:00 … Thu 00:00 of that week swings 92–154 (the weekend's cases pile up until Monday
  morning), so the backlog must stay in OPEN_RANGE = (70, 175) at every hour;
- overdue share: the generator shows 0.14–0.27 across the week (stuck cases ≈ λ × 0.0065 ×
  ~32 days ≈ 20 of them, plus the 3.5% late ones while late): OVERDUE_SHARE = (0.08, 0.40).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

import ingest.lifecycle as lc
import ingest.simulator as simulator_module
from ingest.democity import generate
from ingest.simulator import Simulator
from queries.engine import init_db, make_engine, make_session_factory
from queries.models import OPEN_STATUSES, STATUS_CANCELLED, Case, CaseEvent, Category
from queries.repeats import find_repeats, pair_distance_m
from queries.rules import load_rules
from queries.workcalendar import default_calendar

START = datetime(2026, 11, 25, 0, 0)  # a Wednesday: a working day after working days
CASES, SEED = 40_000, 21
OPEN_RANGE = (70, 175)
OVERDUE_SHARE = (0.08, 0.40)


@pytest.fixture(scope="module")
def city_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated city, written once; tests work on copies."""
    path = tmp_path_factory.mktemp("steady") / "city.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    init_db(engine)
    generate(engine, cases=CASES, seed=SEED, now=START)
    engine.dispose()
    return path


@pytest.fixture
def city(city_file: Path, tmp_path: Path) -> Iterator[tuple[Engine, sessionmaker[Session]]]:
    """A fresh copy of the city for one test."""
    copy = tmp_path / "copy.sqlite3"
    source, target = sqlite3.connect(city_file), sqlite3.connect(copy)
    source.backup(target)
    source.close()
    target.close()
    engine = make_engine(f"sqlite:///{copy}")
    yield engine, make_session_factory(engine)
    engine.dispose()


class Clock:
    """An injected wall clock the test moves by hand."""

    def __init__(self, moment: datetime) -> None:
        self.now = moment

    def __call__(self) -> datetime:
        return self.now


def _open_and_overdue(s: Session, now: datetime) -> tuple[int, int]:
    is_open = Case.status.in_(OPEN_STATUSES)
    return (s.scalar(select(func.count()).select_from(Case).where(is_open)) or 0,
            s.scalar(select(func.count()).select_from(Case).where(
                is_open, Case.deadline_at < now)) or 0)


def _count(s: Session, column: object, after: datetime, until: datetime) -> int:
    return s.scalar(select(func.count()).select_from(Case).where(
        column > after, column <= until)) or 0  # type: ignore[operator]


def _run(sim: Simulator, clock: Clock, span: timedelta, step: timedelta,
         every_hour: Callable[[datetime], None] | None = None) -> None:
    end = clock.now + span
    next_hour = clock.now + timedelta(hours=1)
    while clock.now < end:
        clock.now = min(clock.now + step, end)
        sim.tick()
        if every_hour is not None and clock.now >= next_hour:
            every_hour(clock.now)
            next_hour += timedelta(hours=1)


def test_a_compressed_day_keeps_the_steady_state(
        city: tuple[Engine, sessionmaker[Session]]) -> None:
    _, sessions = city
    clock = Clock(START)
    sim = Simulator(sessions, seed=4, clock=clock)
    seen: list[tuple[datetime, int, float]] = []

    def check(now: datetime) -> None:
        with sessions() as s:
            backlog, overdue = _open_and_overdue(s, now)
        seen.append((now, backlog, overdue / backlog))
        assert OPEN_RANGE[0] <= backlog <= OPEN_RANGE[1], (now, backlog)
        assert OVERDUE_SHARE[0] <= overdue / backlog <= OVERDUE_SHARE[1], (now, overdue)

    with sessions() as s:
        before = _open_and_overdue(s, START)
    check(START)
    _run(sim, clock, timedelta(hours=24), timedelta(minutes=10), check)
    assert len(seen) == 25
    end = clock.now
    with sessions() as s:
        arrived = _count(s, Case.reported_at, START, end)
        closed = _count(s, Case.closed_at, START, end)
        cancelled = _count(s, Case.cancelled_at, START, end)
        after = _open_and_overdue(s, end)
        # Steady state: a day's closures (and cancellations) match its arrivals. Both are near
        # Poisson with mean ~115, so their difference has a standard deviation of ~15: 35% of
        # the arrivals is over 2.5 of them — and the drain this replaces closed 10× its arrivals.
        expected = sim.expected_arrivals(START, end)
        assert 90 < expected < 140  # the generator's ~115 on a November working day
        assert abs(arrived - expected) <= 3 * expected ** 0.5, (arrived, expected)  # Poisson
        assert abs(closed + cancelled - arrived) <= 0.35 * arrived, (arrived, closed, cancelled)
        assert abs(after[0] - before[0]) <= 0.35 * before[0], (before, after)
        # The day's arrivals follow the hour-of-day curve: few at night, most by day.
        night = _count(s, Case.reported_at, START, START + timedelta(hours=6))
        day = _count(s, Case.reported_at, START + timedelta(hours=8), START + timedelta(hours=18))
        assert night < 0.2 * day
        _assert_consistent(s, end)


def _assert_consistent(s: Session, now: datetime) -> None:
    """No stage or event in the future, stages in order, deadlines from the working calendar."""
    calendar = default_calendar()
    limits = {c.id: (c.limit_hours, c.urgent_limit_hours) for c in s.scalars(select(Category))}
    checked = 0
    for c in s.scalars(select(Case).where(Case.reported_at > START - timedelta(days=90))):
        stages = [t for t in (c.reported_at, c.registered_at, c.dispatched_at, c.handled_at,
                              c.closed_at) if t is not None]
        assert stages == sorted(stages), c.id
        assert all(t <= now for t in [*stages, c.cancelled_at] if t is not None), c.id
        assert (c.status == "结案") == (c.closed_at is not None)
        if c.dispatched_at is not None and c.dispatched_at > START:  # dispatched by the simulator
            normal, urgent = limits[c.category_id]
            first = c.original_deadline_at if c.extended else c.deadline_at
            assert first == calendar.add_working_hours(
                c.dispatched_at, urgent if c.urgency == "紧急" else normal), c.id
            if c.extended:
                assert c.deadline_at == calendar.add_working_hours(
                    c.original_deadline_at, normal if c.urgency != "紧急" else urgent)
            checked += 1
    assert checked > 50
    assert s.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.at > now)) == 0


def test_fifteen_minutes_at_night_do_not_drain_the_city(
        city: tuple[Engine, sessionmaker[Session]]) -> None:
    """The bug this replaces: in 15 minutes at night 超期未结案 78 → 1, open 338 → 108."""
    _, sessions = city
    clock = Clock(START)  # midnight
    sim = Simulator(sessions, seed=2, clock=clock)
    with sessions() as s:
        before = _open_and_overdue(s, START)
    _run(sim, clock, timedelta(minutes=15), timedelta(seconds=5))  # the default tick
    with sessions() as s:
        after = _open_and_overdue(s, clock.now)
        closed = _count(s, Case.closed_at, START, clock.now)
    # At ~1 case an hour at midnight, 15 minutes close or open a handful of cases at most.
    assert abs(after[0] - before[0]) <= 6 and abs(after[1] - before[1]) <= 4, (before, after)
    assert closed <= 6


def test_any_tick_interval_gives_the_same_city(city_file: Path, tmp_path: Path) -> None:
    """Two late-morning hours in 5-second, 10-minute or one-hour ticks: the same morning."""
    results = []
    for k, step in enumerate((timedelta(seconds=5), timedelta(minutes=10), timedelta(hours=1))):
        copy = tmp_path / f"run{k}.sqlite3"
        source, target = sqlite3.connect(city_file), sqlite3.connect(copy)
        source.backup(target)
        source.close()
        target.close()
        engine = make_engine(f"sqlite:///{copy}")
        sessions = make_session_factory(engine)
        begin = START + timedelta(hours=10)  # a working morning: plenty happens
        clock = Clock(begin)
        sim = Simulator(sessions, seed=9, clock=clock)
        sim.tick()
        _run(sim, clock, timedelta(hours=2), step)
        with sessions() as s:
            results.append((_count(s, Case.reported_at, begin, clock.now),
                            _count(s, Case.closed_at, begin, clock.now)))
            _assert_stage_times_not_after(s, clock.now)
        engine.dispose()
    arrived = [a for a, _ in results]
    closed = [c for _, c in results]
    # ~20 arrivals and ~15 closures from 10:00 to 12:00; Poisson noise only (sd ~4-5).
    assert min(arrived) >= 8 and max(arrived) - min(arrived) <= 18, results
    assert min(closed) >= 5 and max(closed) - min(closed) <= 18, results


def _assert_stage_times_not_after(s: Session, now: datetime) -> None:
    for column in (Case.reported_at, Case.registered_at, Case.dispatched_at, Case.handled_at,
                   Case.closed_at, Case.cancelled_at):
        assert s.scalar(select(func.count()).select_from(Case).where(column > now)) == 0


def test_a_pause_is_caught_up_at_the_drawn_times(
        city: tuple[Engine, sessionmaker[Session]]) -> None:
    """A 40-minute pause: its arrivals and transitions happen, each at its own time."""
    _, sessions = city
    begin = START + timedelta(hours=9)
    clock = Clock(begin)
    sim = Simulator(sessions, seed=5, clock=clock)
    _run(sim, clock, timedelta(minutes=20), timedelta(seconds=30))
    paused = clock.now
    clock.now = paused + timedelta(minutes=40)
    touched = sim.tick()
    with sessions() as s:
        arrived = _count(s, Case.reported_at, paused, clock.now)
        registered = _count(s, Case.registered_at, paused, clock.now)
        closed = s.scalars(select(Case.closed_at).where(Case.closed_at > paused)).all()
        _assert_stage_times_not_after(s, clock.now)
    # ~10 arrivals in 40 minutes of a morning peak; the pause is replayed, not burst.
    assert 2 <= arrived <= 25 and touched >= arrived
    assert registered >= 1
    # Closures keep their drawn times, spread over the pause, not stamped at the tick.
    assert len(set(closed)) == len(closed) and all(paused < t <= clock.now for t in closed)


def test_a_long_pause_starts_afresh_without_a_burst(
        city: tuple[Engine, sessionmaker[Session]]) -> None:
    """After a pause longer than ``max_gap`` nothing is written for the gap, all at once."""
    _, sessions = city
    begin = START + timedelta(hours=9)
    clock = Clock(begin)
    sim = Simulator(sessions, seed=6, clock=clock, max_gap=timedelta(hours=1))
    _run(sim, clock, timedelta(minutes=10), timedelta(seconds=30))
    paused = clock.now
    with sessions() as s:
        before = _open_and_overdue(s, paused)
    clock.now = paused + timedelta(hours=6)
    touched = sim.tick()
    with sessions() as s:
        after = _open_and_overdue(s, clock.now)
        in_gap = sum(_count(s, column, paused, clock.now) for column in (
            Case.reported_at, Case.registered_at, Case.dispatched_at, Case.handled_at,
            Case.closed_at, Case.cancelled_at))
    assert touched <= 3 and in_gap <= 3
    assert after[0] == before[0]  # plans redrawn conditioned on age: nothing closes at once


def _links_and_detection(s: Session) -> tuple[dict[int, int], dict[int, int]]:
    rule = load_rules().repeat
    rows = s.execute(select(Case.id, Case.category_id, Case.lat, Case.lon, Case.registered_at,
                            Case.status, Case.repeat_of_id)).all()
    stored = {r.id: r.repeat_of_id for r in rows if r.repeat_of_id is not None}
    kept = [r for r in rows if r.registered_at is not None and r.status != STATUS_CANCELLED]
    ids = np.array([r.id for r in kept])
    micros = np.array([(r.registered_at - lc.EPOCH) // timedelta(microseconds=1) for r in kept])
    match, _ = find_repeats(ids, np.array([r.category_id for r in kept]),
                            np.array([r.lat for r in kept]), np.array([r.lon for r in kept]),
                            micros, radius_m=rule.radius_m, days=rule.days)
    detected = {int(ids[k]): int(ids[m]) for k, m in enumerate(match.tolist()) if m >= 0}
    return stored, detected


def test_the_simulator_stores_exactly_the_links_detection_finds(
        city: tuple[Engine, sessionmaker[Session]], monkeypatch: pytest.MonkeyPatch) -> None:
    """Repeats and late cancellations made common, so links and relinks are certain."""
    _, sessions = city
    monkeypatch.setattr(simulator_module, "P_REPEAT", 0.5)
    monkeypatch.setattr(simulator_module, "REPEAT_DAYS", 0.3)  # repeats follow recent cases
    monkeypatch.setattr(lc, "P_CANCEL", 0.25)
    clock = Clock(START + timedelta(hours=6))
    sim = Simulator(sessions, seed=8, clock=clock)
    _run(sim, clock, timedelta(hours=14), timedelta(minutes=5))
    rule = load_rules().repeat
    with sessions() as s:
        stored, detected = _links_and_detection(s)
        assert stored == detected
        new = {r.id: r for r in s.execute(select(
            Case.id, Case.category_id, Case.lat, Case.lon, Case.registered_at, Case.status)
            .where(Case.reported_at > START)).all()}
        linked_new = [c for c in new if c in stored]
        assert len(linked_new) >= 10  # the simulator links its own cases
        # A cancelled case some later case would repeat: the relink on cancellation mattered.
        cancelled = [r for r in new.values() if r.status == STATUS_CANCELLED
                     and r.registered_at is not None]
        shadowed = [
            (c, a) for c in new.values() for a in cancelled
            if c.status != STATUS_CANCELLED and c.registered_at is not None
            and c.category_id == a.category_id and a.registered_at < c.registered_at
            and c.registered_at - a.registered_at <= timedelta(days=rule.days)
            and pair_distance_m(a.lat, a.lon, c.lat, c.lon) <= rule.radius_m]
        assert shadowed


def test_the_simulator_links_depend_on_registration_not_report(
        city: tuple[Engine, sessionmaker[Session]]) -> None:
    """Every stored link points to a case registered before (in rule order) and nearby."""
    _, sessions = city
    clock = Clock(START + timedelta(hours=7))
    sim = Simulator(sessions, seed=3, clock=clock)
    _run(sim, clock, timedelta(hours=12), timedelta(minutes=10))
    rule = load_rules().repeat
    with sessions() as s:
        cases = {c.id: c for c in s.scalars(select(Case))}
    for c in cases.values():
        if c.repeat_of_id is None:
            continue
        first = cases[c.repeat_of_id]
        assert first.status != STATUS_CANCELLED and c.status != STATUS_CANCELLED
        assert (first.registered_at, first.id) < (c.registered_at, c.id)
        assert c.registered_at - first.registered_at <= timedelta(days=rule.days)
        assert first.category_id == c.category_id
        assert pair_distance_m(first.lat, first.lon, c.lat, c.lon) <= rule.radius_m + 1e-3


def test_a_database_left_unused_keeps_its_rate(
        city: tuple[Engine, sessionmaker[Session]]) -> None:
    """Started a week after the city was generated, the simulator adds as many cases a day."""
    _, sessions = city
    later = START + timedelta(days=7)
    fresh = Simulator(sessions, seed=1, clock=Clock(START))
    fresh.tick()
    stale = Simulator(sessions, seed=1, clock=Clock(later))
    stale.tick()
    day = (later, later + timedelta(days=1))
    assert stale.expected_arrivals(*day) == pytest.approx(fresh.expected_arrivals(*day), rel=0.03)
    assert 80 < stale.expected_arrivals(*day) < 150
