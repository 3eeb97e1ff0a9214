"""Plain Flask routes beside Dash: map data served once per change, with an ETag."""

from __future__ import annotations

import logging
from typing import cast

from flask import Flask, Response, request, send_file
from pylopdf_fonts_zh_cn import sans_path
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from queries.engine import error_reason
from snapshot.store import DISTRICT, SnapshotSource


def _versioned(body: bytes, etag: str, gzipped: bytes | None = None) -> Response:
    """Serve GeoJSON by version: 304 when the browser holds it, pre-gzipped when it can.

    werkzeug's conditional response answers ``If-None-Match`` (and ranges) for us.
    """
    gz = gzipped is not None and bool(request.accept_encodings["gzip"])
    resp = Response(gzipped if gz else body, mimetype="application/geo+json")
    if gz:
        resp.headers["Content-Encoding"] = "gzip"
    resp.set_etag(etag)
    resp.cache_control.no_cache = True
    resp.vary.add("Accept-Encoding")
    return cast(Response, resp.make_conditional(request))


log = logging.getLogger(__name__)

FONT_URL = "/fonts/gridwatch-sans.otf"
VERSION_URL = "/api/version"


def register(server: Flask, store: SnapshotSource) -> None:
    """Add the map-data (open cases, their density per grid, outlines) and health routes."""

    @server.get("/api/open-cases.geojson")
    def open_cases_geojson() -> Response:
        snapshot = store.get(request.args.get("area", DISTRICT))
        if snapshot is None:
            return Response("no data yet", status=503)
        return _versioned(snapshot.map_geojson, snapshot.map_version, snapshot.map_gzip)

    @server.get("/api/open-density.geojson")
    def open_density_geojson() -> Response:
        snapshot = store.get(request.args.get("area", DISTRICT))
        if snapshot is None:
            return Response("no data yet", status=503)
        return _versioned(snapshot.density_geojson, snapshot.map_version,
                          snapshot.density_gzip or None)

    @server.get("/api/boundaries.geojson")
    def boundaries_geojson() -> Response:
        snapshot = store.get(request.args.get("area", DISTRICT))
        if snapshot is None:
            return Response("no data yet", status=503)
        resp = Response(snapshot.boundaries, mimetype="application/geo+json")
        resp.headers["Cache-Control"] = "max-age=600"
        return resp

    @server.get(FONT_URL)
    def font() -> Response:
        # The CJK font travels with the app (a pip package ships Noto Sans SC): a wall PC on
        # an intranet without Chinese fonts still renders Chinese, with no CDN.
        return send_file(sans_path(), mimetype="font/otf", max_age=30 * 86400)

    @server.get(VERSION_URL)
    def version() -> Response:
        """The wall's poll: an empty answer while ``v`` is still the area's stamp, else the stamp.

        Nothing is serialised for an unchanged wall; the browser runs the Dash refresh only on
        a new stamp (assets/screen.js). Empty is a 200 with ``Content-Length: 0``, not a 204:
        waitress closes the connection after every 204 and 304, which would cost each poll a
        new TCP connection. ``Gridwatch-Updated`` (the last refresh, as the Dash
        refresh writes it) lets the wall's 更新于 label follow the refreshes that changed
        nothing.
        """
        area = request.args.get("area", DISTRICT)
        current = store.stamp(area)
        if request.args.get("v") == current:
            resp = Response(b"", mimetype="text/plain")
        else:
            resp = Response(current, mimetype="text/plain")
        updated_at = store.refreshed_at(area)
        if updated_at is not None:
            resp.headers["Gridwatch-Updated"] = f"{updated_at:%H:%M:%S}"
        resp.headers["Cache-Control"] = "no-store"
        return resp

    @server.get("/healthz")
    def healthz() -> Response:
        """200 ``ok`` only while the district's snapshot is fresh; 503 otherwise.

        The first word says which: ``stale`` (walls show an old snapshot with the stale
        badge) or ``unavailable`` (no snapshot at all: walls say the data is unavailable, e.g.
        a worker started during an outage). The database's error stays in the log: this route
        is public.
        """
        store.get(DISTRICT)  # a worker reads the shared table; one process builds if missing
        if not store.is_stale(DISTRICT):
            return Response("ok", mimetype="text/plain")
        at = store.refreshed_at(DISTRICT)
        failing = store.error(DISTRICT) is not None
        if store.status(DISTRICT) == "ready" and at is not None:
            body = f"stale: last refresh {at:%Y-%m-%d %H:%M:%S}; " + (
                "the database does not answer" if failing else "the refresh is late")
        else:
            body = "unavailable: no snapshot; " + (
                "the database does not answer" if failing else "no refresh yet")
        return Response(body, status=503, mimetype="text/plain",
                        headers={"Retry-After": str(store.refresh_seconds)})

    @server.errorhandler(OperationalError)
    @server.errorhandler(PoolTimeout)
    def database_unavailable(exc: Exception) -> Response:
        """A request that needed the database while it is down or frozen: a 503 saying so
        (the wall's poll retries), not a 500 and a traceback per request."""
        log.info("%s %s: database unavailable: %s", request.method, request.path,
                 error_reason(exc))
        return Response("数据库暂不可用，稍后自动重试 · the database is unavailable, retrying",
                        status=503, mimetype="text/plain",
                        headers={"Retry-After": str(store.refresh_seconds)})
