"""The grouped indicator query is planned on the period indexes, not as a walk of every case.

Grouped by a column with an index of its own (``ix_cases_grid_id``), SQLite read the whole
table in that index's order to skip a sort: 0.26x the time once it is not (docs/plans.md).
SQLite plans without statistics the same way whatever a table holds, so an empty database
shows the plan a city of a million cases gets. PostgreSQL plans by its statistics (an empty
table is rightly scanned), so there only the statement's shape is checked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event, inspect, text
from sqlalchemy.orm import Session

from ingest.democity import generate
from queries.indicators import indicators_by_area
from queries.models import LEVEL_COMMUNITY, LEVEL_GRID, LEVEL_STREET
from queries.periods import MONTH, period_for

NOW = datetime(2026, 11, 20, 10, 0)
COLUMNS = {LEVEL_STREET: "street_id", LEVEL_COMMUNITY: "community_id", LEVEL_GRID: "grid_id"}


def grouped_statement(engine: Engine, level: str) -> tuple[str, Any]:
    """Return the one grouped statement over cases that ``indicators_by_area`` sends."""
    sent: list[tuple[str, Any]] = []

    def grab(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
             _many: bool) -> None:
        if "FROM cases" in statement and "GROUP BY" in statement:
            sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", grab)
    try:
        with Session(engine) as session:
            indicators_by_area(session, period_for(MONTH, NOW), level=level, now=NOW)
    finally:
        event.remove(engine, "before_cursor_execute", grab)
    assert len(sent) == 1
    return sent[0]


@pytest.mark.parametrize("level", list(COLUMNS))
def test_grouped_query_reads_the_period_indexes(engine: Engine, level: str) -> None:
    statement, parameters = grouped_statement(engine, level)
    column = COLUMNS[level]
    if engine.dialect.name != "sqlite":
        # PostgreSQL hashes the groups from a bitmap of the period indexes: the bare column.
        assert f"GROUP BY cases.{column}" in statement
        return
    assert f"GROUP BY +cases.{column}" in statement
    raw = engine.raw_connection()
    try:
        plan = [row[3] for row in raw.cursor().execute(f"EXPLAIN QUERY PLAN {statement}",
                                                        parameters)]
    finally:
        raw.close()
    assert plan[0] == "MULTI-INDEX OR", plan
    assert not any(line.startswith("SCAN cases") for line in plan), plan
    for index in ("reported_at", "registered_at", "dispatched_at", "handled_at", "closed_at"):
        assert any(f"USING INDEX ix_cases_{index}" in line for line in plan), (index, plan)



def test_generate_leaves_statistics_of_what_it_wrote(engine: Engine) -> None:
    """PostgreSQL: ``generate`` analyses the tables it bulk-loaded (autovacuum's last look was
    mid-load: the month's repeat count was planned as a walk of every repeat link). SQLite
    keeps planning without statistics, as every plan above was measured."""
    generate(engine, cases=300, seed=3, now=NOW)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            assert "sqlite_stat1" not in inspect(conn).get_table_names()
            return
        analysed = dict(conn.execute(text(
            "SELECT relname, last_analyze IS NOT NULL FROM pg_stat_user_tables "
            "WHERE relname IN ('cases', 'case_events')")).all())
    assert analysed == {"cases": True, "case_events": True}
