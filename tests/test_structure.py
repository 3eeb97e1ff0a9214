"""The tree keeps its architecture: pages come from one registry, the UI never opens sessions,
and adding an indicator to a page's tile list needs no formatter of its own."""

from __future__ import annotations

import ast
from dataclasses import fields
from pathlib import Path

import pytest

from dashboard import pages
from dashboard.tiles import change_text, hover_text, tile_class, tile_payload, value_text
from queries.indicators import IndicatorSet, Ratio
from snapshot.build import DayFigures
from tests.pages import page_request

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "dashboard").rglob("*.py")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_the_ui_imports_no_sqlalchemy_and_no_snapshot_builder(path: Path) -> None:
    imported = _imports(path)
    assert not {m for m in imported if m.split(".")[0] == "sqlalchemy"}, path
    assert "snapshot.build" not in imported and "queries.engine" not in imported, path
    assert "Session" not in path.read_text(encoding="utf-8"), path


def test_queries_never_import_dash_or_the_ui() -> None:
    for path in sorted((ROOT / "queries").rglob("*.py")):
        roots = {m.split(".")[0] for m in _imports(path)}
        assert not roots & {"dash", "dashboard", "callbacks", "snapshot", "flask"}, path


def test_one_registry_feeds_the_router_the_nav_and_present() -> None:
    assert pages.page_for("/") is pages.page_for("/screen") is pages.page_for("/screen/")
    assert pages.page_for("/nope") is None
    assert [link.path for link in pages.nav_links()] == ["/screen", "/grids", "/rankings",
                                                         "/quality", "/volunteers",
                                                         "/sections", "/desk"]
    assert pages.presentable("present") is None  # a carousel inside itself would nest forever
    assert pages.presentable("grids") is pages.page_for("/grids")
    for page in pages.PAGES:  # every page's feature has its callbacks and its assets
        assert (ROOT / "callbacks" / f"{page.name}.py").exists(), page.name
        assert list((ROOT / "assets").glob(f"{page.name}.*")), page.name


def test_every_registered_page_renders_from_a_request() -> None:
    for page in pages.PAGES:
        assert page.layout(page_request(page.path)) is not None


def _day() -> DayFigures:
    """A day with no cases: every count 0, every rate 0/0, no mean, no composite."""
    zero = {f.name: Ratio(0, 0) if "Ratio" in str(f.type) else
            None if "None" in str(f.type) else 0 for f in fields(IndicatorSet)}
    return DayFigures(IndicatorSet(**zero), repeats=0)


def test_an_hours_indicator_formats_by_its_kind() -> None:
    # 平均处置时长 today 3.25 h, yesterday 5.5 h, last week unknown (no handled case):
    # 3.25 → 3.3 and 3.25 − 5.5 = −2.25 → ▼2.3, both half up; no comparison → "—".
    tile = tile_payload("avg_handling_hours", 3.25, [5.5, None], {})
    assert (value_text(tile), change_text(tile, 0), change_text(tile, 1)) == ("3.3", "▼2.3", "—")
    assert tile_class(tile) == "gw-tile" and tile["kind"] == "hours"


def test_a_rate_with_no_denominator_is_a_dash_in_a_neutral_colour() -> None:
    tile = tile_payload("ontime_close_rate", Ratio(0, 0), [Ratio(3, 4)],
                        {"ontime_close_rate": 0.95})
    assert (value_text(tile), change_text(tile, 0)) == ("—", "—")
    assert tile["light"] is None and tile_class(tile) == "gw-tile gw-tile-none"
    assert hover_text(tile, "zh") == "按期结案率 · 0 / 0 · 目标 ≥ 95.00%"


def test_a_score_and_a_count_read_as_their_kinds() -> None:
    score = tile_payload("composite", 87.254, [86.0], {})
    count = tile_payload("reported", 12_345, [12_000], {})
    assert (value_text(score), change_text(score, 0)) == ("87.25", "▲1.25")
    assert (value_text(count), change_text(count, 0)) == ("12,345", "▲345")


def test_the_day_figures_hand_tiles_numbers_and_ratios() -> None:
    day = _day()
    assert isinstance(day.raw("ontime_close_rate"), Ratio)
    assert day.raw("avg_handling_hours") is None and day.raw("repeats") == 0
