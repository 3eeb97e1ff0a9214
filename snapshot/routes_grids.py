"""The grid page's polygons: each level's outlines served once, then recoloured in the browser.

``/api/areas.geojson?parent=<code>`` returns the children of an area (the district when no
code is given) with only their code and name. Outlines do not change while the app runs, so
each parent's answer is built once per process and revalidated by ETag.
"""

from __future__ import annotations

import hashlib
import threading

import orjson
from flask import Flask, Response, request
from sqlalchemy.orm import Session, sessionmaker

from queries.areas import area_by_code, district
from queries.coords import Transform, shift_geometry, transform_for
from queries.hierarchy import children_to_show
from queries.models import LEVEL_GRID, Area
from settings import Settings

AREAS_PATH = "/api/areas.geojson"


def areas_url(parent_code: str) -> str:
    """Return the URL of an area's children polygons."""
    return f"{AREAS_PATH}?parent={parent_code}"


def children_geojson(session: Session, parent: Area, shift: Transform) -> bytes:
    """Return the children of ``parent`` as a FeatureCollection with code and name."""
    rows = children_to_show(session, parent.id)  # a derived level only repeats its parent
    features = [{"type": "Feature",
                 "geometry": shift_geometry(orjson.loads(area.geometry), shift),
                 "properties": {"code": area.code, "name": area.name}} for area in rows]
    return orjson.dumps({"type": "FeatureCollection", "features": features})


def register(server: Flask, sessions: sessionmaker[Session], settings: Settings) -> None:
    """Add the children-polygons route to the Flask server."""
    shift = transform_for(settings.tile_crs)
    built: dict[str, tuple[bytes, str]] = {}
    lock = threading.Lock()

    @server.get(AREAS_PATH)
    def areas_geojson() -> Response:
        code = request.args.get("parent", "").strip()
        with lock:
            cached = built.get(code)
        if cached is None:
            with sessions() as session:
                parent = area_by_code(session, code) if code else district(session)
                if parent is None or parent.level == LEVEL_GRID:
                    return Response("no such parent area", status=404, mimetype="text/plain")
                body = children_geojson(session, parent, shift)
            cached = (body, hashlib.sha1(body).hexdigest()[:16])
            with lock:
                built[code] = cached
        body, etag = cached
        if request.if_none_match.contains(etag):
            return Response(status=304, headers={"ETag": f'"{etag}"'})
        resp = Response(body, mimetype="application/geo+json")
        resp.headers["ETag"] = f'"{etag}"'
        resp.headers["Cache-Control"] = "max-age=3600"
        return resp
