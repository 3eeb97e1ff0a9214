"""The running period's settled part, kept across refreshes, gives the plain scan's figures.

``queries.settled``: cases settled before the day's cutoff are read once and kept; every
indicator read that way must equal the scan of every case, however the cases move on between
two refreshes, on the hand-built city and on randomised histories (hypothesis).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import event, given
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from queries.indicators import (
    DUE_CONVENTIONS,
    IndicatorSet,
    IndicatorSettings,
    indicators,
    indicators_by_area,
)
from queries.models import LEVEL_GRID, LEVEL_STREET, STATUS_HANDLING, Case
from queries.periods import KINDS, period_for
from queries.settled import SettledParts, cutoff, live_after, settled_before
from tests.handbuilt import NOW, City, build_handbuilt
from tests.test_indicator_properties import (
    BASE,
    FAST,
    SPAN_MINUTES,
    Drawn,
    case_lists,
    case_row,
    city_db,  # noqa: F401 - the module's city, a fixture
)


def _all(session: Session, period_kind: str, now: datetime, rules: IndicatorSettings,
         settled: SettledParts | None) -> list[IndicatorSet]:
    """The district's figures, then every street's and grid's, of the period running at now."""
    period = period_for(period_kind, now)
    every = [indicators(session, period, now=now, settings=rules, settled=settled)]
    for level in (LEVEL_STREET, LEVEL_GRID):
        every += indicators_by_area(session, period, level=level, now=now, settings=rules,
                                    settled=settled).values()
    return every


def _move_on(session: Session, city: City, drawn: list[Drawn], now: datetime) -> None:
    """Insert or update every drawn case as it stands at ``now`` (stamping ``updated_at``);
    a case is named by its place in ``drawn``."""
    for n, d in enumerate(drawn):
        row = case_row(d, now, city)
        if row is None:
            continue
        row["external_id"] = f"P{n:04d}"
        case = session.scalars(select(Case).where(Case.external_id == row["external_id"])).first()
        if case is None:
            session.add(Case(**row))
        else:
            for name, value in row.items():
                setattr(case, name, value)
    session.flush()


later = st.integers(0, 3 * 24 * 60).map(lambda m: timedelta(minutes=m))
first_nows = st.integers(SPAN_MINUTES // 3, SPAN_MINUTES + 10 * 24 * 60).map(
    lambda m: BASE + timedelta(minutes=m))


@FAST
@given(drawn=case_lists, late=case_lists, now=first_nows, step=later,
       kind=st.sampled_from(KINDS), convention=st.sampled_from(DUE_CONVENTIONS),
       reopen=st.booleans())
def test_kept_settled_parts_give_the_scans_figures_as_cases_move_on(
    city_db: tuple[sessionmaker[Session], City], drawn: list[Drawn], late: list[Drawn],  # noqa: F811
    now: datetime, step: timedelta, kind: str, convention: str, reopen: bool,
) -> None:
    """Between two refreshes the cases move on, ``late`` ones arrive as a backdated import
    (some already settled), and settled ones may be sent back."""
    factory, city = city_db
    rules = IndicatorSettings(due_convention=convention)  # type: ignore[arg-type]
    settled = SettledParts(margin=timedelta(0))
    with factory() as session:
        _move_on(session, city, drawn, now)
        assert _all(session, kind, now, rules, settled) == _all(session, kind, now, rules, None)
        later_now = now + step
        _move_on(session, city, [*drawn, *late], later_now)
        if reopen:  # a settled case sent back (复核不通过), as a correction or import does
            session.execute(update(Case).where(Case.closed_at < cutoff(
                later_now, timedelta(minutes=rules.ontime_dispatch_minutes))).values(
                closed_at=None, status=STATUS_HANDLING, updated_at=datetime.now()))
        read = settled.computed
        assert _all(session, kind, later_now, rules, settled) == _all(
            session, kind, later_now, rules, None)
        event("settled parts kept" if settled.computed == read else "settled parts read again")
        session.rollback()


def test_the_settled_and_live_sets_split_every_case(session: Session) -> None:
    """Each case is in exactly one of the two parts, whatever its times (none, some, all)."""
    build_handbuilt(session)
    moment = datetime(2026, 11, 20)
    total = session.scalars(select(Case.id)).all()
    settled = session.scalars(select(Case.id).where(settled_before(moment))).all()
    live = session.scalars(select(Case.id).where(live_after(moment))).all()
    assert settled and live
    assert sorted([*settled, *live]) == sorted(total)


def test_the_hand_built_city_reads_the_same_with_kept_parts_and_reads_them_once(
        session: Session) -> None:
    build_handbuilt(session)
    session.commit()
    settled = SettledParts(margin=timedelta(0))
    for minutes in (0, 1, 30):
        now = NOW + timedelta(minutes=minutes)
        for kind in ("month", "year"):
            assert _all(session, kind, now, IndicatorSettings(), settled) == _all(
                session, kind, now, IndicatorSettings(), None)
    # One settled part per statement (district, streets, grids) and period, read at 12:00 only.
    assert settled.computed == 6


def test_a_new_day_moves_the_cutoff_and_reads_the_settled_part_again(session: Session) -> None:
    build_handbuilt(session)
    session.commit()
    settled = SettledParts(margin=timedelta(0))
    month = period_for("month", NOW)
    indicators(session, month, now=NOW, settled=settled)
    indicators(session, month, now=NOW + timedelta(hours=1), settled=settled)
    assert settled.computed == 1
    # 00:10 the next day is inside the 30-minute dispatch limit: the cutoff stays a day back.
    indicators(session, month, now=NOW.replace(hour=0, minute=10) + timedelta(days=1),
               settled=settled)
    assert settled.computed == 1
    indicators(session, month, now=NOW.replace(hour=0, minute=40) + timedelta(days=1),
               settled=settled)
    assert settled.computed == 2


def test_a_database_that_keeps_no_updated_at_reads_the_settled_part_every_time(
        session: Session) -> None:
    build_handbuilt(session)
    session.execute(update(Case).values(updated_at=None))
    session.commit()
    settled = SettledParts(margin=timedelta(0))
    month = period_for("month", NOW)
    for _ in range(2):
        assert indicators(session, month, now=NOW, settled=settled) == indicators(
            session, month, now=NOW)
    assert settled.computed == 2


def test_a_finished_period_is_read_by_the_plain_scan(session: Session) -> None:
    build_handbuilt(session)
    session.commit()
    settled = SettledParts(margin=timedelta(0))
    october = period_for("month", datetime(2026, 10, 15))
    assert indicators(session, october, now=NOW, settled=settled) == indicators(
        session, october, now=NOW)
    assert settled.computed == 0


def _written_between_the_statements(session: Session, target: int,
                                    values: dict[str, object]) -> tuple[object, object]:
    """Fake statements: the part's ids, after which ``target`` is written as READ COMMITTED
    lets another writer do between two statements; then the part."""

    def ids(_condition: object) -> set[int]:
        members = set(session.scalars(select(Case.id).where(settled_before(MOMENT))))
        session.execute(update(Case).where(Case.id == target).values(**values))
        session.commit()
        return members

    def read(_condition: object) -> dict[object, dict[str, int]]:
        return {None: {"reported": 1}}

    return ids, read


MOMENT = datetime(2026, 11, 20)


def test_a_case_reopened_between_the_part_s_statements_drops_it_at_the_next_look(
        session: Session) -> None:
    """It was one of the ids read before the part, and it is written: the next refresh reads
    the part again rather than count the case in it and in the live part."""
    build_handbuilt(session)
    session.commit()
    reopened = session.scalars(select(Case.id).where(settled_before(MOMENT))).first()
    assert reopened is not None
    settled = SettledParts(margin=timedelta(0))
    ids, read = _written_between_the_statements(
        session, reopened, {"closed_at": None, "status": STATUS_HANDLING})
    settled.rows(session, "k", MOMENT, read, ids)
    assert settled.computed == 1
    settled.rows(session, "k", MOMENT, read, lambda _c: set())
    assert settled.computed == 2  # dropped: the reopened case was in it
    settled.rows(session, "k", MOMENT, read, lambda _c: set())
    assert settled.computed == 2  # nothing written since: kept


def test_a_case_settled_between_the_part_s_statements_drops_it_at_the_next_look(
        session: Session) -> None:
    """Not one of the ids, but written and settled now: the next refresh reads the part again
    (it may or may not have been counted in it)."""
    build_handbuilt(session)
    session.commit()
    joined = session.scalars(select(Case.id).where(
        Case.closed_at.is_(None), Case.cancelled_at.is_(None),
        *(getattr(Case, t).is_(None) | (getattr(Case, t) < MOMENT - timedelta(days=1))
          for t in ("reported_at", "registered_at", "dispatched_at", "handled_at")))).first()
    assert joined is not None
    settled = SettledParts(margin=timedelta(0))
    ids, read = _written_between_the_statements(
        session, joined, {"closed_at": MOMENT - timedelta(days=1)})
    settled.rows(session, "k", MOMENT, read, ids)
    assert session.scalar(select(Case.id).where(Case.id == joined, settled_before(MOMENT)))
    settled.rows(session, "k", MOMENT, read, lambda _c: set())
    assert settled.computed == 2
