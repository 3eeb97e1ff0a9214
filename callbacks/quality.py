"""Glue for the data-quality page: a poll → one cached quality report → every panel.

The report is a handful of GROUP BYs over the cases and the quarantine; it is computed at most
once per refresh interval however many browsers look, and an outage keeps the last result on
screen with a note.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from dash import Dash, Input, Output, no_update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from dashboard import ids
from dashboard.i18n import t
from dashboard.quality import layout as page
from queries.engine import error_reason
from queries.quality import QualityReport, imprecise_by_day, quality_report, total_cases
from queries.scope import Scope
from security.scoping import wall_scope
from settings import Settings
from snapshot.cache import SharedCache

log = logging.getLogger(__name__)
SAMPLES = 12


def register(app: Dash, sessions: sessionmaker[Session], settings: Settings, *,
             clock: Callable[[], datetime] = datetime.now) -> None:
    """Wire the quality page's poll into ``app``."""
    reports: SharedCache[tuple[QualityReport, list[Any], int, datetime]] = SharedCache(
        settings.refresh_seconds)
    last: dict[Scope, tuple[QualityReport, list[Any], int, datetime]] = {}

    def compute(scope: Scope) -> tuple[QualityReport, list[Any], int, datetime]:
        now = clock().replace(microsecond=0)
        with sessions() as session:
            report = quality_report(session, scope=scope, now=now,
                                    stale_hours=settings.stale_hours, samples=SAMPLES)
            imprecise = imprecise_by_day(session, since=now - timedelta(days=page.TREND_DAYS))
            return report, imprecise, total_cases(session), now

    def fill(_tick: int | None, lang: str) -> tuple[Any, ...]:
        note = ""
        scope = wall_scope()  # the samples are the caller's; the report is kept per scope
        try:
            last[scope] = reports.get(scope, lambda: compute(scope))
        except SQLAlchemyError as exc:
            log.warning("quality report failed: %s", error_reason(exc))
            note = t("quality_unavailable", lang)
        if scope not in last:
            return (note, *[no_update] * 7)
        report, imprecise, total, at = last[scope]
        status = note or f"{t('quality_computed', lang)} {at:%Y-%m-%d %H:%M}"
        return (status, page.create_tiles(report, total, lang),
                page.trend_figure(report.quarantine_days, imprecise, lang),
                page.create_quarantine(report, lang),
                page.create_locations(report.imprecise, lang),
                page.create_locations(report.disagreements, lang),
                page.create_sources(report, lang), page.create_samples(report, lang))

    app.callback(
        Output(ids.QUALITY_STATUS, "children"), Output(ids.QUALITY_TILES, "children"),
        Output(ids.QUALITY_TREND, "figure"), Output(ids.QUALITY_QUARANTINE, "children"),
        Output(ids.QUALITY_LOCATIONS, "children"), Output(ids.QUALITY_DISAGREE, "children"),
        Output(ids.QUALITY_SOURCES, "children"), Output(ids.QUALITY_SAMPLES, "children"),
        Input(ids.QUALITY_TICK, "n_intervals"), Input(ids.QUALITY_LANG, "data"),
    )(fill)

