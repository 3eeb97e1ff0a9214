"""The pages' top bar: the product, links to every page, and page-specific tools on the right.

Links are plain anchors (a full page load): each page sets up its own callbacks and polling,
so switching pages starts clean.
"""

from __future__ import annotations

from typing import Any

from dash import html

from dashboard.i18n import t
from dashboard.routing import PageRequest


def page_href(path: str, lang: str) -> str:
    """Return a page's link, keeping an English reader in English."""
    return f"{path}?lang=en" if lang == "en" else path


def create_nav(req: PageRequest, *, title: str, tools: list[Any] | None = None) -> html.Nav:
    """Return the top bar with the request's page marked as the current one."""
    active, lang = req.path, req.lang
    links = [
        html.A(t(word, lang), href=page_href(path, lang),
               className="gw-nav-link gw-nav-active" if path == active else "gw-nav-link",
               **({"aria-current": "page"} if path == active else {}))
        for path, word in ((link.path, link.label) for link in req.nav)
    ]
    return html.Nav(
        [
            html.Div([html.Span("Gridwatch", className="gw-nav-brand"),
                      html.Span(title, className="gw-nav-title")], className="gw-nav-left"),
            html.Div(links, className="gw-nav-links"),
            html.Div(tools or [], className="gw-nav-tools"),
        ],
        className="gw-nav",
    )
