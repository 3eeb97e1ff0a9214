"""Load volunteer teams, volunteers and activities from CSV files (``gridwatch import-volunteers``).

One file holds one kind of record (``--kind teams|volunteers|activities``; columns in
docs/volunteers.md). Rows are upserted by their natural key, so importing a file twice
changes nothing: a team by its name, a volunteer by team and name, an activity by team, start
time and title. Bad rows go to ``quarantined_rows`` with the reason, once.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.places_import import (
    BadRow,
    GridFinder,
    ImportSummary,
    PlacesFileError,
    csv_reader,
)
from queries.models import (
    LEVEL_STREET,
    Area,
    Volunteer,
    VolunteerActivity,
    VolunteerTeam,
)

KINDS = ("teams", "volunteers", "activities")
COLUMNS = {
    "teams": ("name", "street", "leader", "founded_on"),
    "volunteers": ("team", "name", "joined_on"),
    "activities": ("team", "service_type", "title", "lat", "lon", "start_at", "end_at",
                   "participants"),
}
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%dT%H:%M:%S",
                "%Y-%m-%dT%H:%M")


def _text(row: dict[str, Any], key: str, limit: int) -> str:
    value = (row.get(key) or "").strip()
    if not value:
        raise BadRow(f"missing {key}")
    if len(value) > limit:
        raise BadRow(f"{key} is {len(value)} characters long, at most {limit}")
    return value


def _day(row: dict[str, Any], key: str) -> date:
    value = (row.get(key) or "").strip()
    try:
        return date.fromisoformat(value.replace("/", "-"))
    except ValueError as exc:
        raise BadRow(f"{key}={value!r}: expected a date YYYY-MM-DD") from exc


def _moment(row: dict[str, Any], key: str) -> datetime:
    value = (row.get(key) or "").strip()
    for fmt in TIME_FORMATS:
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    raise BadRow(f"{key}={value!r}: expected a local time YYYY-MM-DD HH:MM")


def _number(row: dict[str, Any], key: str) -> float:
    value = (row.get(key) or "").strip()
    try:
        return float(value)
    except ValueError as exc:
        raise BadRow(f"{key}={value!r}: not a number") from exc


def _streets(session: Session) -> dict[str, int]:
    """Street ids by code and by name (a file may give either)."""
    out: dict[str, int] = {}
    for area_id, code, name in session.execute(
            select(Area.id, Area.code, Area.name).where(Area.level == LEVEL_STREET)):
        out[code] = area_id
        out[name] = area_id
    return out


def _rows(path: Path, kind: str, encoding: str | None) -> list[tuple[int, dict[str, Any]]]:
    reader = csv_reader(path, encoding)
    header = {(f or "").strip() for f in reader.fieldnames or []}
    missing = [c for c in COLUMNS[kind] if c not in header and c not in ("leader", "founded_on",
                                                                         "joined_on")]
    if missing:
        raise PlacesFileError(f"{path}: a {kind} file needs the columns "
                              f"{', '.join(COLUMNS[kind])} (missing {', '.join(missing)}; "
                              f"docs/volunteers.md)")
    return [(n, {(k or "").strip(): v for k, v in row.items()})
            for n, row in enumerate(reader, start=2)]


def import_volunteers(session: Session, path: Path, *, kind: str, now: datetime,
                      encoding: str | None = None) -> ImportSummary:
    """Upsert one file of teams, volunteers or activities; quarantine bad rows; caller commits."""
    if kind not in KINDS:
        raise PlacesFileError(f"--kind {kind!r}: one of {', '.join(KINDS)}")
    source = f"import-volunteers:{kind}:{path.name}"[:64]
    rows = _rows(path, kind, encoding)
    teams = {t.name: t for t in session.scalars(select(VolunteerTeam))}
    streets = _streets(session) if kind == "teams" else {}
    grids = GridFinder(session) if kind == "activities" else None
    summary = ImportSummary()
    for number, row in rows:
        try:
            state = _upsert(session, kind, row, teams, streets, grids)
        except BadRow as exc:
            summary.quarantine(session, source, number, row, str(exc), now)
            continue
        setattr(summary, state, getattr(summary, state) + 1)
    return summary


def _changed(obj: object, values: dict[str, Any]) -> bool:
    changed = any(getattr(obj, k) != v for k, v in values.items())
    for key, value in values.items():
        setattr(obj, key, value)
    return changed


def _upsert(session: Session, kind: str, row: dict[str, Any], teams: dict[str, VolunteerTeam],
            streets: dict[str, int], grids: GridFinder | None) -> str:
    """Write one row; return "inserted", "updated" or "unchanged"."""
    if kind == "teams":
        name = _text(row, "name", 64)
        street = (row.get("street") or "").strip()
        if street not in streets:
            raise BadRow(f"street={street!r}: no street or town has this code or name")
        values = {"street_id": streets[street], "leader": (row.get("leader") or "").strip()[:32],
                  "founded_on": _day(row, "founded_on") if (row.get("founded_on") or "").strip()
                  else date(1970, 1, 1)}
        team = teams.get(name)
        if team is None:
            team = teams[name] = VolunteerTeam(name=name, **values)
            session.add(team)
            session.flush()
            return "inserted"
        return "updated" if _changed(team, values) else "unchanged"
    team = teams.get((row.get("team") or "").strip())
    if team is None:
        raise BadRow(f"team={row.get('team')!r}: no such team (import the teams first)")
    if kind == "volunteers":
        name = _text(row, "name", 32)
        joined = _day(row, "joined_on") if (row.get("joined_on") or "").strip() \
            else date(1970, 1, 1)
        found = session.scalars(select(Volunteer).where(Volunteer.team_id == team.id,
                                                        Volunteer.name == name)).first()
        if found is None:
            session.add(Volunteer(team_id=team.id, name=name, joined_on=joined))
            return "inserted"
        return "updated" if _changed(found, {"joined_on": joined}) else "unchanged"
    assert grids is not None
    title = _text(row, "title", 128)
    start, end = _moment(row, "start_at"), _moment(row, "end_at")
    if end <= start:
        raise BadRow(f"end_at {end:%Y-%m-%d %H:%M} is not after start_at {start:%Y-%m-%d %H:%M}")
    people = _number(row, "participants")
    if people < 1 or people != int(people):
        raise BadRow(f"participants={row.get('participants')!r}: a whole number ≥ 1")
    lat, lon = _number(row, "lat"), _number(row, "lon")
    grid_id = grids.find(lon, lat)
    if grid_id is None:
        raise BadRow(f"({lat}, {lon}) lies outside every unit grid")
    given = (row.get("service_hours") or "").strip()
    hours = _number(row, "service_hours") if given else \
        int(people) * (end - start).total_seconds() / 3600
    values = {"service_type": _text(row, "service_type", 16), "grid_id": grid_id, "lat": lat,
              "lon": lon, "end_at": end, "participants": int(people),
              "service_hours": round(hours, 2)}
    found_activity = session.scalars(select(VolunteerActivity).where(
        VolunteerActivity.team_id == team.id, VolunteerActivity.start_at == start,
        VolunteerActivity.title == title)).first()
    if found_activity is None:
        session.add(VolunteerActivity(team_id=team.id, title=title, start_at=start, **values))
        return "inserted"
    return "updated" if _changed(found_activity, values) else "unchanged"
