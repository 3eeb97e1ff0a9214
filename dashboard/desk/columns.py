"""The desk's columns: one list for the grid on screen and for the CSV/XLSX export, so a file
holds exactly what the desk shows, in its order.

Time left is hours to the deadline at the moment of reading, negative once overdue; a case
with no deadline (not dispatched yet) or a closed one has none ("—" on screen, empty in a file).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from dashboard.i18n import t, term
from queries.desk import DeskRow
from queries.indicators import DASH
from queries.models import OPEN_STATUSES

# (field, i18n key of the header)
COLUMNS = (
    ("external_id", "desk_col_case"), ("flagged", "desk_col_flag"),
    ("status", "desk_col_status"), ("left_hours", "desk_col_left"),
    ("deadline", "desk_col_deadline"), ("major", "desk_col_major"),
    ("minor", "desk_col_minor"), ("address", "desk_col_address"),
    ("street", "desk_col_street"), ("department", "desk_col_department"),
    ("source", "desk_col_source"), ("urgency", "desk_col_urgency"),
    ("reported", "desk_col_reported"),
)


def hours_left(row: DeskRow, now: datetime) -> float | None:
    """Return the hours from ``now`` to an open case's deadline (negative: overdue)."""
    if row.deadline_at is None or row.status not in OPEN_STATUSES:
        return None
    return round((row.deadline_at - now).total_seconds() / 3600, 1)


def left_text(hours: float | None, lang: str) -> str:
    """Return time left as the desk reads it: "剩 3.5 小时" or "超期 2.0 小时"."""
    if hours is None:
        return DASH
    if hours < 0:
        return t("desk_overdue_by", lang).format(hours=f"{-hours:.1f}")
    return t("desk_left", lang).format(hours=f"{hours:.1f}")


def headers(lang: str) -> list[str]:
    """Return the column headers in the reader's language."""
    return [t(key, lang) for _, key in COLUMNS]


def file_values(row: DeskRow, now: datetime, lang: str) -> list[Any]:
    """Return one row of an export, in ``COLUMNS`` order (numbers stay numbers)."""
    return [row.external_id, t("desk_flagged", lang) if row.flagged else "",
            term(row.status, lang), hours_left(row, now),
            f"{row.deadline_at:%Y-%m-%d %H:%M}" if row.deadline_at else "",
            term(row.major, lang), term(row.minor, lang), row.address, term(row.street, lang),
            term(row.department, lang) if row.department else "", term(row.source, lang),
            term(row.urgency, lang), f"{row.reported_at:%Y-%m-%d %H:%M}"]


def grid_row(row: DeskRow, now: datetime, lang: str) -> dict[str, Any]:
    """Return one row of the desk's grid: the file's values, time left as text, a link."""
    values = dict(zip((field for field, _ in COLUMNS), file_values(row, now, lang), strict=True))
    hours = values["left_hours"]
    values.update(
        id=row.id, left_hours=left_text(hours, lang),
        overdue=hours is not None and hours < 0,
        external_id=f"[{row.external_id}]({case_href(row.id, lang)})",
        department=values["department"] or t("unassigned", lang))
    return values


def case_href(case_id: int, lang: str) -> str:
    """Return the case page's link, keeping an English reader in English."""
    return f"/desk/case?id={case_id}" + ("&lang=en" if lang == "en" else "")


def export_url(kind: str, query: dict[str, str]) -> str:
    """Return the export link of a view (``kind`` "csv" or "xlsx"), its filters in the URL."""
    path = f"/desk/export.{kind}"
    return f"{path}?{urlencode(query)}" if query else path
