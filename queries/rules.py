"""Assessment rules (考核细则): a YAML file read into frozen dataclasses, checked line by line.

The rules are data, not code: changing the file changes the scores. Every mistake in the file is
reported as ``<file>, line <n>: <what is wrong>`` — syntax errors from YAML's own marks, semantic
ones (an unknown key, a negative deduction, a word where a number belongs, a street in two
groups) from the line of the composed YAML node that holds the bad key or value. The rules keep
their exact text and its sha256, so a published month can store the rules that made it.
See ``docs/assessment.md`` for the format.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

DEFAULT_RULES_FILE = Path(__file__).with_name("data") / "assessment_rules.yaml"

# Causes of deduction, in the order the ranking table shows them.
CAUSE_PROBLEMS = "problems"  # the problem itself, by category and severity
CAUSE_REPEAT = "repeat"  # the extra cost of a repeat problem (2nd, 3rd … occurrence)
CAUSE_OVERDUE = "overdue"  # 超期
CAUSE_REWORK = "rework"  # 返工, per time
CAUSES = (CAUSE_PROBLEMS, CAUSE_REPEAT, CAUSE_OVERDUE, CAUSE_REWORK)

KINDS = ("部件", "事件")
NORMALISE_NONE = "none"
NORMALISE_PER_GRID = "per_grid"
NORMALISE_CHOICES = (NORMALISE_NONE, NORMALISE_PER_GRID)
SEVERITIES = (1, 2, 3)
DEFAULT_RANKING_MIN_DAYS = 5

Severities = tuple[float, float, float]

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_NULL = "tag:yaml.org,2002:null"
_STR = "tag:yaml.org,2002:str"


class RulesError(ValueError):
    """The rules file cannot be used; the message names the file and, when known, the line."""

    def __init__(self, source: str, line: int | None, message: str) -> None:
        self.source = source
        self.line = line
        self.message = message
        where = f"{source}, line {line}" if line else source
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class DeductionTable:
    """Points a problem deducts by severity (1, 2, 3), per major class, kind, or by default."""

    default: Severities
    by_kind: Mapping[str, Severities] = field(default_factory=lambda: MappingProxyType({}))
    by_major: Mapping[str, Severities] = field(default_factory=lambda: MappingProxyType({}))

    def points(self, kind: str, major: str, severity: int) -> float:
        """Return the base deduction; the most specific table wins, severity is clamped to 1–3."""
        table = self.by_major.get(f"{kind}/{major}") or self.by_kind.get(kind) or self.default
        return table[min(max(severity, 1), 3) - 1]


@dataclass(frozen=True)
class RepeatRule:
    """When a case repeats an earlier one, and how much more a repeat costs."""

    radius_m: float
    days: int
    history_days: int
    multipliers: tuple[tuple[int, float], ...]  # (occurrence ≥ 2, factor), ascending occurrence

    def multiplier(self, occurrence: int) -> float:
        """Return the factor on the base deduction; past the last listed occurrence, the last."""
        factor = 1.0
        for at, value in self.multipliers:
            if occurrence >= at:
                factor = value
        return factor


@dataclass(frozen=True)
class VolunteerBonus:
    """Bonus points for volunteer service hours held in a street during the month."""

    points: float
    per_hours: float
    cap: float

    def points_for(self, hours: float) -> float:
        """Return the bonus for ``hours`` of service, capped."""
        return min(self.cap, hours / self.per_hours * self.points)


@dataclass(frozen=True)
class ListSizes:
    """How many streets and grids the red list (best) and black list (worst) name."""

    red_streets: int = 3
    black_streets: int = 3
    red_grids: int = 10
    black_grids: int = 10
    red_grid_min_problems: int = 1  # a grid with fewer problems is never on the red list


# The terms a 路长 section's score weighs (``sections.weights``), each a rate in 0–1.
SECTION_TERMS = ("close_rate", "ontime_close_rate", "checkin_rate")


@dataclass(frozen=True)
class SectionRules:
    """How 路长 sections are scored and listed (the file's ``sections`` block, docs/sections.md).

    score = 100 × Σ weight × term over ``SECTION_TERMS``: 销号率, 按期销号率 and 到岗率 (days
    with at least ``checkin_minutes`` on the section ÷ days of the period so far). A section
    with fewer than ``min_due`` cases to close out (应销号) is listed but not ranked.
    """

    weights: Mapping[str, float] = field(default_factory=lambda: MappingProxyType(
        {"close_rate": 0.3, "ontime_close_rate": 0.4, "checkin_rate": 0.3}))
    checkin_minutes: int = 60
    min_due: int = 3
    red: int = 10
    black: int = 10


@dataclass(frozen=True)
class Group:
    """An assessment group (第一组 …): streets ranked against each other."""

    name: str
    streets: tuple[str, ...]
    lines: tuple[int, ...] = field(default=(), compare=False)  # file line of each street


@dataclass(frozen=True)
class Rules:
    """One complete, validated set of assessment rules with the text that defined it."""

    title: str
    base_score: float
    normalise: str
    deductions: DeductionTable
    overdue_per_case: float
    rework_per_time: float
    repeat: RepeatRule
    caps: Mapping[str, float]
    volunteer_bonus: VolunteerBonus | None
    min_sample: int
    cost_threshold: float
    bottom_n: int
    lists: ListSizes
    groups: tuple[Group, ...]
    source: str
    sha256: str
    text: str = field(repr=False)
    # A running month is shown by default (wall, /rankings) only once this many whole days of
    # it have passed; before that the last finished month is shown (section ``ranking``).
    ranking_min_days: int = DEFAULT_RANKING_MIN_DAYS
    sections: SectionRules = field(default_factory=SectionRules)

    def group_of(self, street_code: str) -> str | None:
        """Return the name of the street's group, or None when no group lists it."""
        for group in self.groups:
            if street_code in group.streets:
                return group.name
        return None


def load_rules(path: str | Path | None = None) -> Rules:
    """Read and validate a rules file (None or '': the shipped default)."""
    source = Path(path) if path else DEFAULT_RULES_FILE
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise RulesError(str(source), None, "no such rules file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(str(source), None, f"cannot read the rules file: {exc}") from exc
    return parse_rules(text, str(source))


def parse_rules(text: str, source: str = "<rules>") -> Rules:
    """Validate rules given as YAML text; ``source`` names them in error messages."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "malformed YAML"
        raise RulesError(source, mark.line + 1 if mark else None,
                         f"not valid YAML: {problem}") from exc
    except yaml.YAMLError as exc:
        raise RulesError(source, None, f"not valid YAML: {exc}") from exc
    if root is None:
        raise RulesError(source, None, "the rules file is empty")
    reader = _Reader(source, loader)
    try:
        return reader.rules(root, text)
    finally:
        loader.dispose()


class _Reader:
    """Build the rules from composed YAML nodes, naming the line of anything wrong."""

    def __init__(self, source: str, loader: yaml.SafeLoader) -> None:
        self.source = source
        self.loader = loader

    def fail(self, node: Node, message: str) -> RulesError:
        return RulesError(self.source, node.start_mark.line + 1, message)

    def value(self, node: Node) -> Any:
        return self.loader.construct_object(node, deep=True)

    # ------------------------------------------------------------------ structure

    def pairs(self, node: Node, path: str) -> list[tuple[Any, Node, Node]]:
        if not isinstance(node, MappingNode):
            raise self.fail(node, f"{path or 'the file'} must be a mapping of keys to values")
        seen: dict[Any, int] = {}
        out: list[tuple[Any, Node, Node]] = []
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise self.fail(key_node, f"{path}: a key must be a plain word or number")
            key = self.value(key_node)
            if key in seen:
                raise self.fail(key_node, f"{_join(path, key)}: duplicate key (first on line "
                                          f"{seen[key]})")
            seen[key] = key_node.start_mark.line + 1
            out.append((key, key_node, value_node))
        return out

    def fields(self, node: Node, path: str, required: tuple[str, ...],
               optional: tuple[str, ...] = ()) -> dict[str, Node]:
        known = (*required, *optional)
        found: dict[str, Node] = {}
        for key, key_node, value_node in self.pairs(node, path):
            if key not in known:
                raise self.fail(key_node, f"unknown key {_join(path, key)!r} (expected "
                                          f"{', '.join(known)})")
            found[key] = value_node
        for key in required:
            if key not in found:
                raise self.fail(node, f"{_join(path, key)} is missing")
        return found

    def number(self, node: Node, path: str, *, minimum: float = 0.0, strict: bool = False,
               integer: bool = False) -> float:
        allowed = (_INT,) if integer else (_INT, _FLOAT)
        if not isinstance(node, ScalarNode) or node.tag not in allowed:
            wanted = "a whole number" if integer else "a number"
            got = node.value if isinstance(node, ScalarNode) else "a list or mapping"
            raise self.fail(node, f"{path}: expected {wanted}, got {got!r}")
        number = self.value(node)
        if not math.isfinite(number):
            raise self.fail(node, f"{path}: expected a finite number, got {node.value!r}")
        if number < minimum or (strict and number == minimum):
            relation = ">" if strict else "≥"
            raise self.fail(node, f"{path}: must be {relation} {minimum:g}, got {node.value}")
        return int(number) if integer else float(number)

    def label(self, node: Node, path: str) -> str:
        if not isinstance(node, ScalarNode) or node.tag != _STR or not node.value.strip():
            raise self.fail(node, f"{path}: expected a non-empty text")
        return node.value.strip()

    # ------------------------------------------------------------------ sections

    def rules(self, root: Node, text: str) -> Rules:
        top = self.fields(
            root, "",
            required=("base_score", "deductions", "repeat", "min_sample", "cost_threshold",
                      "groups"),
            optional=("title", "normalise", "overdue", "rework", "caps", "bonus", "bottom_n",
                      "lists", "ranking", "sections"),
        )
        return Rules(
            title=self.label(top["title"], "title") if "title" in top else "",
            base_score=self.number(top["base_score"], "base_score", strict=True),
            normalise=self.normalise(top.get("normalise")),
            deductions=self.deductions(top["deductions"]),
            overdue_per_case=self.per_item(top.get("overdue"), "overdue", "per_case"),
            rework_per_time=self.per_item(top.get("rework"), "rework", "per_time"),
            repeat=self.repeat(top["repeat"]),
            caps=self.caps(top.get("caps")),
            volunteer_bonus=self.bonus(top.get("bonus")),
            min_sample=int(self.number(top["min_sample"], "min_sample", integer=True)),
            cost_threshold=self.number(top["cost_threshold"], "cost_threshold", strict=True),
            bottom_n=int(self.number(top["bottom_n"], "bottom_n", minimum=1, integer=True))
            if "bottom_n" in top else 2,
            lists=self.lists(top.get("lists")),
            groups=self.groups(top["groups"]),
            source=self.source,
            sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
            text=text,
            ranking_min_days=self.ranking(top.get("ranking")),
            sections=self.sections(top.get("sections")),
        )

    def sections(self, node: Node | None) -> SectionRules:
        if node is None:
            return SectionRules()
        parts = self.fields(node, "sections", required=(),
                            optional=("weights", "checkin_minutes", "min_due", "red", "black"))
        default = SectionRules()
        weights = default.weights
        if "weights" in parts:
            given = {term: self.number(value, f"sections.weights.{term}")
                     for term, value in self.fields(parts["weights"], "sections.weights",
                                                    required=SECTION_TERMS).items()}
            if not math.isclose(sum(given.values()), 1.0, abs_tol=1e-9):
                raise self.fail(parts["weights"], f"sections.weights: must add up to 1, they "
                                                  f"add up to {sum(given.values()):g}")
            weights = MappingProxyType(given)
        counts = {key: int(self.number(parts[key], f"sections.{key}", integer=True))
                  for key in ("min_due", "red", "black") if key in parts}
        minutes = default.checkin_minutes
        if "checkin_minutes" in parts:
            minutes = int(self.number(parts["checkin_minutes"], "sections.checkin_minutes",
                                      minimum=1, integer=True))
            if minutes > 1440:
                raise self.fail(parts["checkin_minutes"], f"sections.checkin_minutes: a day "
                                                          f"has 1440 minutes, got {minutes}")
        return SectionRules(weights=weights, checkin_minutes=minutes, **counts)

    def ranking(self, node: Node | None) -> int:
        if node is None:
            return DEFAULT_RANKING_MIN_DAYS
        parts = self.fields(node, "ranking", required=(), optional=("min_days",))
        if "min_days" not in parts:
            return DEFAULT_RANKING_MIN_DAYS
        days = int(self.number(parts["min_days"], "ranking.min_days", integer=True))
        if days > 27:  # the shortest month must still show itself before it ends
            raise self.fail(parts["min_days"], f"ranking.min_days: must be ≤ 27, got {days}")
        return days

    def normalise(self, node: Node | None) -> str:
        if node is None:
            return NORMALISE_NONE
        if not isinstance(node, ScalarNode) or node.value not in NORMALISE_CHOICES:
            got = node.value if isinstance(node, ScalarNode) else "a list or mapping"
            raise self.fail(node, f"normalise: expected one of {', '.join(NORMALISE_CHOICES)}, "
                                  f"got {got!r}")
        return node.value

    def severities(self, node: Node, path: str) -> Severities:
        points: dict[int, float] = {}
        for key, key_node, value_node in self.pairs(node, path):
            if key not in SEVERITIES or isinstance(key, bool):
                raise self.fail(key_node, f"{_join(path, key)}: severity must be 1, 2 or 3")
            points[key] = self.number(value_node, _join(path, key))
        missing = [s for s in SEVERITIES if s not in points]
        if missing:
            raise self.fail(node, f"{path}: severity {missing[0]} is missing (give 1, 2 and 3)")
        return points[1], points[2], points[3]

    def deductions(self, node: Node) -> DeductionTable:
        parts = self.fields(node, "deductions", required=("default",),
                            optional=("by_kind", "by_major"))
        by_kind: dict[str, Severities] = {}
        if "by_kind" in parts:
            for kind, key_node, value_node in self.pairs(parts["by_kind"], "deductions.by_kind"):
                if kind not in KINDS:
                    raise self.fail(key_node, f"deductions.by_kind: unknown kind {kind!r} "
                                              f"(expected {' or '.join(KINDS)})")
                by_kind[kind] = self.severities(value_node, f"deductions.by_kind.{kind}")
        by_major: dict[str, Severities] = {}
        if "by_major" in parts:
            for key, key_node, value_node in self.pairs(parts["by_major"], "deductions.by_major"):
                kind, _, major = str(key).partition("/")
                if kind not in KINDS or not major:
                    raise self.fail(key_node, f"deductions.by_major: {key!r} must be written "
                                              f"kind/major, e.g. 事件/突发事件")
                by_major[str(key)] = self.severities(value_node, f"deductions.by_major.{key}")
        return DeductionTable(
            default=self.severities(parts["default"], "deductions.default"),
            by_kind=MappingProxyType(by_kind),
            by_major=MappingProxyType(by_major),
        )

    def per_item(self, node: Node | None, path: str, key: str) -> float:
        if node is None:
            return 0.0
        return self.number(self.fields(node, path, required=(key,))[key], f"{path}.{key}")

    def repeat(self, node: Node) -> RepeatRule:
        parts = self.fields(node, "repeat", required=("radius_m", "days", "multipliers"),
                            optional=("history_days",))
        days = int(self.number(parts["days"], "repeat.days", minimum=1, integer=True))
        history = days * 3
        if "history_days" in parts:
            history = int(self.number(parts["history_days"], "repeat.history_days", minimum=days,
                                      integer=True))
        multipliers: list[tuple[int, float]] = []
        for key, key_node, value_node in self.pairs(parts["multipliers"], "repeat.multipliers"):
            if not isinstance(key, int) or isinstance(key, bool) or key < 2:
                raise self.fail(key_node, f"repeat.multipliers: {key!r} must be an occurrence "
                                          f"number ≥ 2 (2 = the second time)")
            factor = self.number(value_node, f"repeat.multipliers.{key}", minimum=1.0)
            if multipliers and (key < multipliers[-1][0] or factor < multipliers[-1][1]):
                raise self.fail(key_node, "repeat.multipliers: list occurrences in ascending "
                                          "order, each factor at least the one before")
            multipliers.append((key, factor))
        if not multipliers:
            raise self.fail(parts["multipliers"],
                            "repeat.multipliers: give at least one, e.g. 2: 2")
        return RepeatRule(
            radius_m=self.number(parts["radius_m"], "repeat.radius_m", strict=True),
            days=days, history_days=history, multipliers=tuple(multipliers),
        )

    def caps(self, node: Node | None) -> Mapping[str, float]:
        if node is None:
            return MappingProxyType({})
        parts = self.fields(node, "caps", required=(), optional=CAUSES)
        caps = {cause: self.number(value, f"caps.{cause}") for cause, value in parts.items()
                if not (isinstance(value, ScalarNode) and value.tag == _NULL)}
        return MappingProxyType(caps)

    def bonus(self, node: Node | None) -> VolunteerBonus | None:
        if node is None or (isinstance(node, ScalarNode) and node.tag == _NULL):
            return None
        item = self.fields(node, "bonus", required=(), optional=("volunteer_hours",))
        if "volunteer_hours" not in item:
            return None
        parts = self.fields(item["volunteer_hours"], "bonus.volunteer_hours",
                            required=("points", "per_hours", "cap"))
        return VolunteerBonus(
            points=self.number(parts["points"], "bonus.volunteer_hours.points"),
            per_hours=self.number(parts["per_hours"], "bonus.volunteer_hours.per_hours",
                                  strict=True),
            cap=self.number(parts["cap"], "bonus.volunteer_hours.cap"),
        )

    def lists(self, node: Node | None) -> ListSizes:
        if node is None:
            return ListSizes()
        names = ("red_streets", "black_streets", "red_grids", "black_grids",
                 "red_grid_min_problems")
        parts = self.fields(node, "lists", required=(), optional=names)
        sizes = {k: int(self.number(v, f"lists.{k}", integer=True)) for k, v in parts.items()}
        return ListSizes(**sizes)

    def groups(self, node: Node) -> tuple[Group, ...]:
        where: dict[str, tuple[str, int]] = {}
        groups: list[Group] = []
        for name, _key_node, value_node in self.pairs(node, "groups"):
            if not isinstance(value_node, SequenceNode) or not value_node.value:
                raise self.fail(value_node, f"groups.{name}: expected a list of street codes")
            codes: list[str] = []
            lines: list[int] = []
            for item in value_node.value:
                # Codes are opaque: the text as written ("0306" stays "0306", "306.0" stays
                # "306.0"), whatever YAML would make of it as a number.
                code = item.value.strip() if isinstance(item, ScalarNode) else ""
                if item.tag not in (_INT, _FLOAT, _STR) or not code:
                    raise self.fail(item, f"groups.{name}: {code or 'this item'!r} is not a "
                                          f"street code")
                if code in where:
                    other, line = where[code]
                    raise self.fail(item, f"groups.{name}: street {code} is already in {other} "
                                          f"(line {line})")
                where[code] = (str(name), item.start_mark.line + 1)
                codes.append(code)
                lines.append(item.start_mark.line + 1)
            groups.append(Group(name=str(name), streets=tuple(codes), lines=tuple(lines)))
        if not groups:
            raise self.fail(node, "groups: give at least one group of street codes")
        return tuple(groups)


def is_shipped_example(rules: Rules) -> bool:
    """Return True for the shipped example rules (the demo city's streets)."""
    try:
        return Path(rules.source).resolve() == DEFAULT_RULES_FILE.resolve()
    except OSError:
        return False


def check_streets(rules: Rules, streets: Mapping[str, object], district: str) -> None:
    """Raise ``RulesError`` naming the line of the first group entry that is not a street.

    Rules written for another city would otherwise rank every street "ungrouped" without
    saying why. The shipped example rules are exempt (they name the demo city): on any other
    city they rank every street ungrouped and the assessment's warnings say so, so a wall
    still shows a ranking before the city has written its own rules.
    """
    if is_shipped_example(rules):
        return
    for group in rules.groups:
        for code, line in zip(group.streets, group.lines or (None,) * len(group.streets),
                              strict=True):
            if code not in streets:
                raise RulesError(rules.source, line,
                                 f"groups.{group.name}: {code} is not a street of {district} "
                                 f"(write rules for the areas in the database with "
                                 f"`gridwatch rules init`)")


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)
