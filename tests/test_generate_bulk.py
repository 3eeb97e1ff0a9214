"""``generate`` bulk-loads: indexes built after the rows, bounded transactions, same city.

The bulk way (the default) and the former way (one transaction, indexes live) must write the
same rows; afterwards every index of the model exists; a failed run leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, inspect, select

from ingest import democity
from ingest.democity import DEFERRED_INDEXES, WRITTEN, generate
from queries.models import Area, Case, CaseEvent
from tests.tools import fresh_sqlite

NOW = datetime(2026, 11, 23, 10, 0)
CASES = 2_500
SEED = 7


def fingerprint(engine: Engine) -> dict[str, tuple[int, str]]:
    """Each written table's row count and a SHA-256 of its rows in id order (without the
    database's write time, ``cases.updated_at``, which differs between two runs)."""
    out = {}
    with engine.connect() as conn:
        for table in WRITTEN:
            digest = hashlib.sha256()
            columns = [c for c in table.c if c.name != "updated_at"]
            rows = conn.execute(select(*columns).order_by(table.c.id)).all()
            for row in rows:
                digest.update(repr(tuple(row)).encode())
            out[table.name] = (len(rows), digest.hexdigest())
    return out


def index_names(engine: Engine, table: str) -> set[str]:
    return {str(i["name"]) for i in inspect(engine).get_indexes(table)}


def test_bulk_and_one_transaction_write_the_same_city(tmp_path: Path) -> None:
    bulk, single = (
        fresh_sqlite(tmp_path / "bulk.sqlite3"),
        fresh_sqlite(tmp_path / "single.sqlite3"),
    )
    generate(bulk, cases=CASES, seed=SEED, now=NOW)
    generate(single, cases=CASES, seed=SEED, now=NOW, bulk=False)
    got = fingerprint(bulk)
    assert got == fingerprint(single)
    for engine in (bulk, single):  # the driver's executemany stamps the write time itself
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(Case.__table__).where(
                Case.updated_at.is_(None))) == 0
    assert got["cases"][0] == CASES and got["case_events"][0] > CASES
    for table in ("cases", "case_events"):
        assert index_names(bulk, table) == index_names(single, table)
    assert {str(i.name) for i in DEFERRED_INDEXES} <= (
        index_names(bulk, "cases") | index_names(bulk, "case_events")
    )
    # 16 on cases (section_id, updated_at and cancelled_at among them), case_events.case_id, .at
    assert len(DEFERRED_INDEXES) == 18


def test_each_chunk_of_cases_is_its_own_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = fresh_sqlite(tmp_path / "chunks.sqlite3")
    monkeypatch.setattr(democity, "CHUNK", 500)
    commits: list[int] = []
    event.listen(engine, "commit", lambda conn: commits.append(1))
    generate(engine, cases=CASES, seed=SEED, now=NOW)
    # index drop, areas, 5 chunks, repeat links, the rest, the index build
    assert len(commits) >= CASES // 500 + 3
    commits.clear()
    single = fresh_sqlite(tmp_path / "single.sqlite3")
    event.listen(single, "commit", lambda conn: commits.append(1))
    generate(single, cases=CASES, seed=SEED, now=NOW, bulk=False)
    assert len(commits) == 1


def test_a_failed_load_leaves_the_database_empty_with_its_indexes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = fresh_sqlite(tmp_path / "failed.sqlite3")
    before = fingerprint(engine)
    indexes = index_names(engine, "cases")

    def broken(*_args: Any) -> None:
        raise KeyboardInterrupt  # Ctrl+C after the cases were committed

    monkeypatch.setattr(democity, "_write_volunteers", broken)
    with pytest.raises(KeyboardInterrupt):
        generate(engine, cases=CASES, seed=SEED, now=NOW)
    assert fingerprint(engine) == before
    assert index_names(engine, "cases") == indexes
    monkeypatch.undo()
    generate(engine, cases=100, seed=SEED, now=NOW)  # the next run finds it empty
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Case.__table__)) == 100
        assert conn.scalar(select(func.count()).select_from(CaseEvent.__table__)) > 100
        assert conn.scalar(select(func.count()).select_from(Area.__table__)) > 0


@pytest.mark.parametrize("other_open", [False, True])
def test_the_load_puts_wal_and_the_connection_settings_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, other_open: bool
) -> None:
    """The load runs with a rollback journal, foreign keys and flushes off; afterwards the file
    is in WAL and the connection has the app's settings again. With another connection open
    the journal cannot be switched: the load stays in WAL, without waiting for the lock."""
    path = tmp_path / "load.sqlite3"
    engine = fresh_sqlite(path)
    during: list[tuple[Any, ...]] = []
    write_volunteers = democity._write_volunteers

    def watched(conn: Any, *args: Any) -> Any:
        during.append(tuple(conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                            for name in ("journal_mode", "foreign_keys", "synchronous")))
        return write_volunteers(conn, *args)

    monkeypatch.setattr(democity, "_write_volunteers", watched)
    other = sqlite3.connect(path)
    other.execute("SELECT count(*) FROM areas").fetchall()
    if not other_open:
        other.close()
    try:
        generate(engine, cases=300, seed=SEED, now=NOW)
    finally:
        other.close()
    assert during == [("wal" if other_open else "delete", 0, 0)]
    assert engine.pool.checkedin() == 1  # type: ignore[attr-defined]  # the one just used
    with engine.connect() as conn:
        settings = [conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                    for name in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")]
        assert settings == ["wal", 1, 1, 30_000]
        assert conn.scalar(select(func.count()).select_from(Case.__table__)) == 300
