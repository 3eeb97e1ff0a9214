"""Which cases were written since a reader last looked, found by ``cases.updated_at``.

Every in-process cache of the case table (the day checksums of kept months, the loaded case
columns of the assessment, the settled parts of running periods) keeps itself right the same
way, so they share this one look: the ids of the cases whose ``updated_at`` (UTC, stamped on
every insert and every UPDATE SQLAlchemy sends and by the bulk writers, indexed) is at or after
the last look less ``MARGIN``. A reader that gets ``None`` reads again everything it keeps
(the day checksums compare each row with the kept one; the others drop theirs):

- at its first look;
- every ``BACKSTOP_SECONDS``, so rows written by a tool that keeps no updated-at (SQL by hand,
  a hard delete, a view over a city's own platform) are seen within that time;
- when no case has an updated-at at all (such a view): nothing can be kept;
- when more cases were written than ``limit`` (a bulk import): reading everything again is
  cheaper than patching that many.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from queries.models import Case, written_at

# How far back from the last look a write is still sought: a write stamped this long before it
# committed (a long transaction), or by a machine whose clock is behind by up to this much.
MARGIN = timedelta(minutes=2)
# Everything is read again this often whatever ``updated_at`` says.
BACKSTOP_SECONDS = 600.0
# Past this many written cases since the last look (a bulk import) a reader reads all again.
MAX_CHANGES = 10_000
# Ids sent in one ``IN (...)``: well inside every backend's limit on bound parameters.
IDS_PER_STATEMENT = 1_000


class WrittenSince:
    """One reader's looks at the case table: the cases written since the previous look."""

    def __init__(self, *, limit: int, backstop_seconds: float = BACKSTOP_SECONDS,
                 margin: timedelta = MARGIN,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._backstop, self._margin, self._monotonic = backstop_seconds, margin, monotonic
        self._seen: datetime | None = None  # written_at() at the last look
        self._full_at: float | None = None
        self.kept_at_all = True  # False while no case keeps an updated-at

    def look(self, session: Session) -> list[int] | None:
        """Return the ids written since the last look, or None: forget everything kept.

        Call it before reading any row the reader keeps, so a write committed in between is
        found by the next look. A reader whose work after a look fails drops all it keeps: the
        changes the look found are not found again.
        """
        clock = written_at()
        kept_at_all = session.scalar(select(func.max(Case.updated_at))) is not None
        due = self._full_at is None or self._monotonic() - self._full_at >= self._backstop
        changed: list[int] | None = None
        if kept_at_all and not due and self._seen is not None:
            changed = list(session.scalars(select(Case.id).where(
                Case.updated_at >= self._seen - self._margin).limit(self.limit + 1)))
            if len(changed) > self.limit:
                changed = None
        if changed is None:
            self._full_at = self._monotonic()
        self._seen, self.kept_at_all = clock, kept_at_all
        return changed
