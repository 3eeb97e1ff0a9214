"""Why a row was quarantined: a short machine-readable code and a message in zh and en.

The codes are stored in ``QuarantinedRow.reason_code`` and counted by the data-quality page;
the message (with the row's own detail appended) goes to ``QuarantinedRow.reason``. The
vocabulary lives with the tables (like the statuses), so the importers that write it and the
pages that show it read one list.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    """One kind of bad row."""

    code: str
    zh: str
    en: str


MISSING_FIELD = Reason("missing_field", "缺少必填字段", "missing required field")
BAD_TIMESTAMP = Reason("bad_timestamp", "时间无法解析", "unparseable timestamp")
AMBIGUOUS_TIME = Reason("ambiguous_time", "时间在夏令时切换中含糊或不存在",
                        "ambiguous or non-existent local time (DST change)")
IMPOSSIBLE_ORDER = Reason("impossible_order", "时间顺序不可能(如结案早于上报)",
                          "impossible order (e.g. closed before reported)")
FUTURE_TIME = Reason("future_time", "时间在未来", "time in the future")
UNKNOWN_VALUE = Reason("unknown_value", "取值无对应映射", "unknown value with no mapping")
OUTSIDE_AREAS = Reason("outside_areas", "坐标不在任何区域内且无可用区域字段",
                       "point outside every area and no usable area field")
NO_LOCATION = Reason("no_location", "无可用位置(无坐标或坐标不精确,且无区域字段)",
                     "no usable location (no point or an imprecise one, and no area field)")
BAD_VALUE = Reason("bad_value", "取值格式错误", "malformed value")
DUPLICATE_ID = Reason("duplicate_id", "文件内编号重复", "duplicate id in the file")
UNDECODABLE = Reason("undecodable", "含无法解码的字节", "undecodable bytes")
CATEGORY_LIMIT = Reason("category_limit", "新增类别数超过映射上限",
                        "too many new categories for the mapping's limit")

REASONS = (MISSING_FIELD, BAD_TIMESTAMP, AMBIGUOUS_TIME, IMPOSSIBLE_ORDER, FUTURE_TIME,
           UNKNOWN_VALUE, OUTSIDE_AREAS, NO_LOCATION, BAD_VALUE, DUPLICATE_ID, UNDECODABLE,
           CATEGORY_LIMIT)
REASON_BY_CODE = {r.code: r for r in REASONS}
