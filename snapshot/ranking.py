"""The big screen's street ranking from the monthly assessment (城市管理综合考核).

The wall shows the same score (考核得分) and the same month as the rankings page: the running
month's provisional figures once it has run the rules' ``ranking.min_days``, the last finished
month before that, frozen once published. Rows keep the keys the screen's ranking panel reads
(``name``, ``score``, ``grade``, ``self``, ``bottom``) and add the assessment's own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from queries.assessment import MonthAssessment, load_month, shown_month
from queries.kept_months import KeptMonths
from queries.models import LEVEL_STREET
from queries.rules import Rules


def _rows(month: MonthAssessment) -> list[dict[str, Any]]:
    return [{"code": s.code, "name": s.name, "score": s.score, "rank": s.rank,
             "group": s.group, "group_rank": s.group_rank, "ranked": s.ranked, "flag": s.flag,
             "bottom": s.bottom_two, "streak": s.consecutive_bottom_two,
             "published": month.published, "grade": None, "self": False}
            for s in month.streets]


def assessment_ranking(session: Session, now: datetime, rules: Rules,
                       kept: KeptMonths | None = None) -> dict[str, Any]:
    """Return the district's ranking panel in the snapshot's shape (level, month, rows).

    ``kind`` names the score (the assessment's 考核得分); ``running`` and ``published`` say
    whether the month is still going and whether it is frozen. ``kept`` holds the finished
    months the streak walk reads (queries/kept_months.py).
    """
    month = load_month(session, shown_month(now, rules), rules, now=now, kept=kept)
    return {"level": LEVEL_STREET, "month": month.month, "kind": "assessment",
            "running": month.running, "published": month.published, "rows": _rows(month)}
