"""Thin glue for /sections: the URL and a minute tick → the sections snapshot → the panels;
a click on the map, a list or the table → ``?section=<code>`` in the URL.

A pick changes only ``section=``, so its answer is the section's view and the status: the board
(lists, table, the map's shapes — some 200 kB the renderer would rebuild) is sent again only
when its key — the period and language asked for, and the board's version — differs from the
one on screen (``SEC_BOARD``, written with a board drawn, so a failed read is tried again). The
minute tick reads the board again: unchanged, only its as-of line is sent.
"""

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
BOARD_OUTPUTS = len(view.BOARD_PANELS) + 1  # the board's panels and its key
OUTPUTS = BOARD_OUTPUTS + 3  # + the view's hidden flag, the view, the status line
TICK = f"{ids.SEC_TICK}.n_intervals"


def board_key(query: dict[str, str], lang: str) -> list[str]:
    """Return what the board depends on in the URL (a list: what the store gives back)."""
    return [query.get("period") or "", lang]


def drawn_panels(board: dict[str, Any] | None, key: list[str], shown: list[str] | None,
                 lang: str) -> tuple[Any, ...]:
    """Return the board's outputs: nothing without a board read, the as-of line alone for the
    version on screen, else every panel and the new key."""
    if board is None:
        return (no_update,) * BOARD_OUTPUTS
    full = [*key, board["version"]]
    if full == shown:
        return (no_update,) * (BOARD_OUTPUTS - 2) + (view.as_of_text(board, lang), no_update)
    return (*view.board_panels(board, lang), full)


def register(app: Dash, boards: SectionBoards, settings: Settings) -> None:
    """Wire the page's refresh and its clicks."""

    def render(search: str | None, _tick: int | None, shown: list[str] | None) -> tuple[Any, ...]:
        query = query_of(search)
        lang = pick_language(query.get("lang"), settings.language)
        scope = wall_scope()  # read in the request: the cache is keyed by it
        code = query.get("section", "").strip()
        key = board_key(query, lang)
        redraw = key != (shown or [])[:2] or TICK in callback_context.triggered_prop_ids
        try:
            period, error = boards.period(query.get("period") or "")
            board = boards.board(period, scope) if redraw else None
            detail = boards.detail(code, period, scope) if code else None
        except SQLAlchemyError:
            log.exception("sections page: the database read failed")
            return (no_update,) * (OUTPUTS - 1) + (w("unavailable", lang),)
        except RulesError as exc:
            return (no_update,) * (OUTPUTS - 1) + (str(exc),)
        status = error or (w("unknown_section", lang) if code and detail is None else "")
        body: Any = [] if detail is None else view.section_view(detail, period.start.date(),
                                                                lang)
        return (*drawn_panels(board, key, shown, lang), detail is None, body, status)

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

    app.callback(*(Output(ident, prop) for ident, prop in view.BOARD_PANELS),
                 Output(ids.SEC_BOARD, "data"),
                 Output(ids.SEC_DETAIL, "hidden"), Output(ids.SEC_DETAIL_BODY, "children"),
                 Output(ids.SEC_STATUS, "children"),
                 Input(ids.SEC_URL, "search"), Input(ids.SEC_TICK, "n_intervals"),
                 State(ids.SEC_BOARD, "data"))(render)
    app.callback(Output(ids.SEC_URL, "search"),
                 Input(ids.SEC_SHAPES, "clickData"),
                 Input({"type": ids.SEC_PICK, "code": ALL}, "n_clicks"),
                 Input({"type": ids.SEC_LIST, "code": ALL}, "n_clicks"),
                 Input(ids.SEC_CLOSE, "n_clicks"), State(ids.SEC_URL, "search"),
                 prevent_initial_call=True)(pick)
