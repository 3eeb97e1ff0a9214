"""Thin glue for /volunteers: the URL and a minute tick → one named read → the panels."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from dash import Dash, Input, Output, no_update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from dashboard import ids
from dashboard.grids.state import parse_state, resolve_period
from dashboard.i18n import pick_language
from dashboard.routing import query_of
from dashboard.volunteers import view
from dashboard.volunteers.text import w
from queries.areas import area_by_code, district
from queries.volunteers import volunteer_page, work_by_area
from settings import Settings

log = logging.getLogger(__name__)


def register(app: Dash, sessions: sessionmaker[Session], settings: Settings,
             clock: Callable[[], datetime]) -> None:
    """Wire the volunteers page's refresh and the grid page's line of volunteer work."""

    def refresh(search: str | None, _tick: int | None) -> tuple[Any, ...]:
        query = query_of(search)
        lang = pick_language(query.get("lang"), settings.language)
        code = query.get("area", "").strip()
        try:
            with sessions() as session:
                area = area_by_code(session, code) if code else None
                if code and area is None:
                    return (no_update,) * 6 + (w("unknown_area", lang),)
                data = volunteer_page(session, now=clock(), area=area)
        except SQLAlchemyError:
            log.exception("volunteers page: the database read failed")
            return (no_update,) * 6 + ("数据暂不可用 / data unavailable",)
        return (view.tiles(data, lang), view.types_figure(data.activities_today, lang),
                view.ranking_table(data, lang), view.trend_figure(data, lang),
                view.activity_features(data.today), view.as_of(data, lang), "")

    def grid_work(search: str | None) -> str:
        # The grid page's volunteer line: work completed inside its area during its period.
        query = query_of(search)
        lang = pick_language(query.get("lang"), settings.language)
        state = parse_state(query)
        now = clock()
        period, _error = resolve_period(state.period, now)
        try:
            with sessions() as session:
                area = area_by_code(session, state.area) if state.area else district(session)
                if area is None:
                    return ""
                work = work_by_area(session, codes=[area.code], start=period.start,
                                    now=min(period.end - timedelta(microseconds=1), now))
        except SQLAlchemyError:
            log.exception("grid page: the volunteer read failed")
            return ""
        return view.grid_work_text(work[area.code], lang)

    app.callback(Output(ids.GRIDS_VOLUNTEERS, "children"),
                 Input(ids.GRIDS_URL, "search"))(grid_work)

    app.callback(Output(ids.VOL_TILES, "children"), Output(ids.VOL_TYPES, "figure"),
                 Output(ids.VOL_TEAMS, "children"), Output(ids.VOL_TREND, "figure"),
                 Output(ids.VOL_POINTS, "data"), Output(ids.VOL_ASOF, "children"),
                 Output(ids.VOL_STATUS, "children"),
                 Input(ids.VOL_URL, "search"), Input(ids.VOL_TICK, "n_intervals"))(refresh)
