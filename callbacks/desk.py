"""Glue for the case desk: the caller's tiles and filter choices, the filters into a store and
the export links, and the grid's rows a block at a time.

The desk's callbacks share Dash's one endpoint with the wall, which the login hook opens to
the wall's callers; so each one reads the caller's scope itself (``request_scope()``) and a
caller without a login (anonymous on the demo wall, a kiosk token) reads ``Scope.nothing()``
and gets no row, no tile, no choice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from dash import ClientsideFunction, Dash, Input, Output, State, no_update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from dashboard import ids
from dashboard.desk import layout as page
from dashboard.desk.columns import export_url, grid_row
from dashboard.i18n import t, term
from dashboard.tiles import tile_payload
from queries.desk import desk_options, desk_page, filters_from_query
from queries.engine import error_reason
from queries.indicators import scope_indicators
from queries.periods import MONTH, period_for
from security.identity import current_identity
from security.scoping import request_scope
from settings import Settings

log = logging.getLogger(__name__)


def filters_query(search: str | None, statuses: list[str] | None, majors: list[str] | None,
                  area: str | None, sources: list[str] | None, start: str | None,
                  end: str | None) -> dict[str, str]:
    """Return the controls as the desk's URL parameters (``queries.desk.filters_from_query``)."""
    raw = {"q": search or "", "status": ",".join(statuses or []),
           "major": ",".join(majors or []), "area": area or "",
           "source": ",".join(sources or []), "from": start or "", "to": end or ""}
    return filters_from_query(raw).query()


def register(app: Dash, sessions: sessionmaker[Session], settings: Settings, *,
             clock: Callable[[], datetime]) -> None:
    """Wire the desk's callbacks into ``app``."""

    def setup(lang: str) -> tuple[Any, ...]:
        scope = request_scope()
        identity = current_identity()
        if not identity.logged_in:
            return t("desk_login_needed", lang), [], [], [], ""
        now = clock()
        try:
            with sessions() as session:
                figures = scope_indicators(session, period_for(MONTH, now), scope=scope,
                                           now=now, settings=settings.indicator_settings())
                options = desk_options(session)
        except SQLAlchemyError as exc:
            log.warning("desk tiles failed: %s", error_reason(exc))
            return t("data_unavailable", lang), [], [], [], ""
        tiles = [tile_payload(key, getattr(figures, key), [], settings.targets)
                 for key in page.TILE_KEYS]
        who = f"{identity.display_name} · {t('desk_tiles_period', lang)}"
        return (page.create_tiles(tiles, lang),
                [{"label": term(m, lang), "value": m} for m in options.majors],
                [{"label": term(name, lang), "value": code} for code, name in options.streets],
                [], who)

    app.callback(
        Output(ids.DESK_TILES, "children"), Output(ids.DESK_MAJOR, "options"),
        Output(ids.DESK_AREA, "options"), Output(ids.DESK_MAJOR, "value"),
        Output(ids.DESK_WHO, "children"),
        Input(ids.DESK_LANG, "data"),
    )(setup)

    def store(search: str | None, statuses: list[str] | None, majors: list[str] | None,
              area: str | None, sources: list[str] | None, start: str | None,
              end: str | None, lang: str) -> tuple[dict[str, str], str, str]:
        query = filters_query(search, statuses, majors, area, sources, start, end)
        linked = {**query, "lang": lang} if lang == "en" else query
        return query, export_url("csv", linked), export_url("xlsx", linked)

    app.callback(
        Output(ids.DESK_FILTERS, "data"), Output(ids.DESK_CSV, "href"),
        Output(ids.DESK_XLSX, "href"),
        Input(ids.DESK_SEARCH, "value"), Input(ids.DESK_STATUS, "value"),
        Input(ids.DESK_MAJOR, "value"), Input(ids.DESK_AREA, "value"),
        Input(ids.DESK_SOURCE, "value"), Input(ids.DESK_DATES, "start_date"),
        Input(ids.DESK_DATES, "end_date"), State(ids.DESK_LANG, "data"),
        prevent_initial_call=True,
    )(store)

    def rows(request: dict[str, Any] | None, query: dict[str, str] | None,
             lang: str) -> tuple[dict[str, Any], str]:
        scope = request_scope()
        request = request or {}
        try:
            start = int(request.get("startRow") or 0)
            end = int(request.get("endRow") or start + page.BLOCK_ROWS)
        except (TypeError, ValueError):
            start, end = 0, page.BLOCK_ROWS
        now = clock()
        try:
            with sessions() as session:
                found = desk_page(session, scope=scope, filters=filters_from_query(query or {}),
                                  start=start, end=end)
        except SQLAlchemyError as exc:  # no rows is not "0 cases": the count says why
            log.warning("desk rows failed: %s", error_reason(exc))
            return no_update, t("data_unavailable", lang)
        return ({"rowData": [grid_row(row, now, lang) for row in found.rows],
                 "rowCount": found.total},
                t("desk_count", lang).format(n=f"{found.total:,}"))

    app.callback(
        Output(ids.DESK_GRID, "getRowsResponse"), Output(ids.DESK_COUNT, "children"),
        Input(ids.DESK_GRID, "getRowsRequest"),
        State(ids.DESK_FILTERS, "data"), State(ids.DESK_LANG, "data"),
        prevent_initial_call=True,
    )(rows)

    # A new filter empties the grid's block cache, so it asks for its first block again.
    app.clientside_callback(
        ClientsideFunction("gridwatch_desk", "refresh"),
        Input(ids.DESK_FILTERS, "data"), State(ids.DESK_GRID, "id"),
        prevent_initial_call=True,
    )
