"""The rules file: the shipped default loads, every mistake names its line, edits move scores."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from queries.assessment import assess_month
from queries.rules import DEFAULT_RULES_FILE, RulesError, load_rules, parse_rules
from tests.assessment_city import NOW, RULES_YAML, build_city

A, B, C, D = "610199001", "610199002", "610199003", "610199004"


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_shipped_default_loads() -> None:
    rules = load_rules()
    assert rules.source == str(DEFAULT_RULES_FILE) and rules.base_score == 100
    assert rules.sha256 == hashlib.sha256(DEFAULT_RULES_FILE.read_bytes()).hexdigest()
    assert [g.name for g in rules.groups] == ["第一组", "第二组"]
    codes = sorted(code for group in rules.groups for code in group.streets)
    assert codes == [f"6101200{n:02d}" for n in range(1, 11)]
    assert rules.group_of("610120006") == "第一组" and rules.group_of("610120011") is None
    assert (rules.repeat.radius_m, rules.repeat.days) == (50, 30)
    assert [rules.repeat.multiplier(n) for n in (1, 2, 3, 7)] == [1, 2, 3, 3]
    assert rules.deductions.points("事件", "突发事件", 3) == 3
    assert rules.deductions.points("部件", "公用设施", 1) == 0.3
    assert rules.deductions.points("事件", "宣传广告", 2) == 1
    assert rules.deductions.points("事件", "宣传广告", 9) == 2  # severity clamped to 3
    assert rules.volunteer_bonus is not None and rules.volunteer_bonus.points_for(10_000) == 2


def test_load_rules_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(RULES_YAML, encoding="utf-8")
    rules = load_rules(path)
    assert rules.title == "测试细则" and rules.text == RULES_YAML and rules.source == str(path)


# Each mistake: (replace this, with this, the text on the offending line, the message).
MISTAKES = [
    ("  default: {1: 0.5, 2: 1, 3: 2}", "  default: {1: 0.5, 2: -1, 3: 2}", "default:",
     "deductions.default.2: must be ≥ 0, got -1"),
    ("  default: {1: 0.5, 2: 1, 3: 2}", "  default: {1: 0.5, 2: lots, 3: 2}", "default:",
     "deductions.default.2: expected a number, got 'lots'"),
    ("  default: {1: 0.5, 2: 1, 3: 2}", "  default: {1: 0.5, 3: 2}", "default:",
     "severity 2 is missing"),
    ("  default: {1: 0.5, 2: 1, 3: 2}", "  default: {1: 0.5, 2: 1, 4: 2}", "default:",
     "severity must be 1, 2 or 3"),
    ("min_sample: 2", "min_sampel: 2", "min_sampel", "unknown key 'min_sampel'"),
    ("min_sample: 2", "min_sample: 2.5", "min_sample", "expected a whole number, got '2.5'"),
    ("overdue: {per_case: 0.5}", "overdue: {per_case: 0.5, per_day: 1}", "overdue",
     "unknown key 'overdue.per_day'"),
    ("bottom_n: 1", "bottom_n: 1\nbase_score: 90", "base_score: 90", "duplicate key"),
    ("  第二组: [610199003, 610199004]", "  第二组: [610199003, 610199001]", "第二组",
     "street 610199001 is already in 第一组 (line"),
    ("  第二组: [610199003, 610199004]", "  第二组: [610199003, [6101994]]", "第二组",
     "is not a street code"),
    ("multipliers: {2: 2, 3: 3}", "multipliers: {2: 3, 3: 2}", "multipliers",
     "each factor at least the one before"),
    ("multipliers: {2: 2, 3: 3}", "multipliers: {1: 2}", "multipliers",
     "must be an occurrence number ≥ 2"),
    ("radius_m: 50", "radius_m: 0", "radius_m", "repeat.radius_m: must be > 0"),
    ("normalise: none", "normalise: per_street", "normalise", "expected one of none, per_grid"),
    ("  部件: {1: 0.25, 2: 0.5, 3: 1}", "  设施: {1: 0.25, 2: 0.5, 3: 1}", "设施",
     "unknown kind '设施'"),
    ("    事件/突发事件: {1: 1, 2: 2, 3: 3}", "    突发事件: {1: 1, 2: 2, 3: 3}", "突发事件",
     "must be written kind/major"),
    ("caps: {problems: 5, repeat: 3, overdue: 1}", "caps: {problems: 5, repeat: [3]}", "caps",
     "caps.repeat: expected a number, got 'a list or mapping'"),
    ("  volunteer_hours: {points: 0.5, per_hours: 10, cap: 1}",
     "  volunteer_hours: {points: 0.5, cap: 1}", "volunteer_hours",
     "bonus.volunteer_hours.per_hours is missing"),
    ("deductions:\n", "deductions:\n  default: {1: 0.5\n", "default: {1: 0.5", "not valid YAML"),
    ("bottom_n: 1", "bottom_n: 1\nranking: {min_days: -1}", "ranking",
     "ranking.min_days: must be ≥ 0"),
    ("bottom_n: 1", "bottom_n: 1\nranking: {min_days: 2.5}", "ranking",
     "ranking.min_days: expected a whole number, got '2.5'"),
    ("bottom_n: 1", "bottom_n: 1\nranking: {min_days: 28}", "ranking",
     "ranking.min_days: must be ≤ 27, got 28"),
    ("bottom_n: 1", "bottom_n: 1\nranking: {min_day: 3}", "ranking",
     "unknown key 'ranking.min_day' (expected min_days)"),
]


@pytest.mark.parametrize(("old", "new", "on", "message"), MISTAKES)
def test_each_mistake_names_its_line(old: str, new: str, on: str, message: str) -> None:
    assert old in RULES_YAML
    text = RULES_YAML.replace(old, new, 1)
    with pytest.raises(RulesError) as caught:
        parse_rules(text, "rules.yaml")
    error = caught.value
    assert message in str(error)
    if "not valid YAML" not in message:
        assert error.line == line_of(text, on)
    assert str(error).startswith(f"rules.yaml, line {error.line}: ")


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="no such rules file"):
        load_rules(tmp_path / "nope.yaml")
    (tmp_path / "empty.yaml").write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(RulesError, match="empty"):
        load_rules(tmp_path / "empty.yaml")
    with pytest.raises(RulesError, match="line 1: groups is missing"):
        parse_rules(RULES_YAML.split("groups:")[0])


@pytest.fixture
def city(session: Session) -> dict[str, int]:
    return build_city(session)


def scores(session: Session, text: str, month: str = "2026-01") -> dict[str, float | None]:
    result = assess_month(session, month, parse_rules(text), now=NOW)
    return {s.code: s.score for s in result.streets}


def test_a_rules_change_changes_the_scores(session: Session, city: dict[str, int]) -> None:
    # January under the test rules (worked out in tests/test_assessment.py).
    assert scores(session, RULES_YAML) == {A: 95.0, B: 98.7, C: 94.5, D: 97.0}
    # Severity-1 default 0.5 → 1: A's a1 1, a2 1 + repeat 1, a3 1, a4 2, overdue 0.5 → 93.5;
    # B's b1 is severity 2 (unchanged) → 98.7; C's c3 1 → 7.0 still capped at 5 → 94.5;
    # D 1 + (1 + 1) + (1 + 2) → problems 3, repeat 3 → 94.0.
    cheaper = RULES_YAML.replace("default: {1: 0.5,", "default: {1: 1,")
    assert scores(session, cheaper) == {A: 93.5, B: 98.7, C: 94.5, D: 94.0}
    # Per grid: A has two grids, so its 5.0 halves to 2.5 → 97.5; one-grid streets unchanged.
    per_grid = RULES_YAML.replace("normalise: none", "normalise: per_grid")
    assert scores(session, per_grid) == {A: 97.5, B: 98.7, C: 94.5, D: 97.0}
    # Radius 5 m: a2 (10 m from a1) and d2, d3 (20–30 m apart) are no longer repeats:
    # A 95.0 + 0.5 → 95.5; D 97.0 + 1.5 → 98.5.
    tight = RULES_YAML.replace("radius_m: 50", "radius_m: 5")
    assert scores(session, tight) == {A: 95.5, B: 98.7, C: 94.5, D: 98.5}
    # No cap on problems: C pays its full 6.5 → 93.0.
    uncapped = RULES_YAML.replace("caps: {problems: 5, ", "caps: {")
    assert scores(session, uncapped) == {A: 95.0, B: 98.7, C: 93.0, D: 97.0}


def test_min_sample_from_the_rules_unranks_small_streets(session: Session,
                                                         city: dict[str, int]) -> None:
    # min_sample 3: B (2 problems in January) is flagged and not ranked; the others re-rank.
    jan = assess_month(session, "2026-01", parse_rules(RULES_YAML.replace(
        "min_sample: 2", "min_sample: 3")), now=NOW)
    assert [(s.code, s.rank, s.flag) for s in jan.streets] == [
        (D, 1, None), (A, 2, None), (C, 3, None), (B, None, "min_sample")]
    # 第一组 keeps one ranked street (A): with bottom_n 1 nobody is named last there.
    assert jan.street(A).bottom_two is False and jan.street(C).bottom_two is True


def test_ranking_min_days_defaults_to_five_and_is_read() -> None:
    assert parse_rules(RULES_YAML).ranking_min_days == 5
    assert load_rules().ranking_min_days == 5  # the shipped file says it
    text = RULES_YAML.replace("bottom_n: 1", "bottom_n: 1\nranking:\n  min_days: 0", 1)
    assert parse_rules(text).ranking_min_days == 0
