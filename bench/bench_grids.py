"""Benchmark the grid page's heaviest read: every indicator of every unit grid for a month.

    python bench/bench_grids.py [--cases 1000000] [--db /tmp/gridwatch-bench.sqlite3]
                                [--month 2026-10] [--runs 5]

Generates the demo city with ``--cases`` cases into a SQLite file (minutes for a million;
the file is reused while it holds that many cases), then times, in the same run and
alternating, ``indicators_by_area(level="grid")`` against its floor: one GROUP BY written by
hand (bench/floors.py) that gives the same counts for every grid (checked). The ratio layer /
floor is the figure to quote. For reference it also replays the layer's own statement on a
bare DB-API cursor: not a floor (a slow statement is as slow there), it shows the price of the
Python around the SQL (area lookups, grid counts, building 500 IndicatorSets), and the same
statement grouped by the bare column, the plan before docs/plans.md (SQLite walked the grid
index through every case of the history), for the before/after ratio of the same run.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import floors
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from ingest.democity import generate
from queries.engine import init_db, make_engine
from queries.indicators import IndicatorSet, indicators_by_area
from queries.models import LEVEL_GRID, Area, Case
from queries.periods import MONTH, Period, parse_period, period_for, previous


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
    """Run the hand-written GROUP BY of bench/floors.py; return each grid's counts."""
    with engine.connect() as conn:
        return floors.counts(conn, period.start, period.end, now, key="grid_id")


def own_statement(engine: Engine, period: Period, now: datetime) -> tuple[str, Any]:
    """Capture the one GROUP BY over cases that the layer sends to the database."""
    sent: list[tuple[str, Any]] = []

    def grab(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
             _many: bool) -> None:
        # SQLite groups by ``+cases.grid_id`` (no index order: queries.settled.Unindexed)
        if "FROM cases" in statement and re.search(r"GROUP BY \+?cases\.grid_id", statement):
            sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", grab)
    try:
        layered(engine, period, now)
    finally:
        event.remove(engine, "before_cursor_execute", grab)
    assert len(sent) == 1, f"expected one GROUP BY over cases, saw {len(sent)}"
    return sent[0]


def replayed(engine: Engine, statement: str, parameters: Any,
             keep: set[str]) -> dict[int, dict[str, int]]:
    """Run a captured statement on a bare DB-API cursor; return each grid's counts in ``keep``.

    The layer's statement also counts which inputs each rate had (the not-applicable
    bookkeeping: register_known, dispatch_skipped …); only the compared measures are kept.
    """
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(statement, parameters)
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    finally:
        connection.close()
    return {row[0]: {n: int(v or 0) for n, v in zip(names[1:], row[1:]) if n in keep}
            for row in rows}


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
    compared = set(measures_of(next(iter(layer_result.values()))))
    floor = "hand-written SQL GROUP BY (the floor)"
    replay = "its own GROUP BY on a bare cursor"
    # The plan before docs/plans.md: the same statement grouped by the bare column, which
    # SQLite reads in the order of its index (every case of the history). Not a floor either.
    in_order = "its own GROUP BY in grid-index order (before)"
    bare_key = statement.replace("+cases.grid_id", "cases.grid_id")
    baselines = {
        floor: lambda: raw_group_by(engine, period, now),
        replay: lambda: replayed(engine, statement, parameters, compared),
        in_order: lambda: replayed(engine, bare_key, parameters, compared),
    }
    for name, run in baselines.items():
        raw_result = run()
        for grid_id, values in layer_result.items():
            expected = raw_result.get(grid_id, dict.fromkeys(measures_of(values), 0))
            got = measures_of(values)
            assert got == expected, (f"{name}, grid {grid_id}: counts differ: " + str(
                {k: (got[k], expected.get(k)) for k in got if got[k] != expected.get(k)}))

    times: dict[str, list[float]] = {"layer": [], **{name: [] for name in baselines}}
    for _ in range(args.runs):
        times["layer"].append(timed(layered, engine, period, now)[1])
        for name, run in baselines.items():
            times[name].append(timed(run)[1])
    median_ms = {name: statistics.median(values) * 1000 for name, values in times.items()}
    print(f"{args.cases:,} cases, {grids} grids, month {period.token}, "
          f"{sum(v.reported for v in layer_result.values()):,} reported in it; "
          f"same counts for every grid from all three")
    print(f"indicators_by_area(level='grid'):         median {median_ms['layer']:6.0f} ms "
          f"of {args.runs} runs")
    print(f"{floor + ':':<42} median {median_ms[floor]:6.0f} ms; "
          f"ratio layer / floor = {median_ms['layer'] / median_ms[floor]:.2f}")
    # Not a floor: the layer's own SQL replayed, so a slow statement would be slow here too.
    # It isolates the price of the Python around the SQL (area lookups, 500 IndicatorSets).
    print(f"{replay + ':':<42} median {median_ms[replay]:6.0f} ms "
          f"(not a floor: Python around the SQL = "
          f"{median_ms['layer'] - median_ms[replay]:.0f} ms)")
    print(f"{in_order + ':':<42} median {median_ms[in_order]:6.0f} ms; "
          f"ratio now / before = {median_ms[replay] / median_ms[in_order]:.2f}")

if __name__ == "__main__":
    main()
