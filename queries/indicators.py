"""The one definition of every indicator (考核指标), for one area or many in a single query.

docs/indicators.md states each definition, the timestamp that places a case in a period, and
every edge case; tests/test_indicators.py works each value out by hand on tests/handbuilt.py.
All indicators of all areas at a level come from one GROUP BY with conditional aggregation.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import astuple, dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Any, Literal, cast

from sqlalchemy import ColumnElement, Float, and_, case, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from queries import hierarchy
from queries.areas import area_clauses
from queries.models import (
    LEVEL_COMMUNITY,
    LEVEL_GRID,
    LEVEL_STREET,
    LEVELS,
    PUBLIC_SOURCES,
    SETTLED_DISTRICT,
    SETTLED_GRID,
    SETTLED_STREET,
    Area,
    Case,
    Department,
)
from queries.periods import Period
from queries.scope import Scope
from queries.settled import SettledParts, Unindexed, cutoff

DASH = "—"
NOT_APPLICABLE: Mapping[str, str] = MappingProxyType({"zh": "不适用", "en": "n/a"})
WARN_FRACTION = 0.8
DUE_SOON = timedelta(hours=2)
AMBER_FROM = 0.9

Light = Literal["green", "yellow", "red"]
TargetLight = Literal["green", "amber", "red"]
Kind = Literal["count", "rate", "hours", "score"]
DueConvention = Literal["bulletin", "closed"]

# Which cases make up 应处置 / 应结案 (docs/indicators.md, "The 应处置 / 应结案 set").
BULLETIN: DueConvention = "bulletin"  # registered in the period, closed or overdue by as of
CLOSED: DueConvention = "closed"  # the 311 convention: closed in the period
DUE_CONVENTIONS: tuple[DueConvention, ...] = (BULLETIN, CLOSED)
# 积案 by age: open cases by days since registration, in buckets ≤ 7, 8–30, 31–90, > 90 days.
BACKLOG_BOUNDS_DAYS = (7, 30, 90)
BACKLOG_OVER_DAYS = 30  # the indicator ``backlog_over_30``: 积案 > 30 天

# Why an indicator is not applicable (不适用): its inputs are not in the data. Key → (zh, en).
NA_REASONS: Mapping[str, tuple[str, str]] = MappingProxyType({
    "no_register_time": (
        "数据源没有立案时间:期内案件未记立案时间即被派遣、处置或结案",
        ("The source records no registration times: cases were dispatched, handled or closed "
        "without one"),
    ),
    "register_time_is_report_time": (
        "立案时间均与上报时间相同:数据源没有单独的立案环节",
        ("Every registration time equals its report time: the source has no registration "
        "step of its own"),
    ),
    "no_dispatch_time": (
        "数据源没有派遣时间:案件未记派遣时间即被处置或结案",
        "The source records no dispatch times: cases were handled or closed without one",
    ),
    "dispatch_time_is_registration_time": (
        "派遣时间均与立案时间相同:数据源没有单独的派遣环节",
        ("Every dispatch time equals its registration time: the source has no dispatch step "
        "of its own"),
    ),
    "no_handling_time": (
        "数据源没有处置完成时间:应结案案件结案却未记处置时间",
        "The source records no handling times: cases due were closed without one",
    ),
    "no_deadline": (
        "数据源没有处置时限:相关案件均无时限,无法判断是否按期或超期",
        ("The source records no deadlines: no case in scope has one, so neither on time nor "
        "overdue can be judged"),
    ),
    "closed_convention": (
        "按结案口径(311),应结案即期内结案的案件,此率按定义恒为100%",
        ("Under the closed (311) convention the cases due are the period's closures, so this "
        "rate is 100% by definition"),
    ),
})


def na_text(reason: str, lang: str = "zh") -> str:
    """Return why an indicator is not applicable, in the UI language (Chinese unless "en")."""
    zh, en = NA_REASONS[reason]
    return en if lang == "en" else zh


@dataclass(frozen=True)
class Ratio:
    """A rate kept as numerator and denominator, so a hover can show both.

    ``na_reason`` (a key of NA_REASONS) marks a rate whose inputs the data does not have: it
    has no value and reads "不适用" / "n/a", never a 0% or 100% made of missing timestamps.
    """

    numerator: int
    denominator: int
    na_reason: str | None = None

    def __post_init__(self) -> None:
        if self.na_reason is not None and self.na_reason not in NA_REASONS:
            raise ValueError(f"unknown not-applicable reason {self.na_reason!r}")

    @property
    def applicable(self) -> bool:
        """False when the data lacks this rate's inputs (then ``value`` is None)."""
        return self.na_reason is None

    @property
    def value(self) -> float | None:
        """The rate, or None when not applicable or the denominator is 0 (never 0% or 100%)."""
        if self.na_reason is not None or not self.denominator:
            return None
        return self.numerator / self.denominator

    def text(self, lang: str = "zh") -> str:
        """Format as a percentage, two decimals rounded half up as bulletins do; "—"; "不适用"."""
        if self.na_reason is not None:
            return NOT_APPLICABLE["en" if lang == "en" else "zh"]
        if not self.denominator:
            return DASH
        percent = Decimal(self.numerator) * 100 / Decimal(self.denominator)
        return f"{percent.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}%"

    def reason(self, lang: str = "zh") -> str | None:
        """Return the hover text saying why the rate is not applicable (None if it is)."""
        return na_text(self.na_reason, lang) if self.na_reason is not None else None


@dataclass(frozen=True)
class CompositeWeights:
    """Weights of the four terms of 综合指标值 (GB/T 30428.4 style); they must sum to 1."""

    public_report_rate: float = 0.10
    registered: float = 0.20
    close_rate: float = 0.30
    ontime_close_rate: float = 0.40

    def __post_init__(self) -> None:
        total = self.public_report_rate + self.registered + self.close_rate + self.ontime_close_rate
        if not math.isclose(total, 1.0):
            raise ValueError(f"composite weights must sum to 1, not {total}")


@dataclass(frozen=True)
class IndicatorSettings:
    """Every configurable rule of the indicators; docs/indicators.md lists the defaults."""

    ontime_register_minutes: int = 60
    ontime_dispatch_minutes: int = 30
    # 应结案: "bulletin" (the period's registrations closed or overdue by as of; Chinese city
    # bulletins) or "closed" (the period's closures; 311 systems). GRIDWATCH_DUE_CONVENTION.
    due_convention: DueConvention = BULLETIN
    backlog_bounds_days: tuple[int, ...] = BACKLOG_BOUNDS_DAYS
    public_sources: tuple[str, ...] = PUBLIC_SOURCES
    weights: CompositeWeights = field(default_factory=CompositeWeights)
    # (highest whole 立案数 per unit grid, 分值): the first band whose bound is not exceeded wins.
    volume_bands: tuple[tuple[int, float], ...] = (
        (0, 100.0), (2, 90.0), (4, 75.0), (6, 60.0), (8, 40.0),
    )
    volume_floor: float = 0.0
    grades: tuple[tuple[float, str], ...] = ((90.0, "A"), (75.0, "B"), (60.0, "C"), (40.0, "D"))
    lowest_grade: str = "E"

    def __post_init__(self) -> None:
        if self.due_convention not in DUE_CONVENTIONS:
            raise ValueError(f"due_convention must be one of {', '.join(DUE_CONVENTIONS)}, "
                             f"not {self.due_convention!r}")
        bounds = self.backlog_bounds_days
        if not bounds or any(b <= 0 for b in bounds) or list(bounds) != sorted(set(bounds)):
            raise ValueError(f"backlog_bounds_days must rise from above 0, not {bounds!r}")


DEFAULT = IndicatorSettings()


@dataclass(frozen=True)
class Composite:
    """综合指标值 of an area: each term's 分值 (0–100), the total, its grade, and the weights."""

    public_report_score: float | None
    volume_score: float | None
    close_rate_score: float | None
    ontime_close_score: float | None
    grids: int
    registered_per_grid: float | None
    total: float | None
    grade: str | None
    weights: CompositeWeights


@dataclass(frozen=True)
class IndicatorSet:
    """Every indicator of one area or department for one period."""

    reported: int
    valid_reported: int
    registered: int
    cancelled: int
    dispatched: int
    to_dispatch: int
    handled: int
    closed: int
    due: int
    rework_times: int
    open_overdue: int
    backlog_over_30: int
    settled_grid: int
    settled_street: int
    settled_district: int
    handling_timed: int
    valid_report_rate: Ratio
    register_rate: Ratio
    ontime_register_rate: Ratio
    accurate_register_rate: Ratio
    ontime_dispatch_rate: Ratio
    accurate_dispatch_rate: Ratio
    handle_rate: Ratio
    ontime_handle_rate: Ratio
    overdue_handle_rate: Ratio
    extension_rate: Ratio
    close_rate: Ratio
    ontime_close_rate: Ratio
    overdue_close_rate: Ratio
    rework_rate: Ratio
    grid_settle_rate: Ratio
    public_report_rate: Ratio
    avg_handling_hours: float | None
    composite: Composite | None
    # Counts whose inputs the data lacks, as (key, NA_REASONS key): rates carry their own.
    not_applicable: tuple[tuple[str, str], ...] = ()

    def na_reason(self, key: str) -> str | None:
        """Return why indicator ``key`` is not applicable here (a NA_REASONS key), or None."""
        value = getattr(self, key)
        if isinstance(value, Ratio):
            return value.na_reason
        return dict(self.not_applicable).get(key)


@dataclass(frozen=True)
class IndicatorDef:
    """How the UI names, explains and orders one indicator; ``key`` is an IndicatorSet field."""

    key: str
    name_zh: str
    name_en: str
    formula_zh: str
    higher_is_better: bool | None  # None: a volume with no better direction
    kind: Kind

    def label(self, lang: str) -> str:
        """Return the indicator's name in the UI language (Chinese unless "en")."""
        return self.name_en if lang == "en" else self.name_zh


INDICATORS: tuple[IndicatorDef, ...] = (
    IndicatorDef("reported", "上报数", "Reports", "上报时间在期内的案件数", None, "count"),
    IndicatorDef("valid_reported", "有效上报数", "Valid reports", "上报数中的有效上报",
                 None, "count"),
    IndicatorDef("valid_report_rate", "有效上报率", "Valid report rate",
                 "有效上报数 / 上报数", True, "rate"),
    IndicatorDef("registered", "立案数", "Registered", "立案时间在期内的案件数", None, "count"),
    IndicatorDef("register_rate", "立案率", "Registration rate",
                 "期内有效上报中已立案数 / 有效上报数", True, "rate"),
    IndicatorDef("ontime_register_rate", "按时立案率", "On-time registration rate",
                 "按时立案数 / 立案数(不含作废)", True, "rate"),
    IndicatorDef("cancelled", "作废数", "Cancelled", "期内立案、后被作废的案件数", False, "count"),
    IndicatorDef("accurate_register_rate", "准确立案率", "Accurate registration rate",
                 "(立案数 − 作废数) / 立案数", True, "rate"),
    IndicatorDef("dispatched", "派遣数", "Dispatched", "派遣时间在期内的案件数", None, "count"),
    IndicatorDef("to_dispatch", "应派遣数", "To dispatch",
                 "期内立案且未作废的案件数(派遣时限未到且未派遣者除外)", None, "count"),
    IndicatorDef("ontime_dispatch_rate", "按时派遣率", "On-time dispatch rate",
                 "按时派遣数 / 应派遣数", True, "rate"),
    IndicatorDef("accurate_dispatch_rate", "准确派遣率", "Accurate dispatch rate",
                 "(应派遣数 − 错派数) / 应派遣数", True, "rate"),
    IndicatorDef("due", "应处置数", "Due",
                 "应处置(应结案)案件数:公报口径为期内立案、截至期末已结案或已超期者;"
                 "311口径为期内结案者",
                 None, "count"),
    IndicatorDef("handled", "处置数", "Handled", "处置完成时间在期内的案件数", None, "count"),
    IndicatorDef("handle_rate", "处置率", "Handling rate",
                 "应处置中已处置数 / 应处置数", True, "rate"),
    IndicatorDef("ontime_handle_rate", "按期处置率", "On-time handling rate",
                 "应处置中按期处置数 / 应处置数", True, "rate"),
    IndicatorDef("overdue_handle_rate", "超期处置率", "Late handling rate",
                 "应处置中超期处置数 / 应处置数", False, "rate"),
    IndicatorDef("extension_rate", "延期率", "Extension rate",
                 "应处置中延期数 / 应处置数", False, "rate"),
    IndicatorDef("closed", "结案数", "Closed", "结案时间在期内的案件数", None, "count"),
    IndicatorDef("close_rate", "结案率", "Closure rate", "应结案中已结案数 / 应结案数",
                 True, "rate"),
    IndicatorDef("ontime_close_rate", "按期结案率", "On-time closure rate",
                 "应结案中按期结案数 / 应结案数", True, "rate"),
    IndicatorDef("overdue_close_rate", "超期结案率", "Late closure rate",
                 "应结案中超期结案数 / 应结案数", False, "rate"),
    IndicatorDef("rework_rate", "返工率", "Rework rate", "应结案中返工案件数 / 应结案数",
                 False, "rate"),
    IndicatorDef("rework_times", "返工次数", "Rework times", "应结案中返工次数之和",
                 False, "count"),
    IndicatorDef("open_overdue", "超期未结案", "Open overdue",
                 "截至期末(或此刻)未结案且已过处置时限的案件数", False, "count"),
    IndicatorDef("backlog_over_30", "积案(超30天)", "Backlog over 30 days",
                 "截至期末(或此刻)未结案、立案已超过30天的案件数", False, "count"),
    IndicatorDef("avg_handling_hours", "平均处置时长", "Mean handling time",
                 "期内处置完成案件的(处置完成 − 派遣)平均小时数", False, "hours"),
    IndicatorDef("grid_settle_rate", "小事不出网格率", "Settled in the grid",
                 "网格层级办结数 / 期内结案中有处置层级者", True, "rate"),
    IndicatorDef("public_report_rate", "监督举报率", "Public report rate",
                 "公众来源立案数 / 立案数(不含作废)", False, "rate"),
    IndicatorDef("composite", "综合指标值", "Composite indicator",
                 "监督举报率分值×10% + 立案数分值×20% + 结案率分值×30% + 按期结案率分值×40%",
                 True, "score"),
)
INDICATOR_BY_KEY: dict[str, IndicatorDef] = {d.key: d for d in INDICATORS}
# Counted by its own query (``repeat_problems``), so it is not a field of IndicatorSet.
REPEAT_PROBLEMS = IndicatorDef(
    "repeats", "重复问题", "Repeat problems",
    "立案时间在期内、未作废且重复此前问题(repeat_of_id)的案件数", False, "count",
)


def indicator_def(key: str) -> IndicatorDef:
    """Return any indicator's definition by key, repeat problems included (KeyError if none)."""
    return REPEAT_PROBLEMS if key == REPEAT_PROBLEMS.key else INDICATOR_BY_KEY[key]


def indicators(
    session: Session,
    period: Period,
    *,
    area_id: int | None = None,
    department_id: int | None = None,
    now: datetime,
    settings: IndicatorSettings = DEFAULT,
    settled: SettledParts | None = None,
) -> IndicatorSet:
    """Compute every indicator of one area (None: the district) and/or one department.

    ``settled``: a long-running process's kept settled parts (``queries.settled``).
    """
    area = _area(session, area_id) if area_id is not None else None
    where = area_clauses(area) if area is not None else []
    if department_id is not None:
        where.append(Case.department_id == department_id)
    rows = _aggregate(session, period, now, settings, None, where, settled)
    grids = None
    if department_id is None:  # the composite scores areas, not departments
        grids = hierarchy.grids_inside(session, area.id if area else None)
    return _build(rows[None], grids, settings)


def scope_indicators(session: Session, period: Period, *, scope: Scope, now: datetime,
                     settings: IndicatorSettings = DEFAULT) -> IndicatorSet:
    """Compute every indicator over the cases of ``scope``: a department head's or street
    manager's own tiles on the desk, by the wall's definitions with the scope in the WHERE.

    No composite: it scores an area's grids, and a department has none.
    """
    rows = _aggregate(session, period, now, settings, None, [scope.case_clause()])
    return _build(rows[None], None, settings)


def repeat_problems(session: Session, period: Period, *, area_id: int | None = None) -> int:
    """Count 重复问题: cases registered in the period, not cancelled, that repeat an earlier one.

    A case repeats an earlier one when its ``repeat_of_id`` is set (by the importer, or by
    ``queries.repeats`` detection); its registration time places it in a period.
    """
    where = area_clauses(_area(session, area_id)) if area_id is not None else []
    stmt = select(func.count()).select_from(Case).where(
        Case.registered_at >= period.start, Case.registered_at < period.end,
        Case.cancelled_at.is_(None), Case.repeat_of_id.is_not(None), *where,
    )
    return session.scalar(stmt) or 0


@dataclass(frozen=True)
class AgeBucket:
    """One age band of 积案: open cases registered more than ``above_days`` days before as of,
    and at most ``up_to_days`` (None: no upper bound)."""

    above_days: int
    up_to_days: int | None
    count: int

    def label(self, lang: str) -> str:
        """Name the band as bulletins do: "≤7天", "8–30天", "> 90天" (en: "≤ 7 days" …)."""
        if self.above_days == 0:
            return f"≤ {self.up_to_days} days" if lang == "en" else f"≤{self.up_to_days}天"
        if self.up_to_days is None:
            return f"> {self.above_days} days" if lang == "en" else f">{self.above_days}天"
        low, high = self.above_days + 1, self.up_to_days
        return f"{low}–{high} days" if lang == "en" else f"{low}–{high}天"


@dataclass(frozen=True)
class Backlog:
    """积案 by age at one moment: every open case, counted once, in rising age bands."""

    as_of: datetime
    total: int
    buckets: tuple[AgeBucket, ...]


def backlog_by_age(
    session: Session,
    *,
    as_of: datetime,
    area_id: int | None = None,
    department_id: int | None = None,
    settings: IndicatorSettings = DEFAULT,
) -> Backlog:
    """Count 积案: cases open at ``as_of`` by days since registration, whatever their period.

    Open means what 超期未结案 means: registered before ``as_of``, not closed by then, not
    cancelled. Bands follow ``settings.backlog_bounds_days`` (default ≤ 7, 8–30, 31–90, > 90).
    """
    c = Case
    where = area_clauses(_area(session, area_id)) if area_id is not None else []
    if department_id is not None:
        where.append(c.department_id == department_id)
    bounds = settings.backlog_bounds_days
    edges = [as_of - timedelta(days=days) for days in bounds]  # newest first
    bands: list[ColumnElement[bool]] = [c.registered_at >= edges[0]]
    bands += [and_(c.registered_at < newer, c.registered_at >= older)
              for newer, older in itertools.pairwise(edges)]
    bands.append(c.registered_at < edges[-1])
    stmt = select(*(func.count(case((band, 1))) for band in bands)).where(
        c.registered_at < as_of, or_(c.closed_at.is_(None), c.closed_at >= as_of),
        c.cancelled_at.is_(None), *where,
    )
    counts = [int(v or 0) for v in session.execute(stmt).one()]
    lows = (0, *bounds)
    highs: tuple[int | None, ...] = (*bounds, None)
    buckets = tuple(AgeBucket(low, high, count)
                    for low, high, count in zip(lows, highs, counts, strict=True))
    return Backlog(as_of=as_of, total=sum(counts), buckets=buckets)


def indicators_by_area(
    session: Session,
    period: Period,
    *,
    level: str,
    parent_id: int | None = None,
    now: datetime,
    settings: IndicatorSettings = DEFAULT,
    settled: SettledParts | None = None,
) -> dict[int, IndicatorSet]:
    """Compute every indicator of every area at ``level`` under ``parent_id``, in code order."""
    if level not in _AREA_COLUMNS:
        raise ValueError(f"level must be one of {', '.join(_AREA_COLUMNS)}, not {level!r}")
    parent = _area(session, parent_id) if parent_id is not None else None
    if parent is not None and LEVELS.index(parent.level) >= LEVELS.index(level):
        raise ValueError(f"a {parent.level} has no {level} below it")
    children = select(Area.id).where(Area.level == level).order_by(Area.code)
    if parent is not None:
        children = children.where(hierarchy.in_subtree(Area.id, parent.id))
    child_ids = list(session.scalars(children))
    where = area_clauses(parent) if parent is not None else []
    rows = _aggregate(session, period, now, settings, _AREA_COLUMNS[level], where, settled)
    grids = hierarchy.grid_counts(session, level)
    return {
        area_id: _build(rows.get(area_id, {}), grids.get(area_id, 0), settings)
        for area_id in child_ids
    }


def indicators_grouped(
    session: Session,
    period: Period,
    *,
    group: Any,
    where: list[ColumnElement[bool]],
    now: datetime,
    settings: IndicatorSettings = DEFAULT,
) -> dict[Any, IndicatorSet]:
    """Compute every indicator per value of ``group`` (a Case column, e.g. the 路长 section)
    over the cases ``where`` keeps; groups without a relevant case are absent (all zeros)."""
    rows = _aggregate(session, period, now, settings, group, where)
    return {key: _build(row, None, settings) for key, row in rows.items() if key is not None}


def indicators_by_department(
    session: Session,
    period: Period,
    *,
    area_id: int | None = None,
    now: datetime,
    settings: IndicatorSettings = DEFAULT,
) -> dict[int, IndicatorSet]:
    """Compute every indicator of every department (within one area if given), in code order."""
    where: list[ColumnElement[bool]] = [Case.department_id.is_not(None)]
    if area_id is not None:
        where += area_clauses(_area(session, area_id))
    rows = _aggregate(session, period, now, settings, Case.department_id, where)
    departments = session.scalars(select(Department.id).order_by(Department.code))
    return {dept: _build(rows.get(dept, {}), None, settings) for dept in departments}


def score_composite(
    *,
    public_report_rate: Ratio,
    registered: int,
    grids: int,
    close_rate: Ratio,
    ontime_close_rate: Ratio,
    settings: IndicatorSettings = DEFAULT,
) -> Composite:
    """Score 综合指标值; a term without data has no score, and then neither has the total."""
    weights = settings.weights
    report = public_report_rate.value
    close = close_rate.value
    ontime = ontime_close_rate.value
    # Lower is better for 监督举报率, so its score is inverted; 结案率 scores as it stands.
    scores = (
        100.0 * (1.0 - report) if report is not None else None,
        band_volume(registered, grids, settings),
        100.0 * close if close is not None else None,
        100.0 * ontime if ontime is not None else None,
    )
    known = [score for score in scores if score is not None]
    total = None
    if len(known) == len(scores):
        weighted = sum(w * score for w, score in zip(astuple(weights), known, strict=True))
        # Rounded far below display precision so float noise never moves a grade boundary.
        total = round(weighted, 6)
    return Composite(
        public_report_score=scores[0],
        volume_score=scores[1],
        close_rate_score=scores[2],
        ontime_close_score=scores[3],
        grids=grids,
        registered_per_grid=registered / grids if grids else None,
        total=total,
        grade=grade(total, settings) if total is not None else None,
        weights=weights,
    )


def band_volume(registered: int, grids: int, settings: IndicatorSettings = DEFAULT) -> float | None:
    """Score 立案数 per unit grid by band, the average rounded half up to a whole case first."""
    if grids <= 0:
        return None
    whole = (2 * registered + grids) // (2 * grids)  # round half up, in exact integers
    for bound, score in settings.volume_bands:
        if whole <= bound:
            return score
    return settings.volume_floor


def grade(total: float, settings: IndicatorSettings = DEFAULT) -> str:
    """Grade a composite total: A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40, else E (by default)."""
    for bound, letter in settings.grades:
        if total >= bound:
            return letter
    return settings.lowest_grade


def target_score(
    actual: float | None, target: float | None, higher_is_better: bool
) -> float | None:
    """Score against a target as CityScore does: ≥ 1 meets it; math.inf beats a zero target."""
    if actual is None or target is None:
        return None
    top, bottom = (actual, target) if higher_is_better else (target, actual)
    if bottom == 0:
        return 1.0 if top == 0 else math.inf
    return top / bottom


def target_light(score: float | None, amber_from: float = AMBER_FROM) -> TargetLight | None:
    """Colour a target score: green when met, amber just below, red further below."""
    if score is None:
        return None
    if score >= 1.0:
        return "green"
    return "amber" if score >= amber_from else "red"


def deadline_light(
    now: datetime,
    dispatched_at: datetime | None,
    deadline_at: datetime | None,
    warn_fraction: float = WARN_FRACTION,
    due_soon: timedelta = DUE_SOON,
) -> Light:
    """Colour an open case: red past its deadline, yellow when it needs attention, else green.

    Yellow when it falls due within ``due_soon`` (the wall's "2小时内到期") or more than
    ``warn_fraction`` of the wall-clock time from dispatch to deadline is used (DOMAIN's
    light). A case without a deadline (not dispatched yet) is green.
    """
    if deadline_at is None:
        return "green"
    if now > deadline_at:
        return "red"
    if deadline_at - now <= due_soon:
        return "yellow"
    start = dispatched_at or deadline_at
    allowed = (deadline_at - start).total_seconds()
    if allowed <= 0:
        return "yellow"
    used = (now - start).total_seconds() / allowed
    return "yellow" if used > warn_fraction else "green"


def value_of(figures: IndicatorSet, key: str) -> float | None:
    """Return one indicator as a number (a rate's value, the composite's total), None if none."""
    value = getattr(figures, key)
    if isinstance(value, Ratio):
        return value.value
    if isinstance(value, Composite):
        return value.total
    return value


def ranking(sets: Mapping[int, IndicatorSet], key: str) -> dict[int, int | None]:
    """Rank on one indicator, best first (1 = best); ties share a rank; no value, no rank."""
    descending = INDICATOR_BY_KEY[key].higher_is_better is not False
    values = {owner: value_of(s, key) for owner, s in sets.items()}
    ordered = sorted((v for v in values.values() if v is not None), reverse=descending)
    first: dict[float, int] = {}
    for place, value in enumerate(ordered, start=1):
        first.setdefault(value, place)
    return {owner: (first[v] if v is not None else None) for owner, v in values.items()}


# --- SQL ----------------------------------------------------------------------------------------

_AREA_COLUMNS = {
    LEVEL_STREET: Case.street_id,
    LEVEL_COMMUNITY: Case.community_id,
    LEVEL_GRID: Case.grid_id,
}


class _Seconds(FunctionElement[float]):
    """Seconds from the first timestamp to the second, in whichever SQL dialect runs."""

    type = Float()
    name = "seconds_between"
    inherit_cache = True


@compiles(_Seconds)
def _seconds_postgresql(element: _Seconds, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"EXTRACT(EPOCH FROM ({end} - {start}))"


@compiles(_Seconds, "sqlite")
def _seconds_sqlite(element: _Seconds, compiler: SQLCompiler, **kw: Any) -> str:
    # julianday is a double: round to whole seconds so a limit of exactly N minutes is exact.
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"ROUND((julianday({end}) - julianday({start})) * 86400)"


def _measures(
    period: Period, now: datetime, settings: IndicatorSettings
) -> tuple[ColumnElement[bool], dict[str, ColumnElement[Any]]]:
    """Return the WHERE that keeps every case any measure needs, and the measures by name."""
    c = Case
    start, end = period.start, period.end
    as_of = min(now, end)  # the period's end, or now while the period is still running

    def within(column: Any) -> ColumnElement[bool]:
        # Up to as of: a wall looking back (GRIDWATCH_AS_OF) at a day of imported history
        # must not count what happened later that day; live, nothing lies after now.
        return and_(column >= start, column < as_of)

    def on_time(column: Any) -> ColumnElement[bool]:
        return or_(c.deadline_at.is_(None), column <= c.deadline_at)

    def present(*columns: Any) -> ColumnElement[bool]:
        return or_(*(column.is_not(None) for column in columns))

    live = c.cancelled_at.is_(None)
    registered = within(c.registered_at)
    kept = and_(registered, live)
    reported = within(c.reported_at)
    closed = and_(within(c.closed_at), live)
    still_open = and_(
        c.registered_at < as_of, or_(c.closed_at.is_(None), c.closed_at >= as_of), live
    )
    open_overdue = and_(still_open, c.deadline_at < as_of)
    if settings.due_convention == CLOSED:
        # 311: the cases closed in the period (by as of); no registration time is needed.
        due = and_(live, c.closed_at >= start, c.closed_at < as_of)
    else:
        # Bulletin: the period's kept registrations that are closed, or past their deadline,
        # by as of. A backlog of older cases stays out (超期未结案 and 积案 count it).
        due = and_(kept, or_(c.closed_at < as_of, c.deadline_at < as_of))
    dispatch_limit = timedelta(minutes=settings.ontime_dispatch_minutes)
    to_dispatch = and_(
        kept, or_(c.dispatched_at.is_not(None), c.registered_at <= now - dispatch_limit)
    )
    due_handled = and_(due, c.handled_at < as_of)
    due_closed = and_(due, c.closed_at < as_of)
    handled = and_(within(c.handled_at), live)
    timed = and_(handled, c.dispatched_at.is_not(None))
    valid = and_(reported, c.valid_report.is_(True))
    register_scope = or_(reported, registered)
    overdue_scope = or_(still_open, closed)
    conditions: dict[str, ColumnElement[bool]] = {
        "reported": reported,
        "valid_reported": valid,
        "registered_of_valid": and_(valid, c.registered_at.is_not(None)),
        "registered": registered,
        "cancelled": and_(registered, c.cancelled_at.is_not(None)),
        "kept": kept,
        "ontime_registered": and_(
            kept,
            _Seconds(c.reported_at, c.registered_at) <= 60 * settings.ontime_register_minutes,
        ),
        "public_registered": and_(kept, c.source.in_(settings.public_sources)),
        "to_dispatch": to_dispatch,
        "ontime_dispatched": and_(
            to_dispatch,
            c.dispatched_at.is_not(None),
            _Seconds(c.registered_at, c.dispatched_at) <= 60 * settings.ontime_dispatch_minutes,
        ),
        "misdispatched": and_(to_dispatch, c.misdispatched.is_(True)),
        "dispatched": and_(within(c.dispatched_at), live),
        "handled": handled,
        "closed": closed,
        "due": due,
        "due_handled": due_handled,
        "due_handled_ontime": and_(due_handled, on_time(c.handled_at)),
        "due_closed": due_closed,
        "due_closed_ontime": and_(due_closed, on_time(c.closed_at)),
        "due_reworked": and_(due, c.rework_count > 0),
        "due_extended": and_(due, c.extended.is_(True)),
        "open_overdue": open_overdue,
        "backlog_over_30": and_(
            still_open, c.registered_at < as_of - timedelta(days=BACKLOG_OVER_DAYS)
        ),
        "settled": and_(closed, c.settled_level.is_not(None)),
        "settled_grid": and_(closed, c.settled_level == SETTLED_GRID),
        "settled_street": and_(closed, c.settled_level == SETTLED_STREET),
        "settled_district": and_(closed, c.settled_level == SETTLED_DISTRICT),
        "timed": timed,
        # Does the data have the inputs? (docs/indicators.md, "No data is not zero")
        "register_known": and_(register_scope, c.registered_at.is_not(None)),
        "register_own": and_(register_scope, c.registered_at != c.reported_at),
        "register_skipped": and_(
            reported, c.registered_at.is_(None),
            present(c.dispatched_at, c.handled_at, c.closed_at),
        ),
        "dispatch_known": and_(kept, c.dispatched_at.is_not(None)),
        "dispatch_own": and_(kept, c.dispatched_at != c.registered_at),
        "dispatch_skipped": and_(
            kept, c.dispatched_at.is_(None), present(c.handled_at, c.closed_at)
        ),
        "due_handling_known": and_(due, c.handled_at.is_not(None)),
        "due_handling_skipped": and_(due, c.handled_at.is_(None), c.closed_at.is_not(None)),
        "due_deadline_known": and_(due, c.deadline_at.is_not(None)),
        "overdue_deadline_known": and_(overdue_scope, c.deadline_at.is_not(None)),
        "overdue_deadline_skipped": and_(
            overdue_scope, c.deadline_at.is_(None),
            present(c.dispatched_at, c.handled_at, c.closed_at),
        ),
    }
    measures: dict[str, ColumnElement[Any]] = {
        name: func.count(case((condition, 1))) for name, condition in conditions.items()
    }
    measures["rework_times"] = func.sum(case((due, c.rework_count), else_=0))
    measures["handling_seconds"] = func.sum(
        case((timed, _Seconds(c.dispatched_at, c.handled_at)), else_=0)
    )
    relevant = or_(
        reported,
        registered,
        within(c.dispatched_at),
        within(c.handled_at),
        within(c.closed_at),
        # A superset of ``still_open`` whose terms an index can drive (``closed_at``): the
        # exact test would match every old case by its registration and scan the table.
        and_(c.closed_at.is_(None), live),
        c.closed_at >= as_of,
    )
    return relevant, measures


def _aggregate(
    session: Session,
    period: Period,
    now: datetime,
    settings: IndicatorSettings,
    group: Any,
    where: list[ColumnElement[bool]],
    settled: SettledParts | None = None,
) -> dict[Any, Mapping[str, Any]]:
    """Run the one aggregate query, grouped by ``group`` (None: a single row keyed None).

    With ``settled``, a running period's cases settled before today's cutoff are read once
    and kept (``queries.settled``), and each call reads only the open and the day's cases.
    """
    relevant, measures = _measures(period, now, settings)
    columns = [m.label(name) for name, m in measures.items()]

    def read(*extra: ColumnElement[bool]) -> dict[Any, Mapping[str, Any]]:
        if group is None:
            stmt = select(*columns).where(relevant, *where, *extra)
            return {None: cast("Mapping[str, Any]", session.execute(stmt).mappings().one())}
        key = Unindexed(group)
        stmt = (select(key.label("group_key"), *columns).where(relevant, *where, *extra)
                .group_by(key))
        return {row["group_key"]: cast("Mapping[str, Any]", row)
                for row in session.execute(stmt).mappings()}

    moment = cutoff(now, timedelta(minutes=settings.ontime_dispatch_minutes))
    if settled is None or not period.start < moment <= now < period.end:
        return read()

    def ids(extra: ColumnElement[bool]) -> set[int]:
        return set(session.scalars(select(Case.id).where(relevant, *where, extra)))

    return settled.rows(session, _statement_key(period, settings, group, where), moment,
                        read, ids)


def _statement_key(period: Period, settings: IndicatorSettings, group: Any,
                   where: list[ColumnElement[bool]]) -> tuple[Any, ...]:
    """Name one aggregate's statement by everything but the clock: its period, rules, group
    and WHERE (compiled, with their parameters)."""
    clauses = [c.compile() for c in where] + ([] if group is None else [group.compile()])
    return (period.start, period.end, repr(settings),
            tuple((str(c), repr(sorted(c.params.items()))) for c in clauses))


def _area(session: Session, area_id: int) -> Area:
    area = session.get(Area, area_id)
    if area is None:
        raise LookupError(f"no area with id {area_id}")
    return area



def _build(row: Mapping[str, Any], grids: int | None, settings: IndicatorSettings) -> IndicatorSet:
    """Turn one row of measures into an IndicatorSet (an absent row is all zeros)."""
    n = {name: int(row.get(name) or 0) for name in _COUNTED}
    seconds = float(row.get("handling_seconds") or 0.0)
    due = n["due"]
    na = _not_applicable(n, settings.due_convention)

    def ratio(key: str, numerator: int, denominator: int) -> Ratio:
        return Ratio(numerator, denominator, na.get(key))

    public_report_rate = ratio("public_report_rate", n["public_registered"], n["kept"])
    close_rate = ratio("close_rate", n["due_closed"], due)
    ontime_close_rate = ratio("ontime_close_rate", n["due_closed_ontime"], due)
    composite = None
    if grids is not None:
        composite = score_composite(
            public_report_rate=public_report_rate,
            registered=n["registered"],
            grids=grids,
            close_rate=close_rate,
            ontime_close_rate=ontime_close_rate,
            settings=settings,
        )
    return IndicatorSet(
        reported=n["reported"],
        valid_reported=n["valid_reported"],
        registered=n["registered"],
        cancelled=n["cancelled"],
        dispatched=n["dispatched"],
        to_dispatch=n["to_dispatch"],
        handled=n["handled"],
        closed=n["closed"],
        due=due,
        rework_times=n["rework_times"],
        open_overdue=n["open_overdue"],
        backlog_over_30=n["backlog_over_30"],
        settled_grid=n["settled_grid"],
        settled_street=n["settled_street"],
        settled_district=n["settled_district"],
        handling_timed=n["timed"],
        valid_report_rate=ratio("valid_report_rate", n["valid_reported"], n["reported"]),
        register_rate=ratio("register_rate", n["registered_of_valid"], n["valid_reported"]),
        ontime_register_rate=ratio("ontime_register_rate", n["ontime_registered"], n["kept"]),
        accurate_register_rate=ratio(
            "accurate_register_rate", n["registered"] - n["cancelled"], n["registered"]
        ),
        ontime_dispatch_rate=ratio(
            "ontime_dispatch_rate", n["ontime_dispatched"], n["to_dispatch"]
        ),
        accurate_dispatch_rate=ratio(
            "accurate_dispatch_rate", n["to_dispatch"] - n["misdispatched"], n["to_dispatch"]
        ),
        handle_rate=ratio("handle_rate", n["due_handled"], due),
        ontime_handle_rate=ratio("ontime_handle_rate", n["due_handled_ontime"], due),
        overdue_handle_rate=ratio(
            "overdue_handle_rate", n["due_handled"] - n["due_handled_ontime"], due
        ),
        extension_rate=ratio("extension_rate", n["due_extended"], due),
        close_rate=close_rate,
        ontime_close_rate=ontime_close_rate,
        overdue_close_rate=ratio(
            "overdue_close_rate", n["due_closed"] - n["due_closed_ontime"], due
        ),
        rework_rate=ratio("rework_rate", n["due_reworked"], due),
        grid_settle_rate=ratio("grid_settle_rate", n["settled_grid"], n["settled"]),
        public_report_rate=public_report_rate,
        avg_handling_hours=seconds / n["timed"] / 3600.0 if n["timed"] else None,
        composite=composite,
        not_applicable=tuple((key, na[key]) for key in _NA_COUNTS if key in na),
    )


def _not_applicable(n: Mapping[str, int], convention: DueConvention) -> dict[str, str]:
    """Decide from the counts which indicators lack their inputs, and why (NA_REASONS keys).

    A timestamp is missing when no case of the scope has it while some case went past that
    stage without it; it is a copy when every case has it equal to the stage before. The first
    reason that holds wins. docs/indicators.md, "No data is not zero", lists each rule.
    """
    no_register = n["register_known"] == 0 and n["register_skipped"] > 0
    register_copied = n["register_known"] > 0 and n["register_own"] == 0
    no_dispatch = n["dispatch_known"] == 0 and n["dispatch_skipped"] > 0
    dispatch_copied = n["dispatch_known"] > 0 and n["dispatch_own"] == 0
    no_handling = n["due_handling_known"] == 0 and n["due_handling_skipped"] > 0
    no_deadline = n["due"] > 0 and n["due_deadline_known"] == 0
    closures_only = convention == CLOSED
    # Under the bulletin convention D is a set of registrations: without registration times
    # it is empty; and a case without a deadline is due only once closed, so with no deadlines
    # at all 结案率 and 处置率 would read 100% by construction.
    cohort = convention == BULLETIN
    Check = tuple[tuple[bool, str], ...]
    registration: Check = ((no_register, "no_register_time"),)
    registration_copied: Check = ((register_copied, "register_time_is_report_time"),)
    due_set: Check = ((cohort and no_register, "no_register_time"),)
    handling: Check = ((no_handling, "no_handling_time"),)
    deadlines: Check = ((no_deadline, "no_deadline"),)
    rules: dict[str, Check] = {
        "register_rate": registration + registration_copied,
        "ontime_register_rate": registration + registration_copied,
        "accurate_register_rate": registration,
        "public_report_rate": registration,
        "ontime_dispatch_rate": registration + (
            (no_dispatch, "no_dispatch_time"),
            (dispatch_copied, "dispatch_time_is_registration_time"),
        ),
        "accurate_dispatch_rate": registration + ((no_dispatch, "no_dispatch_time"),),
        "handle_rate": ((closures_only, "closed_convention"), *due_set, *handling,
                        (cohort and no_deadline, "no_deadline")),
        "ontime_handle_rate": due_set + handling + deadlines,
        "overdue_handle_rate": due_set + handling + deadlines,
        "extension_rate": due_set + deadlines,
        "close_rate": ((closures_only, "closed_convention"), *due_set,
                       (cohort and no_deadline, "no_deadline")),
        "ontime_close_rate": due_set + deadlines,
        "overdue_close_rate": due_set + deadlines,
        "rework_rate": due_set,
        "open_overdue": ((
            n["overdue_deadline_known"] == 0 and n["overdue_deadline_skipped"] > 0,
            "no_deadline",
        ),),
    }
    out: dict[str, str] = {}
    for key, checks in rules.items():
        reason = next((why for holds, why in checks if holds), None)
        if reason is not None:
            out[key] = reason
    return out


_NA_COUNTS = ("open_overdue",)
_COUNTED = (
    "reported", "valid_reported", "registered_of_valid", "registered", "cancelled", "kept",
    "ontime_registered", "public_registered", "to_dispatch", "ontime_dispatched", "misdispatched",
    "dispatched", "handled", "closed", "due", "due_handled", "due_handled_ontime", "due_closed",
    "due_closed_ontime", "due_reworked", "due_extended", "open_overdue", "backlog_over_30",
    "settled", "settled_grid", "settled_street", "settled_district", "timed", "rework_times",
    "register_known", "register_own", "register_skipped", "dispatch_known", "dispatch_own",
    "dispatch_skipped", "due_handling_known", "due_handling_skipped", "due_deadline_known",
    "overdue_deadline_known", "overdue_deadline_skipped",
)
