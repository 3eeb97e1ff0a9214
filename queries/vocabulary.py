"""English names of database words (categories, sources, statuses, departments, areas).

The case database speaks Chinese; an English wall must not. Words come from a shipped YAML file
(``queries/data/vocabulary_en.yaml``, the demo city's vocabulary) plus an optional city file
(``GRIDWATCH_VOCABULARY_FILE``) whose entries win. A place name that no file lists is
transliterated with pypinyin and its administrative suffix translated (东关街道 → Dongguan
Subdistrict), so a real city's streets read in English without a hand-made list. Pure data: no
SQL, no Dash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

OTHER = "其他"  # the group of whatever a long list does not show one by one
DEFAULT_FILE = Path(__file__).resolve().parent / "data" / "vocabulary_en.yaml"
_HAN = re.compile(r"[\u3400-\u9fff]")
_GRID_NUMBER = re.compile(r"第?(\d+)号?网格$")


class VocabularyError(ValueError):
    """The vocabulary file cannot be read; the message names the file."""


@dataclass(frozen=True)
class Vocabulary:
    """Chinese → English words and the suffixes of place names."""

    terms: dict[str, str]
    suffixes: tuple[tuple[str, str], ...]

    def english(self, word: str) -> str:
        """Return the English of a database word: listed, else transliterated, else as is."""
        if not word or not _HAN.search(word):
            return word
        listed = self.terms.get(word)
        if listed is not None:
            return listed
        grid = _GRID_NUMBER.search(word)
        if grid:  # 东五社区03网格 → Dongwu Community grid 03
            head = word[:grid.start()]
            return f"{self.english(head)} grid {grid.group(1)}".strip() if head else \
                f"Grid {grid.group(1)}"
        for suffix, english in self.suffixes:
            if word.endswith(suffix) and len(word) > len(suffix):
                return f"{_pinyin(word[:-len(suffix)])} {english}"
        return _pinyin(word)


def _pinyin(text: str) -> str:
    """Transliterate Han characters as one capitalised word; other characters stay.

    pypinyin is imported here, on the first name no file lists: loading its phrase tables
    takes 0.4 s, which every command (the Chinese deck, imports) paid at start.
    """
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(text)).capitalize()


def _read(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise VocabularyError(f"{path}: {str(exc).splitlines()[0]}") from exc
    if not isinstance(data, dict):
        raise VocabularyError(f"{path}: expected 'terms:' and 'suffixes:' mappings")
    terms, suffixes = data.get("terms") or {}, data.get("suffixes") or {}
    if not isinstance(terms, dict) or not isinstance(suffixes, dict):
        raise VocabularyError(f"{path}: 'terms' and 'suffixes' must be mappings")
    return ({str(k): str(v) for k, v in terms.items()},
            {str(k): str(v) for k, v in suffixes.items()})


@lru_cache(maxsize=8)
def load_vocabulary(extra_file: str | None = None) -> Vocabulary:
    """Return the shipped vocabulary with a city's own file laid over it (read once)."""
    terms, suffixes = _read(DEFAULT_FILE)
    if extra_file:
        more_terms, more_suffixes = _read(Path(extra_file))
        terms, suffixes = {**terms, **more_terms}, {**suffixes, **more_suffixes}
    ordered = tuple(sorted(suffixes.items(), key=lambda kv: -len(kv[0])))
    return Vocabulary(terms=terms, suffixes=ordered)
