"""UI words in Chinese (the default) and English; pages call ``t(key, lang)``."""

from __future__ import annotations

DEFAULT_LANGUAGE = "zh"

WORDS: dict[str, dict[str, str]] = {
    "title": {"zh": "城市运行管理指挥大屏", "en": "City Operations Command Center"},
    "updated": {"zh": "数据更新于", "en": "Data as of"},
    "stale": {"zh": "数据延迟", "en": "STALE DATA"},
    "today_reported": {"zh": "今日上报", "en": "Reported today"},
    "open": {"zh": "在办案件", "en": "Open cases"},
    "open_overdue": {"zh": "超期未结", "en": "Open overdue"},
    "map_open_cases": {"zh": "在办案件分布", "en": "Open cases"},
    "no_data": {"zh": "暂无数据", "en": "No data yet"},
}


def t(key: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """Return the word for ``key`` in ``lang``, falling back to Chinese."""
    entry = WORDS[key]
    return entry.get(lang) or entry[DEFAULT_LANGUAGE]


def pick_language(value: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """Return a supported language for a URL or settings value."""
    return value if value in ("zh", "en") else default
