"""The monthly assessment page (城市管理综合考核, ``/rankings``): ranking, breakdown, lists.

``layout`` builds the chrome and the controls from the URL (``?month=YYYY-MM&lang=``); the
panels start empty and ``callbacks.rankings`` fills them from the URL, so a link shows a month.
The ``create_*`` factories below turn one ``MonthAssessment`` into the panels' contents.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import dash_ag_grid as dag
from dash import dcc, html

from dashboard import ids
from dashboard.i18n import t, term
from dashboard.names import grid_name_parts
from dashboard.nav import create_nav
from dashboard.placeholders import empty_figure
from dashboard.rankings.view import (
    PATH,
    SummaryItem,
    column_defs,
    default_month,
    flags,
    month_token,
    resolve_month,
    running_words,
    score_text,
    signed,
    signed_count,
    status_words,
    table_rows,
)
from dashboard.routing import PageRequest
from dashboard.tiles import change_class as delta_class
from queries.assessment import GridResult, MonthAssessment, StreetResult
from queries.indicators import DASH
from queries.rules import CAUSES

GRAPH_CONFIG = {"displayModeBar": False, "responsive": True}
# A built-in theme by name, coloured through its CSS variables (assets/rankings.css): a theme
# given as a JavaScript expression was intermittently passed to AG Grid unevaluated (error #240).
GRID_THEME = "themeQuartz"
POLL_MS = 60_000  # a provisional month changes slowly; a published one never


def search_for(month: str, lang: str) -> str:
    """Return the page's query string for a month (and a language other than the default)."""
    params = {"month": month, **({"lang": lang} if lang else {})}
    return "?" + urlencode(params)


def create_language_link(month: str, lang: str) -> html.A:
    """Return the link to the same month in the other language."""
    other = "en" if lang != "en" else "zh"
    return html.A(t("rank_lang_switch", lang), href=f"{PATH}{search_for(month, other)}",
                  id=ids.RANK_LANG, className="gw-nav-link gw-nav-lang")


def create_panel(title: Any, body: Any, *, class_name: str = "", tools: Any = None) -> html.Section:
    """Return a framed panel with a heading and optional tools beside it."""
    head = html.Div([html.H2(title, className="gw-r-panel-title"),
                     html.Div(tools, className="gw-r-panel-tools") if tools else None],
                    className="gw-r-panel-head")
    return html.Section([head, body], className=f"gw-r-panel {class_name}".strip())


def create_running_link(running: str, min_days: int, lang: str, explicit_lang: str) -> html.A:
    """Return the one-click way to the running month while the page shows the last one."""
    return html.A(t("rank_running_link", lang), href=f"{PATH}{search_for(running, explicit_lang)}",
                  className="gw-r-running-link", id=ids.RANK_RUNNING,
                  title=t("rank_running_early", lang).format(n=min_days))


def create_toolbar(month: str, lang: str, running: html.A | None = None) -> html.Div:
    """Return the month switcher, the status badge, the publish control and the exports."""
    return html.Div(
        [
            html.Label([html.Span(t("rank_month", lang), className="gw-r-label"),
                        dcc.Dropdown(options=[], value=month, id=ids.RANK_MONTH, clearable=False,
                                     searchable=False, className="gw-r-month")],
                       className="gw-r-month-box"),
            running,
            html.Div(id=ids.RANK_STATUS, className="gw-r-status"),
            html.Div(
                [
                    html.Button(t("rank_publish", lang), id=ids.RANK_PUBLISH, n_clicks=0,
                                className="gw-r-button gw-r-button-main"),
                    html.Button(t("rank_pptx", lang), id=ids.RANK_PPTX, n_clicks=0,
                                className="gw-r-button"),
                    html.Button(t("rank_xlsx", lang), id=ids.RANK_XLSX, n_clicks=0,
                                className="gw-r-button"),
                ],
                className="gw-r-actions",
            ),
        ],
        className="gw-r-toolbar",
    )


def create_graph(graph_id: str, lang: str) -> dcc.Graph:
    """Return a chart slot, dark with "无数据" until its figure arrives."""
    return dcc.Graph(id=graph_id, figure=empty_figure(lang), config=GRAPH_CONFIG,
                     responsive=True, className="gw-r-graph")


def page(req: PageRequest) -> html.Div:
    """Return the page for the URL's month (this month by default); panels fill from the URL."""
    lang, params, now = req.lang, req.query, req.now
    shown, min_days = default_month(now, req.settings.rules_file)
    month = resolve_month(params.get("month"), shown)
    explicit_lang = params.get("lang", "") if params.get("lang") in ("zh", "en") else ""
    running = month_token(now)
    # Early in a month the last finished one is shown; the running month stays one click away.
    link = (create_running_link(running, min_days, lang, explicit_lang)
            if shown != running and month != running else None)
    charts = [
        create_panel(t("rank_chart_change", lang),
                     create_graph(ids.RANK_CHART_CHANGE, lang), class_name="gw-r-change"),
        create_panel(t("rank_chart_causes", lang),
                     create_graph(ids.RANK_CHART_CAUSES, lang), class_name="gw-r-causes"),
        create_panel(t("rank_chart_repeats", lang),
                     create_graph(ids.RANK_CHART_REPEATS, lang), class_name="gw-r-repeats"),
    ]
    return html.Div(
        [
            # A bad month stays in the URL as typed, so the page can say why it shows another.
            dcc.Location(id=ids.RANK_URL, refresh=False, pathname=PATH,
                         search=search_for(params.get("month") or month, explicit_lang)),
            dcc.Download(id=ids.RANK_DOWNLOAD),
            dcc.Store(id=ids.RANK_STREET),
            dcc.Store(id=ids.RANK_VERSION, data=0),
            dcc.Interval(id=ids.RANK_TICK, interval=POLL_MS),
            dcc.ConfirmDialog(id=ids.RANK_CONFIRM),
            create_nav(req, title=t("rank_title", lang),
                       tools=[create_language_link(month, explicit_lang or lang)]),
            create_toolbar(month, lang, link),
            html.Div(id=ids.RANK_MESSAGE, className="gw-r-message", role="status"),
            html.Div(id=ids.RANK_SUMMARY, className="gw-r-summary"),
            html.Main(
                [
                    html.Div(id=ids.RANK_TABLES, className="gw-r-tables"),
                    create_panel(t("rank_breakdown", lang),
                                 html.Div(id=ids.RANK_BREAKDOWN, className="gw-r-breakdown-body"),
                                 class_name="gw-r-breakdown",
                                 tools=html.Span(t("rank_breakdown_hint", lang),
                                                 className="gw-r-hint")),
                    create_panel(f"{t('rank_red', lang)} · {t('rank_black', lang)}",
                                 html.Div(id=ids.RANK_LISTS, className="gw-r-lists-body"),
                                 class_name="gw-r-lists"),
                    *charts,
                    html.Div(id=ids.RANK_SHEET, className="gw-sheet", role="status",
                             hidden=True),
                ],
                className="gw-r-body",
            ),
        ],
        id=ids.RANK,
        className="gw-rankings",
        lang="zh-CN" if lang == "zh" else "en",
    )


# --- the panels' contents, built by callbacks.rankings from a MonthAssessment -------------------


def create_status(assessment: MonthAssessment, lang: str) -> list[Any]:
    """Return the badge 已发布 / 临时结果, when and by whom, and the rules that made it."""
    badge, detail = status_words(assessment, lang)
    state = "published" if assessment.published else "provisional"
    running = running_words(assessment, lang)
    return [
        html.Span(badge, className=f"gw-r-badge gw-r-badge-{state}", **{"data-state": state}),
        html.Span(detail, className="gw-r-status-detail"),
        html.Span(running, className="gw-r-running-note") if running else None,
        html.Span(f"{t('rank_rules', lang)}: {assessment.rules_title or DASH} "
                  f"({assessment.rules_sha256[:8]})", className="gw-r-rules",
                  title=assessment.rules_sha256),
    ]


def create_message(text: str, *, error: bool = False) -> html.Span:
    """Return a one-line notice (publishing done or refused, an export failed)."""
    return html.Span(text, className="gw-r-note gw-r-note-error" if error else "gw-r-note")


def create_summary(items: list[SummaryItem], lang: str,
                   vs: str | None = None) -> list[html.Div]:
    """Return the headline figures: value, and the change from last month coloured by sense.

    ``vs`` says what the change is against (``compared_words``: 较上月 or 较上月同期).
    """
    out = []
    for item in items:
        foot = ([html.Span(vs or t("rank_vs_last", lang), className="gw-r-tile-vs"),
                 html.Span(item.change, className=delta_class(item.delta, item.better))]
                if item.change else [])
        out.append(html.Div([html.Div(item.label, className="gw-r-tile-label"),
                             html.Div(item.value, className="gw-r-tile-value"),
                             html.Div(foot, className="gw-r-tile-foot")],
                            className="gw-r-tile", **{"data-key": item.key}))
    return out


def create_group_tables(assessment: MonthAssessment, lang: str,
                        selected: str | None) -> list[html.Section]:
    """Return one ranking table per group, the bottom of the group highlighted red."""
    columns = column_defs(assessment, lang)
    out = []
    for group in assessment.groups:
        rows = table_rows(assessment, group.name, lang)
        chosen = [row["code"] for row in rows if row["code"] == selected]
        head = t("rank_group_head", lang).format(mean=score_text(group.mean_score),
                                                 spread=score_text(group.spread))
        grid = dag.AgGrid(
            id=ids.rank_table(group.name), columnDefs=columns, rowData=rows,
            defaultColDef={"sortable": True, "resizable": True},
            getRowId="params.data.code", selectedRows={"ids": chosen},
            dashGridOptions={
                "theme": GRID_THEME, "domLayout": "autoHeight", "suppressCellFocus": True,
                "rowHeight": 32, "headerHeight": 32, "tooltipShowDelay": 200,
                "animateRows": False,
                "rowSelection": {"mode": "singleRow", "checkboxes": False,
                                 "enableClickSelection": True},
                "rowClassRules": {"gw-r-row-bottom": "params.data.bottom",
                                  "gw-r-row-unranked": "params.data.unranked"},
            },
            className="gw-r-aggrid", style={"width": "100%"},
        )
        out.append(create_panel([group.name, html.Small(head, className="gw-r-title-note")],
                                grid, class_name="gw-r-group"))
    return out


def create_breakdown(street: StreetResult | None, assessment: MonthAssessment,
                     figure: Any, lang: str) -> list[Any]:
    """Return why a street lost points: its causes against the group mean, and the counts."""
    if street is None:
        return [html.Div(t("no_data", lang), className="gw-r-empty")]
    place = (f"{street.group} {t('rank_col_group_rank', lang)} {street.group_rank} · "
             f"{t('rank_col_rank', lang)} {street.rank}" if street.ranked else street.group)
    badges = [html.Span(word, className="gw-r-flag") for word in
              flags(street, assessment.bottom_n, lang)]
    occurrences = " · ".join(f"{t('rank_occurrence', lang).format(n=n)} {count}"
                             for n, count in street.repeats_by_occurrence.items())
    k = f"{assessment.cost_threshold:g}"
    facts: list[tuple[str, str]] = [
        (t("rank_problems", lang), f"{street.problems:,} · {signed_count(street.problems_change)}"),
        (t("rank_costly", lang).format(k=k), f"{street.problems_costing_at_least_k:,}"),
        (t("rank_repeats", lang), f"{street.repeat_problems:,}"
                                  + (f"  ({occurrences})" if occurrences else "")),
        (t("rank_overdue_problems", lang), f"{street.overdue_problems:,}"),
        (t("rank_rework_times", lang), f"{street.rework_times:,}"),
        *((t(f"rank_cause_{c}", lang), f"{street.deductions[c]:.2f}"
           + (f" ({t('rank_capped', lang)})" if c in street.capped else "")) for c in CAUSES),
        (t("rank_total_deduction", lang), f"{street.total_deduction:.2f}"),
        (t("rank_bonus", lang), f"+{street.bonus:.2f}  ({street.volunteer_hours:,.1f} h)"),
    ]
    return [
        html.Div([html.Span(street.name, className="gw-r-street-name"),
                  html.Span(place, className="gw-r-street-place"),
                  html.Span(f"{street.score:.2f}", className="gw-r-street-score"),
                  html.Span(signed(street.score_change.delta),
                            className=delta_class(street.score_change.delta, "higher")),
                  *badges], className="gw-r-street-head", **{"data-code": street.code}),
        html.Div([dcc.Graph(figure=figure, config=GRAPH_CONFIG, responsive=True,
                            className="gw-r-graph"),
                  html.Dl([item for label, value in facts
                           for item in (html.Dt(label), html.Dd(value))],
                          className="gw-r-facts")], className="gw-r-breakdown-grid"),
    ]


def _list_name(name: str, *, grid: bool) -> html.Span:
    """Return a list entry's name; a grid's number is never cut, only its shared prefix."""
    if not grid:
        return html.Span(name, className="gw-r-list-name")
    prefix, own = grid_name_parts(name)
    return html.Span([html.Span(prefix, className="gw-r-list-prefix"),
                      html.Span(own, className="gw-r-list-own")],
                     className="gw-r-list-name gw-r-list-name-grid")


def _list(title: str, rows: list[tuple[str, str, str]], tone: str, *,
          grid: bool = False) -> html.Div:
    return html.Div([html.H3(title, className=f"gw-r-list-title gw-r-{tone}"),
                     html.Ol([html.Li(html.Div([_list_name(name, grid=grid),
                                                html.Span(value, className="gw-r-list-value")],
                                               className="gw-r-list-row"),
                                      title=f"{where} {name} {value}".strip())
                              for name, where, value in rows] or [html.Li(DASH)],
                             className="gw-r-list")], className="gw-r-list-box")


def _grid_rows(grids: tuple[GridResult, ...], assessment: MonthAssessment,
               lang: str) -> list[tuple[str, str, str]]:
    street_names = {s.code: term(s.name, lang) for s in assessment.streets}
    return [(term(g.name, lang), street_names.get(g.street_code, ""),
             t("rank_grid_value", lang).format(points=f"{g.deduction:.2f}", n=g.problems))
            for g in grids]


def create_lists(assessment: MonthAssessment, lang: str) -> list[Any]:
    """Return the red list (best) and black list (worst) of streets and unit grids."""
    def streets(codes: tuple[str, ...]) -> list[tuple[str, str, str]]:
        return [(term(s.name, lang), term(s.group, lang), f"{s.score:.2f}")
                for c in codes if (s := assessment.street(c))]

    return [
        html.Div([
            _list(f"{t('rank_red', lang)} · {t('rank_list_streets', lang)}",
                  streets(assessment.red_streets), "red"),
            _list(f"{t('rank_black', lang)} · {t('rank_list_streets', lang)}",
                  streets(assessment.black_streets), "black"),
            _list(f"{t('rank_red', lang)} · {t('rank_list_grids', lang)}",
                  _grid_rows(assessment.red_grids, assessment, lang), "red", grid=True),
            _list(f"{t('rank_black', lang)} · {t('rank_list_grids', lang)}",
                  _grid_rows(assessment.black_grids, assessment, lang), "black", grid=True),
        ], className="gw-r-lists-grid"),
    ]
