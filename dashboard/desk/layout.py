"""The case desk (案件工作台, ``/desk``): a department head's or street manager's own KPI tiles
and open cases, worst first, with filters, search and exports.

``page`` draws only the frame and the filter choices every caller may know (statuses,
sources); ``callbacks.desk`` fills the tiles, the major classes and streets, and the grid's
rows block by block (AG Grid's infinite row model), each read with the caller's scope. The
page itself needs a login (``security.sessions``); the frame holds no case.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dash_ag_grid as dag
from dash import dcc, html

from dashboard import ids
from dashboard.desk.columns import COLUMNS, export_url
from dashboard.grids.layout import GRID_THEME
from dashboard.i18n import t, term
from dashboard.nav import create_nav
from dashboard.routing import PageRequest
from dashboard.tiles import hover_text, value_text
from queries.indicators import indicator_def
from queries.models import SOURCES, STATUSES

PATH = "/desk"
BLOCK_ROWS = 100  # rows the grid asks for at a time
# The desk's own tiles: this month so far, the caller's cases only (queries.indicators).
TILE_KEYS = ("reported", "closed", "ontime_close_rate", "open_overdue", "backlog_over_30",
             "avg_handling_hours")
WIDTHS = {"external_id": 170, "flagged": 76, "status": 84, "left_hours": 130, "deadline": 142,
          "major": 110, "minor": 120, "street": 110, "department": 170, "source": 104,
          "urgency": 86, "reported": 142}


def page(req: PageRequest) -> html.Div:
    """Return the desk's frame; the tiles and rows come from ``callbacks.desk``."""
    lang = req.lang

    def field(label_key: str, control: Any, wide: bool = False) -> html.Label:
        return html.Label([html.Span(t(label_key, lang), className="gw-d-label"), control],
                          className="gw-d-field gw-d-wide" if wide else "gw-d-field")

    def choose(ident: str, words: tuple[str, ...], empty_key: str, *,
               multi: bool = True) -> dcc.Dropdown:
        return dcc.Dropdown([{"label": term(w, lang), "value": w} for w in words],
                            [] if multi else None, multi=multi, id=ident,
                            placeholder=t(empty_key, lang), className="gw-d-dropdown")

    filters = html.Div([
        field("desk_f_search", dcc.Input(id=ids.DESK_SEARCH, type="search", debounce=True,
                                         maxLength=64, className="gw-d-input"), wide=True),
        field("desk_f_status", choose(ids.DESK_STATUS, STATUSES, "desk_open")),
        field("desk_f_major", choose(ids.DESK_MAJOR, (), "desk_all")),
        field("desk_f_area", choose(ids.DESK_AREA, (), "desk_all", multi=False)),
        field("desk_f_source", choose(ids.DESK_SOURCE, SOURCES, "desk_all")),
        field("desk_f_dates", dcc.DatePickerRange(
            id=ids.DESK_DATES, display_format="YYYY-MM-DD", first_day_of_week=1,
            minimum_nights=0, clearable=True, className="gw-d-range",
            start_date_placeholder_text=t("grids_range_start", lang),
            end_date_placeholder_text=t("grids_range_end", lang))),
    ], className="gw-d-filters")
    tools = html.Div([
        html.Span(id=ids.DESK_COUNT, className="gw-d-count", role="status"),
        html.A(t("desk_export_csv", lang), id=ids.DESK_CSV, href=export_url("csv", {}),
               className="gw-d-export", download=""),
        html.A(t("desk_export_xlsx", lang), id=ids.DESK_XLSX, href=export_url("xlsx", {}),
               className="gw-d-export", download=""),
    ], className="gw-d-tools")
    return html.Div(
        [
            dcc.Store(id=ids.DESK_LANG, data=lang),
            dcc.Store(id=ids.DESK_FILTERS, data={}),
            create_nav(req, title=t("desk_title", lang),
                       tools=[html.Span(id=ids.DESK_WHO, className="gw-d-who")]),
            html.Div(id=ids.DESK_TILES, className="gw-d-tiles"),
            html.Div([filters, tools], className="gw-d-bar"),
            html.Main(create_grid(lang), className="gw-d-main"),
        ],
        id=ids.DESK, className="gw-desk", lang="zh-CN" if lang == "zh" else "en",
    )


def create_grid(lang: str) -> dag.AgGrid:
    """Return the cases grid: rows fetched a block at a time from the server, never all."""
    columns: list[dict[str, Any]] = []
    for name, key in COLUMNS:
        column: dict[str, Any] = {"field": name, "headerName": t(key, lang), "sortable": False}
        if name in WIDTHS:
            column["width"] = WIDTHS[name]
        else:
            column.update(flex=1, minWidth=200)
        if name == "external_id":
            column.update(cellRenderer="markdown", pinned="left")
        if name == "left_hours":
            column["cellClass"] = "gw-d-left"
        columns.append(column)
    return dag.AgGrid(
        id=ids.DESK_GRID, columnDefs=columns, rowModelType="infinite",
        defaultColDef={"resizable": True, "suppressHeaderMenuButton": True},
        dashGridOptions={
            "theme": {"function": GRID_THEME}, "suppressCellFocus": True, "rowHeight": 34,
            "headerHeight": 36, "cacheBlockSize": BLOCK_ROWS, "maxBlocksInCache": 20,
            "infiniteInitialRowCount": 1, "rowBuffer": 10,
            "localeText": {"noRowsToShow": t("desk_no_rows", lang),
                           "loadingOoo": "…"},
            "rowClassRules": {
                "gw-d-pinned": "params.data && params.data.flagged",
                "gw-d-overdue": "params.data && params.data.overdue"},
        },
        className="gw-d-aggrid", style={"height": "100%", "width": "100%"},
    )


def create_tiles(tiles: Sequence[Mapping[str, Any]], lang: str) -> list[html.Div]:
    """Return the caller's own KPI tiles (value by the indicator's kind, "—" when none)."""
    return [
        html.Div([html.Div(indicator_def(tile["key"]).label(lang), className="gw-d-tile-label"),
                  html.Div(tile_value(tile, lang), className="gw-d-tile-value")],
                 className=f"gw-d-tile gw-d-light-{light_of(tile)}", title=hover_text(tile, lang),
                 **{"data-key": tile["key"]})
        for tile in tiles
    ]


def tile_value(tile: Mapping[str, Any], lang: str) -> str:
    """Return a tile's value with its unit where a bare number would not say it (hours)."""
    text = value_text(tile, lang)
    return f"{text} {t('hours', lang)}" if tile["kind"] == "hours" and tile["value"] is not None \
        else text


def light_of(tile: Mapping[str, Any]) -> str:
    """Return a tile's colour: its target light, "none" without a value, "plain" untargeted."""
    if tile["value"] is None:
        return "none"
    return str(tile["light"] or "plain")
