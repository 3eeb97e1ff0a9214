"""``gridwatch assess`` and ``gridwatch publish``: a ranking table, or one clear line and exit 1."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli import cli
from queries.engine import init_db, make_engine, make_session_factory
from tests.assessment_city import RULES_YAML, build_city


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'city.sqlite3'}"
    engine = make_engine(url)
    init_db(engine)
    with make_session_factory(engine)() as session:
        build_city(session)
    engine.dispose()
    (tmp_path / "rules.yaml").write_text(RULES_YAML, encoding="utf-8")
    return {"GRIDWATCH_DATABASE_URL": url, "GRIDWATCH_RULES_FILE": str(tmp_path / "rules.yaml")}


def run(args: list[str], env: dict[str, str]) -> Result:
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False)


def test_assess_prints_the_ranking(env: dict[str, str]) -> None:
    result = run(["assess", "--month", "2026-02"], env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "provisional" in lines[0] and "测试细则" in lines[0]
    assert "district score 97.17 +0.87" in lines[1]
    rows = [line.split() for line in lines[3:]]
    assert rows[0][:6] == ["第一组", "1", "1", "乙街道", "99.25", "+0.55"]
    assert rows[1][:5] == ["第一组", "2", "3", "甲街道", "93.25"] and "倒数×2" in lines[4]
    assert rows[3][:4] == ["第二组", "—", "—", "丁街道"] and "样本不足" in lines[6]


def test_publish_then_refuse_then_force(env: dict[str, str]) -> None:
    first = run(["publish", "--month", "2026-01", "--by", "张主任"], env)
    assert first.exit_code == 0, first.output
    assert "published 2026-01" in first.output
    assert "published" in run(["assess", "--month", "2026-01"], env).output.splitlines()[0]
    again = run(["publish", "--month", "2026-01"], env)
    assert again.exit_code == 1 and "already published" in again.output and "张主任" in again.output
    assert run(["publish", "--month", "2026-01", "--force"], env).exit_code == 0


@pytest.mark.parametrize(
    ("args", "rules", "needle"),
    [(["assess", "--month", "2026-13"], None, "'2026-13' is not a month"),
     (["publish", "--month", "Feb"], None, "write YYYY-MM"),
     (["assess", "--month", "2026-01"], RULES_YAML.replace("{1: 0.5, 2: 1,", "{1: -0.5, 2: 1,"),
      "line 5: deductions.default.1: must be ≥ 0, got -0.5"),
     (["assess", "--month", "2026-01", "--rules", "/nonexistent/rules.yaml"], None,
      "no such rules file")],
)
def test_clear_errors(env: dict[str, str], tmp_path: Path, args: list[str], rules: str | None,
                      needle: str) -> None:
    if rules is not None:
        (tmp_path / "bad.yaml").write_text(rules, encoding="utf-8")
        env = {**env, "GRIDWATCH_RULES_FILE": str(tmp_path / "bad.yaml")}
    result = run(args, env)
    assert result.exit_code == 1
    assert needle in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
