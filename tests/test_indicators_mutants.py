"""Tests that kill mutants bench/mutate.sh found alive in queries/indicators.py.

The rest are listed in docs/mutants.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from queries.indicators import AMBER_FROM, NA_REASONS, Ratio, deadline_light, na_text, target_light


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
