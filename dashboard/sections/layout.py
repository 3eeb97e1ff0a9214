"""The 路长 sections page (/sections): the 红黑榜, the ranking, a map by score, a section's view.

The layout is a frame; ``callbacks.sections`` fills it from the sections snapshot
(``snapshot.sections``) every minute, and only the section's view on a pick.
``?period=day|week|month|<token>`` picks the period (日督促、周检查、月通报; default the month),
``?section=<code>`` opens a section's view — a click on the map, a list or the table sets it,
so a view can be shared as a link.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import dash_leaflet as dl
from dash import dcc, html

from dashboard import ids
from dashboard.nav import create_nav
from dashboard.outlines import outlines_under
from dashboard.routing import PageRequest
from dashboard.sections.text import w
from dashboard.sections.view import legend

PATH = "/sections"
REFRESH_MS = 60_000
PERIOD_CHOICES = ("day", "week", "month")
DEFAULT_PERIOD = "month"
OUTLINE_PANE = "sec-outlines"


def search_for(query: dict[str, str], **changes: str | None) -> str:
    """Return the page's query string with ``changes`` applied (None removes a key)."""
    params = {**query, **changes}
    kept = {k: v for k, v in params.items() if v and k in ("period", "section", "lang")}
    return "?" + urlencode(kept) if kept else ""


def _panel(title: Any, body: Any, class_name: str) -> html.Section:
    return html.Section([html.H2(title, className="gw-s-panel-title"), body],
                        className=f"gw-s-panel {class_name}")


def create_map(req: PageRequest) -> dl.Map:
    """Return the map: the district's outlines under the sections, coloured by score."""
    layers: list[Any] = []
    if req.settings.tile_url:
        layers.append(dl.TileLayer(url=req.settings.tile_url,
                                   attribution=req.settings.tile_attribution))
    layers.append(outlines_under("", OUTLINE_PANE))  # a click on a section reaches it
    layers.append(dl.GeoJSON(id=ids.SEC_SHAPES, data=None,
                             style={"variable": "gridwatch.sections.style"},
                             onEachFeature={"variable": "gridwatch.sections.tip"}))
    return dl.Map(layers, id=ids.SEC_MAP, center=[34.26, 108.94], zoom=13, zoomSnap=0.25,
                  attributionControl=bool(req.settings.tile_url), className="gw-s-map")


def period_links(req: PageRequest) -> html.Div:
    """Return the period choices (日督促、周检查、月通报) as links keeping the other parameters."""
    shown = req.query.get("period") or DEFAULT_PERIOD
    query = dict(req.query)
    return html.Div([
        html.A(w(kind, req.lang), href=PATH + search_for(query, period=kind, section=None),
               className="gw-s-period gw-s-period-on" if kind == shown else "gw-s-period")
        for kind in PERIOD_CHOICES], id=ids.SEC_PERIOD, className="gw-s-periods")


def page(req: PageRequest) -> html.Div:
    """Return the page frame for a request; the data arrives with the first callback."""
    lang = req.lang
    query = dict(req.query)
    other = PATH + search_for(query, lang="en" if lang == "zh" else None)
    return html.Div([
        dcc.Location(id=ids.SEC_URL, refresh=False),
        dcc.Interval(id=ids.SEC_TICK, interval=REFRESH_MS),
        dcc.Store(id=ids.SEC_BOARD),
        create_nav(req, title=w("title", lang),
                   tools=[period_links(req), html.Span(id=ids.SEC_ASOF, className="gw-s-asof"),
                          html.A(w("other_lang", lang), href=other, className="gw-s-lang")]),
        html.Div(id=ids.SEC_STATUS, className="gw-s-status", role="status"),
        html.Main([
            _panel(w("red", lang), html.Div(id=ids.SEC_RED, className="gw-s-list-box"),
                   "gw-s-red"),
            _panel(w("black", lang), html.Div(id=ids.SEC_BLACK, className="gw-s-list-box"),
                   "gw-s-black"),
            _panel(w("map", lang), html.Div([create_map(req), legend(lang),
                                             html.P(w("map_hint", lang), className="gw-s-hint")],
                                            className="gw-s-mapbox"), "gw-s-map-panel"),
            _panel(w("ranking", lang), html.Div([
                html.Div(id=ids.SEC_TABLE, className="gw-s-table-box"),
                html.P(id=ids.SEC_RULE, className="gw-s-hint")], className="gw-s-rank-body"),
                "gw-s-ranking"),
            html.Section([
                html.Button(w("close", lang), id=ids.SEC_CLOSE, n_clicks=0,
                            className="gw-s-close"),
                html.Div(id=ids.SEC_DETAIL_BODY, className="gw-s-detail-body"),
            ], id=ids.SEC_DETAIL, hidden=True, className="gw-s-panel gw-s-detail"),
        ], className="gw-s-body"),
    ], id=ids.SEC, className="gw-sections", lang="zh-CN" if lang == "zh" else "en")
