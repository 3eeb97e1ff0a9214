"""The places layer of the wall and the grid page: each public toilet's state right now.

Open (blue), closed now (grey, hollow) or 报修中 (orange, dashed): the command center sees which
toilets a citizen cannot use. The points come from ``/api/places-state.geojson`` (states worked
out on the server with the working calendar, refreshed every ``STATE_BUCKET_SECONDS``) and are
drawn by ``gridwatch.places.wallPoint`` in assets/places.js; the layer stays empty until its
switch is turned on.
"""

from __future__ import annotations

from datetime import datetime

import dash_leaflet as dl
from dash import dcc, html

from dashboard.places.text import words

STATE_URL = "/api/places-state.geojson"
STATE_BUCKET_SECONDS = 300  # a toilet opens or closes on the hour: five minutes is close enough
STATE_POLL_MS = STATE_BUCKET_SECONDS * 200  # the wall looks five times a bucket
TOGGLE_VALUE = "toilets"


def create_places_layer(layer_id: str) -> dl.GeoJSON:
    """Return the (empty until switched on) toilet-state layer for a dash-leaflet map."""
    return dl.GeoJSON(id=layer_id, url=None,
                      pointToLayer={"variable": "gridwatch.places.wallPoint"},
                      onEachFeature={"variable": "gridwatch.places.wallTip"},
                      filter={"variable": "gridwatch.places.wallFilter"},
                      hideout={"on": False})


def create_places_toggle(toggle_id: str, lang: str) -> dcc.Checklist:
    """Return the switch of the toilet-state layer (off by default: the wall is for cases)."""
    w = words(lang)
    hint = f"{w['state_open']} ● · {w['state_closed']} ○ · {w['state_repair']} ●(橙/orange)"
    label = html.Span(w["wall_toilets"], title=hint)
    return dcc.Checklist([{"label": label, "value": TOGGLE_VALUE}], [],
                         id=toggle_id, inline=True, className="gw-checks gw-places-toggle")


def places_state_url(area_code: str, now: datetime) -> str:
    """Return the layer's data URL; it changes every bucket so states follow the clock."""
    bucket = int(now.timestamp()) // STATE_BUCKET_SECONDS
    return f"{STATE_URL}?area={area_code}&v={bucket}"
