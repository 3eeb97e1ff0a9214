"""Benchmark the case desk's server-side paging on a view of every case (100k by default).

    python bench/bench_desk.py [--cases 100000] [--db /tmp/gridwatch-bench-desk.sqlite3]
                               [--runs 5]

Generates the demo city (reused while it holds that many cases) and opens the desk's widest
view: every status, the whole city's scope (a leader), then one department's. It times, in
the same run and alternating, what the grid asks for — ``desk_page`` for the first block of
100 rows and for a block 50,000 rows down, each with the view's total — against two
independent baselines:

* the floor: the cheapest page SQLite can give, ``SELECT … FROM cases ORDER BY id LIMIT 100``
  on a bare cursor (primary-key order, no join, no count): what any paging costs at least;
* the whole view: fetching every row of the view into Python, which a grid without
  server-side paging would have to do (``iter_desk_rows``, the export's path).

Quote desk block / floor and whole view / desk block.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from bench_grids import prepare
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from queries.desk import DeskFilters, desk_page, iter_desk_rows
from queries.models import STATUSES, Case
from queries.scope import Scope

BLOCK = 100
DEEP = 50_000


def timed(fn: Callable[[], object], runs: int) -> float:
    """Return the median seconds of ``runs`` calls."""
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--db", type=Path, default=Path("/tmp/gridwatch-bench-desk.sqlite3"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    engine = prepare(args.db, args.cases, args.seed)
    every = DeskFilters(statuses=STATUSES)
    with Session(engine) as session:
        busiest = session.execute(select(Case.department_id, func.count()).where(
            Case.department_id.is_not(None)).group_by(Case.department_id)
            .order_by(func.count().desc()).limit(1)).one()
        scopes = {"city (leader)": Scope.everything(),
                  f"department {busiest[0]}": Scope.department(busiest[0])}
        raw = session.connection().connection.dbapi_connection
        assert raw is not None

        def floor() -> None:
            raw.execute("SELECT id, external_id, status, deadline_at FROM cases ORDER BY id "
                        f"LIMIT {BLOCK}").fetchall()

        for name, scope in scopes.items():
            first = desk_page(session, scope=scope, filters=every, start=0, end=BLOCK)
            whole = list(iter_desk_rows(session, scope=scope, filters=every))
            assert whole[:BLOCK] == first.rows and len(whole) == first.total  # same view
            deep = min(DEEP, max(0, first.total - BLOCK))
            t_floor = timed(floor, args.runs)
            t_first = timed(lambda s=scope: desk_page(session, scope=s, filters=every,
                                                      start=0, end=BLOCK), args.runs)
            t_deep = timed(lambda s=scope, d=deep: desk_page(session, scope=s, filters=every,
                                                             start=d, end=d + BLOCK), args.runs)
            t_whole = timed(lambda s=scope: list(iter_desk_rows(session, scope=s,
                                                                filters=every)), args.runs)
            print(f"{name}: {first.total:,} cases in view")
            print(f"  first block {t_first * 1000:7.1f} ms = {t_first / t_floor:6.1f}× the floor "
                  f"({t_floor * 1000:.2f} ms); the whole view takes {t_whole / t_first:5.1f}× "
                  f"the first block ({t_whole * 1000:.0f} ms)")
            print(f"  block at {deep:,} {t_deep * 1000:7.1f} ms = {t_deep / t_floor:6.1f}× the "
                  f"floor; the whole view takes {t_whole / t_deep:5.1f}× it")


if __name__ == "__main__":
    main()
