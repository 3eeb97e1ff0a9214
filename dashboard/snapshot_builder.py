"""Build one area's snapshot from the named queries (the only place the snapshot meets SQL)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from dashboard.settings import Settings
from dashboard.snapshot import DISTRICT, Builder, Snapshot
import orjson

from queries.areas import area_by_code, descendants_at_level, district
from queries.models import LEVEL_COMMUNITY, LEVEL_GRID, LEVEL_STREET, Area
from queries.cases import OpenCase, open_cases
from queries.live import today_counts

LIGHT_GREEN, LIGHT_YELLOW, LIGHT_RED = "g", "y", "r"


def case_light(case: OpenCase, now: datetime, warn_fraction: float) -> str:
    """Return the live light of an open case: red past deadline, yellow near it, else green."""
    if case.deadline_at is None:
        return LIGHT_GREEN
    if case.deadline_at < now:
        return LIGHT_RED
    start = case.dispatched_at or case.reported_at
    allowed = (case.deadline_at - start).total_seconds()
    if allowed > 0 and (now - start).total_seconds() > warn_fraction * allowed:
        return LIGHT_YELLOW
    return LIGHT_GREEN


def case_feature(case: OpenCase, now: datetime, warn_fraction: float) -> dict[str, Any]:
    """Return the minimal GeoJSON feature of an open case (details load on click)."""
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(case.lon, 5), round(case.lat, 5)]},
        "properties": {"id": case.id, "s": case_light(case, now, warn_fraction),
                       "m": case.major, "src": case.source},
    }


BOUNDARY_LEVELS = {"district": (LEVEL_STREET, LEVEL_COMMUNITY), "street": (LEVEL_COMMUNITY, LEVEL_GRID),
                   "community": (LEVEL_GRID,), "grid": (LEVEL_GRID,)}


def boundaries_geojson(session: Session, area: Area) -> bytes:
    """Return the outlines drawn under an area's map: its children and grandchildren."""
    features = []
    for level in BOUNDARY_LEVELS[area.level]:
        for child in descendants_at_level(session, area, level):
            features.append({"type": "Feature", "geometry": orjson.loads(child.geometry),
                             "properties": {"code": child.code, "name": child.name,
                                            "level": level}})
    if area.level == "grid":
        features = [f for f in features if f["properties"]["code"] == area.code]
    return orjson.dumps({"type": "FeatureCollection", "features": features})


def make_builder(sessions: sessionmaker[Session], settings: Settings) -> Builder:
    """Return the function the store calls to build an area's snapshot."""

    outlines: dict[str, bytes] = {}  # area outlines do not change while the app runs

    def build(area_code: str, now: datetime) -> Snapshot:
        with sessions() as session:
            area = district(session) if area_code == DISTRICT else area_by_code(session, area_code)
            if area is not None and area_code not in outlines:
                outlines[area_code] = boundaries_geojson(session, area)
            day_start = now.replace(hour=0, minute=0, second=0)
            counts = today_counts(session, start=day_start, end=day_start + timedelta(days=1),
                                  now=now, area=area)
            cases = open_cases(session, area=area)
        features = [case_feature(c, now, settings.warn_fraction) for c in cases]
        payload: dict[str, Any] = {
            "area": None if area is None else {"code": area.code, "name": area.name,
                                               "level": area.level,
                                               "center": [area.center_lat, area.center_lon]},
            "today": counts.as_dict(),
        }
        return Snapshot.create(area_code, now, payload, features, outlines.get(area_code, b""))

    return build
