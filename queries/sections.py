"""路长制: each responsibility road section's cases, 销号率, check-ins, score, and the 红黑榜.

Definitions (docs/sections.md, docs/indicators.md):

- A section's cases are the cases whose point lies in its outline (``Case.section_id``).
- 销号率 is the city's 结案率 on those cases: 应销号 is the 应结案 set of ``queries.indicators``
  (the bulletin convention by default: the period's registrations, not cancelled, closed or past
  their deadline by as of), 销号 the ones closed; 按期销号率 counts those closed by their deadline.
  Both come from ``indicators_grouped``, so they can never drift from the district's 结案率.
- 到岗天数: the days of the period (up to as of) on which the section's check-ins add up to at
  least ``SectionRules.checkin_minutes``; 到岗率 = 到岗天数 ÷ the period's days begun so far
  (today counts from midnight: the day's board shows who has come so far — 日督促).
- Open cases and the overdue list are read live at ``now`` (status open; overdue: deadline
  before now).
- score = 100 × Σ weight × term (``SectionRules.weights``); None when 应销号 < ``min_due``
  (listed, not ranked). An empty denominator is None, shown "—", never 0% or 100%.

Every function that returns case rows or figures counted case by case takes ``scope``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from queries.indicators import DEFAULT, IndicatorSettings, Ratio, indicators_grouped
from queries.models import OPEN_STATUSES, Case, Category, RoadSection, SectionCheckin
from queries.periods import MONTH, Period, period_for, previous
from queries.rules import SectionRules
from queries.scope import Scope

OVERDUE_SHOWN = 50


@dataclass(frozen=True)
class SectionRef:
    """A section as lists and the map name it."""

    id: int
    code: str
    name: str
    leader: str
    leader_unit: str
    leader_phone: str | None
    responsible_unit: str


@dataclass(frozen=True)
class SectionFigures:
    """One section's figures for a period, at ``now``."""

    section: SectionRef
    open_cases: int
    open_overdue: int
    due: int
    close_rate: Ratio
    ontime_close_rate: Ratio
    checkin_days: int
    period_days: int
    score: float | None
    rank: int | None = None

    @property
    def checkin_rate(self) -> Ratio:
        """到岗率: check-in days over the period's days begun so far."""
        return Ratio(self.checkin_days, self.period_days)

    @property
    def ranked(self) -> bool:
        """False for a section with too few cases to close out (listed, not ranked)."""
        return self.score is not None


@dataclass(frozen=True)
class OverdueCase:
    """An open case of the section past its deadline, most overdue first."""

    external_id: str
    minor: str
    status: str
    address: str
    deadline_at: datetime
    hours_over: float


@dataclass(frozen=True)
class SectionBoard:
    """Every section ranked for a period, with the 红黑榜 the rules ask for."""

    period: Period
    now: datetime
    rows: list[SectionFigures]  # ranked by score (best first), then the unranked by code
    red: list[SectionFigures]
    black: list[SectionFigures]  # worst first
    rules: SectionRules


@dataclass(frozen=True)
class SectionDetail:
    """One section's view: its figures, overdue list and the days its 路长 checked in."""

    figures: SectionFigures
    overdue: list[OverdueCase]
    checkin_dates: list[date]


def as_of(period: Period, now: datetime) -> datetime:
    """Return the moment the period's figures are read at: its end, or now while it runs."""
    return min(now, period.end)


def last_day(period: Period, now: datetime) -> date:
    """Return the last day of the period begun by as of (before the first: none begun)."""
    return (as_of(period, now) - timedelta(microseconds=1)).date()


def period_days(period: Period, now: datetime) -> int:
    """Return the days of the period begun by ``now`` (0 for a period still to come)."""
    return max(0, (last_day(period, now) - period.start.date()).days + 1)


def default_period(now: datetime, min_days: int) -> Period:
    """Return the month a board shows by default: the running month once ``min_days`` whole
    days of it have passed (the rules' ``ranking.min_days``, as the assessment does), else the
    last month — on the 2nd a month has too few cases to rank anyone."""
    month = period_for(MONTH, now)
    return month if (now - month.start).days >= min_days else previous(month)


def sections(session: Session) -> list[SectionRef]:
    """Return every section, in code order."""
    return [SectionRef(s.id, s.code, s.name, s.leader, s.leader_unit, s.leader_phone,
                       s.responsible_unit)
            for s in session.scalars(select(RoadSection).order_by(RoadSection.code))]


def checkin_days(session: Session, period: Period, now: datetime,
                 minimum_minutes: int) -> dict[int, int]:
    """Return, per section id, the days in the period (to as of) with ≥ ``minimum_minutes``."""
    per_day = (select(SectionCheckin.section_id, SectionCheckin.day)
               .where(SectionCheckin.day >= period.start.date(),
                      SectionCheckin.day <= last_day(period, now))
               .group_by(SectionCheckin.section_id, SectionCheckin.day)
               .having(func.sum(SectionCheckin.minutes) >= minimum_minutes).subquery())
    return dict(session.execute(select(per_day.c.section_id, func.count())
                                .group_by(per_day.c.section_id)).all())


def open_counts(session: Session, now: datetime, *, scope: Scope) -> dict[int, tuple[int, int]]:
    """Return, per section id, its open cases in ``scope`` now and how many are overdue."""
    late = case((Case.deadline_at < now, 1))
    rows = session.execute(
        select(Case.section_id, func.count(), func.count(late))
        .where(Case.section_id.is_not(None), Case.status.in_(OPEN_STATUSES),
               scope.case_clause())
        .group_by(Case.section_id))
    return {sid: (total, overdue) for sid, total, overdue in rows if sid is not None}


def score(close: Ratio, ontime: Ratio, checkin: Ratio, due: int,
          rules: SectionRules) -> float | None:
    """Return a section's score (0–100), or None when it has too few cases to be ranked."""
    terms = {"close_rate": close.value, "ontime_close_rate": ontime.value,
             "checkin_rate": checkin.value}
    if due < max(rules.min_due, 1) or any(v is None for v in terms.values()):
        return None
    return 100.0 * sum(rules.weights[k] * (v or 0.0) for k, v in terms.items())


def section_figures(session: Session, period: Period, now: datetime, rules: SectionRules, *,
                    scope: Scope, settings: IndicatorSettings = DEFAULT,
                    ) -> list[SectionFigures]:
    """Return every section's figures for the period in ``scope``, in code order (unranked)."""
    refs = sections(session)
    sets = indicators_grouped(session, period, group=Case.section_id,
                              where=[Case.section_id.is_not(None), scope.case_clause()],
                              now=now, settings=settings)
    checked = checkin_days(session, period, now, rules.checkin_minutes)
    opened = open_counts(session, now, scope=scope)
    days = period_days(period, now)
    out = []
    for ref in refs:
        figures = sets.get(ref.id)
        close = figures.close_rate if figures else Ratio(0, 0)
        ontime = figures.ontime_close_rate if figures else Ratio(0, 0)
        due = figures.due if figures else 0
        came = min(checked.get(ref.id, 0), days)
        total, overdue = opened.get(ref.id, (0, 0))
        out.append(SectionFigures(
            section=ref, open_cases=total, open_overdue=overdue, due=due, close_rate=close,
            ontime_close_rate=ontime, checkin_days=came, period_days=days,
            score=score(close, ontime, Ratio(came, days), due, rules)))
    return out


def rank(figures: list[SectionFigures]) -> list[SectionFigures]:
    """Rank by score (best first; equal scores share a rank), the unranked after, by code."""
    scores = [round(f.score, 9) for f in figures if f.score is not None]
    ranked = sorted((f for f in figures if f.score is not None),
                    key=lambda f: (-round(f.score or 0.0, 9), f.section.code))
    out = [_with_rank(f, 1 + sum(s > round(f.score or 0.0, 9) for s in scores)) for f in ranked]
    return out + sorted((f for f in figures if f.score is None), key=lambda f: f.section.code)


def _with_rank(f: SectionFigures, rank_no: int) -> SectionFigures:
    return SectionFigures(f.section, f.open_cases, f.open_overdue, f.due, f.close_rate,
                          f.ontime_close_rate, f.checkin_days, f.period_days, f.score, rank_no)


def red_black(rows: list[SectionFigures], rules: SectionRules,
              ) -> tuple[list[SectionFigures], list[SectionFigures]]:
    """Return the red list (the best ``red``) and the black list (the worst ``black``, worst
    first) of the ranked rows; a section is never on both (few ranked: the red list wins)."""
    ranked = [f for f in rows if f.ranked]
    red = ranked[:rules.red]
    rest = ranked[len(red):]
    black = list(reversed(rest[max(0, len(rest) - rules.black):]))
    return red, black


def section_board(session: Session, period: Period, now: datetime, rules: SectionRules, *,
                  scope: Scope, settings: IndicatorSettings = DEFAULT) -> SectionBoard:
    """Return the ranking of every section and the 红黑榜 for the period, in ``scope``."""
    rows = rank(section_figures(session, period, now, rules, scope=scope, settings=settings))
    red, black = red_black(rows, rules)
    return SectionBoard(period=period, now=now, rows=rows, red=red, black=black, rules=rules)


def overdue_cases(session: Session, section_id: int, now: datetime, *, scope: Scope,
                  limit: int = OVERDUE_SHOWN) -> list[OverdueCase]:
    """Return the section's open cases past their deadline now, most overdue first."""
    rows = session.execute(
        select(Case.external_id, Category.minor, Case.status, Case.address, Case.deadline_at)
        .join(Category, Case.category_id == Category.id)
        .where(Case.section_id == section_id, Case.status.in_(OPEN_STATUSES),
               Case.deadline_at < now, scope.case_clause())
        .order_by(Case.deadline_at, Case.id).limit(limit))
    return [OverdueCase(ext, minor, status, address, deadline,
                        round((now - deadline).total_seconds() / 3600.0, 1))
            for ext, minor, status, address, deadline in rows if deadline is not None]


def checkin_dates(session: Session, section_id: int, period: Period, now: datetime,
                  minimum_minutes: int) -> list[date]:
    """Return the days of the period (to as of) the section's 路长 checked in, in order."""
    return list(session.scalars(
        select(SectionCheckin.day)
        .where(SectionCheckin.section_id == section_id,
               SectionCheckin.day >= period.start.date(),
               SectionCheckin.day <= last_day(period, now))
        .group_by(SectionCheckin.day)
        .having(func.sum(SectionCheckin.minutes) >= minimum_minutes)
        .order_by(SectionCheckin.day)))


def section_detail(session: Session, code: str, period: Period, now: datetime,
                   rules: SectionRules, *, scope: Scope,
                   settings: IndicatorSettings = DEFAULT) -> SectionDetail | None:
    """Return one section's view (None for an unknown code), ranked among all sections."""
    board = section_board(session, period, now, rules, scope=scope, settings=settings)
    figures = next((f for f in board.rows if f.section.code == code), None)
    if figures is None:
        return None
    sid = figures.section.id
    return SectionDetail(
        figures=figures,
        overdue=overdue_cases(session, sid, now, scope=scope),
        checkin_dates=checkin_dates(session, sid, period, now, rules.checkin_minutes))
