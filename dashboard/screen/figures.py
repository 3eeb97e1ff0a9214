"""Pure figure builders: data in, ``go.Figure`` out (no queries, no Dash state).

Plotly sizes fonts in pixels, so every builder takes ``scale`` (the wall's size against the
1920×1080 design) and the figure stays legible from across the room on a 4K wall too.
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from dashboard.i18n import t

# Installed CJK fonts first; "Gridwatch Sans" is the app's own (assets/fonts.css).
FONT = "Noto Sans CJK SC, Noto Sans SC, Microsoft YaHei, Gridwatch Sans, sans-serif"

REPORTED_COLOR = "#4fc3ff"
CLOSED_COLOR = "#2ecc71"
# Pixels at 1920×1080: nothing on a wall is smaller than 20 px there (legible from 8 metres).
FONT_PX = 21
TICK_PX = 20
THEMES = {
    "dark": {"template": "plotly_dark", "text": "#c9dcf2", "grid": "rgba(120,160,210,0.18)"},
    "light": {"template": "plotly_white", "text": "#1d3557", "grid": "rgba(30,60,100,0.15)"},
}


def trend_figure(days: list[str], reported: Sequence[int | None],
                 closed: Sequence[int | None], *, lang: str,
                 scale: float = 1.0, theme: str = "dark") -> go.Figure:
    """Return reported vs closed per day as two lines (newest day on the right)."""
    colors = THEMES.get(theme, THEMES["dark"])
    scale = max(scale, 1.0)  # a smaller window keeps the 1080p sizes
    font = round(FONT_PX * scale)
    labels = [d[5:] for d in days]  # MM-DD, ISO order in both languages (never 11/03)
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=labels, y=reported, name=t("trend_reported", lang), mode="lines",
        legendgroup="trend_reported",  # with /grids' marker of today (dashboard.grids.figures)
        line={"color": REPORTED_COLOR, "width": 3 * scale},
        fill="tozeroy", fillcolor="rgba(79,195,255,0.12)",
        hovertemplate="%{x} %{y}<extra>" + t("trend_reported", lang) + "</extra>",
    ))
    fig.add_trace(go.Scatter(
        x=labels, y=closed, name=t("trend_closed", lang), mode="lines",
        legendgroup="trend_closed",
        line={"color": CLOSED_COLOR, "width": 3 * scale},
        hovertemplate="%{x} %{y}<extra>" + t("trend_closed", lang) + "</extra>",
    ))
    fig.update_layout(
        template=colors["template"],
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        font={"size": font, "color": colors["text"],
              "family": FONT},
        margin={"l": round(56 * scale), "r": round(14 * scale), "t": round(36 * scale),
                "b": round(36 * scale)},
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom",
                "font": {"size": font}},
        hovermode="x unified",
        autosize=True,
        uirevision="trend",  # keeps hover and legend toggles across refreshes
    )
    # Category, not date: plotly would read "11-03" as a date in 2011.
    fig.update_xaxes(type="category", showgrid=False, nticks=5,
                     tickfont={"size": round(TICK_PX * scale)})
    fig.update_yaxes(gridcolor=colors["grid"], zeroline=False, rangemode="tozero", nticks=5,
                     tickfont={"size": round(TICK_PX * scale)})
    return fig
