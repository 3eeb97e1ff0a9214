"""Publishing is one named command (``queries.assessment.publish``) that the rankings page's
button and ``gridwatch publish`` both call: the checks, the publisher and the transaction live
there; the callback only calls it and says the outcome in the page's language.

The hand-built city's first registered case is in 2026-01 (tests/assessment_city.py); its
NOW is 2026-03-10.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import callbacks.rankings as rankings_callbacks
from callbacks.rankings import RankingsPage
from dashboard.rankings.view import refusal_text
from queries.assessment import PublishedMonth, PublishError, publication, publish
from queries.deck import gather
from queries.indicators import CLOSED, IndicatorSettings
from queries.models import AssessmentPublication
from queries.rules import parse_rules
from settings import Settings
from tests.assessment_city import NOW, RULES_YAML, build_city
from tests.tools import acting_as, leader

RULES = parse_rules(RULES_YAML)


@pytest.fixture
def city(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    with session_factory() as session:
        build_city(session)
    return session_factory


def refused(city: sessionmaker[Session], month: str, by: str = "") -> PublishError:
    with pytest.raises(PublishError) as caught:
        publish(city, month, RULES, now=NOW, by=by)
    return caught.value


def publications(city: sessionmaker[Session]) -> int:
    with city() as session:
        return session.scalar(select(func.count()).select_from(AssessmentPublication)) or 0


def test_the_command_publishes_in_its_own_transaction(city: sessionmaker[Session]) -> None:
    done = publish(city, "2026-02", RULES, now=NOW, by="  张主任 ")
    assert isinstance(done, PublishedMonth) and done.published_by == "张主任"
    with city() as session:  # committed: another session sees it
        stored = publication(session, "2026-02")
    assert stored is not None and stored.figures is not None
    assert stored.figures.kpis.registered == 8


def test_each_refusal_has_a_reason_and_writes_nothing(city: sessionmaker[Session]) -> None:
    not_over = refused(city, "2026-03")
    assert (not_over.reason, not_over.details) == ("not_over", {"at": "2026-04-01 00:00"})
    before = refused(city, "2025-06")
    assert (before.reason, before.details) == ("before_data", {"first": "2026-01"})
    long_name = refused(city, "2026-02", by="名" * 65)
    assert (long_name.reason, long_name.details) == ("publisher", {"limit": "64"})
    assert publications(city) == 0
    publish(city, "2026-02", RULES, now=NOW, by="张主任")
    again = refused(city, "2026-02")
    assert (again.reason, again.details) == ("already", {"at": "2026-03-10 12:00",
                                                         "by": "张主任"})
    assert publications(city) == 1


def test_a_failure_inside_the_command_leaves_nothing_behind(
        city: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr("queries.assessment.assessment_to_json", broken)
    with pytest.raises(RuntimeError):
        publish(city, "2026-02", RULES, now=NOW)
    assert publications(city) == 0


@pytest.mark.parametrize(("error", "zh", "en"), [
    (PublishError("x", "not_over", at="2026-04-01 00:00"),
     "2026-03 尚未结束,2026-04-01 00:00 起可发布",
     "2026-03 is not over yet: it can be published from 2026-04-01 00:00"),
    (PublishError("x", "already", at="2026-03-10 12:00", by="张主任"),
     "2026-03 已于 2026-03-10 12:00 (张主任) 发布,不能重复发布(如需替换,请用命令行 gridwatch "
     "publish --force)",
     "2026-03 was already published on 2026-03-10 12:00 (张主任); to replace it use gridwatch "
     "publish --force"),
    (PublishError("x", "before_data", first="2025-12"),
     "2026-03 早于有立案数据的第一个月(2025-12),无可发布",
     "2026-03 is before the first month with registered cases (2025-12): nothing to publish"),
    (PublishError("x", "publisher", limit="64"), "发布人姓名最多 64 个字",
     "The publisher's name has at most 64 characters"),
    (PublishError("plain English"), "plain English", "plain English"),
])
def test_the_page_says_each_refusal_in_its_language(error: PublishError, zh: str,
                                                    en: str) -> None:
    assert refusal_text(error, "2026-03", "zh") == zh
    assert refusal_text(error, "2026-03", "en") == en


def test_the_callback_only_calls_the_command(city: sessionmaker[Session], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES_YAML, encoding="utf-8")
    page = RankingsPage(city, Settings(rules_file=str(rules)), clock=lambda: NOW)
    calls: list[tuple[Any, ...]] = []
    real = rankings_callbacks.publish

    def recording(sessions: Any, month: str, rules: Any, **kwargs: Any) -> PublishedMonth:
        calls.append((sessions, month, rules.sha256, kwargs))
        return real(sessions, month, rules, **kwargs)

    monkeypatch.setattr(rankings_callbacks, "publish", recording)
    with acting_as(leader(" 李四 ")):
        message, version = page.publish(1, "?month=2026-02", 0)
    assert version == 1 and calls == [(city, "2026-02", RULES.sha256,
                                       {"now": NOW, "by": " 李四 ", "indicator_rules":
                                        page.settings.indicator_settings()})]
    with acting_as(leader("名" * 65)):
        refusal, unchanged = page.publish(1, "?month=2026-02", 1)
    assert unchanged is rankings_callbacks.no_update
    assert refusal.children == "发布人姓名最多 64 个字"


def test_the_deck_figures_are_frozen_under_the_apps_due_convention(
        city: sessionmaker[Session]) -> None:
    # Under the "closed" (311) convention 结案率 has no meaning: its ratio says why (8/8 with
    # na_reason closed_convention); the bulletin convention reads 8/8 with none.
    closed = IndicatorSettings(due_convention=CLOSED)
    publish(city, "2026-02", RULES, now=NOW, indicator_rules=closed)
    with city() as session:
        stored = publication(session, "2026-02")
        live = gather(session, "2026-02", RULES, now=NOW, indicator_rules=closed)
    assert stored is not None and stored.figures is not None
    rate = stored.figures.kpis.close_rate
    assert (rate.numerator, rate.denominator, rate.na_reason) == (8, 8, "closed_convention")
    assert live.kpis == stored.figures.kpis
