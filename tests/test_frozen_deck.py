"""A published month is frozen everywhere: its deck's KPIs, trend and categories too.

The hand-built city (tests/assessment_city.py) registers eight cases in February 2026 (a5–a7,
b4, b5, c4, c5, d4), all closed: five 暴露垃圾, two 路面塌陷, one 井盖; January had seven, three
and two. Publishing February freezes those figures with the ranking; cancelling three of its
cases afterwards changes the live reading, never the published deck.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from queries.assessment import publication, publish_month
from queries.deck import gather
from queries.models import STATUS_CANCELLED, AssessmentPublication, Case
from queries.month_figures import (
    CategoryCount,
    FiguresError,
    figures_from_data,
    figures_to_data,
    month_figures,
)
from queries.rules import parse_rules
from tests.assessment_city import NOW, RULES_YAML, build_city

RULES = parse_rules(RULES_YAML)
FEBRUARY = "2026-02"
CATEGORIES = (CategoryCount("暴露垃圾", 5, 7), CategoryCount("路面塌陷", 2, 3),
              CategoryCount("井盖", 1, 2))


def cancel(session: Session, external_ids: list[str], at: datetime) -> None:
    session.execute(update(Case).where(Case.external_id.in_(external_ids))
                    .values(status=STATUS_CANCELLED, cancelled_at=at))
    session.commit()


@pytest.fixture
def city(session: Session) -> Session:
    build_city(session)
    return session


def test_the_published_deck_does_not_move_with_later_edits(city: Session) -> None:
    session = city
    publish_month(session, FEBRUARY, RULES, now=NOW, by="测试")
    before = gather(session, FEBRUARY, RULES, now=NOW)
    assert before.kpis.registered == 8 and before.kpis.cancelled == 0
    assert before.categories == CATEGORIES
    later = datetime(2026, 3, 20, 9)
    cancel(session, ["a6", "a7", "b4"], later)  # three of February's eight
    live = month_figures(session, FEBRUARY, now=later)
    assert live.kpis.cancelled == 3  # the edit is real
    assert sum(c.problems for c in live.categories) == 5  # 8 − 3: cancelled are no problems
    after = gather(session, FEBRUARY, RULES, now=later)
    assert after.kpis == before.kpis and after.previous_kpis == before.previous_kpis
    assert after.trend == before.trend and after.categories == CATEGORIES
    assert after.assessment == before.assessment and after.assessment.published
    assert after.generated_at == later  # only the print date is new


def test_the_frozen_figures_round_trip_exactly(city: Session) -> None:
    figures = month_figures(city, FEBRUARY, now=NOW)
    data = json.loads(json.dumps(figures_to_data(figures), ensure_ascii=False))
    assert figures_from_data(data) == figures
    assert data["trend"]["days"][-1] == "2026-02-28" and data["format"] == 1


def test_a_provisional_month_reads_live(city: Session) -> None:
    session = city
    before = gather(session, FEBRUARY, RULES, now=NOW)
    cancel(session, ["a6"], datetime(2026, 3, 20, 9))
    after = gather(session, FEBRUARY, RULES, now=datetime(2026, 3, 20, 10))
    assert (before.kpis.cancelled, after.kpis.cancelled) == (0, 1)


def test_an_older_publication_without_frozen_figures_reads_live_and_says_so(
        city: Session, caplog: pytest.LogCaptureFixture) -> None:
    session = city
    publish_month(session, FEBRUARY, RULES, now=NOW)
    row = session.scalar(select(AssessmentPublication))
    assert row is not None
    stored = json.loads(row.result_json)
    del stored["deck"]  # as a publication made before the figures were frozen
    row.result_json = json.dumps(stored, ensure_ascii=False)
    session.commit()
    published = publication(session, FEBRUARY)
    assert published is not None and published.figures is None
    with caplog.at_level(logging.WARNING, logger="queries.deck"):
        inputs = gather(session, FEBRUARY, RULES, now=NOW)
    assert inputs.categories == CATEGORIES
    assert "publish it again with --force" in caplog.text


def test_figures_in_another_format_are_refused() -> None:
    with pytest.raises(FiguresError, match="format 2"):
        figures_from_data({"format": 2})


def test_a_running_months_trend_ends_yesterday(city: Session) -> None:
    # On 02-20 at 10:00 the trend's 30 whole days are 01-21 … 02-19: today's ten hours are not
    # a day of it (the deck's title then says 截至 2月19日).
    days = month_figures(city, FEBRUARY, now=datetime(2026, 2, 20, 10)).trend.days
    assert (days[0].isoformat(), days[-1].isoformat(), len(days)) == (
        "2026-01-21", "2026-02-19", 30)
    # On the 1st of March, February is whole: its last day is the 28th.
    assert month_figures(city, FEBRUARY, now=datetime(2026, 3, 1, 8)).trend.days[-1].isoformat() \
        == "2026-02-28"
