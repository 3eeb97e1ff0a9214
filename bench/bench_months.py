"""Benchmark kept months: the district snapshot's build time with and without them, same run.

The wall shows the last finished month for the first ``ranking.min_days`` days of a month, and
its bottom-of-group streak walks back through the unpublished months before it: without kept
months every cold build (once a minute) loads those months' cases and runs repeat detection on
each. ``now`` is therefore the 2nd of the month (the finished month shown). Each timed build is
a new builder (nothing remembered in the process); "kept" builds read the finished months kept
by one earlier build. Prints the medians and their ratio.

Run: ``python bench/bench_months.py`` (a 30,000-case city generated into ``--workdir`` once and
reused), or ``--cases N``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime
from pathlib import Path

from bench_screen import city
from sqlalchemy import delete

from queries.engine import make_engine, make_session_factory
from queries.kept_months import KeptMonths
from queries.models import KeptMonth
from queries.rules import load_rules
from settings import Settings
from snapshot.build import make_builder
from snapshot.ranking import assessment_ranking
from snapshot.store import DISTRICT


def main() -> None:
    """Time cold district builds with kept months and without, and print the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=30_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/gridwatch-bench"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    path = city(args.workdir, args.cases, args.seed)
    settings = Settings(data_dir=path.parent, database_url=f"sqlite:///{path}")
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    now = datetime.now().replace(day=2, hour=10, minute=0, second=0, microsecond=0)
    with sessions.begin() as session:
        session.execute(delete(KeptMonth))
    snapshots = []

    def timed(keep: bool) -> float:
        builder = make_builder(sessions, settings, keep_months=keep)
        started = time.perf_counter()
        snapshots.append(builder(DISTRICT, now).payload["ranking"])
        return time.perf_counter() - started

    first = timed(True)  # computes and keeps the finished months
    live, kept = [], []
    for _ in range(args.repeat):  # interleaved, so the machine's load falls on both alike
        live.append(timed(False))
        kept.append(timed(True))
    assert all(s == snapshots[0] for s in snapshots), "kept and live rankings differ"
    rules, store = load_rules(settings.rules_file or None), KeptMonths(sessions)

    def ranking(kept: KeptMonths | None) -> float:
        with sessions() as session:
            started = time.perf_counter()
            assessment_ranking(session, now, rules, kept)
            return time.perf_counter() - started

    alone: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(args.repeat):
        alone[False].append(ranking(None))
        alone[True].append(ranking(store))
    live_s, kept_s = statistics.median(live), statistics.median(kept)
    rank_live, rank_kept = (statistics.median(alone[k]) for k in (False, True))
    print(
        f"{args.cases:,} cases, district snapshot at {now:%Y-%m-%d %H:%M} "
        f"(shows {snapshots[0]['month']}), medians of {args.repeat} cold builds:"
    )
    print(f"  snapshot without kept months {live_s * 1000:9.1f} ms")
    print(
        f"  snapshot with kept months    {kept_s * 1000:9.1f} ms   (first build, keeping "
        f"them: {first * 1000:.1f} ms)"
    )
    print(f"  ratio kept / live            {kept_s / live_s:9.3f} ×")
    print(
        f"  the ranking alone: {rank_live * 1000:.1f} ms live, {rank_kept * 1000:.1f} ms "
        f"kept, ratio {rank_kept / rank_live:.3f} ×"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
