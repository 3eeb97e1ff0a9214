"""The volunteers page (/volunteers): teams, people on duty, hours, today's map, 30 days.

The layout is a frame; ``callbacks.volunteers`` fills it from the database every minute
through ``queries.volunteers.volunteer_page`` (the reads the wall's counters use too).
``?area=<code>`` scopes it to a street, community or grid.
"""

from __future__ import annotations

from typing import Any

import dash_leaflet as dl
from dash import dcc, html

from dashboard import ids
from dashboard.nav import create_nav
from dashboard.outlines import outlines_under
from dashboard.routing import PageRequest
from dashboard.volunteers.text import w

PATH = "/volunteers"
REFRESH_MS = 60_000


def _panel(title: str, body: Any, class_name: str = "") -> html.Section:
    return html.Section([html.H2(title, className="gw-v-panel-title"), body],
                        className=f"gw-v-panel {class_name}".strip())


def _graph(graph_id: str) -> dcc.Graph:
    return dcc.Graph(id=graph_id, config={"displayModeBar": False, "responsive": True},
                     responsive=True, className="gw-v-graph")


OUTLINE_PANE = "vol-outlines"


def create_map(req: PageRequest) -> dl.Map:
    """Return today's activity map (outlines of the district under the points)."""
    layers: list[Any] = []
    if req.settings.tile_url:
        layers.append(dl.TileLayer(url=req.settings.tile_url,
                                   attribution=req.settings.tile_attribution))
    layers.append(outlines_under(req.query.get("area", ""), OUTLINE_PANE))  # under the points
    layers.append(dl.GeoJSON(id=ids.VOL_POINTS, data=None,
                             pointToLayer={"variable": "gridwatch.volunteers.point"},
                             onEachFeature={"variable": "gridwatch.volunteers.tip"}))
    return dl.Map(layers, id=ids.VOL_MAP, center=[34.26, 108.94], zoom=12, zoomSnap=0.25,
                  attributionControl=bool(req.settings.tile_url), className="gw-v-map")


def page(req: PageRequest) -> html.Div:
    """Return the page frame for a request; the data arrives with the first callback."""
    lang = req.lang
    other = f"{PATH}?lang=en" if lang == "zh" else PATH
    return html.Div([
        dcc.Location(id=ids.VOL_URL, refresh=False),
        dcc.Interval(id=ids.VOL_TICK, interval=REFRESH_MS),
        create_nav(req, title=w("title", lang),
                   tools=[html.Span(id=ids.VOL_ASOF, className="gw-v-asof"),
                          html.A(w("other_lang", lang), href=other, className="gw-v-lang")]),
        html.Div(id=ids.VOL_STATUS, className="gw-v-status", role="status"),
        html.Main([
            html.Div(id=ids.VOL_TILES, className="gw-v-tiles", title=w("hours_rule", lang)),
            _panel(w("map", lang), html.Div([create_map(req),
                                             html.P(w("map_hint", lang), className="gw-v-hint")],
                                            className="gw-v-mapbox"), "gw-v-map-panel"),
            _panel(w("by_type", lang), _graph(ids.VOL_TYPES), "gw-v-types"),
            _panel(w("ranking", lang), html.Div(id=ids.VOL_TEAMS, className="gw-v-teams"),
                   "gw-v-ranking"),
            _panel(w("trend", lang), _graph(ids.VOL_TREND), "gw-v-trend"),
        ], className="gw-v-body"),
    ], id=ids.VOL, className="gw-volunteers", lang="zh-CN" if lang == "zh" else "en")
