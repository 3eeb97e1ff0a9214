"""Data quality of imported cases: what was quarantined, placed imprecisely, or disagrees.

Named read functions for the /quality page and ``gridwatch quality``; each returns plain
dataclasses. Quarantine counts are of rows still quarantined (a re-import that accepts a row
releases it). Imprecise locations and field-vs-point disagreements come from
``Case.location_precise`` / ``Case.location_note`` as the importer set them.

Counts are aggregates and city-wide for everyone; the samples name cases or carry raw rows, so
they take the caller's ``Scope`` in their WHERE.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import false, func, select, true
from sqlalchemy.orm import Session

from queries.models import DISAGREEMENT_NOTES, Case, QuarantinedRow
from queries.scope import Scope


@dataclass(frozen=True)
class QuarantineCount:
    """Rows of one source still quarantined for one reason."""

    source_system: str
    reason_code: str
    rows: int


@dataclass(frozen=True)
class DayCount:
    """A count on one day for one source and one code (reason or location note)."""

    day: date
    source_system: str
    code: str
    rows: int


@dataclass(frozen=True)
class QuarantineSample:
    """One quarantined row as the source gave it."""

    source_system: str
    file_name: str
    row_number: int | None
    external_id: str | None
    reason_code: str
    reason: str
    payload: dict[str, Any]
    at: datetime


@dataclass(frozen=True)
class LocationCount:
    """Cases of one source with one location note, and the source's case total."""

    source_system: str
    note: str
    cases: int
    source_cases: int

    @property
    def share(self) -> float | None:
        """Share of the source's cases (None when the source has none)."""
        return self.cases / self.source_cases if self.source_cases else None


@dataclass(frozen=True)
class LocationSample:
    """One case whose location is imprecise or disagrees with its area field."""

    source_system: str
    external_id: str
    note: str
    lon: float
    lat: float
    reported_at: datetime


@dataclass(frozen=True)
class SourceFreshness:
    """When a source last brought a new case (by report time)."""

    source_system: str
    cases: int
    newest_reported_at: datetime | None
    hours_since: float | None
    stale: bool


@dataclass(frozen=True)
class QualityReport:
    """Everything ``gridwatch quality`` prints."""

    quarantine: list[QuarantineCount]
    quarantine_days: list[DayCount]
    quarantine_samples: list[QuarantineSample]
    imprecise: list[LocationCount]
    disagreements: list[LocationCount]
    location_samples: list[LocationSample]
    freshness: list[SourceFreshness]


def quarantine_by_reason(session: Session) -> list[QuarantineCount]:
    """Return quarantined rows counted by source and reason, largest first."""
    n = func.count(QuarantinedRow.id)
    rows = session.execute(
        select(QuarantinedRow.source_system, QuarantinedRow.reason_code, n)
        .group_by(QuarantinedRow.source_system, QuarantinedRow.reason_code)
        .order_by(n.desc(), QuarantinedRow.source_system, QuarantinedRow.reason_code))
    return [QuarantineCount(*row) for row in rows]


def quarantine_by_day(session: Session, *, since: datetime | None = None) -> list[DayCount]:
    """Return quarantined rows by the day they were quarantined, source and reason."""
    day = func.date(QuarantinedRow.at)
    stmt = select(day, QuarantinedRow.source_system, QuarantinedRow.reason_code,
                  func.count(QuarantinedRow.id)).group_by(
        day, QuarantinedRow.source_system, QuarantinedRow.reason_code).order_by(
        day, QuarantinedRow.source_system, QuarantinedRow.reason_code)
    if since is not None:
        stmt = stmt.where(QuarantinedRow.at >= since)
    return [DayCount(_day(d), s, c, n) for d, s, c, n in session.execute(stmt)]


def quarantine_samples(session: Session, *, scope: Scope, reason_code: str | None = None,
                       source_system: str | None = None, limit: int = 5,
                       ) -> list[QuarantineSample]:
    """Return up to ``limit`` quarantined rows (of one reason and source when given).

    A quarantined row was never placed in a department or area and its payload holds the raw
    address and description, so only a whole-city scope reads samples of it.
    """
    stmt = select(QuarantinedRow.source_system, QuarantinedRow.file_name,
                  QuarantinedRow.row_number, QuarantinedRow.external_id,
                  QuarantinedRow.reason_code, QuarantinedRow.reason, QuarantinedRow.payload,
                  QuarantinedRow.at).order_by(QuarantinedRow.source_system,
                                              QuarantinedRow.file_name,
                                              QuarantinedRow.row_number).limit(limit)
    stmt = stmt.where(true() if scope.is_everything else false())
    if reason_code is not None:
        stmt = stmt.where(QuarantinedRow.reason_code == reason_code)
    if source_system is not None:
        stmt = stmt.where(QuarantinedRow.source_system == source_system)
    return [QuarantineSample(s, f, r, e, c, reason, _payload(p), at)
            for s, f, r, e, c, reason, p, at in session.execute(stmt)]


def total_cases(session: Session) -> int:
    """Return how many cases the database holds (the base of the imprecise share)."""
    return int(session.scalar(select(func.count(Case.id))) or 0)


def _source_totals(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Case.source_system, func.count(Case.id))
                                .group_by(Case.source_system)).all())


def imprecise_locations(session: Session) -> list[LocationCount]:
    """Return cases with an imprecise location by source and reason (note)."""
    totals = _source_totals(session)
    n = func.count(Case.id)
    rows = session.execute(
        select(Case.source_system, Case.location_note, n)
        .where(Case.location_precise.is_(False))
        .group_by(Case.source_system, Case.location_note)
        .order_by(Case.source_system, n.desc()))
    return [LocationCount(s, note or "unknown", k, totals.get(s, 0)) for s, note, k in rows]


def imprecise_by_day(session: Session, *, since: datetime | None = None) -> list[DayCount]:
    """Return imprecise cases by report day, source and note."""
    day = func.date(Case.reported_at)
    stmt = (select(day, Case.source_system, Case.location_note, func.count(Case.id))
            .where(Case.location_precise.is_(False))
            .group_by(day, Case.source_system, Case.location_note)
            .order_by(day, Case.source_system, Case.location_note))
    if since is not None:
        stmt = stmt.where(Case.reported_at >= since)
    return [DayCount(_day(d), s, c or "unknown", n) for d, s, c, n in session.execute(stmt)]


def field_point_disagreements(session: Session) -> list[LocationCount]:
    """Return cases whose area field and point disagree, by source and kind."""
    totals = _source_totals(session)
    n = func.count(Case.id)
    rows = session.execute(
        select(Case.source_system, Case.location_note, n)
        .where(Case.location_note.in_(DISAGREEMENT_NOTES))
        .group_by(Case.source_system, Case.location_note)
        .order_by(Case.source_system, Case.location_note))
    # location_note is never None here: the IN filter above excludes NULLs.
    return [LocationCount(s, cast(str, note), k, totals.get(s, 0)) for s, note, k in rows]


def location_samples(session: Session, *, scope: Scope, note: str | None = None,
                     limit: int = 5) -> list[LocationSample]:
    """Return sample cases of ``scope`` that are imprecise or disagree (of one note if given)."""
    stmt = (select(Case.source_system, Case.external_id, Case.location_note, Case.lon, Case.lat,
                   Case.reported_at)
            .where(Case.location_note.is_not(None), scope.case_clause())
            .order_by(Case.source_system, Case.external_id).limit(limit))
    if note is not None:
        stmt = stmt.where(Case.location_note == note)
    # location_note is never None here: the IS NOT NULL filter above excludes them.
    return [LocationSample(source, external_id, cast(str, loc_note), lon, lat, reported_at)
            for source, external_id, loc_note, lon, lat, reported_at in session.execute(stmt)]


def source_freshness(session: Session, *, now: datetime, stale_hours: float,
                     ) -> list[SourceFreshness]:
    """Return each source's newest case; stale when none is newer than ``stale_hours``."""
    rows = session.execute(
        select(Case.source_system, func.count(Case.id), func.max(Case.reported_at))
        .group_by(Case.source_system).order_by(Case.source_system))
    out = []
    for source, cases, newest_raw in rows:
        newest = _moment(newest_raw)
        hours = None if newest is None else (now - newest) / timedelta(hours=1)
        out.append(SourceFreshness(source, cases, newest, hours,
                                   stale=hours is None or hours > stale_hours))
    return out


def quality_report(session: Session, *, scope: Scope, now: datetime, stale_hours: float = 24.0,
                   samples: int = 3) -> QualityReport:
    """Return the whole quality summary; its samples are of ``scope``, its counts city-wide."""
    return QualityReport(
        quarantine=quarantine_by_reason(session),
        quarantine_days=quarantine_by_day(session, since=now - timedelta(days=30)),
        quarantine_samples=quarantine_samples(session, scope=scope, limit=samples),
        imprecise=imprecise_locations(session),
        disagreements=field_point_disagreements(session),
        location_samples=location_samples(session, scope=scope, limit=samples),
        freshness=source_freshness(session, now=now, stale_hours=stale_hours),
    )


def report_lines(report: QualityReport) -> list[str]:
    """Return the report as text lines (the CLI's output)."""
    out = ["数据质量 · data quality", "", "隔离行 quarantined rows (source · reason · rows):"]
    out += [f"  {q.source_system} · {q.reason_code} · {q.rows:,}" for q in report.quarantine]
    if not report.quarantine:
        out.append("  —")
    for s in report.quarantine_samples:
        out.append(f"  e.g. {s.source_system} {s.file_name} row {s.row_number}: {s.reason}")
    out += ["", "位置不精确 imprecise locations (source · why · cases · share):"]
    out += [f"  {c.source_system} · {c.note} · {c.cases:,} · {_pct(c.share)}"
            for c in report.imprecise] or ["  —"]
    out += ["", "区域字段与坐标不一致 area field vs point (source · kind · cases):"]
    out += [f"  {c.source_system} · {c.note} · {c.cases:,}" for c in report.disagreements
            ] or ["  —"]
    out += ["", "数据源 sources (cases · newest report · hours since):"]
    for f in report.freshness:
        newest = f"{f.newest_reported_at:%Y-%m-%d %H:%M}" if f.newest_reported_at else "—"
        hours = f"{f.hours_since:,.1f} h" if f.hours_since is not None else "—"
        out.append(f"  {f.source_system} · {f.cases:,} · {newest} · {hours}"
                   + (" · 停更 STALE" if f.stale else ""))
    if not report.freshness:
        out.append("  —")
    return out


def _pct(share: float | None) -> str:
    return "—" if share is None else f"{share:.2%}"


def _payload(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {"_raw": text}
    return value if isinstance(value, dict) else {"_raw": value}


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _moment(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))
