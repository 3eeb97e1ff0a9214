"""Plain Flask routes beside Dash: map data served once per change, with an ETag."""

from __future__ import annotations

from flask import Flask, Response, request

from dashboard.snapshot import DISTRICT, SnapshotStore


def register(server: Flask, store: SnapshotStore) -> None:
    """Add the map-data and health routes to the Flask server."""

    @server.get("/api/open-cases.geojson")
    def open_cases_geojson() -> Response:
        snapshot = store.get(request.args.get("area", DISTRICT))
        if snapshot is None:
            return Response("no data yet", status=503)
        etag = snapshot.map_version
        if request.if_none_match.contains(etag):
            return Response(status=304, headers={"ETag": f'"{etag}"'})
        gz = "gzip" in request.headers.get("Accept-Encoding", "")
        resp = Response(snapshot.map_gzip if gz else snapshot.map_geojson,
                        mimetype="application/geo+json")
        if gz:
            resp.headers["Content-Encoding"] = "gzip"
        resp.headers["ETag"] = f'"{etag}"'
        resp.headers["Cache-Control"] = "no-cache"
        resp.headers["Vary"] = "Accept-Encoding"
        return resp

    @server.get("/api/boundaries.geojson")
    def boundaries_geojson() -> Response:
        snapshot = store.get(request.args.get("area", DISTRICT))
        if snapshot is None:
            return Response("no data yet", status=503)
        resp = Response(snapshot.boundaries, mimetype="application/geo+json")
        resp.headers["Cache-Control"] = "max-age=600"
        return resp

    @server.get("/healthz")
    def healthz() -> Response:
        stale = store.is_stale(DISTRICT)
        return Response("stale" if stale else "ok", status=503 if stale else 200,
                        mimetype="text/plain")
