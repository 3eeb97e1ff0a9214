"""The public map's routes: the page, its data (once, with an ETag) and citizens' reports.

- ``GET /map`` — the page (``dashboard.places.page``), no login, gzipped;
- ``GET /api/places.geojson`` — every place with its open spans; rebuilt at most every
  ``FEED_SECONDS``, at once after a report in this process, and when the day changes;
- ``POST /api/places/<id>/report`` — JSON ``{"problem": "broken|dirty|closed", "text": …}``,
  at most ``MAX_BODY`` bytes, at most ``Settings.report_limit_per_hour`` per client and hour
  (counted in the database, so every worker shares the count; a bounded in-memory window
  turns floods away before they reach it).
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import cast

import orjson
from cachetools import TTLCache
from flask import Flask, Response, request
from sqlalchemy.orm import Session, sessionmaker

from dashboard.i18n import pick_language
from dashboard.places.geo import places_geojson, toilet_states_geojson
from dashboard.places.page import DATA_URL, render_map_page
from ingest.place_reports import MAX_TEXT, ReportRejected, client_key, report_place_problem
from queries.areas import descendants_at_level, district
from queries.coords import shift_geometry, transform_for
from queries.models import LEVEL_STREET
from queries.places import list_places, reports_since
from queries.workcalendar import default_calendar
from settings import Settings
from snapshot.store import DISTRICT

FEED_SECONDS = 30
MAX_BODY = 4096


class PlacesFeed:
    """The GeoJSON body and its ETag, rebuilt when stale, on a new day, or when invalidated."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings,
                 clock: Callable[[], datetime]) -> None:
        self.sessions, self.settings, self.clock = sessions, settings, clock
        self._lock = threading.Lock()
        self._built: tuple[str, float, bytes, bytes, str] | None = None

    def invalidate(self) -> None:
        """Forget the body (a report changed a place's state)."""
        with self._lock:
            self._built = None

    def warm(self) -> None:
        """Build the body in the background when it is stale (the page is being sent)."""
        if self._fresh():
            return
        threading.Thread(target=self.get, name="places-feed", daemon=True).start()

    def _fresh(self) -> bool:
        built = self._built
        return built is not None and built[0] == self.clock().date().isoformat() \
            and time.monotonic() - built[1] <= FEED_SECONDS

    def get(self) -> tuple[bytes, bytes, str]:
        """Return (body, gzipped body, etag)."""
        now = self.clock()
        day = now.date().isoformat()
        with self._lock:
            built = self._built
            if built is None or built[0] != day or time.monotonic() - built[1] > FEED_SECONDS:
                body = self._build(now)
                etag = hashlib.sha256(body).hexdigest()[:20]
                if built is not None and built[4] == etag:
                    body, zipped = built[2], built[3]
                else:
                    zipped = gzip.compress(body, 6)
                built = self._built = (day, time.monotonic(), body, zipped, etag)
            return built[2], built[3], built[4]

    def _build(self, now: datetime) -> bytes:
        shift = transform_for(self.settings.tile_crs)
        with self.sessions() as session:
            places = list_places(session)
            top = district(session)
            streets = descendants_at_level(session, top, LEVEL_STREET) if top else []
            outline = [{"type": "Feature", "properties": {"n": s.name},
                        "geometry": shift_geometry(orjson.loads(s.geometry), shift, 4)}
                       for s in streets]
        return places_geojson(places, default_calendar(self.settings.calendar_file), now,
                              outline, shift)


class BurstLimiter:
    """A bounded per-client sliding window in memory (the first line; the database is the law)."""

    def __init__(self, limit: int, seconds: float, max_clients: int = 10_000) -> None:
        self.limit, self.seconds = limit, seconds
        self._hits: TTLCache[str, deque[float]] = TTLCache(maxsize=max_clients, ttl=seconds)
        self._lock = threading.Lock()

    def allow(self, client: str) -> bool:
        """Count one attempt; False once ``limit`` attempts fell inside the window."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits.get(client) or deque()
            while hits and now - hits[0] > self.seconds:
                hits.popleft()
            if len(hits) >= self.limit:
                self._hits[client] = hits
                return False
            hits.append(now)
            self._hits[client] = hits
            return True


def _gzip_ok() -> bool:
    return bool(request.accept_encodings["gzip"])


def _zipped(body: bytes, zipped: bytes, mimetype: str) -> Response:
    gz = _gzip_ok()
    resp = Response(zipped if gz else body, mimetype=mimetype)
    if gz:
        resp.headers["Content-Encoding"] = "gzip"
    resp.vary.add("Accept-Encoding")
    return resp


def _error(status: int, message: str) -> Response:
    return Response(orjson.dumps({"ok": False, "message": message}), status=status,
                    mimetype="application/json")


def register(server: Flask, sessions: sessionmaker[Session], settings: Settings,
             clock: Callable[[], datetime], *,
             writes: sessionmaker[Session] | None = None) -> PlacesFeed:
    """Add the public map's page, data and report routes to ``server``; a citizen's report
    is written through ``writes`` (``sessions`` when None)."""
    writer = writes or sessions
    feed = PlacesFeed(sessions, settings, clock)
    burst = BurstLimiter(limit=settings.report_limit_per_hour * 2, seconds=3600)
    salt = settings.secret_key

    @server.get("/map")
    def places_map() -> Response:
        lang = pick_language(request.args.get("lang"), settings.language)
        with sessions() as session:
            top = district(session)
            center = (top.center_lat, top.center_lon) if top else (34.26, 108.94)
        shift = transform_for(settings.tile_crs)
        lon, lat = shift(center[1], center[0])
        page = render_map_page(lang=lang, now=clock(), center=(lat, lon),
                               directions_url=settings.directions_url, tile_url=settings.tile_url,
                               tile_attribution=settings.tile_attribution,
                               max_text=MAX_TEXT).encode("utf-8")
        resp = _zipped(page, gzip.compress(page, 6), "text/html")
        resp.cache_control.no_cache = True
        # The data request starts as the response's headers arrive, and its body is being
        # built meanwhile: the phone waits one round trip for it, not two plus the build.
        resp.headers["Link"] = f"<{DATA_URL}>; rel=preload; as=fetch; crossorigin=anonymous"
        feed.warm()
        return resp

    @server.get("/api/places.geojson")
    def places_geojson_route() -> Response:
        body, zipped, etag = feed.get()
        resp = _zipped(body, zipped, "application/geo+json")
        resp.set_etag(etag)
        resp.cache_control.no_cache = True
        return cast(Response, resp.make_conditional(request))

    states: TTLCache[str, tuple[bytes, str]] = TTLCache(maxsize=256, ttl=FEED_SECONDS)
    states_lock = threading.Lock()

    @server.get("/api/places-state.geojson")
    def places_state_route() -> Response:
        # The wall's and the grid page's toilet layer: states at this moment, for one area.
        area = request.args.get("area", "").strip()
        if area in ("", DISTRICT):
            area = ""
        with states_lock:
            cached = states.get(area)
        if cached is None:
            with sessions() as session:
                toilets = list_places(session, layer="toilet", area_code=area or None)
            body = toilet_states_geojson(toilets, default_calendar(settings.calendar_file),
                                         clock(), transform_for(settings.tile_crs))
            cached = (body, hashlib.sha256(body).hexdigest()[:20])
            with states_lock:
                states[area] = cached
        resp = Response(cached[0], mimetype="application/geo+json")
        resp.set_etag(cached[1])
        resp.cache_control.no_cache = True
        return cast(Response, resp.make_conditional(request))

    @server.post("/api/places/<int:poi_id>/report")
    def places_report(poi_id: int) -> Response:
        if (request.content_length or 0) > MAX_BODY:
            return _error(413, "内容过长 / too long")
        if request.mimetype != "application/json":
            return _error(415, "expected application/json")
        raw = request.get_data(cache=False)
        if len(raw) > MAX_BODY:
            return _error(413, "内容过长 / too long")
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return _error(400, "not JSON")
        if not isinstance(data, dict) or not isinstance(data.get("text", ""), str):
            return _error(400, "expected {\"problem\": …, \"text\": …}")
        text = data.get("text") or ""
        if len(text) > MAX_TEXT:
            return _error(413, f"补充说明最多{MAX_TEXT}字 / at most {MAX_TEXT} characters")
        client = client_key(request.remote_addr or "", salt)
        if not burst.allow(client):
            return _error(429, "提交太频繁,请稍后再试 / too many reports, try later")
        now = clock()
        with writer() as session:
            if reports_since(session, client=client, since=now - timedelta(hours=1)) \
                    >= settings.report_limit_per_hour:
                return _error(429, "提交太频繁,请稍后再试 / too many reports, try later")
            try:
                receipt = report_place_problem(session, poi_id=poi_id,
                                               problem=str(data.get("problem", "")), text=text,
                                               client=client, now=now)
            except ReportRejected as exc:
                return _error(404 if "no place" in str(exc) else 400, str(exc))
            session.commit()
        feed.invalidate()
        with states_lock:
            states.clear()
        return Response(orjson.dumps({"ok": True, "case": receipt.external_id}),
                        mimetype="application/json")

    return feed

