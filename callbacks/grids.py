"""Glue for the grid page: controls write the URL, the page renders from the URL.

``navigate`` turns a control, a map click, a breadcrumb or a table click into a new query
string (pushed without a reload); ``render`` reads that query string, fetches the view from a
small per-app cache (one computation per area and period per refresh interval, however many
browsers look) and fills every panel. Exports read the same cached view.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from dash import (
    ALL,
    ClientsideFunction,
    Dash,
    Input,
    Output,
    State,
    callback_context,
    dcc,
    html,
    no_update,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from dashboard import ids
from dashboard.exports import csv_params, xlsx_bytes
from dashboard.grids import layout as page
from dashboard.grids.figures import categories_figure, daily_figure
from dashboard.grids.state import (
    PATH,
    GridsState,
    other_language_href,
    parse_state,
    period_choice,
    query_params,
    range_of,
    resolve_period,
    with_period_choice,
    with_range,
)
from dashboard.grids.view import (
    column_defs,
    export_table,
    legend,
    map_classes,
    map_hideout,
    table_rows,
    tiles,
    total_rows,
)
from dashboard.i18n import pick_language, t
from dashboard.placeholders import create_sheet
from queries.grid_view import GridView, grid_view
from queries.indicators import INDICATOR_BY_KEY
from queries.periods import CUSTOM
from security.scoping import wall_scope
from settings import Settings
from snapshot import routes_grids
from snapshot.cache import SharedCache
from snapshot.jobs import failure_kind

log = logging.getLogger(__name__)

Prop = tuple[str, str]
OUTPUTS: tuple[Prop, ...] = (
    (ids.GRIDS_CRUMBS, "children"),
    (ids.GRIDS_STATUS, "children"),
    (ids.GRIDS_TILES, "children"),
    (ids.GRIDS_AREAS, "url"),
    (ids.GRIDS_AREAS, "hideout"),
    (ids.GRIDS_LEGEND, "children"),
    (ids.GRIDS_MAP_TITLE, "children"),
    (ids.GRIDS_ROSTER, "children"),
    (ids.GRIDS_CASES_TITLE, "children"),
    (ids.GRIDS_CASES, "rowData"),
    (ids.GRIDS_CATEGORIES, "figure"),
    (ids.GRIDS_TREND, "figure"),
    (ids.GRIDS_TABLE_TITLE, "children"),
    (ids.GRIDS_TABLE, "rowData"),
    (ids.GRIDS_TABLE, "columnDefs"),
    (ids.GRIDS_TABLE, "dashGridOptions"),
    (ids.GRIDS_TABLE, "csvExportParams"),
    (ids.GRIDS_LANG, "href"),
    (ids.GRIDS_SHEET, "children"),
    (ids.GRIDS_SHEET, "hidden"),
    (ids.GRIDS_RETRY, "disabled"),
)


def view_outputs(view: GridView, state: GridsState, lang: str,
                 notice: str | None = None) -> dict[Prop, Any]:
    """Return every panel's content for a view, by (component id, property)."""
    kpi = state.kpi
    filename = f"{view.area.name}_{view.period.token}"
    return {
        (ids.GRIDS_CRUMBS, "children"): page.create_breadcrumb(view.lineage, lang),
        (ids.GRIDS_STATUS, "children"): page.create_status(view, lang, notice),
        (ids.GRIDS_TILES, "children"): page.create_tiles(tiles(view, kpi), lang,
                                                          view.same_span),
        (ids.GRIDS_AREAS, "url"): routes_grids.areas_url(view.map_parent.code),
        (ids.GRIDS_AREAS, "hideout"): map_hideout(view, kpi, lang),
        (ids.GRIDS_LEGEND, "children"): page.create_legend(
            legend(map_classes(view, kpi), INDICATOR_BY_KEY[kpi].kind, lang), lang),
        (ids.GRIDS_MAP_TITLE, "children"): page.map_title(view, kpi, lang),
        (ids.GRIDS_ROSTER, "children"): page.create_roster(view, kpi, lang),
        (ids.GRIDS_CASES_TITLE, "children"): page.cases_title(view.open_cases, lang),
        (ids.GRIDS_CASES, "rowData"): page.cases_rows(view.open_cases, lang),
        (ids.GRIDS_CATEGORIES, "figure"): categories_figure(view.worst_categories, lang=lang),
        (ids.GRIDS_TREND, "figure"): daily_figure(view.trend, lang=lang, now=view.now),
        (ids.GRIDS_TABLE_TITLE, "children"): page.table_title(view, lang),
        (ids.GRIDS_TABLE, "rowData"): table_rows(view, lang),
        (ids.GRIDS_TABLE, "columnDefs"): column_defs(kpi, lang),
        (ids.GRIDS_TABLE, "dashGridOptions"): page.table_options(total_rows(view, lang), lang),
        (ids.GRIDS_TABLE, "csvExportParams"): csv_params(f"{filename}.csv"),
        (ids.GRIDS_LANG, "href"): other_language_href(state, lang),
        (ids.GRIDS_SHEET, "children"): None,
        (ids.GRIDS_SHEET, "hidden"): True,
        (ids.GRIDS_RETRY, "disabled"): True,
    }


def notice_outputs(message: str) -> dict[Prop, Any]:
    """Return the outputs that show only a message and keep every panel as it is."""
    return {(ids.GRIDS_STATUS, "children"): page.create_notice(message)}


def unknown_outputs(state: GridsState, lang: str) -> dict[Prop, Any]:
    """Cover the panels: no area has the URL's code (no retry: it will not appear by waiting)."""
    message = f"{t('unknown_area', lang)}: {state.area}"
    back = html.A(t("back_grids", lang), href=f"{PATH}{replace(state, area='').search()}",
                  className="gw-notfound-link")
    return {**notice_outputs(message),
            (ids.GRIDS_SHEET, "children"): create_sheet(message, link=back),
            (ids.GRIDS_SHEET, "hidden"): False,
            (ids.GRIDS_RETRY, "disabled"): True}


def outage_outputs(lang: str) -> dict[Prop, Any]:
    """Cover the panels while the database is unreachable, and poll until it answers."""
    message = t("data_unavailable", lang)
    return {**notice_outputs(message),
            (ids.GRIDS_SHEET, "children"): create_sheet(message, retrying=True),
            (ids.GRIDS_SHEET, "hidden"): False,
            (ids.GRIDS_RETRY, "disabled"): False}


def next_state(state: GridsState, trigger: Any, *, choice: str | None, start: str | None,
               end: str | None, kpi: str | None, click: dict[str, Any] | None,
               cell: dict[str, Any] | None, clicked: Any, now: datetime) -> GridsState:
    """Return the view a control asks for: a period, a range, an indicator, or another area.

    A map click or a click on a name in the table drills to that area; a breadcrumb climbs
    back (``clicked`` is the breadcrumb's click count: 0 when it was only just drawn).
    """
    if trigger == ids.GRIDS_PERIOD and choice:
        shown, _ = resolve_period(state.period, now)
        return with_period_choice(state, choice, shown)
    if trigger == ids.GRIDS_RANGE:
        return with_range(state, start, end)
    if trigger == ids.GRIDS_KPI and kpi in INDICATOR_BY_KEY:
        return replace(state, kpi=kpi)
    if trigger == ids.GRIDS_AREAS and click:
        code = (click.get("properties") or {}).get("code")
        return replace(state, area=code) if code else state
    row_id = str((cell or {}).get("rowId") or "")
    if trigger == ids.GRIDS_TABLE and cell and cell.get("colId") == "name" and row_id.isdigit():
        return replace(state, area=row_id)  # pinned rows have grid-made ids: not areas
    if isinstance(trigger, dict) and trigger.get("type") == ids.GRIDS_CRUMB and clicked:
        return replace(state, area=trigger["index"])
    return state


def register(app: Dash, sessions: sessionmaker[Session], settings: Settings, *,
             clock: Callable[[], datetime] = datetime.now) -> None:
    """Wire the grid page's route and callbacks into ``app``."""
    routes_grids.register(app.server, sessions, settings)
    views: SharedCache[GridView | None] = SharedCache(settings.refresh_seconds)

    def load(state: GridsState) -> tuple[GridView | None, str | None]:
        now = clock().replace(microsecond=0)
        period, error = resolve_period(state.period, now)
        scope = wall_scope()  # read here, in the request: the cache is keyed by it

        def compute() -> GridView | None:
            with sessions() as session:
                return grid_view(session, state.area, period, now, scope=scope,
                                 settings=settings.indicator_settings(),
                                 looking_back=settings.as_of is not None)

        return views.get((state.area, period.token, scope), compute), error

    def render(search: str | None, _retry: int | None = None) -> list[Any]:
        params = query_params(search)
        state = parse_state(params)
        lang = pick_language(params.get("lang"), settings.language)
        try:
            view, error = load(state)
        except SQLAlchemyError as exc:
            log.warning("grid page %s: database error: %s", search, failure_kind(exc))
            outputs = outage_outputs(lang)
        else:
            if view is None:
                outputs = unknown_outputs(state, lang)
            else:
                notice = t("grids_bad_period", lang) if error else None
                outputs = view_outputs(view, state, lang, notice)
        return [outputs.get(prop, no_update) for prop in OUTPUTS]

    app.callback([Output(i, p) for i, p in OUTPUTS], Input(ids.GRIDS_URL, "search"),
                 Input(ids.GRIDS_RETRY, "n_intervals"))(render)

    def navigate(choice: str, start: str | None, end: str | None, kpi: str,
                 _map_clicks: int | None, _crumbs: list[int], cell: dict[str, Any] | None,
                 search: str | None, click: dict[str, Any] | None) -> tuple[Any, ...]:
        state = parse_state(query_params(search))
        trigger = callback_context.triggered_id
        if trigger == ids.GRIDS_URL:  # back or forward: bring the controls in line
            first, last = range_of(state.period)
            return (no_update, period_choice(state.period), first, last,
                    period_choice(state.period) != CUSTOM, state.kpi)
        new = next_state(state, trigger, choice=choice, start=start, end=end, kpi=kpi,
                         click=click, cell=cell, clicked=callback_context.triggered[0]["value"],
                         now=clock())
        dates: tuple[Any, Any] = (no_update, no_update)
        hidden: Any = no_update
        if trigger == ids.GRIDS_PERIOD:
            hidden = choice != CUSTOM
            if choice == CUSTOM:
                dates = range_of(new.period)
        return (new.search() if new != state else no_update, no_update, *dates, hidden,
                no_update)

    app.callback(
        Output(ids.GRIDS_URL, "search"),
        Output(ids.GRIDS_PERIOD, "value"),
        Output(ids.GRIDS_RANGE, "start_date"),
        Output(ids.GRIDS_RANGE, "end_date"),
        Output(ids.GRIDS_RANGE_BOX, "hidden"),
        Output(ids.GRIDS_KPI, "value"),
        Input(ids.GRIDS_PERIOD, "value"),
        Input(ids.GRIDS_RANGE, "start_date"),
        Input(ids.GRIDS_RANGE, "end_date"),
        Input(ids.GRIDS_KPI, "value"),
        Input(ids.GRIDS_AREAS, "n_clicks"),
        Input({"type": ids.GRIDS_CRUMB, "index": ALL}, "n_clicks"),
        Input(ids.GRIDS_TABLE, "cellClicked"),
        Input(ids.GRIDS_URL, "search"),
        State(ids.GRIDS_AREAS, "clickData"),
        prevent_initial_call=True,
    )(navigate)

    def download(_clicks: int, search: str | None) -> Any:
        params = query_params(search)
        state = parse_state(params)
        lang = pick_language(params.get("lang"), settings.language)
        try:
            view, _ = load(state)
        except SQLAlchemyError as exc:
            log.warning("grid page export %s: database error: %s", search, exc)
            return no_update
        if view is None:
            return no_update
        headers, rows, formats = export_table(view, lang)
        title = f"{view.area.name} {view.period.token}"
        return dcc.send_bytes(xlsx_bytes(title, headers, rows, formats),
                              f"{view.area.name}_{view.period.token}.xlsx")

    app.callback(Output(ids.GRIDS_DOWNLOAD, "data"), Input(ids.GRIDS_XLSX, "n_clicks"),
                 State(ids.GRIDS_URL, "search"), prevent_initial_call=True)(download)

    # CSV comes straight from the grid in the browser (ag-grid community's own export, what
    # is on screen as formatted there); csv_params makes every cell safe to open.
    app.clientside_callback(
        ClientsideFunction("gridwatch_grids", "exportCsv"),
        Output(ids.GRIDS_TABLE, "exportDataAsCsv"), Input(ids.GRIDS_CSV, "n_clicks"),
        prevent_initial_call=True,
    )
