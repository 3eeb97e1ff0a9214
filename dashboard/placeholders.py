"""What a page shows where its data is missing: an empty chart, an outage or unknown-area sheet.

Shared by the grid and rankings pages (the wall's own messages are ``dashboard.shell``'s). An
empty ``dcc.Graph`` would draw plotly's default white axes on a dark panel, and an empty AG
Grid says "No Rows To Show" in English; these say plainly that there is nothing, or why.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from dash import html

from dashboard.i18n import t
from dashboard.screen.figures import FONT, THEMES


def empty_figure(lang: str, *, text: str | None = None) -> go.Figure:
    """Return a figure with no data: the dark template, no axes, "无数据" in the middle."""
    colors = THEMES["dark"]
    fig = go.Figure()
    fig.add_annotation(text=t("figure_empty", lang) if text is None else text, showarrow=False,
                       x=0.5, y=0.5, xref="paper", yref="paper",
                       font={"size": 20, "color": colors["text"], "family": FONT})
    fig.update_layout(template=colors["template"], paper_bgcolor="rgba(0,0,0,0)",
                      plot_bgcolor="rgba(0,0,0,0)", margin={"l": 8, "r": 8, "t": 8, "b": 8},
                      autosize=True, showlegend=False)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def create_sheet(message: str, *, link: Any = None, retrying: bool = False) -> list[Any]:
    """Return the children of a page's cover sheet: the message, and a way back when given."""
    return [html.P(message, className="gw-sheet-text",
                   **({"data-retrying": "true"} if retrying else {})),
            link]
