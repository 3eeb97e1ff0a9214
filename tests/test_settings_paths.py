"""Each setting followed from the environment to the place it changes what the city sees.

Targets colour the KPI tiles, the warn fraction colours the map's open cases (served as
GeoJSON), the run-scheduler setting decides the serving process's jobs, the gunicorn entry
point serves with auto-refresh, and the calendar file moves a working-hour deadline. The hand-
built city (tests/handbuilt.py) at its NOW gives the figures; each is worked out in a comment.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import orjson
import pytest
from flask import Flask
from sqlalchemy.orm import Session

import app as app_module
from app import (
    Context,
    create_app,
    create_context,
    create_jobs,
    create_publisher,
    serving_jobs,
    wsgi,
)
from queries.models import STATUS_DISPATCHED, STATUS_VERIFYING, Case
from queries.workcalendar import CalendarFileError, default_calendar
from settings import Settings, SettingsError
from snapshot.build import make_builder
from snapshot.shared import CHECK_SECONDS, SharedSnapshots
from snapshot.store import DISTRICT, Snapshot, SnapshotStore
from tests.handbuilt import NOW, HandBuilt, build_handbuilt


class AtNow(Settings):
    """Settings whose clock is the hand-built city's NOW (the app's one clock)."""

    def now(self) -> datetime:
        return NOW


@pytest.fixture
def database(session: Session, tmp_path: Path) -> str:
    """The hand-built city committed to the per-test SQLite file; return its URL."""
    build_handbuilt(session)
    session.commit()
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture
def hb(session: Session, database: str) -> HandBuilt:
    """The ids of the committed hand-built city (read back by external id)."""
    ids = {int(ext[3:]): i for i, ext in session.query(Case.id, Case.external_id)}
    return HandBuilt(areas={}, departments={}, categories={}, cases=ids)


def env_settings(env: dict[str, str], database: str, tmp_path: Path) -> Settings:
    """Parse an environment the way every command does, with the clock at NOW."""
    parsed = Settings.from_env({"GRIDWATCH_DATABASE_URL": database,
                                "GRIDWATCH_DATA_DIR": str(tmp_path), **env})
    return AtNow(**{f: getattr(parsed, f) for f in parsed.__dataclass_fields__})


def tile(settings: Settings, database: str, key: str) -> dict:  # type: ignore[type-arg]
    ctx = create_context(settings)
    try:
        snapshot = make_builder(ctx.sessions, settings)(DISTRICT, NOW)
    finally:
        ctx.engine.dispose()
    return next(t for t in snapshot.payload["tiles"] if t["key"] == key)


# --- GRIDWATCH_TARGETS --------------------------------------------------------------------------

def test_targets_are_parsed_with_clear_errors() -> None:
    parsed = Settings.from_env({"GRIDWATCH_TARGETS": " ontime_close_rate=0.9 , open_overdue=3"})
    assert dict(parsed.targets) == {"ontime_close_rate": 0.9, "open_overdue": 3.0}
    assert dict(Settings.from_env({}).targets) == {"ontime_close_rate": 0.95}
    with pytest.raises(SettingsError, match="GRIDWATCH_TARGETS: no indicator called 'speed'"):
        Settings.from_env({"GRIDWATCH_TARGETS": "speed=3"})
    with pytest.raises(SettingsError, match="expected indicator=target pairs"):
        Settings.from_env({"GRIDWATCH_TARGETS": "open_overdue"})
    with pytest.raises(SettingsError, match="expected indicator=target pairs"):
        Settings.from_env({"GRIDWATCH_TARGETS": "open_overdue=many"})


@pytest.mark.parametrize(("target", "score", "light"), [
    # 超期未结案 now: cases 1 18 23 = 3; lower is better, so score = target / actual.
    ("3", 1.0, "green"),        # 3 / 3 = 1: met
    ("2.8", 0.933, "amber"),    # 2.8 / 3 = 0.933…: within 90% of the target
    ("2", 0.667, "red"),        # 2 / 3 = 0.667: below 90%
])
def test_a_target_in_the_environment_colours_its_tile(database: str, tmp_path: Path,
                                                      target: str, score: float,
                                                      light: str) -> None:
    settings = env_settings({"GRIDWATCH_TARGETS": f"open_overdue={target}"}, database, tmp_path)
    overdue = tile(settings, database, "open_overdue")
    assert (overdue["value"], overdue["target"], overdue["light"]) == (3, float(target), light)
    # The default target (按期结案率 95%) is replaced, not merged: that tile has no light now.
    rate = tile(settings, database, "ontime_close_rate")
    assert (rate["target"], rate["light"]) == (None, None)


# --- GRIDWATCH_WARN_FRACTION → the map's GeoJSON -----------------------------------------------

def map_lights(settings: Settings) -> dict[int, str]:
    """Serve the app and read the lights from /api/open-cases.geojson, as the map does."""
    ctx = create_context(replace(settings, open_wall=True))  # the wall's data, anonymously
    try:
        client = create_app(context=ctx).server.test_client()
        ctx.store.refresh()
        response = client.get("/api/open-cases.geojson")
        assert response.status_code == 200
        features = orjson.loads(response.get_data())["features"]
    finally:
        ctx.engine.dispose()
    return {f["properties"]["id"]: f["properties"]["s"] for f in features}


@pytest.mark.parametrize(("fraction", "light"), [
    # Case 24: dispatched 11-19 09:20, deadline 11-21 09:20 (48 h); at NOW (11-20 12:00) 26 h
    # 40 min are used: 26.667 / 48 = 0.556 of its time, and it is not due within two hours.
    ("", "g"),      # default 0.8: 0.556 ≤ 0.8, green
    ("0.56", "g"),  # 0.556 ≤ 0.56, green
    ("0.5", "y"),   # 0.556 > 0.5, yellow (临期)
])
def test_the_warn_fraction_reaches_the_map(database: str, hb: HandBuilt, tmp_path: Path,
                                           fraction: str, light: str) -> None:
    settings = env_settings({"GRIDWATCH_WARN_FRACTION": fraction}, database, tmp_path)
    lights = map_lights(settings)
    assert lights[hb.cases[24]] == light
    # Past the deadline is red whatever the fraction; no deadline yet (26, 27, 31) is green.
    assert (lights[hb.cases[1]], lights[hb.cases[26]]) == ("r", "g")


# --- GRIDWATCH_RUN_SCHEDULER --------------------------------------------------------------------

def context(settings: Settings) -> Iterator[Context]:
    ctx = create_context(settings)
    yield ctx
    ctx.engine.dispose()


def test_run_scheduler_false_starts_no_jobs_and_reads_the_shared_snapshot(database: str,
                                                                           tmp_path: Path) -> None:
    on = env_settings({"GRIDWATCH_SIMULATE": "true"}, database, tmp_path)
    off = env_settings({"GRIDWATCH_SIMULATE": "true", "GRIDWATCH_RUN_SCHEDULER": "false"},
                       database, tmp_path)
    for ctx in context(on):
        assert [job.id for job in serving_jobs(ctx)] == ["snapshot-refresh", "demo-simulator"]
        assert isinstance(ctx.store, SnapshotStore)  # this process builds its own
    for ctx in context(off):
        assert serving_jobs(ctx) == []
        # With no jobs in this process another one publishes: the store reads the table and
        # has no builder at all, so no poll can start a build here.
        assert isinstance(ctx.store, SharedSnapshots)
        assert [job.id for job in create_jobs(ctx)] == ["demo-simulator"]
        # `gridwatch scheduler` runs the publisher's two jobs and the simulator.
        assert [job.id for job in create_jobs(ctx, publisher=create_publisher(ctx))] == [
            "snapshot-publish", "snapshot-new-areas", "demo-simulator"]
    with pytest.raises(SettingsError, match="GRIDWATCH_RUN_SCHEDULER"):
        Settings.from_env({"GRIDWATCH_RUN_SCHEDULER": "sometimes"})


# --- the gunicorn entry point -------------------------------------------------------------------

@pytest.fixture
def gunicorn_env(database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A 10 s interval: stale only after 20 s, so the 2 s the worker may take to read a new
    # publish never reads as stale (with 1 s, the whole-second ages made it stale half the time).
    for name, value in {"GRIDWATCH_DATABASE_URL": database, "GRIDWATCH_DATA_DIR": str(tmp_path),
                        "GRIDWATCH_REFRESH_SECONDS": "10", "GRIDWATCH_OPEN_WALL": "true"}.items():
        monkeypatch.setenv(name, value)


def test_wsgi_serves_the_published_snapshot_and_builds_nothing(gunicorn_env: None) -> None:
    server = wsgi()
    assert isinstance(server, Flask)
    ctx: Context = server.config["GRIDWATCH"]
    try:
        assert isinstance(ctx.store, SharedSnapshots)
        client = server.test_client()
        response = client.get("/healthz")
        # Nothing published yet: the worker says so (503), it does not build one itself.
        assert (response.status_code, response.get_data(as_text=True)) == (
            503, "unavailable: no snapshot; no refresh yet")
        assert ctx.store.status(DISTRICT) == "pending"
        published = create_publisher(ctx).publish(DISTRICT)
        assert isinstance(published, Snapshot)
        time.sleep(CHECK_SECONDS)  # the worker reads the table at most this often
        response = client.get("/healthz")
        assert (response.status_code, response.get_data(as_text=True)) == (200, "ok")
        assert client.get("/api/version").get_data(as_text=True) == published.version
    finally:
        ctx.engine.dispose()


def test_wsgi_reads_the_environment_at_call_time_not_import(gunicorn_env: None,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    monkeypatch.setenv("GRIDWATCH_PORT", "eighty")
    with pytest.raises(SettingsError, match="GRIDWATCH_PORT"):
        app_module.wsgi()


# --- several workers on one database ------------------------------------------------------------

def test_two_workers_serve_the_same_version(database: str, session: Session,
                                            tmp_path: Path) -> None:
    """Two create_app contexts on one SQLite file (two gunicorn workers) and the scheduler's
    publisher agree on versions, through the routes the walls call."""
    settings = env_settings({"GRIDWATCH_REFRESH_SECONDS": "1", "GRIDWATCH_OPEN_WALL": "true"},
                            database, tmp_path)
    scheduler = create_context(settings)
    publisher = create_publisher(scheduler)
    publisher.publish(DISTRICT)
    workers = [create_context(settings, shared=True) for _ in range(2)]
    try:
        clients = [create_app(context=ctx).server.test_client() for ctx in workers]

        def served() -> list[tuple[str, str]]:
            out = []
            for ctx, client in zip(workers, clients):
                response = client.get("/api/open-cases.geojson")
                assert response.status_code == 200
                snapshot = ctx.store.get(DISTRICT)
                assert snapshot is not None
                out.append((snapshot.version, response.headers["ETag"]))
            return out

        before = served()
        assert before[0] == before[1]
        # New data: case 24 is handled (leaves the map); after the next publish both workers
        # read it and again agree, on a new version.
        case = session.query(Case).filter_by(external_id="HB-024").one()
        assert case.status == STATUS_DISPATCHED
        case.status, case.handled_at = STATUS_VERIFYING, NOW
        session.commit()
        publisher.refresh()
        time.sleep(CHECK_SECONDS)
        after = served()
        assert after[0] == after[1] and after[0] != before[0]
    finally:
        for ctx in [*workers, scheduler]:
            ctx.engine.dispose()


# --- GRIDWATCH_CALENDAR_FILE --------------------------------------------------------------------

def test_a_holiday_in_the_calendar_file_moves_a_deadline(database: str, tmp_path: Path) -> None:
    # 2027 is past what chinese-calendar knows, so only the file and weekends decide. An 8-hour
    # limit from Tuesday 2027-03-02 16:00 (sittings 08–12, 14–18): 2 h on Tuesday, 4 + 2 h on
    # Wednesday → Wednesday 16:00; with Wednesday a holiday in the file → Thursday 16:00.
    calendar = tmp_path / "calendar.yaml"
    calendar.write_text("holidays:\n  - 2027-03-03\nworkdays: []\n", encoding="utf-8")
    start = datetime(2027, 3, 2, 16, 0)
    plain = env_settings({}, database, tmp_path)
    custom = env_settings({"GRIDWATCH_CALENDAR_FILE": str(calendar)}, database, tmp_path)
    assert custom.calendar_file == str(calendar)
    assert default_calendar(plain.calendar_file).add_working_hours(start, 8) == datetime(
        2027, 3, 3, 16, 0)
    assert default_calendar(custom.calendar_file).add_working_hours(start, 8) == datetime(
        2027, 3, 4, 16, 0)
    # The simulator the app schedules sets its deadlines with that calendar.
    demo = env_settings({"GRIDWATCH_CALENDAR_FILE": str(calendar), "GRIDWATCH_SIMULATE": "true"},
                        database, tmp_path)
    for ctx in context(demo):
        simulator = create_jobs(ctx)[1].func.__self__  # type: ignore[attr-defined]
        assert simulator.calendar.add_working_hours(start, 8) == datetime(2027, 3, 4, 16, 0)


def test_a_missing_calendar_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CalendarFileError, match="nowhere.yaml: no such calendar file"):
        default_calendar(str(tmp_path / "nowhere.yaml"))
