"""The mapping file: how one source's export becomes Gridwatch cases (docs/import.md).

A mapping is YAML, validated when it is loaded: an error names the file, the line and the key
(``hotline.yaml:12: status.map.受理: '受 理' is not a status; use one of 上报, 立案 …``), so
an official who writes one for a new export can fix it without reading code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from queries.models import LEVELS, STATUS_CANCELLED, STATUSES, URGENCY_NORMAL, URGENCY_URGENT

# Every case field a mapping can fill, and whether a row without it is quarantined.
FIELDS: dict[str, str] = {
    "external_id": "the source's case number (工单编号); required",
    "reported_at": "when the case was reported (上报/受理时间); required",
    "registered_at": "立案时间",
    "dispatched_at": "派遣时间",
    "handled_at": "处置完成时间",
    "closed_at": "结案时间 (for Open/Closed sources: the closed time)",
    "cancelled_at": "作废时间",
    "deadline_at": "处置时限 (calendar time, as the source gives it)",
    "status": "the source's status, mapped by status.map",
    "closure_reason": "a closure reason column; status.cancelled_reasons say which mean 作废",
    "category_minor": "小类 (or the source's type name)",
    "category_major": "大类",
    "category_kind": "部件 or 事件",
    "source": "the channel (来源), mapped by source.map",
    "description": "问题描述",
    "address": "地址",
    "lon": "longitude or x, in coordinates.crs",
    "lat": "latitude or y, in coordinates.crs",
    "area": "an area name or code (street, community or grid), normalised by area rules",
    "department": "承办单位, mapped by department.map",
    "urgency": "紧急/一般, mapped by urgency.map",
    "satisfied": "回访满意度, mapped by satisfied.map",
    "photos": "照片: one or more http(s) URLs, separated by spaces, commas or semicolons",
}
REQUIRED = ("external_id", "reported_at")
TIME_FIELDS = ("reported_at", "registered_at", "dispatched_at", "handled_at", "closed_at",
               "cancelled_at", "deadline_at")
FORMATS = ("csv", "xlsx", "open311")
CRS_NAMED = ("wgs84", "gcj02", "bd09")
_EPSG = re.compile(r"EPSG:\d{4,6}", re.IGNORECASE)


class MappingError(ValueError):
    """The mapping file cannot be used; the message names the file, line and key."""


@dataclass(frozen=True)
class FieldSpec:
    """Where one case field comes from: columns to coalesce, a constant, or another field."""

    columns: tuple[str, ...] = ()
    const: str | None = None
    copy: str | None = None


@dataclass(frozen=True)
class DefaultGeocode:
    """A known placeholder point (in the source's coordinates) and the radius around it."""

    lon: float
    lat: float
    radius_m: float = 30.0


@dataclass(frozen=True)
class AreaRule:
    """A normalisation rule: when ``pattern`` matches the whole value, it becomes ``replace``."""

    pattern: re.Pattern[str]
    replace: str


@dataclass(frozen=True)
class CategoryTarget:
    """A canonical category a raw type name maps to."""

    minor: str
    major: str | None = None
    kind: str | None = None


@dataclass(frozen=True)
class Mapping:
    """A validated mapping file."""

    name: str
    path: str = ""
    format: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    header_row: int = 1
    timezone: str | None = None
    timestamp_formats: tuple[str, ...] = ()
    ambiguous_times: str = "quarantine"
    future_tolerance_minutes: float = 10.0
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    status_map: dict[str, str] = field(default_factory=dict)
    cancelled_reasons: frozenset[str] = frozenset()
    source_map: dict[str, str] = field(default_factory=dict)
    source_default: str | None = None
    department_map: dict[str, str] = field(default_factory=dict)
    department_create: bool = True
    category_map: dict[str, CategoryTarget] = field(default_factory=dict)
    category_create: bool = True
    category_max_new: int = 200
    category_kind: str = "事件"
    category_major: str = "其他"
    category_element: str = "其他"
    category_limit_hours: float = 48.0
    category_urgent_limit_hours: float = 8.0
    urgency_map: dict[str, str] = field(default_factory=dict)
    satisfied_map: dict[str, bool] = field(default_factory=dict)
    area_level: str | None = None
    area_rules: tuple[AreaRule, ...] = ()
    area_map: dict[str, str] = field(default_factory=dict)
    area_prefer: str = "point"
    crs: str = "wgs84"
    default_geocodes: tuple[DefaultGeocode, ...] = ()
    shared_point_share: float = 0.01
    shared_point_min: int = 20
    min_decimals: int = 4
    deadline_from: str = "column"
    deadline_fallback: str = "none"

    def spec(self, name: str) -> FieldSpec | None:
        """Return the spec of a case field, or None when the mapping leaves it out."""
        return self.fields.get(name)


# ------------------------------------------------------------------------------ loading


def load_mapping(path: str | Path) -> Mapping:
    """Read and validate a mapping file; raise MappingError naming the line and key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise MappingError(f"cannot read the mapping {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise MappingError(f"{path}: the mapping must be UTF-8 ({exc.reason})") from exc
    return parse_mapping(text, str(path))


def parse_mapping(text: str, where: str = "<mapping>") -> Mapping:
    """Validate mapping YAML given as text."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise MappingError(f"{where}{line}: not valid YAML: {problem}") from exc
    if node is None:
        raise MappingError(f"{where}: the mapping is empty")
    return _Reader(where).read(node)


class _Reader:
    """Turns the YAML node tree into a Mapping, remembering lines for messages."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, node: yaml.Node, key: str, message: str) -> MappingError:
        return MappingError(f"{self.where}:{node.start_mark.line + 1}: {key}: {message}")

    def value(self, node: yaml.Node) -> Any:
        return yaml.SafeLoader("").construct_object(node, deep=True)

    def mapping(self, node: yaml.Node, key: str) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, key, "expected a mapping of keys to values")
        out: dict[str, yaml.Node] = {}
        for k, v in node.value:
            name = str(self.value(k))
            if name in out:
                raise self.fail(k, f"{key}.{name}" if key else name, "key given twice")
            out[name] = v
        return out

    def known(self, items: dict[str, yaml.Node], allowed: tuple[str, ...], key: str) -> None:
        for name, v in items.items():
            if name not in allowed:
                raise self.fail(v, f"{key}.{name}" if key else name,
                                f"unknown key; expected one of {', '.join(allowed)}")

    def scalar(self, node: yaml.Node, key: str, kind: type | tuple[type, ...]) -> Any:
        value = self.value(node)
        if isinstance(value, bool) and kind in (int, float, (int, float)):
            raise self.fail(node, key, "expected a number")
        if not isinstance(value, kind):
            kinds = (kind,) if isinstance(kind, type) else kind
            names = " or ".join(k.__name__ for k in kinds)
            raise self.fail(node, key, f"expected {_plain(names)}, got {value!r}")
        return value

    def text(self, node: yaml.Node, key: str) -> str:
        value = self.value(node)
        if value is None or isinstance(value, (dict, list)):
            raise self.fail(node, key, "expected a text value")
        return str(value)

    def choice(self, node: yaml.Node, key: str, choices: tuple[str, ...]) -> str:
        value = self.text(node, key)
        if value not in choices:
            raise self.fail(node, key, f"{value!r}: expected one of {', '.join(choices)}")
        return value

    def str_map(self, node: yaml.Node, key: str) -> dict[str, tuple[yaml.Node, Any]]:
        return {_norm_key(k): (v, self.value(v)) for k, v in self.mapping(node, key).items()}

    def read(self, root: yaml.Node) -> Mapping:
        top = self.mapping(root, "")
        self.known(top, ("name", "format", "encoding", "sheet", "header_row", "timezone",
                         "timestamps", "fields", "status", "source", "department", "category",
                         "urgency", "satisfied", "area", "coordinates", "deadline"), "")
        if "name" not in top:
            raise MappingError(f"{self.where}: name: required (the source system's name, "
                               f"e.g. 12345-hotline)")
        name = self.text(top["name"], "name").strip()
        if not name or len(name) > 64 or name == "demo":
            raise self.fail(top["name"], "name", "expected 1–64 characters, not 'demo'")
        out: dict[str, Any] = {"name": name, "path": self.where}
        if "format" in top:
            out["format"] = self.choice(top["format"], "format", FORMATS)
        if "encoding" in top:
            out["encoding"] = self.encoding(top["encoding"])
        if "sheet" in top:
            out["sheet"] = self.text(top["sheet"], "sheet")
        if "header_row" in top:
            out["header_row"] = self.positive_int(top["header_row"], "header_row")
        if "timezone" in top:
            out["timezone"] = self.zone(top["timezone"], "timezone")
        if "timestamps" in top:
            out.update(self.timestamps(top["timestamps"]))
        if "fields" not in top:
            raise MappingError(f"{self.where}: fields: required (where each case field comes "
                               f"from)")
        out["fields"] = self.fields(top["fields"])
        for section, reader in (("status", self.status), ("source", self.source),
                                ("department", self.department), ("category", self.category),
                                ("urgency", self.urgency), ("satisfied", self.satisfied),
                                ("area", self.area), ("coordinates", self.coordinates),
                                ("deadline", self.deadline)):
            if section in top:
                out.update(reader(top[section]))
        mapping = Mapping(**out)
        self.cross_check(mapping, top)
        return mapping

    def encoding(self, node: yaml.Node) -> str:
        value = self.text(node, "encoding")
        try:
            "".encode(value)
        except LookupError as exc:
            raise self.fail(node, "encoding", f"{value!r} is not an encoding Python knows "
                                              f"(e.g. utf-8, gb18030)") from exc
        return value

    def positive_int(self, node: yaml.Node, key: str) -> int:
        value = self.scalar(node, key, int)
        if value < 1:
            raise self.fail(node, key, "expected a whole number ≥ 1")
        return int(value)

    def number(self, node: yaml.Node, key: str, *, low: float = 0.0) -> float:
        value = float(self.scalar(node, key, (int, float)))
        if value < low:
            raise self.fail(node, key, f"expected a number ≥ {low:g}")
        return value

    def zone(self, node: yaml.Node, key: str) -> str:
        value = self.text(node, key)
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise self.fail(node, key, f"{value!r} is not a known time zone (e.g. "
                                       f"Asia/Shanghai, America/New_York)") from exc
        return value

    def timestamps(self, node: yaml.Node) -> dict[str, Any]:
        items = self.mapping(node, "timestamps")
        self.known(items, ("formats", "ambiguous", "future_tolerance_minutes"), "timestamps")
        out: dict[str, Any] = {}
        if "formats" in items:
            formats = self.value(items["formats"])
            if isinstance(formats, str):
                formats = [formats]
            if not isinstance(formats, list) or not all(isinstance(f, str) for f in formats):
                raise self.fail(items["formats"], "timestamps.formats",
                                "expected a list of strptime formats, e.g. '%Y/%m/%d %H:%M'")
            for f in formats:
                if "%" not in f:
                    raise self.fail(items["formats"], "timestamps.formats",
                                    f"{f!r} has no % directive (e.g. %Y-%m-%d %H:%M:%S)")
            out["timestamp_formats"] = tuple(formats)
        if "ambiguous" in items:
            out["ambiguous_times"] = self.choice(items["ambiguous"], "timestamps.ambiguous",
                                                 ("quarantine", "earlier", "later"))
        if "future_tolerance_minutes" in items:
            out["future_tolerance_minutes"] = self.number(
                items["future_tolerance_minutes"], "timestamps.future_tolerance_minutes")
        return out

    def fields(self, node: yaml.Node) -> dict[str, FieldSpec]:
        items = self.mapping(node, "fields")
        self.known(items, tuple(FIELDS), "fields")
        specs: dict[str, FieldSpec] = {}
        for name, v in items.items():
            key = f"fields.{name}"
            value = self.value(v)
            if isinstance(value, str) and value.strip():
                specs[name] = FieldSpec(columns=(value,))
            elif isinstance(value, list) and value and all(isinstance(c, str) for c in value):
                specs[name] = FieldSpec(columns=tuple(value))
            elif isinstance(value, dict) and len(value) == 1 and "const" in value:
                specs[name] = FieldSpec(const=None if value["const"] is None
                                        else str(value["const"]))
            elif isinstance(value, dict) and len(value) == 1 and "field" in value:
                other = str(value["field"])
                if other not in FIELDS or other == name:
                    raise self.fail(v, key, f"field: {other!r} is not another case field")
                specs[name] = FieldSpec(copy=other)
            else:
                raise self.fail(v, key, "expected a column name, a list of columns to "
                                        "coalesce, {const: value} or {field: other_field}")
        for name in REQUIRED:
            if name not in specs:
                raise self.fail(node, f"fields.{name}", "required")
        if ("lon" in specs) != ("lat" in specs):
            raise self.fail(node, "fields.lon/lat", "give both or neither")
        if "lon" not in specs and "area" not in specs:
            raise self.fail(node, "fields", "give lon/lat, an area, or both: a case needs a "
                                            "place")
        if "category_minor" not in specs:
            raise self.fail(node, "fields.category_minor", "required (the case's type)")
        for name, spec in specs.items():
            if spec.copy and spec.copy not in specs:
                raise self.fail(node, f"fields.{name}", f"copies {spec.copy}, which the "
                                                        f"mapping does not fill")
        return specs

    def values_map(self, node: yaml.Node, key: str, allowed: tuple[str, ...] | None,
                   ) -> dict[str, str]:
        out: dict[str, str] = {}
        for raw, (v, value) in self.str_map(node, key).items():
            if value is None or isinstance(value, (dict, list)):
                raise self.fail(v, f"{key}.{raw}", "expected a text value")
            value = str(value)
            if allowed is not None and value not in allowed:
                raise self.fail(v, f"{key}.{raw}", f"{value!r}: expected one of "
                                                   f"{', '.join(allowed)}")
            out[raw] = value
        return out

    def status(self, node: yaml.Node) -> dict[str, Any]:
        items = self.mapping(node, "status")
        self.known(items, ("map", "cancelled_reasons"), "status")
        out: dict[str, Any] = {}
        if "map" in items:
            out["status_map"] = self.values_map(items["map"], "status.map", STATUSES)
        if "cancelled_reasons" in items:
            reasons = self.value(items["cancelled_reasons"])
            if not isinstance(reasons, list) or not all(isinstance(r, (str, int)) for r in reasons):
                raise self.fail(items["cancelled_reasons"], "status.cancelled_reasons",
                                "expected a list of closure-reason values that mean 作废")
            out["cancelled_reasons"] = frozenset(_norm_key(r) for r in reasons)
        return out

    def source(self, node: yaml.Node) -> dict[str, Any]:
        items = self.mapping(node, "source")
        self.known(items, ("map", "default"), "source")
        out: dict[str, Any] = {}
        if "map" in items:
            out["source_map"] = self.values_map(items["map"], "source.map", None)
            for raw, value in out["source_map"].items():
                if len(value) > 64:
                    raise self.fail(items["map"], f"source.map.{raw}", "at most 64 characters")
        if "default" in items:
            out["source_default"] = self.text(items["default"], "source.default")
        return out

    def department(self, node: yaml.Node) -> dict[str, Any]:
        items = self.mapping(node, "department")
        self.known(items, ("map", "create_missing"), "department")
        out: dict[str, Any] = {}
        if "map" in items:
            out["department_map"] = self.values_map(items["map"], "department.map", None)
        if "create_missing" in items:
            out["department_create"] = self.scalar(items["create_missing"],
                                                   "department.create_missing", bool)
        return out

    def category(self, node: yaml.Node) -> dict[str, Any]:
        items = self.mapping(node, "category")
        self.known(items, ("map", "create_missing", "max_new", "kind", "major", "element",
                           "limit_hours", "urgent_limit_hours"), "category")
        out: dict[str, Any] = {}
        if "map" in items:
            targets: dict[str, CategoryTarget] = {}
            for raw, (v, value) in self.str_map(items["map"], "category.map").items():
                key = f"category.map.{raw}"
                if isinstance(value, str):
                    targets[raw] = CategoryTarget(minor=value)
                elif isinstance(value, dict) and "minor" in value and set(value) <= {
                        "minor", "major", "kind"}:
                    kind = value.get("kind")
                    if kind is not None and kind not in ("部件", "事件"):
                        raise self.fail(v, key, f"kind {kind!r}: expected 部件 or 事件")
                    targets[raw] = CategoryTarget(minor=str(value["minor"]),
                                                  major=_opt(value.get("major")),
                                                  kind=_opt(kind))
                else:
                    raise self.fail(v, key, "expected a minor class name or {minor:, major:, "
                                            "kind:}")
            out["category_map"] = targets
        if "create_missing" in items:
            out["category_create"] = self.scalar(items["create_missing"],
                                                 "category.create_missing", bool)
        if "max_new" in items:
            out["category_max_new"] = int(self.number(items["max_new"], "category.max_new"))
        if "kind" in items:
            out["category_kind"] = self.choice(items["kind"], "category.kind", ("部件", "事件"))
        if "major" in items:
            out["category_major"] = self.text(items["major"], "category.major")
        if "element" in items:
            out["category_element"] = self.text(items["element"], "category.element")[:8]
        for key in ("limit_hours", "urgent_limit_hours"):
            if key in items:
                value = self.number(items[key], f"category.{key}")
                if value <= 0:
                    raise self.fail(items[key], f"category.{key}", "expected hours > 0")
                out[f"category_{key}"] = value
        return out

    def urgency(self, node: yaml.Node) -> dict[str, Any]:
        items = self.mapping(node, "urgency")
        self.known(items, ("map",), "urgency")
        if "map" not in items:
            return {}
        return {"urgency_map": self.values_map(items["map"], "urgency.map",
                                               (URGENCY_NORMAL, URGENCY_URGENT))}

    def satisfied(self, node: yaml.Node) -> dict[str, Any]:
        items = self.mapping(node, "satisfied")
        self.known(items, ("map",), "satisfied")
        out: dict[str, bool] = {}
        for raw, (v, value) in self.str_map(items.get("map", node), "satisfied.map").items():
            if not isinstance(value, bool):
                raise self.fail(v, f"satisfied.map.{raw}", "expected true or false")
            out[raw] = value
        return {"satisfied_map": out}

    def area(self, node: yaml.Node) -> dict[str, Any]:
        items = self.mapping(node, "area")
        self.known(items, ("level", "normalise", "map", "prefer"), "area")
        out: dict[str, Any] = {}
        if "level" in items:
            out["area_level"] = self.choice(items["level"], "area.level", LEVELS[1:])
        if "prefer" in items:
            out["area_prefer"] = self.choice(items["prefer"], "area.prefer", ("field", "point"))
        if "map" in items:
            out["area_map"] = self.values_map(items["map"], "area.map", None)
        if "normalise" in items:
            rules_node = items["normalise"]
            if not isinstance(rules_node, yaml.SequenceNode):
                raise self.fail(rules_node, "area.normalise",
                                "expected a list of {pattern: regex, replace: text}")
            rules = []
            for k, rule in enumerate(rules_node.value):
                key = f"area.normalise[{k}]"
                parts = self.mapping(rule, key)
                self.known(parts, ("pattern", "replace"), key)
                if "pattern" not in parts or "replace" not in parts:
                    raise self.fail(rule, key, "needs pattern and replace")
                pattern = self.text(parts["pattern"], f"{key}.pattern")
                replace = self.text(parts["replace"], f"{key}.replace")
                try:
                    compiled = re.compile(pattern)
                    compiled.sub(replace, "")  # checks the replacement's group references
                except re.error as exc:
                    raise self.fail(parts["pattern"], f"{key}.pattern",
                                    f"not a regular expression: {exc}") from exc
                rules.append(AreaRule(compiled, replace))
            out["area_rules"] = tuple(rules)
        return out

    def coordinates(self, node: yaml.Node) -> dict[str, Any]:
        items = self.mapping(node, "coordinates")
        self.known(items, ("crs", "default_geocodes", "shared_point_share", "shared_point_min",
                           "min_decimals"), "coordinates")
        out: dict[str, Any] = {}
        if "crs" in items:
            crs = self.text(items["crs"], "coordinates.crs").strip()
            if crs.lower() in CRS_NAMED:
                crs = crs.lower()
            elif _EPSG.fullmatch(crs):
                crs = crs.upper()
                try:
                    from pyproj import CRS
                    CRS.from_user_input(crs)
                except Exception as exc:  # pyproj raises its own CRSError
                    raise self.fail(items["crs"], "coordinates.crs",
                                    f"{crs}: pyproj does not know it ({exc})") from exc
            else:
                raise self.fail(items["crs"], "coordinates.crs",
                                f"{crs!r}: expected wgs84, gcj02, bd09 or EPSG:nnnn")
            out["crs"] = crs
        if "default_geocodes" in items:
            seq = items["default_geocodes"]
            if not isinstance(seq, yaml.SequenceNode):
                raise self.fail(seq, "coordinates.default_geocodes",
                                "expected a list of {lon:, lat:, radius_m:}")
            points = []
            for k, item in enumerate(seq.value):
                key = f"coordinates.default_geocodes[{k}]"
                parts = self.mapping(item, key)
                self.known(parts, ("lon", "lat", "radius_m"), key)
                if "lon" not in parts or "lat" not in parts:
                    raise self.fail(item, key, "needs lon and lat")
                points.append(DefaultGeocode(
                    lon=float(self.scalar(parts["lon"], f"{key}.lon", (int, float))),
                    lat=float(self.scalar(parts["lat"], f"{key}.lat", (int, float))),
                    radius_m=self.number(parts["radius_m"], f"{key}.radius_m")
                    if "radius_m" in parts else 30.0))
            out["default_geocodes"] = tuple(points)
        if "shared_point_share" in items:
            share = self.number(items["shared_point_share"], "coordinates.shared_point_share")
            if not 0 < share <= 1:
                raise self.fail(items["shared_point_share"], "coordinates.shared_point_share",
                                "expected a share between 0 and 1, e.g. 0.01")
            out["shared_point_share"] = share
        if "shared_point_min" in items:
            out["shared_point_min"] = self.positive_int(items["shared_point_min"],
                                                        "coordinates.shared_point_min")
        if "min_decimals" in items:
            out["min_decimals"] = int(self.number(items["min_decimals"],
                                                  "coordinates.min_decimals"))
        return out

    def deadline(self, node: yaml.Node) -> dict[str, Any]:
        items = self.mapping(node, "deadline")
        self.known(items, ("from", "fallback"), "deadline")
        out: dict[str, Any] = {}
        if "from" in items:
            out["deadline_from"] = self.choice(items["from"], "deadline.from",
                                               ("column", "category", "none"))
        if "fallback" in items:
            out["deadline_fallback"] = self.choice(items["fallback"], "deadline.fallback",
                                                   ("category", "none"))
        return out

    def cross_check(self, mapping: Mapping, top: dict[str, yaml.Node]) -> None:
        if mapping.deadline_from == "column" and "deadline_at" not in mapping.fields and (
                mapping.deadline_fallback == "none"):
            node = top.get("deadline", top["fields"])
            raise self.fail(node, "deadline.from", "column, but fields.deadline_at is not "
                                                   "given: map it, or use from: category")
        if "status" in mapping.fields and mapping.fields["status"].const is None and (
                not mapping.status_map):
            raise self.fail(top["fields"], "status.map",
                            "fields.status is a column, so status.map must say what each of "
                            "its values means (e.g. 已办结: 结案)")
        if mapping.cancelled_reasons and "closure_reason" not in mapping.fields:
            raise self.fail(top["status"], "status.cancelled_reasons",
                            "needs fields.closure_reason (the column they are values of)")
        if STATUS_CANCELLED in mapping.status_map.values() and "cancelled_at" not in (
                mapping.fields) and "closed_at" not in mapping.fields:
            raise self.fail(top["status"], "status.map",
                            "maps a value to 作废 but neither cancelled_at nor closed_at is "
                            "given to date it")


def normalise_text(value: str) -> str:
    """Return a value for matching: NFKC (full-width → half-width), trimmed, spaces collapsed."""
    import unicodedata

    return " ".join(unicodedata.normalize("NFKC", value).split())


def _norm_key(value: Any) -> str:
    return normalise_text(str(value)).casefold()


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


def _plain(names: str) -> str:
    return names.replace("str", "text").replace("int", "a whole number").replace(
        "float", "a number").replace("bool", "true or false")
