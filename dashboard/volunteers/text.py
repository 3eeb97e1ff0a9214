"""The volunteers page's words, Chinese first and English."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "title": {"zh": "志愿服务", "en": "Volunteer service"},
    "teams_today": {"zh": "今日活跃队伍", "en": "Teams active today"},
    "teams_month": {"zh": "本月活跃队伍", "en": "Teams active this month"},
    "on_duty": {"zh": "当前在岗志愿者", "en": "Volunteers on duty now"},
    "activities_today": {"zh": "今日活动", "en": "Activities today"},
    "hours_month": {"zh": "本月服务时长(小时)", "en": "Service hours this month"},
    "hours_year": {"zh": "本年服务时长(小时)", "en": "Service hours this year"},
    "by_type": {"zh": "今日活动(按类型)", "en": "Today's activities by type"},
    "map": {"zh": "今日活动分布", "en": "Today's activities"},
    "map_hint": {"zh": "实心:进行中 · 空心:已结束或未开始",
                 "en": "Filled: under way · hollow: ended or not started"},
    "ranking": {"zh": "本月队伍服务时长排名", "en": "Teams by service hours this month"},
    "rank": {"zh": "名次", "en": "#"},
    "team": {"zh": "队伍", "en": "Team"},
    "street": {"zh": "街道", "en": "Street"},
    "activities": {"zh": "活动", "en": "Activities"},
    "people": {"zh": "人次", "en": "People"},
    "hours": {"zh": "时长", "en": "Hours"},
    "trend": {"zh": "近30日活动与服务时长", "en": "Last 30 days: activities and hours"},
    "trend_activities": {"zh": "活动数", "en": "Activities"},
    "trend_hours": {"zh": "服务时长", "en": "Hours"},
    "none_today": {"zh": "今日暂无活动", "en": "No activities today"},
    "none_month": {"zh": "本月暂无已完成的活动", "en": "No completed activity this month"},
    "updated": {"zh": "数据时间", "en": "As of"},
    "other_lang": {"zh": "English", "en": "中文"},
    "unknown_area": {"zh": "没有这个区域编码", "en": "No area has this code"},
    "grid_work": {"zh": "志愿服务(本期已完成):{n} 次活动 · {p} 人次 · {h} 小时",
                  "en": "Volunteer work (completed this period): {n} activities · {p} people · "
                        "{h} hours"},
    "hours_rule": {"zh": "服务时长 = 参与人数 × 活动时长,按活动结束时间计入",
                   "en": "Hours = participants × duration, counted when an activity ends"},
}


def w(key: str, lang: str) -> str:
    """Return the word for ``key`` in ``lang`` (Chinese where English is missing)."""
    entry = WORDS[key]
    return entry.get(lang) or entry["zh"]
