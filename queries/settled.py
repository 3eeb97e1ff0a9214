"""The settled part of a running period's indicators, read once a day instead of every refresh.

A running period's measures (``queries.indicators._measures``) split over two disjoint sets of
cases, and every measure is a count or a sum, so the period's figures are the two parts added:

- **settled** before the cutoff ``T`` (the start of the day that holds ``now`` minus the
  on-time dispatch limit): closed or cancelled, with every stage time (reported, registered,
  dispatched, handled, closed, cancelled) before ``T``. For such a case every condition of the
  measures has the same value at every ``now`` in the running period after ``T``: its times lie
  before as of, it is not open, so no deadline or age can turn (``on_time`` compares two of its
  own times), and it was registered before ``now`` minus the dispatch limit. Read once per
  cutoff and grouping, kept by the process;
- **live**: every other case (open, or with a time at or after ``T``), read each refresh by the
  same SQL with the live condition added: the open cases and the day's, found by the indexes
  on each stage time.

The settled part is kept right as ``DayCache`` keeps its rows: each use looks for cases written
since the last look (``cases.updated_at``, indexed). A changed case that was one of the settled
part's (its id is remembered) or is settled now (a backdated import) drops every kept part, so
a reopened, corrected or late-imported case is counted from its new row; any other change is
the live part's, read anyway. Writes that keep no updated-at (SQL by hand, a hard delete, a
view) are caught by dropping everything every ``BACKSTOP_SECONDS``; with no updated-at at all
nothing is kept. tests/test_settled.py checks
every indicator against the plain scan on the hand-built city and on randomised histories.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from queries.changes import (
    BACKSTOP_SECONDS,
    IDS_PER_STATEMENT,
    MARGIN,
    MAX_CHANGES,
    WrittenSince,
)
from queries.models import Case

Rows = dict[Any, Mapping[str, Any]]
_TIMES = ("reported_at", "registered_at", "dispatched_at", "handled_at", "closed_at",
          "cancelled_at")


class Unindexed(FunctionElement[Any]):
    """A column the database must not read through its index (SQLite: ``+column``).

    SQLite's planner takes any indexed column it can: grouped by a bare column that has an
    index (``ix_cases_grid_id``) it walks that index to get the groups in order and so reads
    every case of the history, and given ``registered_at IS NULL OR registered_at < T`` (the
    settled test) it walks every case registered before ``T``. The unary ``+`` disqualifies
    the column from index use (SQLite's documented way), so the period indexes find the rows:
    0.26x the time for every grid's month at 200,000 cases (docs/plans.md). PostgreSQL plans
    a bitmap of the period indexes either way: there it is the bare column.
    """

    name = "unindexed"
    inherit_cache = True

    def __init__(self, column: Any) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(Unindexed)
def _unindexed_default(element: Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(Unindexed, "sqlite")
def _unindexed_sqlite(element: Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"


def cutoff(now: datetime, dispatch_limit: timedelta) -> datetime:
    """Return ``T``: the start of the day that holds ``now - dispatch_limit``."""
    moment = now - dispatch_limit
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def settled_before(moment: datetime) -> ColumnElement[bool]:
    """Closed or cancelled, with every stage time before ``moment``.

    Its columns are ``Unindexed``: each term holds for nearly the whole history, so an index
    walk on one of them reads it all; the period's own terms choose the rows.
    """
    c = Case

    def at(name: str) -> Any:
        return Unindexed(getattr(c, name))

    return and_(
        or_(at("closed_at").is_not(None), at("cancelled_at").is_not(None)),
        *(or_(at(name).is_(None), at(name) < moment) for name in _TIMES),
    )


def live_after(moment: datetime) -> ColumnElement[bool]:
    """Every case not ``settled_before(moment)``, as an OR each of whose terms an index drives."""
    c = Case
    return or_(and_(c.closed_at.is_(None), c.cancelled_at.is_(None)),
               *(getattr(c, name) >= moment for name in _TIMES))


def add_rows(settled: Rows, live: Rows) -> Rows:
    """Add two parts' rows of measures group by group (a group missing from one adds zeros)."""
    total: Rows = {}
    for key in settled.keys() | live.keys():
        a, b = settled.get(key, {}), live.get(key, {})
        total[key] = {name: (a.get(name) or 0) + (b.get(name) or 0)
                      for name in a.keys() | b.keys()}
    return total


class SettledParts:
    """The settled parts a process keeps, by statement, for one cutoff at a time.

    ``computed`` counts the settled parts read, for the tests and benchmarks.
    """

    def __init__(self, *, backstop_seconds: float = BACKSTOP_SECONDS, margin: timedelta = MARGIN,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.computed = 0
        self.lock = threading.Lock()
        self._parts: dict[Any, Rows] = {}
        self._ids: set[int] = set()
        self._cutoff: datetime | None = None
        self._changes = WrittenSince(limit=MAX_CHANGES, backstop_seconds=backstop_seconds,
                                     margin=margin, monotonic=monotonic)

    def rows(self, session: Session, key: Any, moment: datetime,
             read: Callable[[ColumnElement[bool]], Rows],
             ids: Callable[[ColumnElement[bool]], set[int]]) -> Rows:
        """Return the period's rows: the kept settled part (read when missing) plus the live.

        ``read(extra)`` runs the measures' statement with ``extra`` in its WHERE; ``ids(extra)``
        the ids of the cases it would read.
        """
        with self.lock:
            keep = self._sync(session, moment)
            settled = self._parts.get(key) if keep else None
            if settled is None:
                condition = settled_before(moment)
                # The ids before the read, after the look: a case that leaves the part later
                # (reopened, even between the two statements under READ COMMITTED) is one of
                # them and is written, so the next look drops the part; one that joins it
                # after the ids were read is written and settled, which drops it too.
                members = ids(condition) if keep else set()
                settled = read(condition)
                self.computed += 1
                if keep:
                    self._ids.update(members)
                    self._parts[key] = settled
        return add_rows(settled, read(live_after(moment)))

    def _sync(self, session: Session, moment: datetime) -> bool:
        """Drop what changes made stale; return whether parts may be kept at all."""
        changed = self._changes.look(session)
        if not self._changes.kept_at_all:
            self._drop(moment)
            return False
        try:
            # Stale when a written case was in a kept part (its old row is counted there), or
            # is settled now (a backdated import, a case cancelled and backdated): in neither
            # part until the parts are read again.
            if (changed is None or moment != self._cutoff or not self._ids.isdisjoint(changed)
                    or self._any_settled(session, changed, moment)):
                self._drop(moment)
        except BaseException:  # the changes the look found would be lost: keep nothing
            self._drop(moment)
            raise
        return True

    @staticmethod
    def _any_settled(session: Session, ids: list[int], moment: datetime) -> bool:
        return any(session.scalar(select(Case.id).where(
            Case.id.in_(ids[i:i + IDS_PER_STATEMENT]), settled_before(moment)).limit(1))
            is not None for i in range(0, len(ids), IDS_PER_STATEMENT))

    def _drop(self, moment: datetime) -> None:
        self._parts.clear()
        self._ids.clear()
        self._cutoff = moment
