"""``create_*`` factories for the big screen's panels; they format snapshot data, never query.

The snapshot payload is language-neutral (numbers, codes, database words); these factories
turn it into words and formatted numbers for one wall's language.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dash import dcc, html

from dashboard import ids
from dashboard.formatting import format_value
from dashboard.i18n import t, term
from dashboard.names import grid_name_parts
from dashboard.scores import ASSESSMENT, COMPOSITE, score_formula, score_name
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


ACTIVITY_ROWS = 3  # what fits under the counters at 20 px and more, with the heading


def create_activity_types(types: list[list[Any]], lang: str,
                          month_types: list[list[Any]] | None = None) -> list[html.Div]:
    """Return today's activities by service type as labelled bars.

    A quiet day shows this month's activities instead (headed so), never a panel of
    "今日暂无活动"; only a month without any says there is none.
    """
    head: list[html.Div] = [html.Div(t("vol_types", lang), className="gw-bars-head")]
    if not types and month_types:
        types = month_types
        head = [html.Div(t("vol_types_month", lang), className="gw-bars-head")]
    if not types:
        return [html.Div(t("vol_none_month" if month_types is not None else "vol_none", lang),
                         className="gw-empty")]
    top = max(n for _, n in types)
    return head + [
        html.Div([html.Span(term(name, lang), className="gw-bar-name"),
                  html.Span(html.Span(style={"width": f"{100 * n / top:.0f}%"}),
                            className="gw-bar-track"),
                  html.Span(f"{n}", className="gw-bar-value")], className="gw-bar-row")
        for name, n in types[:ACTIVITY_ROWS]
    ]


def ranking_kind(ranking: dict[str, Any]) -> str:
    """Return which score a ranking section ranks by: the assessment's or the composite."""
    return ranking.get("kind") or (ASSESSMENT if ranking.get("level") == "street" else COMPOSITE)


def ranking_panel_words(ranking: dict[str, Any], lang: str) -> tuple[str, str]:
    """Return the ranking panel's title and its hover text (what the score is, its formula)."""
    kind = ranking_kind(ranking)
    suffix = "" if kind == ASSESSMENT else "_composite"
    return (t(f"ranking_panel{suffix}", lang),
            f"{t(f'ranking_hint{suffix}', lang)} {score_formula(kind, lang)}")


def create_ranking_caption(ranking: dict[str, Any], lang: str) -> html.Div:
    """Return the line above the rows: which month, which score, and its state."""
    year, month = (int(part) for part in ranking["month"].split("-")[:2])
    state = ("ranking_published" if ranking.get("published") else
             "ranking_running" if ranking.get("running") else "ranking_provisional")
    kind = ranking_kind(ranking)
    return html.Div(
        [html.Span(t("ranking_month", lang).format(year=year, month=month)),
         html.Span(score_name(kind, lang)),
         html.Span(t(state, lang), className=f"gw-rank-state gw-rank-state-{state}")],
        className="gw-rank-caption", title=score_formula(kind, lang))


def create_rank_name(name: str, *, grid: bool) -> html.Span:
    """Return a ranked area's name; a grid keeps its number when its community's name is cut."""
    if not grid:
        return html.Span(name, className="gw-rank-name", title=name)
    prefix, own = grid_name_parts(name)
    return html.Span([html.Span(prefix, className="gw-rank-prefix"),
                      html.Span(own, className="gw-rank-own")],
                     className="gw-rank-name gw-rank-name-grid", title=name)


def create_ranking(ranking: dict[str, Any], lang: str) -> list[html.Div]:
    """Return the caption and the ranking rows, best first, with the bottom two marked."""
    rows = ranking["rows"]
    if not rows:
        return [html.Div(t("no_data", lang), className="gw-empty")]
    out = [create_ranking_caption(ranking, lang)]
    for row in rows:
        score, rank = row["score"], row.get("rank")
        classes = ["gw-rank-row"]
        if row["bottom"]:
            classes.append("gw-rank-bottom")
        if row["self"]:
            classes.append("gw-rank-self")
        out.append(html.Div(
            [html.Span("—" if rank is None else f"{rank}", className="gw-rank-no"),
             create_rank_name(term(row["name"], lang), grid=ranking.get("level") == "grid"),
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
        html.Div(f"{case.external_id} · {case.street} · {case.grid or '—'}",
                 className="gw-card-sub"),
        html.Dl([item for key, value in rows
                 for item in (html.Dt(t(key, lang)), html.Dd(value))], className="gw-card-rows"),
        html.P(case.description, className="gw-card-desc") if case.description else None,
    ]


def create_card_flag(case_id: int, lang: str) -> html.Div:
    """Return a logged-in leader's 督办 form on the case card (a note and the button)."""
    return html.Div([
        dcc.Store(id=ids.CARD_FLAG_CASE, data=case_id),
        dcc.Input(id=ids.CARD_FLAG_NOTE, type="text", maxLength=500,
                  placeholder=t("case_flag_note", lang), className="gw-card-flag-note"),
        html.Button(t("case_flag_button", lang), id=ids.CARD_FLAG_BUTTON, n_clicks=0,
                    className="gw-card-flag-button"),
        html.Div(id=ids.CARD_FLAG_MESSAGE, className="gw-card-flag-message", role="status"),
    ], className="gw-card-flag")
