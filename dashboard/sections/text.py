"""The sections page's words, Chinese first and English."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "title": {"zh": "路长制 · 责任路段", "en": "Road sections (路长制)"},
    "red": {"zh": "红榜", "en": "Red list (best)"},
    "black": {"zh": "黑榜", "en": "Black list (worst)"},
    "ranking": {"zh": "路段排名", "en": "Sections ranked"},
    "map": {"zh": "路段得分分布", "en": "Sections by score"},
    "map_hint": {"zh": "点击路段或表格行查看详情", "en": "Click a section or a row for details"},
    "rank": {"zh": "名次", "en": "#"},
    "section": {"zh": "路段", "en": "Section"},
    "leader": {"zh": "路长", "en": "路长"},
    "unit": {"zh": "责任单位", "en": "Responsible unit"},
    "due": {"zh": "应销号", "en": "To close"},
    "close_rate": {"zh": "销号率", "en": "Closed"},
    "ontime_rate": {"zh": "按期销号率", "en": "On time"},
    "checkin": {"zh": "到岗天数", "en": "Days on site"},
    "open": {"zh": "在办", "en": "Open"},
    "overdue": {"zh": "超期", "en": "Overdue"},
    "score": {"zh": "得分", "en": "Score"},
    "unranked": {"zh": "不排名", "en": "not ranked"},
    "none_listed": {"zh": "暂无排名路段", "en": "No section ranked yet"},
    "day": {"zh": "日督促", "en": "Day"},
    "week": {"zh": "周检查", "en": "Week"},
    "month": {"zh": "月通报", "en": "Month"},
    "updated": {"zh": "数据时间", "en": "As of"},
    "other_lang": {"zh": "English", "en": "中文"},
    "close": {"zh": "返回排名", "en": "Back to the ranking"},
    "phone": {"zh": "电话", "en": "Phone"},
    "overdue_list": {"zh": "超期案件", "en": "Overdue cases"},
    "no_overdue": {"zh": "无超期案件", "en": "No overdue case"},
    "case": {"zh": "案件", "en": "Case"},
    "minor": {"zh": "小类", "en": "Type"},
    "status": {"zh": "状态", "en": "Status"},
    "hours_over": {"zh": "超期(小时)", "en": "Hours over"},
    "checkin_days": {"zh": "到岗记录", "en": "Days on site"},
    "days_of": {"zh": "{n} / {d} 天", "en": "{n} of {d} days"},
    "unknown_section": {"zh": "没有这个路段编号", "en": "No section has this code"},
    "no_sections": {"zh": "尚无责任路段:用 gridwatch import-sections 导入",
                    "en": "No road sections yet: load them with gridwatch import-sections"},
    "rule": {"zh": "得分 = 销号率×{c} + 按期销号率×{o} + 到岗率×{k};应销号少于 {m} 件不排名;"
                   "当日累计满 {t} 分钟计到岗",
             "en": "Score = closed × {c} + on time × {o} + days on site × {k}; fewer than {m} "
                   "to close: not ranked; a day counts with {t} minutes on site"},
    "legend_unranked": {"zh": "不排名", "en": "Not ranked"},
    "unavailable": {"zh": "数据暂不可用", "en": "Data unavailable"},
}


def w(key: str, lang: str) -> str:
    """Return the word for ``key`` in ``lang`` (Chinese where English is missing)."""
    entry = WORDS[key]
    return entry.get(lang) or entry["zh"]
