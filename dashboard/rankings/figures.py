"""Pure figures of the monthly assessment: data in, ``go.Figure`` out.

The rankings page draws them on its dark panels and the review-meeting deck renders the very
same functions to images on light slides (``theme="light"``), so a leader sees one chart twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from dashboard.i18n import t, term
from dashboard.screen.figures import FONT, THEMES
from queries.assessment import StreetResult
from queries.rules import CAUSES

CAUSE_COLORS = {"problems": "#4fa3e0", "repeat": "#ff9f43", "overdue": "#ff4d4f",
                "rework": "#a77ee8"}
NOW_COLOR = "#4fc3ff"
BEFORE_COLOR = "#8a9bb3"
BOTTOM_COLOR = "#ff4d4f"
MEAN_COLOR = "#8a9bb3"


def cause_name(cause: str, lang: str) -> str:
    """Return a cause of deduction in words (问题扣分, 重复加扣 …)."""
    return t(f"rank_cause_{cause}", lang)


def street_label(street: StreetResult, lang: str) -> str:
    """Return a street's axis label; an unranked street is marked, as the tables mark it."""
    name = term(street.name, lang)
    return name if street.ranked else f"{name}({t('rank_flag_sample', lang)})"


def _style(fig: go.Figure, theme: str, scale: float, *, legend: bool) -> go.Figure:
    colors = THEMES.get(theme, THEMES["dark"])
    fig.update_layout(
        template=colors["template"], paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
        font={"size": round(13 * scale), "color": colors["text"], "family": FONT},
        margin={"l": round(8 * scale), "r": round(40 * scale), "t": round(30 * scale),
                "b": round(28 * scale)},
        showlegend=legend, autosize=True,
        legend={"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom",
                "font": {"size": round(12 * scale)}},
    )
    fig.update_xaxes(gridcolor=colors["grid"], zeroline=False)
    fig.update_yaxes(automargin=True, ticksuffix=" ", showgrid=False)
    return fig


def _empty(fig: go.Figure, lang: str, theme: str, scale: float) -> go.Figure:
    colors = THEMES.get(theme, THEMES["dark"])
    fig.add_annotation(text=t("no_data", lang), showarrow=False, x=0.5, y=0.5, xref="paper",
                       yref="paper", font={"size": round(14 * scale), "color": colors["text"]})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _style(fig, theme, scale, legend=False)


def score_change_figure(streets: Sequence[StreetResult], *, lang: str, theme: str = "dark",
                        scale: float = 1.0) -> go.Figure:
    """Return each street's score last month → this month (环比) as a dumbbell, best on top.

    Scores sit close together near the base score, so bars from zero would hide the changes;
    the axis spans the scores only.
    """
    fig = go.Figure()
    if not streets:
        return _empty(fig, lang, theme, scale)
    rows = list(reversed(streets))  # plotly draws the first category at the bottom
    names = [street_label(s, lang) for s in rows]
    before = [s.score_change.previous for s in rows]
    for name, then, street in zip(names, before, rows):
        if then is not None:
            fig.add_trace(go.Scatter(x=[then, street.score], y=[name, name], mode="lines",
                                     line={"color": BEFORE_COLOR, "width": 2 * scale},
                                     hoverinfo="skip", showlegend=False))
    fig.add_trace(go.Scatter(
        x=before, y=names, mode="markers", name=t("rank_last_month", lang),
        marker={"size": 9 * scale, "color": "rgba(0,0,0,0)",
                "line": {"color": BEFORE_COLOR, "width": 2 * scale}},
        hovertemplate="%{y} " + t("rank_last_month", lang) + " %{x:.2f}<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=[s.score for s in rows], y=names, mode="markers+text", name=t("rank_this_month", lang),
        marker={"size": 11 * scale,
                "color": [BOTTOM_COLOR if s.bottom_two else NOW_COLOR for s in rows]},
        # The change is written on the side away from last month's marker.
        text=[_signed(s.score_change.delta) for s in rows],
        textposition=["middle left" if (s.score_change.delta or 0) < 0 else "middle right"
                      for s in rows],
        textfont={"size": round(11 * scale)}, cliponaxis=False,
        hovertemplate="%{y} " + t("rank_this_month", lang) + " %{x:.2f}<extra></extra>"))
    fig.update_xaxes(title={"text": t("rank_col_score", lang), "font": {"size": round(12 * scale)}})
    return _style(fig, theme, scale, legend=True)


def deductions_figure(streets: Sequence[StreetResult], *, lang: str, theme: str = "dark",
                      scale: float = 1.0) -> go.Figure:
    """Return every street's deductions stacked by cause, best street on top."""
    fig = go.Figure()
    if not streets:
        return _empty(fig, lang, theme, scale)
    rows = list(reversed(streets))
    names = [street_label(s, lang) for s in rows]
    for cause in CAUSES:
        fig.add_trace(go.Bar(
            x=[s.deductions[cause] for s in rows], y=names, orientation="h",
            name=cause_name(cause, lang), marker={"color": CAUSE_COLORS[cause]},
            hovertemplate="%{y} " + cause_name(cause, lang) + " %{x:.2f}<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=[s.total_deduction for s in rows], y=names, mode="text",
        text=[f"{s.total_deduction:.2f}" for s in rows], textposition="middle right",
        textfont={"size": round(11 * scale)}, cliponaxis=False, hoverinfo="skip",
        showlegend=False))
    fig.update_layout(barmode="stack", bargap=0.35, legend_traceorder="normal")
    fig.update_xaxes(rangemode="tozero",
                     title={"text": t("rank_points", lang), "font": {"size": round(12 * scale)}})
    return _style(fig, theme, scale, legend=True)


def street_deductions_figure(street: StreetResult, group_mean: Mapping[str, float] | None, *,
                             lang: str, theme: str = "dark", scale: float = 1.0) -> go.Figure:
    """Return one street's deductions by cause beside its group's mean, largest cause on top."""
    fig = go.Figure()
    causes = list(reversed(CAUSES))
    labels = [cause_name(c, lang) for c in causes]
    if group_mean is not None:
        fig.add_trace(go.Bar(
            x=[group_mean.get(c, 0.0) for c in causes], y=labels, orientation="h",
            name=t("rank_group_mean", lang), marker={"color": MEAN_COLOR, "opacity": 0.55},
            hovertemplate="%{y} " + t("rank_group_mean", lang) + " %{x:.2f}<extra></extra>"))
    fig.add_trace(go.Bar(
        x=[street.deductions[c] for c in causes], y=labels, orientation="h", name=street.name,
        marker={"color": BOTTOM_COLOR if street.bottom_two else NOW_COLOR},
        text=[f"{street.deductions[c]:.2f}" for c in causes], textposition="outside",
        cliponaxis=False, hovertemplate="%{y} %{x:.2f}<extra>" + street.name + "</extra>"))
    fig.update_layout(barmode="group", bargap=0.3, bargroupgap=0.08)
    fig.update_xaxes(rangemode="tozero",
                     title={"text": t("rank_points", lang), "font": {"size": round(12 * scale)}})
    return _style(fig, theme, scale, legend=group_mean is not None)


def repeats_figure(current: Mapping[int, int], previous: Mapping[int, int] | None, *, lang: str,
                   theme: str = "dark", scale: float = 1.0) -> go.Figure:
    """Return repeat problems by occurrence (第2次, 第3次 …), this month beside last month."""
    fig = go.Figure()
    occurrences = sorted(set(current) | set(previous or {}))
    if not occurrences:
        return _empty(fig, lang, theme, scale)
    labels = [t("rank_occurrence", lang).format(n=n) for n in occurrences]
    if previous is not None:
        fig.add_trace(go.Bar(
            x=labels, y=[previous.get(n, 0) for n in occurrences], name=t("rank_last_month", lang),
            marker={"color": BEFORE_COLOR}, text=[previous.get(n, 0) for n in occurrences],
            textposition="outside", cliponaxis=False,
            hovertemplate="%{x} " + t("rank_last_month", lang) + " %{y}<extra></extra>"))
    fig.add_trace(go.Bar(
        x=labels, y=[current.get(n, 0) for n in occurrences], name=t("rank_this_month", lang),
        marker={"color": CAUSE_COLORS["repeat"]}, text=[current.get(n, 0) for n in occurrences],
        textposition="outside", cliponaxis=False,
        hovertemplate="%{x} " + t("rank_this_month", lang) + " %{y}<extra></extra>"))
    fig.update_layout(barmode="group", bargap=0.35)
    _style(fig, theme, scale, legend=True)
    fig.update_yaxes(rangemode="tozero", showgrid=True,
                     gridcolor=THEMES.get(theme, THEMES["dark"])["grid"])
    return fig


def _signed(delta: float | None) -> str:
    return "" if delta is None else f"{delta:+.2f}"
