"""Pure builders of the volunteers page: the page's data in, components and figures out."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from dash import html

from dashboard.screen.figures import FONT, THEMES
from dashboard.volunteers.text import w
from queries.indicators import DASH
from queries.volunteers import ActivityPoint, GridVolunteerWork, VolunteerPage

BAR_COLOR = "#4fc3ff"
HOURS_COLOR = "#f5c542"


def hours_text(hours: float) -> str:
    """Hours with one decimal and thousands separators (service hours are often fractional)."""
    return f"{hours:,.1f}"


def tiles(data: VolunteerPage, lang: str) -> list[html.Div]:
    """Return the six counters."""
    items = [
        ("teams_today", f"{data.teams_today:,}"),
        ("teams_month", f"{data.teams_month:,}"),
        ("on_duty", f"{data.on_duty_now:,}"),
        ("activities_today", f"{sum(data.activities_today.values()):,}"),
        ("hours_month", hours_text(data.hours_month)),
        ("hours_year", hours_text(data.hours_year)),
    ]
    return [html.Div([html.Div(value, className="gw-v-tile-value"),
                      html.Div(w(key, lang), className="gw-v-tile-label")],
                     className="gw-v-tile", id=f"vol-tile-{key}") for key, value in items]


def _layout(fig: go.Figure) -> go.Figure:
    colors = THEMES["dark"]
    fig.update_layout(template=colors["template"], paper_bgcolor="rgba(0,0,0,0)",
                      plot_bgcolor="rgba(0,0,0,0)",
                      font={"size": 13, "color": colors["text"], "family": FONT},
                      margin={"l": 8, "r": 36, "t": 8, "b": 24}, autosize=True)
    return fig


def types_figure(by_type: dict[str, int], lang: str) -> go.Figure:
    """Return today's activities by type as horizontal bars, the most frequent on top."""
    fig = go.Figure()
    if by_type:
        names = list(reversed(by_type))
        counts = [by_type[n] for n in names]
        fig.add_trace(go.Bar(x=counts, y=names, orientation="h", marker={"color": BAR_COLOR},
                             text=[f"{n:,}" for n in counts], textposition="outside",
                             cliponaxis=False, hovertemplate="%{y}: %{x:,}<extra></extra>"))
        fig.update_xaxes(tickformat=",d", rangemode="tozero", gridcolor=THEMES["dark"]["grid"])
        fig.update_yaxes(automargin=True, ticksuffix=" ")
    else:
        fig.add_annotation(text=w("none_today", lang), showarrow=False, x=0.5, y=0.5,
                           xref="paper", yref="paper")
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
    return _layout(fig.update_layout(showlegend=False, bargap=0.35))


def trend_figure(data: VolunteerPage, lang: str) -> go.Figure:
    """Return the last 30 days: activities (bars) and service hours (line, right axis)."""
    days = [d.day.isoformat() for d in data.trend]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=days, y=[d.activities for d in data.trend],
                         name=w("trend_activities", lang), marker={"color": BAR_COLOR},
                         hovertemplate="%{x}: %{y:,}<extra></extra>"))
    fig.add_trace(go.Scatter(x=days, y=[round(d.hours, 1) for d in data.trend],
                             name=w("trend_hours", lang), yaxis="y2", mode="lines",
                             line={"color": HOURS_COLOR, "width": 2},
                             hovertemplate="%{x}: %{y:,.1f} h<extra></extra>"))
    _layout(fig)
    fig.update_layout(legend={"orientation": "h", "x": 0, "y": 1.12},
                      margin={"l": 8, "r": 8, "t": 28, "b": 24},
                      yaxis={"rangemode": "tozero", "tickformat": ",d",
                             "gridcolor": THEMES["dark"]["grid"]},
                      yaxis2={"overlaying": "y", "side": "right", "rangemode": "tozero",
                              "showgrid": False, "tickformat": ",d"})
    fig.update_xaxes(tickformat="%m/%d")
    return fig


def ranking_table(data: VolunteerPage, lang: str) -> html.Table | html.P:
    """Return the teams ranked by this month's hours."""
    if not data.teams:
        return html.P(w("none_month", lang), className="gw-v-empty")
    head = html.Tr([html.Th(w(k, lang)) for k in ("rank", "team", "street", "activities",
                                                  "people", "hours")])
    rows = [html.Tr([html.Td(str(n)), html.Td(t.team), html.Td(t.street),
                     html.Td(f"{t.activities:,}"), html.Td(f"{t.participants:,}"),
                     html.Td(hours_text(t.hours))])
            for n, t in enumerate(data.teams, start=1)]
    return html.Table([html.Thead(head), html.Tbody(rows)], className="gw-v-table")


def activity_features(points: list[ActivityPoint]) -> dict[str, Any]:
    """Return today's activities as GeoJSON for the map (running ones drawn filled)."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature",
         "geometry": {"type": "Point", "coordinates": [round(p.lon, 5), round(p.lat, 5)]},
         "properties": {"t": p.title, "k": p.service_type, "team": p.team,
                        "n": p.participants, "run": p.running,
                        "when": f"{p.start_at:%H:%M}–{p.end_at:%H:%M}"}}
        for p in points]}


def as_of(data: VolunteerPage | None, lang: str) -> str:
    """Return the data time line."""
    return f"{w('updated', lang)} {data.now:%Y-%m-%d %H:%M}" if data else DASH


def grid_work_text(work: GridVolunteerWork, lang: str) -> str:
    """Return the grid page's line of volunteer work in the area and period."""
    return w("grid_work", lang).format(n=f"{work.activities:,}", p=f"{work.participants:,}",
                                       h=hours_text(work.hours))
