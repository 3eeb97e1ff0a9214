"""A page opened during a database outage says the data is unavailable and recovers by itself.

The store tells why an area has no snapshot (unknown / unavailable / pending / ready), so an
outage never reads as "没有这个区域编码"; the wall answers ``Retry`` (the router's PAGE_RETRY
re-renders it), the grid page covers its panels and polls (GRIDS_RETRY), and the rankings page
covers its panels and polls every few seconds until the database answers.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from dash import no_update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from callbacks import grids as grids_callbacks
from callbacks.rankings import OUTPUTS as RANK_OUTPUTS
from callbacks.rankings import RankingsPage
from dashboard import ids, shell
from dashboard.rankings.layout import POLL_MS
from dashboard.routing import PageRequest, Retry
from dashboard.screen.layout import page as screen_page
from settings import Settings
from snapshot.store import DISTRICT, Snapshot, SnapshotStore, UnknownArea
from tests.assessment_city import NOW as CITY_NOW
from tests.assessment_city import RULES_YAML, build_city
from tests.handbuilt import NOW, build_handbuilt
from tests.pages import page_request


def outage() -> OperationalError:
    return OperationalError("SELECT …", {}, Exception("unable to open database file"))


class Builder:
    """A snapshot builder whose database can be switched off; "nope" is no area."""

    def __init__(self) -> None:
        self.down = False
        self.calls = 0

    def __call__(self, area_code: str, now: datetime) -> Snapshot:
        self.calls += 1
        if self.down:
            raise outage()
        if area_code == "nope":
            raise UnknownArea(area_code)
        return Snapshot.create(area_code, now, {"tiles": [1]}, [])


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The store's monotonic clock, moved by hand."""
    now = [1000.0]
    monkeypatch.setattr("snapshot.store.time.monotonic", lambda: now[0])
    return now


# --- the store's status --------------------------------------------------------------------


def test_status_before_any_build_is_pending(clock: list[float]) -> None:
    store = SnapshotStore(builder=Builder(), refresh_seconds=10)
    assert store.status(DISTRICT) == "pending"  # never asked for
    store.watch("610104001")
    assert store.status("610104001") == "pending"  # asked for, no build finished yet


def test_status_ready_after_a_build(clock: list[float]) -> None:
    store = SnapshotStore(builder=Builder(), refresh_seconds=10)
    assert store.get(DISTRICT) is not None
    assert store.status(DISTRICT) == "ready" and store.error(DISTRICT) is None


def test_status_unknown_for_a_code_no_area_has(clock: list[float]) -> None:
    store = SnapshotStore(builder=Builder(), refresh_seconds=10)
    assert store.get("nope") is None
    assert store.status("nope") == "unknown"


def test_an_outage_is_unavailable_not_unknown_and_recovers(clock: list[float]) -> None:
    builder = Builder()
    builder.down = True
    store = SnapshotStore(builder=builder, refresh_seconds=10)
    assert store.get("610104001") is None
    assert store.status("610104001") == "unavailable"
    assert store.error("610104001") == "unable to open database file"
    assert store.get("610104001") is None and builder.calls == 1  # once per interval at most
    builder.down = False
    clock[0] += 10
    assert store.get("610104001") is not None  # the next interval tries again
    assert store.status("610104001") == "ready" and store.error("610104001") is None


def test_the_scheduled_refresh_ends_an_outage(clock: list[float]) -> None:
    builder = Builder()
    builder.down = True
    store = SnapshotStore(builder=builder, refresh_seconds=10)
    store.get(DISTRICT)
    assert store.status(DISTRICT) == "unavailable"
    builder.down = False
    store.refresh()  # the job, not a reader
    assert store.status(DISTRICT) == "ready"


def test_a_ready_area_stays_ready_through_an_outage_and_goes_stale(clock: list[float]) -> None:
    builder = Builder()
    store = SnapshotStore(builder=builder, refresh_seconds=10)
    first = store.get(DISTRICT)
    builder.down = True
    clock[0] += 25
    store.refresh()
    assert store.status(DISTRICT) == "ready" and store.get(DISTRICT) is first
    assert store.is_stale(DISTRICT) and store.error(DISTRICT) == "unable to open database file"


def test_an_outage_clears_an_earlier_unknown_only_when_the_area_is_built(
        clock: list[float]) -> None:
    builder = Builder()
    store = SnapshotStore(builder=builder, refresh_seconds=10)
    store.get("nope")
    assert store.status("nope") == "unknown"
    builder.down = True
    clock[0] += 10
    store.get("nope")
    assert store.status("nope") == "unknown"  # an outage does not make it an area


# --- the wall ------------------------------------------------------------------------------


def wall_request(store: SnapshotStore, query: dict[str, str] | None = None,
                 lang: str = "zh") -> PageRequest:
    return replace(page_request("/screen", query, lang=lang), snapshot=store.get,
                   area_status=store.status)


def test_the_wall_in_an_outage_retries_and_says_so(clock: list[float]) -> None:
    builder = Builder()
    builder.down = True
    store = SnapshotStore(builder=builder, refresh_seconds=10)
    answer = screen_page(wall_request(store))
    assert isinstance(answer, Retry)
    assert answer.content.children == "数据暂不可用，正在自动重试…"
    assert answer.content.className == "gw-notfound"


def test_the_wall_for_an_unknown_area_says_so_once(clock: list[float]) -> None:
    store = SnapshotStore(builder=Builder(), refresh_seconds=10)
    answer = screen_page(wall_request(store, {"area": "nope"}, lang="en"))
    assert not isinstance(answer, Retry)
    assert answer.children[0].children == "No area has this code"


def test_unavailable_messages() -> None:
    assert shell.create_unavailable("pending", "zh").children == "正在准备数据…"
    assert shell.create_unavailable("unavailable", "en").children == "Data unavailable — retrying…"


# --- the grid page and the rankings page ---------------------------------------------------


class DownSessions:
    """A session factory whose every query fails like an unreachable database, until up."""

    def __init__(self, real: sessionmaker[Session]) -> None:
        self.real = real
        self.down = True

    def __call__(self) -> Session:
        if self.down:
            raise outage()
        return self.real()


class FakeApp:
    """Collects what ``register`` wires, so the callbacks can be called directly."""

    def __init__(self) -> None:
        self.callbacks: list = []
        self.server = _Server()

    def callback(self, *args: object, **kwargs: object):  # noqa: ANN201
        def wire(fn):  # noqa: ANN001, ANN202
            self.callbacks.append(fn)
            return fn
        return wire

    def clientside_callback(self, *args: object, **kwargs: object) -> None:
        pass


class _Server:
    def get(self, _path: str):  # noqa: ANN201
        return lambda fn: fn


def test_the_grid_page_covers_its_panels_and_polls_until_the_database_answers(
        session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        build_handbuilt(session)
        session.commit()
    sessions = DownSessions(session_factory)
    app = FakeApp()
    grids_callbacks.register(app, sessions, Settings(refresh_seconds=10),  # type: ignore[arg-type]
                             clock=lambda: NOW)
    render = app.callbacks[0]
    out = dict(zip(grids_callbacks.OUTPUTS, render("?period=2026-11", None)))
    assert out[(ids.GRIDS_SHEET, "hidden")] is False
    assert out[(ids.GRIDS_RETRY, "disabled")] is False  # poll
    sheet = out[(ids.GRIDS_SHEET, "children")]
    assert sheet[0].children == "数据暂不可用，正在自动重试…"
    assert "没有这个区域编码" not in str(out)
    sessions.down = False
    out = dict(zip(grids_callbacks.OUTPUTS, render("?period=2026-11", 1)))
    assert out[(ids.GRIDS_SHEET, "hidden")] is True and out[(ids.GRIDS_RETRY, "disabled")] is True
    assert out[(ids.GRIDS_TABLE, "rowData")]  # the panels are filled


def test_the_grid_page_says_an_area_is_unknown_and_does_not_poll(
        session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        build_handbuilt(session)
        session.commit()
    app = FakeApp()
    grids_callbacks.register(app, session_factory, Settings(),  # type: ignore[arg-type]
                             clock=lambda: NOW)
    out = dict(zip(grids_callbacks.OUTPUTS, app.callbacks[0]("?area=garbage&lang=en", None)))
    sheet = out[(ids.GRIDS_SHEET, "children")]
    assert sheet[0].children == "No area has this code: garbage"
    assert sheet[1].href == "/grids?period=month&kpi=composite&lang=en"  # back to the district
    assert out[(ids.GRIDS_SHEET, "hidden")] is False and out[(ids.GRIDS_RETRY, "disabled")] is True
    assert out[(ids.GRIDS_TABLE, "rowData")] is no_update  # no empty grid drawn


def test_the_rankings_page_covers_its_panels_and_polls_fast_in_an_outage(
        session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    with session_factory() as session:
        build_city(session)
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES_YAML, encoding="utf-8")
    sessions = DownSessions(session_factory)
    page = RankingsPage(sessions, Settings(rules_file=str(rules)),  # type: ignore[arg-type]
                        clock=lambda: CITY_NOW)
    out = dict(zip(RANK_OUTPUTS, page.render("?month=2026-02", 0, None, None, True)))
    assert out[(ids.RANK_SHEET, "hidden")] is False
    assert out[(ids.RANK_SHEET, "children")][0].children == "数据暂不可用，正在自动重试…"
    assert out[(ids.RANK_TICK, "interval")] == shell.RETRY_MS
    sessions.down = False
    out = dict(zip(RANK_OUTPUTS, page.render("?month=2026-02", 0, 1, None, False)))
    assert out[(ids.RANK_SHEET, "hidden")] is True and out[(ids.RANK_TICK, "interval")] == POLL_MS
    assert out[(ids.RANK_TABLES, "children")]


def test_an_outage_warns_once_per_area_and_says_when_it_is_over(
        clock: list[float], caplog: pytest.LogCaptureFixture) -> None:
    builder = Builder()
    builder.down = True
    store = SnapshotStore(builder=builder, refresh_seconds=10)
    with caplog.at_level(logging.DEBUG, logger="snapshot.store"):
        for _ in range(4):
            store.refresh()
        builder.down = False
        store.refresh()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "snapshot 'district' failed, keeping the last good one: unable to open database file",
        "snapshot 'district' recovered: the database answers again",
    ]
