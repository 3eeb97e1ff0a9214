"""The case page (案件详情, ``/desk/case?id=<id>``): every field of one case, its place on a
small map, its lifecycle against each stage's limit, its rework and repeat links, and its 督办
history with a leader's form to add one.

``page`` draws the frame around the id from the URL; ``callbacks.case`` reads the case with
the caller's scope and fills it through the builders below. Another department's case reads
exactly as a missing one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import dash_leaflet as dl
from dash import dcc, html

from dashboard import ids
from dashboard.desk.columns import case_href
from dashboard.desk.layout import PATH as DESK_PATH
from dashboard.i18n import t, term
from dashboard.nav import create_nav, page_href
from dashboard.routing import PageRequest
from dashboard.screen.panels import format_duration
from queries.coords import Transform
from queries.desk import CaseFile, CaseLink, Stage
from queries.indicators import DASH
from queries.models import SETTLED_LEVELS
from queries.supervision import FlagRow
from settings import Settings

PATH = "/desk/case"
MAP_ZOOM = 16


def page(req: PageRequest) -> html.Div:
    """Return the frame with the case id of the URL; the body comes from ``callbacks.case``."""
    lang = req.lang
    return html.Div(
        [dcc.Store(id=ids.CASE_ID, data={"id": req.query.get("id", "")[:20], "lang": lang}),
         create_nav(req, title=t("case_title", lang)),
         html.Div(id=ids.CASE_BODY)],
        id=ids.CASE, className="gw-case", lang="zh-CN" if lang == "zh" else "en")


def create_not_found(lang: str) -> html.Div:
    """Say there is no such case (also for a case outside the caller's scope)."""
    return html.Div([html.P(t("case_not_found", lang)),
                     html.A(t("case_back", lang), href=page_href(DESK_PATH, lang))],
                    className="gw-c-empty", role="alert")


def _at(moment: datetime | None) -> str:
    return DASH if moment is None else f"{moment:%Y-%m-%d %H:%M}"


def _span(span: timedelta | None, lang: str) -> str:
    return DASH if span is None else format_duration(span, lang)


def _yes(value: bool | None, lang: str) -> str:
    return DASH if value is None else t("yes" if value else "no", lang)


def create_body(case: CaseFile, stages: list[Stage], now: datetime, lang: str, *,
                settings: Settings, shift: Transform, can_flag: bool) -> list[Any]:
    """Return the case page's content."""
    overdue = case.closed_at is None and case.cancelled_at is None and \
        case.deadline_at is not None and now > case.deadline_at
    badges = [html.Span(term(case.status, lang), className="gw-c-badge")]
    if overdue:
        badges.append(html.Span(t("stage_over", lang), className="gw-c-badge gw-c-badge-red"))
    if any(flag.active for flag in case.flags):
        badges.append(html.Span(t("desk_flagged", lang),
                                className="gw-c-badge gw-c-badge-amber"))
    head = html.Div([
        html.H1(case.external_id, className="gw-c-no"),
        html.Span(" · ".join(term(w, lang) for w in (case.kind, case.major, case.minor)),
                  className="gw-c-sub"),
        *badges,
        html.A(t("case_back", lang), href=page_href(DESK_PATH, lang), className="gw-c-back"),
    ], className="gw-c-head")
    left = [panel("case_fields", create_fields(case, lang), lang),
            panel("case_links", create_links(case, lang), lang)]
    right = [panel("case_map", create_map(case, settings, shift), lang),
             panel("case_stages", create_stages(stages, lang), lang),
             panel("case_supervision", html.Div([
                 html.Div(create_flags(case.flags, lang), id=ids.CASE_FLAGS),
                 create_flag_form(lang) if can_flag else None]), lang),
             panel("case_events", create_events(case, lang), lang)]
    return [head, html.Div([html.Div(left, className="gw-c-col"),
                            html.Div(right, className="gw-c-col")], className="gw-c-grid")]


def panel(title_key: str, body: Any, lang: str) -> html.Section:
    """Return one framed panel of the case page."""
    return html.Section([html.H2(t(title_key, lang)), body], className="gw-c-panel")


def _settled(level: str | None, lang: str) -> str:
    """The level a case was settled at (处置层级) in words; a value the codes do not know is
    shown as stored, none as "—"."""
    if not level:
        return DASH
    return t(f"settled_{level}", lang) if level in SETTLED_LEVELS else level


def create_fields(case: CaseFile, lang: str) -> html.Dl:
    """Return every field of the case as term / value pairs."""
    area = " · ".join(term(a, lang) for a in (case.street, case.community, case.grid) if a)
    source = term(case.source, lang)
    if case.source_raw and case.source_raw != case.source:
        source += f" ({case.source_raw})"
    status = term(case.status, lang)
    if case.status_raw and case.status_raw != case.status:
        status += f" ({case.status_raw})"
    limit = f"{case.limit_hours:g} / {case.urgent_limit_hours:g}"
    rows = [
        ("f_description", case.description or DASH), ("f_address", case.address or DASH),
        ("f_area", area), ("f_department", term(case.department, lang) or t("unassigned", lang)),
        ("f_status", status), ("f_source", source), ("f_source_system", case.source_system),
        ("f_category", f"{term(case.major, lang)} · {term(case.minor, lang)} ({case.element})"),
        ("f_limit", limit), ("f_urgency", f"{term(case.urgency, lang)} · {case.severity}"),
        ("f_valid", _yes(case.valid_report, lang)),
        ("f_reported", _at(case.reported_at)), ("f_registered", _at(case.registered_at)),
        ("f_dispatched", _at(case.dispatched_at)), ("f_handled", _at(case.handled_at)),
        ("f_closed", _at(case.closed_at)), ("f_cancelled", _at(case.cancelled_at)),
        ("f_deadline", _at(case.deadline_at)),
        ("f_original_deadline", _at(case.original_deadline_at)),
        ("f_flags", f"{_yes(case.extended, lang)} · {_yes(case.misdispatched, lang)}"),
        ("case_rework", str(case.rework_count)),
        ("f_settled", _settled(case.settled_level, lang)),
        ("f_satisfied", _yes(case.satisfied, lang)),
        ("f_coords", f"{case.lat:.6f}, {case.lon:.6f}"
         + ("" if case.location_precise else f" · {t('case_imprecise', lang)}")),
    ]
    return html.Dl([item for key, value in rows
                    for item in (html.Dt(t(key, lang)), html.Dd(value))], className="gw-c-fields")


def create_stages(stages: list[Stage], lang: str) -> html.Table:
    """Return each stage's start, end, duration, limit and whether it kept it."""
    def verdict(stage: Stage) -> html.Td:
        if stage.start is None:
            return html.Td(t("stage_not_reached", lang), className="gw-c-muted")
        if stage.over is None:
            return html.Td(t("stage_no_limit", lang), className="gw-c-muted")
        word = t("stage_over" if stage.over else "stage_ok", lang)
        if stage.running:
            word += f" · {t('stage_running', lang)}"
        return html.Td(word, className="gw-c-over" if stage.over else "gw-c-ok")

    head = html.Tr([html.Th(t(f"stage_col_{k}", lang))
                    for k in ("stage", "start", "end", "took", "limit", "result")])
    def short(moment: datetime | None) -> str:
        return DASH if moment is None else f"{moment:%m-%d %H:%M}"

    rows = [html.Tr([html.Td(t(f"stage_{s.key}", lang)), html.Td(short(s.start)),
                     html.Td(short(s.end)), html.Td(_span(s.duration, lang)),
                     html.Td(_span(s.limit, lang) if s.limit is not None else DASH),
                     verdict(s)])
            for s in stages]
    return html.Table([html.Thead(head), html.Tbody(rows)], className="gw-c-table gw-c-stages")


def create_events(case: CaseFile, lang: str) -> Any:
    """Return the case log (case_events), oldest first."""
    if not case.events:
        return html.P(t("case_no_events", lang), className="gw-c-muted")
    return html.Table(html.Tbody([
        html.Tr([html.Td(_at(e.at)), html.Td(term(e.action, lang)), html.Td(e.actor),
                 html.Td(e.note)]) for e in case.events]), className="gw-c-table")


def create_links(case: CaseFile, lang: str) -> html.Div:
    """Return the rework count, the repeat links (cases outside the scope are left out) and
    the photos' URLs when the source has them."""
    def link(other: CaseLink) -> html.A:
        return html.A(f"{other.external_id} ({term(other.status, lang)}, "
                      f"{other.reported_at:%Y-%m-%d})", href=case_href(other.id, lang))

    rows: list[Any] = [html.P(f"{t('case_rework', lang)}: {case.rework_count}")]
    if case.photos:  # only http(s) addresses, opened outside the app
        rows.append(html.P([f"{t('case_photos', lang)}: ", *[
            html.A(url, href=url, target="_blank", rel="noopener noreferrer")
            for url in case.photos]], className="gw-c-photos"))
    if case.repeat_of is not None:
        rows.append(html.P([f"{t('case_repeat_of', lang)}: ", link(case.repeat_of)]))
    if case.repeated_by:
        rows.append(html.P([f"{t('case_repeated_by', lang)}: ",
                            *[link(other) for other in case.repeated_by]]))
    return html.Div(rows, className="gw-c-links")


def create_map(case: CaseFile, settings: Settings, shift: Transform) -> dl.Map:
    """Return a small map of the case's point among its community's grids (tiles only when a
    tile URL is set; the outlines come from the app's own /api/areas.geojson)."""
    lon, lat = shift(case.lon, case.lat)
    layers: list[Any] = []
    if settings.tile_url:
        layers.append(dl.TileLayer(url=settings.tile_url, attribution=settings.tile_attribution))
    parent = case.community_code or case.street_code
    layers.append(dl.GeoJSON(url=f"/api/areas.geojson?parent={parent}",
                             style={"color": "#4fc3ff", "weight": 1, "fillOpacity": 0.06}))
    layers.append(dl.CircleMarker(center=[lat, lon], radius=9, color="#ffffff", weight=2,
                                  fillColor="#ff4d4f", fillOpacity=0.9))
    return dl.Map(layers, center=[lat, lon], zoom=MAP_ZOOM, className="gw-c-map",
                  attributionControl=bool(settings.tile_url))


def create_flags(flags: tuple[FlagRow, ...] | list[FlagRow], lang: str) -> Any:
    """Return the case's 督办 history, newest first."""
    if not flags:
        return html.P(t("case_no_flags", lang), className="gw-c-muted")
    rows = []
    for flag in flags:
        who = t("case_flag_by", lang).format(by=flag.flagged_by, at=_at(flag.at))
        state = (t("case_flag_cleared", lang).format(by=flag.cleared_by, at=_at(flag.cleared_at))
                 if flag.cleared_at else t("desk_flagged", lang))
        rows.append(html.Tr([html.Td(who), html.Td(flag.note or DASH),
                             html.Td(state, className="" if flag.cleared_at
                                     else "gw-c-flag-active")]))
    return html.Table(html.Tbody(rows), className="gw-c-table")


def create_flag_form(lang: str) -> html.Div:
    """Return a leader's form to flag this case with a note."""
    return html.Div([
        html.Div([dcc.Input(id=ids.CASE_FLAG_NOTE, type="text", maxLength=500,
                            placeholder=t("case_flag_note", lang), className="gw-d-input"),
                  html.Button(t("case_flag_button", lang), id=ids.CASE_FLAG_BUTTON,
                              className="gw-c-button", n_clicks=0)],
                 className="gw-c-flag-form"),
        html.Div(id=ids.CASE_FLAG_MESSAGE, className="gw-c-message", role="status"),
    ])
