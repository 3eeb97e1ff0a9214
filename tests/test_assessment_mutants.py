"""Tests that kill mutants bench/mutate.sh found alive in queries/assessment.py.

The city is tests/assessment_city.py (cases in January and February 2026, NOW 2026-03-10 12:00);
each expected value is worked out in the comment above it. docs/mutants.md lists the rest.
"""

from __future__ import annotations

import math
from datetime import datetime

import pytest
from sqlalchemy.orm import Session

from queries.assessment import (
    MAX_PUBLISHER,
    Change,
    PublishError,
    _change,
    _json_default,
    _points,
    check_publishable,
    publication,
    publish_month,
)
from queries.rules import Rules, parse_rules
from tests.assessment_city import NOW, RULES_YAML, build_city


@pytest.fixture
def city(session: Session) -> dict[str, int]:
    return build_city(session)


@pytest.fixture
def rules() -> Rules:
    return parse_rules(RULES_YAML, "test-rules.yaml")


def test_the_publisher_may_have_exactly_the_column_width(session: Session,
                                                         city: dict[str, int]) -> None:
    # MAX_PUBLISHER is 64 (the column): 64 characters pass, 65 are refused with the limit.
    assert MAX_PUBLISHER == 64
    check_publishable(session, "2026-01", now=NOW, by="张" * 64)
    with pytest.raises(PublishError) as refused:
        check_publishable(session, "2026-01", now=NOW, by="张" * 65)
    assert str(refused.value) == "the publisher's name has 65 characters; at most 64"
    assert refused.value.reason == "publisher" and refused.value.details == {"limit": "64"}


def test_a_month_is_publishable_from_the_minute_it_ends(session: Session,
                                                        city: dict[str, int]) -> None:
    # February ends at 2026-03-01 00:00: publishable at that instant, not a minute before.
    check_publishable(session, "2026-02", now=datetime(2026, 3, 1, 0, 0))
    with pytest.raises(PublishError) as refused:
        check_publishable(session, "2026-02", now=datetime(2026, 2, 28, 23, 59))
    assert str(refused.value) == ("2026-02 is not over yet: it can be published from "
                                  "2026-03-01 00:00")
    assert refused.value.reason == "not_over"
    assert refused.value.details == {"at": "2026-03-01 00:00"}


def test_before_the_data_names_the_first_month(session: Session, city: dict[str, int]) -> None:
    # The earliest case is in January 2026, so December 2025 has nothing to publish.
    with pytest.raises(PublishError) as refused:
        check_publishable(session, "2025-12", now=NOW)
    assert str(refused.value) == ("2025-12 is before the first month with registered cases "
                                  "(2026-01): nothing to publish")
    assert refused.value.reason == "before_data"
    assert refused.value.details == {"first": "2026-01"}


def test_an_empty_database_has_nothing_to_publish(session: Session) -> None:
    # No case at all: no first month, so every month is "before the data".
    with pytest.raises(PublishError) as refused:
        check_publishable(session, "2026-01", now=NOW)
    assert str(refused.value) == ("2026-01 is before the first month with registered cases "
                                  "(none yet): nothing to publish")
    assert refused.value.details == {"first": ""}


def test_already_published_says_when_and_by_whom(session: Session, city: dict[str, int],
                                                rules: Rules) -> None:
    # Published at NOW (2026-03-10 12:00) without a name: the message names no one.
    publish_month(session, "2026-01", rules, now=NOW)
    with pytest.raises(PublishError) as refused:
        check_publishable(session, "2026-01", now=NOW)
    assert str(refused.value) == ("2026-01 was already published on 2026-03-10 12:00; publish "
                                  "it again with force (--force) to replace it")
    assert refused.value.reason == "already"
    assert refused.value.details == {"at": "2026-03-10 12:00", "by": ""}
    check_publishable(session, "2026-01", now=NOW, force=True)


def test_a_publication_reads_back_its_month_and_publisher(session: Session,
                                                         city: dict[str, int],
                                                         rules: Rules) -> None:
    publish_month(session, "2026-01", rules, now=NOW, by="张主任")
    stored = publication(session, "2026-01")
    assert stored is not None
    assert (stored.month, stored.published_at, stored.published_by) == ("2026-01", NOW, "张主任")
    assert publication(session, "2026-02") is None


def test_a_change_without_a_current_value_keeps_the_previous_one() -> None:
    # Last month was 5 and this month has no figure: the previous 5 still shows.
    assert _change(None, 5) == Change(previous=5)
    assert _change(3, None) == Change()


def test_points_never_show_a_negative_zero() -> None:
    # round(-0.0, 2) is -0.0; the + 0.0 makes it 0.0, so "-0" is never printed.
    assert math.copysign(1.0, _points(-0.0)) == 1.0


def test_only_times_can_be_stored() -> None:
    assert _json_default(datetime(2026, 1, 2, 3, 4)) == "2026-01-02T03:04:00"
    with pytest.raises(TypeError, match="^cannot store set in an assessment$"):
        _json_default({1})
