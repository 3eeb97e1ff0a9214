"""The daily series agree with the indicators' own 上报数 and 结案数 on every day."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from queries.indicators import indicators
from queries.models import Area
from queries.periods import custom
from queries.trends import reported_vs_closed
from tests.handbuilt import NOW, build_handbuilt

LAST_DAY = date(2026, 11, 20)


def test_every_day_matches_the_indicators(session: Session) -> None:
    hb = build_handbuilt(session)
    session.commit()
    for key in (None, "S2", "G1"):
        area = session.get_one(Area, hb.areas[key]) if key else None
        series = reported_vs_closed(session, last_day=LAST_DAY, days=60, area=area)
        assert series.days[0] == LAST_DAY - timedelta(days=59) and series.days[-1] == LAST_DAY
        for day, reported, closed in zip(series.days, series.reported, series.closed):
            one = indicators(session, custom(day, day), area_id=area.id if area else None,
                             now=NOW)
            assert (reported, closed) == (one.reported, one.closed), (key, day)
    # Every one of the 33 cases was reported from 09-25 on, inside the 60 days.
    assert sum(reported_vs_closed(session, last_day=LAST_DAY, days=60).reported) == 33
