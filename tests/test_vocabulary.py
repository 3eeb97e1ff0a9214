"""English walls speak English: database words from the vocabulary file or transliterated."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.i18n import term
from queries.vocabulary import VocabularyError, load_vocabulary
from snapshot.build import layer_groups


def test_the_shipped_vocabulary_names_the_demo_words() -> None:
    v = load_vocabulary()
    assert [v.english(w) for w in ("处置中", "12345热线", "公用设施", "上水井盖", "第一组")] == [
        "Handling", "12345 hotline", "Public utilities", "Water main cover", "Group 1"]


def test_unlisted_area_names_are_transliterated_with_their_suffix() -> None:
    v = load_vocabulary()
    assert v.english("东关街道") == "Dongguan Subdistrict"
    assert v.english("雁南镇") == "Yannan Town"
    assert v.english("东五社区03网格") == "Dongwu Community grid 03"
    assert v.english("Ward 3") == "Ward 3"  # already English: unchanged


def test_chinese_walls_keep_the_database_words() -> None:
    assert term("处置中", "zh") == "处置中" and term("处置中", "en") == "Handling"
    assert term(None, "en") == "" and term("", "en") == ""


def test_a_city_file_wins_and_a_broken_one_names_itself(tmp_path: Path) -> None:
    city = tmp_path / "city.yaml"
    city.write_text("terms:\n  处置中: In progress\n  占道经营: Road-side trading\n",
                    encoding="utf-8")
    v = load_vocabulary(str(city))
    assert (v.english("处置中"), v.english("占道经营"), v.english("结案")) == (
        "In progress", "Road-side trading", "Closed")
    broken = tmp_path / "broken.yaml"
    broken.write_text("terms: [\n", encoding="utf-8")
    with pytest.raises(VocabularyError, match="broken.yaml"):
        load_vocabulary(str(broken))


def test_a_long_filter_list_groups_into_the_top_few_and_other() -> None:
    # 10 classes with 10, 9, … 1 open cases: the 8 largest by count, then 其他 for the last 2.
    counts = {f"类{n:02d}": 11 - n for n in range(1, 11)}
    from collections import Counter

    groups = layer_groups(Counter(counts), shown=8)
    assert [g[0] for g in groups] == [f"类{n:02d}" for n in range(1, 9)] + ["其他"]
    assert groups[-1] == ["其他", ["类09", "类10"]]
    # One left over needs no 其他 of its own; known values keep their usual order.
    assert [g[0] for g in layer_groups(Counter({"b": 1, "a": 2, "c": 3}), shown=2,
                                       order=("c", "b", "a"))] == ["c", "b", "a"]
