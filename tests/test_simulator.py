"""The live simulator adds cases and moves open ones along, keeping the lifecycle consistent."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from ingest.democity import generate
from ingest.simulator import Simulator
from queries.models import STATUS_CLOSED, Case, CaseEvent
from queries.repeats import earlier_problem

NOW = datetime(2026, 11, 23, 10, 0, 0)  # a Monday morning: the busy hours


def test_ticks_add_and_advance_cases(
    engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    generate(engine, cases=600, seed=11, now=NOW)
    with session_factory() as s:
        before = s.scalar(select(func.count()).select_from(Case))
        events_before = s.scalar(select(func.count()).select_from(CaseEvent))
    sim = Simulator(session_factory, seed=1, speedup=60)
    moment = NOW
    for _ in range(40):
        moment += timedelta(minutes=1)
        sim.tick(moment)
    with session_factory() as s:
        after = s.scalar(select(func.count()).select_from(Case))
        assert after > before  # arrivals
        new = s.scalars(select(Case).where(Case.reported_at > NOW)).all()
        assert any(c.registered_at is not None for c in new)  # and they moved on
        for c in new:  # every stage timestamp is ordered and none lies in the future
            stages = [c.reported_at, c.registered_at, c.dispatched_at, c.handled_at, c.closed_at]
            reached = [t for t in stages if t is not None]
            assert reached == sorted(reached) and reached[-1] <= moment
            if c.dispatched_at is not None:
                assert c.deadline_at is not None and c.deadline_at > c.dispatched_at
            assert (c.status == STATUS_CLOSED) == (c.closed_at is not None)
        assert s.scalar(select(func.count()).select_from(CaseEvent)) > events_before
        grid_ids = {c.grid_id for c in new}
        assert grid_ids  # placed in real grids of the city


def test_a_new_case_near_an_earlier_one_is_linked_as_a_repeat(
        engine: Engine, session_factory: sessionmaker[Session]) -> None:
    generate(engine, cases=300, seed=5, now=NOW)
    with session_factory() as s:
        first = s.scalars(select(Case).where(Case.status != "作废", Case.registered_at.is_not(None))
                          .order_by(Case.id)).first()
        assert first is not None and first.registered_at is not None
        found = earlier_problem(s, category_id=first.category_id, lat=first.lat + 0.0002,
                                lon=first.lon, at=first.registered_at + timedelta(days=3),
                                radius_m=50, days=30)
        assert found is not None
        linked = s.get(Case, found)
        assert linked.category_id == first.category_id
        far = earlier_problem(s, category_id=first.category_id, lat=first.lat + 0.002,
                              lon=first.lon, at=first.registered_at + timedelta(days=3),
                              radius_m=50, days=30)
        late = earlier_problem(s, category_id=first.category_id, lat=first.lat, lon=first.lon,
                               at=first.registered_at + timedelta(days=31), radius_m=50, days=30)
        assert far != first.id and late != first.id
