"""The Open311 pull against a local GeoReport v2 server (loopback) replaying tests/data."""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from ingest.importer.mapping import load_mapping
from ingest.open311 import (
    DEFAULT_MAPPING,
    Open311Error,
    Open311Job,
    Open311Settings,
    PullResult,
    pull_once,
)
from queries.models import Case, CaseEvent, ImportWatermark
from queries.workcalendar import default_calendar
from tests.city311 import TIMEZONE, build_city311

PAYLOAD = json.loads((Path(__file__).parent / "data" / "open311_requests.json").read_text())
NOW = datetime(2026, 11, 5, 12, 0)  # city time (New York)
UTC_NOW = datetime(2026, 11, 5, 17, 0)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC).replace(tzinfo=None)


class Replay:
    """The server's state: the requests it serves and every query it was asked."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = copy.deepcopy(PAYLOAD)
        self.queries: list[dict[str, str]] = []
        self.fail_with: int | None = None
        self.delay = 0.0

    def answer(self, query: dict[str, str]) -> list[dict[str, Any]]:
        start = datetime.fromisoformat(query["start_date"].rstrip("Z"))
        end = datetime.fromisoformat(query["end_date"].rstrip("Z"))
        hits = sorted((i for i in self.items
                       if start <= _utc(i["updated_datetime"]) <= end),
                      key=lambda i: (_utc(i["updated_datetime"]), i["service_request_id"]))
        size, page = int(query["page_size"]), int(query["page"])
        return hits[(page - 1) * size: page * size]


@pytest.fixture
def server() -> Iterator[tuple[str, Replay]]:
    replay = Replay()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            replay.queries.append(query)
            if replay.delay:
                time.sleep(replay.delay)
            if replay.fail_with:
                self.send_error(replay.fail_with)
                return
            if parts.path != "/open311/v2/requests.json":
                self.send_error(404)
                return
            body = json.dumps(replay.answer(query)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/open311/v2", replay
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def city(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as s:
        build_city311(s)
        s.commit()


def pull(engine: Engine, endpoint: str, *, utc_now: datetime = UTC_NOW, **over: Any) -> PullResult:
    settings = Open311Settings(endpoint=endpoint, page_size=25, initial_days=10,
                               timeout_seconds=over.pop("timeout", 5.0), api_key="s3cret")
    return pull_once(engine, settings, load_mapping(DEFAULT_MAPPING), now=NOW,
                     city_timezone=TIMEZONE, calendar=default_calendar(), utc_now=utc_now)


def test_first_pull_pages_through_everything(engine: Engine, city: None, session: Session,
                                             server: tuple[str, Replay]) -> None:
    endpoint, replay = server
    result = pull(engine, endpoint)
    assert result.pages == 3  # 25 + 25 + 10
    assert (result.total("read"), result.total("inserted"), result.quarantined) == (60, 60, 0)
    assert [q["page"] for q in replay.queries] == ["1", "2", "3"]
    assert replay.queries[0]["start_date"] == "2026-10-26T17:00:00Z"  # 10 days back
    assert replay.queries[0]["end_date"] == "2026-11-05T17:00:00Z"
    assert replay.queries[0]["api_key"] == "s3cret"
    newest = max(_utc(i["updated_datetime"]) for i in PAYLOAD)
    assert result.watermark == newest
    assert session.get(ImportWatermark, "open311").since == newest
    # Offsets across the DST change: 01:30 EDT and 01:30 EST are both 01:30 on the wall.
    times = dict(session.execute(select(Case.external_id, Case.reported_at).where(
        Case.external_id.in_(["311-00021", "311-00022"]))).all())
    assert times == {"311-00021": datetime(2026, 11, 1, 1, 30),
                     "311-00022": datetime(2026, 11, 1, 1, 30)}


def test_next_pull_starts_at_the_watermark_and_updates(
        engine: Engine, city: None, session: Session, server: tuple[str, Replay]) -> None:
    endpoint, replay = server
    first = pull(engine, endpoint)
    replay.queries.clear()
    again = pull(engine, endpoint, utc_now=UTC_NOW + timedelta(minutes=10))
    assert replay.queries[0]["start_date"] == (first.watermark - timedelta(minutes=5)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    assert again.total("inserted") == 0 and again.total("updated") == 0
    # One request is closed later: the next pull updates it and logs an event.
    item = next(i for i in replay.items if i["service_request_id"] == "311-00002")
    item["status"], item["status_notes"] = "closed", "Resolved"
    item["updated_datetime"] = "2026-11-05T12:10:00-05:00"
    later = pull(engine, endpoint, utc_now=UTC_NOW + timedelta(minutes=20))
    assert later.total("updated") == 1 and later.total("inserted") == 0
    case = session.scalars(select(Case).where(Case.external_id == "311-00002")).one()
    assert case.status == "结案" and case.closed_at == datetime(2026, 11, 5, 12, 10)
    assert session.scalar(select(func.count()).select_from(CaseEvent)) == 1
    assert later.watermark == datetime(2026, 11, 5, 17, 10)


def test_a_failed_pull_keeps_the_watermark(engine: Engine, city: None, session: Session,
                                           server: tuple[str, Replay]) -> None:
    endpoint, replay = server
    replay.fail_with = 503
    with pytest.raises(Open311Error, match="HTTP 503") as info:
        pull(engine, endpoint)
    assert "s3cret" not in str(info.value)
    assert session.get(ImportWatermark, "open311") is None
    replay.fail_with, replay.delay = None, 1.5
    with pytest.raises(Open311Error):
        pull(engine, endpoint, timeout=0.3)
    assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_the_job_logs_failures_and_pulls(engine: Engine, city: None, session: Session,
                                         server: tuple[str, Replay],
                                         caplog: pytest.LogCaptureFixture) -> None:
    endpoint, replay = server
    settings = Open311Settings(endpoint=endpoint, page_size=100, initial_days=400,
                               interval_seconds=120)
    job = Open311Job(engine, settings, load_mapping(DEFAULT_MAPPING), clock=lambda: NOW,
                     city_timezone=TIMEZONE, calendar=default_calendar())
    assert (job.id, job.seconds) == ("open311-pull", 120)
    replay.fail_with = 500
    job()
    assert "open311 pull failed" in caplog.text
    replay.fail_with = None
    job()
    # The job pulls up to the real UTC now; 400 days back reach the whole payload.
    assert session.scalar(select(func.count()).select_from(Case)) == 60


def test_settings_from_env() -> None:
    settings = Open311Settings.from_env({"GRIDWATCH_OPEN311_ENDPOINT": "http://x/v2/",
                                         "GRIDWATCH_OPEN311_INTERVAL_SECONDS": "60"})
    assert (settings.endpoint, settings.interval_seconds) == ("http://x/v2", 60)
    with pytest.raises(Open311Error, match="INTERVAL_SECONDS"):
        Open311Settings.from_env({"GRIDWATCH_OPEN311_INTERVAL_SECONDS": "soon"})
    with pytest.raises(Open311Error, match="http"):
        Open311Settings.from_env({"GRIDWATCH_OPEN311_ENDPOINT": "ftp://x"})


def test_the_pull_is_a_job_of_the_deployment_only_with_an_endpoint(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from app import create_context, create_jobs
    from settings import Settings, SettingsError

    ctx = create_context(Settings(database_url=f"sqlite:///{tmp_path / 'g.sqlite3'}"))
    monkeypatch.delenv("GRIDWATCH_OPEN311_ENDPOINT", raising=False)
    assert [j.id for j in create_jobs(ctx)] == ["snapshot-refresh"]
    monkeypatch.setenv("GRIDWATCH_OPEN311_ENDPOINT", "http://127.0.0.1:9/open311/v2")
    monkeypatch.setenv("GRIDWATCH_OPEN311_INTERVAL_SECONDS", "120")
    jobs = {j.id: j for j in create_jobs(ctx)}
    assert set(jobs) == {"snapshot-refresh", "open311-pull"}
    assert jobs["open311-pull"].seconds == 120
    monkeypatch.setenv("GRIDWATCH_OPEN311_INTERVAL_SECONDS", "soon")
    with pytest.raises(SettingsError, match="GRIDWATCH_OPEN311_INTERVAL_SECONDS"):
        create_jobs(ctx)
