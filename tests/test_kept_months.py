"""Kept months (queries/kept_months.py): a finished month is computed once, read back while
nothing it read changed, and computed again when a case of its window, its volunteers or the
clock past an open problem's deadline changes it. Every kept read equals a fresh computation.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session, sessionmaker

from queries.assessment import assess_month, publish_month
from queries.kept_months import KeptMonths
from queries.models import STATUS_CANCELLED, Case, KeptMonth
from queries.rules import Rules, load_rules, parse_rules
from tests.assessment_city import NOW, RULES_YAML, build_city
from tests.handbuilt import NOW as HANDBUILT_NOW
from tests.handbuilt import build_handbuilt

FEBRUARY, JANUARY = "2026-02", "2026-01"


def _rules() -> Rules:
    return parse_rules(RULES_YAML, "test-rules.yaml")


def _same(session: Session, month: str, rules: Rules, now: datetime, kept: KeptMonths) -> None:
    """The kept path gives exactly what a fresh computation gives."""
    assert assess_month(session, month, rules, now=now, kept=kept) == assess_month(
        session, month, rules, now=now
    )


def test_a_finished_month_is_computed_once_and_equals_a_fresh_one(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    build_city(session)
    rules, kept = _rules(), KeptMonths(session_factory)
    _same(session, FEBRUARY, rules, NOW, kept)
    assert kept.computed == {FEBRUARY: 1, JANUARY: 1}
    session.rollback()  # a new view of the data, as the next refresh has
    _same(session, FEBRUARY, rules, NOW + timedelta(minutes=1), kept)
    assert kept.computed == {FEBRUARY: 1, JANUARY: 1}
    assert session.query(KeptMonth).count() == 2


def test_the_hand_built_city_reads_back_what_it_computes(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    build_handbuilt(session)
    session.commit()
    rules, kept = load_rules(), KeptMonths(session_factory)
    for _ in range(2):
        _same(session, "2026-10", rules, HANDBUILT_NOW, kept)
        session.rollback()
    assert kept.computed["2026-10"] == 1


def test_a_direct_update_of_a_past_case_makes_its_month_dirty(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    build_city(session)
    rules, kept = _rules(), KeptMonths(session_factory)
    assess_month(session, FEBRUARY, rules, now=NOW, kept=kept)
    january = session.scalars(select_month(1)).first()
    assert january is not None
    session.execute(update(Case).where(Case.id == january).values(severity=3))
    session.commit()
    _same(session, FEBRUARY, rules, NOW, kept)
    # February's repeat chains follow January's cases (repeat.history_days): it is dirty too.
    assert kept.computed == {FEBRUARY: 2, JANUARY: 2}


def test_cancelling_a_case_makes_its_month_dirty(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    build_city(session)
    rules, kept = _rules(), KeptMonths(session_factory)
    assess_month(session, FEBRUARY, rules, now=NOW, kept=kept)
    february = session.scalars(select_month(2)).first()
    session.execute(update(Case).where(Case.id == february).values(status=STATUS_CANCELLED))
    session.commit()
    _same(session, FEBRUARY, rules, NOW, kept)
    assert kept.computed[FEBRUARY] == 2


def test_the_clock_passing_an_open_problems_deadline_makes_its_month_dirty(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    build_city(session)
    rules, kept = _rules(), KeptMonths(session_factory)
    february = session.scalars(select_month(2)).first()
    deadline = NOW + timedelta(days=2)
    session.execute(
        update(Case)
        .where(Case.id == february)
        .values(deadline_at=deadline, handled_at=None, closed_at=None)
    )
    session.commit()
    _same(session, FEBRUARY, rules, NOW, kept)
    _same(session, FEBRUARY, rules, deadline, kept)  # not yet overdue
    assert kept.computed[FEBRUARY] == 1
    _same(session, FEBRUARY, rules, deadline + timedelta(minutes=1), kept)
    assert kept.computed[FEBRUARY] == 2


def test_publishing_leaves_the_kept_months_right(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    build_city(session)
    rules, kept = _rules(), KeptMonths(session_factory)
    assess_month(session, "2026-03", rules, now=NOW + timedelta(days=30), kept=kept)
    publish_month(session, JANUARY, rules, now=NOW)
    _same(session, "2026-03", rules, NOW + timedelta(days=30), kept)


def select_month(month: int) -> Select[tuple[int]]:
    """The live cases registered in a month of 2026, by id."""
    start = datetime(2026, month, 1)
    return (
        select(Case.id)
        .where(
            Case.registered_at >= start,
            Case.registered_at < start + timedelta(days=28),
            Case.status != STATUS_CANCELLED,
        )
        .order_by(Case.id)
    )
