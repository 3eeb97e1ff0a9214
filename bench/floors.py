"""Independent floors for the benchmarks: the same data fetched by SQL written here by hand.

A benchmark that replays the layer's own statements can never show a slow query: the floor
would be just as slow. These statements are written by hand as text (SQLAlchemy Core ``text()``),
one GROUP BY per question, and return plain rows; the two expressions SQLite and PostgreSQL
spell differently (seconds between two times, a time's day) are written for each; the benchmarks
check that they give the same figures as the layer before timing either, so the ratio is
"the layer's time over the least a program could spend asking the database the same thing".
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

from queries.indicators import BACKLOG_OVER_DAYS, DEFAULT
from queries.models import OPEN_STATUSES, PUBLIC_SOURCES, STATUS_CANCELLED

# The conditions of every count of queries.indicators, written out by hand. Each is
# expanded in place (no subquery): the database evaluates them on the rows the WHERE found.
_IN = "{col} >= :s AND {col} < :e"
_LIVE = "cancelled_at IS NULL"
_REG = f"({_IN.format(col='registered_at')})"
_KEPT = f"{_REG} AND {_LIVE}"
_VALID = f"({_IN.format(col='reported_at')}) AND valid_report"
_TO_DISPATCH = f"{_KEPT} AND (dispatched_at IS NOT NULL OR registered_at <= :dispatch_by)"
_OVERDUE = (f"registered_at < :asof AND (closed_at IS NULL OR closed_at >= :asof) AND {_LIVE} "
            "AND deadline_at < :asof")
_STILL_OPEN = (f"registered_at < :asof AND (closed_at IS NULL OR closed_at >= :asof) "
               f"AND {_LIVE}")
# 应结案, bulletin convention: the period's kept registrations closed or past the deadline by
# as of (docs/indicators.md); the backlog of older cases stays out.
_DUE = f"({_KEPT} AND (closed_at < :asof OR deadline_at < :asof))"
_CLOSED = f"({_IN.format(col='closed_at')}) AND {_LIVE}"
_HANDLED = f"({_IN.format(col='handled_at')}) AND {_LIVE}"


def _seconds(dialect: str, later: str, earlier: str) -> str:
    """Whole seconds from ``earlier`` to ``later``, in the dialect's own words."""
    if dialect == "postgresql":
        return f"ROUND(EXTRACT(EPOCH FROM ({later} - {earlier})))"
    return f"ROUND((julianday({later}) - julianday({earlier})) * 86400)"


def _day(dialect: str, column: str) -> str:
    """A time's day as YYYY-MM-DD text."""
    if dialect == "postgresql":
        return f"to_char({column}, 'YYYY-MM-DD')"
    return f"substr({column}, 1, 10)"


def _counted(dialect: str) -> dict[str, str]:
    """Every count's condition for ``dialect``."""
    return {
    "reported": _IN.format(col="reported_at"),
    "valid_reported": _VALID,
    "registered_of_valid": f"{_VALID} AND registered_at IS NOT NULL",
    "registered": _REG,
    "cancelled": f"{_REG} AND cancelled_at IS NOT NULL",
    "kept": _KEPT,
    "ontime_registered": f"{_KEPT} AND "
                         f"{_seconds(dialect, 'registered_at', 'reported_at')} <= :register_s",
    "public_registered": f"{_KEPT} AND source IN (:p1, :p2)",
    "to_dispatch": _TO_DISPATCH,
    "ontime_dispatched": f"{_TO_DISPATCH} AND dispatched_at IS NOT NULL AND "
                         f"{_seconds(dialect, 'dispatched_at', 'registered_at')} <= :dispatch_s",
    "misdispatched": f"{_TO_DISPATCH} AND misdispatched",
    "dispatched": f"({_IN.format(col='dispatched_at')}) AND {_LIVE}",
    "handled": _HANDLED,
    "closed": _CLOSED,
    "due": _DUE,
    "due_handled": f"{_DUE} AND handled_at < :asof",
    "due_handled_ontime": f"{_DUE} AND handled_at < :asof AND (deadline_at IS NULL OR "
                          "handled_at <= deadline_at)",
    "due_closed": f"{_DUE} AND closed_at < :asof",
    "due_closed_ontime": f"{_DUE} AND closed_at < :asof AND (deadline_at IS NULL OR "
                         "closed_at <= deadline_at)",
    "due_reworked": f"{_DUE} AND rework_count > 0",
    "due_extended": f"{_DUE} AND extended",
    "open_overdue": _OVERDUE,
    "backlog_over_30": f"{_STILL_OPEN} AND registered_at < :backlog_by",
    "settled": f"{_CLOSED} AND settled_level IS NOT NULL",
    "settled_grid": f"{_CLOSED} AND settled_level = 'grid'",
    "settled_street": f"{_CLOSED} AND settled_level = 'street'",
    "settled_district": f"{_CLOSED} AND settled_level = 'district'",
    "timed": f"{_HANDLED} AND dispatched_at IS NOT NULL",
    }
# The WHERE keeps a superset of the cases any count needs, in terms an index on each timestamp
# can drive (the exact "open past its deadline" test would match every old case by its
# deadline and scan the table).
def _counts_sql(dialect: str) -> str:
    return (
        "SELECT {key} AS area_key, "
        + ", ".join(f"SUM(CASE WHEN {cond} THEN 1 ELSE 0 END) AS {name}"
                    for name, cond in _counted(dialect).items())
        + f", SUM(CASE WHEN {_DUE} THEN rework_count ELSE 0 END) AS rework_times"
        + """
FROM cases
WHERE (reported_at >= :s AND reported_at < :e) OR (registered_at >= :s AND registered_at < :e)
   OR (dispatched_at >= :s AND dispatched_at < :e) OR (handled_at >= :s AND handled_at < :e)
   OR (closed_at >= :s AND closed_at < :e) OR (deadline_at >= :s AND deadline_at < :asof)
   OR (closed_at IS NULL AND cancelled_at IS NULL AND deadline_at < :asof)
   OR (closed_at IS NULL AND cancelled_at IS NULL AND registered_at < :backlog_by)
   OR closed_at >= :asof
{group}""")

CASE_ROW = """
SELECT c.id, c.external_id, c.lat, c.lon, c.status, c.source, k.kind, k.major, k.minor,
       c.address, d.name, c.reported_at, c.dispatched_at, c.deadline_at, c.grid_id, c.street_id
FROM cases c JOIN categories k ON k.id = c.category_id LEFT JOIN departments d
  ON d.id = c.department_id
"""


def stamp(moment: datetime) -> str:
    """Write a moment as SQLAlchemy stores DateTime in SQLite (text compares in time order)."""
    return f"{moment:%Y-%m-%d %H:%M:%S.%f}"


def counts(conn: Connection, start: datetime, end: datetime, now: datetime, *,
           key: str | None = None) -> dict[Any, dict[str, int]]:
    """Return every indicator count per ``key`` (a column), or {0: the district's counts}."""
    params = {
        "s": stamp(start), "e": stamp(end), "asof": stamp(min(now, end)),
        "dispatch_by": stamp(now - timedelta(minutes=DEFAULT.ontime_dispatch_minutes)),
        "backlog_by": stamp(min(now, end) - timedelta(days=BACKLOG_OVER_DAYS)),
        "register_s": 60 * DEFAULT.ontime_register_minutes,
        "dispatch_s": 60 * DEFAULT.ontime_dispatch_minutes,
        "p1": PUBLIC_SOURCES[0], "p2": PUBLIC_SOURCES[1],
    }
    # SQLite would walk the key's own index to group in order, reading every case of the
    # history: ``+key`` makes the period indexes find the rows instead (docs/plans.md).
    grouped = f"+{key}" if key and conn.dialect.name == "sqlite" else key
    sql = _counts_sql(conn.dialect.name).format(key=grouped or "0",
                                                group=f"GROUP BY {grouped}" if key else "")
    rows = conn.execute(text(sql), params).mappings().all()
    return {row["area_key"]: {k: int(v or 0) for k, v in row.items() if k != "area_key"}
            for row in rows}


def repeats(conn: Connection, start: datetime, end: datetime) -> int:
    """Count cases registered in [start, end), not cancelled, stored as repeating another."""
    return int(conn.execute(text(
        "SELECT COUNT(*) FROM cases WHERE registered_at >= :s AND registered_at < :e "
        "AND cancelled_at IS NULL AND repeat_of_id IS NOT NULL"),
        {"s": stamp(start), "e": stamp(end)}).scalar_one())


def trend(conn: Connection, last_day: date, days: int) -> tuple[list[int], list[int]]:
    """Return reported and closed cases per day for the ``days`` days ending ``last_day``."""
    first = datetime.combine(last_day - timedelta(days=days - 1), datetime.min.time())
    params = {"s": stamp(first), "e": stamp(first + timedelta(days=days))}
    dialect = conn.dialect.name
    reported = dict(conn.execute(text(
        f"SELECT {_day(dialect, 'reported_at')}, COUNT(*) FROM cases "
        "WHERE reported_at >= :s AND reported_at < :e GROUP BY 1"), params).all())
    closed = dict(conn.execute(text(
        f"SELECT {_day(dialect, 'closed_at')}, COUNT(*) FROM cases WHERE closed_at >= :s "
        "AND closed_at < :e AND cancelled_at IS NULL GROUP BY 1"), params).all())
    calendar = [(first + timedelta(days=i)).date().isoformat() for i in range(days)]
    return [reported.get(d, 0) for d in calendar], [closed.get(d, 0) for d in calendar]


def volunteers(conn: Connection, day_start: datetime, day_end: datetime,
               month_start: datetime, now: datetime) -> tuple[int, int, float, dict[str, int]]:
    """Return teams active today, people on duty now, hours this month, activities by type."""
    p = {"ds": stamp(day_start), "de": stamp(day_end), "ms": stamp(month_start),
         "now": stamp(now)}
    row = conn.execute(text(
        "SELECT COUNT(DISTINCT CASE WHEN start_at < :de AND end_at > :ds THEN team_id END), "
        "COALESCE(SUM(CASE WHEN start_at <= :now AND end_at > :now THEN participants END), 0), "
        "COALESCE(SUM(CASE WHEN end_at >= :ms AND end_at <= :now THEN service_hours END), 0) "
        "FROM volunteer_activities"), p).one()
    types = dict(conn.execute(text(
        "SELECT service_type, COUNT(*) FROM volunteer_activities "
        "WHERE start_at < :de AND end_at > :ds GROUP BY service_type"), p).all())
    return int(row[0]), int(row[1]), float(row[2]), types


def open_case_rows(conn: Connection) -> list[Any]:
    """Return every open case's map and card columns, oldest first."""
    marks = ", ".join(f":s{i}" for i in range(len(OPEN_STATUSES)))
    return list(conn.execute(
        text(f"{CASE_ROW} WHERE c.status IN ({marks}) ORDER BY c.reported_at"),
        {f"s{i}": s for i, s in enumerate(OPEN_STATUSES)}).all())


def newest_rows(conn: Connection, limit: int) -> list[Any]:
    """Return the newest reported cases (the ticker), newest first."""
    return list(conn.execute(text(f"{CASE_ROW} ORDER BY c.reported_at DESC, c.id DESC "
                                  "LIMIT :n"), {"n": limit}).all())


def assessment_rows(conn: Connection, start: datetime, end: datetime) -> list[Any]:
    """Return the columns the monthly assessment costs, for cases registered in [start, end)."""
    return list(conn.execute(text(
        "SELECT id, category_id, lat, lon, street_id, grid_id, severity, rework_count, "
        "registered_at, deadline_at, COALESCE(handled_at, closed_at) FROM cases "
        "WHERE registered_at >= :s AND registered_at < :e AND status != :cancelled"),
        {"s": stamp(start), "e": stamp(end), "cancelled": STATUS_CANCELLED}).all())


def outlines(conn: Connection) -> list[Any]:
    """Return the areas the district map outlines (streets, communities) and every grid."""
    return list(conn.execute(text(
        "SELECT id, code, name, level, geometry, center_lon, center_lat FROM areas")).all())
