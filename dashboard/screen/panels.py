"""``create_*`` factories for the big screen's panels; they format snapshot data, never query.

The snapshot payload is language-neutral (numbers, codes, database words); these factories
turn it into words and formatted numbers for one wall's language.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dash import html

from dashboard import ids
from dashboard.formatting import format_value
from dashboard.i18n import t, term
from dashboard.tiles import change_class, change_text, hover_text, tile_class, value_text
from queries.cases import CaseDetail
from queries.indicators import DASH, indicator_def


def create_tile_body(tile: dict[str, Any], lang: str) -> list[html.Div]:
    """Return the inside of one KPI tile: label, value, change vs yesterday and last week."""
    deltas = [
        html.Span([html.Span(t(word, lang), className="gw-delta-label"),
                   html.Span(change_text(tile, n),
                             className=change_class(tile["deltas"][n], tile["better"]))],
                  className="gw-delta-item")
        for n, word in enumerate(tile["compare"])
    ]
    return [
        html.Div([indicator_def(tile["key"]).label(lang),
                  html.Span(t(f"tile_period_{tile['period']}", lang), className="gw-tile-period")],
                 className="gw-tile-label"),
        html.Div(value_text(tile, lang), className="gw-tile-value"),
        html.Div(deltas, className="gw-tile-deltas"),
    ]


def create_tile(tile: dict[str, Any], lang: str) -> html.Div:
    """Return one KPI tile; the refresh callback replaces its inside when it changes."""
    return html.Div(create_tile_body(tile, lang), id=ids.kpi_tile(tile["key"]),
                    className=tile_class(tile), title=hover_text(tile, lang))


def create_panel(title: str, body: Any, *, class_name: str = "",
                 hint: str | None = None) -> html.Section:
    """Return a framed panel with a heading (``hint`` shows on hovering the heading)."""
    return html.Section(
        [html.H2(title, className="gw-panel-title", title=hint), body],
        className=f"gw-panel {class_name}".strip(),
    )


def create_counter(counter_id: str, label: str, value: float) -> html.Div:
    """Return one volunteer counter; ``assets/screen.js`` counts it up to each new value."""
    return html.Div([html.Div(format_value(value, "count"), id=counter_id,
                              className="gw-counter-value"),
                     html.Div(label, className="gw-counter-label")], className="gw-counter")


def create_activity_types(types: list[list[Any]], lang: str) -> list[html.Div]:
    """Return today's activities by service type as labelled bars."""
    if not types:
        return [html.Div(t("vol_none", lang), className="gw-empty")]
    top = max(n for _, n in types)
    return [
        html.Div([html.Span(term(name, lang), className="gw-bar-name"),
                  html.Span(html.Span(style={"width": f"{100 * n / top:.0f}%"}),
                            className="gw-bar-track"),
                  html.Span(f"{n}", className="gw-bar-value")], className="gw-bar-row")
        for name, n in types[:6]
    ]


def create_ranking(ranking: dict[str, Any], lang: str) -> list[html.Div]:
    """Return the ranking rows, best first, with the bottom two marked."""
    rows = ranking["rows"]
    if not rows:
        return [html.Div(t("no_data", lang), className="gw-empty")]
    out = []
    for row in rows:
        score, rank = row["score"], row.get("rank")
        classes = ["gw-rank-row"]
        if row["bottom"]:
            classes.append("gw-rank-bottom")
        if row["self"]:
            classes.append("gw-rank-self")
        out.append(html.Div(
            [html.Span("—" if rank is None else f"{rank}", className="gw-rank-no"),
             html.Span(term(row["name"], lang), className="gw-rank-name"),
             html.Span(html.Span(style={"width": f"{min(score or 0, 100):.0f}%"}),
                       className="gw-bar-track"),
             html.Span("—" if score is None else f"{score:.2f}", className="gw-rank-score"),
             html.Span(t("bottom_of_group" if row.get("group") else "bottom", lang)
                       if row["bottom"]
                       else t("few_cases", lang) if row.get("flag") == "min_sample"
                       else row.get("grade") or "",
                       className="gw-rank-tag")],
            className=" ".join(classes),
        ))
    return out


def create_ticker_items(items: list[dict[str, Any]], lang: str) -> list[html.Span]:
    """Return the ticker's entries; the list is doubled so the CSS scroll loops seamlessly."""
    spans = [
        html.Span([html.B(item["time"]),
                   f" {term(item['source'], lang)} · {term(item['street'], lang)} · "
                   f"{term(item['minor'], lang)} · ",
                   html.Em(term(item["status"], lang))], className="gw-ticker-item")
        for item in items
    ]
    return spans + spans


def format_duration(span: timedelta, lang: str) -> str:
    """Return a duration in days, hours and minutes."""
    minutes = max(0, int(span.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}{t('days', lang)} {hours}{t('hours', lang)}"
    return f"{hours}{t('hours', lang)} {minutes}{t('minutes', lang)}"


def create_case_card(case: CaseDetail, now: datetime, lang: str, light: str) -> list[Any]:
    """Return the inside of the card of one clicked case (its frame and close button stay)."""
    end = case.closed_at or now
    rows = [
        ("card_category", " · ".join(term(w, lang) for w in (case.kind, case.major, case.minor))),
        ("card_address", case.address),
        ("card_source", term(case.source, lang)),
        ("card_reported", f"{case.reported_at:%Y-%m-%d %H:%M}"),
        ("card_department", term(case.department, lang) or t("unassigned", lang)),
        ("card_status", term(case.status, lang)),
        ("card_deadline",
         DASH if case.deadline_at is None else f"{case.deadline_at:%Y-%m-%d %H:%M}"),
        ("card_open_for", format_duration(end - case.reported_at, lang)),
    ]
    if case.rework_count:
        rows.append(("card_rework", str(case.rework_count)))
    return [
        html.Div([html.Span(className=f"gw-dot gw-dot-{light}"),
                  html.Span(case.minor, className="gw-card-title")], className="gw-card-head"),
        html.Div(f"{case.external_id} · {case.street} · {case.grid or '—'}", className="gw-card-sub"),
        html.Dl([item for key, value in rows
                 for item in (html.Dt(t(key, lang)), html.Dd(value))], className="gw-card-rows"),
        html.P(case.description, className="gw-card-desc") if case.description else None,
    ]
