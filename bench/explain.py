"""Print the plans of the heaviest reads over ``cases`` and time each statement on a bare cursor.

    PYTHONPATH=. python bench/explain.py --database-url URL [--month YYYY-MM] [--runs 3]

For one city (SQLite or PostgreSQL) it runs the reads the way the app runs them and captures
every statement they send over ``cases``:

- **grids**: ``/grids`` at grid level for a month, 500 grids (``indicators_by_area``), the
  grouped ``_aggregate``;
- **district**: ``/grids``'s district view for the same month (its streets grouped, and the
  district's own single-row aggregate);
- **month so far**: the snapshot's month-to-date tiles (``day_figures`` of the running month:
  the single-row aggregate and the repeat count);
- **desk**: the case desk's first block of 100 rows and its total, the leader's default view;
- with ``--build``: every statement over ``cases`` of one full build of the district's wall
  snapshot (a new builder: every cache cold), each with its time and the plan's scans only.

For each statement it prints the plan (SQLite: ``EXPLAIN QUERY PLAN``; PostgreSQL: ``EXPLAIN
(ANALYZE, BUFFERS)``) and the median time of ``--runs`` executions on a bare DB-API cursor, so a
plan and its cost can be read side by side (docs/plans.md holds them, trimmed).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from queries.desk import DeskFilters, desk_page
from queries.engine import make_engine
from queries.indicators import indicators, indicators_by_area, repeat_problems
from queries.models import LEVEL_GRID, LEVEL_STREET
from queries.periods import MONTH, Period, parse_period, period_for, previous
from queries.scope import Scope
from settings import Settings
from snapshot.build import make_builder
from snapshot.store import DISTRICT

SCANS = ("SCAN", "SEARCH", "Scan on", "Scan using", "MULTI-INDEX", "TEMP B-TREE")


def captured(engine: Engine, run: Callable[[Session], object]) -> list[tuple[str, Any]]:
    """Run ``run`` in a session; return the statements over ``cases`` it sent, in order."""
    sent: list[tuple[str, Any]] = []

    def grab(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
             _many: bool) -> None:
        if "FROM cases" in statement:
            sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", grab)
    try:
        with Session(engine) as session:
            run(session)
    finally:
        event.remove(engine, "before_cursor_execute", grab)
    return sent


def plan(engine: Engine, statement: str, parameters: Any) -> list[str]:
    """Return the database's plan of one statement, one line per node."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
            rows = cursor.fetchall()
            depth: dict[int, int] = {0: -1}
            lines = []
            for node, parent, _unused, detail in rows:
                depth[node] = depth.get(parent, -1) + 1
                lines.append("  " * depth[node] + detail)
            return lines
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters)
        return [row[0] for row in cursor.fetchall()]
    finally:
        connection.close()


def bare_seconds(engine: Engine, statement: str, parameters: Any, runs: int) -> float:
    """Return the median seconds of running one statement on a bare cursor, rows fetched."""
    connection = engine.raw_connection()
    try:
        seconds = []
        for _ in range(runs):
            cursor = connection.cursor()
            started = time.perf_counter()
            cursor.execute(statement, parameters)
            cursor.fetchall()
            seconds.append(time.perf_counter() - started)
        return statistics.median(seconds)
    finally:
        connection.close()


def reads(month: Period, now: datetime) -> dict[str, Callable[[Session], object]]:
    """Return the reads to explain, by name, each as the app calls it."""
    running = period_for(MONTH, now)

    def month_so_far(session: Session) -> None:
        indicators(session, running, now=now)
        repeat_problems(session, running)

    def district(session: Session) -> None:
        indicators_by_area(session, month, level=LEVEL_STREET, now=now)
        indicators(session, month, now=now)

    return {
        f"grids ({month.token}, every grid)":
            lambda s: indicators_by_area(s, month, level=LEVEL_GRID, now=now),
        f"district view ({month.token})": district,
        f"month so far ({running.token} to {now:%d %H:%M})": month_so_far,
        "desk first block (leader, open cases)":
            lambda s: desk_page(s, scope=Scope.everything(), filters=DeskFilters(),
                                start=0, end=100),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--month", default="", help="YYYY-MM (default: the last whole month)")
    parser.add_argument("--now", default="", help="the clock, YYYY-MM-DDTHH:MM (default: now)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--build", action="store_true",
                        help="also every statement of one full build of the wall snapshot")
    args = parser.parse_args()
    engine = make_engine(args.database_url)
    now = (datetime.fromisoformat(args.now) if args.now
           else datetime.now().replace(second=0, microsecond=0))
    month = parse_period(args.month, now) if args.month else previous(period_for(MONTH, now))
    print(f"{engine.dialect.name}, now {now:%Y-%m-%d %H:%M}")
    for name, run in reads(month, now).items():
        started = time.perf_counter()
        statements = captured(engine, run)
        print(f"\n## {name}: {time.perf_counter() - started:.3f} s through the layer")
        for statement, parameters in statements:
            seconds = bare_seconds(engine, statement, parameters, args.runs)
            head = " ".join(statement.split())[:90]
            print(f"\n-- {seconds * 1000:.1f} ms (median of {args.runs}, bare cursor): {head} …")
            for line in plan(engine, statement, parameters):
                print(line)
    if args.build:
        explain_build(engine, args.database_url, now, args.runs)


def explain_build(engine: Engine, url: str, now: datetime, runs: int) -> None:
    """Print every statement over ``cases`` of one cold build of the district's snapshot."""
    with tempfile.TemporaryDirectory() as data_dir:
        builder = make_builder(sessionmaker(engine), Settings(data_dir=Path(data_dir),
                                                              database_url=url))
        started = time.perf_counter()
        statements = captured(engine, lambda _session: builder(DISTRICT, now))
        print(f"\n## one cold build of the district's snapshot: "
              f"{time.perf_counter() - started:.3f} s, {len(statements)} statements over cases")
    for statement, parameters in statements:
        seconds = bare_seconds(engine, statement, parameters, runs)
        head = " ".join(statement.split())
        head = head[:60] + " … " + head[head.find(" FROM cases"):][:100]
        print(f"\n-- {seconds * 1000:.1f} ms: {head}")
        for line in plan(engine, statement, parameters):
            if any(word in line for word in SCANS):
                print(line.split("  (cost=")[0])


if __name__ == "__main__":
    main()
