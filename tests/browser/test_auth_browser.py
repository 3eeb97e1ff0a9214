"""The login form, a kiosk token revoked under a running wall, and the CSP in a real browser."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from queries import accounts
from settings import Settings
from tests.browser.conftest import LiveApp

pytestmark = pytest.mark.browser


def test_login_form_leads_to_the_wall_page(open_page: Callable[..., Page], live_app: LiveApp,
                                           artifacts: Path) -> None:
    with live_app.ctx.sessions() as session:
        if accounts.get_account(session, "browser-boss") is None:
            accounts.add_user(session, "browser-boss", "browser-password", "leader",
                              now=Settings().now(), display_name="王局长")
            session.commit()
    page = open_page("/login?next=/grids")
    expect(page.locator("h1")).to_have_text("Gridwatch")
    page.screenshot(path=str(artifacts / "login-1920.png"))
    small = open_page("/login?lang=en", width=1440, height=900)
    expect(small.locator("button[type=submit]")).to_have_text("Log in")
    small.screenshot(path=str(artifacts / "login-1440.png"))
    page.locator("#username").fill("browser-boss")
    page.locator("#password").fill("wrong-password")
    page.locator("button[type=submit]").click()
    expect(page.locator(".login-error")).to_contain_text("用户名或密码错误")
    page.locator("#username").fill("browser-boss")
    page.locator("#password").fill("browser-password")
    page.locator("button[type=submit]").click()
    page.wait_for_url("**/grids")
    expect(page.locator(".leaflet-container").first).to_be_visible(timeout=20_000)


def test_wall_pages_load_without_csp_violations(open_page: Callable[..., Page]) -> None:
    """Every wall page watched 4 s (two refreshes) for CSP reports, all five side by side:
    one 4 s window in all instead of five in turn (the pages share nothing but the server)."""
    violations: dict[str, list[str]] = {}
    pages = []
    for path in ("/screen", "/grids", "/rankings", "/map", "/present"):
        page = open_page("/login")
        seen = violations.setdefault(path, [])

        def note(message: ConsoleMessage, seen: list[str] = seen) -> None:
            if "Content Security Policy" in message.text:
                seen.append(message.text)

        page.on("console", note)
        page.goto(page.url.replace("/login", path))
        pages.append(page)
    pages[-1].wait_for_timeout(4000)  # the last page opened gets its full 4 s; the others more
    assert all(page.url.endswith(path) for page, path in zip(pages, violations))
    assert violations == {path: [] for path in violations}, violations


def test_a_revoked_kiosk_token_shows_the_banner(open_page: Callable[..., Page],
                                                live_app: LiveApp, artifacts: Path) -> None:
    with live_app.ctx.sessions() as session:
        secret = accounts.add_token(session, "browser-hall", now=Settings().now())
        session.commit()
    page = open_page(f"/screen?kiosk={secret}")
    expect(page.locator("#gw-auth-banner")).to_have_count(0)
    # The wall runs on the token: a poll is answered before the token is revoked.
    page.wait_for_event("response", lambda r: "/api/version" in r.url and r.ok)
    with live_app.ctx.sessions() as session:
        accounts.revoke_token(session, "browser-hall", now=Settings().now())
        session.commit()
    banner = page.locator("#gw-auth-banner")
    expect(banner).to_contain_text("大屏令牌已撤销", timeout=30_000)
    expect(banner).to_contain_text("kiosk token revoked")
    page.screenshot(path=str(artifacts / "kiosk-revoked.png"))
