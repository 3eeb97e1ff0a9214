"""Tests that kill mutants bench/mutate.sh found alive in queries/indicators.py.

The rest are listed in docs/mutants.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from queries.indicators import (
    AMBER_FROM,
    NA_REASONS,
    Ratio,
    _area,
    deadline_light,
    indicators_by_area,
    na_text,
    target_light,
)
from queries.models import Area
from queries.periods import period_for


def test_not_applicable_texts_in_both_languages() -> None:
    reason = "no_dispatch_time"
    assert na_text(reason) == "数据源没有派遣时间:案件未记派遣时间即被处置或结案"
    assert na_text(reason, "en") == ("The source records no dispatch times: cases were handled "
                                     "or closed without one")
    assert na_text(reason, "zh") == NA_REASONS[reason][0]


def test_a_not_applicable_ratio_reads_and_explains_itself() -> None:
    ratio = Ratio(3, 4, na_reason="no_dispatch_time")
    assert ratio.text() == "不适用" and ratio.text("en") == "n/a"
    assert ratio.reason() == na_text("no_dispatch_time")
    assert ratio.reason("en") == na_text("no_dispatch_time", "en")
    assert Ratio(3, 4).reason("en") is None
    with pytest.raises(ValueError, match="unknown not-applicable reason 'nope'"):
        Ratio(1, 2, na_reason="nope")


def test_deadline_light_edges() -> None:
    # Dispatched 00:00, due 20:00: 20 h allowed. At 16:00 exactly 0.8 is used (not more) and 4 h
    # are left (more than 2): green; a minute later 0.8008 is used: yellow.
    d, due = datetime(2026, 1, 5, 0, 0), datetime(2026, 1, 5, 20, 0)
    assert deadline_light(datetime(2026, 1, 5, 16, 0), d, due) == "green"
    assert deadline_light(datetime(2026, 1, 5, 16, 1), d, due) == "yellow"
    # Exactly 2 h before the deadline is "due soon"; exactly at it is not yet late.
    assert deadline_light(datetime(2026, 1, 5, 18, 0), datetime(2026, 1, 5, 17, 0), due) == "yellow"
    assert deadline_light(due, d, due) == "yellow"
    assert deadline_light(datetime(2026, 1, 5, 20, 1), d, due) == "red"
    # No dispatch time: nothing to measure the share against, and 10 h left: yellow, not green.
    assert deadline_light(datetime(2026, 1, 5, 10, 0), None, due) == "yellow"
    # No deadline: green whatever the time.
    assert deadline_light(datetime(2026, 1, 5, 10, 0), d, None) == "green"


def test_a_target_score_exactly_at_amber_is_amber() -> None:
    # AMBER_FROM is 0.9: 0.9 itself is amber (not red), just under it red, 1.0 meets the target.
    assert AMBER_FROM == 0.9
    assert target_light(0.9) == "amber"
    assert target_light(0.8999) == "red"
    assert target_light(1.0) == "green"


def test_half_a_second_allowed_is_still_measured() -> None:
    # Dispatched half a second before the deadline, looked at the instant of dispatch, with no
    # due-soon window: 0 of the 0.5 s is used (not more than 0.8), so green; only an allowance of
    # 0 s or less (nothing to measure against) is yellow.
    due = datetime(2026, 1, 5, 20, 0)
    dispatched = due - timedelta(milliseconds=500)
    assert deadline_light(dispatched, dispatched, due, due_soon=timedelta(0)) == "green"
    assert deadline_light(dispatched, due, due, due_soon=timedelta(0)) == "yellow"


def _areas(session: Session) -> dict[str, int]:
    """A district with street 002 (one community, one grid) added before street 001 (none)."""
    square = '{"type":"Polygon","coordinates":[[[0,0],[0,1],[1,1],[0,0]]]}'
    ids: dict[str, int] = {}
    for key, code, level, parent in (("D", "610199", "district", None),
                                     ("S2", "610199002", "street", "D"),
                                     ("C2", "610199002001", "community", "S2"),
                                     ("G2", "61019900200101", "grid", "C2"),
                                     ("S1", "610199001", "street", "D")):
        area = Area(code=code, name=key, level=level, parent_id=ids.get(parent or ""),
                    geometry=square, center_lat=34.27, center_lon=108.95)
        session.add(area)
        session.flush()
        ids[key] = area.id
    session.commit()
    return ids


def test_areas_come_in_code_order_and_a_street_without_grids_has_no_volume_score(
        session: Session) -> None:
    ids = _areas(session)
    now = datetime(2026, 1, 20, 12, 0)
    streets = indicators_by_area(session, period_for("month", now), level="street", now=now)
    assert list(streets) == [ids["S1"], ids["S2"]]  # 001 first, though added second
    # S1 has 0 grids: its composite counts them as 0 and cannot band the volume.
    composite = streets[ids["S1"]].composite
    assert composite is not None and (composite.grids, composite.volume_score) == (0, None)
    grids = streets[ids["S2"]].composite
    assert grids is not None and grids.grids == 1


def test_indicators_by_area_explains_a_bad_level_or_parent(session: Session) -> None:
    ids = _areas(session)
    now = datetime(2026, 1, 20, 12, 0)
    month = period_for("month", now)
    with pytest.raises(ValueError) as refused:
        indicators_by_area(session, month, level="district", now=now)
    assert str(refused.value) == "level must be one of street, community, grid, not 'district'"
    with pytest.raises(ValueError) as refused:
        indicators_by_area(session, month, level="street", parent_id=ids["G2"], now=now)
    assert str(refused.value) == "a grid has no street below it"
    with pytest.raises(LookupError) as missing:
        _area(session, 999_999)
    assert missing.value.args == ("no area with id 999999",)
