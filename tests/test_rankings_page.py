"""The rankings page without a browser: pure builders, the workbook, the callbacks called
directly, the big screen's ranking rows, and presentation mode's playlist.

The numbers are the hand-worked ones of tests/test_assessment.py (tests/assessment_city.py):
February 2026 — 乙 99.25 (1), 丙 99.0 (2), 甲 93.25 (3, last of 第一组 twice running), 丁 not
ranked (one problem, min_sample 2).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import datetime
from io import BytesIO
from pathlib import Path

import pytest
from dash import html, no_update
from openpyxl import load_workbook
from pptx import Presentation
from sqlalchemy.orm import Session, sessionmaker

from callbacks.rankings import OUTPUTS, RankingsPage
from dashboard import ids
from dashboard.names import grid_name_parts
from dashboard.present.layout import playlist, seconds_of
from dashboard.rankings.figures import (
    deductions_figure,
    repeats_figure,
    score_change_figure,
    street_deductions_figure,
)
from dashboard.rankings.layout import create_lists
from dashboard.rankings.layout import page as rankings_layout
from dashboard.rankings.view import (
    flags,
    month_options,
    ranking_xlsx,
    resolve_month,
    table_rows,
    xlsx_headers,
)
from dashboard.screen.panels import create_ranking, ranking_panel_words
from queries.assessment import MonthAssessment, load_month, publication
from queries.rules import parse_rules
from settings import Settings, SettingsError
from snapshot.ranking import assessment_ranking
from tests.assessment_city import NOW, RULES_YAML, build_city
from tests.pages import page_request
from tests.tools import acting_as, leader, require_chromium

RULES = parse_rules(RULES_YAML)


@pytest.fixture
def city(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """The hand-built city in a fresh database."""
    with session_factory() as session:
        build_city(session)
    return session_factory


@pytest.fixture
def february(city: sessionmaker[Session]) -> MonthAssessment:
    """February 2026, provisional."""
    with city() as session:
        return load_month(session, "2026-02", RULES, now=NOW)


@pytest.fixture
def page(city: sessionmaker[Session], tmp_path: Path) -> Iterator[RankingsPage]:
    """The page's callbacks on the city, under the tests' rules, at the city's NOW."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES_YAML, encoding="utf-8")
    settings = Settings(data_dir=tmp_path, database_url="sqlite://", rules_file=str(rules))
    yield RankingsPage(city, settings, clock=lambda: NOW)


def texts(component: object) -> str:
    """Return every string inside a Dash component tree, joined."""
    if isinstance(component, str):
        return component
    if isinstance(component, (list, tuple)):
        return " ".join(texts(c) for c in component)
    children = getattr(component, "children", None)
    return "" if children is None else texts(children)


# --- pure builders --------------------------------------------------------------------------


def test_group_rows_follow_the_group_rank_with_flags(february: MonthAssessment) -> None:
    first = table_rows(february, "第一组", "zh")
    assert [(r["name"], r["group_rank"], r["rank"], r["score"]) for r in first] == [
        ("乙街道", 1, 1, 99.25), ("甲街道", 2, 3, 93.25)]
    assert first[1]["bottom"] and first[1]["streak"] == 2
    assert first[1]["flags"] == "倒数后一名 · 连续2次后一名"
    assert first[1]["dscore_text"] == "-1.75"
    second = table_rows(february, "第二组", "zh")
    assert [(r["name"], r["unranked"], r["flags"]) for r in second] == [
        ("丙街道", False, ""), ("丁街道", True, "样本不足")]


def test_flags_speak_english_too(february: MonthAssessment) -> None:
    last = february.street("610199001")
    assert last is not None
    assert flags(last, 1, "en") == ["Bottom 1", "2× in a row"]


def test_month_choices_are_newest_first_and_marked() -> None:
    options = month_options([("2026-01", True), ("2026-02", False)], "2026-03", "zh")
    assert [o["value"] for o in options] == ["2026-03", "2026-02", "2026-01"]
    assert options[0]["label"] == "2026年3月 · 本月"
    assert options[2]["label"] == "2026年1月 · 已发布"
    assert resolve_month("2026-13", "2026-03") == "2026-03"
    assert resolve_month(None, "2026-03") == "2026-03"
    assert resolve_month("2025-12", "2026-03") == "2025-12"


def test_the_workbook_has_chinese_headers_and_the_numbers(february: MonthAssessment) -> None:
    sheet = load_workbook(BytesIO(ranking_xlsx(february))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == xlsx_headers(february)
    assert rows[0][:6] == ("组别", "组内排名", "总排名", "街道编码", "街道(镇)", "得分")
    assert "扣2分及以上问题" in rows[0] and "倒数后一名" in rows[0]
    body = {row[4]: row for row in rows[1:]}
    assert [row[4] for row in rows[1:]] == ["乙街道", "甲街道", "丙街道", "丁街道"]
    assert body["甲街道"][1:3] == (2, 3) and body["甲街道"][5] == 93.25
    assert body["甲街道"][15:20] == (5.0, 1.0, 0.5, 0.25, 6.75)
    assert body["丁街道"][1] is None and body["丁街道"][-1] == "样本不足"
    assert sheet.title == "2026-02 综合考核排名 临时结果"


def test_figures_draw_every_street_and_cause(february: MonthAssessment) -> None:
    change = score_change_figure(february.streets, lang="zh")
    current = change.data[-1]
    assert list(current.x) == [s.score for s in reversed(february.streets)]
    causes = deductions_figure(february.streets, lang="zh")
    assert [trace.name for trace in causes.data[:4]] == ["问题扣分", "重复加扣", "超期扣分",
                                                         "返工扣分"]
    street = february.street("610199001")
    assert street is not None
    one = street_deductions_figure(street, {"problems": 3.0}, lang="en")
    assert list(one.data[-1].x) == [0.25, 0.5, 1.0, 5.0]  # rework, overdue, repeat, problems
    repeats = repeats_figure({2: 1, 3: 1}, {2: 2, 3: 1}, lang="zh")
    assert list(repeats.data[0].x) == ["第2次", "第3次"] and list(repeats.data[0].y) == [2, 1]


# --- the callbacks, called directly --------------------------------------------------------------


def test_render_fills_the_panels_of_the_asked_month(page: RankingsPage) -> None:
    out = dict(zip(OUTPUTS, page.render("?month=2026-02", 0, None, None)))
    assert out[(ids.RANK_MONTH, "value")] == "2026-02"
    assert "临时结果" in texts(out[(ids.RANK_STATUS, "children")])
    tables = out[(ids.RANK_TABLES, "children")]
    assert [t.children[1].rowData[0]["name"] for t in tables] == ["乙街道", "丙街道"]
    assert out[(ids.RANK_STREET, "data")] == "610199001"  # the lowest ranked shows first
    assert "甲街道" in texts(out[(ids.RANK_BREAKDOWN, "children")])
    assert out[(ids.RANK_LANG, "href")] == "/rankings?month=2026-02&lang=en"


def test_publishing_a_finished_month_freezes_it(page: RankingsPage,
                                                city: sessionmaker[Session]) -> None:
    with acting_as(leader(" 张主任 ")):
        message, version = page.publish(1, "?month=2026-02", 3)
    assert texts(message) == "2026-02 考核排名已发布" and version == 4
    with city() as session:
        done = publication(session, "2026-02")
    assert done is not None and done.published_by == "张主任"
    frozen = done.assessment.street("610199002")
    assert frozen is not None and frozen.score == 99.25
    out = dict(zip(OUTPUTS, page.render("?month=2026-02", version, None, None)))
    status = texts(out[(ids.RANK_STATUS, "children")])
    assert "已发布" in status and "张主任" in status
    with acting_as(leader("李四")):
        again, unchanged = page.publish(2, "?month=2026-02", version)
    assert "已于" in texts(again) and "不能重复发布" in texts(again)
    assert unchanged is no_update


def test_a_month_not_over_cannot_be_published(page: RankingsPage,
                                              city: sessionmaker[Session]) -> None:
    with acting_as(leader()):
        displayed, _, message = page.ask(1, "?month=2026-03")
    assert displayed is False
    assert isinstance(message, html.Span)
    assert texts(message) == "2026-03 尚未结束,2026-04-01 00:00 起可发布"
    with acting_as(leader()):
        refused, _ = page.publish(1, "?month=2026-03", 0)
    assert "尚未结束" in texts(refused)
    with city() as session:
        assert publication(session, "2026-03") is None
    with acting_as(leader()):
        displayed, question, _ = page.ask(1, "?month=2026-01&lang=en")
    assert displayed is True and question.startswith("Publish the ranking of 2026-01?")


def test_a_broken_rules_file_is_shown_not_raised(page: RankingsPage, tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text("base_score: -1\n", encoding="utf-8")
    out = dict(zip(OUTPUTS, page.render("?month=2026-02", 0, None, None)))
    assert "rules.yaml" in texts(out[(ids.RANK_MESSAGE, "children")])


# --- the big screen's ranking, and presentation mode ----------------------------------------------


def test_the_screen_ranks_streets_by_the_assessment(city: sessionmaker[Session]) -> None:
    with city() as session:
        rows = assessment_ranking(session, datetime(2026, 2, 20, 12), RULES)["rows"]
    assert [(r["name"], r["rank"], r["bottom"], r["ranked"]) for r in rows] == [
        ("乙街道", 1, False, True), ("丙街道", 2, False, True), ("甲街道", 3, True, True),
        ("丁街道", None, False, False)]
    assert {"name", "score", "grade", "self", "bottom"} <= set(rows[0])


def test_the_playlist_comes_from_the_url_or_the_settings() -> None:
    settings = Settings.from_env({"GRIDWATCH_PRESENT_PAGES": "rankings, grids?area=610120003",
                                  "GRIDWATCH_PRESENT_SECONDS": "45"})
    assert settings.present_pages == ("rankings", "grids?area=610120003")
    slides = playlist(page_request("/present", settings=settings))
    assert [(s.src, s.title) for s in slides] == [
        ("/rankings?lang=zh", "考核"), ("/grids?area=610120003&lang=zh", "网格")]
    # Only registered presentable pages: the carousel itself, unknown names, paths and other
    # hosts are dropped, so /present can never frame an outside site.
    asked = playlist(page_request(
        "/present", {"pages": "screen,present,nosuchpage,//evil.example/x,/grids,grids?lang=zh"},
        lang="en", settings=settings))
    assert [(s.src, s.title) for s in asked] == [("/screen?lang=en", "Big screen"),
                                                  ("/grids?lang=en", "Grids")]
    assert seconds_of({"seconds": "2"}, settings) == 2
    assert seconds_of({"seconds": "0"}, settings) == 45
    assert Settings().present_pages == ("screen", "rankings", "grids")
    with pytest.raises(SettingsError, match="GRIDWATCH_PRESENT_PAGES"):
        Settings.from_env({"GRIDWATCH_PRESENT_PAGES": "screen,Big Screen"})
    with pytest.raises(SettingsError, match="GRIDWATCH_PRESENT_PAGES"):
        Settings.from_env({"GRIDWATCH_PRESENT_PAGES": "//evil.example/x"})
    with pytest.raises(SettingsError, match="GRIDWATCH_PRESENT_SECONDS"):
        Settings.from_env({"GRIDWATCH_PRESENT_SECONDS": "1"})


def test_the_deck_button_sends_a_pptx(page: RankingsPage) -> None:
    require_chromium()  # the only reason to skip: kaleido has no browser to draw with
    sent, message = page.download(1, 0, "?month=2026-02")
    # Any message (an AssessmentError, a chart that failed to draw) is a failure, not a skip.
    assert message is None, texts(message)
    assert sent["filename"] == "gridwatch-2026-02.pptx" and sent["base64"]
    deck = Presentation(BytesIO(base64.b64decode(sent["content"])))
    assert len(deck.slides) == 15


def test_the_screen_section_keeps_the_snapshot_shape(city: sessionmaker[Session]) -> None:
    with city() as session:
        section = assessment_ranking(session, datetime(2026, 2, 20, 12), RULES)
    assert section["level"] == "street" and section["month"] == "2026-02"
    assert [r["code"] for r in section["rows"]][:1] == ["610199002"]


# --- early in a month, and a running month -------------------------------------------------------


def find(component: object, component_id: str) -> object | None:
    """Return the component with ``component_id`` inside a tree, or None."""
    if getattr(component, "id", None) == component_id:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if child is not None and not isinstance(child, str):
            found = find(child, component_id)
            if found is not None:
                return found
    return None


def test_early_in_a_month_the_last_finished_month_is_shown(city: sessionmaker[Session],
                                                            tmp_path: Path) -> None:
    # The tests' rules leave ranking.min_days at 5: on 3-03 March has run 2 days, so February
    # shows by default, with March one click away; from 3-06 00:00 March shows.
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES_YAML, encoding="utf-8")
    settings = Settings(data_dir=tmp_path, database_url="sqlite://", rules_file=str(rules))
    early = RankingsPage(city, settings, clock=lambda: datetime(2026, 3, 3, 4, 10))
    assert early.view("")[0] == "2026-02"
    assert early.view("?month=2026-03")[0] == "2026-03"
    assert RankingsPage(city, settings, clock=lambda: datetime(2026, 3, 6)).view("")[0] == "2026-03"
    layout = rankings_layout(page_request("/rankings", settings=settings,
                                          now=datetime(2026, 3, 3, 4, 10)))
    link = find(layout, ids.RANK_RUNNING)
    assert link is not None and link.href == "/rankings?month=2026-03"
    assert find(layout, ids.RANK_MONTH).value == "2026-02"
    later = rankings_layout(page_request("/rankings", settings=settings,
                                         now=datetime(2026, 3, 10, 12)))
    assert find(later, ids.RANK_RUNNING) is None and find(later, ids.RANK_MONTH).value == "2026-03"


def test_a_running_month_says_it_is_compared_with_the_same_span(city: sessionmaker[Session],
                                                                 tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES_YAML, encoding="utf-8")
    settings = Settings(data_dir=tmp_path, database_url="sqlite://", rules_file=str(rules))
    running = RankingsPage(city, settings, clock=lambda: datetime(2026, 2, 6, 12, 0))
    out = dict(zip(OUTPUTS, running.render("?month=2026-02", 0, None, None)))
    summary = texts(out[(ids.RANK_SUMMARY, "children")])
    assert "较上月同期" in summary and "+2 (+66.67%)" in summary  # problems 3 → 5 (not 12 → 5)
    status = texts(out[(ids.RANK_STATUS, "children")])
    assert "本月进行中" in status and "至 2026-01-06 12:00" in status
    finished = dict(zip(OUTPUTS, RankingsPage(city, settings, clock=lambda: NOW).render(
        "?month=2026-02", 0, None, None)))
    assert "较上月同期" not in texts(finished[(ids.RANK_SUMMARY, "children")])
    assert "较上月" in texts(finished[(ids.RANK_SUMMARY, "children")])


def test_the_wall_shows_the_last_finished_month_early_on(city: sessionmaker[Session]) -> None:
    with city() as session:
        early = assessment_ranking(session, datetime(2026, 3, 3, 4, 10), RULES)
        later = assessment_ranking(session, datetime(2026, 2, 20, 12), RULES)
    assert (early["month"], early["running"], early["kind"]) == ("2026-02", False, "assessment")
    assert [r["name"] for r in early["rows"]][:3] == ["乙街道", "丙街道", "甲街道"]
    assert early["rows"][2]["streak"] == 2  # February is over: Jan + Feb, both finished
    assert (later["month"], later["running"]) == ("2026-02", True)
    assert later["rows"][2]["bottom"] and later["rows"][2]["streak"] == 0  # running: not counted


def test_the_two_scores_are_named_apart_with_their_formulas() -> None:
    section = {"level": "street", "month": "2026-02", "kind": "assessment", "running": True,
               "published": False, "rows": [{"name": "乙街道", "score": 99.25, "rank": 1,
                                            "bottom": False, "self": False, "group": "第一组"}]}
    title, hint = ranking_panel_words(section, "zh")
    assert title == "考核得分排名" and "考核得分 = 基础分 − 扣分" in hint
    assert "暂行" not in hint and "综合指标值(监督举报率" not in hint  # the old, wrong text
    caption = create_ranking(section, "zh")[0]
    assert texts(caption) == "2026年2月 考核得分 进行中·临时"
    assert caption.title.startswith("考核得分 = ")
    composite = {**section, "level": "community", "kind": "composite"}
    title, hint = ranking_panel_words(composite, "en")
    assert title == "Composite indicator ranking"
    assert "public report rate score × 10%" in hint and "not the assessment score" in hint


def test_grid_names_keep_their_number_when_cut() -> None:
    assert grid_name_parts("东五社区01网格") == ("东五社区", "01网格")
    assert grid_name_parts("东五社区12号网格") == ("东五社区", "12号网格")
    assert grid_name_parts("A1网格") == ("A", "1网格")
    assert grid_name_parts("钟楼广场") == ("", "钟楼广场")  # nothing to split: never cut apart


def test_the_grid_lists_show_the_grid_number_apart(february: MonthAssessment) -> None:
    lists = str(create_lists(february, "zh"))
    assert "gw-r-list-own" in lists and "'1网格'" in lists
