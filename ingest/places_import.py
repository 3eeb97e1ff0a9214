"""Load livelihood-map places from a CSV or GeoJSON file (``gridwatch import-places``).

Columns and values are documented in docs/places.md. Each good row is upserted by
(source, id): a new id is inserted, a known id is updated only when a field changed, so
importing the same file twice changes nothing. Every bad row goes to ``quarantined_rows`` with
the reason, once (the same row with the same reason is not quarantined twice).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from queries.models import LEVEL_GRID, Area, PointOfInterest, QuarantinedRow
from queries.opening import OpeningHoursError, check_expression

LAYER_WORDS = {"toilet": "toilet", "公厕": "toilet", "厕所": "toilet",
               "convenience": "convenience", "便民": "convenience", "便民服务": "convenience",
               "culture": "culture", "文化": "culture", "特色文化": "culture"}
TRUE_WORDS = {"1", "true", "yes", "y", "是", "有", "√"}
FALSE_WORDS = {"0", "false", "no", "n", "否", "无", "×"}
REQUIRED = ("id", "layer", "kind", "name", "lat", "lon")
# Column → (model field, maximum length) for the text fields.
TEXT_FIELDS = {"kind": ("kind", 16), "name": ("name", 64), "address": ("address", 128),
               "managing_unit": ("managing_unit", 64), "phone": ("phone", 20),
               "status": ("status", 8), "description": ("description", 2000)}
FLAGS = ("accessible", "baby_care", "family_room")  # empty means no
OPTIONAL_FLAGS = ("free", "paper")  # empty means not stated (shown 不详)


class PlacesFileError(ValueError):
    """The file as a whole cannot be read; the message is one line for the user."""


class BadRow(ValueError):
    """One row cannot be loaded; the message is the quarantine reason."""


@dataclass
class ImportSummary:
    """What an import did, for the command's one-line report."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    already_quarantined: int = 0  # bad rows a previous import of the file already kept
    reasons: list[str] = field(default_factory=list)

    def quarantine(self, session: Session, source: str, number: int, row: dict[str, Any],
                   reason: str, now: datetime) -> None:
        """Keep a bad row (once: a re-import counts it as already kept) and its reason."""
        self.reasons.append(f"row {number}: {reason}")
        if quarantine_row(session, source, number, row, reason, now):
            self.quarantined += 1
        else:
            self.already_quarantined += 1


def read_rows(path: Path, encoding: str | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (row number, fields) from a CSV (header row = 1) or GeoJSON (feature 1, 2 …)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PlacesFileError(f"cannot read {path}: {exc.strerror}") from exc
    text = decode_text(raw, encoding, path)
    if path.suffix.lower() in (".geojson", ".json"):
        yield from _geojson_rows(text, path)
    elif path.suffix.lower() in (".csv", ".txt"):
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames or not {"id", "name"} <= {f.strip() for f in reader.fieldnames}:
            raise PlacesFileError(f"{path}: the header must name at least the columns "
                                  f"{', '.join(REQUIRED)} (docs/places.md)")
        for number, row in enumerate(reader, start=2):
            yield number, {(k or "").strip(): v for k, v in row.items()}
    else:
        raise PlacesFileError(f"{path}: expected a .csv or .geojson file")


def decode_text(raw: bytes, encoding: str | None, path: Path) -> str:
    """Decode a file: ``encoding`` when given, else strict UTF-8 (BOM allowed), then GB18030."""
    if encoding:
        try:
            return raw.decode(encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            raise PlacesFileError(f"{path}: cannot decode as {encoding}: {exc}") from exc
    for candidate in ("utf-8-sig", "gb18030"):  # strict UTF-8 first, then GB18030 (GBK)
        try:
            return raw.decode(candidate)
        except UnicodeDecodeError:
            continue
    raise PlacesFileError(f"{path}: neither UTF-8 nor GB18030: pass --encoding")


def csv_reader(path: Path, encoding: str | None) -> csv.DictReader[str]:
    """Open a .csv file decoded as ``decode_text`` does; one-line errors for the command."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PlacesFileError(f"cannot read {path}: {exc.strerror}") from exc
    if path.suffix.lower() not in (".csv", ".txt"):
        raise PlacesFileError(f"{path}: expected a .csv file")
    return csv.DictReader(io.StringIO(decode_text(raw, encoding, path)))


def _geojson_rows(text: str, path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlacesFileError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise PlacesFileError(f"{path}: expected a GeoJSON FeatureCollection")
    for number, feature in enumerate(data.get("features") or [], start=1):
        props = dict((feature or {}).get("properties") or {})
        if "id" not in props and isinstance(feature, dict) and feature.get("id") is not None:
            props["id"] = feature["id"]
        geometry = (feature or {}).get("geometry") or {}
        if geometry.get("type") == "Point" and isinstance(geometry.get("coordinates"), list) \
                and len(geometry["coordinates"]) >= 2:
            props["lon"], props["lat"] = geometry["coordinates"][0], geometry["coordinates"][1]
        else:
            props["_geometry"] = geometry.get("type") or "none"
        yield number, props


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _flag(name: str, value: Any, *, optional: bool) -> bool | None:
    word = _text(value).lower()
    if isinstance(value, bool):
        return value
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    if word == "":
        return None if optional else False
    raise BadRow(f"{name}={value!r}: expected 1/0, 是/否, 有/无, yes/no or empty")


def _coordinate(name: str, value: Any, low: float, high: float) -> float:
    try:
        number = float(_text(value))
    except ValueError as exc:
        raise BadRow(f"{name}={value!r}: not a number") from exc
    if not low <= number <= high:
        raise BadRow(f"{name}={number}: outside {low}..{high} (WGS-84 degrees)")
    return number


def parse_row(row: dict[str, Any]) -> dict[str, Any]:
    """Return the model fields of one row (no grid yet), or raise ``BadRow`` with the reason."""
    if "_geometry" in row:
        raise BadRow(f"geometry is {row['_geometry']}, expected a Point")
    missing = [c for c in REQUIRED if _text(row.get(c)) == ""]
    if missing:
        raise BadRow(f"missing {', '.join(missing)}")
    layer = LAYER_WORDS.get(_text(row["layer"]).lower())
    if layer is None:
        raise BadRow(f"layer={row['layer']!r}: expected toilet, convenience or culture "
                     f"(公厕, 便民, 文化)")
    values: dict[str, Any] = {"external_id": _text(row["id"])[:64], "layer": layer,
                              "lat": _coordinate("lat", row["lat"], -90, 90),
                              "lon": _coordinate("lon", row["lon"], -180, 180)}
    for column, (attr, limit) in TEXT_FIELDS.items():
        text = _text(row.get(column))
        if len(text) > limit:
            raise BadRow(f"{column} is {len(text)} characters long, at most {limit}")
        values[attr] = (text or None) if attr == "phone" else text
    values["status"] = values["status"] or "正常"
    hours = _text(row.get("opening_hours"))
    if hours:
        try:
            hours = check_expression(hours)
        except OpeningHoursError as exc:
            raise BadRow(str(exc)) from exc
    values["opening_hours"] = hours  # empty: hours not known (the card says so)
    for name in FLAGS:
        values[name] = bool(_flag(name, row.get(name), optional=False))
    for name in OPTIONAL_FLAGS:
        values[name] = _flag(name, row.get(name), optional=True)
    return values


class GridFinder:
    """Which unit grid holds a point (the grids' outlines, indexed once per import)."""

    def __init__(self, session: Session) -> None:
        rows = session.execute(select(Area.id, Area.geometry).where(Area.level == LEVEL_GRID))
        self.ids: list[int] = []
        shapes = []
        for grid_id, geometry in rows:
            self.ids.append(grid_id)
            shapes.append(shapely.from_geojson(geometry))
        self.tree = shapely.STRtree(shapes)
        self.shapes = shapes

    def find(self, lon: float, lat: float) -> int | None:
        """The grid id containing (lon, lat), or None outside every grid."""
        point = shapely.Point(lon, lat)
        for index in self.tree.query(point, predicate="intersects"):
            return self.ids[int(index)]
        return None


def quarantine_row(session: Session, source: str, number: int, row: dict[str, Any],
                   reason: str, now: datetime) -> bool:
    """Keep a bad row with its reason; False when the same row and reason are already kept."""
    payload = json.dumps({k: v for k, v in row.items() if not k.startswith("_")},
                         ensure_ascii=False, sort_keys=True, default=str)
    seen = session.scalar(select(QuarantinedRow.id).where(
        QuarantinedRow.source == source, QuarantinedRow.row_number == number,
        QuarantinedRow.payload == payload, QuarantinedRow.reason == reason).limit(1))
    if seen is None:
        session.add(QuarantinedRow(source=source, row_number=number, payload=payload,
                                   reason=reason, at=now))
    return seen is None


def import_places(session: Session, path: Path, *, source: str | None = None,
                  encoding: str | None = None, now: datetime) -> ImportSummary:
    """Upsert the file's places by (source, id); quarantine bad rows; the caller commits.

    ``source`` defaults to the file's name, so the same file re-imported meets its own rows.
    """
    source = (source or path.name)[:64]
    quarantine_source = f"import-places:{source}"[:64]
    grids = GridFinder(session)
    if not grids.ids:
        raise PlacesFileError("the database holds no unit grids: import the areas first")
    existing = {p.external_id: p for p in session.scalars(
        select(PointOfInterest).where(PointOfInterest.source == source))}
    summary = ImportSummary()
    seen_ids: set[str] = set()
    for number, row in read_rows(path, encoding):
        try:
            values = parse_row(row)
            if values["external_id"] in seen_ids:
                raise BadRow(f"id {values['external_id']!r} appears twice in the file")
            grid_id = grids.find(values["lon"], values["lat"])
            if grid_id is None:
                raise BadRow(f"({values['lat']}, {values['lon']}) lies outside every unit grid")
        except BadRow as exc:
            summary.quarantine(session, quarantine_source, number, row, str(exc), now)
            continue
        seen_ids.add(values["external_id"])
        values.update(grid_id=grid_id, source=source)
        place = existing.get(values["external_id"])
        if place is None:
            session.add(PointOfInterest(**values))
            summary.inserted += 1
        elif any(getattr(place, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(place, key, value)
            summary.updated += 1
        else:
            summary.unchanged += 1
    return summary
