"""Glue for the case page: one case read with the caller's scope, and a leader's 督办.

Both callbacks run on Dash's shared endpoint, so each reads ``request_scope()`` itself: a
caller without a login reads ``Scope.nothing()`` and gets "no such case"; a case of another
department reads the same. Only a logged-in leader may flag (``ROLE_LEADER``), and the flag is
written through ``queries.supervision`` with the leader's scope, audited.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from dash import Dash, Input, Output, State, no_update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from dashboard import ids
from dashboard.case import layout as page
from dashboard.i18n import pick_language, t
from queries.coords import transform_for
from queries.desk import case_file, stages
from queries.engine import error_reason
from queries.supervision import flag_case, flags_of
from security.identity import ROLE_LEADER, current_identity
from security.scoping import request_scope
from settings import Settings

log = logging.getLogger(__name__)


def asked_case(asked: Any, default_lang: str) -> tuple[str, int | None]:
    """Return the language and the case id of the page's store (a forged one included): None
    when the id is not a number."""
    asked = asked if isinstance(asked, dict) else {}
    lang = pick_language(asked.get("lang"), default_lang)
    try:
        return lang, int(str(asked.get("id")))
    except ValueError:
        return lang, None


def register(app: Dash, sessions: sessionmaker[Session], settings: Settings, *,
             clock: Callable[[], datetime],
             writes: sessionmaker[Session] | None = None) -> None:
    """Wire the case page's callbacks into ``app``; a 督办 and the history shown after it go
    through ``writes`` (``sessions`` when None), the case itself is read through ``sessions``."""
    writer = writes or sessions
    shift = transform_for(settings.tile_crs)

    def show(asked: dict[str, str] | None) -> Any:
        lang, case_id = asked_case(asked, settings.language)
        scope = request_scope()
        if case_id is None:
            return page.create_not_found(lang)
        try:
            with sessions() as session:
                case = case_file(session, case_id, scope=scope)
        except SQLAlchemyError as exc:
            log.warning("case page failed: %s", error_reason(exc))
            return t("data_unavailable", lang)
        if case is None:
            return page.create_not_found(lang)
        now = clock()
        return page.create_body(case, stages(case, now, settings.indicator_settings()), now,
                                lang, settings=settings, shift=shift,
                                can_flag=current_identity().role == ROLE_LEADER)

    app.callback(Output(ids.CASE_BODY, "children"),
                 Input(ids.CASE_ID, "data"))(show)

    def flag(clicks: int | None, note: str | None,
             asked: dict[str, str] | None) -> tuple[Any, Any, Any]:
        lang, case_id = asked_case(asked, settings.language)
        identity = current_identity()
        if not clicks or case_id is None:
            return no_update, no_update, no_update
        if identity.role != ROLE_LEADER:
            return no_update, t("case_flag_leaders", lang), no_update
        with writer() as session:
            done = flag_case(session, case_id, scope=request_scope(),
                             by=identity.display_name or identity.username,
                             actor=identity.username, note=note or "", now=clock())
            session.commit()
            history = flags_of(session, case_id, scope=request_scope())
        if done is None:
            return no_update, t("case_not_found", lang), no_update
        return page.create_flags(history, lang), t("case_flag_done", lang), ""

    app.callback(
        Output(ids.CASE_FLAGS, "children"), Output(ids.CASE_FLAG_MESSAGE, "children"),
        Output(ids.CASE_FLAG_NOTE, "value"),
        Input(ids.CASE_FLAG_BUTTON, "n_clicks"), State(ids.CASE_FLAG_NOTE, "value"),
        State(ids.CASE_ID, "data"), prevent_initial_call=True,
    )(flag)
