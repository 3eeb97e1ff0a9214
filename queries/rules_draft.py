"""Draft an assessment rules file (考核细则) for the areas in the database.

The shipped rules name the demo city's streets; a real city needs its own. ``draft_rules``
writes a complete, loadable file from the database: every street in a group, and the
thresholds that depend on the size of the city scaled to its case volumes. The policy parts
(points per problem, the repeat rule, the overdue and rework costs) stay those of the shipped
example — they are the city's choice, not a function of its data. The text says where each
number came from, so the person who adopts it can edit it knowingly.

How the numbers are made (``docs/import-areas.md`` repeats this for users):
- volume = a street's registered, not cancelled cases per month over the last three whole
  months before ``now`` (all months with cases when those three hold none);
- groups: one group up to 5 streets; two (halves by volume) up to 8; three (terciles) from 9 —
  streets of similar volume are ranked against each other;
- normalise: ``per_grid`` when the median street has 100 or more problems a month (case-system
  volumes), else ``none``;
- min_sample: a quarter of the median street's monthly volume (at least 1);
- caps: twice the typical month's problem deduction, 10 to 60 points, and a third of that for
  repeat and overdue, a sixth for rework;
- list sizes: a third of the streets (1–3) and a tenth of the grids (1–10); ``bottom_n`` 2, or 1
  when a group has 3 or fewer streets.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from queries import hierarchy
from queries.areas import district as find_district
from queries.models import LEVEL_STREET, Case, RoadSection
from queries.rules import SECTION_TERMS, SectionRules

LOOKBACK_MONTHS = 3
NO_CASES = "no cases yet"
PER_GRID_FROM = 100  # median monthly problems of a street from which per_grid normalisation fits
MEAN_POINTS = 0.6  # about what one problem deducts under the example's deduction tables


class DraftError(ValueError):
    """No rules can be drafted (no district or no street); the message is for the user."""


@dataclass(frozen=True)
class StreetVolume:
    """One street and what the draft knows of it."""

    code: str
    name: str
    per_month: float
    grids: int


def _month_start(year: int, month: int) -> datetime:
    while month < 1:
        year, month = year - 1, month + 12
    return datetime(year, month, 1)


def street_volumes(session: Session, now: datetime) -> tuple[list[StreetVolume], str]:
    """Return the district's streets with monthly volumes, and the window they were read over."""
    district = find_district(session)
    if district is None:
        raise DraftError("the database holds no district: import the boundaries first "
                         "(gridwatch import-areas FILE --level street)")
    streets = hierarchy.descendants_at_level(session, district.id, LEVEL_STREET)
    if not streets:
        raise DraftError("the database holds no street: import the boundaries first "
                         "(gridwatch import-areas FILE --level street)")
    grids = hierarchy.grid_counts(session, LEVEL_STREET)
    end = _month_start(now.year, now.month)
    start = _month_start(now.year, now.month - LOOKBACK_MONTHS)
    counts, months = _counts(session, start, end), float(LOOKBACK_MONTHS)
    window = f"{start:%Y-%m} – {_month_start(now.year, now.month - 1):%Y-%m}"
    if not counts:
        counts = _counts(session, None, None)
        span = session.execute(select(func.min(Case.registered_at), func.max(Case.registered_at))
                               .where(Case.cancelled_at.is_(None))).one()
        if span[0] is not None:
            # MIN and MAX are NULL together, so both are set here.
            first, last = cast("tuple[datetime, datetime]", tuple(span))
            months = float((last.year - first.year) * 12 + last.month - first.month + 1)
            window = f"{first:%Y-%m} – {last:%Y-%m} (no cases in the last {LOOKBACK_MONTHS} months)"
        else:
            window = NO_CASES
    return [StreetVolume(code=s.code, name=s.name, per_month=counts.get(s.id, 0) / months,
                         grids=grids.get(s.id, 0)) for s in streets], window


def _counts(session: Session, start: datetime | None, end: datetime | None) -> dict[int, int]:
    stmt = (select(Case.street_id, func.count()).where(Case.registered_at.is_not(None),
                                                       Case.cancelled_at.is_(None))
            .group_by(Case.street_id))
    if start is not None and end is not None:
        stmt = stmt.where(Case.registered_at >= start, Case.registered_at < end)
    return {street: n for street, n in session.execute(stmt)}


def split_groups(streets: list[StreetVolume]) -> list[list[StreetVolume]]:
    """Split streets into 1, 2 or 3 groups of similar volume (busiest first)."""
    ordered = sorted(streets, key=lambda s: (-s.per_month, s.code))
    n = len(ordered)
    parts = 1 if n <= 5 else 2 if n <= 8 else 3
    bounds = [round(n * k / parts) for k in range(parts + 1)]
    return [ordered[bounds[k]:bounds[k + 1]] for k in range(parts)]


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def draft_rules(session: Session, *, now: datetime, title: str | None = None) -> str:
    """Return the text of a rules file for the database's streets (loads with parse_rules)."""
    streets, window = street_volumes(session, now)
    district = find_district(session)
    assert district is not None  # street_volumes checked
    volumes = [s.per_month for s in streets]
    median = statistics.median(volumes)
    per_grid = median >= PER_GRID_FROM
    grids = [s.grids for s in streets if s.grids]
    typical = median * MEAN_POINTS / (statistics.median(grids) if per_grid and grids else 1)
    cap = round(_clamp(2 * typical, 10, 60))
    groups = split_groups(streets)
    smallest = min(len(g) for g in groups)
    total_grids = sum(s.grids for s in streets)
    names = ["第一组", "第二组", "第三组"]
    head = title or f"{district.name}城市管理综合考核细则"
    lines = [
        f"# {head} · drafted by `gridwatch rules init` on {now:%Y-%m-%d}",
        ("# 由数据库中的区域自动生成,请按本地考核办法修改 · A starting point: edit it to the "
        "city's own rules."),
        (f"# Case volumes read over {window}; docs/assessment.md explains every key."
         if window != NO_CASES else
         "# No cases in the database yet: the thresholds are the smallest; run `gridwatch "
         "rules init` again after importing cases. docs/assessment.md explains every key."),
        f"title: {json.dumps(head, ensure_ascii=False)}",
        "base_score: 100",
        f"# median street: {median:.1f} problems a month → "
        + ("per_grid (case-system volumes)" if per_grid else "none (counts add up as they are)"),
        f"normalise: {'per_grid' if per_grid else 'none'}",
        "deductions:",
        "  default: {1: 0.5, 2: 1, 3: 2}",
        "  by_kind:",
        "    部件: {1: 0.3, 2: 0.6, 3: 1.2}",
        "overdue:",
        "  per_case: 0.5",
        "rework:",
        "  per_time: 0.3",
        "repeat:",
        "  radius_m: 50",
        "  days: 30",
        "  history_days: 90",
        "  multipliers: {2: 2, 3: 3}",
        f"# caps: about twice a typical month's problem deduction ({typical:.1f} points)",
        "caps:",
        f"  problems: {cap}",
        f"  repeat: {max(1, round(cap / 3))}",
        f"  overdue: {max(1, round(cap / 3))}",
        f"  rework: {max(1, round(cap / 6))}",
        "# a street with fewer problems in the month is flagged, not ranked (¼ of the median)",
        f"min_sample: {max(1, int(median / 4))}",
        "cost_threshold: 2",
        f"bottom_n: {2 if smallest > 3 else 1}",
        "lists:",
        f"  red_streets: {int(_clamp(len(streets) // 3, 1, 3))}",
        f"  black_streets: {int(_clamp(len(streets) // 3, 1, 3))}",
        f"  red_grids: {int(_clamp(total_grids // 10, 1, 10))}",
        f"  black_grids: {int(_clamp(total_grids // 10, 1, 10))}",
        *_sections_block(session),
        f"# groups: {len(groups)} by monthly volume, busiest first"
        + (" (few streets: one group)" if len(groups) == 1 else ""),
        "groups:",
    ]
    for name, members in zip(names, groups, strict=False):
        lines.append(f"  {name}:")
        for s in members:
            lines.append(f"    - {json.dumps(s.code, ensure_ascii=False)}"
                         f"  # {s.name}: {s.per_month:.1f}/month, {s.grids} grids")
    return "\n".join(lines) + "\n"


def _sections_block(session: Session) -> list[str]:
    """The 路长 ``sections:`` block, its lists sized to the sections in the database.

    Written even before sections are imported, so the keys are in the file to edit; the
    红黑榜 names about a tenth of the sections each way (1 to 10).
    """
    count = session.scalar(select(func.count()).select_from(RoadSection)) or 0
    size = int(_clamp(count // 10, 1, 10))
    default = SectionRules()
    weights = ", ".join(f"{term}: {default.weights[term]}" for term in SECTION_TERMS)
    return [
        f"# 路长制 · {count} road sections in the database (docs/sections.md): score = 100 × "
        "Σ weight × rate; 到岗: a day with at least checkin_minutes on the section",
        "sections:",
        f"  weights: {{{weights}}}",
        f"  checkin_minutes: {default.checkin_minutes}",
        f"  min_due: {default.min_due}",
        f"  red: {size}",
        f"  black: {size}",
    ]
