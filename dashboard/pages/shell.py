"""The app shell: the URL and the page container that callbacks fill by path."""

from __future__ import annotations

from dash import dcc, html

from dashboard import ids


def layout() -> html.Div:
    """Return the shell; the page itself is rendered from the URL by ``callbacks.screen``."""
    return html.Div([dcc.Location(id=ids.URL), html.Div(id=ids.PAGE)], className="gw-root")
