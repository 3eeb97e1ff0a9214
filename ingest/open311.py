"""Open311 pull: page through an endpoint's ``requests.json`` by update time, upsert each page.

GeoReport v2 (``GET {endpoint}/requests.json?start_date=…&end_date=…&page=…&page_size=…``)
returns service requests; each page goes through the same pipeline as a file import
(mapping ``ingest/mappings/open311.yaml`` unless set), so a request seen again is unchanged or
updated, never duplicated. The newest ``updated_datetime`` seen is stored in
``import_watermarks``; the next pull starts there minus an overlap, so a restart neither loses
requests nor re-reads the history. The watermark only moves after every page of a pull went
in: a failed pull is simply repeated.

Settings (environment, read once by ``Open311Settings.from_env``):

| variable | default | meaning |
|---|---|---|
| GRIDWATCH_OPEN311_ENDPOINT | (none: no pull) | base URL, e.g. ``http://311.intranet/open311/v2`` |
| GRIDWATCH_OPEN311_API_KEY | empty | sent as ``api_key`` |
| GRIDWATCH_OPEN311_JURISDICTION | empty | sent as ``jurisdiction_id`` |
| GRIDWATCH_OPEN311_INTERVAL_SECONDS | 300 | how often the scheduled job pulls |
| GRIDWATCH_OPEN311_PAGE_SIZE | 100 | requests per page |
| GRIDWATCH_OPEN311_TIMEOUT_SECONDS | 20 | per HTTP request |
| GRIDWATCH_OPEN311_MAPPING | shipped open311.yaml | the mapping file |
| GRIDWATCH_OPEN311_INITIAL_DAYS | 30 | how far back the very first pull reaches |
"""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from collections.abc import Mapping as EnvMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ingest.importer.mapping import Mapping
from ingest.importer.pipeline import CaseImporter, ImportSummary
from ingest.importer.readers import ReadError, Source, open311_list, open311_rows
from queries.models import ImportWatermark
from queries.workcalendar import WorkCalendar

log = logging.getLogger(__name__)

DEFAULT_MAPPING = Path(__file__).resolve().parent / "mappings" / "open311.yaml"
OVERLAP = timedelta(minutes=5)  # re-read a little: clocks and commit order are not exact
JOB_ID = "open311-pull"


class Open311Error(RuntimeError):
    """The endpoint cannot be read (HTTP error, timeout, not JSON); one-line message."""


@dataclass(frozen=True)
class Open311Settings:
    """Where and how to pull."""

    endpoint: str = ""
    api_key: str = ""
    jurisdiction_id: str = ""
    interval_seconds: int = 300
    page_size: int = 100
    timeout_seconds: float = 20.0
    mapping_file: str = str(DEFAULT_MAPPING)
    initial_days: int = 30
    max_pages: int = 10_000

    @classmethod
    def from_env(cls, env: EnvMapping[str, str] | None = None, **overrides: Any,
                 ) -> Open311Settings:
        """Read ``GRIDWATCH_OPEN311_*``; keyword overrides (CLI flags) win."""
        env = os.environ if env is None else env

        def number(name: str, default: float, kind: type = int) -> Any:
            raw = env.get(f"GRIDWATCH_OPEN311_{name}", "")
            if not raw:
                return default
            try:
                value = kind(raw)
            except ValueError as exc:
                raise Open311Error(f"GRIDWATCH_OPEN311_{name}={raw!r}: expected a number") from exc
            if value <= 0:
                raise Open311Error(f"GRIDWATCH_OPEN311_{name}={raw!r}: expected a number > 0")
            return value

        values: dict[str, Any] = {
            "endpoint": env.get("GRIDWATCH_OPEN311_ENDPOINT", "").rstrip("/"),
            "api_key": env.get("GRIDWATCH_OPEN311_API_KEY", ""),
            "jurisdiction_id": env.get("GRIDWATCH_OPEN311_JURISDICTION", ""),
            "interval_seconds": number("INTERVAL_SECONDS", 300),
            "page_size": number("PAGE_SIZE", 100),
            "timeout_seconds": number("TIMEOUT_SECONDS", 20.0, float),
            "mapping_file": env.get("GRIDWATCH_OPEN311_MAPPING") or str(DEFAULT_MAPPING),
            "initial_days": number("INITIAL_DAYS", 30),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        if values["endpoint"]:
            values["endpoint"] = str(values["endpoint"]).rstrip("/")
            if urllib.parse.urlsplit(values["endpoint"]).scheme not in ("http", "https"):
                raise Open311Error(f"GRIDWATCH_OPEN311_ENDPOINT={values['endpoint']!r}: "
                                   f"expected an http:// or https:// URL")
        return cls(**values)


@dataclass
class PullResult:
    """What one pull did."""

    source_system: str
    since: datetime
    until: datetime
    pages: int = 0
    summaries: list[ImportSummary] = field(default_factory=list)
    watermark: datetime | None = None

    def total(self, name: str) -> int:
        """Sum one counter (read, inserted, updated, unchanged) over the pages."""
        return sum(getattr(s, name) for s in self.summaries)

    @property
    def quarantined(self) -> int:
        """Rows quarantined over all pages."""
        return sum(s.quarantined_total for s in self.summaries)

    def line(self) -> str:
        """Return a one-line summary."""
        mark = f"{self.watermark:%Y-%m-%d %H:%M:%S}Z" if self.watermark else "unchanged"
        return (f"open311 {self.source_system}: {self.pages} page(s) updated "
                f"{self.since:%Y-%m-%d %H:%M}Z…{self.until:%Y-%m-%d %H:%M}Z · read "
                f"{self.total('read')} · inserted {self.total('inserted')} · updated "
                f"{self.total('updated')} · unchanged {self.total('unchanged')} · quarantined "
                f"{self.quarantined} · watermark {mark}")


Fetch = Callable[[str, float], bytes]


def http_get(url: str, timeout: float) -> bytes:
    """GET ``url`` and return the body; Open311Error with one line on any failure."""
    request = urllib.request.Request(url, headers={"Accept": "application/json",
                                                   "User-Agent": "gridwatch-open311"})
    shown = _hide_key(url)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        raise Open311Error(f"{shown}: HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise Open311Error(f"{shown}: {exc.reason}") from exc
    except TimeoutError as exc:
        raise Open311Error(f"{shown}: no answer within {timeout:g} s") from exc


def page_url(settings: Open311Settings, start: datetime, end: datetime, page: int) -> str:
    """Return the requests.json URL of one page (times as UTC ISO 8601)."""
    params = {"start_date": _iso(start), "end_date": _iso(end), "page": str(page),
              "page_size": str(settings.page_size)}
    if settings.api_key:
        params["api_key"] = settings.api_key
    if settings.jurisdiction_id:
        params["jurisdiction_id"] = settings.jurisdiction_id
    return f"{settings.endpoint}/requests.json?{urllib.parse.urlencode(params)}"


def read_watermark(session: Session, source_system: str) -> datetime | None:
    """Return the stored watermark (UTC, naive) of a source, or None before the first pull."""
    return session.scalar(select(ImportWatermark.since).where(
        ImportWatermark.source_system == source_system))


def pull_once(engine: Engine, settings: Open311Settings, mapping: Mapping, *, now: datetime,
              city_timezone: str, calendar: WorkCalendar, fetch: Fetch = http_get,
              utc_now: datetime | None = None) -> PullResult:
    """Pull every request updated since the watermark, page by page, and move the watermark."""
    if not settings.endpoint:
        raise Open311Error("no Open311 endpoint configured (GRIDWATCH_OPEN311_ENDPOINT)")
    until = utc_now or datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    importer = CaseImporter(engine, mapping, now=now, city_timezone=city_timezone,
                            calendar=calendar)
    with Session(engine) as session:
        mark = read_watermark(session, importer.source_system)
    since = (mark - OVERLAP) if mark else until - timedelta(days=settings.initial_days)
    result = PullResult(importer.source_system, since, until)
    newest = mark
    for page in range(1, settings.max_pages + 1):
        url = page_url(settings, since, until, page)
        body = fetch(url, settings.timeout_seconds)
        try:
            items = open311_list(json.loads(body), _hide_key(url))
        except (ValueError, ReadError) as exc:
            raise Open311Error(f"{_hide_key(url)}: not a GeoReport v2 answer ({exc})") from exc
        if not items:
            break
        label = f"open311 {since:%Y-%m-%dT%H:%M}Z page {page}"
        summary = importer.run(Source(label, lambda items=items: open311_rows(items)))
        result.summaries.append(summary)
        result.pages = page
        for item in items:
            stamp = _utc(item.get("updated_datetime")) if isinstance(item, dict) else None
            if stamp is not None and stamp <= until + OVERLAP and (newest is None
                                                                   or stamp > newest):
                newest = stamp
        if len(items) < settings.page_size:
            break
    if newest is not None and newest != mark:
        with Session(engine) as session, session.begin():
            row = session.get(ImportWatermark, importer.source_system)
            if row is None:
                session.add(ImportWatermark(source_system=importer.source_system, since=newest,
                                            pulled_at=until))
            else:
                row.since, row.pulled_at = newest, until
        result.watermark = newest
    return result


@dataclass(frozen=True)
class Open311Job:
    """The scheduled pull, shaped for ``JobDefinition(id=job.id, func=job, seconds=job.seconds)``.

    A failed pull is logged and retried at the next interval (the watermark has not moved).
    """

    engine: Engine
    settings: Open311Settings
    mapping: Mapping
    clock: Callable[[], datetime]  # the city's wall-clock now (Settings.now)
    city_timezone: str
    calendar: WorkCalendar
    id: str = JOB_ID

    @property
    def seconds(self) -> int:
        """The interval between pulls."""
        return int(self.settings.interval_seconds)

    def __call__(self) -> None:
        try:
            result = pull_once(self.engine, self.settings, self.mapping, now=self.clock(),
                               city_timezone=self.city_timezone, calendar=self.calendar)
        except Open311Error as exc:
            log.warning("open311 pull failed, will retry: %s", exc)
            return
        log.info("%s", result.line())


def _iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat() + "Z"


def _utc(value: Any) -> datetime | None:
    """Return a timestamp string as naive UTC (no offset: taken as UTC), or None."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _hide_key(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = [(k, "***" if k == "api_key" else v)
             for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
