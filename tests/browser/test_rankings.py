"""The rankings page and presentation mode in a real Chromium, on the small demo city.

The page must show the ranking ``load_month`` computes, publish a finished month from its
button (the badge turns 已发布), and /present must step through its pages by itself and stop
on the space bar.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from queries import accounts
from queries.assessment import load_month, publication, shift_month
from queries.rules import load_rules
from settings import Settings
from tests.browser.conftest import LiveApp, local_pages

pytestmark = pytest.mark.browser


@pytest.fixture
def open_ranked(browser: Browser, rankings_app: LiveApp) -> Iterator[Callable[..., Page]]:
    """Open paths of the rankings app at 1920×1080; afterwards, assert nothing left the machine."""
    yield from local_pages(browser, rankings_app.url)


def this_month() -> str:
    return f"{Settings().now():%Y-%m}"


def group_rows(page: Page, group: str) -> list[tuple[str, str]]:
    """Return a group table's (street, score) pairs in display order."""
    grid = page.locator(f"[id='{{\"index\":\"{group}\",\"type\":\"rank-table\"}}']")
    rows = grid.locator(".ag-center-cols-container .ag-row")
    expect(rows.first).to_be_visible(timeout=30_000)  # a loaded CI machine: ag-grid first paint
    found = []
    for n in range(rows.count()):
        row = grid.locator(f".ag-center-cols-container .ag-row[row-index='{n}']")
        found.append((row.locator("[col-id='name']").inner_text(),
                      row.locator("[col-id='score']").inner_text()))
    return found


def test_the_page_shows_the_computed_ranking(open_ranked: Callable[..., Page],
                                             rankings_app: LiveApp, artifacts) -> None:
    month = shift_month(this_month(), -1)
    page = open_ranked(f"/rankings?month={month}")
    rules = load_rules(rankings_app.ctx.settings.rules_file)
    with rankings_app.ctx.sessions() as session:
        expected = load_month(session, month, rules, now=Settings().now())
    assert expected.district.ranked_streets >= 4, "the demo month should rank most streets"
    for group in expected.groups:
        shown = group_rows(page, group.name)
        assert shown == [(s.name, f"{s.score:.2f}") for s in expected.in_group(group.name)]
    expect(page.locator(".gw-r-badge")).to_have_text("临时结果")
    district_score = page.locator(".gw-r-tile[data-key='score'] .gw-r-tile-value")
    expect(district_score).to_have_text(f"{expected.district.score:.2f}")
    # A click on a street shows why it lost points.
    first = expected.in_group(expected.groups[0].name)[0]
    page.locator(f".ag-row[row-id='{first.code}'] [col-id='name']").click()
    expect(page.locator(".gw-r-street-name")).to_have_text(first.name, timeout=10_000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts / "rankings.png"))


def test_a_leader_publishes_a_month_with_the_button(open_ranked: Callable[..., Page],
                                                    rankings_app: LiveApp) -> None:
    month = shift_month(this_month(), -2)
    with rankings_app.ctx.sessions() as session:
        accounts.add_user(session, "zhang", "zhang-password-1", "leader",
                          now=Settings().now(), display_name="张主任")
        session.commit()
    page = open_ranked(f"/rankings?month={month}")
    expect(page.locator(".gw-r-badge")).to_have_text("临时结果", timeout=15_000)
    # The open wall shows the ranking but cannot publish: a leader logs in through the form.
    page.goto(f"{rankings_app.url}/login?next=/rankings?month={month}")
    page.locator("#username").fill("zhang")
    page.locator("#password").fill("zhang-password-1")
    page.locator("button[type=submit]").click()
    page.wait_for_url(f"**/rankings?month={month}")
    expect(page.locator(".gw-r-badge")).to_have_text("临时结果", timeout=15_000)
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#rank-publish").click()
    expect(page.locator(".gw-r-badge")).to_have_text("已发布", timeout=15_000)
    expect(page.locator(".gw-r-status-detail")).to_contain_text("张主任")
    with rankings_app.ctx.sessions() as session:
        done = publication(session, month)
    assert done is not None and done.published_by == "张主任"
    # This month is not over: the button explains instead of publishing.
    page.goto(f"{rankings_app.url}/rankings?month={this_month()}")
    expect(page.locator(".gw-r-badge")).to_have_text("临时结果", timeout=15_000)
    page.locator("#rank-publish").click()
    expect(page.locator(".gw-r-note-error")).to_contain_text("尚未结束")


def test_presentation_mode_advances_by_itself_and_pauses(open_ranked: Callable[..., Page],
                                                         artifacts) -> None:
    page = open_ranked("/present?pages=screen,rankings&seconds=2&lang=zh")
    indicator = page.locator("#present-indicator")
    expect(indicator).to_contain_text("1 / 2 · 大屏", timeout=10_000)
    expect(indicator).to_contain_text("2 / 2 · 考核", timeout=20_000)
    expect(page.locator(".gw-present-active")).to_have_attribute("src", re.compile("/rankings"))
    page.wait_for_timeout(1_000)
    page.screenshot(path=str(artifacts / "present.png"))
    page.keyboard.press("Space")
    expect(indicator).to_contain_text("已暂停")
    paused_on = indicator.inner_text().split(" · ")[0]
    page.wait_for_timeout(3_000)
    assert indicator.inner_text().split(" · ")[0] == paused_on
    page.keyboard.press("ArrowRight")
    expect(indicator).not_to_contain_text(paused_on)
