"""The public map's one download: every place as GeoJSON, with its open spans and the outlines.

Built once per change (a citizen's report, an import, a new day) and served with an ETag; the
browser filters it (layers, search, facilities, open now) without asking the server again.
Property names are one letter to keep a phone's download small:

``i`` id · ``l`` layer · ``k`` kind · ``n`` name · ``a`` address · ``h`` opening_hours text ·
``f`` facilities (``a`` 无障碍, ``b`` 母婴室, ``t`` 第三卫生间) · ``fr``/``pp`` free, paper
(1, 0 or absent = not stated) · ``s`` status · ``r`` 1 while 报修中 · ``u`` managing unit ·
``p`` phone · ``d`` description · ``o`` open spans as [from, to] minutes after ``t0``
(the city's midnight starting yesterday) over ``days`` days, so "open now" is a comparison in
the browser; a span reaching the end of the window has no closing time in sight (24 h).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta
from typing import Any

import orjson

from queries.coords import Transform, identity
from queries.opening import OpeningHoursError, is_open, open_intervals
from queries.places import Place
from queries.workcalendar import WorkCalendar

SPAN_DAYS = 3  # yesterday (for a night span into today), today and tomorrow


def _flag(value: bool | None) -> int | None:
    return None if value is None else int(bool(value))


def place_feature(place: Place, calendar: WorkCalendar, t0: datetime,
                  shift: Transform = identity) -> dict[str, Any]:
    """Return one place's GeoJSON feature with its open spans for ``SPAN_DAYS`` from ``t0``."""
    try:
        spans = [[int((lo - t0).total_seconds() // 60), int((hi - t0).total_seconds() // 60)]
                 for lo, hi in open_intervals(place.opening_hours, calendar, t0.date(), SPAN_DAYS)]
    except OpeningHoursError:
        spans = None  # shown as 时间不详: never guessed open or closed
    facilities = "".join(code for code, on in (("a", place.accessible), ("b", place.baby_care),
                                               ("t", place.family_room)) if on)
    lon, lat = shift(place.lon, place.lat)
    props: dict[str, Any] = {"i": place.id, "l": place.layer, "k": place.kind, "n": place.name,
                             "a": place.address, "h": place.opening_hours, "f": facilities,
                             "s": place.status, "r": int(place.repairing), "o": spans}
    for key, flag in (("fr", _flag(place.free)), ("pp", _flag(place.paper))):
        if flag is not None:
            props[key] = flag
    for key, text in (("u", place.managing_unit), ("p", place.phone), ("d", place.description)):
        if text:
            props[key] = text
    return {"type": "Feature", "id": place.id,
            "geometry": {"type": "Point", "coordinates": [round(lon, 5), round(lat, 5)]},
            "properties": props}


def places_geojson(places: Iterable[Place], calendar: WorkCalendar, now: datetime,
                   outline: list[dict[str, Any]] | None = None,
                   shift: Transform = identity) -> bytes:
    """Return the map's FeatureCollection; ``t0`` is yesterday's midnight, city time."""
    t0 = datetime.combine(now.date() - timedelta(days=1), time())
    features = [place_feature(p, calendar, t0, shift) for p in places]
    return orjson.dumps({"type": "FeatureCollection", "t0": t0.isoformat(timespec="minutes"),
                         "days": SPAN_DAYS, "features": features, "outline": outline or []})


STATE_OPEN, STATE_CLOSED, STATE_REPAIR = "open", "closed", "repair"


def toilet_state(place: Place, calendar: WorkCalendar, now: datetime) -> str:
    """Return a toilet's state for the wall: repair (报修中) first, then open or closed now."""
    if place.repairing:
        return STATE_REPAIR
    try:
        return STATE_OPEN if is_open(place.opening_hours, calendar, now) else STATE_CLOSED
    except OpeningHoursError:
        return STATE_CLOSED  # hours not known: not promised open


def toilet_states_geojson(places: Iterable[Place], calendar: WorkCalendar, now: datetime,
                          shift: Transform = identity) -> bytes:
    """Return the toilets as points with ``n`` (name) and ``st`` (open / closed / repair)."""
    features = []
    for place in places:
        lon, lat = shift(place.lon, place.lat)
        features.append({"type": "Feature", "id": place.id,
                         "geometry": {"type": "Point",
                                      "coordinates": [round(lon, 5), round(lat, 5)]},
                         "properties": {"n": place.name,
                                        "st": toilet_state(place, calendar, now)}})
    return orjson.dumps({"type": "FeatureCollection", "features": features})
