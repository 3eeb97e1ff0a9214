"""Pure builders of the sections page: the snapshot's board and section dicts in, components out.

Scores colour the map in bands (``BANDS``, shown in the legend); a section that is not ranked
(too few cases to close out) is grey, never a colour that reads as a score.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from dash import html

from dashboard import ids
from dashboard.sections.text import w
from queries.indicators import DASH

# (lowest score of the band, colour): the first band the score reaches wins.
BANDS = ((90.0, "#2ecc71"), (75.0, "#4fc3ff"), (60.0, "#f5c542"), (0.0, "#ff4d4f"))
UNRANKED = "#5b6b80"
LIST_SIZE_SHOWN = 10  # rows per 红/黑 list on screen, whatever the rules ask (they scroll)
OVERDUE_SHOWN = 8


def score_text(score: float | None) -> str:
    """Return a score with one decimal, or "—" for a section not ranked."""
    return DASH if score is None else f"{score:.1f}"


def colour(score: float | None) -> str:
    """Return the map colour of a score."""
    if score is None:
        return UNRANKED
    return next(c for low, c in BANDS if score >= low)


def map_data(board: dict[str, Any]) -> dict[str, Any]:
    """Return the map's features with their fill colour (the style function reads ``fill``)."""
    features = [{**f, "properties": {**f["properties"], "fill": colour(f["properties"]["score"]),
                                     "label": score_text(f["properties"]["score"])}}
                for f in board["map"]["features"]]
    return {"type": "FeatureCollection", "features": features}


def legend(lang: str) -> html.Div:
    """Return the map legend: the score bands and grey for not ranked."""
    items = []
    highs = [None, *(low for low, _ in BANDS[:-1])]
    for (low, c), high in zip(BANDS, highs, strict=True):
        label = f"≥ {low:g}" if high is None else f"{low:g}–{high:g}"
        items.append(html.Span([html.I(style={"background": c}), label],
                               className="gw-s-legend-item"))
    items.append(html.Span([html.I(style={"background": UNRANKED}), w("legend_unranked", lang)],
                           className="gw-s-legend-item"))
    return html.Div(items, className="gw-s-legend")


def rule_text(board: dict[str, Any], lang: str) -> str:
    """Return the scoring rule as the rules file sets it (shown under the ranking)."""
    r = board["rules"]
    weights = r["weights"]
    return w("rule", lang).format(c=f"{weights['close_rate']:g}",
                                  o=f"{weights['ontime_close_rate']:g}",
                                  k=f"{weights['checkin_rate']:g}", m=r["min_due"],
                                  t=r["checkin_minutes"])


def _row_id(code: str, kind: str = ids.SEC_PICK) -> dict[str, str]:
    """A clickable row's id: the table's rows and the lists' rows are two kinds (a section
    is in both, and ids must be unique)."""
    return {"type": kind, "code": code}


def red_black(board: dict[str, Any], which: str, lang: str) -> html.Div:
    """Return the red (best first) or black (worst first) list."""
    rows = {r["code"]: r for r in board["rows"]}
    codes = board[which][:LIST_SIZE_SHOWN]
    if not codes:
        return html.Div(w("none_listed", lang), className="gw-s-empty")
    items = [html.Li([
        html.Span(str(rows[c]["rank"]), className="gw-s-list-rank"),
        html.Span(rows[c]["name"], className="gw-s-list-name"),
        html.Span(rows[c]["leader"], className="gw-s-list-leader"),
        html.Span(score_text(rows[c]["score"]), className="gw-s-list-score"),
    ], id=_row_id(c, ids.SEC_LIST), n_clicks=0, className="gw-s-list-row",
        title=f"{rows[c]['name']} · {w('leader', lang)} {rows[c]['leader']} · "
              f"{rows[c]['unit']}")
        for c in codes]
    return html.Ol(items, className=f"gw-s-list gw-s-list-{which}")


RANK_COLUMNS = ("rank", "section", "leader", "close_rate", "ontime_rate", "checkin", "overdue",
                "score")


def ranking_table(board: dict[str, Any], lang: str) -> html.Table | html.Div:
    """Return every section, ranked first, the unranked after (by code)."""
    if not board["rows"]:
        return html.Div(w("no_sections", lang), className="gw-s-empty")
    head = html.Thead(html.Tr([html.Th(w(k, lang)) for k in RANK_COLUMNS]))
    body = []
    for r in board["rows"]:
        cells = [r["rank"] if r["rank"] is not None else DASH, r["name"], r["leader"],
                 r["close_text"], r["ontime_text"], f"{r['checkin_days']}/{r['period_days']}",
                 r["overdue"], score_text(r["score"])]
        body.append(html.Tr([html.Td(str(c)) for c in cells], id=_row_id(r["code"]),
                            n_clicks=0, className="gw-s-row" if r["rank"] is not None
                            else "gw-s-row gw-s-row-unranked",
                            title=f"{w('due', lang)} {r['due']} · {w('open', lang)} "
                                  f"{r['open']} · {r['unit']}"))
    return html.Table([head, html.Tbody(body)], className="gw-s-table")


# The board's panels as (component id, property), in the order ``board_panels`` returns them.
BOARD_PANELS = ((ids.SEC_RED, "children"), (ids.SEC_BLACK, "children"),
                (ids.SEC_TABLE, "children"), (ids.SEC_SHAPES, "data"),
                (ids.SEC_RULE, "children"), (ids.SEC_ASOF, "children"))


def board_panels(board: dict[str, Any], lang: str) -> tuple[Any, ...]:
    """Return the board's panels: 红榜, 黑榜, the ranking, the map's shapes, the rule, as-of."""
    return (red_black(board, "red", lang), red_black(board, "black", lang),
            ranking_table(board, lang), map_data(board), rule_text(board, lang),
            as_of_text(board, lang))


def as_of_text(board: dict[str, Any], lang: str) -> str:
    """Return the as-of line: the period and the time the board was computed."""
    label = board["period"]["en" if lang == "en" else "zh"]
    return f"{label} · {w('updated', lang)} {board['as_of']}"


def _tile(label: str, value: str, key: str) -> html.Div:
    return html.Div([html.Div(value, className="gw-s-tile-value"),
                     html.Div(label, className="gw-s-tile-label")],
                    className=f"gw-s-tile gw-s-tile-{key}")


def checkin_strip(detail: dict[str, Any], first: date, lang: str) -> html.Div:
    """Return one square per day of the period so far, filled on the days the 路长 came."""
    came = set(detail["checkin_dates"])
    days = [first + timedelta(days=k) for k in range(detail["period_days"])]
    return html.Div([html.Span(className="gw-s-day gw-s-day-on" if d.isoformat() in came
                               else "gw-s-day", title=d.isoformat()) for d in days],
                    className="gw-s-days", **{"aria-label": w("days_of", lang).format(
                        n=detail["checkin_days"], d=detail["period_days"])})


def section_view(detail: dict[str, Any], first: date, lang: str) -> list[Any]:
    """Return one section's view: who answers for it, its figures, check-ins, overdue cases."""
    d = detail
    rank = f"{w('rank', lang)} {d['rank']}" if d["rank"] is not None else w("unranked", lang)
    overdue = d["overdue_cases"][:OVERDUE_SHOWN]
    cases: Any = html.Div(w("no_overdue", lang), className="gw-s-empty")
    if overdue:
        cases = html.Table([
            html.Thead(html.Tr([html.Th(w(k, lang)) for k in
                                ("case", "minor", "status", "hours_over")])),
            html.Tbody([html.Tr([html.Td(c["id"]), html.Td(c["minor"]), html.Td(c["status"]),
                                 html.Td(f"{c['hours_over']:,.1f}")],
                                title=f"{c['address']} · {c['deadline']}")
                        for c in overdue])], className="gw-s-table gw-s-overdue")
    return [
        html.Div([html.H2(f"{d['name']}", className="gw-s-detail-title"),
                  html.Span(f"{d['code']} · {rank} · {w('score', lang)} "
                            f"{score_text(d['score'])}", className="gw-s-detail-sub")]),
        html.P([html.B(f"{w('leader', lang)} {d['leader']}"),
                f" · {d['leader_unit']} · {w('phone', lang)} {d['leader_phone'] or DASH}",
                html.Br(), f"{w('unit', lang)} {d['unit'] or DASH}"],
               className="gw-s-detail-who"),
        html.Div([
            _tile(w("open", lang), f"{d['open']:,}", "open"),
            _tile(w("overdue", lang), f"{d['overdue']:,}", "overdue"),
            _tile(w("due", lang), f"{d['due']:,}", "due"),
            _tile(w("close_rate", lang), d["close_text"], "close"),
            _tile(w("ontime_rate", lang), d["ontime_text"], "ontime"),
            _tile(w("checkin", lang), w("days_of", lang).format(
                n=d["checkin_days"], d=d["period_days"]), "checkin"),
        ], className="gw-s-tiles"),
        html.H3(w("checkin_days", lang), className="gw-s-sub"),
        checkin_strip(d, first, lang),
        html.H3(f"{w('overdue_list', lang)} ({len(d['overdue_cases'])})", className="gw-s-sub"),
        cases,
    ]
