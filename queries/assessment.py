"""The monthly assessment (城市管理综合考核): scores, ranks, changes, red/black lists, publishing.

``assess_month`` computes a month from the case database under a set of rules; ``publish_month``
freezes it (figures as JSON, with the rules text and its sha256) so later data changes never
rewrite it; ``load_month`` returns the frozen figures of a published month and a provisional
computation otherwise. Every figure is defined in ``docs/assessment.md``; the short version:

- a **problem** is a case registered in the month, not cancelled, in the street (``street_id``);
- it costs base (by category and severity) × repeat factor + overdue extra + rework extra;
- a street's deduction per cause is the sum over its problems, divided by its number of unit
  grids when the rules say ``normalise: per_grid``, then capped; score = base − deductions + bonus;
- streets with fewer problems than ``min_sample`` are flagged and not ranked;
- ranks are competition ranks (ties share, the next rank skips) on the score rounded to 0.01.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from queries.areas import district as find_district
from queries.assessment_data import (
    CaseColumns,
    GridTally,
    Occurrences,
    StreetTally,
    category_points,
    load_case_columns,
    micros,
    occurrences,
    tally_month,
    volunteer_hours,
)
from queries.hierarchy import in_subtree, street_of_grids
from queries.indicators import DEFAULT, IndicatorSettings
from queries.kept_months import (
    DayRows,
    Entry,
    KeptMonths,
    clock_bounds,
    context_digest,
    inputs_digest,
)
from queries.models import (
    LEVEL_GRID,
    LEVEL_STREET,
    Area,
    AssessmentPublication,
    Case,
)
from queries.month_figures import (
    FiguresError,
    MonthFigures,
    figures_from_data,
    figures_to_data,
    month_figures,
)
from queries.rules import (
    CAUSES,
    NORMALISE_PER_GRID,
    Rules,
    check_streets,
    is_shipped_example,
)

FLAG_MIN_SAMPLE = "min_sample"  # fewer problems than the rules' min_sample: not ranked
UNGROUPED = "未分组"
STREAK_LOOKBACK_MONTHS = 24  # how far back consecutive_bottom_two looks through unpublished months
JSON_FORMAT = 1
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
# The months a case database can hold: a month outside them (0001-01, 9999-12) is a typo, and
# its neighbours (last month, next month) would leave what a datetime can represent.
FIRST_YEAR, LAST_YEAR = 1900, 2999
MAX_PUBLISHER = 64  # AssessmentPublication.published_by


class AssessmentError(ValueError):
    """The assessment cannot be made as asked; the message is meant for the user."""


class MonthError(AssessmentError):
    """A month is not written YYYY-MM."""


class PublishError(AssessmentError):
    """A month cannot be published now; ``reason`` and ``details`` let a page say it its way.

    Reasons: "not_over" (details: at), "before_data" (first), "already" (at, by),
    "publisher" (limit).
    """

    def __init__(self, message: str, reason: str = "", **details: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.details = details


@dataclass(frozen=True)
class Change:
    """A figure against last month: the previous value, the difference and the difference in %.

    All three are None when there is no previous month; ``pct`` is also None when the previous
    value is 0 (a zero denominator shows "—", never 0% or 100%).
    """

    previous: float | None = None
    delta: float | None = None
    pct: float | None = None


@dataclass(frozen=True)
class StreetResult:
    """One street's month: score, ranks, what cost it points, and how it moved."""

    code: str
    name: str
    group: str
    score: float
    rank: int | None  # among all ranked streets of the district; None when not ranked
    group_rank: int | None  # among the ranked streets of its group
    ranked: bool
    flag: str | None  # FLAG_MIN_SAMPLE, or None
    deductions: dict[str, float]  # cause → points after normalisation and cap (rules.CAUSES)
    capped: tuple[str, ...]  # causes that hit their cap
    total_deduction: float
    bonus: float
    volunteer_hours: float
    grids: int
    problems: int
    problems_costing_at_least_k: int
    overdue_problems: int
    rework_times: int
    repeats_by_occurrence: dict[int, int]  # occurrence (2, 3 …) → problems
    repeat_problems: int
    bottom_two: bool  # in the bottom ``rules.bottom_n`` of its group (倒数后两名)
    consecutive_bottom_two: int = 0  # months in a row in the bottom of its group, this one included
    score_change: Change = field(default_factory=Change)
    previous_rank: int | None = None
    rank_change: int | None = None  # previous_rank − rank: positive moved up
    problems_change: Change = field(default_factory=Change)
    costly_change: Change = field(default_factory=Change)  # of problems_costing_at_least_k
    repeats_change: Change = field(default_factory=Change)  # of repeat_problems


@dataclass(frozen=True)
class GridResult:
    """A unit grid on the red or black list: the points its problems cost.

    Scored as a street of one grid: each cause capped at the rules' caps, the total never
    above the base score, so a grid's deduction reads on the same 100-point scale.
    """

    code: str
    name: str
    street_code: str
    deduction: float
    problems: int
    capped: tuple[str, ...] = ()  # causes that hit their cap


@dataclass(frozen=True)
class GroupSummary:
    """An assessment group: its streets in group-rank order, mean score, gap and bottom streets."""

    name: str
    streets: tuple[str, ...]  # codes: ranked by group rank, then the unranked
    mean_score: float | None
    spread: float | None  # best − worst ranked score (the 分差)
    bottom_two: tuple[str, ...]


@dataclass(frozen=True)
class DistrictSummary:
    """The district's month: mean score of ranked streets, totals, and their changes."""

    code: str
    name: str
    score: float | None
    ranked_streets: int
    spread: float | None
    problems: int
    problems_costing_at_least_k: int
    repeat_problems: int
    repeats_by_occurrence: dict[int, int]
    score_change: Change = field(default_factory=Change)
    problems_change: Change = field(default_factory=Change)
    costly_change: Change = field(default_factory=Change)
    repeats_change: Change = field(default_factory=Change)
    previous_repeats_by_occurrence: dict[int, int] | None = None


@dataclass(frozen=True)
class MonthAssessment:
    """The whole month as the rankings page and the review-meeting deck show it."""

    month: str
    start: datetime
    end: datetime
    computed_at: datetime
    rules_title: str
    rules_sha256: str
    base_score: float
    cost_threshold: float
    min_sample: int
    bottom_n: int
    district: DistrictSummary
    groups: tuple[GroupSummary, ...]
    streets: tuple[StreetResult, ...]  # ranked by rank, then the unranked by code
    red_streets: tuple[str, ...]  # codes, best first
    black_streets: tuple[str, ...]  # codes, worst first
    red_grids: tuple[GridResult, ...]
    black_grids: tuple[GridResult, ...]
    warnings: tuple[str, ...]
    published: bool = False
    published_at: datetime | None = None
    published_by: str = ""
    # A running month (not over at computed_at) covers [start, computed_at) and is compared with
    # the same elapsed span of last month, [last month's start, previous_span_end); None: the
    # month is over and compared with the whole of last month.
    running: bool = False
    previous_span_end: datetime | None = None

    def street(self, code: str) -> StreetResult | None:
        """Return one street's result by code."""
        return next((s for s in self.streets if s.code == code), None)

    def in_group(self, name: str) -> tuple[StreetResult, ...]:
        """Return a group's streets in group-rank order (the unranked last)."""
        group = next((g for g in self.groups if g.name == name), None)
        return tuple(s for code in (group.streets if group else ()) if (s := self.street(code)))


@dataclass(frozen=True)
class PublishedMonth:
    """A frozen month: its figures and the rules (text and sha256) that made them."""

    month: str
    published_at: datetime
    published_by: str
    rules_sha256: str
    rules_text: str
    assessment: MonthAssessment
    # The deck's figures as they were at publication (None: published by an older version).
    figures: MonthFigures | None = None


# ---------------------------------------------------------------------------- public API


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """Return [start, end) of a month written YYYY-MM, or raise MonthError."""
    found = _MONTH.match(month) if isinstance(month, str) else None
    if not found:
        raise MonthError(f"{month!r} is not a month: write YYYY-MM, e.g. 2026-02")
    year, number = int(found[1]), int(found[2])
    try:
        return datetime(year, number, 1), datetime(year + number // 12, number % 12 + 1, 1)
    except ValueError as exc:  # year 0, or a month ending after 9999-12
        raise MonthError(f"{month!r} is not a month a calendar can hold") from exc


def check_month(month: str) -> tuple[datetime, datetime]:
    """Return a month's bounds when a reader may ask for it (an assessment, a deck, a page).

    Raise MonthError for a malformed month and for one outside FIRST_YEAR..LAST_YEAR, so a
    typo such as 0001-01 or 9999-12 gets one clear line instead of reaching the database.
    """
    found = _MONTH.match(month) if isinstance(month, str) else None
    if found and not FIRST_YEAR <= int(found[1]) <= LAST_YEAR:
        raise MonthError(f"{month!r} is outside the months Gridwatch handles "
                         f"({FIRST_YEAR}-01 to {LAST_YEAR}-12)")
    return month_bounds(month)


def shift_month(month: str, months: int) -> str:
    """Return the month ``months`` after (negative: before) a YYYY-MM month."""
    start, _ = month_bounds(month)
    index = start.year * 12 + start.month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def is_running(month: str, now: datetime) -> bool:
    """Return whether ``now`` falls inside the month (it has begun and is not over)."""
    start, end = month_bounds(month)
    return start <= now < end


def same_span_end(month: str, now: datetime) -> datetime:
    """Return where last month's same elapsed span ends: its start + (now − this month's start).

    Capped at last month's end (the 31st against a 30-day month compares with all of it).
    """
    start, _ = month_bounds(month)
    before_start, before_end = month_bounds(shift_month(month, -1))
    return min(before_start + (now - start), before_end)


def shown_month(now: datetime, rules: Rules) -> str:
    """Return the month the wall and /rankings show by default.

    The running month once ``rules.ranking_min_days`` whole days of it have passed; before
    that the last finished month (a day's data does not make a ranking).
    """
    current = f"{now:%Y-%m}"
    start, _ = month_bounds(current)
    if now - start >= timedelta(days=rules.ranking_min_days):
        return current
    return shift_month(current, -1)


def assess_month(session: Session, month: str, rules: Rules, *, now: datetime,
                 kept: KeptMonths | None = None) -> MonthAssessment:
    """Compute a month from the cases as they are now (provisional; never the frozen figures).

    Last month's figures and the bottom-of-group streak come from published months where they
    exist, and are computed under ``rules`` otherwise. A running month covers its start to
    ``now`` and is compared with the same elapsed span of last month; its streak is 0, since
    streaks count finished months only. With ``kept``, finished months are read from the kept
    results while nothing they read has changed (queries/kept_months.py), and kept when
    computed; the running month is always computed.
    """
    check_month(month)
    source = _Source(session, rules, now, kept)
    if is_running(month, now):
        return _with_history(source, _compute(source, month, cut=now),
                             span_end=same_span_end(month, now))
    return _with_history(source, source.finished(month))


def load_month(session: Session, month: str, rules: Rules, *, now: datetime,
               kept: KeptMonths | None = None) -> MonthAssessment:
    """Return a published month's frozen figures, or compute it provisionally."""
    check_month(month)
    published = publication(session, month)
    if published is not None:
        return published.assessment
    return assess_month(session, month, rules, now=now, kept=kept)


def dirty_months(session: Session, rules: Rules, *, now: datetime,
                 kept: KeptMonths) -> list[str]:
    """Return the finished, unpublished months with data whose kept result under ``rules`` is
    missing or no longer what a computation at ``now`` gives (queries/kept_months.py)."""
    source = _Source(session, rules, now, kept)
    published = set(session.scalars(select(AssessmentPublication.month)))
    dirty, month = [], source.first_month
    while month is not None and month_bounds(month)[1] <= now:
        if month not in published and source.kept_entry(month)[1] is None:
            dirty.append(month)
        month = shift_month(month, 1)
    return dirty


def check_publishable(session: Session, month: str, *, now: datetime, by: str = "",
                      force: bool = False) -> None:
    """Raise PublishError unless ``month`` may be published now by ``by``; writes nothing.

    A month already published is refused unless ``force``; a month not over at ``now`` is
    always refused, since its figures would still change, and so is a month before the data.
    """
    _, end = check_month(month)
    if len(by) > MAX_PUBLISHER:
        raise PublishError(f"the publisher's name has {len(by)} characters; at most "
                           f"{MAX_PUBLISHER}", "publisher", limit=str(MAX_PUBLISHER))
    if end > now:
        at = f"{end:%Y-%m-%d %H:%M}"
        raise PublishError(f"{month} is not over yet: it can be published from {at}",
                           "not_over", at=at)
    first = _first_month(session)
    if first is None or month < first:
        raise PublishError(f"{month} is before the first month with registered cases "
                           f"({first or 'none yet'}): nothing to publish", "before_data",
                           first=first or "")
    row = session.scalar(select(AssessmentPublication).where(AssessmentPublication.month == month))
    if row is not None and not force:
        who = f" by {row.published_by}" if row.published_by else ""
        at = f"{row.published_at:%Y-%m-%d %H:%M}"
        raise PublishError(f"{month} was already published on {at}{who}; publish it again with "
                           f"force (--force) to replace it", "already", at=at,
                           by=row.published_by)


def publish_month(session: Session, month: str, rules: Rules, *, now: datetime, by: str = "",
                  force: bool = False,
                  indicator_rules: IndicatorSettings = DEFAULT) -> PublishedMonth:
    """Freeze a finished month with the rules that made it, and commit (``check_publishable``).

    The deck's figures are frozen with it under ``indicator_rules`` (the app's due convention),
    the same rules ``gather`` reads a provisional month under.
    """
    check_publishable(session, month, now=now, by=by, force=force)
    row = session.scalar(select(AssessmentPublication).where(AssessmentPublication.month == month))
    frozen = replace(assess_month(session, month, rules, now=now), published=True,
                     published_at=now, published_by=by)
    # What the deck shows beside the ranking.
    figures = month_figures(session, month, now=now, settings=indicator_rules)
    if row is None:
        row = AssessmentPublication(month=month)
        session.add(row)
    row.published_at = now
    row.published_by = by
    row.rules_source = rules.source
    row.rules_sha256 = rules.sha256
    row.rules_text = rules.text
    row.result_json = assessment_to_json(frozen, figures)
    session.commit()
    return _published(row)


def publish(sessions: sessionmaker[Session], month: str, rules: Rules, *, now: datetime,
            by: str = "", force: bool = False,
            indicator_rules: IndicatorSettings = DEFAULT) -> PublishedMonth:
    """Publish a month in a transaction of its own: the one write of the rankings page and CLI.

    The command owns the unit of work (a session, the checks, the commit; closing the session
    rolls back whatever a failure left), so neither a callback nor a command-line handler holds
    publishing logic.
    """
    with sessions() as session:
        return publish_month(session, month, rules, now=now, by=by.strip(), force=force,
                             indicator_rules=indicator_rules)


def publication(session: Session, month: str) -> PublishedMonth | None:
    """Return a published month with its rules, or None when the month is provisional."""
    month_bounds(month)
    row = session.scalar(select(AssessmentPublication).where(AssessmentPublication.month == month))
    return None if row is None else _published(row)


def list_months(session: Session) -> list[tuple[str, bool]]:
    """Return (month, published) for every month with registered cases or a publication.

    The first and last times are two subqueries: SQLite reads min() or max() alone from the
    index's ends, but both in one SELECT scan all of it (0.2-0.3 s at 1M cases, each deck).
    """
    first, last = session.execute(
        select(select(func.min(Case.registered_at)).scalar_subquery(),
               select(func.max(Case.registered_at)).scalar_subquery())).one()
    published = set(session.scalars(select(AssessmentPublication.month)))
    months = set(published)
    if first is not None:
        month, final = f"{first:%Y-%m}", f"{last:%Y-%m}"
        while month <= final:
            months.add(month)
            month = shift_month(month, 1)
    return [(m, m in published) for m in sorted(months)]


def assessment_to_json(assessment: MonthAssessment, figures: MonthFigures | None = None) -> str:
    """Serialise a month's figures (and the deck's, when given); floats round-trip exactly.

    The deck's figures ride in the same JSON under "deck" rather than in a column of their own:
    no schema change for databases made by an earlier version, and one frozen record a month.
    """
    data: dict[str, Any] = {"format": JSON_FORMAT, "assessment": asdict(assessment)}
    if figures is not None:
        data["deck"] = figures_to_data(figures)
    return json.dumps(data, ensure_ascii=False, default=_json_default)


def figures_from_json(text: str) -> MonthFigures | None:
    """Return the deck's figures frozen in ``assessment_to_json`` output, or None without them."""
    deck = json.loads(text).get("deck")
    if deck is None:
        return None
    try:
        return figures_from_data(deck)
    except FiguresError:
        return None  # an older version's copy: the caller reads the figures live


def assessment_from_json(text: str) -> MonthAssessment:
    """Rebuild a month's figures from ``assessment_to_json`` output."""
    data = json.loads(text)
    if data.get("format") != JSON_FORMAT:
        raise AssessmentError(f"stored assessment has format {data.get('format')!r}, "
                              f"expected {JSON_FORMAT}")
    a = data["assessment"]
    return MonthAssessment(
        **{**a,
           "start": datetime.fromisoformat(a["start"]),
           "end": datetime.fromisoformat(a["end"]),
           "computed_at": datetime.fromisoformat(a["computed_at"]),
           "published_at": _optional_time(a["published_at"]),
           "previous_span_end": _optional_time(a.get("previous_span_end")),
           "district": _district_from(a["district"]),
           "groups": tuple(GroupSummary(**{**g, "streets": tuple(g["streets"]),
                                           "bottom_two": tuple(g["bottom_two"])})
                           for g in a["groups"]),
           "streets": tuple(_street_from(s) for s in a["streets"]),
           "red_streets": tuple(a["red_streets"]),
           "black_streets": tuple(a["black_streets"]),
           "red_grids": tuple(_grid_from(g) for g in a["red_grids"]),
           "black_grids": tuple(_grid_from(g) for g in a["black_grids"]),
           "warnings": tuple(a["warnings"])})


# ---------------------------------------------------------------------------- computation


class _Source:
    """The database reads of one assessment, shared by every month it looks at.

    Cases are loaded backwards in time as the history walk asks for them, each case once: the
    month and the one before first (last month's comparison needs it), then six more at a time.
    With kept months, the checksum rows of those days are read before their cases, and a
    finished month found clean loads no case of its own.
    """

    FIRST_CHUNK, CHUNK = 2, 6

    def __init__(self, session: Session, rules: Rules, now: datetime,
                 kept: KeptMonths | None = None) -> None:
        district = find_district(session)
        if district is None:
            raise AssessmentError("the database holds no district: generate or import a city "
                                  "first")
        self.session, self.rules, self.now, self.district = session, rules, now, district
        self.streets, self.grids = _areas(session, district.id)
        check_streets(rules, self.streets, district.name)
        self.points = category_points(session, rules)
        self.first_month = _first_month(session)
        self._history = timedelta(days=rules.repeat.history_days)
        self._columns: CaseColumns | None = None
        self._loaded: tuple[datetime, datetime] | None = None
        self.kept = kept
        self.days = DayRows(session, kept.days if kept is not None else None)
        self._context = context_digest(self.streets, self.grids, self.points)

    def finished(self, month: str) -> MonthAssessment:
        """Return a finished month without history: kept when clean, else computed (and kept).

        A month not over at ``now`` (one to come) is computed and never kept.
        """
        start, end = month_bounds(month)
        if self.kept is None or end > self.now:
            return _compute(self, month)
        inputs, entry = self.kept_entry(month)
        if entry is not None:
            return replace(assessment_from_json(entry.result_json), computed_at=self.now)
        result = _compute(self, month)
        cases = self.cases(month)
        own = (cases.registered >= micros(start)) & (cases.registered < micros(end))
        after, until = clock_bounds(cases.deadline[own], cases.finished[own], micros(self.now))
        self.kept.put(month, self.rules.sha256,
                      Entry(inputs, _from_micros(after), _from_micros(until),
                            assessment_to_json(result)), self.now)
        return result

    def kept_entry(self, month: str) -> tuple[str, Entry | None]:
        """Return a finished month's inputs digest and its kept entry when that still holds."""
        assert self.kept is not None
        start, end = month_bounds(month)
        since = start - self._history
        self.days.ensure(since, end)
        inputs = inputs_digest(self._context, self.days.digest(since, end),
                               volunteer_hours(self.session, start, end))
        entry = self.kept.get(self.session, month, self.rules.sha256)
        return inputs, entry if entry is not None and entry.holds(inputs, self.now) else None

    def cases(self, month: str) -> CaseColumns:
        """Return columns holding the month's cases and the repeat history before it."""
        start, end = month_bounds(month)
        if self._columns is None or self._loaded is None or end > self._loaded[1]:
            self._loaded = (month_bounds(shift_month(month, 1 - self.FIRST_CHUNK))[0]
                            - self._history, end)
            if self.kept is not None:
                self.days.ensure(*self._loaded)
            self._columns = self._load(*self._loaded)
        elif start - self._history < self._loaded[0]:
            since = month_bounds(shift_month(month, 1 - self.CHUNK))[0] - self._history
            if self.kept is not None:
                self.days.ensure(since, self._loaded[0])
            older = self._load(since, self._loaded[0])
            self._columns = older.extend(self._columns)
            self._loaded = (since, self._loaded[1])
        return self._columns

    def _load(self, start: datetime, end: datetime) -> CaseColumns:
        if self.kept is None:
            return load_case_columns(self.session, start, end)
        return self.kept.columns.load(self.session, start, end, self.days.cache.reads())

    def repeats(self) -> Occurrences:
        """How the tally finds repeat occurrences: kept by the process when it keeps months."""
        return occurrences if self.kept is None else self.kept.repeats


def _compute(source: _Source, month: str, cut: datetime | None = None) -> MonthAssessment:
    """Compute one month without last month's comparison or the streak.

    ``cut`` ends the month early: only problems registered and volunteer hours started before
    it count, and overdue is judged as it stood at ``cut`` (a running month, or last month's
    same elapsed span).
    """
    rules = source.rules
    start, end = month_bounds(month)
    until = end if cut is None else min(cut, end)
    as_of = min(source.now, until) if cut is not None else source.now
    tally = tally_month(source.cases(month), start, until, rules, source.points, as_of,
                        source.repeats())
    street_of_grid = {gid: street for gid, (_, _, street) in source.grids.items()}
    grid_count = Counter(street_of_grid.values())
    hours: dict[str, float] = defaultdict(float)
    for grid_id, total in volunteer_hours(source.session, start, until).items():
        if grid_id in street_of_grid:
            hours[street_of_grid[grid_id]] += total
    empty = StreetTally(causes=dict.fromkeys(CAUSES, 0.0), problems=0, costly=0, overdue=0,
                        rework=0, repeats={})
    results = [_street(code, name, rules, tally.streets.get(street_id, empty), grid_count[code],
                       hours.get(code, 0.0))
               for code, (street_id, name) in source.streets.items()]
    no_problems = GridTally(causes=dict.fromkeys(CAUSES, 0.0), problems=0)
    grid_rows = [_grid(code, name, street, rules, tally.grids.get(gid, no_problems))
                 for gid, (code, name, street) in source.grids.items()]
    warnings = _group_warnings(rules, source.streets, source.district.name)
    assembled = _assemble(month, start, end, source.now, rules, source.district,
                          _rank(results, rules), grid_rows, warnings)
    return replace(assembled, running=is_running(month, source.now))


def _areas(session: Session, district_id: int
           ) -> tuple[dict[str, tuple[int, str]], dict[int, tuple[str, str, str]]]:
    """Return streets {code: (id, name)} and grids {id: (code, name, street code)} of the
    district, found by parent links (codes are opaque)."""
    rows = session.execute(
        select(Area.id, Area.code, Area.name, Area.level)
        .where(Area.level.in_((LEVEL_STREET, LEVEL_GRID)), in_subtree(Area.id, district_id))
        .order_by(Area.code)
    ).all()
    street_of = street_of_grids(session, district_id)
    streets: dict[str, tuple[int, str]] = {}
    code_of: dict[int, str] = {}
    for area_id, code, name, level in rows:
        if level == LEVEL_STREET:
            streets[code] = (area_id, name)
            code_of[area_id] = code
    grids: dict[int, tuple[str, str, str]] = {}
    for area_id, code, name, level in rows:
        if level == LEVEL_GRID and street_of.get(area_id) in code_of:
            grids[area_id] = (code, name, code_of[street_of[area_id]])
    return streets, grids


def _street(code: str, name: str, rules: Rules, tally: StreetTally, grids: int,
            hours: float) -> StreetResult:
    """Score one street from its tally (rank fields are filled by ``_rank``)."""
    divisor = max(grids, 1) if rules.normalise == NORMALISE_PER_GRID else 1
    deductions: dict[str, float] = {}
    capped: list[str] = []
    for cause in CAUSES:
        points = tally.causes[cause] / divisor
        cap = rules.caps.get(cause)
        if cap is not None and points > cap:
            points = cap
            capped.append(cause)
        deductions[cause] = _points(points)
    total = _points(sum(deductions.values()))
    bonus = _points(rules.volunteer_bonus.points_for(hours)) if rules.volunteer_bonus else 0.0
    ranked = tally.problems >= rules.min_sample
    return StreetResult(
        code=code, name=name, group=rules.group_of(code) or UNGROUPED,
        score=_points(max(0.0, rules.base_score - total + bonus)),
        rank=None, group_rank=None, ranked=ranked, flag=None if ranked else FLAG_MIN_SAMPLE,
        deductions=deductions, capped=tuple(capped), total_deduction=total, bonus=bonus,
        volunteer_hours=round(hours, 2), grids=grids, problems=tally.problems,
        problems_costing_at_least_k=tally.costly, overdue_problems=tally.overdue,
        rework_times=tally.rework, repeats_by_occurrence=dict(sorted(tally.repeats.items())),
        repeat_problems=sum(tally.repeats.values()), bottom_two=False,
    )


def _grid(code: str, name: str, street_code: str, rules: Rules, tally: GridTally) -> GridResult:
    """Cost one unit grid's month: per cause, capped as a street's; never above the base."""
    total, capped = 0.0, []
    for cause in CAUSES:
        points = tally.causes[cause]
        cap = rules.caps.get(cause)
        if cap is not None and points > cap:
            points = cap
            capped.append(cause)
        total += _points(points)
    return GridResult(code=code, name=name, street_code=street_code,
                      deduction=_points(min(total, rules.base_score)), problems=tally.problems,
                      capped=tuple(capped))


def _rank(results: list[StreetResult], rules: Rules) -> list[StreetResult]:
    """Fill overall and group ranks and the bottom-of-group flag; order by rank."""
    ranked = [r for r in results if r.ranked]
    overall = _competition_ranks(ranked)
    out = []
    for result in results:
        if not result.ranked:
            out.append(result)
            continue
        peers = [r for r in ranked if r.group == result.group]
        lower = sum(r.score < result.score for r in peers)
        out.append(replace(
            result, rank=overall[result.code], group_rank=_competition_ranks(peers)[result.code],
            bottom_two=len(peers) > rules.bottom_n and lower < rules.bottom_n,
        ))
    return sorted(out, key=lambda r: (not r.ranked, r.rank or 0, r.code))


def _competition_ranks(results: list[StreetResult]) -> dict[str, int]:
    """Return 1 + the number of strictly better scores (ties share a rank)."""
    return {r.code: 1 + sum(o.score > r.score for o in results) for r in results}


def _assemble(month: str, start: datetime, end: datetime, now: datetime, rules: Rules,
              district: Area, streets: list[StreetResult], grids: list[GridResult],
              warnings: list[str]) -> MonthAssessment:
    """Put the ranked streets, groups, lists and district figures together."""
    ranked = [s for s in streets if s.ranked]
    group_names = [g.name for g in rules.groups]
    if any(s.group == UNGROUPED for s in streets):
        group_names.append(UNGROUPED)
    groups = []
    for name in group_names:
        members = sorted((s for s in streets if s.group == name),
                         key=lambda s: (not s.ranked, s.group_rank or 0, s.code))
        scores = [s.score for s in members if s.ranked]
        groups.append(GroupSummary(
            name=name, streets=tuple(s.code for s in members), mean_score=_mean(scores),
            spread=_points(max(scores) - min(scores)) if scores else None,
            bottom_two=tuple(s.code for s in members if s.bottom_two)))
    red = tuple(s.code for s in ranked[:rules.lists.red_streets])
    black = tuple(s.code for s in reversed(ranked) if s.code not in red)[:rules.lists.black_streets]
    # No cases is not excellence: a red grid has at least lists.red_grid_min_problems problems.
    red_grids = sorted((g for g in grids if g.problems >= rules.lists.red_grid_min_problems),
                       key=lambda g: (g.deduction, g.problems, g.code))
    red_grids = red_grids[:rules.lists.red_grids]
    chosen = {g.code for g in red_grids}
    black_grids = sorted((g for g in grids if g.deduction > 0 and g.code not in chosen),
                         key=lambda g: (-g.deduction, -g.problems, g.code))
    scores = [s.score for s in ranked]
    repeats: Counter[int] = Counter()
    for s in streets:
        repeats.update(s.repeats_by_occurrence)
    return MonthAssessment(
        month=month, start=start, end=end, computed_at=now, rules_title=rules.title,
        rules_sha256=rules.sha256, base_score=rules.base_score,
        cost_threshold=rules.cost_threshold, min_sample=rules.min_sample,
        bottom_n=rules.bottom_n,
        district=DistrictSummary(
            code=district.code, name=district.name, score=_mean(scores),
            ranked_streets=len(ranked),
            spread=_points(max(scores) - min(scores)) if scores else None,
            problems=sum(s.problems for s in streets),
            problems_costing_at_least_k=sum(s.problems_costing_at_least_k for s in streets),
            repeat_problems=sum(s.repeat_problems for s in streets),
            repeats_by_occurrence=dict(sorted(repeats.items())),
        ),
        groups=tuple(groups), streets=tuple(streets), red_streets=red,
        black_streets=black, red_grids=tuple(red_grids),
        black_grids=tuple(black_grids[:rules.lists.black_grids]), warnings=tuple(warnings),
    )


def _group_warnings(rules: Rules, streets: dict[str, tuple[int, str]], district: str) -> list[str]:
    """Name the streets the groups miss (an entry that is no street fails the rules instead)."""
    listed = {code for group in rules.groups for code in group.streets}
    out = [f"{code} {name} is in no group: ranked in {UNGROUPED}"
           for code, (_, name) in streets.items() if code not in listed]
    if is_shipped_example(rules) and listed - set(streets):
        out.insert(0, f"the shipped example rules name another city's streets, not those of "
                      f"{district}: write rules for yours with `gridwatch rules init`")
    return out


# ---------------------------------------------------------------------------- history


def _with_history(source: _Source, current: MonthAssessment,
                  span_end: datetime | None = None) -> MonthAssessment:
    """Add last month's comparison and the bottom-of-group streak to a computed month.

    With ``span_end`` (a running month) last month is cut to the same elapsed span and the
    streak is 0: a provisional month is never counted in a run.
    """
    before = shift_month(current.month, -1)
    if span_end is None:
        previous = _past(source, before)
        streaks = _streaks(source, current, previous)
    else:
        first = source.first_month
        previous = (None if first is None or before < first
                    else _compute(source, before, cut=span_end))
        streaks = {}
    streets = []
    for s in current.streets:
        p = previous.street(s.code) if previous else None
        streets.append(replace(
            s, consecutive_bottom_two=streaks.get(s.code, 0),
            score_change=_change(s.score, p.score if p else None),
            previous_rank=p.rank if p else None,
            rank_change=p.rank - s.rank if p and p.rank and s.rank else None,
            problems_change=_change(s.problems, p.problems if p else None),
            costly_change=_change(s.problems_costing_at_least_k,
                                  p.problems_costing_at_least_k if p else None),
            repeats_change=_change(s.repeat_problems, p.repeat_problems if p else None),
        ))
    d, pd = current.district, previous.district if previous else None
    district = replace(
        d,
        score_change=_change(d.score, pd.score if pd else None),
        problems_change=_change(d.problems, pd.problems if pd else None),
        costly_change=_change(d.problems_costing_at_least_k,
                              pd.problems_costing_at_least_k if pd else None),
        repeats_change=_change(d.repeat_problems, pd.repeat_problems if pd else None),
        previous_repeats_by_occurrence=pd.repeats_by_occurrence if pd else None,
    )
    return replace(current, streets=tuple(streets), district=district,
                   previous_span_end=span_end)


def _streaks(source: _Source, current: MonthAssessment,
             previous: MonthAssessment | None) -> dict[str, int]:
    """Count months in a row in the bottom of the group, walking back until every run ends.

    A published month's stored streak already counts the months before it, so the walk stops
    there; unpublished months are computed under the current rules.
    """
    streak = {s.code: 1 for s in current.streets if s.bottom_two}
    running = set(streak)
    month, past = current.month, previous
    for _ in range(STREAK_LOOKBACK_MONTHS):
        if not running or past is None:
            break
        for code in sorted(running):
            s = past.street(code)
            if s is None or not s.bottom_two:
                running.discard(code)
            elif past.published:
                streak[code] += s.consecutive_bottom_two
                running.discard(code)
            else:
                streak[code] += 1
        month = shift_month(month, -1)
        if running:
            past = _past(source, shift_month(month, -1))
    return streak


def _past(source: _Source, month: str) -> MonthAssessment | None:
    """Return an earlier month: published figures, else computed, else None before the data."""
    published = publication(source.session, month)
    if published is not None:
        return published.assessment
    if source.first_month is None or month < source.first_month:
        return None
    return source.finished(month)


def _first_month(session: Session) -> str | None:
    """Return the month of the earliest registered case."""
    first = session.scalar(select(func.min(Case.registered_at)))
    return None if first is None else f"{first:%Y-%m}"


# ---------------------------------------------------------------------------- small helpers


def _from_micros(value: int | None) -> datetime | None:
    return None if value is None else datetime(1970, 1, 1) + timedelta(microseconds=value)


def _points(value: float) -> float:
    return round(value + 0.0, 2)  # + 0.0 turns a -0.0 into 0.0


def _mean(values: list[float]) -> float | None:
    return _points(sum(values) / len(values)) if values else None


def _change(current: float | None, previous: float | None) -> Change:
    if current is None or previous is None:
        return Change(previous=previous)
    both_counts = isinstance(current, int) and isinstance(previous, int)
    delta = current - previous if both_counts else _points(current - previous)
    pct = None if previous == 0 else _points(delta / previous * 100)
    return Change(previous=previous, delta=delta, pct=pct)


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in an assessment")


def _optional_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _occurrences(data: dict[str, int] | None) -> dict[int, int] | None:
    return None if data is None else {int(k): v for k, v in data.items()}


def _grid_from(g: dict[str, Any]) -> GridResult:
    return GridResult(**{**g, "capped": tuple(g.get("capped", ()))})


def _street_from(s: dict[str, Any]) -> StreetResult:
    return StreetResult(**{
        **s, "capped": tuple(s["capped"]),
        "repeats_by_occurrence": _occurrences(s["repeats_by_occurrence"]),
        **{k: Change(**s[k]) for k in ("score_change", "problems_change", "costly_change",
                                       "repeats_change")},
    })


def _district_from(d: dict[str, Any]) -> DistrictSummary:
    return DistrictSummary(**{
        **d, "repeats_by_occurrence": _occurrences(d["repeats_by_occurrence"]),
        "previous_repeats_by_occurrence": _occurrences(d["previous_repeats_by_occurrence"]),
        **{k: Change(**d[k]) for k in ("score_change", "problems_change", "costly_change",
                                       "repeats_change")},
    })


def _published(row: AssessmentPublication) -> PublishedMonth:
    return PublishedMonth(
        month=row.month, published_at=row.published_at, published_by=row.published_by,
        rules_sha256=row.rules_sha256, rules_text=row.rules_text,
        assessment=assessment_from_json(row.result_json),
        figures=figures_from_json(row.result_json),
    )
