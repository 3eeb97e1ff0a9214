"""Import a city's boundaries (streets, communities, unit grids) from GeoJSON, Shapefile or
GeoPackage into ``areas``.

One pipeline: read features → bring them to WGS-84 → repair or quarantine invalid polygons →
merge rows that share a code → find each one's parent (by a code field or by the largest
overlap) → upsert by code → derive the levels the city lacks → refresh the district outline.
The whole import is one transaction: a failure leaves the database as it was.

Decisions where real files are vague:
- Codes are opaque text, kept exactly as the file spells them ("0306" ≠ "306" ≠ "306.0");
  a whole-number float from a shapefile's numeric column ("306.0") is kept as "306.0" too.
- A file without a CRS is WGS-84 only if its coordinates can be longitude/latitude; anything
  else is an error asking for ``--crs`` (State Plane feet look nothing like degrees).
- A level the city lacks is derived: every street or community without children gets one
  child with its own outline, code ``<parent code>-0``, the parent's name and ``derived=True``,
  so every case can still carry a grid id. Importing real children later replaces the derived
  child (unless cases already point at it: then the import stops and says so).
- Re-importing the same file changes nothing; its earlier quarantined rows are replaced by the
  new ones, so fixing the file releases them.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Geod, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry import shape
from shapely.validation import explain_validity
from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from queries.models import (
    LEVEL_COMMUNITY,
    LEVEL_DISTRICT,
    LEVEL_GRID,
    LEVEL_STREET,
    LEVELS,
    Area,
    Case,
    PointOfInterest,
    QuarantinedRow,
    VolunteerActivity,
    VolunteerTeam,
)

IMPORT_LEVELS = (LEVEL_STREET, LEVEL_COMMUNITY, LEVEL_GRID)
PARENT_BY = ("code", "containment")
DEFAULT_DISTRICT_NAME = "全市"
DEFAULT_DISTRICT_CODE = "CITY"
DERIVED_SUFFIX = "-0"
DIGITS = 7  # stored coordinate decimals: about 1 cm
CODE_WIDTH = 64  # Area.code
NAME_FIELDS = ("name", "NAME", "Name")
GEOJSON_SUFFIXES = (".geojson", ".json")
OGR_SUFFIXES = (".shp", ".gpkg", ".zip", ".fgb")
_GEOD = Geod(ellps="WGS84")
_WGS84 = CRS.from_epsg(4326)


class AreaImportError(ValueError):
    """The file cannot be imported as asked; the message is one line meant for the user."""


@dataclass(frozen=True)
class AreaImportOptions:
    """What the command line (or a test) asks of one import."""

    level: str
    crs: str | None = None
    code_field: str = "code"
    name_field: str | None = None  # None: "name" / "NAME" / "Name" if present, else the code
    parent_field: str | None = None
    parent_by: str | None = None  # default: "code" with a parent field, else "containment"
    encoding: str | None = None
    district_name: str = DEFAULT_DISTRICT_NAME


@dataclass
class AreaImportSummary:
    """What one import did, for the closing line of the command."""

    read: int = 0
    areas: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    merged_rows: int = 0
    repaired: int = 0
    derived: int = 0
    removed_derived: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)
    crs: str = ""
    seconds: float = 0.0
    reassigned: ReassignSummary | None = None

    def line(self) -> str:
        """Return the one-line summary the command prints."""
        quarantined = sum(self.quarantined.values())
        text = (f"read {self.read} rows → {self.areas} areas: {self.inserted} inserted, "
                f"{self.updated} updated, {self.unchanged} unchanged; {self.merged_rows} rows "
                f"merged, {self.repaired} repaired, {self.derived} derived areas made, "
                f"{self.removed_derived} replaced, {quarantined} quarantined")
        if quarantined:
            text += " (" + ", ".join(f"{r}: {n}" for r, n in sorted(self.quarantined.items())) + ")"
        text += f"; CRS {self.crs}; {self.seconds:.1f} s"
        return text if self.reassigned is None else f"{text}\n{self.reassigned.line()}"


@dataclass
class _Row:
    number: int  # 1-based feature number in the file
    properties: dict[str, Any]
    geometry: shapely.Geometry | None
    problem: str | None = None


@dataclass
class _Feature:
    code: str
    name: str
    parent_code: str | None
    geometry: shapely.Geometry
    rows: list[_Row]  # the file's rows it was made of (quarantined together, raw values kept)

    def quarantined(self, kind: str, reason: str) -> list[tuple[_Row, str, str]]:
        """Return the feature's rows as quarantine entries."""
        return [(row, kind, reason) for row in self.rows]


# ---------------------------------------------------------------------------------- reading


def read_rows(path: Path, encoding: str | None = None) -> tuple[list[_Row], str | None]:
    """Read every feature of the file as (properties, shapely geometry) with the file's CRS."""
    if not path.is_file():
        raise AreaImportError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in GEOJSON_SUFFIXES:
        return _read_geojson(path, encoding)
    if suffix in OGR_SUFFIXES:
        return _read_ogr(path, encoding)
    raise AreaImportError(f"{path}: unknown format {suffix!r} (expected .geojson, .json, .shp, "
                          f".gpkg, .fgb or a zipped shapefile)")


def _decode(data: bytes, path: Path, encoding: str | None) -> str:
    if encoding:
        try:
            return data.decode(encoding)
        except LookupError as exc:
            raise AreaImportError(f"--encoding {encoding!r}: not a known encoding") from exc
        except UnicodeDecodeError as exc:
            raise AreaImportError(f"{path}: not {encoding} at byte {exc.start}") from exc
    for candidate in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(candidate)
        except UnicodeDecodeError:
            continue
    raise AreaImportError(f"{path}: neither UTF-8 nor GB18030 text: pass --encoding")


def _read_geojson(path: Path, encoding: str | None) -> tuple[list[_Row], str | None]:
    text = _decode(path.read_bytes(), path, encoding)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AreaImportError(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg})") from exc
    if not isinstance(doc, dict):
        raise AreaImportError(f"{path}: not a GeoJSON object")
    if doc.get("type") == "Feature":
        features = [doc]
    elif doc.get("type") == "FeatureCollection" and isinstance(doc.get("features"), list):
        features = doc["features"]
    else:
        raise AreaImportError(f"{path}: not a GeoJSON FeatureCollection")
    crs = None
    member = doc.get("crs")
    if isinstance(member, dict):
        crs = (member.get("properties") or {}).get("name")
    rows = []
    for number, feature in enumerate(features, start=1):
        props = feature.get("properties") if isinstance(feature, dict) else None
        props = props if isinstance(props, dict) else {}
        raw = feature.get("geometry") if isinstance(feature, dict) else None
        if raw is None:
            rows.append(_Row(number, props, None, "no geometry"))
            continue
        try:
            rows.append(_Row(number, props, shape(raw)))
        except (ValueError, TypeError, KeyError, AttributeError, IndexError,
                shapely.errors.GEOSException) as exc:
            rows.append(_Row(number, props, None, f"malformed geometry ({exc})"))
    return rows, crs


def _read_ogr(path: Path, encoding: str | None) -> tuple[list[_Row], str | None]:
    try:
        from pyogrio import raw
        from pyogrio.errors import DataLayerError, DataSourceError
    except ImportError as exc:  # the wheel bundles GDAL; without it only GeoJSON is read
        raise AreaImportError(f"{path}: reading {path.suffix} needs pyogrio "
                              f"(pip install pyogrio); GeoJSON needs nothing") from exc
    try:
        meta, _fids, wkb, columns = raw.read(path, encoding=encoding)
    except (DataSourceError, DataLayerError) as exc:
        raise AreaImportError(f"{path}: cannot read ({str(exc).splitlines()[0]})") from exc
    names = list(meta["fields"])
    geometries = shapely.from_wkb(wkb, on_invalid="ignore") if wkb is not None else []
    rows = []
    for i, geom in enumerate(geometries):
        props = {name: _plain(columns[k][i]) for k, name in enumerate(names)}
        if geom is None or shapely.is_empty(geom):
            rows.append(_Row(i + 1, props, None, "no geometry"))
        else:
            rows.append(_Row(i + 1, props, geom))
    return rows, meta.get("crs")


def _plain(value: Any) -> Any:
    """Turn numpy scalars into Python values (the payload of a quarantined row is JSON)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


# ---------------------------------------------------------------------------------- CRS


def to_wgs84(rows: Sequence[_Row], declared: str | None, override: str | None) -> str:
    """Transform the rows' geometries to WGS-84 in place; return the CRS they were in."""
    source = override or declared
    geoms = [r.geometry for r in rows if r.geometry is not None]
    if source is None:
        if geoms:
            xmin, ymin, xmax, ymax = shapely.total_bounds(np.array(geoms, dtype=object))
            if not (-180 <= xmin <= xmax <= 180 and -90 <= ymin <= ymax <= 90):
                raise AreaImportError(
                    f"the file declares no CRS and its coordinates (x {xmin:.0f}…{xmax:.0f}, "
                    f"y {ymin:.0f}…{ymax:.0f}) are not longitude/latitude: pass --crs "
                    f"EPSG:nnnn (e.g. EPSG:2249 for Massachusetts State Plane, US feet)")
        return "EPSG:4326"
    try:
        crs = CRS.from_user_input(source)
    except CRSError as exc:
        where = "--crs" if override else "the file's CRS"
        raise AreaImportError(f"{where} {source!r} is not a coordinate system pyproj knows "
                              f"(e.g. EPSG:2249)") from exc
    name = crs.to_string()
    if crs.equals(_WGS84, ignore_axis_order=True):
        return name
    transformer = Transformer.from_crs(crs, _WGS84, always_xy=True)

    def project(xy: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack((x, y))

    for row in rows:
        if row.geometry is not None:
            row.geometry = shapely.transform(row.geometry, project)
    moved = [r.geometry for r in rows if r.geometry is not None]
    if moved:
        xmin, ymin, xmax, ymax = shapely.total_bounds(np.array(moved, dtype=object))
        if not (np.isfinite([xmin, ymin, xmax, ymax]).all()
                and -180 <= xmin <= xmax <= 180 and -90 <= ymin <= ymax <= 90):
            raise AreaImportError(f"coordinates read as {name} do not land on the Earth: is "
                                  f"the CRS right?")
    return name


# ---------------------------------------------------------------------------------- geometry


def polygonal(geom: shapely.Geometry) -> shapely.Geometry | None:
    """Return the polygonal part of a geometry (None when it has none)."""
    parts = [p for p in shapely.get_parts(geom)
             if shapely.get_type_id(p) in (3, 6) and not shapely.is_empty(p)]
    flat = [q for p in parts for q in shapely.get_parts(p)]
    if not flat:
        return None
    return flat[0] if len(flat) == 1 else shapely.multipolygons(flat)


def repair(geom: shapely.Geometry) -> tuple[shapely.Geometry | None, str | None]:
    """Return (usable polygon or None, what was wrong) for one geometry."""
    geom = shapely.force_2d(geom)  # heights of a 3-D export mean nothing on the map
    kind = geom.geom_type
    if kind not in ("Polygon", "MultiPolygon", "GeometryCollection"):
        return None, f"not a polygon ({kind})"
    if shapely.is_valid(geom) and kind != "GeometryCollection":
        return geom, None
    problem = explain_validity(geom)
    fixed = polygonal(shapely.make_valid(geom))
    if fixed is None or fixed.area <= 0:
        return None, f"invalid polygon that cannot be repaired ({problem})"
    return fixed, problem


def _rounded(geom: shapely.Geometry) -> shapely.Geometry:
    out = shapely.transform(geom, lambda xy: np.round(xy, DIGITS))
    if not shapely.is_valid(out):  # rounding can pinch a sliver: repair once more
        out = polygonal(shapely.make_valid(out)) or geom
    return out


def geojson_text(geom: shapely.Geometry) -> str:
    """Return the stored GeoJSON text of a WGS-84 geometry (rounded, stable)."""
    return shapely.to_geojson(_rounded(geom))


def area_m2(geom: shapely.Geometry) -> float:
    """Return the geodesic area of a WGS-84 geometry in square metres."""
    area, _ = _GEOD.geometry_area_perimeter(geom)
    return abs(float(area))


# ---------------------------------------------------------------------------------- import


def import_areas(session: Session, path: str | Path, options: AreaImportOptions, *,
                 now: datetime, reassign: bool = False) -> AreaImportSummary:
    """Import one boundary file at one level; the caller commits (or rolls back) the session."""
    started = time.perf_counter()
    path = Path(path)
    if options.level not in IMPORT_LEVELS:
        raise AreaImportError(f"--level must be one of {', '.join(IMPORT_LEVELS)}")
    parent_by = options.parent_by or ("code" if options.parent_field else "containment")
    if parent_by not in PARENT_BY:
        raise AreaImportError(f"--parent-by must be code or containment, not {parent_by!r}")
    if parent_by == "code" and not options.parent_field and options.level != LEVEL_STREET:
        raise AreaImportError("--parent-by code needs --parent-field (the column holding the "
                              "parent's code)")
    rows, declared = read_rows(path, options.encoding)
    summary = AreaImportSummary(read=len(rows))
    source = f"import-areas:{path.name}:{options.level}"[:64]
    quarantine: list[tuple[_Row, str, str]] = []  # (row, kind, reason)

    _check_fields(rows, path, options)
    # Repair in the file's own coordinates: validity is judged as the producer drew the
    # outline (a projection can bend a flat, area-less ring into a sliver that looks valid).
    for row in rows:
        if row.problem is None and row.geometry is not None:
            fixed, problem = repair(row.geometry)
            if fixed is None:
                row.problem, row.geometry = problem, None
            else:
                summary.repaired += problem is not None
                row.geometry = fixed
    summary.crs = to_wgs84(rows, declared, options.crs)
    good: list[_Row] = []
    for row in rows:
        code = _text(row.properties.get(options.code_field))
        if row.problem is None and not code:
            row.problem = f"no code (field {options.code_field!r} is empty)"
        elif row.problem is None and len(code) > CODE_WIDTH:
            row.problem = f"code longer than {CODE_WIDTH} characters ({code[:20]}…)"
        if row.problem is not None:
            quarantine.append((row, row.problem.split(" (")[0], row.problem))
        else:
            good.append(row)

    features, conflicts = _merge(good, options)
    summary.merged_rows = sum(len(f.rows) - 1 for f in features)
    quarantine += conflicts

    district = _ensure_district(session, options.district_name)
    parents, unplaced = _parents(session, features, options.level, parent_by, district)
    quarantine += unplaced
    placed = [f for f in features if f.code in parents]
    existing = {a.code: a for a in session.scalars(
        select(Area).where(Area.code.in_([f.code for f in placed])))}
    for feature in placed:
        area = existing.get(feature.code)
        if area is not None and (area.level != options.level or area.derived):
            what = "a derived area" if area.derived else f"a {area.level}"
            quarantine += feature.quarantined("code used at another level",
                                              f"code {feature.code} is already {what}")
            continue
        _upsert(session, area, feature, options.level, parents[feature.code], summary)
    session.flush()
    summary.areas = summary.inserted + summary.updated + summary.unchanged

    if reassign:
        # Before derived areas give way: their cases move into the new areas by point.
        summary.reassigned = reassign_cases(session)
    summary.removed_derived = _drop_replaced_derived(session)
    summary.derived = derive_missing_levels(session)
    _refresh_district(session, district)
    _write_quarantine(session, source, quarantine, now, summary)
    summary.seconds = time.perf_counter() - started
    return summary


def _check_fields(rows: Sequence[_Row], path: Path, options: AreaImportOptions) -> None:
    """Fail at once when a named field is in no row at all (a typo, not dirty data)."""
    if not rows:
        raise AreaImportError(f"{path}: holds no features")
    seen: set[str] = set()
    for row in rows:
        seen.update(row.properties)
    wanted = [("--code-field", options.code_field)]
    if options.parent_field:
        wanted.append(("--parent-field", options.parent_field))
    if options.name_field:
        wanted.append(("--name-field", options.name_field))
    for flag, name in wanted:
        if name not in seen:
            fields = ", ".join(sorted(seen)) or "none"
            raise AreaImportError(f"{path}: no field {name!r} ({flag}); the fields are: {fields}")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return repr(value)  # 306.0 stays "306.0": the file's own spelling
    return " ".join(str(value).split())


def _merge(rows: Sequence[_Row], options: AreaImportOptions
           ) -> tuple[list[_Feature], list[tuple[_Row, str, str]]]:
    """Merge rows sharing a code into one feature (the union of their outlines)."""
    groups: dict[str, list[_Row]] = {}
    present: set[str] = set()
    for row in rows:
        groups.setdefault(_text(row.properties.get(options.code_field)), []).append(row)
        present.update(row.properties)
    name_field = options.name_field or next((f for f in NAME_FIELDS if f in present), None)
    features: list[_Feature] = []
    conflicts: list[tuple[_Row, str, str]] = []
    for code, members in groups.items():
        parent_codes = {_text(r.properties.get(options.parent_field))
                        for r in members if options.parent_field} - {""}
        if len(parent_codes) > 1:
            for row in members:
                conflicts.append((row, "rows of one code name different parents",
                                  (f"rows of code {code} name different parents: "
                                  f"{', '.join(sorted(parent_codes))}")))
            continue
        geom = members[0].geometry if len(members) == 1 else polygonal(
            shapely.union_all(np.array([r.geometry for r in members], dtype=object)))
        if geom is None:
            conflicts += [(row, "rows of one code merge into no polygon",
                           f"rows of code {code} merge into no polygon") for row in members]
            continue
        name = next((_text(r.properties.get(name_field)) for r in members
                     if name_field and _text(r.properties.get(name_field))), code)
        features.append(_Feature(code=code, name=name[:128],
                                 parent_code=next(iter(parent_codes), None), geometry=geom,
                                 rows=members))
    return features, conflicts


def _ensure_district(session: Session, name: str) -> Area:
    """Return the district root, creating it (derived, outline filled later) if missing."""
    district = session.scalars(
        select(Area).where(Area.level == LEVEL_DISTRICT).order_by(Area.id).limit(1)).first()
    if district is None:
        district = Area(code=DEFAULT_DISTRICT_CODE, name=name, level=LEVEL_DISTRICT,
                        parent_id=None, derived=True, geometry='{"type":"Polygon",'
                        '"coordinates":[]}', center_lat=0.0, center_lon=0.0, area_m2=0.0)
        session.add(district)
        session.flush()
    return district


def _parent_level(level: str) -> str:
    return LEVELS[LEVELS.index(level) - 1]


def _real_or_derived(session: Session, level: str) -> list[Area]:
    return list(session.scalars(select(Area).where(Area.level == level).order_by(Area.code)))


def _parents(session: Session, features: Sequence[_Feature], level: str, parent_by: str,
             district: Area) -> tuple[dict[str, int], list[tuple[_Row, str, str]]]:
    """Return {code: parent id} and the features that have no parent."""
    if level == LEVEL_STREET:
        return {f.code: district.id for f in features}, []
    parent_level = _parent_level(level)
    candidates = _real_or_derived(session, parent_level)
    if not candidates:
        first = next(lv for lv in IMPORT_LEVELS
                     if session.scalar(select(func.count()).where(Area.level == lv)) == 0)
        raise AreaImportError(f"no {first} in the database yet: import the {first} level "
                              f"first (--level {first})")
    out: dict[str, int] = {}
    missing: list[tuple[_Row, str, str]] = []
    if parent_by == "code":
        by_code = {a.code: a.id for a in candidates}
        # A parent code may name the level above a derived one: a grid file of a city without
        # communities names streets, whose derived community is the parent.
        for a in candidates:
            if a.derived and a.code.endswith(DERIVED_SUFFIX):
                by_code.setdefault(a.code[: -len(DERIVED_SUFFIX)], a.id)
        for f in features:
            if f.parent_code and f.parent_code in by_code:
                out[f.code] = by_code[f.parent_code]
            else:
                missing += f.quarantined(f"parent is no {parent_level}",
                                         f"parent {f.parent_code or '(empty)'} is no "
                                         f"{parent_level}")
        return out, missing
    geoms = np.array([shapely.from_geojson(a.geometry) for a in candidates], dtype=object)
    tree = shapely.STRtree(geoms)
    for f in features:
        hits = tree.query(f.geometry, predicate="intersects")
        best, best_area = None, 0.0
        for k in sorted(hits, key=lambda k: candidates[k].code):
            overlap = shapely.area(shapely.intersection(geoms[k], f.geometry))
            if overlap > best_area:
                best, best_area = k, overlap
        if best is None or best_area <= 0:
            missing += f.quarantined(f"outside every {parent_level}",
                                     f"outside every {parent_level}")
        else:
            out[f.code] = candidates[best].id
    return out, missing


def _upsert(session: Session, area: Area | None, feature: _Feature, level: str,
            parent_id: int, summary: AreaImportSummary) -> None:
    text = geojson_text(feature.geometry)
    stored = shapely.from_geojson(text)
    centre = shapely.point_on_surface(stored)
    values = {"name": feature.name, "parent_id": parent_id, "geometry": text,
                  "center_lat": round(centre.y, DIGITS), "center_lon": round(centre.x, DIGITS),
                  "area_m2": round(area_m2(stored), 1)}
    if area is None:
        session.add(Area(code=feature.code, level=level, derived=False, **values))
        summary.inserted += 1
        return
    changed = {k: v for k, v in values.items() if getattr(area, k) != v}
    if not changed:
        summary.unchanged += 1
        return
    for key, value in changed.items():
        setattr(area, key, value)
    summary.updated += 1


def _referenced(session: Session, ids: Iterable[int]) -> bool:
    ids = list(ids)
    if not ids:
        return False
    checks = [
        exists().where(or_(Case.grid_id.in_(ids), Case.community_id.in_(ids),
                           Case.street_id.in_(ids))),
        exists().where(VolunteerActivity.grid_id.in_(ids)),
        exists().where(VolunteerTeam.street_id.in_(ids)),
        exists().where(PointOfInterest.grid_id.in_(ids)),
    ]
    return any(session.scalar(select(check)) for check in checks)


def _drop_replaced_derived(session: Session) -> int:
    """Remove derived areas whose parent now has real children too; return how many."""
    real_parent = select(Area.parent_id).where(Area.derived.is_(False),
                                               Area.parent_id.is_not(None))
    doomed = list(session.scalars(
        select(Area).where(Area.derived.is_(True), Area.parent_id.in_(real_parent))))
    removed = 0
    for area in doomed:
        below = _derived_chain(session, area)
        ids = [a.id for a in below]
        stranded = session.scalar(select(func.count()).where(
            Area.parent_id.in_(ids), Area.id.not_in(ids)))
        if stranded:
            raise AreaImportError(
                f"the derived {area.level} {area.code} already holds imported areas: import "
                f"the levels top-down (street, community, grid)")
        if _referenced(session, ids):
            parent = session.get(Area, area.parent_id)
            raise AreaImportError(
                f"cases already sit in the derived {area.level} {area.code} of "
                f"{parent.code if parent else '?'}: pass --reassign to move them by point, "
                f"or import every boundary level before the cases")
        for item in reversed(below):
            session.delete(item)
        removed += len(ids)
    session.flush()
    return removed


def _derived_chain(session: Session, area: Area) -> list[Area]:
    chain = [area]
    while True:
        below = list(session.scalars(select(Area).where(Area.parent_id == chain[-1].id)))
        if len(below) != 1 or not below[0].derived:
            return chain
        chain.append(below[0])


def derive_missing_levels(session: Session) -> int:
    """Give every street and community without children one derived child; return how many.

    Top-down, so a street without communities gets a derived community and that one a derived
    grid. The child repeats its parent's outline, centre, area and name.
    """
    made = 0
    for level in (LEVEL_STREET, LEVEL_COMMUNITY):
        child_level = LEVELS[LEVELS.index(level) + 1]
        has_child = select(Area.parent_id).where(Area.parent_id.is_not(None))
        lonely = list(session.scalars(
            select(Area).where(Area.level == level, Area.id.not_in(has_child))
            .order_by(Area.code)))
        for parent in lonely:
            session.add(Area(code=f"{parent.code}{DERIVED_SUFFIX}"[:64], name=parent.name,
                             level=child_level, parent_id=parent.id, derived=True,
                             geometry=parent.geometry, center_lat=parent.center_lat,
                             center_lon=parent.center_lon, area_m2=parent.area_m2))
            made += 1
        session.flush()
    # A derived child follows its parent when the parent's outline changes on a re-import.
    for child in session.scalars(select(Area).where(Area.derived.is_(True),
                                                    Area.parent_id.is_not(None))):
        parent = session.get(Area, child.parent_id)
        if parent is not None and child.geometry != parent.geometry:
            child.geometry, child.name = parent.geometry, parent.name
            child.center_lat, child.center_lon = parent.center_lat, parent.center_lon
            child.area_m2 = parent.area_m2
    return made


def _refresh_district(session: Session, district: Area) -> None:
    """Make a derived district's outline the union of its streets."""
    if not district.derived:
        return
    texts = list(session.scalars(select(Area.geometry).where(
        Area.level == LEVEL_STREET, Area.parent_id == district.id)))
    if not texts:
        return
    union = polygonal(shapely.union_all(shapely.from_geojson(np.array(texts, dtype=object))))
    if union is None:
        return
    text = geojson_text(union)
    if district.geometry != text:
        centre = shapely.point_on_surface(union)
        district.geometry = text
        district.center_lat, district.center_lon = round(centre.y, DIGITS), round(centre.x, DIGITS)
        district.area_m2 = round(area_m2(union), 1)


def _write_quarantine(session: Session, source: str,
                      quarantine: Sequence[tuple[_Row, str, str]],
                      now: datetime, summary: AreaImportSummary) -> None:
    """Replace this file's earlier quarantined rows by this run's."""
    session.execute(delete(QuarantinedRow).where(QuarantinedRow.source == source))
    for row, kind, reason in sorted(quarantine, key=lambda item: item[0].number):
        payload = json.dumps(row.properties, ensure_ascii=False, default=str, sort_keys=True)
        session.add(QuarantinedRow(source=source, row_number=row.number, payload=payload,
                                   reason=reason, at=now))
        summary.quarantined[kind] += 1


def count_areas(session: Session) -> dict[str, int]:
    """Return {level: areas} (for messages)."""
    return dict(session.execute(select(Area.level, func.count()).group_by(Area.level)).all())


# ---------------------------------------------------------------------------------- reassign

REASSIGN_BATCH = 50_000


@dataclass
class ReassignSummary:
    """What re-locating the cases by point did."""

    moved: int = 0
    unchanged: int = 0
    outside: int = 0  # precise point in no area now: the case keeps its areas
    no_grid: int = 0  # point in an area with no grid below it: the case keeps its areas
    imprecise: int = 0  # imprecise location: the case keeps the areas its field gave

    def line(self) -> str:
        """Return the one-line summary the command prints."""
        return (f"cases re-located by point: {self.moved} moved, {self.unchanged} unchanged; "
                f"kept: {self.outside} outside every area, {self.no_grid} in no grid, "
                f"{self.imprecise} imprecise")


def reassign_cases(session: Session) -> ReassignSummary:
    """Re-locate every case with a precise point in the areas now in the database.

    For boundaries of a newer vintage. A case whose location is imprecise (a default geocode,
    coarse coordinates: ``Case.location_precise`` false) keeps the areas its area field gave;
    so does a case whose point now falls outside every area.
    """
    from ingest.spatial import AreaLocator  # spatial imports nothing from here; kept local

    locator = AreaLocator.load(session)
    summary = ReassignSummary()
    # ``location_precise`` comes with the case importer; a database without it has only
    # generated or hand-made cases, whose points are exact.
    precise = getattr(Case, "location_precise", None)
    columns = (Case.id, Case.lon, Case.lat, Case.street_id, Case.community_id, Case.grid_id)
    stmt = select(*columns).order_by(Case.id)
    if precise is not None:
        summary.imprecise = session.scalar(
            select(func.count()).select_from(Case).where(precise.is_(False))) or 0
        stmt = stmt.where(precise.is_not(False))
    last = 0
    while True:
        rows = session.execute(stmt.where(Case.id > last).limit(REASSIGN_BATCH)).all()
        if not rows:
            return summary
        last = rows[-1].id
        chains = locator.locate_many([r.lon for r in rows], [r.lat for r in rows])
        changes = []
        for row, chain in zip(rows, chains, strict=True):
            if chain is None:
                summary.outside += 1
            elif (chain.street_id, chain.community_id, chain.grid_id) == (
                    row.street_id, row.community_id, row.grid_id):
                summary.unchanged += 1
            elif chain.grid_id is None or chain.community_id is None:
                # The point is in an area with no grid below it: the case keeps its areas
                # rather than lose its grid.
                summary.no_grid += 1
            else:
                changes.append({"id": row.id, "street_id": chain.street_id,
                                "community_id": chain.community_id, "grid_id": chain.grid_id})
        if changes:
            session.execute(update(Case), changes)
            summary.moved += len(changes)
