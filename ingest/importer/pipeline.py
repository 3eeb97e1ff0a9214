"""One import pipeline for every reader: raw rows → checked cases → upsert, or quarantine.

For each row the mapping picks the values, which are parsed (timestamps into city time,
statuses, categories, channels, departments through the value maps), checked (required
fields, order of times, times in the future, duplicates in the file) and placed (point in
WGS-84, imprecise-location rules, area field vs point). A row that fails any step goes to
``quarantined_rows`` with a reason code; every other row is upserted by
(source_system, external_id). read = inserted + updated + unchanged + quarantined, always.

Writes go in batches, one transaction each: an interrupted import leaves the database as it
was before the batch that was running.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from pyproj import Transformer
from sqlalchemy import Connection, DateTime, Engine, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session
from tqdm import tqdm

from ingest.importer.mapping import TIME_FIELDS, Mapping, normalise_text
from ingest.importer.readers import RawRow, Source
from ingest.importer.reasons import (
    CATEGORY_LIMIT,
    DUPLICATE_ID,
    FUTURE_TIME,
    IMPOSSIBLE_ORDER,
    MISSING_FIELD,
    NO_LOCATION,
    OUTSIDE_AREAS,
    UNKNOWN_VALUE,
    RowRejected,
)
from ingest.importer.timeparse import TimeParser
from ingest.spatial import SectionLocator
from queries.coords import bd09_to_wgs84, gcj02_to_wgs84
from queries.models import (
    LOCATION_AREA_CENTRE,
    LOCATION_COARSE,
    LOCATION_DEFAULT_GEOCODE,
    LOCATION_DISAGREES,
    LOCATION_OUTSIDE,
    LOCATION_SHARED_POINT,
    OPEN_STATUSES,
    STATUS_CANCELLED,
    STATUS_CLOSED,
    STATUS_DISPATCHED,
    STATUS_REGISTERED,
    STATUS_REPORTED,
    STATUS_VERIFYING,
    URGENCY_NORMAL,
    URGENCY_URGENT,
    Area,
    Case,
    CaseEvent,
    Category,
    Department,
    QuarantinedRow,
    written_at,
)
from queries.repeats import EARTH_RADIUS_M
from queries.workcalendar import WorkCalendar

BATCH_SIZE = 5_000
_LOCATE_CACHE_MAX = 200_000
_IN_CHUNK = 900  # ids per IN (...) list: far below every database's parameter limit
UPDATE_ACTION = "更新"

# The columns an import writes and compares: a row whose values all equal the stored ones
# writes nothing.
WRITTEN = ("source", "source_raw", "category_id", "description", "address", "lat", "lon",
           "location_precise", "location_note", "grid_id", "community_id", "street_id",
           "department_id", "status", "status_raw", "urgency", "reported_at", "registered_at",
           "dispatched_at", "handled_at", "closed_at", "cancelled_at", "deadline_at",
           "original_deadline_at", "satisfied", "photo_urls",
           "section_id")


_URL_SPLIT = re.compile(r"[\s,;，；]+")


def photo_urls(text: str) -> str | None:
    """Return a photos cell's http(s) URLs, one per line (None when it has none): anything
    else (a file path, a ``javascript:`` link) is left out, so the case page links only to
    web addresses."""
    urls = [u for u in _URL_SPLIT.split(text) if u.lower().startswith(("http://", "https://"))]
    return "\n".join(dict.fromkeys(urls)) or None


class Chain(Protocol):
    """What the pipeline needs of an area chain (ingest.spatial.AreaChain)."""

    street_id: int
    community_id: int | None
    grid_id: int | None

    def contains(self, other: Any) -> bool: ...


class Locator(Protocol):
    """What the pipeline needs of the area locator (ingest.spatial.AreaLocator)."""

    def locate(self, lon: float, lat: float) -> Chain | None: ...

    def find(self, text: str, level: str | None = None) -> Chain | None: ...


def default_locator(session: Session) -> Locator:
    """Load the boundaries importer's locator over the areas in the database."""
    from ingest.spatial import AreaLocator

    return AreaLocator.load(session)


@dataclass
class ImportSummary:
    """What one import did; ``read == imported + quarantined`` always."""

    source_system: str
    file_name: str
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)
    imprecise: int = 0
    disagreements: int = 0
    new_categories: int = 0
    new_departments: int = 0
    seconds: float = 0.0
    dry_run: bool = False
    encoding: str | None = None

    @property
    def imported(self) -> int:
        """Rows taken in: inserted, updated or unchanged."""
        return self.inserted + self.updated + self.unchanged

    @property
    def quarantined_total(self) -> int:
        """Rows quarantined, all reasons."""
        return sum(self.quarantined.values())

    def check(self) -> None:
        """Fail loudly if a row was neither taken in nor quarantined (a pipeline bug)."""
        if self.read != self.imported + self.quarantined_total:
            raise AssertionError(f"read {self.read} ≠ imported {self.imported} + quarantined "
                                 f"{self.quarantined_total}")

    def lines(self) -> list[str]:
        """Return the closing summary, one fact a line."""
        rate = self.read / self.seconds if self.seconds > 0 else 0.0
        out = [
            (f"{'dry run: nothing written · ' if self.dry_run else ''}{self.file_name} → "
            f"{self.source_system}"),
            (f"read {self.read:,} = imported {self.imported:,} + quarantined "
            f"{self.quarantined_total:,}"),
            (f"inserted {self.inserted:,} · updated {self.updated:,} · unchanged "
            f"{self.unchanged:,}"),
            (f"imprecise locations {self.imprecise:,} · area field vs point disagree "
            f"{self.disagreements:,} · new categories {self.new_categories} · new departments "
            f"{self.new_departments}"),
        ]
        for code, n in sorted(self.quarantined.items(), key=lambda kv: (-kv[1], kv[0])):
            out.append(f"  quarantined {code}: {n:,}")
        out.append(f"{self.seconds:.1f} s ({rate:,.0f} rows/s)")
        return out


@dataclass
class _Prepared:
    """One accepted row, ready to write."""

    number: int
    external_id: str
    values: dict[str, Any]
    category_key: tuple[str, str]
    department: str | None
    place: tuple[Any, tuple[float, float, str | None] | None]  # (field chain, point)


@dataclass
class _CategoryInfo:
    id: int | None
    kind: str
    major: str
    minor: str
    limit_hours: float
    urgent_limit_hours: float


class CaseImporter:
    """Imports one source's rows with one mapping into the case database."""

    def __init__(self, engine: Engine, mapping: Mapping, *, now: datetime, city_timezone: str,
                 calendar: WorkCalendar,
                 locator_factory: Callable[[Session], Locator] | None = None,
                 batch_size: int = BATCH_SIZE, progress: bool = False,
                 source_system: str | None = None) -> None:
        self.engine = engine
        self.mapping = mapping
        self.source_system = source_system or mapping.name
        self.now = now
        self.calendar = calendar
        self.batch_size = batch_size
        self.progress = progress
        self.locator_factory = locator_factory or default_locator
        self.times = TimeParser(mapping.timestamp_formats, mapping.timezone or city_timezone,
                                city_timezone, mapping.ambiguous_times)
        self.future_limit = now + timedelta(minutes=mapping.future_tolerance_minutes)
        self.to_wgs84 = _point_transform(mapping.crs)
        self.projected = mapping.crs.startswith("EPSG:") and mapping.crs != "EPSG:4326"
        self.default_points = [(*self.to_wgs84(g.lon, g.lat), g.radius_m)
                               for g in mapping.default_geocodes]
        self._getters = {name: _getter(mapping, name) for name in mapping.fields}
        # Filled per run by _load.
        self.locator: Locator | None = None
        self.sections = SectionLocator([], [], [])
        self.centres: dict[int, tuple[float, float]] = {}
        self.categories: dict[tuple[str, str], _CategoryInfo] = {}
        self.minor_index: dict[str, list[tuple[str, str]]] = {}
        self.departments: dict[str, int | None] = {}
        self.shared_points: set[tuple[str, str]] = set()
        self._locate_cache: dict[tuple[float, float], Chain | None] = {}
        self._find_cache: dict[str, Chain | None] = {}
        self._new_categories = 0

    # ------------------------------------------------------------------------ the run

    def run(self, source: Source, *, dry_run: bool = False, interrupt: Callable[[int], None]
            | None = None) -> ImportSummary:
        """Import every row of ``source``; ``interrupt(batch)`` is a test hook called mid-batch."""
        started = time.perf_counter()
        summary = ImportSummary(self.source_system, source.name, dry_run=dry_run,
                                encoding=source.encoding)
        total = self._load(source)
        seen: set[str] = set()
        with self.engine.connect() as conn:
            outer = conn.begin() if dry_run else None
            bar = tqdm(total=total, unit="行", desc="导入", disable=not self.progress,
                       mininterval=0.5)
            try:
                for index, batch in enumerate(_batches(source.rows(), self.batch_size)):
                    accepted, rejected = self._convert(batch, seen)
                    summary.read += len(batch)
                    if dry_run:
                        self._write(conn, batch, accepted, rejected, summary, index, interrupt)
                    else:
                        with conn.begin():
                            self._write(conn, batch, accepted, rejected, summary, index,
                                        interrupt)
                    bar.update(len(batch))
            finally:
                bar.close()
                if outer is not None:
                    outer.rollback()
        summary.seconds = time.perf_counter() - started
        summary.check()
        return summary

    def _load(self, source: Source) -> int:
        """Load the reference data once; count rows and shared points (pass one)."""
        if self.locator is None:
            self._load_reference()
        return self._count_points(source)

    def _load_reference(self) -> None:
        """Load areas (the locator), categories and departments."""
        with Session(self.engine) as session:
            self.locator = self.locator_factory(session)
            self.sections = SectionLocator.load(session)
            self.centres = {row.id: (row.center_lon, row.center_lat) for row in session.execute(
                select(Area.id, Area.center_lon, Area.center_lat))}
            for row in session.execute(select(Category.id, Category.kind, Category.major,
                                              Category.minor, Category.limit_hours,
                                              Category.urgent_limit_hours)):
                key = (_fold(row.major), _fold(row.minor))
                self.categories.setdefault(key, _CategoryInfo(*row))
                self.minor_index.setdefault(key[1], []).append(key)
            for dept_id, code, name in session.execute(
                    select(Department.id, Department.code, Department.name)):
                self.departments[_fold(name)] = dept_id
                self.departments.setdefault(_fold(code), dept_id)

    def _count_points(self, source: Source) -> int:
        """Count the rows and find the points that carry a large share of them."""
        counts: Counter[tuple[str, str]] = Counter()
        rows = 0
        lon_spec, lat_spec = self.mapping.spec("lon"), self.mapping.spec("lat")
        for raw in source.rows():
            rows += 1
            if lon_spec and lat_spec and raw.problem is None:
                lon, lat = self._pick(raw, "lon"), self._pick(raw, "lat")
                if lon not in (None, "") and lat not in (None, ""):
                    counts[(_number_text(lon), _number_text(lat))] += 1
        threshold = max(self.mapping.shared_point_min,
                        math.ceil(self.mapping.shared_point_share * rows))
        self.shared_points = {point for point, n in counts.items() if n >= threshold}
        return rows

    # ------------------------------------------------------------------- conversion

    def _convert(self, batch: list[RawRow], seen: set[str],
                 ) -> tuple[list[_Prepared], list[tuple[RawRow, RowRejected, str | None]]]:
        accepted: list[_Prepared] = []
        rejected: list[tuple[RawRow, RowRejected, str | None]] = []
        for raw in batch:
            external_id = None
            try:
                if raw.problem is not None:
                    raise RowRejected(*raw.problem)
                external_id = self._text(raw, "external_id")
                if not external_id:
                    raise RowRejected(MISSING_FIELD, "external_id is empty")
                external_id = external_id[:128]
                if external_id in seen:
                    raise RowRejected(DUPLICATE_ID, f"external_id {external_id!r} appears "
                                                    f"earlier in the file")
                prepared = self._prepare(raw, external_id)
            except RowRejected as exc:
                rejected.append((raw, exc, external_id))
                continue
            seen.add(external_id)
            accepted.append(prepared)
        # Place the batch: every point not met before is located in one vectorised call.
        self._locate_batch([p.place[1] for p in accepted if p.place[1] is not None])
        placed: list[_Prepared] = []
        raw_of: dict[int, RawRow] = {}
        for p in accepted:
            try:
                p.values.update(self._place(*p.place))
            except RowRejected as exc:
                raw_of = raw_of or {row.number: row for row in batch}
                rejected.append((raw_of[p.number], exc, p.external_id))
                continue
            placed.append(p)
        return placed, rejected

    def _pick(self, raw: RawRow, name: str) -> Any:
        """Return the raw value of a case field: first non-empty column, constant, or copy."""
        getter = self._getters.get(name)
        return None if getter is None else getter(raw.values)

    def _text(self, raw: RawRow, name: str) -> str:
        value = self._pick(raw, name)
        if value is None:
            return ""
        return _number_text(value) if isinstance(value, (int, float)) else str(value).strip()

    def _prepare(self, raw: RawRow, external_id: str) -> _Prepared:
        m = self.mapping
        mapped = self.mapping.fields
        times = {name: self.times.parse(self._pick(raw, name), name) if name in mapped else None
                 for name in TIME_FIELDS}
        reported = times["reported_at"]
        if reported is None:
            raise RowRejected(MISSING_FIELD, "reported_at is empty")
        for name, moment in times.items():
            if moment is None or name == "deadline_at":
                continue
            if moment > self.future_limit:
                raise RowRejected(FUTURE_TIME, f"{name}={moment:%Y-%m-%d %H:%M} is after now "
                                               f"({self.now:%Y-%m-%d %H:%M})")
            if moment < reported:
                raise RowRejected(IMPOSSIBLE_ORDER, f"{name}={moment:%Y-%m-%d %H:%M} is before "
                                                    f"reported_at={reported:%Y-%m-%d %H:%M}")
        status_raw = self._text(raw, "status") or None
        status = self._status(raw, status_raw, times)
        category_key, info = self._category(raw)
        urgency = self._mapped(raw, "urgency", m.urgency_map, URGENCY_NORMAL)
        deadline = self._deadline(times, info, urgency)
        source_raw = self._text(raw, "source") or None
        source = self._source(source_raw)
        values: dict[str, Any] = {
            "source": source, "source_raw": source_raw,
            "description": self._text(raw, "description"),
            "address": self._text(raw, "address"),
            "status": status, "status_raw": status_raw, "urgency": urgency,
            **times, "deadline_at": deadline, "original_deadline_at": deadline,
            "satisfied": self._satisfied(raw),
            "photo_urls": photo_urls(self._text(raw, "photos")),
        }
        return _Prepared(raw.number, external_id, values, category_key, self._department(raw),
                         self._place_inputs(raw))

    def _status(self, raw: RawRow, status_raw: str | None,
                times: dict[str, datetime | None]) -> str:
        m = self.mapping
        if status_raw is not None:
            status = m.status_map.get(_fold(status_raw))
            if status is None:
                raise RowRejected(UNKNOWN_VALUE, f"status {status_raw!r} is not in status.map")
        elif "status" in m.fields:
            raise RowRejected(MISSING_FIELD, "status is empty")
        else:
            status = _status_from_times(times)
        reason = self._text(raw, "closure_reason")
        if reason and _fold(reason) in m.cancelled_reasons:
            status = STATUS_CANCELLED
        if status == STATUS_CANCELLED:
            times["cancelled_at"] = times["cancelled_at"] or times["closed_at"]
            times["closed_at"] = None
            if times["cancelled_at"] is None:
                raise RowRejected(MISSING_FIELD, "a cancelled (作废) case needs cancelled_at or "
                                                 "closed_at")
        elif status == STATUS_CLOSED:
            if times["closed_at"] is None:
                raise RowRejected(MISSING_FIELD, "a closed (结案) case needs closed_at")
        elif status in OPEN_STATUSES:
            times["closed_at"] = None  # the open status wins over a stale closed time
            times["cancelled_at"] = None
        return status

    def _category(self, raw: RawRow) -> tuple[tuple[str, str], _CategoryInfo]:
        m = self.mapping
        minor_raw = self._text(raw, "category_minor")
        if not minor_raw:
            raise RowRejected(MISSING_FIELD, "category_minor is empty")
        target = m.category_map.get(_fold(minor_raw))
        minor = normalise_text(target.minor if target else minor_raw)[:255]
        major_given = (target.major if target and target.major else None) or (
            self._text(raw, "category_major") or None)
        kind = (target.kind if target and target.kind else None) or self._text(
            raw, "category_kind") or m.category_kind
        if kind not in ("部件", "事件"):
            raise RowRejected(UNKNOWN_VALUE, f"category_kind {kind!r}: expected 部件 or 事件")
        if major_given:
            key = (_fold(major_given), _fold(minor))
        else:
            candidates = self.minor_index.get(_fold(minor))
            key = candidates[0] if candidates else (_fold(m.category_major), _fold(minor))
        info = self.categories.get(key)
        if info is None:
            if not m.category_create:
                raise RowRejected(UNKNOWN_VALUE, f"category {minor!r} is neither in "
                                                 f"category.map nor in the database")
            if self._new_categories >= m.category_max_new:
                raise RowRejected(CATEGORY_LIMIT, f"category {minor!r} would be new number "
                                                  f"{self._new_categories + 1}, over "
                                                  f"category.max_new={m.category_max_new}")
            self._new_categories += 1
            info = _CategoryInfo(None, kind, normalise_text(major_given or m.category_major)[:255],
                                 minor, m.category_limit_hours, m.category_urgent_limit_hours)
            self.categories[key] = info
            self.minor_index.setdefault(key[1], []).append(key)
        return key, info

    def _deadline(self, times: dict[str, datetime | None], info: _CategoryInfo,
                  urgency: str) -> datetime | None:
        m = self.mapping
        mode = m.deadline_from
        if mode == "column":
            if times["deadline_at"] is not None or m.deadline_fallback == "none":
                return times["deadline_at"]
            mode = "category"
        if mode == "none":
            return None
        start = times["registered_at"] or times["reported_at"]
        assert start is not None
        hours = info.urgent_limit_hours if urgency == URGENCY_URGENT else info.limit_hours
        return self.calendar.add_working_hours(start, hours)

    def _mapped(self, raw: RawRow, name: str, table: dict[str, str], default: str) -> str:
        text = self._text(raw, name)
        if not text:
            return default
        value = table.get(_fold(text))
        if value is None:
            raise RowRejected(UNKNOWN_VALUE, f"{name} {text!r} is not in {name}.map")
        return value

    def _source(self, source_raw: str | None) -> str:
        """Map the channel; unmapped values take source.default (the raw text is kept)."""
        m = self.mapping
        value = m.source_map.get(_fold(source_raw)) if source_raw is not None else None
        if value is not None:
            return value
        if m.source_default is not None:
            return m.source_default
        if source_raw is None:
            raise RowRejected(MISSING_FIELD, "source is empty and source.default is not set")
        raise RowRejected(UNKNOWN_VALUE, f"source {source_raw!r} is not in source.map (and "
                                         f"source.default is not set)")

    def _satisfied(self, raw: RawRow) -> bool | None:
        text = self._text(raw, "satisfied")
        if not text:
            return None
        value = self.mapping.satisfied_map.get(_fold(text))
        if value is None:
            raise RowRejected(UNKNOWN_VALUE, f"satisfied {text!r} is not in satisfied.map")
        return value

    def _department(self, raw: RawRow) -> str | None:
        text = self._text(raw, "department")
        if not text:
            return None
        name = normalise_text(self.mapping.department_map.get(_fold(text), text))[:255]
        if _fold(name) not in self.departments and not self.mapping.department_create:
            raise RowRejected(UNKNOWN_VALUE, f"department {text!r} is neither in department.map "
                                             f"nor in the database")
        return name

    # ------------------------------------------------------------------- placement

    def _place_inputs(self, raw: RawRow) -> tuple[Chain | None, tuple[float, float, str | None]
                                                  | None]:
        """Return the area the field names (None: no field) and the point, or raise."""
        field_chain = None
        area_text = self._text(raw, "area")
        if area_text:
            field_chain = self._find(area_text)
            if field_chain is None:
                raise RowRejected(UNKNOWN_VALUE, f"area {area_text!r} matches no area (after "
                                                 f"area.map and area.normalise)")
        return field_chain, self._point(raw)

    def _locate_batch(self, points: list[tuple[float, float, str | None]]) -> None:
        """Locate every point not yet in the cache with one ``locate_many`` call."""
        assert self.locator is not None
        if len(self._locate_cache) > _LOCATE_CACHE_MAX:  # distinct points: bound the memory
            self._locate_cache.clear()
        todo = list({(lon, lat) for lon, lat, _ in points} - self._locate_cache.keys())
        if not todo:
            return
        many = getattr(self.locator, "locate_many", None)
        if many is None:
            chains = [self.locator.locate(lon, lat) for lon, lat in todo]
        else:
            chains = many([p[0] for p in todo], [p[1] for p in todo])
        self._locate_cache.update(zip(todo, chains, strict=True))

    def _place(self, field_chain: Chain | None,
               point: tuple[float, float, str | None] | None) -> dict[str, Any]:
        """Return lat, lon, precision, note and area ids, or raise with the reason."""
        m = self.mapping
        if point is None:
            if field_chain is None:
                raise RowRejected(NO_LOCATION, "no lon/lat and no area field")
            lon, lat = self._centre(field_chain)
            return _placed(lon, lat, False, LOCATION_AREA_CENTRE, field_chain)
        lon, lat, note = point
        if note is not None:  # imprecise: the field places it
            if field_chain is None:
                if note == LOCATION_COARSE:
                    chain = self._locate(lon, lat)
                    if chain is not None:  # a coarse point still tells the street
                        return _placed(lon, lat, False, note, _street_only(chain))
                raise RowRejected(NO_LOCATION, f"the point ({lon:.5f}, {lat:.5f}) is "
                                               f"imprecise ({note}) and there is no area field")
            return _placed(lon, lat, False, note, field_chain)
        point_chain = self._locate(lon, lat)
        if point_chain is None:
            if field_chain is None:
                raise RowRejected(OUTSIDE_AREAS, f"the point ({lon:.6f}, {lat:.6f}) is outside "
                                                 f"every area")
            # The point is wrong (outside the city) but the field places the case: keep it,
            # imprecise, so it neither piles up on the map nor joins repeat detection.
            return _placed(lon, lat, False, LOCATION_OUTSIDE, field_chain)
        if field_chain is None or field_chain.contains(point_chain):
            return _placed(lon, lat, True, None, point_chain)
        if point_chain.contains(field_chain):
            return _placed(lon, lat, True, None, field_chain)
        chosen = field_chain if m.area_prefer == "field" else point_chain
        return _placed(lon, lat, True, LOCATION_DISAGREES, chosen)

    def _point(self, raw: RawRow) -> tuple[float, float, str | None] | None:
        """Return the WGS-84 point and why it is imprecise (None: precise), or None."""
        lon_raw, lat_raw = self._pick(raw, "lon"), self._pick(raw, "lat")
        if lon_raw in (None, "") or lat_raw in (None, ""):
            return None
        lon_text, lat_text = _number_text(lon_raw), _number_text(lat_raw)
        try:
            x, y = float(lon_text), float(lat_text)
        except ValueError:
            from ingest.importer.reasons import BAD_VALUE

            raise RowRejected(BAD_VALUE, f"lon/lat {lon_text!r}, {lat_text!r} are not "
                                         f"numbers") from None
        if not (math.isfinite(x) and math.isfinite(y)) or (x == 0 and y == 0):
            return None  # 0,0 is what exports write for "no point"
        if not self.projected and not (-180 <= x <= 180 and -90 <= y <= 90):
            from ingest.importer.reasons import BAD_VALUE

            raise RowRejected(BAD_VALUE, f"lon/lat ({x}, {y}) are not degrees")
        lon, lat = self.to_wgs84(x, y)
        note = None
        if any(_metres(lon, lat, g_lon, g_lat) <= r for g_lon, g_lat, r in self.default_points):
            note = LOCATION_DEFAULT_GEOCODE
        elif (lon_text, lat_text) in self.shared_points:
            note = LOCATION_SHARED_POINT
        elif not self.projected and max(_decimals(lon_text), _decimals(lat_text)) < (
                self.mapping.min_decimals):  # both: one short by chance is a trailing zero
            note = LOCATION_COARSE
        return round(lon, 7), round(lat, 7), note

    def _locate(self, lon: float, lat: float) -> Chain | None:
        key = (lon, lat)
        if key not in self._locate_cache:
            assert self.locator is not None
            self._locate_cache[key] = self.locator.locate(lon, lat)
        return self._locate_cache[key]

    def _find(self, text: str) -> Chain | None:
        if text in self._find_cache:
            return self._find_cache[text]
        m = self.mapping
        value = normalise_text(text)
        value = m.area_map.get(_fold(value), value)
        for rule in m.area_rules:
            if rule.pattern.fullmatch(value):
                value = rule.pattern.sub(rule.replace, value, count=1)
        assert self.locator is not None
        chain = self.locator.find(value, m.area_level)
        self._find_cache[text] = chain
        return chain

    def _centre(self, chain: Chain) -> tuple[float, float]:
        deepest = chain.grid_id or chain.community_id or chain.street_id
        return self.centres[deepest]

    # --------------------------------------------------------------------- writing

    def _write(self, conn: Connection, batch: list[RawRow], accepted: list[_Prepared],
               rejected: list[tuple[RawRow, RowRejected, str | None]], summary: ImportSummary,
               index: int, interrupt: Callable[[int], None] | None) -> None:
        self._create_missing(conn, accepted, summary)
        existing = self._existing(conn, [p.external_id for p in accepted])
        self._assign_sections(accepted)
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        for p in accepted:
            values = p.values
            values["category_id"] = self.categories[p.category_key].id
            values["department_id"] = self.departments[_fold(p.department)] if (
                p.department) else None
            if values["location_precise"] is False:
                summary.imprecise += 1
            if values["location_note"] in (LOCATION_DISAGREES, LOCATION_OUTSIDE):
                summary.disagreements += 1
            old = existing.get(p.external_id)
            if old is None:
                # updated_at: the driver's executemany skips SQLAlchemy's defaults.
                inserts.append({"source_system": self.source_system,
                                "external_id": p.external_id, "severity": 1,
                                "valid_report": True, "extended": False, "misdispatched": False,
                                "rework_count": 0, "updated_at": written_at(), **values})
                continue
            changed = [name for name in WRITTEN if not _same(old[name], values[name])]
            if not changed:
                summary.unchanged += 1
                continue
            summary.updated += 1
            updates.append({"_id": old["id"], **{f"v_{name}": values[name] for name in WRITTEN}})
            events.append({"case_id": old["id"], "at": self.now, "action": UPDATE_ACTION,
                           "actor": f"import:{self.source_system}"[:64],
                           "note": f"{summary.file_name} row {p.number}: "
                                   f"{', '.join(changed)}"})
        if inserts:
            _insert_rows(conn, Case.__table__, inserts)
            summary.inserted += len(inserts)
        if interrupt is not None:
            interrupt(index)
        if updates:
            conn.execute(update(Case).where(Case.id == bindparam("_id")).values(
                {name: bindparam(f"v_{name}") for name in WRITTEN}), updates)
            conn.execute(insert(CaseEvent), events)
        self._quarantine(conn, batch, accepted, rejected, summary)

    def _assign_sections(self, accepted: list[_Prepared]) -> None:
        """Give each accepted case the 路长 section of its point; an imprecise point gets none
        (a default geocode must not pile cases onto the section around the city hall)."""
        precise = [p.values for p in accepted if p.values["location_precise"]]
        found = self.sections.locate_many([v["lon"] for v in precise],
                                          [v["lat"] for v in precise])
        for p in accepted:
            p.values["section_id"] = None
        for values, section_id in zip(precise, found, strict=True):
            values["section_id"] = section_id

    def _quarantine(self, conn: Connection, batch: list[RawRow], accepted: list[_Prepared],
                    rejected: list[tuple[RawRow, RowRejected, str | None]],
                    summary: ImportSummary) -> None:
        """Release what this batch accepts, replace what it reads again, add what it rejects."""
        table = QuarantinedRow.__table__
        if batch:
            conn.execute(delete(table).where(
                table.c.source_system == self.source_system,
                table.c.file_name == summary.file_name,
                table.c.row_number.between(batch[0].number, batch[-1].number)))
        ids = [p.external_id for p in accepted]
        for lo in range(0, len(ids), _IN_CHUNK):
            conn.execute(delete(table).where(table.c.source_system == self.source_system,
                                             table.c.external_id.in_(ids[lo:lo + _IN_CHUNK])))
        if not rejected:
            return
        rows = []
        for raw, exc, external_id in rejected:
            summary.quarantined[exc.reason.code] += 1
            rows.append({
                "source": f"{self.source_system}:{summary.file_name}"[:255],
                "source_system": self.source_system, "file_name": summary.file_name,
                "row_number": raw.number, "external_id": external_id,
                "reason_code": exc.reason.code, "reason": exc.message,
                "payload": json.dumps(raw.values, ensure_ascii=False, default=str),
                "at": self.now,
            })
        conn.execute(insert(table), rows)

    def _create_missing(self, conn: Connection, accepted: list[_Prepared],
                        summary: ImportSummary) -> None:
        """Insert the categories and departments this batch needs that do not exist yet."""
        for p in accepted:
            info = self.categories[p.category_key]
            if info.id is None:
                digest = hashlib.sha1(f"{self.source_system}|{info.major}|{info.minor}".encode())
                info.id = conn.execute(insert(Category).values(
                    code=f"IMP-{digest.hexdigest()[:12]}", kind=info.kind, major=info.major,
                    minor=info.minor, element=self.mapping.category_element,
                    limit_hours=info.limit_hours, urgent_limit_hours=info.urgent_limit_hours,
                ).returning(Category.id)).scalar_one()
                summary.new_categories += 1
            if p.department and self.departments.get(_fold(p.department)) is None:
                digest = hashlib.sha1(f"{self.source_system}|{p.department}".encode())
                self.departments[_fold(p.department)] = conn.execute(insert(Department).values(
                    code=f"IMP-{digest.hexdigest()[:12]}", name=p.department,
                ).returning(Department.id)).scalar_one()
                summary.new_departments += 1

    def _existing(self, conn: Connection, ids: list[str]) -> dict[str, dict[str, Any]]:
        """Return the stored cases of this source among ``ids``, by external id."""
        columns = [Case.id, Case.external_id, *(getattr(Case, name) for name in WRITTEN)]
        found: dict[str, dict[str, Any]] = {}
        for lo in range(0, len(ids), _IN_CHUNK):
            rows = conn.execute(select(*columns).where(
                Case.source_system == self.source_system,
                Case.external_id.in_(ids[lo:lo + _IN_CHUNK])))
            for row in rows:
                found[row.external_id] = row._asdict()
        return found


def import_file(engine: Engine, source: Source, mapping: Mapping, **options: Any) -> ImportSummary:
    """Import one file: a convenience over ``CaseImporter(...).run``."""
    dry_run = options.pop("dry_run", False)
    return CaseImporter(engine, mapping, **options).run(source, dry_run=dry_run)


# ------------------------------------------------------------------------------ helpers


def _batches(rows: Iterable[RawRow], size: int) -> Iterator[list[RawRow]]:
    batch: list[RawRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _blank(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, str) and value.isspace())


def _getter(mapping: Mapping, name: str, depth: int = 0) -> Callable[[dict[str, Any]], Any]:
    """Return a function picking one field's raw value from a row's values (built once)."""
    spec = mapping.fields[name]
    if spec.copy is not None:
        if depth > 4 or spec.copy not in mapping.fields:
            return lambda values: None
        return _getter(mapping, spec.copy, depth + 1)
    if spec.const is not None:
        const = spec.const
        return lambda values: const
    if len(spec.columns) == 1:
        column = spec.columns[0]

        def one(values: dict[str, Any]) -> Any:
            value = values.get(column)
            return None if _blank(value) else value

        return one
    columns = spec.columns

    def first(values: dict[str, Any]) -> Any:
        for column in columns:
            value = values.get(column)
            if not _blank(value):
                return value
        return None

    return first


def _insert_rows(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert rows (all with the same keys) straight through the driver's executemany.

    SQLAlchemy's per-row parameter processing costs more than SQLite's own work on a big
    file; the values here are plain Python, and only SQLite needs datetimes as text (in the
    format SQLAlchemy's SQLite DateTime reads back).
    """
    keys = list(rows[0])
    statement = insert(table).compile(dialect=conn.dialect, column_keys=keys)
    timed = {k for k in keys if isinstance(table.c[k].type, DateTime)}
    if conn.dialect.name != "sqlite":
        timed = set()
    for row in rows:
        for k in timed:
            value = row[k]
            if value is not None:
                row[k] = value.isoformat(" ", "microseconds")
    if statement.positional:
        order = statement.positiontup or []
        params: list[Any] = [tuple(row[k] for k in order) for row in rows]
    else:
        params = rows
    conn.exec_driver_sql(statement.string, params)


def _fold(value: str) -> str:
    return normalise_text(value).casefold()


def _number_text(value: Any) -> str:
    """Return a coordinate or code as the text the source wrote (floats: shortest repr)."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return str(value).strip()


def _decimals(text: str) -> int:
    """Return the number of decimals a coordinate was written with ("116.4074" → 4)."""
    if "e" in text.lower():
        return 15  # scientific notation: a computed value, precise enough
    _, _, frac = text.partition(".")
    return len(frac)


def _metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    dx = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    return EARTH_RADIUS_M * math.hypot(dx, math.radians(lat2 - lat1))


def _point_transform(crs: str) -> Callable[[float, float], tuple[float, float]]:
    if crs == "wgs84" or crs == "EPSG:4326":
        return lambda x, y: (x, y)
    if crs == "gcj02":
        return gcj02_to_wgs84
    if crs == "bd09":
        return bd09_to_wgs84
    transformer = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    return lambda x, y: transformer.transform(x, y)


def _status_from_times(times: dict[str, datetime | None]) -> str:
    """Return the status a case with these timestamps is in (no status column mapped)."""
    if times["cancelled_at"]:
        return STATUS_CANCELLED
    if times["closed_at"]:
        return STATUS_CLOSED
    if times["handled_at"]:
        return STATUS_VERIFYING
    if times["dispatched_at"]:
        return STATUS_DISPATCHED
    if times["registered_at"]:
        return STATUS_REGISTERED
    return STATUS_REPORTED


def _placed(lon: float, lat: float, precise: bool, note: str | None,
            chain: Chain) -> dict[str, Any]:
    return {"lon": lon, "lat": lat, "location_precise": precise, "location_note": note,
            "street_id": chain.street_id, "community_id": chain.community_id,
            "grid_id": chain.grid_id}


@dataclass(frozen=True)
class _StreetOnly:
    street_id: int
    community_id: None = None
    grid_id: None = None


def _street_only(chain: Chain) -> Any:
    return _StreetOnly(chain.street_id)


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, float) and isinstance(new, float):
        return abs(old - new) < 1e-9
    return bool(old == new)
