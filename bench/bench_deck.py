"""Time ``gridwatch report`` (the monthly deck) end to end, optionally against another checkout.

Each run is a new process, as a leader's command is: importing, reading the month, drawing
the charts and writing the PPTX all count. With ``--before DIR`` (a checkout of the baseline,
e.g. ``git worktree add /tmp/deckbase main``) the two trees run alternately under the same
load, and each pair of decks must hold the same parts, byte for byte, apart from the minutes
in the title slide's 生成于 / 计算于 (the clock moved between them).

    TZ=Asia/Shanghai python -u bench/bench_deck.py --db /tmp/deckbig/city-1000000.sqlite3 \\
        --month 2026-11 --before /tmp/deckbase --repeat 3

The city comes from ``bench_screen.city`` (1M cases: about 2 min). The first report of a month
computes the kept months it walks back through; one untimed run per tree does that first.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
MINUTE = re.compile(rb"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")


def report(tree: Path, db: Path, month: str, out: Path) -> float:
    """Run the tree's ``gridwatch report`` in a new process; return its wall time in seconds."""
    env = {**os.environ, "GRIDWATCH_DATABASE_URL": f"sqlite:///{db}"}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import cli; cli.main()", "report", "--month", month,
                    "--output", str(out)], cwd=tree, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def differing_parts(first: Path, second: Path) -> list[str]:
    """Return the parts of two decks that differ, the title slide's minutes left out."""
    with zipfile.ZipFile(first) as a, zipfile.ZipFile(second) as b:
        names = sorted(set(a.namelist()) | set(b.namelist()))
        return [n for n in names if n not in a.namelist() or n not in b.namelist()
                or MINUTE.sub(b"", a.read(n)) != MINUTE.sub(b"", b.read(n))]


def main() -> None:
    """Parse the arguments, run the reports alternately and print medians and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="the city's SQLite file")
    parser.add_argument("--month", required=True)
    parser.add_argument("--before", type=Path, help="a checkout of the baseline to run alternately")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    trees = {"after": HERE} | ({"before": args.before.resolve()} if args.before else {})
    times: dict[str, list[float]] = {name: [] for name in trees}
    with tempfile.TemporaryDirectory() as work:
        decks = {name: Path(work) / f"{name}.pptx" for name in trees}
        for name, tree in trees.items():
            report(tree, args.db, args.month, decks[name])  # the kept months, if missing
        for n in range(args.repeat):
            for name, tree in (trees.items() if n % 2 else reversed(trees.items())):
                times[name].append(report(tree, args.db, args.month, decks[name]))
                print(f"  {name}: {times[name][-1]:.1f} s", flush=True)
            if args.before:
                differ = differing_parts(decks["before"], decks["after"])
                print("  decks: the same parts" if not differ else f"  decks DIFFER: {differ}")
    print(f"{args.db.name}, {args.month}, median of {args.repeat}:")
    for name, values in times.items():
        print(f"  {name:6s} {statistics.median(values):5.1f} s  "
              f"({', '.join(f'{v:.1f}' for v in values)})")
    if args.before:
        ratio = statistics.median(times["after"]) / statistics.median(times["before"])
        print(f"  ratio after / before = {ratio:.2f}")


if __name__ == "__main__":
    main()
