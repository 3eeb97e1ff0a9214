"""The 路长 sections page's data as plain JSON-able dicts, computed once per refresh interval.

Every open /sections page asks for the same few views (a period and a caller's scope), so the
boards and section views are cached per (period, scope, rules) for ``refresh_seconds``: a wall
that polls every minute costs one computation, not one per browser. The dashboard renders these
dicts and never touches the database. Figures come from ``queries.sections``; the rules' text
is read every time (an edited file takes effect at the next refresh).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from queries.models import RoadSection
from queries.periods import Period, PeriodError, parse_period
from queries.rules import Rules, load_rules
from queries.scope import Scope
from queries.sections import (
    SectionBoard,
    SectionDetail,
    SectionFigures,
    default_period,
    section_board,
    section_detail,
)
from settings import Settings
from snapshot.cache import SharedCache


def figures_row(f: SectionFigures) -> dict[str, Any]:
    """Return one section's figures as the page's row (texts already formatted)."""
    s = f.section
    return {"code": s.code, "name": s.name, "leader": s.leader, "leader_unit": s.leader_unit,
            "leader_phone": s.leader_phone or "", "unit": s.responsible_unit,
            "rank": f.rank, "score": None if f.score is None else round(f.score, 2),
            "due": f.due, "closed": f.close_rate.numerator,
            "ontime": f.ontime_close_rate.numerator,
            "close_text": f.close_rate.text(), "ontime_text": f.ontime_close_rate.text(),
            "checkin_days": f.checkin_days, "period_days": f.period_days,
            "checkin_text": f.checkin_rate.text(), "open": f.open_cases,
            "overdue": f.open_overdue}


def period_info(period: Period) -> dict[str, str]:
    """Return a period as the page names it."""
    return {"token": period.token, "kind": period.kind, "zh": period.label_zh,
            "en": period.label_en}


def board_payload(board: SectionBoard, outlines: dict[str, Any]) -> dict[str, Any]:
    """Return a board as plain data: rows, 红黑榜 codes, the rules used and the map features."""
    rows = [figures_row(f) for f in board.rows]
    features = [{"type": "Feature", "geometry": outlines[r["code"]],
                 "properties": {"code": r["code"], "name": r["name"], "leader": r["leader"],
                                "score": r["score"], "rank": r["rank"]}}
                for r in rows if r["code"] in outlines]
    payload = {"period": period_info(board.period),
               "rows": rows, "red": [f.section.code for f in board.red],
               "black": [f.section.code for f in board.black],
               "rules": {"red": board.rules.red, "black": board.rules.black,
                         "min_due": board.rules.min_due,
                         "checkin_minutes": board.rules.checkin_minutes,
                         "weights": dict(board.rules.weights)},
               "map": {"type": "FeatureCollection", "features": features}}
    # What the board shows but its time: a page holding this version needs only the new time.
    version = hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]
    return {**payload, "as_of": board.now.isoformat(" ", "minutes"), "version": version}


def detail_payload(detail: SectionDetail) -> dict[str, Any]:
    """Return one section's view as plain data."""
    return {**figures_row(detail.figures),
            "overdue_cases": [{"id": c.external_id, "minor": c.minor, "status": c.status,
                               "address": c.address,
                               "deadline": c.deadline_at.isoformat(" ", "minutes"),
                               "hours_over": c.hours_over} for c in detail.overdue],
            "checkin_dates": [d.isoformat() for d in detail.checkin_dates]}


def outlines(session: Session) -> dict[str, Any]:
    """Return every section's outline (GeoJSON geometry) by code: the map's shapes."""
    return {code: json.loads(geometry) for code, geometry in session.execute(
        select(RoadSection.code, RoadSection.geometry))}


class SectionBoards:
    """Cached boards and section views for the /sections page and the deck."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings, *,
                 clock: Callable[[], datetime]) -> None:
        self.sessions, self.settings, self.clock = sessions, settings, clock
        self.cache: SharedCache[Any] = SharedCache(settings.refresh_seconds)

    def rules(self) -> Rules:
        """Read the rules file (every time: an edited file takes effect at once)."""
        return load_rules(self.settings.rules_file or None)

    def period(self, token: str) -> tuple[Period, str | None]:
        """Return the period of a URL token ("" the default month) and a parse error if any."""
        if not token:
            return default_period(self.now(), self.rules().ranking_min_days), None
        try:
            return parse_period(token, self.now()), None
        except PeriodError as exc:
            return default_period(self.now(), self.rules().ranking_min_days), str(exc)

    def now(self) -> datetime:
        """Return the app's time, to the second."""
        return self.clock().replace(microsecond=0)

    def board(self, period: Period, scope: Scope) -> dict[str, Any]:
        """Return the board of a period for a caller's scope."""
        rules = self.rules()

        def compute() -> dict[str, Any]:
            with self.sessions() as session:
                board = section_board(session, period, self.now(), rules.sections, scope=scope,
                                      settings=self.settings.indicator_settings())
                return board_payload(board, outlines(session))

        return self.cache.get(("board", period.token, period.kind, scope, rules.sha256),
                              compute)

    def detail(self, code: str, period: Period, scope: Scope) -> dict[str, Any] | None:
        """Return one section's view (None for an unknown code) for a caller's scope."""
        rules = self.rules()

        def compute() -> dict[str, Any] | None:
            with self.sessions() as session:
                detail = section_detail(session, code, period, self.now(), rules.sections,
                                        scope=scope,
                                        settings=self.settings.indicator_settings())
                return None if detail is None else detail_payload(detail)

        return self.cache.get(("detail", code, period.token, period.kind, scope,
                               rules.sha256), compute)
