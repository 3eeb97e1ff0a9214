"""The big screen (大屏): header, KPI tiles, volunteers, map, ranking, trend and ticker.

The layout is built once per page load, filled from the current snapshot; the refresh callback
then sends only what changes. The map's bounds are set here only, so refreshes never move it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any

import dash_leaflet as dl
from dash import dcc, html

from dashboard import ids, shell
from dashboard.i18n import t, term
from dashboard.outlines import OUTLINE_STYLE, boundaries_url
from dashboard.places.layer import STATE_POLL_MS, create_places_layer, create_places_toggle
from dashboard.routing import PageRequest, Retry
from dashboard.screen.figures import trend_figure
from dashboard.screen.panels import (
    create_activity_types,
    create_counter,
    create_panel,
    create_ranking,
    create_ticker_items,
    create_tile,
    ranking_panel_words,
)
from settings import Settings, parse_moment
from snapshot.store import DISTRICT, Snapshot

THEMES = ("dark", "light")


@dataclass(frozen=True)
class WallOptions:
    """What one wall asked for in its URL, resolved against the settings."""

    area_code: str  # the snapshot key: the area's code, "code@moment" when looking back
    lang: str
    poll_ms: int
    theme: str
    utc_offset_minutes: int  # the server's clock, so the wall's clock matches the data's times


def wall_options(query: Mapping[str, str], lang: str, settings: Settings,
                 now: datetime) -> WallOptions:
    """Resolve a wall's URL parameters (area, refresh, theme) against the settings."""
    refresh = query.get("refresh", "")
    poll_ms = (int(refresh) * 1000 if refresh.isdigit() and 1 <= int(refresh) <= 3600
               else settings.refresh_seconds * 500)  # two polls per snapshot refresh
    theme = query.get("theme", "dark")
    area = query.get("area", DISTRICT).strip()
    moment = query.get("as_of", "").strip()
    return WallOptions(
        area_code=f"{area}@{parse_moment(moment).isoformat()}" if moment else area,
        lang=lang,
        poll_ms=poll_ms,
        theme=theme if theme in THEMES else "dark",
        utc_offset_minutes=round((now - datetime.now(UTC).replace(tzinfo=None))
                                 .total_seconds() / 60),
    )


def page(req: PageRequest) -> Any:
    """Return the wall for the request, or say why it cannot show (unknown area, no data)."""
    try:
        wall = wall_options(req.query, req.lang, req.settings, req.now)
    except ValueError as exc:  # a ?as_of= that is not a moment
        return shell.create_message(f"as_of={exc}", req.lang)
    snapshot = req.snapshot(wall.area_code)
    if snapshot is None:
        status = req.area_status(wall.area_code)
        message = shell.create_unavailable(status, req.lang)
        return message if status == "unknown" else Retry(message)
    return layout(req.settings, wall, snapshot)


def first_fetches(req: PageRequest) -> tuple[str, ...]:
    """Return the GeoJSON URLs the wall's map fetches on its first render, open cases first.

    Served as preloads with the index, they arrive beside the scripts instead of after the
    layout has rendered (the first clusters waited ~1 s for that chain). Nothing unless the
    area's snapshot is already held: the index never waits for a build (the layout shows its
    own "loading" state meanwhile).
    """
    try:
        wall = wall_options(req.query, req.lang, req.settings, req.now)
    except ValueError:
        return ()
    snapshot = req.snapshot(wall.area_code) if req.area_status(wall.area_code) == "ready" else None
    if snapshot is None:
        return ()
    cases_url, density_url = map_urls(wall.area_code, snapshot.map_version)
    return cases_url, boundaries_url(wall.area_code), density_url


def known_versions(snapshot: Snapshot) -> dict[str, str]:
    """Return what a browser showing ``snapshot`` holds: each section's version and the map's."""
    return {**snapshot.sections, "map": snapshot.map_version}


def map_urls(area_code: str, map_version: str) -> tuple[str, str]:
    """Return the open cases' and their density's URLs; the version changes only with them."""
    query = f"area={area_code}&v={map_version}"
    return f"/api/open-cases.geojson?{query}", f"/api/open-density.geojson?{query}"


def create_map_labels(labels: list[dict[str, Any]]) -> dl.LayerGroup:
    """Return the names written on the map (street names on the district's wall).

    Plain text markers under the cases (a negative z-index offset), never clickable.
    """
    return dl.LayerGroup([
        dl.DivMarker(position=[label["lat"], label["lon"]], interactive=False,
                     zIndexOffset=-1000, keyboard=False,
                     iconOptions={"html": f'<span>{escape(label["name"])}</span>',
                                  "className": "gw-map-label", "iconSize": [0, 0]})
        for label in labels
    ], id=ids.MAP_LABELS)


def create_map(settings: Settings, bounds: list[list[float]], area_code: str,
               map_version: str, labels: list[dict[str, Any]] | None = None) -> dl.Map:
    """Return the map: outlines on a dark base, tiles only when a tile URL is set."""
    cases_url, density_url = map_urls(area_code, map_version)
    layers: list[Any] = []
    if settings.tile_url:
        layers.append(dl.TileLayer(url=settings.tile_url, attribution=settings.tile_attribution))
    layers.append(dl.GeoJSON(
        id=ids.MAP_BOUNDARIES, url=boundaries_url(area_code),
        style=OUTLINE_STYLE, interactive=False,
    ))
    layers.append(create_map_labels(labels or []))
    layers.append(dl.GeoJSON(
        id=ids.MAP_DENSITY, url=density_url, interactive=False,
        pointToLayer={"variable": "gridwatch.map.densityPoint"},
        filter={"variable": "gridwatch.map.densityFilter"}, hideout={"on": False},
    ))
    layers.append(dl.GeoJSON(
        id=ids.MAP_CASES, url=cases_url, cluster=True,
        pointToLayer={"variable": "gridwatch.map.casePoint"},
        clusterToLayer={"variable": "gridwatch.map.clusterIcon"},
        filter={"variable": "gridwatch.map.caseFilter"},
        # An explicit style: with cluster=True dash-leaflet would otherwise paint points grey.
        style={"variable": "gridwatch.map.caseStyle"},
        hideout={"majors": [], "sources": []},
        superClusterOptions={"radius": 80},  # grown with the wall by assets/screen.js
        zoomToBoundsOnClick=True,
    ))
    layers.append(create_places_layer(ids.MAP_PLACES))
    # The padding keeps the outline clear of the layer switches (top) and the legend (bottom).
    return dl.Map(layers, id=ids.MAP, bounds=bounds, trackViewport=False, zoomControl=False,
                  boundsOptions={"paddingTopLeft": [20, 110], "paddingBottomRight": [20, 50]},
                  zoomSnap=0.25,
                  attributionControl=bool(settings.tile_url), className="gw-map")


def layer_options(groups: list[list[Any]], lang: str) -> list[dict[str, str]]:
    """Return a layer switch's options: one per group, its members joined by "|" as the value.

    The snapshot groups a long list (150 types in 50 classes) into the top few by open cases
    and "其他"; ``assets/screen.js`` expands a value back into its members to filter the map.
    """
    return [{"label": term(label, lang), "value": "|".join(members)} for label, members in groups]


def create_layer_toggles(layers: dict[str, list[list[Any]]], lang: str) -> html.Div:
    """Return the map's layer switches: major classes, sources, heat and the toilets' states."""
    majors, sources = layer_options(layers["majors"], lang), layer_options(layers["sources"], lang)
    return html.Div(
        [
            html.Div([html.Span(t("layer_majors", lang), className="gw-toggle-label"),
                      dcc.Checklist(majors, [o["value"] for o in majors], id=ids.MAP_MAJORS,
                                    inline=True, className="gw-checks")],
                     className="gw-toggle-row"),
            html.Div([html.Span(t("layer_sources", lang), className="gw-toggle-label"),
                      dcc.Checklist(sources, [o["value"] for o in sources], id=ids.MAP_SOURCES,
                                    inline=True, className="gw-checks")],
                     className="gw-toggle-row"),
            html.Div([dcc.Checklist([{"label": t("layer_heat", lang), "value": "heat"}], [],
                                    id=ids.MAP_HEAT, inline=True, className="gw-checks"),
                      create_places_toggle(ids.MAP_PLACES_TOGGLE, lang)],
                     className="gw-toggle-row"),
        ],
        className="gw-toggles",
    )


def create_legend(lang: str) -> html.Div:
    """Return the map legend of the live lights."""
    return html.Div(
        [html.Span([html.Span(className=f"gw-dot gw-dot-{light}"), t(f"light_{name}", lang)],
                   className="gw-legend-item")
         for light, name in (("g", "green"), ("y", "yellow"), ("r", "red"))],
        className="gw-legend",
    )


def create_header(area_name: str, lang: str, as_of: str | None = None) -> html.Header:
    """Return the header: title and area, the clock, the data time and stale badge.

    A wall looking back carries a 回看 badge so nobody takes last December for today.
    """
    badge = ([html.Span(t("history_badge", lang), className="gw-history",
                        title=t("history_hint", lang))] if as_of else [])
    return html.Header(
        [
            html.Div([html.H1(t("title", lang), id=ids.SCREEN_TITLE, className="gw-title"),
                      html.Span(term(area_name, lang), className="gw-area-name"), *badge],
                     className="gw-header-left"),
            html.Div(id=ids.SCREEN_CLOCK, className="gw-clock"),
            html.Div([html.Span(id=ids.SCREEN_UPDATED, className="gw-updated"),
                      html.Span(t("stale", lang), id=ids.SCREEN_STALE, className="gw-stale",
                                title=t("stale_hint", lang), hidden=True)],
                     className="gw-header-right"),
        ],
        className="gw-header",
    )


def layout(settings: Settings, wall: WallOptions, snapshot: Snapshot) -> html.Div:
    """Return the big screen for one wall, filled from the snapshot so the first paint has data.

    The refresh callback then sends only what changes after this snapshot.
    """
    lang, payload = wall.lang, snapshot.payload
    area, volunteers, trend = payload["area"], payload["volunteers"], payload["trend"]
    left = html.Div([
        create_panel(t("kpi_panel", lang),
                     html.Div([create_tile(tile, lang) for tile in payload["tiles"]],
                              id=ids.SCREEN_TILES, className="gw-tiles",
                              style={"--cols": "2" if len(payload["tiles"]) <= 8 else "3"}),
                     class_name="gw-panel-kpi", hint=t("vs_hint", lang)),
        create_panel(t("vol_panel", lang), html.Div([
            html.Div([create_counter(ids.VOL_TEAMS, t("vol_teams", lang), volunteers["teams"]),
                      create_counter(ids.VOL_ON_DUTY, t("vol_on_duty", lang),
                                     volunteers["on_duty"]),
                      create_counter(ids.VOL_HOURS, t("vol_hours", lang), volunteers["hours"])],
                     className="gw-counters"),
            html.Div(create_activity_types(volunteers["types"], lang,
                                           volunteers.get("types_month")), id=ids.VOL_TYPES,
                     className="gw-bars"),
        ], className="gw-vol-body"), class_name="gw-panel-vol"),
    ], className="gw-col gw-col-left")
    centre = html.Div([
        create_map(settings, area["bounds"], wall.area_code, snapshot.map_version,
                   [{**label, "name": term(label["name"], lang)}
                    for label in payload.get("labels") or []]),
        html.Div([t("map_open_cases", lang),
                  html.Span(t("map_imprecise", lang).format(n=payload.get("imprecise", 0)),
                            className="gw-map-imprecise", title=t("map_imprecise_hint", lang))
                  if payload.get("imprecise") else None], className="gw-map-title"),
        create_layer_toggles(payload["layers"], lang),
        create_legend(lang),
        html.Aside([html.Button("×", id=ids.MAP_CARD_CLOSE, n_clicks=0,
                                className="gw-card-close"),
                    html.Div(id=ids.MAP_CARD)],
                   className="gw-card", hidden=True, id=ids.MAP_CARD_FRAME),
    ], className="gw-col gw-col-map")
    rank_title, rank_hint = ranking_panel_words(payload["ranking"], lang)
    right = html.Div([
        create_panel(rank_title,
                     html.Div(create_ranking(payload["ranking"], lang), id=ids.RANKING,
                              className="gw-ranking"),
                     class_name="gw-panel-rank", hint=rank_hint),
        create_panel(t("trend_panel", lang),
                     dcc.Graph(id=ids.TREND,
                               figure=trend_figure(trend["days"], trend["reported"],
                                                   trend["closed"], lang=lang, theme=wall.theme),
                               config={"displayModeBar": False, "responsive": True},
                               responsive=True, className="gw-graph"),
                     class_name="gw-panel-trend"),
    ], className="gw-col gw-col-right")
    ticker = html.Footer([html.Span(t("ticker_panel", lang), className="gw-ticker-label"),
                          html.Div(html.Div(create_ticker_items(payload["ticker"], lang),
                                            id=ids.TICKER, className="gw-ticker-track"),
                                   className="gw-ticker-window")], className="gw-ticker")
    return html.Div(
        [
            # assets/screen.js polls /api/version every poll_ms and sets SCREEN_POLL when the
            # stamp changed from "stamp" (the version drawn here); "updated" labels the
            # refreshes that changed nothing.
            dcc.Store(id=ids.SCREEN_WALL, data={"area": wall.area_code, "lang": lang,
                                                 "theme": wall.theme,
                                                 "utc_offset": wall.utc_offset_minutes,
                                                 "as_of": payload.get("as_of"),
                                                 "poll_ms": wall.poll_ms,
                                                 "stamp": snapshot.version,
                                                 "updated": t("updated", lang)}),
            dcc.Store(id=ids.SCREEN_VERSION, data=known_versions(snapshot)),
            dcc.Store(id=ids.SCREEN_POLL),
            dcc.Store(id=ids.SCREEN_SCALE),
            dcc.Store(id=ids.VOL_DATA),
            dcc.Interval(id=ids.MAP_PLACES_TICK, interval=STATE_POLL_MS),
            dcc.Interval(id=ids.SCREEN_CLOCK_TICK, interval=1000),
            create_header(area["name"], lang, payload.get("as_of")),
            html.Main([left, centre, right], className="gw-main"),
            ticker,
        ],
        id=ids.SCREEN,
        className=f"gw-screen gw-theme-{wall.theme}",
        lang="zh-CN" if lang == "zh" else "en",
    )
