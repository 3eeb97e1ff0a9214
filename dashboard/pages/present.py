"""Presentation mode (``/present``): a full-screen carousel of the app's own pages.

``/present?pages=screen,rankings,grids&seconds=30&lang=zh`` shows each page in a full-viewport
iframe, advancing every ``seconds`` (``GRIDWATCH_PRESENT_PAGES`` / ``_SECONDS`` by default).
Every page stays loaded and live behind the one shown, so a step is instant. The browser does
the stepping (assets/present.js): ← → step, space pauses, F goes full screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dash import dcc, html

from dashboard import ids
from dashboard.i18n import WORDS, t
from dashboard.settings import Settings

PATH = "/present"
TICK_MS = 500
MIN_SECONDS, MAX_SECONDS = 2, 3600


@dataclass(frozen=True)
class Slide:
    """One page of the playlist: its name, the URL the iframe loads, and its title."""

    name: str
    src: str
    title: str


def playlist(params: dict[str, str], settings: Settings, lang: str) -> list[Slide]:
    """Return the pages to show: the URL's ``pages`` (names or paths), else the setting's."""
    raw = params.get("pages", "")
    items = [p.strip() for p in raw.split(",") if p.strip()] or list(settings.present_pages)
    slides = []
    for item in items:
        path = item if item.startswith("/") else f"/{item}"
        if path.split("?")[0] == PATH:  # a carousel inside itself would nest forever
            continue
        name = path.strip("/").split("?")[0] or "screen"
        word = f"nav_{name}"
        title = t(word, lang) if word in WORDS else name
        joiner = "&" if "?" in path else "?"
        slides.append(Slide(name, f"{path}{joiner}lang={lang}", title))
    return slides


def seconds_of(params: dict[str, str], settings: Settings) -> int:
    """Return the seconds per page: the URL's when it is a sensible number, else the setting."""
    raw = params.get("seconds", "")
    if raw.isdigit() and MIN_SECONDS <= int(raw) <= MAX_SECONDS:
        return int(raw)
    return settings.present_seconds


def layout(settings: Settings, lang: str, params: dict[str, str]) -> html.Div:
    """Return the carousel: the iframes, the clock that steps them and a small indicator."""
    slides = playlist(params, settings, lang)
    seconds = seconds_of(params, settings)
    frames: list[Any] = [
        html.Iframe(src=slide.src, title=slide.title, id=ids.present_frame(n),
                    className="gw-present-frame gw-present-active" if n == 0
                    else "gw-present-frame")
        for n, slide in enumerate(slides)
    ]
    state = {"index": 0, "paused": False, "elapsed": 0, "n": len(slides),
             "seconds": seconds, "titles": [s.title for s in slides],
             "pausedWord": t("present_paused", lang)}
    return html.Div(
        [
            dcc.Store(id=ids.PRESENT_STATE, data=state),
            dcc.Store(id=ids.PRESENT_KEYS),
            dcc.Interval(id=ids.PRESENT_TICK, interval=TICK_MS, disabled=len(slides) < 2),
            *frames,
            html.Div(t("present_empty", lang), className="gw-present-empty") if not slides
            else None,
            html.Div([html.Span(id=ids.PRESENT_INDICATOR, className="gw-present-label"),
                      html.Div(html.Div(id=ids.PRESENT_PROGRESS, className="gw-present-bar"),
                               className="gw-present-track")],
                     className="gw-present-hud", role="status"),
            html.Div(t("present_hint", lang), className="gw-present-hint"),
        ],
        id=ids.PRESENT,
        className="gw-present",
        lang="zh-CN" if lang == "zh" else "en",
        **{"data-seconds": str(seconds)},
    )
