"""The review-meeting deck (点评会PPT) of one month, in Chinese, as the seeds' meetings show it.

``deck_figures`` names the charts the deck needs — the rankings page's own figure builders on
a light theme — with the size each is drawn at; ``build_deck`` lays the slides out from a
``DeckInputs`` and those charts rendered to PNG. Nothing here queries or renders:
``queries.deck`` gathers the inputs and ``dashboard.deck.images`` draws the charts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from io import BytesIO

import plotly.graph_objects as go
from pptx.dml.color import RGBColor
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.presentation import Presentation as PresentationType
from pptx.slide import Slide

from dashboard.deck.layout import (
    ACCENT,
    BODY,
    GREEN,
    HEADER_H_IN,
    LINE,
    MUTED,
    NAVY,
    RED,
    RED_FILL,
    ROW_H_IN,
    SLIDE_H_IN,
    SLIDE_W_IN,
    TILE_FILL,
    WHITE,
    Box,
    Column,
    Para,
    Row,
    add_picture,
    add_rect,
    add_table,
    add_text,
    blank_slide,
    content_slide,
    new_presentation,
    rows_per_slide,
)
from dashboard.formatting import format_value
from dashboard.rankings.figures import (
    cause_name,
    deductions_figure,
    repeats_figure,
    score_change_figure,
    street_deductions_figure,
)
from dashboard.rankings.view import (
    bottom_words,
    flags,
    group_mean_deductions,
    month_label,
    rank_move,
    score_text,
    signed,
)
from dashboard.screen.figures import trend_figure
from dashboard.sections.view import score_text as section_score_text
from queries.assessment import Change, MonthAssessment, StreetResult
from queries.deck import DeckInputs
from queries.indicators import DASH, INDICATOR_BY_KEY, NOT_APPLICABLE, IndicatorSet, value_of
from queries.rules import CAUSES
from queries.sections import SectionFigures

LANG = "zh"
KPI_KEYS = ("registered", "closed", "close_rate", "ontime_close_rate", "open_overdue",
            "rework_rate")
CHART_PX_PER_IN = 100
CHART_SCALE = 1.45  # the figures' font scale: 13 px × 1.45 at 100 px/in is about 13.5 pt

OVERVIEW_TILES, OVERVIEW_CHART = BODY.columns([52, 48], gap=0.3)
SUMMARY_TEXT, SUMMARY_CHART = BODY.columns([40, 60], gap=0.3)
CAUSES_CHART, CAUSES_NOTE = BODY.rows([BODY.height - 0.45, 0.45], gap=0.0)
REPEATS_LEFT, REPEATS_CHART = BODY.columns([46, 54], gap=0.3)
STREET_LEFT, STREET_CHART = BODY.columns([46, 54], gap=0.3)
TABLE_BOX, TABLE_NOTE = BODY.rows([BODY.height - 0.4, 0.4], gap=0.0)


@dataclass(frozen=True)
class FigureSpec:
    """A chart of the deck and the size of the box it fills, in inches."""

    figure: go.Figure
    width_in: float
    height_in: float

    @property
    def pixels(self) -> tuple[int, int]:
        """The image size to render (at ``CHART_PX_PER_IN``)."""
        return round(self.width_in * CHART_PX_PER_IN), round(self.height_in * CHART_PX_PER_IN)


def street_chart_key(code: str) -> str:
    """Return the name of a street's deductions chart."""
    return f"street-{code}"


def deck_figures(inputs: DeckInputs) -> dict[str, FigureSpec]:
    """Return every chart the deck shows, built by the dashboard's own figure functions."""
    a = inputs.assessment
    trend = inputs.trend
    look = {"lang": LANG, "theme": "light", "scale": CHART_SCALE}
    specs = {
        "trend": FigureSpec(trend_figure([d.isoformat() for d in trend.days], trend.reported,
                                         trend.closed, **look), OVERVIEW_CHART.width,
                            OVERVIEW_CHART.height - 0.45),
        "change": FigureSpec(score_change_figure(a.streets, **look), SUMMARY_CHART.width,
                             SUMMARY_CHART.height),
        "causes": FigureSpec(deductions_figure(a.streets, **look), CAUSES_CHART.width,
                             CAUSES_CHART.height),
        "repeats": FigureSpec(repeats_figure(a.district.repeats_by_occurrence,
                                             a.district.previous_repeats_by_occurrence, **look),
                              REPEATS_CHART.width, REPEATS_CHART.height),
    }
    for s in a.streets:
        specs[street_chart_key(s.code)] = FigureSpec(
            street_deductions_figure(s, group_mean_deductions(a, s.group), **look),
            STREET_CHART.width, STREET_CHART.height)
    return specs


# --- words ---------------------------------------------------------------------------------------


def state_words(a: MonthAssessment) -> str:
    """Return 已发布(when · who) or 临时结果(computed when)."""
    if a.published and a.published_at is not None:
        who = f" · {a.published_by}" if a.published_by else ""
        return f"已发布({a.published_at:%Y-%m-%d %H:%M}{who})"
    return f"临时结果(计算于 {a.computed_at:%Y-%m-%d %H:%M},发布前仍会变化)"


def count_change(change: Change, unit: str, vs: str = "较上月") -> str:
    """Return 较上月增加 3 件(+18.75%) / 减少 / 持平 / 上月无数据 (``vs``: 较上月同期 …)."""
    if change.delta is None:
        return "上月无数据"
    if change.delta == 0:
        return f"与{vs.removeprefix('较')}持平"
    word = "增加" if change.delta > 0 else "减少"
    pct = "" if change.pct is None else f"({change.pct:+.2f}%)"
    return f"{vs}{word} {abs(change.delta):,.0f} {unit}{pct}"


def compared_words(assessment: MonthAssessment) -> str:
    """Return 较上月, or 较上月同期 for a running month (compared with the same span)."""
    return "较上月同期" if assessment.previous_span_end else "较上月"


def kpi_texts(key: str, now: IndicatorSet, before: IndicatorSet) -> tuple[str, str, float | None]:
    """Return an indicator's value, its change from last month in words, and the change.

    The value and the change read as the indicator's kind says (``dashboard.formatting``), the
    same as on the wall and the grid page; a rate's change is in percentage points.
    """
    kind = INDICATOR_BY_KEY[key].kind
    value, old = value_of(now, key), value_of(before, key)
    reason = now.na_reason(key)
    text = NOT_APPLICABLE["zh"] if reason else format_value(value, kind)
    if value is None or old is None:
        return text, f"较上月 {DASH}", None
    if kind == "rate":
        delta = round((value - old) * 100, 2)
        return text, f"较上月 {delta:+.2f} 个百分点", delta
    delta = round(value - old, 6)
    pct = f"({delta / old * 100:+.2f}%)" if old else ""
    sign = "+" if delta > 0 else "−" if delta < 0 else "±"
    return text, f"较上月 {sign}{format_value(abs(delta), kind)}{pct}", delta


def _kpi_color(key: str, delta: float | None) -> RGBColor:
    better = INDICATOR_BY_KEY[key].higher_is_better
    if not delta or better is None:
        return MUTED
    return GREEN if (delta > 0) == better else RED


def _top_causes(s: StreetResult, n: int = 2) -> str:
    parts = sorted(((s.deductions[c], c) for c in CAUSES if s.deductions[c] > 0), reverse=True)
    words = [f"{cause_name(c, LANG)} {points:.2f}" + ("(封顶)" if c in s.capped else "")
             for points, c in parts[:n]]
    return "、".join(words) if words else "无扣分"


def _occurrences(counts: Mapping[int, int]) -> str:
    return "、".join(f"第{n}次 {c}" for n, c in counts.items()) or "无"


# --- slides --------------------------------------------------------------------------------------


class _Deck:
    """The presentation being built, numbering its footers."""

    def __init__(self, inputs: DeckInputs, images: Mapping[str, bytes]) -> None:
        self.inputs, self.images = inputs, images
        self.a = inputs.assessment
        self.vs = compared_words(inputs.assessment)
        self.prs = new_presentation()
        self.month = month_label(self.a.month, LANG)
        self.page = 0

    def slide(self, title: str) -> Slide:
        self.page += 1
        footer = (f"{self.a.district.name}城市管理综合考核 · {self.month} · "
                  f"{'已发布' if self.a.published else '临时结果'} · 第 {self.page} 页")
        return content_slide(self.prs, title, footer)

    def picture(self, slide: Slide, box: Box, key: str) -> None:
        add_picture(slide, box, self.images[key])

    # -- title and overview

    def title(self) -> None:
        a = self.a
        self.page += 1
        slide = blank_slide(self.prs)
        add_rect(slide, Box(0, 0, SLIDE_W_IN, SLIDE_H_IN), NAVY)
        add_rect(slide, Box(0.9, 3.55, 1.6, 0.06), ACCENT)
        add_text(slide, Box(0.9, 1.7, 11.5, 1.2), [f"{a.district.name}城市管理综合考核点评"],
                 largest=44, smallest=28, bold=True, color=WHITE, wrap_text=False)
        add_text(slide, Box(0.9, 2.85, 11.5, 0.7), [self.month], largest=28, smallest=18,
                 color=WHITE, wrap_text=False)
        add_text(slide, Box(0.9, 3.85, 11.5, 1.6), [
            Para(state_words(a)),
            Para(f"考核细则:{a.rules_title or DASH}(sha256 {a.rules_sha256[:12]})"),
            Para(f"生成于 {self.inputs.generated_at:%Y-%m-%d %H:%M} · Gridwatch"),
        ], largest=16, smallest=11, color=RGBColor(0xC9, 0xDC, 0xF2))

    def overview(self) -> None:
        i = self.inputs
        slide = self.slide(f"全区运行概况 · {self.month}")
        tiles = [box for row in OVERVIEW_TILES.rows([1, 1, 1], gap=0.25)
                 for box in row.columns([1, 1], gap=0.25)]
        for key, box in zip(KPI_KEYS, tiles):
            value, change, delta = kpi_texts(key, i.kpis, i.previous_kpis)
            add_rect(slide, box, TILE_FILL, line=LINE)
            label, number, foot = Box(box.left + 0.15, box.top + 0.1, box.width - 0.3,
                                      box.height - 0.2).rows([0.9, 1.5, 0.8])
            add_text(slide, label, [INDICATOR_BY_KEY[key].name_zh], largest=15, smallest=11,
                     color=MUTED, wrap_text=False)
            add_text(slide, number, [value], largest=32, smallest=18, bold=True, color=NAVY,
                     wrap_text=False, anchor=MSO_ANCHOR.MIDDLE)
            add_text(slide, foot, [change], largest=13, smallest=9,
                     color=_kpi_color(key, delta), wrap_text=False)
        last = i.trend.days[-1] if i.trend.days else None
        head = Box(OVERVIEW_CHART.left, OVERVIEW_CHART.top, OVERVIEW_CHART.width, 0.45)
        add_text(slide, head, [f"近{len(i.trend.days)}日上报与结案"
                               + (f"(截至 {last.month}月{last.day}日)" if last else "")],
                 largest=16, smallest=11, bold=True, color=NAVY, wrap_text=False)
        self.picture(slide, Box(OVERVIEW_CHART.left, OVERVIEW_CHART.top + 0.45,
                                OVERVIEW_CHART.width, OVERVIEW_CHART.height - 0.45), "trend")

    def summary(self) -> None:
        a, d = self.a, self.a.district
        slide = self.slide(f"考核总体情况 · {self.month}")
        k = f"{a.cost_threshold:g}"
        unranked = len(a.streets) - d.ranked_streets
        score_move = "上月无数据" if d.score_change.delta is None else \
            f"{self.vs} {d.score_change.delta:+.2f} 分"
        lines = [
            Para(f"全区镇街平均得分 {score_text(d.score)} 分,{score_move}", bold=True),
            Para(f"问题总数 {d.problems:,} 件,"
                 f"{count_change(d.problems_change, '件', self.vs)}"),
            Para(f"扣{k}分及以上问题 {d.problems_costing_at_least_k:,} 件,"
                 f"{count_change(d.costly_change, '件', self.vs)}",
                 color=RED if (d.costly_change.delta or 0) > 0 else None),
            Para(f"重复问题 {d.repeat_problems:,} 件({_occurrences(d.repeats_by_occurrence)}),"
                 f"{count_change(d.repeats_change, '件', self.vs)}",
                 color=RED if (d.repeats_change.delta or 0) > 0 else None),
            Para(f"参与排名镇街 {d.ranked_streets} 个,最高最低分差 {score_text(d.spread)} 分"),
            Para(f"问题数少于 {a.min_sample} 件、样本不足不参与排名的 {unranked} 个"
                 if unranked else "全部镇街参与排名"),
        ]
        for group in a.groups:
            lines.append(Para(f"{group.name}:均分 {score_text(group.mean_score)},"
                              f"分差 {score_text(group.spread)}"))
        add_text(slide, SUMMARY_TEXT, lines, largest=18, smallest=11, gap=8)
        self.picture(slide, SUMMARY_CHART, "change")

    # -- the ranking

    def group_tables(self) -> None:
        a = self.a
        k = f"{a.cost_threshold:g}"
        columns = [Column("组内排名", 0.9), Column("总排名", 0.8),
                   Column("街道(镇)", 1.7, PP_ALIGN.LEFT), Column("得分", 0.9),
                   Column("得分变化", 0.95), Column("名次变化", 0.9), Column("问题数", 0.8),
                   Column(f"扣{k}分+", 0.85), Column("重复问题", 0.85), Column("扣分合计", 0.9),
                   Column("标记", 2.3, PP_ALIGN.LEFT)]
        per_slide = rows_per_slide(TABLE_BOX)
        note = (f"红底:{bottom_words(a.bottom_n, LANG)};"
                f"灰字:样本不足(问题数少于 {a.min_sample} 件),"
                f"不参与排名;扣{k}分+:扣{k}分及以上的问题数;名次变化 ↑ 上升、↓ 下降。")
        for group in a.groups:
            streets = a.in_group(group.name)
            pages = [streets[n:n + per_slide] for n in range(0, len(streets), per_slide)] or [()]
            for n, chunk in enumerate(pages, start=1):
                more = f"(续 {n}/{len(pages)})" if len(pages) > 1 else ""
                slide = self.slide(f"{group.name}排名{more} · 均分 {score_text(group.mean_score)}"
                                   f" · 分差 {score_text(group.spread)}")
                rows = [Row([DASH if s.group_rank is None else str(s.group_rank),
                             DASH if s.rank is None else str(s.rank), s.name,
                             f"{s.score:.2f}", signed(s.score_change.delta),
                             rank_move(s) or DASH, f"{s.problems:,}",
                             f"{s.problems_costing_at_least_k:,}", f"{s.repeat_problems:,}",
                             f"{s.total_deduction:.2f}", " ".join(flags(s, a.bottom_n, LANG))],
                            fill=RED_FILL if s.bottom_two else None,
                            color=MUTED if not s.ranked else None)
                        for s in chunk]
                # A short group gets taller rows and larger text instead of an empty slide.
                row_h = min(0.55, max(ROW_H_IN,
                                      (TABLE_BOX.height - HEADER_H_IN) / max(1, len(rows))))
                add_table(slide, TABLE_BOX, columns, rows, row_h=row_h,
                          size=16 if row_h >= 0.5 else 14)
                add_text(slide, TABLE_NOTE, [note], largest=12, smallest=9, color=MUTED,
                         anchor=MSO_ANCHOR.BOTTOM)

    def callouts(self) -> None:
        a = self.a
        slide = self.slide(f"{bottom_words(a.bottom_n, LANG)}与连续末位 · {self.month}")
        left, right = BODY.columns([60, 40], gap=0.3)
        lines: list[Para] = []
        for group in a.groups:
            bottom = [s for s in a.in_group(group.name) if s.bottom_two]
            if not bottom:
                lines.append(Para(f"{group.name}:参评镇街不足 {a.bottom_n + 1} 个,"
                                  f"不排{bottom_words(a.bottom_n, LANG)}", color=MUTED))
                continue
            names = "、".join(f"{s.name}({s.score:.2f}分)" for s in bottom)
            lines.append(Para(f"{group.name}:{names}为{bottom_words(a.bottom_n, LANG)}",
                              bold=True))
            for s in bottom:
                lines.append(Para(f"  {s.name}:扣分 {s.total_deduction:.2f},主要为"
                                  f"{_top_causes(s)};问题 {s.problems} 件,"
                                  f"{count_change(s.problems_change, '件', self.vs)}"))
        add_text(slide, left, lines, largest=18, smallest=11, gap=6)
        streaks = sorted((s for s in a.streets if s.consecutive_bottom_two >= 2),
                         key=lambda s: (-s.consecutive_bottom_two, s.group, s.name))
        add_rect(slide, right, RED_FILL if streaks else TILE_FILL, line=LINE)
        inner = Box(right.left + 0.2, right.top + 0.15, right.width - 0.4, right.height - 0.3)
        head, body = inner.rows([0.7, inner.height - 0.7])
        add_text(slide, head, ["连续末位"], largest=22, smallest=14, bold=True,
                 color=RED if streaks else MUTED, wrap_text=False)
        warn = [Para(f"{s.name}({s.group})已连续 {s.consecutive_bottom_two} 次位列"
                     f"{bottom_words(a.bottom_n, LANG).removeprefix('倒数')}", color=RED,
                     bold=True) for s in streaks]
        add_text(slide, body, warn or [Para("本月无连续两次及以上位列末尾的镇街", color=MUTED)],
                 largest=20, smallest=11, gap=10)

    def causes(self) -> None:
        slide = self.slide(f"扣分构成 · {self.month}")
        self.picture(slide, CAUSES_CHART, "causes")
        add_text(slide, CAUSES_NOTE,
                 [("各镇街扣分按原因分项(问题扣分、重复加扣、超期扣分、返工扣分),"
                   "已按细则折算、封顶;条形末端为扣分合计。")],
                 largest=12, smallest=9, color=MUTED, anchor=MSO_ANCHOR.BOTTOM)

    def repeats(self) -> None:
        a, d = self.a, self.a.district
        slide = self.slide(f"重复问题分析 · {self.month}")
        before = d.previous_repeats_by_occurrence
        occurrences = sorted(set(d.repeats_by_occurrence) | set(before or {}))
        rows = [Row([f"第{n}次出现", f"{d.repeats_by_occurrence.get(n, 0):,}",
                     DASH if before is None else f"{before.get(n, 0):,}",
                     DASH if before is None else
                     f"{d.repeats_by_occurrence.get(n, 0) - before.get(n, 0):+,}"])
                for n in occurrences]
        rows.append(Row(["合计", f"{d.repeat_problems:,}",
                         DASH if d.repeats_change.previous is None
                         else f"{d.repeats_change.previous:,.0f}",
                         signed_int(d.repeats_change)], bold=True))
        top = Box(REPEATS_LEFT.left, REPEATS_LEFT.top, REPEATS_LEFT.width,
                  HEADER_H_IN + len(rows) * ROW_H_IN)
        add_table(slide, top, [Column("重复次数", 1.3), Column("本月", 1), Column("上月", 1),
                               Column("变化", 1)], rows)
        head = Box(REPEATS_LEFT.left, top.bottom + 0.3, REPEATS_LEFT.width, 0.4)
        table = Box(head.left, head.bottom, head.width, REPEATS_LEFT.bottom - head.bottom)
        worst = sorted((s for s in a.streets if s.repeat_problems),
                       key=lambda s: (-s.repeat_problems, s.code))[:rows_per_slide(table)]
        if worst and table.height >= HEADER_H_IN + ROW_H_IN:
            add_text(slide, head, ["重复问题较多的镇街"], largest=14, smallest=10, bold=True,
                     color=NAVY, wrap_text=False)
            add_table(slide, table,
                      [Column("街道(镇)", 1.6, PP_ALIGN.LEFT), Column("重复问题", 1),
                       Column("较上月", 1), Column("出现次数分布", 2, PP_ALIGN.LEFT)],
                      [Row([s.name, f"{s.repeat_problems:,}", signed_int(s.repeats_change),
                            _occurrences(s.repeats_by_occurrence)]) for s in worst])
        self.picture(slide, REPEATS_CHART, "repeats")

    def categories(self) -> None:
        items = self.inputs.categories
        slide = self.slide(f"高发问题(按小类) · {self.month}")
        left, right = BODY.columns([62, 38], gap=0.3)
        total = sum(c.problems for c in items)
        shown = items[:rows_per_slide(left)]
        rows = [Row([str(n), c.minor, f"{c.problems:,}", f"{c.previous:,}",
                     f"{c.problems - c.previous:+,}",
                     f"{c.problems / total * 100:.1f}%" if total else DASH])
                for n, c in enumerate(shown, start=1)]
        if rows:
            add_table(slide, left, [Column("序号", 0.6), Column("问题小类", 2, PP_ALIGN.LEFT),
                                    Column("本月问题", 1), Column("上月", 0.9),
                                    Column("变化", 0.9), Column("占比", 0.9)], rows)
        top3 = shown[:3]
        share = sum(c.problems for c in top3) / total * 100 if total else 0.0
        words = [Para("本月问题最多的小类", bold=True, color=NAVY)]
        words += [Para(f"{n}. {c.minor}:{c.problems:,} 件(上月 {c.previous:,})")
                  for n, c in enumerate(top3, start=1)]
        words.append(Para(f"前三类合计占全部问题的 {share:.1f}%" if total else "本月暂无问题",
                          color=RED if share >= 50 else None))
        add_rect(slide, right, TILE_FILL, line=LINE)
        add_text(slide, Box(right.left + 0.2, right.top + 0.2, right.width - 0.4,
                            right.height - 0.4), words, largest=18, smallest=11, gap=8)

    def lists(self) -> None:
        a = self.a
        left, right = BODY.columns([1, 1], gap=0.4)
        columns = [Column("名次", 0.8), Column("街道(镇)", 1.8, PP_ALIGN.LEFT),
                   Column("组别", 1.2), Column("得分", 1), Column("扣分合计", 1)]

        def street_rows(codes: Sequence[str]) -> list[Row]:
            return [Row([DASH if s.rank is None else str(s.rank), s.name, s.group,
                         f"{s.score:.2f}", f"{s.total_deduction:.2f}"])
                    for c in codes if (s := a.street(c))]

        slide = self.slide(f"红黑榜 · 街道 · {self.month}")
        self._list(slide, left, "红榜(得分最高)", GREEN, columns, street_rows(a.red_streets))
        self._list(slide, right, "黑榜(得分最低)", RED, columns, street_rows(a.black_streets))
        names = {s.code: s.name for s in a.streets}
        grid_columns = [Column("网格", 1.8, PP_ALIGN.LEFT), Column("所属街道", 1.5, PP_ALIGN.LEFT),
                        Column("问题数", 0.9), Column("扣分", 0.9)]
        slide = self.slide(f"红黑榜 · 网格 · {self.month}")
        for box, title, color, grids in ((left, "红榜(扣分最少)", GREEN, a.red_grids),
                                         (right, "黑榜(扣分最多)", RED, a.black_grids)):
            self._list(slide, box, title, color, grid_columns,
                       [Row([g.name, names.get(g.street_code, DASH), f"{g.problems:,}",
                             f"{g.deduction:.2f}"]) for g in grids])

    def sections(self) -> None:
        """路长制: the 红黑榜 of the month's sections, then every ranked section in order."""
        board = self.inputs.sections
        if board is None:
            return
        left, right = BODY.columns([1, 1], gap=0.4)
        columns = [Column("名次", 0.7), Column("路段", 1.7, PP_ALIGN.LEFT),
                   Column("路长", 1.1, PP_ALIGN.LEFT), Column("销号率", 1.1),
                   Column("到岗", 0.9), Column("得分", 0.9)]

        def rows(figures: Sequence[SectionFigures]) -> list[Row]:
            return [Row([section_rank(f), f.section.name, f.section.leader,
                         f.close_rate.text(), f"{f.checkin_days}/{f.period_days}",
                         section_score_text(f.score)]) for f in figures]

        slide = self.slide(f"红黑榜 · 路长责任路段 · {self.month}")
        self._list(slide, left, "红榜(得分最高)", GREEN, columns, rows(board.red))
        self._list(slide, right, "黑榜(得分最低)", RED, columns, rows(board.black))
        ranked = [f for f in board.rows if f.ranked]
        per_slide = rows_per_slide(TABLE_BOX)
        table_columns = [Column("名次", 0.7), Column("路段", 1.6, PP_ALIGN.LEFT),
                         Column("路长", 1.0, PP_ALIGN.LEFT), Column("责任单位", 1.3, PP_ALIGN.LEFT),
                         Column("应销号", 0.9), Column("销号率", 1.0), Column("按期销号率", 1.2),
                         Column("到岗天数", 1.0), Column("超期在办", 1.0), Column("得分", 0.8)]
        r = board.rules
        note = (f"得分 = 销号率×{r.weights['close_rate']:g} + 按期销号率×"
                f"{r.weights['ontime_close_rate']:g} + 到岗率×{r.weights['checkin_rate']:g};"
                f"应销号少于 {r.min_due} 件的 {len(board.rows) - len(ranked)} 个路段不排名")
        pages = [ranked[n:n + per_slide] for n in range(0, len(ranked), per_slide)] or [[]]
        for n, page in enumerate(pages, start=1):
            more = f"({n}/{len(pages)})" if len(pages) > 1 else ""
            slide = self.slide(f"路长责任路段排名{more} · {self.month}")
            if page:
                add_table(slide, TABLE_BOX, table_columns, [
                    Row([section_rank(f), f.section.name, f.section.leader,
                         f.section.responsible_unit or DASH, f"{f.due:,}", f.close_rate.text(),
                         f.ontime_close_rate.text(), f"{f.checkin_days}/{f.period_days}",
                         f"{f.open_overdue:,}", section_score_text(f.score)]) for f in page])
            add_text(slide, TABLE_NOTE, [note], largest=12, smallest=9, color=MUTED)

    def _list(self, slide: Slide, box: Box, title: str, color: RGBColor,
              columns: list[Column], rows: list[Row]) -> None:
        add_rect(slide, Box(box.left, box.top, box.width, 0.5), color)
        add_text(slide, Box(box.left, box.top, box.width, 0.5), [title], largest=18,
                 smallest=12, bold=True, color=WHITE, wrap_text=False, anchor=MSO_ANCHOR.MIDDLE,
                 align=PP_ALIGN.CENTER)
        table = Box(box.left, box.top + 0.6, box.width, box.height - 0.6)
        rows = rows[:rows_per_slide(table)]
        if rows:
            add_table(slide, table, columns, rows)
        else:
            add_text(slide, table, ["本月无"], largest=16, smallest=12, color=MUTED)

    # -- one slide per street

    def streets(self) -> None:
        a = self.a
        k = f"{a.cost_threshold:g}"
        for s in a.streets:
            place = (f"{s.group}第{s.group_rank}名 · 全区第{s.rank}名" if s.ranked
                     else f"{s.group} · 样本不足,不参与排名")
            slide = self.slide(f"{s.name} · {place} · {s.score:.2f}分")
            rows = [Row([cause_name(c, LANG), f"{s.deductions[c]:.2f}",
                         "已封顶" if c in s.capped else ""]) for c in CAUSES]
            rows += [Row(["扣分合计", f"{s.total_deduction:.2f}", ""], bold=True),
                     Row(["志愿服务加分", f"+{s.bonus:.2f}", f"{s.volunteer_hours:,.1f} 小时"]),
                     Row(["得分", f"{s.score:.2f}",
                          f"{self.vs} {signed(s.score_change.delta)}"], bold=True)]
            table = Box(STREET_LEFT.left, STREET_LEFT.top, STREET_LEFT.width,
                        HEADER_H_IN + len(rows) * ROW_H_IN)
            facts = Box(table.left, table.bottom + 0.3, table.width,
                        STREET_LEFT.bottom - table.bottom - 0.3)
            add_table(slide, table, [Column("扣分项", 1.4, PP_ALIGN.LEFT), Column("分值", 1),
                                     Column("说明", 1.6)], rows)
            lines = [Para(f"问题 {s.problems:,} 件,"
                          f"{count_change(s.problems_change, '件', self.vs)}"),
                     Para(f"扣{k}分及以上问题 {s.problems_costing_at_least_k:,} 件"),
                     Para(f"超期问题 {s.overdue_problems:,} 件 · 返工 {s.rework_times:,} 次"),
                     Para(f"重复问题 {s.repeat_problems:,} 件"
                          f"({_occurrences(s.repeats_by_occurrence)})")]
            marks = flags(s, a.bottom_n, LANG)
            if marks:
                lines.append(Para(" · ".join(marks), color=RED, bold=True))
            add_text(slide, facts, lines, largest=16, smallest=10, gap=6)
            self.picture(slide, STREET_CHART, street_chart_key(s.code))


def section_rank(f: SectionFigures) -> str:
    """Return a section's rank, or "—" when it is not ranked."""
    return DASH if f.rank is None else str(f.rank)


def signed_int(change: Change) -> str:
    """Return a count's change as +3 / -2, or "—" without a last month."""
    return DASH if change.delta is None else f"{change.delta:+,.0f}"


def build_deck(inputs: DeckInputs, images: Mapping[str, bytes]) -> PresentationType:
    """Lay out the month's deck; ``images`` holds a PNG for every key of ``deck_figures``."""
    deck = _Deck(inputs, images)
    deck.title()
    deck.overview()
    deck.summary()
    deck.group_tables()
    deck.callouts()
    deck.causes()
    deck.repeats()
    deck.categories()
    deck.lists()
    deck.sections()
    deck.streets()
    return deck.prs


def deck_bytes(prs: PresentationType) -> bytes:
    """Return a presentation as the bytes of a .pptx file."""
    out = BytesIO()
    prs.save(out)
    return out.getvalue()
