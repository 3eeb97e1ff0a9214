"""The shared snapshot of several workers (snapshot/shared.py) on the hand-built city.

One publisher (the scheduler) builds and writes; readers (the workers) serve what it wrote,
the same version in each, with no statement per poll and no build of their own.
"""

from __future__ import annotations

import gzip
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from queries.models import STATUS_DISPATCHED, STATUS_VERIFYING, Case, SharedSnapshot
from settings import Settings
from snapshot.build import make_builder
from snapshot.shared import SharedSnapshots, SnapshotPublisher, SnapshotTable, decode, encode
from snapshot.store import DISTRICT, Snapshot
from tests.handbuilt import NOW, build_handbuilt

STREET = "330199001"  # 城西街道 (S1)
T0 = datetime(2026, 12, 3, 8, 0)  # the UTC wall clock the stale badge reads
REFRESH = 60
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Clock:
    """A hand-moved UTC clock shared by the publisher and the readers."""

    at: datetime = T0

    def __call__(self) -> datetime:
        return self.at


@dataclass
class Statements:
    """Counts the SQL statements an engine runs (a reader must not run one per poll)."""

    count: int = 0
    texts: list[str] = field(default_factory=list)

    def __call__(self, *args: object) -> None:
        self.count += 1
        self.texts.append(str(args[2]))


@pytest.fixture
def city(session: Session) -> Session:
    build_handbuilt(session)
    session.commit()
    return session


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def table(session_factory: sessionmaker[Session], city: Session) -> SnapshotTable:
    return SnapshotTable(session_factory, session_factory)


@pytest.fixture
def publisher(session_factory: sessionmaker[Session], table: SnapshotTable,
              clock: Clock) -> SnapshotPublisher:
    settings = Settings(open_wall=True)
    return SnapshotPublisher(make_builder(session_factory, settings), table, REFRESH,
                             clock=lambda: NOW, now_utc=clock)


def reader(table: SnapshotTable, clock: Clock, check_seconds: float = 0.0) -> SharedSnapshots:
    return SharedSnapshots(table, REFRESH, clock=lambda: NOW, check_seconds=check_seconds,
                           now_utc=clock)


@pytest.fixture
def statements(engine: Engine) -> Iterator[Statements]:
    counter = Statements()
    event.listen(engine, "before_cursor_execute", counter)
    yield counter
    event.remove(engine, "before_cursor_execute", counter)


def same(a: Snapshot, b: Snapshot) -> None:
    """Every field a page or route reads is equal (gzip bytes compared decompressed)."""
    for name in ("area_code", "built_at", "payload", "version", "sections", "map_geojson",
                 "map_version", "boundaries", "density_geojson"):
        assert getattr(a, name) == getattr(b, name), name
    assert gzip.decompress(a.map_gzip) == gzip.decompress(b.map_gzip)
    assert gzip.decompress(a.density_gzip) == gzip.decompress(b.density_gzip)


def test_a_snapshot_survives_the_table_unchanged(publisher: SnapshotPublisher,
                                                 table: SnapshotTable, clock: Clock) -> None:
    built = publisher.publish(DISTRICT)
    assert isinstance(built, Snapshot)
    same(decode(DISTRICT, encode(built)), built)
    worker = reader(table, clock)
    served = worker.get(DISTRICT)
    assert served is not None
    same(served, built)
    assert worker.status(DISTRICT) == "ready"
    assert worker.stamp(DISTRICT) == built.version  # fresh: no -stale
    assert worker.refreshed_at(DISTRICT) == NOW  # built just now on the UTC clock


def test_workers_serve_one_version_and_a_poll_costs_no_statement(
        publisher: SnapshotPublisher, table: SnapshotTable, clock: Clock,
        statements: Statements) -> None:
    publisher.publish(DISTRICT)
    workers = [reader(table, clock, check_seconds=3600) for _ in range(3)]
    statements.count = 0
    stamps = {w.stamp(DISTRICT) for w in workers for _ in range(50)}
    assert len(stamps) == 1 and "none" not in stamps.pop()
    # The first poll of each worker reads the state (1 statement) and the body (1); the other
    # 49 polls of each read nothing: 6 statements for 150 polls, whatever the number of walls.
    assert statements.count == 6


def test_a_worker_keeps_checking_whether_polled_or_not(
        publisher: SnapshotPublisher, table: SnapshotTable, clock: Clock) -> None:
    # Two workers; a wall's polls reach only the first. Each checks the table from its own
    # thread, so both see the second publish without a poll (the database's statements per
    # worker do not depend on which workers the polls reach).
    publisher.publish(DISTRICT)
    polled, idle = (reader(table, clock, check_seconds=0.05) for _ in range(2))
    assert polled.get(DISTRICT) is not None
    # Checking every 50 ms: stopped at the end, or the rest of the suite shares the CPU with them.
    keepers = [worker.keep_checking() for worker in (polled, idle)]
    assert all(k.thread.daemon for k in keepers)
    clock.at = T0 + timedelta(seconds=30)
    publisher.publish(DISTRICT)
    clock.at = T0 + timedelta(seconds=60)
    # Published 30 s ago on the UTC clock: the wall's time is NOW − 30 s once a worker has read
    # the second publish's state (NOW − 60 s while it still holds the first's).
    second = NOW - timedelta(seconds=30)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(
            w.refreshed_at(DISTRICT) != second for w in (polled, idle)):
        time.sleep(0.05)
    for keeper in keepers:
        keeper.stop()
    assert not any(k.thread.is_alive() for k in keepers)
    assert [w.refreshed_at(DISTRICT) for w in (polled, idle)] == [second, second]
    assert polled.status(DISTRICT) == "ready" and idle.status(DISTRICT) == "pending"


def test_a_change_reaches_every_worker_after_the_next_publish(
        publisher: SnapshotPublisher, table: SnapshotTable, clock: Clock, city: Session) -> None:
    first = publisher.publish(DISTRICT)
    assert isinstance(first, Snapshot)
    workers = [reader(table, clock) for _ in range(2)]
    assert [w.stamp(DISTRICT) for w in workers] == [first.version] * 2
    case = city.scalars(select(Case).where(Case.external_id == "HB-024")).one()
    assert case.status == STATUS_DISPATCHED
    case.status, case.handled_at = STATUS_VERIFYING, NOW  # leaves the map's open cases
    city.commit()
    assert [w.stamp(DISTRICT) for w in workers] == [first.version] * 2  # not published yet
    publisher.refresh()
    after = {w.stamp(DISTRICT) for w in workers}
    assert len(after) == 1 and after != {first.version}


def test_a_street_wall_is_asked_for_built_by_the_publisher_and_then_served(
        publisher: SnapshotPublisher, table: SnapshotTable, clock: Clock) -> None:
    worker = reader(table, clock)
    assert worker.get(STREET) is None
    assert worker.status(STREET) == "pending"
    assert table.unbuilt() == [STREET]
    publisher.build_requested()
    assert table.unbuilt() == []
    snapshot = worker.get(STREET)
    assert snapshot is not None and snapshot.area_code == STREET
    assert snapshot.payload != {} and worker.status(STREET) == "ready"


def test_an_unknown_code_says_unknown_in_every_worker(publisher: SnapshotPublisher,
                                                      table: SnapshotTable, clock: Clock) -> None:
    worker = reader(table, clock)
    assert worker.get("999") is None
    publisher.build_requested()
    assert worker.get("999") is None
    assert worker.status("999") == "unknown"
    assert reader(table, clock).status("999") == "pending"  # a worker that never asked
    assert worker.get("9" * 65) is None  # longer than any code: never asked for
    assert table.unbuilt() == []


def test_an_area_nobody_asks_for_is_dropped_the_district_stays(
        publisher: SnapshotPublisher, table: SnapshotTable, clock: Clock,
        session_factory: sessionmaker[Session]) -> None:
    worker = reader(table, clock)
    worker.get(STREET)
    publisher.refresh()
    assert set(table.states()) == {DISTRICT, STREET}
    clock.at += timedelta(seconds=6 * REFRESH - 1)  # IDLE_INTERVALS intervals, less a second
    publisher.refresh()
    assert set(table.states()) == {DISTRICT, STREET}
    clock.at += timedelta(seconds=2)
    publisher.refresh()
    assert set(table.states()) == {DISTRICT}
    with session_factory() as s:
        assert s.scalar(select(SharedSnapshot.version).where(
            SharedSnapshot.area_code == DISTRICT)) is not None


def test_a_failed_build_keeps_the_last_snapshot_and_turns_stale_by_the_clock(
        publisher: SnapshotPublisher, table: SnapshotTable, clock: Clock) -> None:
    good = publisher.publish(DISTRICT)
    assert isinstance(good, Snapshot)
    worker = reader(table, clock)
    assert worker.stamp(DISTRICT) == good.version

    def down(_area: str, _now: datetime) -> Snapshot:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    publisher.builder = down
    clock.at += timedelta(seconds=REFRESH)
    publisher.refresh()
    served = worker.get(DISTRICT)
    assert served is not None and served.version == good.version  # the last good one stays
    assert worker.status(DISTRICT) == "ready"
    assert worker.error(DISTRICT) == "connection refused"
    assert not worker.is_stale(DISTRICT)  # one interval old: not stale yet
    clock.at += timedelta(seconds=REFRESH + 1)  # now more than two intervals since the build
    assert worker.is_stale(DISTRICT)
    assert worker.stamp(DISTRICT) == good.version + "-stale"


def test_a_worker_that_cannot_read_keeps_serving_and_recovers(
        publisher: SnapshotPublisher, table: SnapshotTable, clock: Clock, tmp_path: object,
        caplog: pytest.LogCaptureFixture) -> None:
    good = publisher.publish(DISTRICT)
    assert isinstance(good, Snapshot)
    worker = reader(table, clock)
    assert worker.stamp(DISTRICT) == good.version
    readable = worker.table.reads
    missing = create_engine(f"sqlite:///{tmp_path}/no/such/dir/db.sqlite3")
    worker.table.reads = sessionmaker(missing)
    with caplog.at_level(logging.WARNING, logger="snapshot.shared"):
        for _ in range(3):
            assert worker.stamp(DISTRICT) == good.version
    assert worker.status(DISTRICT) == "ready" and worker.error(DISTRICT)
    assert len([r for r in caplog.records if "cannot read" in r.message]) == 1  # once per outage
    clock.at += timedelta(seconds=2 * REFRESH + 1)
    assert worker.stamp(DISTRICT) == good.version + "-stale"
    worker.table.reads = readable
    publisher.refresh()
    assert worker.stamp(DISTRICT) == good.version and worker.error(DISTRICT) is None
    missing.dispose()


def test_a_worker_started_during_an_outage_says_unavailable_then_recovers(
        publisher: SnapshotPublisher, table: SnapshotTable, clock: Clock, tmp_path: object,
        session_factory: sessionmaker[Session]) -> None:
    missing = create_engine(f"sqlite:///{tmp_path}/no/such/dir/db.sqlite3")
    worker = SharedSnapshots(SnapshotTable(sessionmaker(missing), sessionmaker(missing)), REFRESH,
                             clock=lambda: NOW, check_seconds=0, now_utc=clock)
    assert worker.get(DISTRICT) is None
    assert worker.status(DISTRICT) == "unavailable"  # not "pending" for ever, not "unknown"
    assert worker.is_stale(DISTRICT)
    good = publisher.publish(DISTRICT)
    assert isinstance(good, Snapshot)
    worker.table = table
    assert worker.stamp(DISTRICT) == good.version
    missing.dispose()


def test_a_worker_that_may_not_write_still_serves_the_district(
        publisher: SnapshotPublisher, table: SnapshotTable, clock: Clock, tmp_path: object,
        caplog: pytest.LogCaptureFixture) -> None:
    """A SELECT-only role and no write URL: asking for a street fails (said once), the
    district, which the scheduler always builds, is served."""
    good = publisher.publish(DISTRICT)
    assert isinstance(good, Snapshot)
    missing = create_engine(f"sqlite:///{tmp_path}/no/such/dir/db.sqlite3")
    worker = SharedSnapshots(SnapshotTable(table.reads, sessionmaker(missing)), 0,
                             clock=lambda: NOW, check_seconds=0, now_utc=clock)
    with caplog.at_level(logging.WARNING, logger="snapshot.shared"):
        assert worker.get(STREET) is None
        assert worker.get(STREET) is None  # asked again (refresh 0): the same failure, no line
    assert len([r for r in caplog.records if "cannot ask" in r.message]) == 1
    served = worker.get(DISTRICT)
    assert served is not None and served.version == good.version
    missing.dispose()


def test_the_scheduler_command_publishes_every_interval(database_url: str, city: Session,
                                                        tmp_path: Path) -> None:
    """``gridwatch scheduler`` (beside gunicorn workers) writes the district each interval."""
    env = {**os.environ, "GRIDWATCH_DATABASE_URL": database_url,
           "GRIDWATCH_DATA_DIR": str(tmp_path), "GRIDWATCH_REFRESH_SECONDS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "cli", "scheduler"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    engine = create_engine(database_url)

    def published() -> datetime | None:
        with engine.connect() as conn:
            return conn.scalar(select(SharedSnapshot.refreshed_at).where(
                SharedSnapshot.area_code == DISTRICT))

    try:
        deadline = time.monotonic() + 30
        first = None
        while first is None and time.monotonic() < deadline and proc.poll() is None:
            first, _ = published(), time.sleep(0.2)
        assert first is not None, proc.stderr.read() if proc.poll() is not None else "no row"
        while (later := published()) == first and time.monotonic() < deadline:
            time.sleep(0.2)
        assert later is not None and later > first  # published again one interval later
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        engine.dispose()
