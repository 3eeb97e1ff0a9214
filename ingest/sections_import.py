"""Load 路长 responsibility sections from GeoJSON (or a Shapefile / GeoPackage):
``gridwatch import-sections FILE``.

Properties are documented in docs/sections.md: ``code``, ``name`` and ``leader`` (路长) are
required; ``leader_unit``, ``leader_phone``, ``responsible_unit`` (责任单位), ``road`` and
``buffer_m`` are optional (Chinese column names are accepted too, ``SECTION_ALIASES``). A
feature is a polygon, or a road line buffered by ``buffer_m`` metres on each side (default
``DEFAULT_BUFFER_M``) in a local metric projection (pyproj azimuthal equidistant at the line's
centre), flat at the ends. The file is read and brought to WGS-84 by the boundaries importer
(``ingest.areas_import``), so CRSs, encodings and polygon repair behave the same.

Each good feature is upserted by code: a new code is inserted, a known one updated only when a
field changed, so importing the same file twice changes nothing. Every bad feature is kept in
``quarantined_rows`` with its reason; a re-import keeps the rows still bad, releases the ones
fixed and adds nothing twice. Afterwards every case is placed in its section again
(``assign_cases``): precise points only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ingest.areas_import import (
    AreaImportError,
    _Row,
    geojson_text,
    read_rows,
    repair,
    to_wgs84,
)
from ingest.geometry import label_point
from ingest.places_import import BadRow
from ingest.spatial import SectionLocator
from queries.models import LEVEL_STREET, Area, Case, QuarantinedRow, RoadSection

DEFAULT_BUFFER_M = 30.0
MAX_BUFFER_M = 500.0
REQUIRED = ("code", "name", "leader")
# Column → (model field, maximum length).
TEXT_FIELDS = {"code": 64, "name": 128, "road": 64, "leader": 32, "leader_unit": 64,
               "leader_phone": 20, "responsible_unit": 64}
SECTION_ALIASES = {"编号": "code", "路段编号": "code", "名称": "name", "路段名称": "name",
                   "路长": "leader", "路长单位": "leader_unit", "路长电话": "leader_phone",
                   "责任单位": "responsible_unit", "道路": "road", "缓冲米数": "buffer_m"}
LINE_TYPES = ("LineString", "MultiLineString")
_WGS84 = CRS.from_epsg(4326)


class SectionsFileError(ValueError):
    """The file as a whole cannot be read; the message is one line for the user."""


@dataclass
class SectionImportSummary:
    """What an import did, for the command's one-line report."""

    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    released: int = 0
    buffered: int = 0
    reasons: list[str] = field(default_factory=list)
    cases_moved: int = 0

    def line(self) -> str:
        """Return the summary the command prints."""
        return (f"read {self.read} features: {self.inserted} new, {self.updated} updated, "
                f"{self.unchanged} unchanged ({self.buffered} road lines buffered); "
                f"{self.quarantined} quarantined, {self.released} released from quarantine; "
                f"{self.cases_moved} cases placed in a different section")


@dataclass(frozen=True)
class AssignSummary:
    """How many cases ``assign_cases`` gave a different section (None counts as one)."""

    moved: int


def _properties(row: _Row) -> dict[str, Any]:
    props = {SECTION_ALIASES.get(str(k).strip(), str(k).strip()): v
             for k, v in row.properties.items()}
    return props


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def buffered(line: shapely.Geometry, half_width_m: float) -> shapely.Geometry:
    """Return the WGS-84 line buffered by ``half_width_m`` metres each side (flat ends)."""
    centre = line.centroid
    local = CRS.from_proj4(f"+proj=aeqd +lat_0={centre.y} +lon_0={centre.x} +units=m "
                           f"+ellps=WGS84")
    there = Transformer.from_crs(_WGS84, local, always_xy=True)
    back = Transformer.from_crs(local, _WGS84, always_xy=True)

    def move(transformer: Transformer) -> Any:
        def apply(xy: np.ndarray) -> np.ndarray:
            x, y = transformer.transform(xy[:, 0], xy[:, 1])
            return np.column_stack((x, y))
        return apply

    metres = shapely.transform(line, move(there))
    return shapely.transform(metres.buffer(half_width_m, cap_style="flat"), move(back))


def line_length_m(line: shapely.Geometry) -> float:
    """Return the geodesic length of a WGS-84 line in metres."""
    from pyproj import Geod

    return float(Geod(ellps="WGS84").geometry_length(line))


def parse_feature(row: _Row, district: shapely.Geometry | None) -> tuple[dict[str, Any], bool]:
    """Return the model fields of one feature and whether it was a buffered line, or raise
    ``BadRow`` with the reason."""
    if row.problem is not None or row.geometry is None:
        raise BadRow(row.problem or "no geometry")
    props = _properties(row)
    missing = [c for c in REQUIRED if _text(props.get(c)) == ""]
    if missing:
        raise BadRow(f"missing {', '.join(missing)}")
    values: dict[str, Any] = {}
    for name, limit in TEXT_FIELDS.items():
        text = _text(props.get(name))
        if len(text) > limit:
            raise BadRow(f"{name} is {len(text)} characters long, at most {limit}")
        values[name] = (text or None) if name == "leader_phone" else text
    geom = shapely.force_2d(row.geometry)
    line = geom.geom_type in LINE_TYPES
    values["length_m"] = None
    if line:
        width = _buffer(props.get("buffer_m"))
        if geom.length == 0:
            raise BadRow("the road line has no length")
        values["length_m"] = round(line_length_m(geom), 1)
        geom = buffered(geom, width)
    polygon, problem = repair(geom)
    if polygon is None:
        raise BadRow(problem or "not a polygon")
    if district is not None and not polygon.intersects(district):
        raise BadRow("the section lies outside every street of the district")
    lat, lon = label_point(polygon if polygon.geom_type == "Polygon"
                           else max(polygon.geoms, key=lambda g: g.area))
    values.update(geometry=geojson_text(polygon), center_lat=lat, center_lon=lon)
    return values, line


def _buffer(value: Any) -> float:
    text = _text(value)
    if not text:
        return DEFAULT_BUFFER_M
    try:
        width = float(text)
    except ValueError as exc:
        raise BadRow(f"buffer_m={value!r}: not a number") from exc
    if not 0 < width <= MAX_BUFFER_M:
        raise BadRow(f"buffer_m={width:g}: must be above 0 and at most {MAX_BUFFER_M:g} "
                         f"metres")
    return width


def _district(session: Session) -> shapely.Geometry | None:
    texts = list(session.scalars(select(Area.geometry).where(Area.level == LEVEL_STREET)))
    if not texts:
        return None
    return shapely.union_all(shapely.from_geojson(np.array(texts, dtype=object)))


def import_sections(session: Session, path: Path, *, crs: str | None = None,
                    encoding: str | None = None, now: datetime) -> SectionImportSummary:
    """Upsert the file's sections by code, quarantine bad features, re-place the cases; the
    caller commits."""
    try:
        rows, declared = read_rows(path, encoding)
        to_wgs84(rows, declared, crs)
    except AreaImportError as exc:
        raise SectionsFileError(str(exc)) from exc
    source = path.name[:64]
    quarantine_source = f"import-sections:{source}"[:255]
    district = _district(session)
    existing = {s.code: s for s in session.scalars(select(RoadSection))}
    summary = SectionImportSummary(read=len(rows))
    bad: list[tuple[_Row, str]] = []
    seen: set[str] = set()
    for row in rows:
        try:
            values, line = parse_feature(row, district)
            if values["code"] in seen:
                raise BadRow(f"code {values['code']!r} appears twice in the file")
        except BadRow as exc:
            bad.append((row, str(exc)))
            summary.reasons.append(f"feature {row.number}: {exc}")
            continue
        seen.add(values["code"])
        summary.buffered += line
        values["source"] = source
        section = existing.get(values["code"])
        if section is None:
            session.add(RoadSection(**values))
            summary.inserted += 1
        elif any(getattr(section, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(section, key, value)
            summary.updated += 1
        else:
            summary.unchanged += 1
    _quarantine(session, quarantine_source, bad, now, summary)
    session.flush()
    summary.cases_moved = assign_cases(session).moved
    return summary


def _quarantine(session: Session, source: str, bad: list[tuple[_Row, str]], now: datetime,
                summary: SectionImportSummary) -> None:
    """Keep this run's bad features, release the file's earlier ones that are no longer bad."""
    wanted = {}
    for row, reason in bad:
        payload = json.dumps(row.properties, ensure_ascii=False, default=str, sort_keys=True)
        wanted[(row.number, payload, reason)] = row
    kept = {(q.row_number, q.payload, q.reason): q for q in session.scalars(
        select(QuarantinedRow).where(QuarantinedRow.source == source))}
    gone = [q.id for key, q in kept.items() if key not in wanted]
    if gone:
        session.execute(delete(QuarantinedRow).where(QuarantinedRow.id.in_(gone)))
    summary.released = len(gone)
    for key in wanted.keys() - kept.keys():
        number, payload, reason = key
        session.add(QuarantinedRow(source=source, source_system="import-sections",
                                   file_name=source, row_number=number,
                                   reason_code="bad_section", payload=payload, reason=reason,
                                   at=now))
    summary.quarantined = len(wanted)


def assign_cases(session: Session, batch: int = 20_000) -> AssignSummary:
    """Place every case in the section holding its point again (imprecise points: none)."""
    locator = SectionLocator.load(session)
    moved = 0
    last = 0
    while True:
        rows = session.execute(
            select(Case.id, Case.lon, Case.lat, Case.location_precise, Case.section_id)
            .where(Case.id > last).order_by(Case.id).limit(batch)).all()
        if not rows:
            return AssignSummary(moved)
        last = rows[-1].id
        found = locator.locate_many([r.lon for r in rows], [r.lat for r in rows])
        changes = [{"id": r.id, "section_id": s if r.location_precise else None}
                   for r, s in zip(rows, found, strict=True)
                   if (s if r.location_precise else None) != r.section_id]
        if changes:
            session.execute(update(Case), changes)
            moved += len(changes)
