"""Kept months (queries/kept_months.py): a finished month is computed once, read back while
nothing it read changed, and computed again when a case of its window, its volunteers or the
clock past an open problem's deadline changes it. Every kept read equals a fresh computation.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, Select, func, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from callbacks.rankings import RankingsPage
from cli import cli
from ingest.democity import generate
from ingest.importer.mapping import load_mapping
from ingest.importer.pipeline import CaseImporter
from ingest.importer.readers import open_source
from ingest.simulator import Simulator
from queries.assessment import assess_month, dirty_months, publish_month
from queries.assessment_data import KeptColumns, load_case_columns, micros
from queries.deck import gather
from queries.engine import make_engine, make_session_factory
from queries.kept_months import BACKSTOP_SECONDS, DayCache, DayRows, KeptMonths
from queries.models import (
    STATUS_CANCELLED,
    STATUS_CLOSED,
    STATUS_HANDLING,
    Case,
    KeptMonth,
    written_at,
)
from queries.rules import Rules, load_rules, parse_rules
from queries.workcalendar import default_calendar
from settings import Settings
from snapshot.build import make_builder
from snapshot.store import DISTRICT
from tests.assessment_city import NOW, RULES_YAML, build_city
from tests.city311 import TIMEZONE, build_city311
from tests.handbuilt import NOW as HANDBUILT_NOW
from tests.handbuilt import build_handbuilt

DATA = Path(__file__).parent / "data"
MAPPINGS = Path(__file__).parent.parent / "ingest" / "mappings"
IMPORT_NOW = datetime(2026, 11, 30, 12, 0)

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
    assert dirty_months(session, rules, now=NOW, kept=kept) == [JANUARY, FEBRUARY]
    assess_month(session, FEBRUARY, rules, now=NOW, kept=kept)
    session.rollback()
    assert dirty_months(session, rules, now=NOW, kept=kept) == []
    january = session.scalars(select_month(1)).first()
    assert january is not None
    session.execute(update(Case).where(Case.id == january).values(severity=3))
    session.commit()
    assert dirty_months(session, rules, now=NOW, kept=kept) == [JANUARY, FEBRUARY]
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


def _october_finishes(session: Session) -> list[tuple[int, datetime | None]]:
    session.rollback()
    return list(
        session.execute(
            select(Case.id, func.coalesce(Case.handled_at, Case.closed_at))
            .where(
                Case.registered_at >= datetime(2026, 10, 1),
                Case.registered_at < datetime(2026, 11, 1),
            )
            .order_by(Case.id)
        ).all()
    )


def test_the_simulator_closing_an_old_case_makes_its_month_dirty(
    engine: Engine, session: Session, session_factory: sessionmaker[Session]
) -> None:
    now = datetime(2026, 11, 20, 12, 0)
    generate(engine, cases=600, seed=11, now=now)
    october = session.scalars(
        select(Case.id)
        .where(
            Case.registered_at >= datetime(2026, 10, 25),
            Case.registered_at < datetime(2026, 11, 1),
            Case.closed_at.is_not(None),
        )
        .limit(3)
    ).all()
    session.execute(
        update(Case)
        .where(Case.id.in_(october))
        .values(status=STATUS_HANDLING, handled_at=None, closed_at=None)
    )  # still being handled
    session.commit()
    rules, kept = load_rules(), KeptMonths(session_factory)
    _same(session, "2026-11", rules, now + timedelta(days=20), kept)
    before = _october_finishes(session)
    simulator = Simulator(session_factory, seed=1)
    moment = now + timedelta(days=20)
    while _october_finishes(session) == before:
        moment += timedelta(hours=1)
        simulator.tick(moment)
        assert moment < now + timedelta(days=60), "the simulator closed no October case"
    computed = kept.computed["2026-10"]
    _same(session, "2026-11", rules, moment, kept)
    assert kept.computed["2026-10"] == computed + 1


def test_a_re_import_with_a_change_makes_its_month_dirty(
    engine: Engine, session: Session, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    build_city311(session)
    build_handbuilt(session)
    session.commit()
    mapping = MAPPINGS / "cases_311.yaml"
    text = (DATA / "cases_311.csv").read_bytes()
    importer = CaseImporter(
        engine,
        load_mapping(mapping),
        now=IMPORT_NOW,
        city_timezone=TIMEZONE,
        calendar=default_calendar(),
    )
    m = load_mapping(mapping)
    importer.run(open_source(DATA / "cases_311.csv", m.format, encoding=m.encoding, sheet=m.sheet))
    rules, kept = load_rules(), KeptMonths(session_factory)
    _same(session, "2026-10", rules, IMPORT_NOW, kept)
    computed = kept.computed["2026-10"]
    old = b"101000001,2026-10-27 14:26:00,2026-10-30 14:26:00,,Open,,"
    new = (
        b"101000001,2026-10-27 14:26:00,2026-10-30 14:26:00,2026-10-29 09:00:00,Closed,"
        b"Case Resolved,"
    )
    edited = tmp_path / "cases_311.csv"
    edited.write_bytes(text.replace(old, new))
    summary = CaseImporter(
        engine, m, now=IMPORT_NOW, city_timezone=TIMEZONE, calendar=default_calendar()
    ).run(open_source(edited, m.format, encoding=m.encoding, sheet=m.sheet))
    assert summary.updated == 1
    session.rollback()
    _same(session, "2026-10", rules, IMPORT_NOW, kept)
    assert kept.computed["2026-10"] == computed + 1


EDITS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=10_000),  # which live case (modulo their number)
        st.sampled_from(["severity", "rework", "open", "close", "cancel", "move", "deadline",
                         "reregister"]),
        st.integers(min_value=0, max_value=72),  # hours after NOW the wall looks
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=EDITS)
def test_a_randomised_history_reads_back_what_a_fresh_computation_gives(
    session: Session, session_factory: sessionmaker[Session], edits: list[tuple[int, str, int]]
) -> None:
    if not session.scalar(select(func.count()).select_from(Case)):
        build_city(session)
        session.commit()
    _written_long_ago(session)  # each look finds only the edits since: the kept rows are used
    rules, kept = _rules(), KeptMonths(session_factory, margin=timedelta(0))
    for pick, edit, hours in edits:
        # Every case, cancelled ones too: edits pile up over the examples on one database.
        ids = session.scalars(select(Case.id).order_by(Case.id)).all()
        case = session.get(Case, ids[pick % len(ids)])
        assert case is not None
        start = case.registered_at or NOW
        if edit == "severity":
            case.severity = 1 + (case.severity or 1) % 3
        elif edit == "rework":
            case.rework_count = (case.rework_count or 0) + 1
        elif edit == "open":
            case.handled_at = case.closed_at = None
        elif edit == "close":
            case.handled_at = case.closed_at = start + timedelta(hours=hours + 1)
        elif edit == "cancel":
            # or a cancelled case brought back
            case.status = STATUS_CLOSED if case.status == STATUS_CANCELLED else STATUS_CANCELLED
        elif edit == "move":
            case.lat += 0.001
        elif edit == "reregister":  # an earlier time: across months, in every window that read
            case.registered_at = start - timedelta(hours=hours * 10)
        else:
            case.deadline_at = NOW + timedelta(hours=hours)
        session.commit()
        _same(session, FEBRUARY, rules, NOW + timedelta(hours=hours), kept)
        session.rollback()


def test_the_wall_keeps_its_finished_months_and_shows_what_it_computed_live(
    session: Session, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    build_city(session)
    session.commit()
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES_YAML, encoding="utf-8")
    early_march = datetime(2026, 3, 2, 9, 0)  # before ranking.min_days: February is shown
    shown = [
        make_builder(session_factory, Settings(rules_file=str(rules)), keep_months=keep)(
            DISTRICT, early_march
        ).payload["ranking"]
        for keep in (True, False, True)
    ]
    assert shown[0]["month"] == FEBRUARY and shown[0] == shown[1] == shown[2]
    session.rollback()
    assert set(session.scalars(select(KeptMonth.month))) == {FEBRUARY, JANUARY}


# --- the rankings page, the deck and the CLI read the kept months too ---------------------------

def test_the_rankings_page_and_the_deck_read_what_the_wall_kept(
    session: Session, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """One computation of February and January serves the page, a second page (another
    worker) and the deck; each equals a fresh computation."""
    build_city(session)
    session.commit()
    rules = _rules()
    fresh = assess_month(session, FEBRUARY, rules, now=NOW)
    first = RankingsPage(session_factory, Settings(data_dir=tmp_path), clock=lambda: NOW)
    assert first.assessment(FEBRUARY, rules) == fresh
    assert first.kept.computed == {FEBRUARY: 1, JANUARY: 1}
    second = RankingsPage(session_factory, Settings(data_dir=tmp_path), clock=lambda: NOW)
    assert second.assessment(FEBRUARY, rules) == fresh
    assert second.kept.computed == {}  # read back, not computed
    kept = KeptMonths(session_factory)
    with session_factory() as reading:
        deck = gather(reading, FEBRUARY, rules, now=NOW, kept=kept)
    assert deck.assessment == fresh and kept.computed == {}


def test_the_assess_command_keeps_the_months_it_computes(database_url: str, engine: Engine,
                                                         tmp_path: Path) -> None:
    with Session(engine) as s:
        build_city(s)
        s.commit()
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(RULES_YAML, encoding="utf-8")
    env = {"GRIDWATCH_DATABASE_URL": database_url, "GRIDWATCH_DATA_DIR": str(tmp_path),
           "GRIDWATCH_AS_OF": NOW.isoformat()}
    outputs = []
    for _ in range(2):
        result = CliRunner().invoke(cli, ["assess", "--month", FEBRUARY, "--rules",
                                          str(rules_file)], env=env)
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    assert outputs[0] == outputs[1]
    with Session(engine) as s:
        assert sorted(s.scalars(select(KeptMonth.month))) == [JANUARY, FEBRUARY]


# --- O(changes): the day rows are re-read only for days written since the last look -----------

def test_a_refresh_rereads_only_the_days_written_since_the_last(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    build_city(session)
    session.commit()
    rules, kept = _rules(), KeptMonths(session_factory)
    kept.days = DayCache(margin=timedelta(0))  # no margin for late commits here
    _same(session, FEBRUARY, rules, NOW, kept)
    first = kept.days.loaded_days
    assert first > 0
    session.rollback()
    _same(session, FEBRUARY, rules, NOW, kept)
    assert kept.days.loaded_days == first  # nothing written: no day read again
    january = session.scalars(select_month(1)).first()
    assert january is not None
    session.execute(update(Case).where(Case.id == january).values(severity=3))
    session.commit()
    _same(session, FEBRUARY, rules, NOW, kept)
    assert kept.days.loaded_days == first + 1  # that case's registration day only
    assert kept.computed == {FEBRUARY: 2, JANUARY: 2}  # and both months it feeds are dirty


def _written_long_ago(session: Session) -> None:
    """Every case written an hour ago: a look then finds only what the test writes."""
    session.execute(update(Case).values(updated_at=written_at() - timedelta(hours=1)))
    session.commit()


def _february_kept(session: Session, session_factory: sessionmaker[Session]
                   ) -> tuple[Rules, KeptMonths]:
    """The city, written an hour ago, and February kept by a process that looks with no
    margin (so each look finds exactly what the test writes)."""
    build_city(session)
    session.commit()
    _written_long_ago(session)
    rules, kept = _rules(), KeptMonths(session_factory, margin=timedelta(0))
    _same(session, FEBRUARY, rules, NOW, kept)
    session.rollback()
    return rules, kept


def test_a_dirty_month_is_tallied_again_from_the_kept_columns(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    """Closing cases re-reads them by id and runs no repeat detection again; moving one reruns
    detection on the patched columns; either way the month equals a fresh computation."""
    rules, kept = _february_kept(session, session_factory)
    whole = kept.columns.read_whole
    detections = kept.repeats.computed + kept.repeats.extended
    assert whole > 0 and detections > 0
    february = session.scalars(select_month(2).limit(3)).all()
    session.execute(update(Case).where(Case.id.in_(february)).values(
        status=STATUS_CLOSED, handled_at=NOW, closed_at=NOW))
    session.commit()
    _same(session, FEBRUARY, rules, NOW, kept)
    assert kept.computed[FEBRUARY] == 2  # dirty, and tallied again
    assert kept.columns.read_whole == whole and kept.columns.read_again == 3
    assert kept.repeats.computed + kept.repeats.extended == detections  # no chain moved
    session.rollback()
    session.execute(update(Case).where(Case.id == february[0]).values(lat=Case.lat + 0.001))
    session.commit()
    _same(session, FEBRUARY, rules, NOW, kept)
    assert kept.columns.read_whole == whole
    assert kept.repeats.computed + kept.repeats.extended > detections


def test_a_write_without_updated_at_on_a_day_read_again_is_in_the_kept_columns(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    """SQL by hand cancels a case and leaves its updated-at; a case of the same day is then
    written as the app writes. The day's row is read again, so the columns read that day's
    cases again too: a month tallied from them is never kept under a digest that holds the
    cancellation while its figures do not (found by review: it then outlived the backstop)."""
    rules, kept = _february_kept(session, session_factory)
    cancelled = session.get(Case, session.scalars(select_month(2)).first())
    assert cancelled is not None
    copied = {c.key: getattr(cancelled, c.key) for c in Case.__table__.columns
              if c.key not in ("id", "updated_at", "repeat_of_id")}
    session.execute(text("UPDATE cases SET status = :cancelled WHERE id = :id"),
                    {"cancelled": STATUS_CANCELLED, "id": cancelled.id})
    session.commit()
    # then a case of that day as the app writes one (its updated-at stamped)
    session.add(Case(**{**copied, "external_id": "same-day", "lat": cancelled.lat + 0.01,
                        "registered_at": cancelled.registered_at + timedelta(minutes=5)}))
    session.commit()
    _same(session, FEBRUARY, rules, NOW, kept)
    assert kept.columns.days_again >= 1


def test_a_refresh_that_fails_after_its_look_loses_no_change(
    session: Session, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection drops while the written cases are re-read: the next refresh reads the
    ranges again rather than keep the case's old row (its old day is not read again) under a
    fresh digest."""
    rules, kept = _february_kept(session, session_factory)
    moved = session.get(Case, session.scalars(select_month(2)).first())
    assert moved is not None and moved.registered_at is not None
    moved.registered_at -= timedelta(days=10)  # only its new day's row is read again
    session.commit()

    def dropped(*_args: object) -> None:
        raise OperationalError("SELECT", {}, Exception("server closed the connection"))

    with monkeypatch.context() as patch:
        patch.setattr(KeptColumns, "_patch", dropped)
        with pytest.raises(OperationalError):
            assess_month(session, FEBRUARY, rules, now=NOW, kept=kept)
    session.rollback()
    _same(session, FEBRUARY, rules, NOW, kept)


def test_without_updated_at_every_day_is_read_each_time(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    """A view offering ``NULL AS updated_at``: the cache cannot tell, so it reads every day."""
    build_city(session)
    session.execute(update(Case).values(updated_at=None))
    session.commit()
    rules, kept = _rules(), KeptMonths(session_factory)
    _same(session, FEBRUARY, rules, NOW, kept)
    first = kept.days.loaded_days
    session.rollback()
    _same(session, FEBRUARY, rules, NOW, kept)
    assert kept.days.loaded_days == 2 * first


def test_a_write_that_keeps_no_updated_at_is_seen_by_the_backstop(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    """SQL by hand that leaves ``updated_at`` as it was: unseen until every day is re-read,
    BACKSTOP_SECONDS after the last full read; then the month is dirty and right again."""
    build_city(session)
    session.commit()
    rules, kept = _rules(), KeptMonths(session_factory)
    moment = [0.0]
    kept.days = DayCache(monotonic=lambda: moment[0])
    _same(session, FEBRUARY, rules, NOW, kept)
    session.rollback()
    january = session.scalars(select_month(1)).first()
    session.execute(text("UPDATE cases SET severity = 3, updated_at = '2000-01-01 00:00:00' "
                         "WHERE id = :id"), {"id": january})
    session.commit()
    assess_month(session, FEBRUARY, rules, now=NOW, kept=kept)
    assert kept.computed == {FEBRUARY: 1, JANUARY: 1}  # not seen yet: the kept result stands
    session.rollback()
    moment[0] = BACKSTOP_SECONDS
    _same(session, FEBRUARY, rules, NOW, kept)
    assert kept.computed == {FEBRUARY: 2, JANUARY: 2}


def test_a_backstop_reads_again_only_the_cases_of_the_days_it_finds_changed(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    """At the backstop every day's row is read again and compared with the kept one. A month
    made dirty then by the app's write (its updated-at stamped) is tallied again with that
    case's day read again alone (it read the kept ranges whole); a write by hand without
    updated-at reads its day's cases again at the next backstop; the month always equals a
    fresh computation."""
    build_city(session)
    session.commit()
    _written_long_ago(session)
    moment = [0.0]
    rules = _rules()
    kept = KeptMonths(session_factory, margin=timedelta(0), monotonic=lambda: moment[0])
    _same(session, FEBRUARY, rules, NOW, kept)
    session.rollback()
    days, whole = kept.days.loaded_days, kept.columns.read_whole
    closed = session.scalars(select_month(2)).first()
    session.execute(update(Case).where(Case.id == closed).values(
        status=STATUS_CLOSED, handled_at=NOW, closed_at=NOW))
    session.commit()
    moment[0] = BACKSTOP_SECONDS
    _same(session, FEBRUARY, rules, NOW, kept)
    session.rollback()
    assert kept.days.loaded_days == 2 * days  # every row read again
    assert (kept.columns.read_whole, kept.columns.days_again) == (whole, 1)  # one day changed
    assert kept.computed == {FEBRUARY: 2, JANUARY: 1}  # January found clean
    january = session.scalars(select_month(1)).first()
    session.execute(text("UPDATE cases SET severity = 3, updated_at = :long_ago WHERE id = :id"),
                    {"id": january, "long_ago": written_at() - timedelta(hours=1)})
    session.commit()
    moment[0] = 2 * BACKSTOP_SECONDS
    _same(session, FEBRUARY, rules, NOW, kept)
    assert (kept.columns.read_whole, kept.columns.days_again) == (whole, 2)  # its day alone
    assert kept.computed == {FEBRUARY: 3, JANUARY: 2}


def test_another_requests_look_between_a_load_and_a_digest_keeps_nothing_stale(
    session: Session, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One assessment tallies January from the cases it loaded for February; meanwhile an app
    write lands on January and another request's refresh begins (marking that day for reading
    again). January's digest is made of the rows this assessment met before its load, so it
    is kept as its tally saw it, and found dirty by the next refresh (found by review)."""
    build_city(session)
    session.commit()
    _written_long_ago(session)
    january = session.scalars(select_month(1)).first()
    session.rollback()
    rules = _rules()
    kept = KeptMonths(session_factory, margin=timedelta(0))
    original = KeptMonths.put

    def put(self: KeptMonths, month: str, *args: object) -> None:
        original(self, month, *args)  # type: ignore[arg-type]
        if month == FEBRUARY:  # meanwhile: an app write, and another request's refresh begins
            with session_factory() as writer:
                writer.execute(update(Case).where(Case.id == january).values(
                    rework_count=func.coalesce(Case.rework_count, 0) + 5))
                writer.commit()
            with session_factory() as other:
                DayRows(other, self.days)

    with monkeypatch.context() as patch:
        patch.setattr(KeptMonths, "put", put)
        assess_month(session, FEBRUARY, rules, now=NOW, kept=kept)
    session.rollback()
    assert kept.computed == {FEBRUARY: 1, JANUARY: 1}
    _same(session, JANUARY, rules, NOW, kept)
    assert kept.computed[JANUARY] == 2  # dirty: computed again with the write


def test_an_undone_hand_write_the_columns_alone_saw_is_gone_after_their_backstop(
    session: Session, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another connection cancels a case by hand between an assessment's day rows and its
    columns (so the columns hold it, the rows not), then the cancellation is undone by hand:
    every row reads as kept again and no day version moves. Within the columns' own backstop
    they are read whole again, so a month made dirty by an app write is tallied right (found
    by review: without it the columns kept the undone state for the life of the process)."""
    build_city(session)
    session.commit()
    _written_long_ago(session)
    february = list(session.scalars(select_month(2)))
    victim = session.get(Case, february[0])
    assert victim is not None and victim.registered_at is not None
    status, day = victim.status, victim.registered_at.date()
    other = next(c for c in february[1:]
                 if (session.get(Case, c).registered_at or NOW).date() != day)
    session.rollback()
    moment = [0.0]
    rules = _rules()
    kept = KeptMonths(session_factory, margin=timedelta(0), monotonic=lambda: moment[0])
    original = KeptColumns.load

    def load(self: KeptColumns, *args: object) -> object:
        if self.read_whole == 0:  # another connection commits between the rows and the columns
            with session_factory() as writer:
                writer.execute(text("UPDATE cases SET status = :s WHERE id = :id"),
                               {"s": STATUS_CANCELLED, "id": victim.id})
                writer.commit()
        return original(self, *args)  # type: ignore[arg-type]

    with monkeypatch.context() as patch:
        patch.setattr(KeptColumns, "load", load)
        assess_month(session, FEBRUARY, rules, now=NOW, kept=kept)
    session.rollback()
    session.execute(text("UPDATE cases SET status = :s WHERE id = :id"),
                    {"s": status, "id": victim.id})
    session.commit()
    whole = kept.columns.read_whole
    moment[0] = KeptColumns.BACKSTOP_SECONDS
    session.execute(update(Case).where(Case.id == other).values(
        rework_count=func.coalesce(Case.rework_count, 0) + 1))
    session.commit()
    _same(session, FEBRUARY, rules, NOW, kept)
    assert kept.columns.read_whole > whole


def test_the_case_columns_read_iso_times_whatever_the_database_datestyle(
        session: Session, database_url: str) -> None:
    """The columns fetch their times as text, which follows DateStyle: under a database set to
    the SQL style a cast gave ``05/01/2026 10:00:00``, which numpy cannot read (found by
    review). The engine asks for ISO on every connection."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("DateStyle is PostgreSQL's")
    build_city(session)
    session.commit()
    database = session.scalar(text("SELECT current_database()"))
    session.execute(text(f"ALTER DATABASE \"{database}\" SET datestyle = 'SQL, DMY'"))
    session.commit()
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as fresh:
            assert str(fresh.scalar(text("SHOW datestyle"))).startswith("ISO")
            columns = load_case_columns(fresh, datetime(2026, 1, 1), datetime(2026, 3, 1))
            first = fresh.scalar(select(Case.registered_at).where(Case.id == int(columns.ids[0])))
    finally:
        engine.dispose()
    assert first is not None and columns.registered[0] == micros(first)


def test_day_rows_sum_the_coordinates_exactly(session: Session) -> None:
    """A day's checksum sums coordinates as whole micro-degrees: integers, so the sum is the
    same whatever order the database adds in (PostgreSQL's parallel aggregate added floats in
    another order at each read, and no new process found a kept month clean)."""
    build_city(session)
    session.commit()
    rows = DayRows(session)._load(datetime(2026, 1, 1), datetime(2026, 3, 1))
    cases = session.execute(select(Case.registered_at, Case.lat, Case.lon, Case.id).where(
        Case.status != STATUS_CANCELLED, Case.registered_at >= datetime(2026, 1, 1),
        Case.registered_at < datetime(2026, 3, 1))).all()
    assert rows and cases
    by_day: dict[str, list[int]] = {}
    for registered, lat, lon, case_id in cases:
        micro = (math.floor(lat * 1e6 + 0.5), math.floor(lon * 1e6 + 0.5))
        sums = by_day.setdefault(f"{registered:%Y-%m-%d}", [0, 0, 0, 0])
        sums[0] += micro[0]
        sums[1] += micro[1]
        sums[2] += micro[0] * (case_id % 65536)
        sums[3] += micro[1] * (case_id % 65536)
    for day, row in rows.items():
        exact = (row[4], row[5], row[-2], row[-1])
        assert not any(isinstance(v, float) for v in exact), (day, exact)
        assert [int(v) for v in exact] == by_day[day], day
