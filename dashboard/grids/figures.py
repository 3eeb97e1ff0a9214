"""Pure figures of the grid page: data in, ``go.Figure`` out, styled for its dark panels."""

from __future__ import annotations

from datetime import datetime

import plotly.graph_objects as go

from dashboard.i18n import t, term
from dashboard.screen.figures import CLOSED_COLOR, FONT, REPORTED_COLOR, THEMES, trend_figure
from queries.trends import DailySeries

BAR_COLOR = "#ff9f43"
BAR_SLOTS = 8
WHOLE_TICKS_UP_TO = 10  # below this, an axis of counts ticks every whole number


def categories_figure(items: list[tuple[str, int]], *, lang: str) -> go.Figure:
    """Return the worst minor classes as horizontal bars, the most frequent on top."""
    colors = THEMES["dark"]
    fig = go.Figure()
    if items:
        names = [term(name, lang) for name, _ in reversed(items)]
        counts = [n for _, n in reversed(items)]
        fig.add_trace(go.Bar(
            x=counts, y=names, orientation="h", marker={"color": BAR_COLOR},
            text=[f"{n:,}" for n in counts], textposition="outside", cliponaxis=False,
            hovertemplate="%{y}: %{x:,}<extra></extra>",
        ))
    else:
        fig.add_annotation(text=t("grids_no_cases", lang), showarrow=False, x=0.5, y=0.5,
                           xref="paper", yref="paper", font={"size": 14, "color": colors["text"]})
    fig.update_layout(
        template=colors["template"], paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
        font={"size": 13, "color": colors["text"], "family": FONT},
        margin={"l": 8, "r": 36, "t": 8, "b": 24}, autosize=True, showlegend=False,
        bargap=0.35,
    )
    top = max((n for _, n in items), default=0)
    fig.update_xaxes(visible=bool(items), gridcolor=colors["grid"], zeroline=False,
                     rangemode="tozero", tickformat=",d",
                     dtick=1 if top <= WHOLE_TICKS_UP_TO else None)
    # A fixed number of bar slots, so three classes do not swell into three fat blocks.
    slots = max(len(items), BAR_SLOTS)
    fig.update_yaxes(visible=bool(items), automargin=True, ticksuffix=" ",
                     range=[len(items) - slots - 0.5, len(items) - 0.5])
    return fig


def daily_figure(series: DailySeries, *, lang: str, now: datetime | None = None) -> go.Figure:
    """Return reported vs closed per day (the big screen's trend), ticked in whole cases.

    When the last day is ``now``'s, its few hours would end the lines in a plunge toward zero
    every morning: the lines stop at yesterday and today's counts so far are two hollow
    markers, their hover saying until when.
    """
    days = [d.isoformat() for d in series.days]
    partial = now is not None and bool(days) and series.days[-1] == now.date()
    reported: list[int | None] = list(series.reported)
    closed: list[int | None] = list(series.closed)
    if partial:
        reported[-1] = closed[-1] = None
    fig = trend_figure(days, reported, closed, lang=lang)
    if partial and now is not None:
        label = t("grids_trend_today", lang).format(time=f"{now:%H:%M}")
        for key, value, color in (("trend_reported", series.reported[-1], REPORTED_COLOR),
                                  ("trend_closed", series.closed[-1], CLOSED_COLOR)):
            fig.add_trace(go.Scatter(
                x=[days[-1][5:]], y=[value], mode="markers", showlegend=False, legendgroup=key,
                marker={"size": 12, "color": "rgba(0,0,0,0)", "line": {"width": 3,
                                                                       "color": color}},
                hovertemplate=f"{label} %{{y}}<extra>{t(key, lang)}</extra>"))
    top = max([*series.reported, *series.closed, 0])
    fig.update_yaxes(tickformat=",d", dtick=1 if top <= WHOLE_TICKS_UP_TO else None)
    return fig
