"""The big screen's street ranking from the monthly assessment (城市管理综合考核).

The wall shows the same score as the rankings page: this month's provisional figures, or the
frozen ones once the month is published. Rows keep the keys the screen's ranking panel reads
(``name``, ``score``, ``grade``, ``self``, ``bottom``) and add the assessment's own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from queries.assessment import load_month
from queries.models import LEVEL_STREET
from queries.rules import Rules


def street_ranking_rows(session: Session, now: datetime, rules: Rules) -> list[dict[str, Any]]:
    """Return this month's streets by rank (the unranked last), bottom of each group marked."""
    month = load_month(session, f"{now:%Y-%m}", rules, now=now)
    return [{"code": s.code, "name": s.name, "score": s.score, "rank": s.rank,
             "group": s.group, "group_rank": s.group_rank, "ranked": s.ranked, "flag": s.flag,
             "bottom": s.bottom_two, "streak": s.consecutive_bottom_two,
             "published": month.published, "grade": None, "self": False}
            for s in month.streets]


def assessment_ranking(session: Session, now: datetime, rules: Rules) -> dict[str, Any]:
    """Return the district's ranking panel in the snapshot's shape (level, month, rows)."""
    return {"level": LEVEL_STREET, "month": f"{now:%Y-%m}",
            "rows": street_ranking_rows(session, now, rules)}
