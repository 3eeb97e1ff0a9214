"""The data-quality page (数据质量, ``/quality``): what the importers could not take, or took
with doubts — quarantined rows by reason and source, imprecise locations, area fields that
disagree with their points, and sources that went quiet.

``page`` builds the frame once per load; ``callbacks.quality`` fills the panels from one
``queries.quality.QualityReport`` on every poll, through the pure builders below.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import plotly.graph_objects as go
from dash import dcc, html

from dashboard import ids
from dashboard.formatting import format_value
from dashboard.i18n import t
from dashboard.nav import create_nav
from dashboard.routing import PageRequest
from dashboard.screen.figures import FONT, THEMES
from queries.indicators import DASH
from queries.quality import DayCount, LocationCount, QualityReport
from queries.reasons import REASON_BY_CODE

PATH = "/quality"
POLL_MS = 60_000  # imports arrive in batches; a minute is fresh enough for a desk page
TREND_DAYS = 30
REASON_COLORS = ("#ff6b6b", "#ffa94d", "#ffd43b", "#69db7c", "#4dabf7", "#b197fc", "#f783ac",
                 "#63e6be", "#e599f7", "#a9e34b", "#ffc078", "#74c0fc")


def page(req: PageRequest) -> html.Div:
    """Return the page's frame; the panels fill from the first poll."""
    lang = req.lang

    def panel(title_key: str, body_id: str, hint_key: str | None = None) -> html.Section:
        head = [html.H2(t(title_key, lang), className="gw-q-title")]
        if hint_key:
            head.append(html.Span(t(hint_key, lang), className="gw-q-hint"))
        return html.Section([html.Div(head, className="gw-q-head"),
                             html.Div(id=body_id, className="gw-q-body")], className="gw-q-panel")

    return html.Div(
        [
            dcc.Interval(id=ids.QUALITY_TICK, interval=POLL_MS),
            dcc.Store(id=ids.QUALITY_LANG, data=lang),
            create_nav(req, title=t("quality_title", lang)),
            html.Div(id=ids.QUALITY_STATUS, className="gw-q-status", role="status"),
            html.Div(id=ids.QUALITY_TILES, className="gw-q-tiles"),
            html.Main([
                html.Section([html.Div(html.H2(t("quality_trend", lang), className="gw-q-title"),
                                       className="gw-q-head"),
                              # The graph fills its box (responsive sets its height to
                              # 100%): the box has the height, or the chart had none.
                              html.Div(dcc.Graph(id=ids.QUALITY_TREND,
                                                 config={"displayModeBar": False,
                                                         "responsive": True},
                                                 responsive=True), className="gw-q-graph")],
                             className="gw-q-panel gw-q-wide"),
                panel("quality_quarantine", ids.QUALITY_QUARANTINE, "quality_quarantine_hint"),
                panel("quality_locations", ids.QUALITY_LOCATIONS, "quality_locations_hint"),
                panel("quality_disagree", ids.QUALITY_DISAGREE, "quality_disagree_hint"),
                panel("quality_sources", ids.QUALITY_SOURCES, "quality_sources_hint"),
                html.Section([html.Div(html.H2(t("quality_samples", lang), className="gw-q-title"),
                                       className="gw-q-head"),
                              html.Div(id=ids.QUALITY_SAMPLES, className="gw-q-body")],
                             className="gw-q-panel gw-q-wide"),
            ], className="gw-q-main"),
        ],
        id=ids.QUALITY, className="gw-quality", lang="zh-CN" if lang == "zh" else "en",
    )


def reason_label(code: str, lang: str) -> str:
    """Return a quarantine reason's words (the code itself when it is unknown)."""
    reason = REASON_BY_CODE.get(code)
    if reason is None:
        return code
    return reason.en if lang == "en" else reason.zh


def note_label(note: str, lang: str) -> str:
    """Return a location note's words."""
    key = f"quality_note_{note}"
    return t(key, lang) if key in _NOTE_KEYS else note


_NOTE_KEYS = frozenset({"quality_note_default_geocode", "quality_note_shared_point",
                        "quality_note_coarse", "quality_note_area_centre",
                        "quality_note_field_point_disagree", "quality_note_point_outside",
                        "quality_note_unknown"})


def _table(headers: list[str], rows: list[list[Any]], lang: str,
           numeric: frozenset[int] = frozenset()) -> Any:
    if not rows:
        return html.Div(t("quality_none", lang), className="gw-q-empty")
    return html.Table([
        html.Thead(html.Tr([html.Th(h, className="gw-q-num" if n in numeric else None)
                            for n, h in enumerate(headers)])),
        html.Tbody([html.Tr([html.Td(c, className="gw-q-num" if n in numeric else None)
                             for n, c in enumerate(row)]) for row in rows]),
    ], className="gw-q-table")


def create_tiles(report: QualityReport, total_cases: int, lang: str) -> list[html.Div]:
    """Return the headline counts: quarantined, imprecise (and share), disagreeing, stale."""
    quarantined = sum(q.rows for q in report.quarantine)
    imprecise = sum(c.cases for c in report.imprecise)
    disagree = sum(c.cases for c in report.disagreements)
    stale = [f.source_system for f in report.freshness if f.stale]
    share = format_value(imprecise / total_cases, "rate") if total_cases else DASH
    items = [
        ("quality_tile_quarantined", format_value(quarantined, "count"), None, quarantined > 0),
        ("quality_tile_imprecise", format_value(imprecise, "count"),
         f"{t('quality_share', lang)} {share}", imprecise > 0),
        ("quality_tile_disagree", format_value(disagree, "count"), None, disagree > 0),
        ("quality_tile_stale", format_value(len(stale), "count"),
         "、".join(stale) if stale else None, bool(stale)),
    ]
    return [html.Div([html.Div(t(key, lang), className="gw-q-tile-label"),
                      html.Div(value, className="gw-q-tile-value"),
                      html.Div(note or "", className="gw-q-tile-note")],
                     className="gw-q-tile gw-q-warn" if warn else "gw-q-tile")
            for key, value, note, warn in items]


def create_quarantine(report: QualityReport, lang: str) -> Any:
    """Return quarantined rows by source and reason."""
    return _table([t("quality_col_source", lang), t("quality_col_reason", lang),
                   t("quality_col_rows", lang)],
                  [[q.source_system, reason_label(q.reason_code, lang),
                    format_value(q.rows, "count")] for q in report.quarantine], lang,
                  numeric=frozenset({2}))


def _location_rows(counts: list[LocationCount], lang: str) -> list[list[Any]]:
    return [[c.source_system, note_label(c.note, lang), format_value(c.cases, "count"),
             format_value(c.share, "rate")] for c in counts]


def create_locations(counts: list[LocationCount], lang: str) -> Any:
    """Return cases by source and location note, with the share of the source's cases."""
    return _table([t("quality_col_source", lang), t("quality_col_why", lang),
                   t("quality_col_cases", lang), t("quality_col_share", lang)],
                  _location_rows(counts, lang), lang, numeric=frozenset({2, 3}))


def create_sources(report: QualityReport, lang: str) -> Any:
    """Return each source's case count, newest report and hours since; stale ones marked."""
    rows = []
    for f in report.freshness:
        newest = f"{f.newest_reported_at:%Y-%m-%d %H:%M}" if f.newest_reported_at else DASH
        hours = format_value(f.hours_since, "hours") if f.hours_since is not None else DASH
        state = html.Span(t("quality_stale", lang), className="gw-q-bad") if f.stale else \
            html.Span(t("quality_fresh", lang), className="gw-q-good")
        rows.append([f.source_system, format_value(f.cases, "count"), newest, hours, state])
    return _table([t("quality_col_source", lang), t("quality_col_cases", lang),
                   t("quality_col_newest", lang), t("quality_col_hours", lang),
                   t("quality_col_state", lang)], rows, lang, numeric=frozenset({1, 3}))


def create_samples(report: QualityReport, lang: str) -> Any:
    """Return sample quarantined rows (with their raw values) and sample doubtful locations."""
    rows: list[list[Any]] = []
    for s in report.quarantine_samples:
        raw = " · ".join(f"{k}={v}" for k, v in list(s.payload.items())[:6])
        rows.append([s.source_system, f"{s.file_name}:{s.row_number or DASH}",
                     s.external_id or DASH, reason_label(s.reason_code, lang),
                     html.Span(s.reason, title=raw, className="gw-q-raw")])
    for c in report.location_samples:
        rows.append([c.source_system, DASH, c.external_id, note_label(c.note, lang),
                     f"{c.lon:.5f}, {c.lat:.5f} · {c.reported_at:%Y-%m-%d %H:%M}"])
    return _table([t("quality_col_source", lang), t("quality_col_where", lang),
                   t("quality_col_id", lang), t("quality_col_reason", lang),
                   t("quality_col_detail", lang)], rows, lang)


def trend_figure(quarantined: list[DayCount], imprecise: list[DayCount], lang: str) -> go.Figure:
    """Return rows quarantined per day by reason (bars) and imprecise cases per day (a line)."""
    colors = THEMES["dark"]
    fig = go.Figure()
    by_reason: dict[str, dict[str, int]] = defaultdict(dict)
    for d in quarantined:
        by_reason[d.code][d.day.isoformat()] = by_reason[d.code].get(d.day.isoformat(), 0) + d.rows
    for n, (code, days) in enumerate(sorted(by_reason.items())):
        fig.add_trace(go.Bar(x=list(days), y=list(days.values()), name=reason_label(code, lang),
                             marker={"color": REASON_COLORS[n % len(REASON_COLORS)]}))
    per_day: dict[str, int] = defaultdict(int)
    for d in imprecise:
        per_day[d.day.isoformat()] += d.rows
    if per_day:
        days = sorted(per_day)
        fig.add_trace(go.Scatter(x=days, y=[per_day[d] for d in days], mode="lines+markers",
                                 name=t("quality_tile_imprecise", lang),
                                 line={"color": "#4fc3ff", "width": 3}))
    if not fig.data:
        fig.add_annotation(text=t("quality_none", lang), showarrow=False, x=0.5, y=0.5,
                           xref="paper", yref="paper", font={"size": 20, "color": colors["text"]})
    fig.update_layout(
        template=colors["template"], paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
        font={"size": 16, "color": colors["text"], "family": FONT}, barmode="stack",
        margin={"l": 48, "r": 16, "t": 8, "b": 32}, autosize=True,
        legend={"orientation": "h", "y": 1.12, "x": 0},
    )
    fig.update_xaxes(visible=bool(fig.data), type="date", showgrid=False, tickformat="%m-%d")
    fig.update_yaxes(visible=bool(fig.data), gridcolor=colors["grid"], rangemode="tozero",
                     tickformat=",d")
    return fig

