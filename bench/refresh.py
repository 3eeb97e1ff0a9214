"""Benchmark the refresh: a full build and the tick after a few changed cases, against the floor.

Prints, for one city (a SQLite file generated into ``--workdir`` once, or the database at
``--database-url``, e.g. PostgreSQL, generated into when empty):

- **full refresh**: a new builder (nothing remembered in the process, finished months kept in
  the database) builds the district's snapshot; floor: ``bench_screen.cold_floor``, the same
  data fetched by SQL written by hand (bench/floors.py, both dialects);
- **tick, nothing changed**: the scheduler's next build one interval (``--interval``, 60 s)
  later on a simulated clock, so the caches that last a minute (the month so far, the ranking)
  expire as in service and the past days (five minutes) mostly do not; floor: ``tick_floor``;
- **tick after K changed cases** (``--changes``, default 100): K open cases change (half are
  closed, half move on to 处置中) in one commit, then the next tick — the oldest open cases
  (the backlog, each dirtying an old month: the worst case), or with ``--newest`` the latest
  (most of a city's writes: this month's and last month's); each tick's snapshot is
  checked against the floor, so the figures are right as well as fast.

Each figure is the median of ``--repeat`` runs, printed with the floor measured in the same run
and their ratio (the figure to quote). Goals (issue 13): full ≤ 1.3× the floor; the tick after
≤ 100 changed cases ≤ 50 ms on 1M cases.

Run: ``PYTHONPATH=. python bench/refresh.py --cases 200000`` (SQLite), or with
``--database-url postgresql+psycopg://…`` (the city is generated there when it holds none).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as dtime
from functools import partial
from pathlib import Path
from typing import Any

import floors
from bench_screen import check_floor, city, cold_floor, median_seconds, steady_floor
from sqlalchemy import Engine, func, select, update

from ingest.democity import generate
from queries.engine import init_db, make_engine, make_session_factory
from queries.models import OPEN_STATUSES, STATUS_CLOSED, STATUS_HANDLING, Case
from queries.rules import load_rules
from settings import Settings
from snapshot.build import make_builder
from snapshot.cache import SharedCache
from snapshot.store import DISTRICT, Snapshot


def database(args: argparse.Namespace) -> tuple[Engine, Settings]:
    """Open the benchmark's city, generating it when missing (SQLite) or empty (any URL)."""
    url = args.database_url or f"sqlite:///{city(args.workdir, args.cases, args.seed)}"
    engine = make_engine(url)
    init_db(engine)  # a city file from an older schema is migrated
    if args.database_url:
        with engine.connect() as conn:
            empty = not conn.scalar(select(func.count()).select_from(Case))
        if empty:
            started = time.perf_counter()
            generate(engine, cases=args.cases, seed=args.seed, progress=True)
            print(f"  generated {args.cases:,} cases in {time.perf_counter() - started:.0f} s")
    return engine, Settings(data_dir=args.workdir, database_url=url)


def change_cases(engine: Engine, count: int, now: datetime, *, newest: bool = False) -> int:
    """Change ``count`` open cases in one commit: the oldest half closed, the rest 处置中.

    The oldest open cases by default (the backlog: each dirties an old month, the worst
    case), or with ``newest`` the latest (most of a city's writes: this month's and last's).
    """
    with engine.begin() as conn:
        order = Case.id.desc() if newest else Case.id
        ids = sorted(conn.scalars(select(Case.id).where(Case.status.in_(OPEN_STATUSES))
                                  .order_by(order).limit(count)))
        half = len(ids) // 2
        conn.execute(update(Case).where(Case.id.in_(ids[:half])).values(
            status=STATUS_CLOSED, handled_at=func.coalesce(Case.handled_at, now),
            closed_at=now))
        conn.execute(update(Case).where(Case.id.in_(ids[half:])).values(
            status=STATUS_HANDLING, dispatched_at=func.coalesce(Case.dispatched_at, now)))
    return len(ids)


def timed(fn: Callable[[], Snapshot]) -> tuple[float, Snapshot]:
    started = time.perf_counter()
    snapshot = fn()
    return time.perf_counter() - started, snapshot


@dataclass
class Ticks:
    """The clock of the builder's caches, moved one refresh interval per tick: the month so
    far and the ranking are remembered for a minute, so in service every 60-second tick
    recomputes them, and so must the benchmark's."""

    seconds: float = 0.0

    def __call__(self) -> float:
        return self.seconds


def tick_floor(engine: Engine, now: datetime) -> None:
    """Fetch by hand what a tick reads when its minute is new: ``steady_floor``, the month so
    far and last month's same span (the rate tiles), the current month's assessment cases."""
    steady_floor(engine, now)
    day = datetime.combine(now.date(), dtime.min)
    month_start = day.replace(day=1)
    before = (month_start - timedelta(days=1)).replace(day=1)
    month_end = (month_start + timedelta(days=32)).replace(day=1)
    with engine.connect() as conn:
        floors.counts(conn, month_start, month_end, now)
        floors.counts(conn, before, before + (now - month_start), now)
        floors.repeats(conn, month_start, month_end)
        floors.assessment_rows(conn, month_start - timedelta(days=load_rules().repeat.history_days),
                               month_end)


def measure(engine: Engine, settings: Settings, repeat: int, changes: int,
            interval: int, *, newest: bool = False) -> dict[str, Any]:
    """Return every figure of the run (seconds, and the cases changed per tick)."""
    start = datetime.now().replace(microsecond=0)
    sessions = make_session_factory(engine)
    clock = Ticks()
    defaults = SharedCache.__init__.__kwdefaults__
    saved, defaults["timer"] = defaults["timer"], clock
    figures: dict[str, Any] = {}
    try:
        first, _ = timed(lambda: make_builder(sessions, settings)(DISTRICT, start))
        figures["first build (kept months computed if missing)"] = first
        figures["full"] = median_seconds(
            lambda: make_builder(sessions, settings)(DISTRICT, start), repeat)
        figures["full floor"] = median_seconds(lambda: cold_floor(engine, start), repeat)
        builder = make_builder(sessions, settings)
        builder(DISTRICT, start)
        ticks: dict[str, list[float]] = {"tick": [], "tick floor": [], "tick after changes": [],
                                         "tick after changes floor": []}
        changed = []
        for i in range(1, 2 * repeat + 1):
            clock.seconds += interval
            now = start + timedelta(seconds=i * interval)
            key = "tick"
            if i > repeat:  # the second half: K cases changed since the last tick
                key = "tick after changes"
                changed.append(change_cases(engine, changes, now - timedelta(seconds=1),
                                            newest=newest))
            seconds, snapshot = timed(partial(builder, DISTRICT, now))
            ticks[key].append(seconds)
            check_floor(snapshot, cold_floor(engine, now))
            ticks[f"{key} floor"].append(median_seconds(partial(tick_floor, engine, now), 1))
    finally:
        defaults["timer"] = saved
    figures.update({key: statistics.median(values) for key, values in ticks.items()})
    figures["changed"] = min(changed)
    return figures


def report(label: str, figures: dict[str, Any]) -> None:
    """Print the figures, each beside its floor and their ratio."""
    print(label)
    print(f"  first build (kept months computed if missing): "
          f"{figures['first build (kept months computed if missing)'] * 1000:,.0f} ms")
    rows = [("full refresh (new process, months kept)", "full", "full floor"),
            ("tick, nothing changed", "tick", "tick floor"),
            (f"tick after {figures['changed']} changed cases", "tick after changes",
             "tick after changes floor")]
    for name, key, floor in rows:
        ratio = figures[key] / figures[floor] if figures[floor] else float("nan")
        print(f"  {name}: {figures[key] * 1000:,.0f} ms, floor {figures[floor] * 1000:,.0f} ms,"
              f" ratio {ratio:.2f}×")
    print(f"  goals: full ≤ 1.3× the floor "
          f"({'met' if figures['full'] <= 1.3 * figures['full floor'] else 'not met'}); "
          f"after ≤ 100 changes ≤ 50 ms "
          f"({'met' if figures['tick after changes'] <= 0.05 else 'not met'})")


def main() -> None:
    """Parse the arguments and print every figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--database-url", default="", help="default: a SQLite file in workdir")
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--interval", type=int, default=60, help="seconds between ticks")
    parser.add_argument("--newest", action="store_true",
                        help="change the newest open cases, not the oldest (the backlog)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/gridwatch-bench"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    engine, settings = database(args)
    try:
        which = "newest" if args.newest else "oldest"
        report(f"{engine.dialect.name}, {args.cases:,} cases, the {which} open cases changed",
               measure(engine, settings, args.repeat, args.changes, args.interval,
                       newest=args.newest))
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
