"""The grid management page (网格化管理, ``/grids``): map, tiles, roster, table, drill-down.

``layout`` builds the chrome and the controls from the URL once per page load; the panels
start empty and ``callbacks.grids`` fills them from the URL, so every view has a link.
"""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
import dash_leaflet as dl
from dash import dcc, html

from dashboard import ids
from dashboard.exports import csv_params
from dashboard.formatting import delta_text
from dashboard.grids.state import (
    PATH,
    GridsState,
    other_language_href,
    parse_state,
    period_choice,
    range_of,
)
from dashboard.grids.view import Tile, column_defs, standings
from dashboard.i18n import t, term
from dashboard.nav import create_nav
from dashboard.placeholders import empty_figure
from dashboard.places.layer import create_places_layer, create_places_toggle
from dashboard.routing import PageRequest
from dashboard.scores import composite_formula
from dashboard.shell import RETRY_MS
from dashboard.tiles import change_class as delta_class
from queries.grid_view import AreaRef, GridView, OpenCases
from queries.indicators import DASH, INDICATOR_BY_KEY, INDICATORS
from queries.models import LEVEL_DISTRICT, LEVEL_GRID
from queries.periods import CUSTOM, KINDS
from settings import Settings

LAGGING_SHOWN = 3
# ag-grid's dark theme, as the JavaScript expression dash-ag-grid evaluates.
GRID_THEME = (
    "themeQuartz.withParams({backgroundColor: '#0b1a30', foregroundColor: '#dbe8f7', "
    "headerBackgroundColor: '#10284a', borderColor: '#1f4b7a', accentColor: '#4fc3ff', "
    "oddRowBackgroundColor: '#0d1f38', fontSize: 13, headerFontSize: 13, spacing: 5, "
    "fontFamily: 'Noto Sans CJK SC, Noto Sans SC, Microsoft YaHei, sans-serif'})")


def table_options(pinned: list[dict[str, Any]] | None = None, lang: str = "zh") -> dict[str, Any]:
    """Return the children table's grid options (the pinned row is the area's own total)."""
    return {"theme": {"function": GRID_THEME}, "tooltipShowDelay": 200,
            "pinnedBottomRowData": pinned or [],
            "localeText": {"noRowsToShow": t("figure_empty", lang)},
            "rowClassRules": {"gw-g-row-selected": "params.data && params.data._selected"},
            "suppressCellFocus": True, "animateRows": False}


def create_language_link(state: GridsState, lang: str) -> html.A:
    """Return the link to the same view in the other language."""
    return html.A(t("grids_lang_switch", lang), href=other_language_href(state, lang),
                  id=ids.GRIDS_LANG, className="gw-nav-link gw-nav-lang")


def create_graph(graph_id: str, lang: str) -> dcc.Graph:
    """Return a figure slot that fills its panel, without plotly's toolbar (dark while empty)."""
    return dcc.Graph(id=graph_id, figure=empty_figure(lang),
                     config={"displayModeBar": False, "responsive": True},
                     responsive=True, className="gw-g-graph")


def create_controls(state: GridsState, lang: str) -> html.Div:
    """Return the period choices (日督促…年评比), the custom range and the indicator choice."""
    choice = period_choice(state.period)
    start, end = range_of(state.period)
    return html.Div(
        [
            dcc.RadioItems(
                [{"label": t(f"grids_period_{kind}", lang), "value": kind}
                 for kind in (*KINDS, CUSTOM)],
                choice, id=ids.GRIDS_PERIOD, inline=True, className="gw-g-periods"),
            html.Div(dcc.DatePickerRange(
                id=ids.GRIDS_RANGE, start_date=start, end_date=end, display_format="YYYY-MM-DD",
                start_date_placeholder_text=t("grids_range_start", lang),
                end_date_placeholder_text=t("grids_range_end", lang), first_day_of_week=1,
                minimum_nights=0, className="gw-g-range"),
                id=ids.GRIDS_RANGE_BOX, className="gw-g-range-box", hidden=choice != CUSTOM),
            html.Label([
                html.Span(t("grids_kpi", lang), className="gw-g-kpi-label"),
                dcc.Dropdown([{"label": d.label(lang), "value": d.key} for d in INDICATORS],
                             state.kpi, id=ids.GRIDS_KPI, clearable=False, searchable=True,
                             className="gw-g-kpi"),
            ], className="gw-g-kpi-box"),
        ],
        className="gw-g-controls",
    )


def create_map(settings: Settings) -> dl.Map:
    """Return the choropleth map: areas on a dark base, tiles only when a tile URL is set."""
    layers: list[Any] = []
    if settings.tile_url:
        layers.append(dl.TileLayer(url=settings.tile_url, attribution=settings.tile_attribution))
    layers.append(dl.GeoJSON(
        id=ids.GRIDS_AREAS, url=None, zoomToBounds=True,
        style={"variable": "gridwatch.grids.style"},
        onEachFeature={"variable": "gridwatch.grids.bindTip"},
        hoverStyle={"weight": 3, "color": "#ffffff"},
        hideout={"classes": {}, "colors": [], "tips": {}, "selected": None},
    ))
    # The view is fitted to the areas once they load (zoomToBounds); this only starts Leaflet.
    layers.append(create_places_layer(ids.GRIDS_PLACES))
    return dl.Map(layers, id=ids.GRIDS_MAP, center=[35.0, 105.0], zoom=4, zoomSnap=0.25,
                  attributionControl=bool(settings.tile_url), className="gw-g-map")


def create_panel(title: Any, body: Any, *, class_name: str = "", tools: Any = None) -> html.Section:
    """Return a framed panel with a heading and optional tools beside it."""
    head = html.Div([html.H2(title, className="gw-g-panel-title"),
                     html.Div(tools, className="gw-g-panel-tools") if tools else None],
                    className="gw-g-panel-head")
    return html.Section([head, body], className=f"gw-g-panel {class_name}".strip())


def create_cases_grid(lang: str) -> dag.AgGrid:
    """Return the small list of the area's open cases."""
    columns = [
        {"field": "id", "headerName": t("grids_col_case", lang), "width": 150},
        {"field": "minor", "headerName": t("grids_col_minor", lang), "flex": 1, "minWidth": 90},
        {"field": "status", "headerName": t("grids_col_status", lang), "width": 82},
        {"field": "deadline", "headerName": t("grids_col_deadline", lang), "width": 116},
        {"field": "overdue", "headerName": t("grids_col_overdue", lang), "width": 72,
         "cellClass": "gw-g-overdue"},
    ]
    return dag.AgGrid(id=ids.GRIDS_CASES, columnDefs=columns, rowData=[],
                      defaultColDef={"sortable": True, "resizable": True},
                      dashGridOptions={"theme": {"function": GRID_THEME}, "suppressCellFocus": True,
                                       "rowHeight": 30, "headerHeight": 32,
                                       "localeText": {"noRowsToShow": t("grids_no_open", lang)}},
                      className="gw-g-aggrid", style={"height": "100%", "width": "100%"})


def create_children_grid(state: GridsState, lang: str) -> dag.AgGrid:
    """Return the sortable table of the children areas with every indicator."""
    return dag.AgGrid(id=ids.GRIDS_TABLE, columnDefs=column_defs(state.kpi, lang), rowData=[],
                      defaultColDef={"sortable": True, "resizable": True},
                      dashGridOptions=table_options(lang=lang),
                      csvExportParams=csv_params("grids.csv"),
                      getRowId="params.data.code", className="gw-g-aggrid",
                      style={"height": "100%", "width": "100%"})


def page(req: PageRequest) -> html.Div:
    """Return the page for a URL's parameters; the panels fill from the URL once it loads."""
    settings, lang = req.settings, req.lang
    state = parse_state(dict(req.query))
    map_box = html.Section([
        html.Div([html.H2(id=ids.GRIDS_MAP_TITLE, className="gw-g-panel-title"),
                  html.Span(t("grids_map_hint", lang), className="gw-g-hint"),
                  create_places_toggle(ids.GRIDS_PLACES_TOGGLE, lang)],
                 className="gw-g-panel-head"),
        html.Div([create_map(settings),
                  html.Div(id=ids.GRIDS_LEGEND, className="gw-g-legend",
                           title=t("grids_legend_hint", lang))], className="gw-g-map-frame"),
    ], className="gw-g-panel gw-g-mapbox")
    side = html.Div([
        html.Div(id=ids.GRIDS_TILES, className="gw-g-tiles"),
        html.Div([
            create_panel(t("grids_roster", lang),
                         html.Div([html.Div(id=ids.GRIDS_ROSTER),
                                   html.P(id=ids.GRIDS_VOLUNTEERS, className="gw-g-volunteers")],
                                  className="gw-g-roster-body"),
                         class_name="gw-g-roster"),
            create_panel(html.Span(t("grids_open_cases", lang), id=ids.GRIDS_CASES_TITLE),
                         html.Div(create_cases_grid(lang), className="gw-g-grid-box"),
                         class_name="gw-g-cases"),
        ], className="gw-g-pair"),
    ], className="gw-g-side")
    exports = [html.Button(t("grids_csv", lang), id=ids.GRIDS_CSV, n_clicks=0,
                           className="gw-g-button"),
               html.Button(t("grids_xlsx", lang), id=ids.GRIDS_XLSX, n_clicks=0,
                           className="gw-g-button")]
    table = create_panel(html.Span(id=ids.GRIDS_TABLE_TITLE),
                         html.Div(create_children_grid(state, lang), className="gw-g-grid-box"),
                         class_name="gw-g-tablebox", tools=exports)
    charts = html.Div([
        create_panel(t("grids_worst", lang), create_graph(ids.GRIDS_CATEGORIES, lang),
                     class_name="gw-g-chart"),
        create_panel(t("grids_trend", lang), create_graph(ids.GRIDS_TREND, lang),
                     class_name="gw-g-chart"),
    ], className="gw-g-pair gw-g-charts")
    return html.Div(
        [
            dcc.Location(id=ids.GRIDS_URL, refresh=False, pathname=PATH, search=state.search()),
            dcc.Download(id=ids.GRIDS_DOWNLOAD),
            create_nav(req, title=t("grids_title", lang),
                       tools=[create_language_link(state, lang)]),
            html.Div([html.Nav(id=ids.GRIDS_CRUMBS, className="gw-g-crumbs",
                               **{"aria-label": "breadcrumb"}),
                      create_controls(state, lang)], className="gw-g-toolbar"),
            html.Div(id=ids.GRIDS_STATUS, className="gw-g-status"),
            # Hidden until the first view arrives; covers the panels for an unknown area or
            # while the database is unreachable (then GRIDS_RETRY asks again).
            dcc.Interval(id=ids.GRIDS_RETRY, interval=RETRY_MS, disabled=True),
            html.Main([map_box, side, table, charts,
                       html.Div(id=ids.GRIDS_SHEET, className="gw-sheet", role="status",
                                hidden=True)], className="gw-g-body"),
        ],
        id=ids.GRIDS,
        className="gw-grids",
        lang="zh-CN" if lang == "zh" else "en",
    )


# --- the panels' contents, built by callbacks.grids from a GridView ----------------------------


def create_breadcrumb(lineage: list[AreaRef], lang: str) -> list[Any]:
    """Return 雁湖区 › 北关街道 › …: every ancestor a link, the area itself plain text."""
    out: list[Any] = []
    for n, area in enumerate(lineage):
        if n:
            out.append(html.Span("›", className="gw-g-crumb-sep"))
        code = "" if area.level == LEVEL_DISTRICT else area.code
        if n == len(lineage) - 1:
            out.append(html.Span(term(area.name, lang), className="gw-g-crumb gw-g-crumb-here",
                                 **{"aria-current": "page"}))
        else:
            out.append(html.Button(term(area.name, lang), id=ids.grids_crumb(code), n_clicks=0,
                                   className="gw-g-crumb", **{"data-code": area.code}))
    return out


def create_status(view: GridView, lang: str, notice: str | None = None) -> list[Any]:
    """Return the period line: the period, the one it is compared with, and when computed."""
    label = view.period.label_en if lang == "en" else view.period.label_zh
    before = view.previous.label_en if lang == "en" else view.previous.label_zh
    if view.same_span:  # a running period: the same elapsed span of the one before
        before = t("grids_same_span_of", lang).format(
            period=before, until=f"{view.previous.end:%Y-%m-%d %H:%M}")
    out: list[Any] = [
        html.Span(label, className="gw-g-period-label"),
        html.Span(f"{t('grids_vs', lang)} {before}", className="gw-g-period-before"),
        html.Span(f"{t('grids_computed', lang)} {view.now:%Y-%m-%d %H:%M:%S}",
                  className="gw-g-computed", **{"data-now": view.now.isoformat()}),
    ]
    if notice:
        out.append(html.Span(notice, className="gw-g-notice"))
    return out


def create_notice(message: str) -> list[html.Span]:
    """Return the period line replaced by a message (unknown area, database unreachable)."""
    return [html.Span(message, className="gw-g-notice")]


def create_tiles(tiles: list[Tile], lang: str, same_span: bool = False) -> list[html.Div]:
    """Return the KPI tiles: value, previous period's value and the change, with hover parts.

    ``same_span``: the period is running and compared with the same span before (同期).
    """
    before_word = t("grids_same_span" if same_span else "grids_previous", lang)
    out = []
    for tile in tiles:
        definition = INDICATOR_BY_KEY[tile.key]
        title = [definition.label(lang)]
        if tile.key == "composite":
            title.append(composite_formula(lang))
        if tile.parts:
            title.append(f"{tile.parts} ({before_word} {tile.before_parts})")
        value = [html.Span(tile.text, className="gw-g-tile-text")]
        if tile.grade:
            value.append(html.Span(tile.grade, className="gw-g-tile-grade"))
        out.append(html.Div(
            [
                html.Div(definition.label(lang), className="gw-g-tile-label"),
                html.Div(value, className="gw-g-tile-value"),
                html.Div([
                    html.Span(f"{before_word} {tile.before_text}",
                              className="gw-g-tile-before"),
                    html.Span(delta_text(tile.delta, tile.kind),
                              className=delta_class(tile.delta, tile.better)),
                ], className="gw-g-tile-foot"),
            ],
            id=ids.kpi_tile(f"grids-{tile.key}"),
            className="gw-g-tile gw-g-tile-selected" if tile.selected else "gw-g-tile",
            title=" · ".join(title), **{"data-key": tile.key},
        ))
    return out


def create_roster(view: GridView, kpi: str, lang: str) -> list[Any]:
    """Return who answers for the area, and which listed areas lag on the chosen indicator."""
    roster, level = view.roster, view.area.level
    rows: list[tuple[str, Any]] = []
    if level == LEVEL_GRID:
        leader = roster.leader or DASH
        rows.append((t("grids_leader_grid", lang),
                     [leader, html.Span(roster.leader_phone, className="gw-g-phone")
                      if roster.leader_phone else None]))
        rows.append((t("grids_workers", lang), "、".join(roster.workers) or DASH))
        rows.append((t("grids_unit", lang), roster.responsible_unit or DASH))
        rows.append((t("grids_unit_leader", lang), roster.unit_leader or DASH))
    else:
        rows.append((t(f"grids_leader_{level}", lang), roster.leader or DASH))
        unit = t("grids_unit_count", lang)
        counts = " · ".join(f"{t(f'grids_level_{lvl}', lang)} {n}{unit}"
                            for lvl, n in roster.below.items())
        rows.append((t("grids_below", lang), counts or DASH))
    placed = standings(view, kpi)
    here = next((s for s in placed if s.area.code == view.area.code), None)
    if here is not None:
        rows.append((t("grids_rank", lang), f"{here.rank} / {here.of} · {here.text}"))
    out: list[Any] = [html.Dl([item for label, value in rows
                               for item in (html.Dt(label), html.Dd(value))],
                              className="gw-g-roster-rows")]
    lagging = [s for s in placed if s.rank > 1][:LAGGING_SHOWN]  # ties for best never lag
    if lagging:
        name = INDICATOR_BY_KEY[kpi].label(lang)
        out.append(html.H3(t("grids_lagging", lang).format(indicator=name),
                           className="gw-g-subtitle"))
        out.append(html.Ol([
            html.Li([html.Span(f"{s.rank}", className="gw-g-lag-rank"),
                     html.Span(s.area.name, className="gw-g-lag-name"),
                     html.Span(s.text, className="gw-g-lag-value")],
                    className="gw-g-lag-row")
            for s in lagging], className="gw-g-lagging"))
    return out


def cases_title(cases: OpenCases, lang: str) -> list[Any]:
    """Return the open cases' heading with the counts."""
    summary = t("grids_open_summary", lang).format(total=f"{cases.total:,}",
                                                   overdue=f"{cases.overdue:,}")
    shown = (t("grids_open_shown", lang).format(shown=len(cases.rows))
             if cases.total > len(cases.rows) else "")
    return [t("grids_open_cases", lang),
            html.Small(f" {summary}{shown}", className="gw-g-title-note")]


def cases_rows(cases: OpenCases, lang: str) -> list[dict[str, str]]:
    """Return the open cases as the small grid's rows."""
    return [{"id": c.external_id, "minor": term(c.minor, lang), "status": term(c.status, lang),
             "deadline": DASH if c.deadline_at is None else f"{c.deadline_at:%m-%d %H:%M}",
             "overdue": t("grids_col_overdue", lang) if c.overdue else ""}
            for c in cases.rows]


def map_title(view: GridView, kpi: str, lang: str) -> str:
    """Return the map's heading: the level shown and the indicator it is coloured by."""
    return f"{t(f'grids_level_{view.child_level}', lang)} · {INDICATOR_BY_KEY[kpi].label(lang)}"


def table_title(view: GridView, lang: str) -> str:
    """Return the table's heading."""
    if view.area.level == LEVEL_GRID:
        return t("grids_siblings", lang)
    return t("grids_children", lang).format(level=t(f"grids_level_{view.child_level}", lang))


def create_legend(entries: list[tuple[str, str]], lang: str) -> list[html.Div]:
    """Return the legend rows: one per colour class, then the hatched "no value" swatch."""
    rows = [html.Div([html.Span(className="gw-g-swatch", style={"background": color}),
                      html.Span(label)], className="gw-g-legend-row")
            for color, label in reversed(entries)]
    rows.append(html.Div([html.Span(className="gw-g-swatch gw-g-swatch-none"),
                          html.Span(t("grids_legend_none", lang))], className="gw-g-legend-row"))
    return rows
