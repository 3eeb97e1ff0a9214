"""Benchmark the grid page's heaviest read: every indicator of every unit grid for a month.

    python bench/bench_grids.py [--cases 1000000] [--db /tmp/gridwatch-bench.sqlite3]
                                [--month 2026-10] [--runs 5]

Generates the demo city with ``--cases`` cases into a SQLite file (minutes for a million;
the file is reused while it holds that many cases), then times, in the same run and
alternating, ``indicators_by_area(level="grid")`` against two single raw SQL GROUP BYs that
give the same counts for every grid (checked): the layer's own statement replayed on a bare
DB-API cursor (so the ratio is the price of the typed layer: area lookups, grid counts and
building 500 IndicatorSets), and one written by hand. It prints medians and ratios.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.orm import Session

from ingest.democity import generate
from queries.engine import init_db, make_engine
from queries.indicators import BACKLOG_OVER_DAYS, DEFAULT, IndicatorSet, indicators_by_area
from queries.models import LEVEL_GRID, PUBLIC_SOURCES, Area, Case
from queries.periods import MONTH, Period, parse_period, period_for, previous

# The same conditional counts as queries.indicators, written by hand for SQLite, one GROUP BY.
RAW_SQL = """
WITH f AS (
  SELECT grid_id, rework_count, dispatched_at, handled_at,
    (reported_at >= :s AND reported_at < :e) AS rep,
    (reported_at >= :s AND reported_at < :e AND valid_report = 1) AS val,
    (registered_at >= :s AND registered_at < :e) AS reg,
    (cancelled_at IS NULL) AS live,
    (dispatched_at >= :s AND dispatched_at < :e) AS dis,
    (handled_at >= :s AND handled_at < :e AND cancelled_at IS NULL) AS han,
    (closed_at >= :s AND closed_at < :e AND cancelled_at IS NULL) AS clo,
    (registered_at < :asof AND (closed_at IS NULL OR closed_at >= :asof)
     AND cancelled_at IS NULL) AS still_open,
    source, registered_at, reported_at, deadline_at, closed_at, cancelled_at, misdispatched,
    extended, settled_level
  FROM cases
  WHERE (reported_at >= :s AND reported_at < :e) OR (registered_at >= :s AND registered_at < :e)
     OR (dispatched_at >= :s AND dispatched_at < :e) OR (handled_at >= :s AND handled_at < :e)
     OR (closed_at >= :s AND closed_at < :e) OR (closed_at IS NULL AND cancelled_at IS NULL)
     OR closed_at >= :asof
), g AS (
  SELECT *,
    (reg AND live) AS kept,
    (still_open AND deadline_at < :asof) AS ovd,
    -- 应结案, bulletin convention: kept registrations closed or past the deadline by as of
    (reg AND live AND (closed_at < :asof OR deadline_at < :asof)) AS due,
    (reg AND live AND (dispatched_at IS NOT NULL OR registered_at <= :dispatch_by)) AS tod
  FROM f
)
SELECT grid_id,
  SUM(rep) AS reported, SUM(val) AS valid_reported,
  SUM(val AND registered_at IS NOT NULL) AS registered_of_valid,
  SUM(reg) AS registered, SUM(reg AND cancelled_at IS NOT NULL) AS cancelled, SUM(kept) AS kept,
  SUM(kept AND ROUND((julianday(registered_at) - julianday(reported_at)) * 86400)
      <= :register_s) AS ontime_registered,
  SUM(kept AND source IN (:p1, :p2)) AS public_registered,
  SUM(tod) AS to_dispatch,
  SUM(tod AND dispatched_at IS NOT NULL AND ROUND((julianday(dispatched_at)
      - julianday(registered_at)) * 86400) <= :dispatch_s) AS ontime_dispatched,
  SUM(tod AND misdispatched = 1) AS misdispatched,
  SUM(dis AND live) AS dispatched, SUM(han) AS handled, SUM(clo) AS closed, SUM(due) AS due,
  SUM(due AND handled_at < :asof) AS due_handled,
  SUM(due AND handled_at < :asof AND (deadline_at IS NULL OR handled_at <= deadline_at))
      AS due_handled_ontime,
  SUM(due AND closed_at < :asof) AS due_closed,
  SUM(due AND closed_at < :asof AND (deadline_at IS NULL OR closed_at <= deadline_at))
      AS due_closed_ontime,
  SUM(due AND rework_count > 0) AS due_reworked, SUM(due AND extended = 1) AS due_extended,
  SUM(ovd) AS open_overdue, SUM(still_open AND registered_at < :backlog_by) AS backlog_over_30,
  SUM(clo AND settled_level IS NOT NULL) AS settled,
  SUM(clo AND settled_level = 'grid') AS settled_grid,
  SUM(clo AND settled_level = 'street') AS settled_street,
  SUM(clo AND settled_level = 'district') AS settled_district,
  SUM(han AND dispatched_at IS NOT NULL) AS timed,
  SUM(CASE WHEN due THEN rework_count ELSE 0 END) AS rework_times,
  -- whether the inputs are there (queries.indicators: not applicable)
  SUM((rep OR reg) AND registered_at IS NOT NULL) AS register_known,
  SUM((rep OR reg) AND registered_at != reported_at) AS register_own,
  SUM(rep AND registered_at IS NULL AND (dispatched_at IS NOT NULL OR handled_at IS NOT NULL
      OR closed_at IS NOT NULL)) AS register_skipped,
  SUM(kept AND dispatched_at IS NOT NULL) AS dispatch_known,
  SUM(kept AND dispatched_at != registered_at) AS dispatch_own,
  SUM(kept AND dispatched_at IS NULL AND (handled_at IS NOT NULL OR closed_at IS NOT NULL))
      AS dispatch_skipped,
  SUM(due AND handled_at IS NOT NULL) AS due_handling_known,
  SUM(due AND handled_at IS NULL AND closed_at IS NOT NULL) AS due_handling_skipped,
  SUM(due AND deadline_at IS NOT NULL) AS due_deadline_known,
  SUM((still_open OR clo) AND deadline_at IS NOT NULL) AS overdue_deadline_known,
  SUM((still_open OR clo) AND deadline_at IS NULL AND (dispatched_at IS NOT NULL
      OR handled_at IS NOT NULL OR closed_at IS NOT NULL)) AS overdue_deadline_skipped
FROM g GROUP BY grid_id
"""


def measures_of(s: IndicatorSet) -> dict[str, int]:
    """Return the counts behind an IndicatorSet, named as the raw query names them."""
    return {
        "reported": s.reported, "valid_reported": s.valid_reported,
        "registered_of_valid": s.register_rate.numerator, "registered": s.registered,
        "cancelled": s.cancelled, "kept": s.ontime_register_rate.denominator,
        "ontime_registered": s.ontime_register_rate.numerator,
        "public_registered": s.public_report_rate.numerator, "to_dispatch": s.to_dispatch,
        "ontime_dispatched": s.ontime_dispatch_rate.numerator,
        "misdispatched": s.to_dispatch - s.accurate_dispatch_rate.numerator,
        "dispatched": s.dispatched, "handled": s.handled, "closed": s.closed, "due": s.due,
        "due_handled": s.handle_rate.numerator,
        "due_handled_ontime": s.ontime_handle_rate.numerator,
        "due_closed": s.close_rate.numerator, "due_closed_ontime": s.ontime_close_rate.numerator,
        "due_reworked": s.rework_rate.numerator, "due_extended": s.extension_rate.numerator,
        "open_overdue": s.open_overdue, "backlog_over_30": s.backlog_over_30,
        "settled": s.grid_settle_rate.denominator,
        "settled_grid": s.settled_grid, "settled_street": s.settled_street,
        "settled_district": s.settled_district, "timed": s.handling_timed,
        "rework_times": s.rework_times,
    }


def raw_group_by(engine: Engine, period: Period, now: datetime) -> dict[int, dict[str, int]]:
    """Run the hand-written GROUP BY; return each grid's counts."""
    def stamp(moment: datetime) -> str:  # as SQLAlchemy stores DateTime in SQLite
        return f"{moment:%Y-%m-%d %H:%M:%S.%f}"

    params = {
        "s": stamp(period.start), "e": stamp(period.end), "asof": stamp(min(now, period.end)),
        "backlog_by": stamp(min(now, period.end) - timedelta(days=BACKLOG_OVER_DAYS)),
        "dispatch_by": stamp(now - timedelta(minutes=DEFAULT.ontime_dispatch_minutes)),
        "register_s": 60 * DEFAULT.ontime_register_minutes,
        "dispatch_s": 60 * DEFAULT.ontime_dispatch_minutes,
        "p1": PUBLIC_SOURCES[0], "p2": PUBLIC_SOURCES[1],
    }
    with engine.connect() as conn:
        rows = conn.execute(text(RAW_SQL), params).mappings().all()
    return {row["grid_id"]: {k: int(v or 0) for k, v in row.items() if k != "grid_id"}
            for row in rows}


def own_statement(engine: Engine, period: Period, now: datetime) -> tuple[str, Any]:
    """Capture the one GROUP BY over cases that the layer sends to the database."""
    sent: list[tuple[str, Any]] = []

    def grab(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
             _many: bool) -> None:
        if "FROM cases" in statement and "GROUP BY cases.grid_id" in statement:
            sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", grab)
    try:
        layered(engine, period, now)
    finally:
        event.remove(engine, "before_cursor_execute", grab)
    assert len(sent) == 1, f"expected one GROUP BY over cases, saw {len(sent)}"
    return sent[0]


def replayed(engine: Engine, statement: str, parameters: Any) -> dict[int, dict[str, int]]:
    """Run a captured statement on a bare DB-API cursor; return each grid's counts."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(statement, parameters)
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    finally:
        connection.close()
    return {row[0]: {n: int(v or 0) for n, v in zip(names[1:], row[1:])
                     if n != "handling_seconds"} for row in rows}


def layered(engine: Engine, period: Period, now: datetime) -> dict[int, IndicatorSet]:
    """Run the indicators layer for every grid, as the page does."""
    with Session(engine) as session:
        return indicators_by_area(session, period, level=LEVEL_GRID, now=now)


def timed(fn: Any, *args: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - started


def prepare(path: Path, cases: int, seed: int) -> Engine:
    """Open the benchmark database, generating the demo city unless it already has ``cases``."""
    engine = make_engine(f"sqlite:///{path}")
    if path.exists():
        with Session(engine) as session:
            held = session.scalar(select(func.count()).select_from(Case))
        if held == cases:
            print(f"reusing {path} ({held:,} cases)")
            return engine
        engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        engine = make_engine(f"sqlite:///{path}")
    init_db(engine)
    started = time.perf_counter()
    generate(engine, cases=cases, seed=seed, progress=True)
    print(f"generated {cases:,} cases in {time.perf_counter() - started:.0f} s into {path}")
    return engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=Path("/tmp/gridwatch-bench.sqlite3"))
    parser.add_argument("--month", default="", help="YYYY-MM (default: the last whole month)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    engine = prepare(args.db, args.cases, args.seed)
    now = datetime.now().replace(microsecond=0)
    period = (parse_period(args.month, now) if args.month
              else previous(period_for(MONTH, now)))
    with Session(engine) as session:
        grids = session.scalar(select(func.count()).where(Area.level == LEVEL_GRID))

    layer_result, _ = timed(layered, engine, period, now)  # warm the page cache, once each
    statement, parameters = own_statement(engine, period, now)
    baselines = {
        "its own GROUP BY, raw DB-API cursor": lambda: replayed(engine, statement, parameters),
        "hand-written SQL GROUP BY": lambda: raw_group_by(engine, period, now),
    }
    for name, run in baselines.items():
        raw_result = run()
        for grid_id, values in layer_result.items():
            measures, row = measures_of(values), raw_result.get(grid_id, {})
            expected = {key: row.get(key, 0) for key in measures}
            assert measures == expected, f"{name}, grid {grid_id}: counts differ"

    times: dict[str, list[float]] = {"layer": [], **{name: [] for name in baselines}}
    for _ in range(args.runs):
        times["layer"].append(timed(layered, engine, period, now)[1])
        for name, run in baselines.items():
            times[name].append(timed(run)[1])
    median_ms = {name: statistics.median(values) * 1000 for name, values in times.items()}
    print(f"{args.cases:,} cases, {grids} grids, month {period.token}, "
          f"{sum(v.reported for v in layer_result.values()):,} reported in it; "
          f"same counts for every grid from all three")
    print(f"indicators_by_area(level='grid'):     median {median_ms['layer']:6.0f} ms "
          f"of {args.runs} runs")
    for name in baselines:
        print(f"{name + ':':<38} median {median_ms[name]:6.0f} ms; "
              f"ratio layer / this = {median_ms['layer'] / median_ms[name]:.2f}")


if __name__ == "__main__":
    main()
