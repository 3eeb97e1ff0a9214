"""Presentation mode (``/present``): a full-screen carousel of the app's own pages.

``/present?pages=screen,rankings,grids&seconds=30&lang=zh`` shows each page in a full-viewport
iframe, advancing every ``seconds`` (``GRIDWATCH_PRESENT_PAGES`` / ``_SECONDS`` by default).
Every page stays loaded and live behind the one shown, so a step is instant. The browser does
the stepping (assets/present.js): ← → step, space pauses, F goes full screen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from dash import dcc, html

from dashboard import ids
from dashboard.i18n import t
from dashboard.routing import PageRequest
from settings import Settings

TICK_MS = 500
MIN_SECONDS, MAX_SECONDS = 2, 3600


@dataclass(frozen=True)
class Slide:
    """One page of the playlist: its name, the URL the iframe loads, and its title."""

    name: str
    src: str
    title: str


def playlist(req: PageRequest) -> list[Slide]:
    """Return the pages to show: the URL's ``pages``, else the setting's.

    An item is a registered presentable page's name, optionally with its own query
    (``grids?area=610104001``). Anything else — a path, ``//host/x``, an unknown name — is
    dropped, so the carousel can only frame the app's own pages.
    """
    raw = req.query.get("pages", "")
    items = ([p.strip() for p in raw.split(",") if p.strip()]
             or list(req.settings.present_pages))
    slides = []
    for item in items:
        name, _, query = item.partition("?")
        page = req.presentable(name)
        if page is None:
            continue
        params = [(k, v) for k, v in parse_qsl(query) if k != "lang"] + [("lang", req.lang)]
        slides.append(Slide(page.name, f"{page.path}?{urlencode(params)}",
                            t(page.nav_label, req.lang)))
    return slides


def seconds_of(params: Mapping[str, str], settings: Settings) -> int:
    """Return the seconds per page: the URL's when it is a sensible number, else the setting."""
    raw = params.get("seconds", "")
    if raw.isdigit() and MIN_SECONDS <= int(raw) <= MAX_SECONDS:
        return int(raw)
    return settings.present_seconds


def page(req: PageRequest) -> html.Div:
    """Return the carousel: the iframes, the clock that steps them and a small indicator."""
    lang = req.lang
    slides = playlist(req)
    seconds = seconds_of(req.query, req.settings)
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
