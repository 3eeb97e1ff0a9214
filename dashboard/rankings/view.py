"""Pure builders of the rankings page and its exports: they format a ``MonthAssessment``.

Nothing here queries: the page's callbacks, the deck and the tests hand in an assessment and
get rows, words and workbook bytes back, so the table on the page, the XLSX and the deck's
tables are the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dashboard.exports import xlsx_bytes
from dashboard.i18n import t, term
from dashboard.scores import ASSESSMENT, score_formula
from queries.assessment import (
    FIRST_YEAR,
    FLAG_MIN_SAMPLE,
    LAST_YEAR,
    Change,
    MonthAssessment,
    MonthError,
    PublishError,
    StreetResult,
    check_month,
    month_bounds,
    shown_month,
)
from queries.indicators import DASH
from queries.rules import CAUSES, Rules, RulesError, load_rules

PATH = "/rankings"
_ZH_NUMBERS = "零一两三四五六七八九十"


@dataclass(frozen=True)
class SummaryItem:
    """One figure of the month's summary strip: what, how much, and its change."""

    key: str
    label: str
    value: str
    change: str
    better: str | None  # "higher", "lower" or None: which direction of change is good
    delta: float | None


def month_token(moment: datetime) -> str:
    """Return the YYYY-MM month that contains ``moment``."""
    return f"{moment:%Y-%m}"


def default_month(now: datetime, rules_file: str | None) -> tuple[str, int]:
    """Return the month a URL without one shows, and the rules' ``ranking.min_days``.

    The running month once it has run min_days whole days, else the last finished month. A
    rules file that cannot be read falls back to the running month; the page then shows the
    rules' error itself.
    """
    try:
        rules: Rules = load_rules(rules_file or None)
    except RulesError:
        return month_token(now), 0
    return shown_month(now, rules), rules.ranking_min_days


def compared_words(assessment: MonthAssessment, lang: str) -> str:
    """Return what a change is against: 较上月 (a finished month) or 较上月同期 (a running one)."""
    return t("rank_vs_same_span" if assessment.previous_span_end else "rank_vs_last", lang)


def running_words(assessment: MonthAssessment, lang: str) -> str | None:
    """Return the note of a running month: how far it runs, the span it is compared with."""
    if not assessment.running:
        return None
    until = assessment.previous_span_end
    return t("rank_running_note", lang).format(
        at=f"{assessment.computed_at:%Y-%m-%d %H:%M}",
        until=DASH if until is None else f"{until:%Y-%m-%d %H:%M}")


def resolve_month(value: str | None, current: str) -> str:
    """Return the month a URL asks for, or ``current`` when it is missing or malformed."""
    try:
        check_month(value or "")
    except MonthError:
        return current
    return value or current


def month_notice(value: str | None, shown: str, lang: str) -> str | None:
    """Say that the URL's month cannot be shown (and which month is shown instead), or None."""
    if not value or resolve_month(value, "") == value:
        return None
    return t("rank_bad_month", lang).format(month=value, first=f"{FIRST_YEAR}-01",
                                            last=f"{LAST_YEAR}-12", shown=shown)


def refusal_text(exc: Exception, month: str, lang: str) -> str:
    """Say in the page's language why publishing ``month`` was refused (``PublishError``)."""
    if not isinstance(exc, PublishError):
        return str(exc)
    d = exc.details
    if exc.reason == "not_over":
        return t("rank_not_over", lang).format(month=month, at=d["at"])
    if exc.reason == "already":
        who = f" ({d['by']})" if d.get("by") else ""
        return t("rank_already", lang).format(month=month, at=f"{d['at']}{who}")
    if exc.reason == "before_data":
        return t("rank_before_data", lang).format(month=month, first=d["first"] or "—")
    if exc.reason == "publisher":
        return t("rank_publisher_long", lang).format(limit=d["limit"])
    return str(exc)


def month_label(month: str, lang: str) -> str:
    """Return 2026年10月 (or 2026-10)."""
    start, _ = month_bounds(month)
    return t("rank_month_option", lang).format(year=start.year, month=start.month)


def month_options(months: Sequence[tuple[str, bool]], current: str,
                  lang: str) -> list[dict[str, str]]:
    """Return the month switcher's choices, newest first, each marked published or current."""
    published = dict(months)
    published.setdefault(current, False)
    out = []
    for month in sorted(published, reverse=True):
        tags = [t("rank_published", lang)] if published[month] else []
        if month == current:
            tags.append(t("rank_this_month_tag", lang))
        label = month_label(month, lang)
        out.append({"label": f"{label} · {' · '.join(tags)}" if tags else label, "value": month})
    return out


def _count_word(n: int, lang: str) -> str:
    return _ZH_NUMBERS[n] if lang == "zh" and 0 < n < len(_ZH_NUMBERS) else str(n)


def bottom_words(n: int, lang: str) -> str:
    """Return 倒数后两名 for the rules' bottom_n (两 for 2, as the meetings say it)."""
    return t("rank_flag_bottom", lang).format(n=_count_word(n, lang))


def flags(street: StreetResult, bottom_n: int, lang: str) -> list[str]:
    """Return a street's flags: bottom of its group, months in a row there, too few cases."""
    out = []
    if street.bottom_two:
        out.append(bottom_words(bottom_n, lang))
    if street.consecutive_bottom_two >= 2:
        out.append(t("rank_flag_streak", lang).format(times=street.consecutive_bottom_two,
                                                      n=_count_word(bottom_n, lang)))
    if street.flag == FLAG_MIN_SAMPLE:
        out.append(t("rank_flag_sample", lang))
    return out


def signed(value: float | None, digits: int = 2) -> str:
    """Return +0.12 / -0.30, or "—" when there is nothing to compare with."""
    return DASH if value is None else f"{value:+.{digits}f}"


def signed_count(change: Change) -> str:
    """Return a count's change with its percentage: +3 (+18.75%)."""
    if change.delta is None:
        return DASH
    pct = "" if change.pct is None else f" ({change.pct:+.2f}%)"
    return f"{change.delta:+,.0f}{pct}"


def rank_move(street: StreetResult) -> str:
    """Return ↑2 / ↓1 / = for the change of rank (positive: moved up), "" when unknown."""
    move = street.rank_change
    if move is None:
        return ""
    return "=" if move == 0 else f"↑{move}" if move > 0 else f"↓{-move}"


def score_text(value: float | None) -> str:
    """Return a score with two decimals, or "—"."""
    return DASH if value is None else f"{value:.2f}"


def table_rows(assessment: MonthAssessment, group: str, lang: str) -> list[dict[str, Any]]:
    """Return a group's ranking rows in group-rank order (unranked last), with sort keys."""
    rows = []
    for s in assessment.in_group(group):
        rows.append({
            "code": s.code, "rank": s.rank, "group_rank": s.group_rank,
            "name": term(s.name, lang),
            "score": s.score, "score_text": score_text(s.score),
            "dscore": s.score_change.delta, "dscore_text": signed(s.score_change.delta),
            "drank": s.rank_change, "drank_text": rank_move(s),
            "problems": s.problems, "costly": s.problems_costing_at_least_k,
            "repeats": s.repeat_problems,
            "flags": " · ".join(flags(s, assessment.bottom_n, lang)),
            "bottom": s.bottom_two, "streak": s.consecutive_bottom_two,
            "unranked": not s.ranked,
        })
    return rows


def column_defs(assessment: MonthAssessment, lang: str) -> list[dict[str, Any]]:
    """Return the ranking table's columns (numbers sort as numbers, show as text)."""
    k = f"{assessment.cost_threshold:g}"
    sample = t("rank_flag_sample_hint", lang).format(n=assessment.min_sample)
    return [
        {"field": "group_rank", "headerName": t("rank_col_group_rank", lang), "width": 62,
         "valueFormatter": {"function": "params.value == null ? '—' : params.value"}},
        {"field": "rank", "headerName": t("rank_col_rank", lang), "width": 62,
         "valueFormatter": {"function": "params.value == null ? '—' : params.value"}},
        {"field": "name", "headerName": t("rank_col_street", lang), "width": 112,
         "cellClass": "gw-r-street"},
        {"field": "score", "headerName": t("rank_col_score", lang), "width": 100,
         "headerTooltip": score_formula(ASSESSMENT, lang),
         "valueFormatter": {"function": "params.data.score_text"}, "cellClass": "gw-r-score"},
        {"field": "dscore", "headerName": t("rank_col_dscore", lang), "width": 92,
         "headerTooltip": compared_words(assessment, lang),
         "valueFormatter": {"function": "params.data.dscore_text"},
         "cellClassRules": {"gw-r-up": "params.value > 0", "gw-r-down": "params.value < 0"}},
        {"field": "drank", "headerName": t("rank_col_drank", lang), "width": 86,
         "valueFormatter": {"function": "params.data.drank_text"},
         "cellClassRules": {"gw-r-up": "params.value > 0", "gw-r-down": "params.value < 0"}},
        {"field": "problems", "headerName": t("rank_col_problems", lang), "width": 86},
        {"field": "costly", "headerName": t("rank_col_costly", lang).format(k=k), "width": 72},
        {"field": "repeats", "headerName": t("rank_col_repeats", lang), "width": 62},
        {"field": "flags", "headerName": t("rank_col_flags", lang), "flex": 1,
         "minWidth": 150, "cellClass": "gw-r-flags", "tooltipField": "flags",
         "headerTooltip": sample},
    ]


def default_street(assessment: MonthAssessment) -> str | None:
    """Return the street whose breakdown shows first: the lowest ranked (what the meeting asks)."""
    ranked = [s for s in assessment.streets if s.ranked]
    chosen = ranked[-1] if ranked else next(iter(assessment.streets), None)
    return None if chosen is None else chosen.code


def group_mean_deductions(assessment: MonthAssessment, group: str) -> dict[str, float] | None:
    """Return the mean deduction per cause over the ranked streets of a group."""
    ranked = [s for s in assessment.in_group(group) if s.ranked]
    if not ranked:
        return None
    return {c: round(sum(s.deductions[c] for s in ranked) / len(ranked), 2) for c in CAUSES}


def summary_items(assessment: MonthAssessment, lang: str) -> list[SummaryItem]:
    """Return the meeting's headline figures with their change from last month."""
    d = assessment.district
    k = f"{assessment.cost_threshold:g}"
    return [
        SummaryItem("score", t("rank_district_score", lang), score_text(d.score),
                    signed(d.score_change.delta), "higher", d.score_change.delta),
        SummaryItem("problems", t("rank_problems", lang), f"{d.problems:,}",
                    signed_count(d.problems_change), "lower", d.problems_change.delta),
        SummaryItem("costly", t("rank_costly", lang).format(k=k),
                    f"{d.problems_costing_at_least_k:,}", signed_count(d.costly_change), "lower",
                    d.costly_change.delta),
        SummaryItem("repeats", t("rank_repeats", lang), f"{d.repeat_problems:,}",
                    signed_count(d.repeats_change), "lower", d.repeats_change.delta),
        SummaryItem("spread", t("rank_spread", lang), score_text(d.spread), "", None, None),
        SummaryItem("ranked", t("rank_ranked", lang),
                    f"{d.ranked_streets} / {len(assessment.streets)}", "", None, None),
    ]


def status_words(assessment: MonthAssessment, lang: str) -> tuple[str, str]:
    """Return the badge (已发布 / 临时结果) and the line beside it (when, by whom)."""
    if assessment.published and assessment.published_at is not None:
        at = f"{assessment.published_at:%Y-%m-%d %H:%M}"
        detail = (t("rank_published_at", lang).format(at=at, by=assessment.published_by)
                  if assessment.published_by else
                  t("rank_published_at_anon", lang).format(at=at))
        return t("rank_published", lang), detail
    return (t("rank_provisional", lang),
            t("rank_provisional_hint", lang).format(at=f"{assessment.computed_at:%Y-%m-%d %H:%M}"))


# --- the ranking table as a workbook ------------------------------------------------------------

XLSX_HEADERS = ("组别", "组内排名", "总排名", "街道编码", "街道(镇)", "得分", "得分变化",
                "上月排名", "名次变化", "问题数", "问题数变化", "扣K分及以上问题", "重复问题",
                "超期问题", "返工次数", "问题扣分", "重复加扣", "超期扣分", "返工扣分", "扣分合计",
                "志愿服务时长", "志愿服务加分", "倒数后两名", "连续后两名(月)", "标记")
XLSX_FORMATS = (None, "0", "0", "@", None, "0.00", "+0.00;-0.00;0.00", "0", "+0;-0;0", "#,##0",
                "+#,##0;-#,##0;0", "#,##0", "#,##0", "#,##0", "#,##0", "0.00", "0.00", "0.00",
                "0.00", "0.00", "0.0", "0.00", None, "0", None)


def xlsx_headers(assessment: MonthAssessment) -> list[str]:
    """Return the workbook's Chinese headers, with the month's K and bottom N written in."""
    k = f"{assessment.cost_threshold:g}"
    bottom = bottom_words(assessment.bottom_n, "zh").removeprefix("倒数")
    return [h.replace("K", k).replace("后两名", bottom) for h in XLSX_HEADERS]


def xlsx_rows(assessment: MonthAssessment) -> list[list[Any]]:
    """Return one row per street, group by group in group-rank order; numbers stay numbers."""
    rows = []
    for group in assessment.groups:
        for s in assessment.in_group(group.name):
            rows.append([
                group.name, s.group_rank, s.rank, s.code, s.name, s.score,
                s.score_change.delta, s.previous_rank, s.rank_change, s.problems,
                s.problems_change.delta, s.problems_costing_at_least_k, s.repeat_problems,
                s.overdue_problems, s.rework_times, *(s.deductions[c] for c in CAUSES),
                s.total_deduction, s.volunteer_hours, s.bonus, "是" if s.bottom_two else "",
                s.consecutive_bottom_two, " ".join(flags(s, assessment.bottom_n, "zh")),
            ])
    return rows


def ranking_xlsx(assessment: MonthAssessment) -> bytes:
    """Return the month's ranking table as an XLSX workbook (one sheet, Chinese headers)."""
    state = "已发布" if assessment.published else "临时结果"
    title = f"{assessment.month} 综合考核排名 {state}"
    return xlsx_bytes(title, xlsx_headers(assessment), xlsx_rows(assessment), XLSX_FORMATS)
