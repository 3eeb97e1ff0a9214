"""The big screen (大屏): header, KPI tiles and the map of open cases."""

from __future__ import annotations

import dash_leaflet as dl
from dash import dcc, html

from dashboard import ids
from dashboard.i18n import t
from dashboard.settings import Settings

TILE_KEYS = ("today_reported", "open", "open_overdue")


def create_tile(key: str, lang: str) -> html.Div:
    """Return one KPI tile, filled by the refresh callback."""
    return html.Div(
        [html.Div(t(key, lang), className="gw-tile-label"),
         html.Div("—", id=ids.kpi_tile(key), className="gw-tile-value")],
        className="gw-tile",
    )


def create_map(settings: Settings, center: tuple[float, float], area_code: str) -> dl.Map:
    """Return the map: boundaries on a dark base, tiles only when a tile URL is set."""
    layers: list = []
    if settings.tile_url:
        layers.append(dl.TileLayer(url=settings.tile_url, attribution=settings.tile_attribution))
    layers.append(dl.GeoJSON(
        id=ids.MAP_BOUNDARIES, url=f"/api/boundaries.geojson?area={area_code}",
        style={"variable": "gridwatch.map.boundaryStyle"}, interactive=False,
    ))
    layers.append(dl.GeoJSON(
        id=ids.MAP_CASES, url=None, cluster=True,
        pointToLayer={"variable": "gridwatch.map.casePoint"},
        clusterToLayer={"variable": "gridwatch.map.clusterIcon"},
        superClusterOptions={"radius": 80},
        style={"weight": 0}, zoomToBoundsOnClick=True,
    ))
    return dl.Map(layers, id=ids.MAP, center=center, zoom=13, zoomControl=False,
                  attributionControl=bool(settings.tile_url), className="gw-map")


def layout(settings: Settings, lang: str, area_code: str, center: tuple[float, float]) -> html.Div:
    """Return the big screen for one area and language."""
    return html.Div(
        [
            dcc.Store(id=ids.SCREEN_AREA, data=area_code),
            dcc.Store(id=ids.SCREEN_VERSION),
            dcc.Interval(id=ids.SCREEN_TICK, interval=settings.refresh_seconds * 1000 // 2),
            html.Header(
                [
                    html.H1(t("title", lang), id=ids.SCREEN_TITLE, className="gw-title"),
                    html.Div(
                        [html.Span(id=ids.SCREEN_UPDATED, className="gw-updated"),
                         html.Span(t("stale", lang), id=ids.SCREEN_STALE,
                                   className="gw-stale", hidden=True)],
                        className="gw-header-right",
                    ),
                ],
                className="gw-header",
            ),
            html.Div([create_tile(k, lang) for k in TILE_KEYS], className="gw-tiles"),
            html.Div(create_map(settings, center, area_code), className="gw-map-wrap"),
        ],
        className="gw-screen",
        lang="zh-CN" if lang == "zh" else "en",
    )
