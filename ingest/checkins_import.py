"""Load 路长 check-ins (到岗记录) from a CSV file: ``gridwatch import-checkins FILE``.

A patrol app or a sign-in sheet exports one row per person, section and day. Columns
(docs/sections.md; Chinese names accepted, ``CHECKIN_ALIASES``): ``section`` (the section's
code, as imported with ``import-sections``), ``person``, ``day`` (YYYY-MM-DD), and either
``minutes`` or ``start_at`` and ``end_at`` (the sign-in and sign-out times of that day, from
which the minutes are counted). Rows are upserted by (section, day, person), so a second
import of the same file changes nothing and a corrected file updates the minutes. A day after
today, a section nobody imported, or minutes outside 1–1440 are quarantined with the reason.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.places_import import (
    BadRow,
    ImportSummary,
    PlacesFileError,
    csv_reader,
)
from ingest.volunteers_import import TIME_FORMATS
from queries.models import RoadSection, SectionCheckin

REQUIRED = ("section", "person", "day")
CHECKIN_ALIASES = {"路段编号": "section", "路段": "section", "路长": "person", "人员": "person",
                   "日期": "day", "到岗分钟": "minutes", "时长(分钟)": "minutes",
                   "签到时间": "start_at", "签退时间": "end_at"}
DAY_MINUTES = 24 * 60
PERSON_LENGTH = 32


def _rows(path: Path, encoding: str | None) -> list[tuple[int, dict[str, str]]]:
    """The file's rows with their line numbers and English column names."""
    reader = csv_reader(path, encoding)
    names = {f: CHECKIN_ALIASES.get((f or "").strip(), (f or "").strip())
             for f in reader.fieldnames or []}
    header = set(names.values())
    missing = [c for c in REQUIRED if c not in header]
    if not missing and "minutes" not in header and not {"start_at", "end_at"} <= header:
        missing = ["minutes (or start_at and end_at)"]
    if missing:
        raise PlacesFileError(f"{path}: a check-in file needs the columns section, person, day "
                              f"and minutes or start_at/end_at (missing {', '.join(missing)}; "
                              f"docs/sections.md)")
    return [(n, {names[k]: (v or "").strip() for k, v in row.items() if k is not None})
            for n, row in enumerate(reader, start=2)]


def _day(value: str, today: date) -> date:
    try:
        day = date.fromisoformat(value.replace("/", "-"))
    except ValueError as exc:
        raise BadRow(f"day={value!r}: expected a date YYYY-MM-DD") from exc
    if day > today:
        raise BadRow(f"day {day} is after today ({today}): a check-in cannot be in the future")
    return day


def _moment(value: str, key: str) -> datetime:
    for fmt in TIME_FORMATS + ("%H:%M",):
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    raise BadRow(f"{key}={value!r}: expected a time HH:MM or YYYY-MM-DD HH:MM")


def _minutes(row: dict[str, str]) -> int:
    """The minutes given, or counted from sign-in to sign-out on the same day."""
    if row.get("minutes"):
        try:
            minutes = float(row["minutes"])
        except ValueError as exc:
            raise BadRow(f"minutes={row['minutes']!r}: not a number") from exc
    elif row.get("start_at") and row.get("end_at"):
        start, end = _moment(row["start_at"], "start_at"), _moment(row["end_at"], "end_at")
        if end <= start:
            raise BadRow(f"end_at {row['end_at']} is not after start_at {row['start_at']}")
        minutes = (end - start).total_seconds() / 60
    else:
        raise BadRow("no minutes and no start_at/end_at")
    if not 1 <= minutes <= DAY_MINUTES:
        raise BadRow(f"{minutes:g} minutes: a day's check-in is 1 to {DAY_MINUTES} minutes")
    return round(minutes)


def import_checkins(session: Session, path: Path, *, now: datetime,
                    encoding: str | None = None) -> ImportSummary:
    """Upsert the check-ins by (section, day, person); quarantine bad rows; the caller commits."""
    rows = _rows(path, encoding)
    sections = {code: sid for code, sid in session.execute(select(RoadSection.code,
                                                                   RoadSection.id))}
    if not sections:
        raise PlacesFileError("the database holds no road sections: run "
                              "`gridwatch import-sections` first")
    source = f"import-checkins:{path.name}"[:64]
    existing = {(c.section_id, c.day, c.person): c
                for c in session.scalars(select(SectionCheckin))}
    summary = ImportSummary()
    for number, row in rows:
        try:
            code = row.get("section", "")
            if code not in sections:
                raise BadRow(f"section={code!r}: no road section has this code")
            person = row.get("person", "")
            if not person:
                raise BadRow("missing person")
            if len(person) > PERSON_LENGTH:
                raise BadRow(f"person is {len(person)} characters long, at most {PERSON_LENGTH}")
            key = (sections[code], _day(row.get("day", ""), now.date()), person)
            minutes = _minutes(row)
        except BadRow as exc:
            summary.quarantine(session, source, number, row, str(exc), now)
            continue
        found = existing.get(key)
        if found is None:
            existing[key] = SectionCheckin(section_id=key[0], day=key[1], person=person,
                                           minutes=minutes)
            session.add(existing[key])
            summary.inserted += 1
        elif found.minutes != minutes:
            found.minutes = minutes
            summary.updated += 1
        else:
            summary.unchanged += 1
    return summary

