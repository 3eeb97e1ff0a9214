"""The app shell: the URL, the page container the router fills, and the pages' fallbacks."""

from __future__ import annotations

from dash import dcc, html

from dashboard import ids
from dashboard.i18n import t
from snapshot.store import AreaStatus

RETRY_MS = 5000  # a page that could not load its data asks again this often


def layout() -> html.Div:
    """Return the shell; the page itself is rendered from the URL by ``callbacks.router``."""
    return html.Div([dcc.Location(id=ids.URL), html.Div(id=ids.PAGE),
                     dcc.Interval(id=ids.PAGE_RETRY, interval=RETRY_MS, disabled=True)],
                    className="gw-root")


def create_unavailable(status: AreaStatus, lang: str) -> html.Div:
    """Say why a wall has no data: an unknown area stays; an outage or a first build retries."""
    word = {"unknown": "unknown_area",
            "unavailable": "data_unavailable"}.get(status, "data_pending")
    return html.Div(
        [html.P(t(word, lang)), create_home_link(lang)] if status == "unknown" else t(word, lang),
        className="gw-notfound", role="status",
    )


def create_message(text: str, lang: str) -> html.Div:
    """Return a one-line message in place of a page (bad input), with the way back."""
    return html.Div([html.P(text), create_home_link(lang)], className="gw-notfound",
                    role="alert")


def create_home_link(lang: str) -> html.A:
    """Return the way back to the wall, keeping an English reader in English."""
    return html.A(t("back_home", lang), href="/screen?lang=en" if lang == "en" else "/screen",
                  className="gw-notfound-link")


def create_not_found(lang: str) -> html.Div:
    """Return the styled "no such page" with a way back."""
    return html.Div([html.H1("404"), html.P(t("not_found", lang)), create_home_link(lang)],
                    className="gw-notfound")
