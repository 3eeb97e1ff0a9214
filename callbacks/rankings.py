"""Glue for the rankings page: URL → month → cached assessment → panels; publish; exports.

``RankingsPage`` holds what the callbacks share — the session factory, the settings, the clock
and a per-app cache of assessments (one computation per month and rules per refresh interval:
a provisional month takes a second or two) — and its methods are the callbacks, so tests call
them directly. ``register`` wires them into the app.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from dash import ALL, Dash, Input, Output, State, callback_context, dcc, no_update
from dash.exceptions import MissingCallbackContextException
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from dashboard import ids
from dashboard.deck import deck_from, default_deck_name
from dashboard.deck.images import ChartRenderError, Charts
from dashboard.i18n import pick_language, t
from dashboard.placeholders import create_sheet
from dashboard.rankings import layout as page
from dashboard.rankings.figures import (
    deductions_figure,
    repeats_figure,
    score_change_figure,
    street_deductions_figure,
)
from dashboard.rankings.view import (
    PATH,
    compared_words,
    default_month,
    default_street,
    group_mean_deductions,
    month_notice,
    month_options,
    month_token,
    ranking_xlsx,
    refusal_text,
    resolve_month,
    summary_items,
)
from dashboard.shell import RETRY_MS
from queries.accounts import audit
from queries.assessment import (
    AssessmentError,
    MonthAssessment,
    check_publishable,
    list_months,
    load_month,
    publish,
)
from queries.deck import gather
from queries.kept_months import KeptMonths
from queries.rules import Rules, RulesError, load_rules
from security.identity import ROLE_LEADER, current_identity
from settings import Settings
from snapshot.cache import SharedCache
from snapshot.jobs import failure_kind

log = logging.getLogger(__name__)

Prop = tuple[str, str]
OUTPUTS: tuple[Prop, ...] = (
    (ids.RANK_MONTH, "options"),
    (ids.RANK_MONTH, "value"),
    (ids.RANK_STATUS, "children"),
    (ids.RANK_SUMMARY, "children"),
    (ids.RANK_TABLES, "children"),
    (ids.RANK_BREAKDOWN, "children"),
    (ids.RANK_LISTS, "children"),
    (ids.RANK_CHART_CHANGE, "figure"),
    (ids.RANK_CHART_CAUSES, "figure"),
    (ids.RANK_CHART_REPEATS, "figure"),
    (ids.RANK_STREET, "data"),
    (ids.RANK_LANG, "href"),
    (ids.RANK_MESSAGE, "children"),
    (ids.RANK_SHEET, "children"),
    (ids.RANK_SHEET, "hidden"),
    (ids.RANK_TICK, "interval"),
)


def query_params(search: str | None) -> dict[str, str]:
    """Return a URL query string as a dict (the last value wins)."""
    return {k: v[-1] for k, v in parse_qs((search or "").lstrip("?")).items()}


class RankingsPage:
    """The rankings page's callbacks and the assessments they share."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings, *,
                 clock: Callable[[], datetime] = datetime.now,
                 writes: sessionmaker[Session] | None = None) -> None:
        self.sessions, self.settings, self.clock = sessions, settings, clock
        self.writes = writes or sessions  # publishing and its audit entry
        # Finished months, computed once for the wall, the deck and this page alike.
        self.kept = KeptMonths(self.writes)
        self.cache: SharedCache[MonthAssessment] = SharedCache(settings.refresh_seconds)
        self.generation = 0  # bumped by every publish, so no cached figure outlives it

    # -- shared reads

    def now(self) -> datetime:
        """Return the app's time, to the second."""
        return self.clock().replace(microsecond=0)

    def view(self, search: str | None) -> tuple[str, str, str]:
        """Return the month, the language shown and the language the URL asks for."""
        params = query_params(search)
        asked = params.get("lang", "") if params.get("lang") in ("zh", "en") else ""
        shown, _ = default_month(self.now(), self.settings.rules_file)
        month = resolve_month(params.get("month"), shown)
        return month, pick_language(asked or None, self.settings.language), asked

    def rules(self) -> Rules:
        """Read the rules file (every time: an edited file takes effect at once)."""
        return load_rules(self.settings.rules_file or None)

    def assessment(self, month: str, rules: Rules) -> MonthAssessment:
        """Return a month (frozen if published), computed at most once per refresh interval."""
        def compute() -> MonthAssessment:
            with self.sessions() as session:
                return load_month(session, month, rules, now=self.now(), kept=self.kept)

        return self.cache.get((month, rules.sha256, self.generation), compute)

    # -- callbacks

    def render(self, search: str | None, _version: int | None, _tick: int | None,
               selected: str | None, sheet_hidden: bool | None = True) -> list[Any]:
        """Fill every panel for the URL's month (a poll skips published months).

        While the database is unreachable a sheet covers the panels and the poll runs every
        few seconds; the first answer after it fills the page and slows the poll again.
        """
        month, lang, _ = self.view(search)
        polled = _trigger() == ids.RANK_TICK
        try:
            rules = self.rules()
            with self.sessions() as session:
                months = list_months(session)
            assessment = self.assessment(month, rules)
        except (RulesError, AssessmentError) as exc:
            return self._notice(str(exc))
        except SQLAlchemyError as exc:
            log.warning("rankings %s: database error: %s", search, failure_kind(exc))
            return self._outage(lang)
        if polled and assessment.published and sheet_hidden is not False:
            return [no_update] * len(OUTPUTS)
        street = selected if assessment.street(selected or "") else default_street(assessment)
        outputs = self.outputs(assessment, lang, street)
        outputs[(ids.RANK_MONTH, "options")] = month_options(months, month_token(self.now()), lang)
        outputs[(ids.RANK_LANG, "href")] = (
            f"{PATH}{page.search_for(month, 'en' if lang != 'en' else 'zh')}")
        notice = month_notice(query_params(search).get("month"), month, lang)
        if notice:
            outputs[(ids.RANK_MESSAGE, "children")] = page.create_message(notice, error=True)
        return [outputs.get(prop, no_update) for prop in OUTPUTS]

    def outputs(self, a: MonthAssessment, lang: str, street: str | None) -> dict[Prop, Any]:
        """Return the panels of one assessment, by (component id, property)."""
        chosen = a.street(street or "")
        return {
            (ids.RANK_MONTH, "value"): a.month,
            (ids.RANK_STATUS, "children"): page.create_status(a, lang),
            (ids.RANK_SUMMARY, "children"): page.create_summary(summary_items(a, lang), lang,
                                                                compared_words(a, lang)),
            (ids.RANK_TABLES, "children"): page.create_group_tables(a, lang, street),
            (ids.RANK_BREAKDOWN, "children"): self.breakdown(a, street, lang),
            (ids.RANK_LISTS, "children"): page.create_lists(a, lang),
            (ids.RANK_CHART_CHANGE, "figure"): score_change_figure(a.streets, lang=lang),
            (ids.RANK_CHART_CAUSES, "figure"): deductions_figure(a.streets, lang=lang),
            (ids.RANK_CHART_REPEATS, "figure"): repeats_figure(
                a.district.repeats_by_occurrence, a.district.previous_repeats_by_occurrence,
                lang=lang),
            (ids.RANK_STREET, "data"): None if chosen is None else chosen.code,
            (ids.RANK_MESSAGE, "children"): None,
            (ids.RANK_SHEET, "children"): None,
            (ids.RANK_SHEET, "hidden"): True,
            (ids.RANK_TICK, "interval"): page.POLL_MS,
        }

    def breakdown(self, a: MonthAssessment, code: str | None, lang: str) -> list[Any]:
        """Return one street's breakdown panel."""
        street = a.street(code or "")
        figure = (None if street is None else
                  street_deductions_figure(street, group_mean_deductions(a, street.group),
                                           lang=lang))
        return page.create_breakdown(street, a, figure, lang)

    def select(self, cells: list[dict[str, Any] | None],
               search: str | None) -> tuple[Any, Any, Any]:
        """Show the breakdown of the street clicked in any group's table, and mark its row."""
        # A pattern-matching trigger carries no value: find the clicked table's among the inputs.
        trigger = callback_context.triggered_id
        cell = next((i.get("value") for i in callback_context.inputs_list[0]
                     if trigger is not None and i["id"] == trigger), None)
        code = (cell or {}).get("rowId")
        if not code:
            return no_update, no_update, [no_update] * len(cells)
        month, lang, _ = self.view(search)
        try:
            a = self.assessment(month, self.rules())
        except (RulesError, AssessmentError, SQLAlchemyError):
            return no_update, no_update, [no_update] * len(cells)
        # One row marked on the page: the clicked table selects it, the others clear theirs.
        marks = [{"ids": [code]} if i["id"] == trigger else {"ids": []}
                 for i in callback_context.inputs_list[0]]
        return code, self.breakdown(a, code, lang), marks

    def ask(self, _clicks: int, search: str | None) -> tuple[bool, str, Any]:
        """Confirm before publishing; refuse at once a month not over or already published."""
        month, lang, _ = self.view(search)
        refusal = self.refusal(month, lang)
        if current_identity().role != ROLE_LEADER:
            refusal = t("rank_leader_only", lang)
        if refusal:
            return False, no_update, page.create_message(refusal, error=True)
        return True, t("rank_confirm", lang).format(month=month), None

    def refusal(self, month: str, lang: str) -> str | None:
        """Return why a month cannot be published now, in the page's words, or None."""
        try:
            with self.sessions() as session:
                check_publishable(session, month, now=self.now())
        except AssessmentError as exc:
            return refusal_text(exc, month, lang)
        except SQLAlchemyError:
            return t("rank_unavailable", lang)
        return None

    def publish(self, _submitted: int, search: str | None,
                version: int | None) -> tuple[Any, Any]:
        """Freeze the month (the ``publish`` command) as the logged-in leader, who is its 发布人;
        the page then shows 已发布. Anyone else (a kiosk, the open demo wall) is refused."""
        month, lang, _ = self.view(search)
        caller = current_identity()
        if caller.role != ROLE_LEADER:
            log.warning("publishing %s refused to %r (%s)", month, caller.username, caller.role)
            return page.create_message(t("rank_leader_only", lang), error=True), no_update
        by = caller.display_name or caller.username
        try:
            publish(self.writes, month, self.rules(), now=self.now(), by=by,
                    indicator_rules=self.settings.indicator_settings())
        except (RulesError, AssessmentError) as exc:
            return page.create_message(refusal_text(exc, month, lang), error=True), no_update
        except SQLAlchemyError as exc:
            log.warning("publishing %s failed: %s", month, failure_kind(exc))
            return page.create_message(t("rank_unavailable", lang), error=True), no_update
        self.generation += 1  # no cached figure of this month outlives its publication
        log.info("published %s by %r", month, by)
        with self.writes() as session:
            audit(session, caller.username, "publish", month, f"by={by}", now=self.now())
            session.commit()
        return page.create_message(t("rank_done", lang).format(month=month)), (version or 0) + 1

    def download(self, _pptx: int, _xlsx: int, search: str | None) -> tuple[Any, Any]:
        """Send the month's meeting deck (PPTX) or its ranking table (XLSX)."""
        month, lang, _ = self.view(search)
        try:
            rules = self.rules()
            if _trigger() == ids.RANK_XLSX:
                data = ranking_xlsx(self.assessment(month, rules))
                return dcc.send_bytes(data, f"gridwatch-{month}.xlsx"), None
            with Charts() as charts:  # the browser opens while the month is read
                with self.sessions() as session:
                    inputs = gather(session, month, rules, now=self.now(),
                                    indicator_rules=self.settings.indicator_settings(),
                                    kept=self.kept)
                deck = deck_from(inputs, charts)
            return dcc.send_bytes(deck, default_deck_name(month)), None
        except (RulesError, AssessmentError, ChartRenderError) as exc:
            return no_update, page.create_message(f"{t('rank_failed', lang)}: {exc}", error=True)
        except SQLAlchemyError as exc:
            log.warning("rankings export %s: database error: %s", month, exc)
            return no_update, page.create_message(t("rank_unavailable", lang), error=True)

    def navigate(self, month: str | None, search: str | None) -> Any:
        """Write the chosen month into the URL (the page renders from the URL)."""
        current, _, asked = self.view(search)
        if not month or month == current:
            return no_update
        return page.search_for(month, asked)

    @staticmethod
    def _outage(lang: str) -> list[Any]:
        message = t("data_unavailable", lang)
        shown = {(ids.RANK_MESSAGE, "children"): page.create_message(message, error=True),
                 (ids.RANK_SHEET, "children"): create_sheet(message, retrying=True),
                 (ids.RANK_SHEET, "hidden"): False,
                 (ids.RANK_TICK, "interval"): RETRY_MS}
        return [shown.get(prop, no_update) for prop in OUTPUTS]

    @staticmethod
    def _notice(message: str) -> list[Any]:
        return [page.create_message(message, error=True) if prop == (ids.RANK_MESSAGE, "children")
                else no_update for prop in OUTPUTS]


def _trigger() -> Any:
    """Return the id of the input that fired, or None when called outside a callback (tests)."""
    try:
        return callback_context.triggered_id
    except MissingCallbackContextException:
        return None


def register(app: Dash, sessions: sessionmaker[Session], settings: Settings, *,
             clock: Callable[[], datetime] = datetime.now,
             writes: sessionmaker[Session] | None = None) -> RankingsPage:
    """Wire the rankings page's callbacks into ``app``."""
    rankings = RankingsPage(sessions, settings, clock=clock, writes=writes)
    app.callback([Output(i, p) for i, p in OUTPUTS],
                 Input(ids.RANK_URL, "search"), Input(ids.RANK_VERSION, "data"),
                 Input(ids.RANK_TICK, "n_intervals"),
                 State(ids.RANK_STREET, "data"), State(ids.RANK_SHEET, "hidden"))(rankings.render)
    app.callback(Output(ids.RANK_URL, "search"), Input(ids.RANK_MONTH, "value"),
                 State(ids.RANK_URL, "search"), prevent_initial_call=True)(rankings.navigate)
    app.callback(Output(ids.RANK_STREET, "data", allow_duplicate=True),
                 Output(ids.RANK_BREAKDOWN, "children", allow_duplicate=True),
                 Output({"type": ids.RANK_TABLE, "index": ALL}, "selectedRows"),
                 Input({"type": ids.RANK_TABLE, "index": ALL}, "cellClicked"),
                 State(ids.RANK_URL, "search"), prevent_initial_call=True)(rankings.select)
    app.callback(Output(ids.RANK_CONFIRM, "displayed"), Output(ids.RANK_CONFIRM, "message"),
                 Output(ids.RANK_MESSAGE, "children", allow_duplicate=True),
                 Input(ids.RANK_PUBLISH, "n_clicks"), State(ids.RANK_URL, "search"),
                 prevent_initial_call=True)(rankings.ask)
    app.callback(Output(ids.RANK_MESSAGE, "children", allow_duplicate=True),
                 Output(ids.RANK_VERSION, "data"),
                 Input(ids.RANK_CONFIRM, "submit_n_clicks"), State(ids.RANK_URL, "search"),
                 State(ids.RANK_VERSION, "data"),
                 prevent_initial_call=True)(rankings.publish)
    app.callback(Output(ids.RANK_DOWNLOAD, "data"),
                 Output(ids.RANK_MESSAGE, "children", allow_duplicate=True),
                 Input(ids.RANK_PPTX, "n_clicks"), Input(ids.RANK_XLSX, "n_clicks"),
                 State(ids.RANK_URL, "search"), prevent_initial_call=True,
                 running=[(Output(ids.RANK_PPTX, "disabled"), True, False),
                          (Output(ids.RANK_XLSX, "disabled"), True, False)])(rankings.download)
    return rankings
