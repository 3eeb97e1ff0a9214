"""Thin glue for /sections: the URL and a minute tick → the sections snapshot → the panels;
a click on the map, a list or the table → ``?section=<code>`` in the URL."""

from __future__ import annotations

import logging
from typing import Any

from dash import ALL, Dash, Input, Output, State, callback_context, no_update
from sqlalchemy.exc import SQLAlchemyError

from dashboard import ids
from dashboard.i18n import pick_language
from dashboard.routing import query_of
from dashboard.sections import view
from dashboard.sections.layout import search_for
from dashboard.sections.text import w
from queries.rules import RulesError
from security.scoping import wall_scope
from settings import Settings
from snapshot.sections import SectionBoards

log = logging.getLogger(__name__)
PANELS = 8  # outputs before the status line


def register(app: Dash, boards: SectionBoards, settings: Settings) -> None:
    """Wire the page's refresh and its clicks."""

    def render(search: str | None, _tick: int | None) -> tuple[Any, ...]:
        query = query_of(search)
        lang = pick_language(query.get("lang"), settings.language)
        scope = wall_scope()  # read in the request: the cache is keyed by it
        code = query.get("section", "").strip()
        try:
            period, error = boards.period(query.get("period") or "")
            board = boards.board(period, scope)
            detail = boards.detail(code, period, scope) if code else None
        except SQLAlchemyError:
            log.exception("sections page: the database read failed")
            return (no_update,) * PANELS + (w("unavailable", lang),)
        except RulesError as exc:
            return (no_update,) * PANELS + (str(exc),)
        status = error or (w("unknown_section", lang) if code and detail is None else "")
        body: Any = [] if detail is None else view.section_view(detail, period.start.date(),
                                                                lang)
        label = board["period"]["en" if lang == "en" else "zh"]
        return (view.red_black(board, "red", lang), view.red_black(board, "black", lang),
                view.ranking_table(board, lang), view.map_data(board),
                view.rule_text(board, lang),
                f"{label} · {w('updated', lang)} {board['as_of']}", detail is None, body,
                status)

    def pick(_map: Any, _rows: list[Any], _lists: list[Any], _close: int | None,
             search: str | None) -> Any:
        trigger = callback_context.triggered_id
        fired = callback_context.triggered[0] if callback_context.triggered else {}
        query = query_of(search)
        if trigger == ids.SEC_CLOSE:
            return search_for(query, section=None) if fired.get("value") else no_update
        if trigger == ids.SEC_SHAPES:
            feature = fired.get("value") or {}
            code = (feature.get("properties") or {}).get("code")
        elif isinstance(trigger, dict) and fired.get("value"):  # a row created is no click
            code = trigger.get("code")
        else:
            return no_update
        return search_for(query, section=str(code)) if code else no_update

    app.callback(Output(ids.SEC_RED, "children"), Output(ids.SEC_BLACK, "children"),
                 Output(ids.SEC_TABLE, "children"), Output(ids.SEC_SHAPES, "data"),
                 Output(ids.SEC_RULE, "children"), Output(ids.SEC_ASOF, "children"),
                 Output(ids.SEC_DETAIL, "hidden"), Output(ids.SEC_DETAIL_BODY, "children"),
                 Output(ids.SEC_STATUS, "children"),
                 Input(ids.SEC_URL, "search"), Input(ids.SEC_TICK, "n_intervals"))(render)
    app.callback(Output(ids.SEC_URL, "search"),
                 Input(ids.SEC_SHAPES, "clickData"),
                 Input({"type": ids.SEC_PICK, "code": ALL}, "n_clicks"),
                 Input({"type": ids.SEC_LIST, "code": ALL}, "n_clicks"),
                 Input(ids.SEC_CLOSE, "n_clicks"), State(ids.SEC_URL, "search"),
                 prevent_initial_call=True)(pick)
