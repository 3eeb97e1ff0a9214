"""Benchmark ``gridwatch generate``: the bulk load against the former way and a bare insert.

    python bench/bench_generate.py [--cases 100000] [--seed 42]

In a temporary folder, three fresh SQLite databases (``init_db``: every table and index):

- **old**: ``generate(bulk=False)``, the former way: one transaction, the 14 indexes of
  ``cases`` and ``case_events`` kept current row by row;
- **new**: ``generate()``, the bulk load: those indexes dropped while the tables fill and
  built at the end, one transaction per chunk of 20,000 cases;
- **floor**: the rows the new run wrote, read back, then one bare ``executemany`` per table
  into index-less copies of the same tables, in one transaction (no drawing, no indexes).

Both runs are checked to write the same rows (row counts and a SHA-256 per table), then the
seconds and the ratios are printed. The floor has no random drawing or lifecycle work, so the
ratio over it counts that work too.
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import MetaData, create_engine, select

from ingest.democity import WRITTEN, generate
from queries.engine import init_db, make_engine

NOW = datetime(2026, 11, 30, 12, 0)


def timed_generate(path: Path, cases: int, seed: int, bulk: bool) -> float:
    engine = make_engine(f"sqlite:///{path}", statement_timeout=3600)
    init_db(engine)
    began = time.perf_counter()
    generate(engine, cases=cases, seed=seed, now=NOW, bulk=bulk)
    seconds = time.perf_counter() - began
    engine.dispose()
    return seconds


def fingerprint(path: Path) -> dict[str, tuple[int, str]]:
    """Each written table's row count and a SHA-256 of its rows in id order, without the
    database's write time (``cases.updated_at``, revision 0006), which differs between runs."""
    engine = make_engine(f"sqlite:///{path}")
    out = {}
    with engine.connect() as conn:
        for table in WRITTEN:
            digest = hashlib.sha256()
            count = 0
            columns = [c for c in table.c if c.name != "updated_at"]
            for row in conn.execute(select(*columns).order_by(table.c.id)):
                digest.update(repr(tuple(row)).encode())
                count += 1
            out[table.name] = (count, digest.hexdigest())
    engine.dispose()
    return out


def floor(source: Path, target: Path) -> float:
    """Time a bare executemany of ``source``'s written rows into index-less tables."""
    bare = MetaData()
    for table in reversed(WRITTEN):
        copy = table.to_metadata(bare)
        copy.indexes.clear()
        copy.foreign_keys.clear()
        copy.constraints = {c for c in copy.constraints if c is copy.primary_key}
    engine = create_engine(f"sqlite:///{target}")
    bare.create_all(engine)
    engine.dispose()
    src = sqlite3.connect(source)
    data = {t.name: src.execute(f"SELECT * FROM {t.name}").fetchall() for t in WRITTEN}
    src.close()
    dst = sqlite3.connect(target)
    dst.execute("PRAGMA journal_mode=WAL")
    dst.execute("PRAGMA synchronous=NORMAL")
    began = time.perf_counter()
    with dst:
        for name, rows in data.items():
            if rows:
                marks = ",".join("?" * len(rows[0]))
                dst.executemany(f"INSERT INTO {name} VALUES ({marks})", rows)
    seconds = time.perf_counter() - began
    dst.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        old_db, new_db = Path(folder) / "old.sqlite3", Path(folder) / "new.sqlite3"
        old = timed_generate(old_db, args.cases, args.seed, bulk=False)
        new = timed_generate(new_db, args.cases, args.seed, bulk=True)
        same = fingerprint(old_db) == fingerprint(new_db)
        bare = floor(new_db, Path(folder) / "floor.sqlite3")
        rows = sum(count for count, _ in fingerprint(new_db).values())
    print(f"generate --cases {args.cases:,}: {rows:,} rows; same rows both ways: {same}")
    print(f"  old (one transaction, indexes live): {old:7.2f} s  {old / bare:5.2f}× floor")
    print(f"  new (bulk load, indexes after)     : {new:7.2f} s  {new / bare:5.2f}× floor")
    print(f"  floor (bare executemany)           : {bare:7.2f} s")
    print(f"  new / old = {new / old:.2f}×")
    if not same:
        raise SystemExit("the two ways wrote different rows")


if __name__ == "__main__":
    main()
