"""The snapshot shared by several serving processes: one scheduler builds, every worker reads.

Under ``gridwatch serve --workers N`` (gunicorn) the workers run no jobs and never build. The
one scheduler process (the ``serve`` command itself, or ``gridwatch scheduler``) builds every
watched area once per interval and writes it to the ``snapshots`` table (``SnapshotPublisher``);
each worker (``SharedSnapshots``) reads the table's small state columns at most every
``check_seconds`` and an area's body only when its version changed. So every worker serves the
same version, and the database does one build per area per interval, however many workers,
walls or viewers there are: a poll costs no statement, a check one per worker.

A worker asks for an area (a street's wall) by stamping ``requested_at`` through the write
connection; the scheduler builds newly asked areas within ``NEW_AREA_SECONDS`` and drops areas
nobody asked for in ``IDLE_INTERVALS`` intervals, as the in-process store does.
"""

from __future__ import annotations

import gzip
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import orjson
from sqlalchemy import CursorResult, delete, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from queries.engine import error_reason
from queries.models import SharedSnapshot
from snapshot.jobs import Repeating, repeat_in_thread
from snapshot.store import (
    DISTRICT,
    IDLE_INTERVALS,
    AreaStatus,
    Builder,
    Failure,
    Snapshot,
    attempt,
    poll_stamp,
)

log = logging.getLogger(__name__)

NEW_AREA_SECONDS = 2  # how soon the scheduler builds an area a worker asked for the first time
CHECK_SECONDS = 2.0  # how often a worker reads the table's state (one statement)
AREA_KEY_LENGTH = 64  # SharedSnapshot.area_code


def utc_now() -> datetime:
    """The real UTC time, naive (as the table stores it): the stale badge's clock."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def encode(snapshot: Snapshot) -> bytes:
    """Serialise a snapshot for the table: its JSON parts, then the map layers' bytes as-is."""
    head = orjson.dumps({
        "payload": snapshot.payload, "sections": snapshot.sections, "version": snapshot.version,
        "map_version": snapshot.map_version, "built_at": snapshot.built_at.isoformat(),
        "parts": [len(snapshot.map_geojson), len(snapshot.boundaries),
                  len(snapshot.density_geojson)],
    }, option=orjson.OPT_NON_STR_KEYS)
    raw = b"\n".join([head, snapshot.map_geojson + snapshot.boundaries + snapshot.density_geojson])
    return gzip.compress(raw, compresslevel=6)


def decode(area_code: str, body: bytes) -> Snapshot:
    """Rebuild the snapshot ``encode`` wrote (orjson's output holds no raw newline)."""
    head, _, rest = gzip.decompress(body).partition(b"\n")
    meta = orjson.loads(head)
    map_len, boundaries_len, _ = meta["parts"]
    geo = rest[:map_len]
    density = rest[map_len + boundaries_len:]
    return Snapshot(
        area_code=area_code, built_at=datetime.fromisoformat(meta["built_at"]),
        payload=meta["payload"], version=meta["version"], sections=meta["sections"],
        map_geojson=geo, map_gzip=gzip.compress(geo, compresslevel=6),
        map_version=meta["map_version"], boundaries=rest[map_len:map_len + boundaries_len],
        density_geojson=density, density_gzip=gzip.compress(density, compresslevel=6),
    )


@dataclass(frozen=True)
class AreaState:
    """One row of the table without its body: what a worker checks every few seconds."""

    version: str | None
    refreshed_at: datetime | None  # UTC
    error: str | None
    unknown: bool


@dataclass
class SnapshotTable:
    """The ``snapshots`` table: workers read through ``reads``; asking for an area and every
    write of the scheduler go through ``writes`` (serving may use a SELECT-only role)."""

    reads: sessionmaker[Session]
    writes: sessionmaker[Session]

    @contextmanager
    def _upsert(self, area_code: str) -> Iterator[dict[str, object]]:
        """Collect a row's new values, then update it, or insert it when it is missing."""
        values: dict[str, object] = {}
        yield values
        with self.writes() as session:
            result = session.execute(update(SharedSnapshot).where(
                SharedSnapshot.area_code == area_code).values(**values))
            changed = cast(CursorResult[Any], result).rowcount
            if not changed:
                session.add(SharedSnapshot(area_code=area_code, **values))
            try:
                session.commit()
            except IntegrityError:  # another process inserted it meanwhile: update that row
                session.rollback()
                session.execute(update(SharedSnapshot).where(
                    SharedSnapshot.area_code == area_code).values(**values))
                session.commit()

    def save(self, snapshot: Snapshot, at: datetime) -> None:
        """Publish a good build."""
        with self._upsert(snapshot.area_code) as row:
            row.update(version=snapshot.version, built_at=snapshot.built_at, refreshed_at=at,
                       attempted_at=at, error=None, unknown=False, body=encode(snapshot))

    def save_failure(self, area_code: str, failure: Failure, at: datetime) -> None:
        """Record a failed build; the last good body stays for the workers to serve."""
        with self._upsert(area_code) as row:
            row.update(attempted_at=at, error=failure.reason, unknown=failure.unknown)

    def request(self, area_code: str, at: datetime) -> None:
        """Ask the scheduler to build (and keep building) an area."""
        with self._upsert(area_code) as row:
            row.update(requested_at=at)

    def states(self) -> dict[str, AreaState]:
        """Every area's state, without bodies: one small statement."""
        with self.reads() as session:
            rows = session.execute(select(
                SharedSnapshot.area_code, SharedSnapshot.version, SharedSnapshot.refreshed_at,
                SharedSnapshot.error, SharedSnapshot.unknown)).all()
        return {code: AreaState(version, refreshed, error, bool(unknown))
                for code, version, refreshed, error, unknown in rows}

    def load(self, area_code: str) -> Snapshot | None:
        """The area's last good snapshot, or None when it was never built."""
        with self.reads() as session:
            body = session.scalar(select(SharedSnapshot.body).where(
                SharedSnapshot.area_code == area_code))
        return None if body is None else decode(area_code, body)

    def watched(self, since: datetime) -> list[str]:
        """The areas to build: the district, and every area asked for since ``since``."""
        with self.writes() as session:
            codes = session.scalars(select(SharedSnapshot.area_code).where(
                SharedSnapshot.area_code != DISTRICT,
                SharedSnapshot.requested_at >= since).order_by(SharedSnapshot.area_code)).all()
        return [DISTRICT, *codes]

    def unbuilt(self) -> list[str]:
        """Areas asked for and never tried: what the scheduler builds before its next tick."""
        with self.writes() as session:
            return list(session.scalars(select(SharedSnapshot.area_code).where(
                SharedSnapshot.attempted_at.is_(None),
                SharedSnapshot.requested_at.is_not(None)).order_by(SharedSnapshot.area_code)))

    def drop_idle(self, before: datetime) -> None:
        """Forget areas nobody asked for since ``before`` (never the district)."""
        with self.writes() as session:
            session.execute(delete(SharedSnapshot).where(
                SharedSnapshot.area_code != DISTRICT,
                or_(SharedSnapshot.requested_at.is_(None),
                    SharedSnapshot.requested_at < before)))
            session.commit()


@dataclass
class SnapshotPublisher:
    """The scheduler's side: builds the watched areas and writes them to the table."""

    builder: Builder
    table: SnapshotTable
    refresh_seconds: int
    clock: Callable[[], datetime] = datetime.now  # the city clock the builder reads
    now_utc: Callable[[], datetime] = utc_now
    _errors: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def refresh(self) -> None:
        """Rebuild every watched area (the scheduled job); drop the idle ones first.

        A failure to write (the database is down) raises, for the job's guard to log once.
        """
        idle = timedelta(seconds=max(60, IDLE_INTERVALS * self.refresh_seconds))
        since = self.now_utc() - idle
        self.table.drop_idle(since)
        for code in self.table.watched(since):
            self.publish(code)

    def build_requested(self) -> None:
        """Build the areas workers asked for since the last tick (a new street's wall)."""
        for code in self.table.unbuilt():
            self.publish(code)

    def publish(self, area_code: str) -> Snapshot | Failure:
        """Build one area and write the outcome: one build at a time in this process."""
        with self._lock:
            outcome = attempt(self.builder, area_code, self.clock().replace(microsecond=0),
                              self._errors.get(area_code))
            at = self.now_utc()
            if isinstance(outcome, Failure):
                self._errors[area_code] = outcome.reason
                self.table.save_failure(area_code, outcome, at)
            else:
                self._errors.pop(area_code, None)
                self.table.save(outcome, at)
            return outcome


@dataclass
class SharedSnapshots:
    """A serving worker's snapshots: read from the table by version, never built here.

    ``get`` answers from memory; the table is checked at most every ``check_seconds`` by one
    thread while the others serve what this worker holds. When the database cannot be read
    the last good snapshots stay on screen and turn stale by the clock, as in one process.
    """

    table: SnapshotTable
    refresh_seconds: int
    clock: Callable[[], datetime] = datetime.now
    check_seconds: float = CHECK_SECONDS
    # At most this many areas per worker (0: no bound), as SnapshotStore.max_areas.
    max_areas: int = 0
    now_utc: Callable[[], datetime] = utc_now
    _states: dict[str, AreaState] = field(default_factory=dict)
    _held: dict[str, Snapshot] = field(default_factory=dict)
    _asked: dict[str, float] = field(default_factory=dict)  # area → monotonic time told the table
    _read_at: dict[str, float] = field(default_factory=dict)  # area → monotonic last get
    _checked_at: float | None = None
    _read_error: str | None = None
    _ask_error: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _checking: threading.Lock = field(default_factory=threading.Lock)

    def watch(self, area_code: str) -> bool:
        """Ask the scheduler for an area (again once an interval); False when the set is full."""
        if len(area_code) > AREA_KEY_LENGTH:  # no area has such a code; the column holds 64
            return False
        now = time.monotonic()
        with self._lock:
            if area_code not in self._read_at and 0 < self.max_areas <= len(self._read_at):
                log.warning("watched areas full (%d): %s not added", self.max_areas, area_code)
                return False
            self._read_at[area_code] = now
            asked = self._asked.get(area_code)
            if asked is not None and now - asked < self.refresh_seconds:
                return True
            self._asked[area_code] = now
        if area_code != DISTRICT:  # the district is always built
            self._ask(area_code)
        return True

    def _ask(self, area_code: str) -> None:
        try:
            self.table.request(area_code, self.now_utc())
        except SQLAlchemyError as exc:
            # A SELECT-only serving role with no GRIDWATCH_WRITE_DATABASE_URL: the district is
            # built anyway, other areas wait for a writer. Said once, not every interval.
            reason = error_reason(exc)
            if reason != self._ask_error:
                log.warning("cannot ask for area %r (the scheduler builds only what is asked "
                            "through GRIDWATCH_WRITE_DATABASE_URL): %s", area_code, reason)
            self._ask_error = reason
        else:
            self._ask_error = None

    def get(self, area_code: str = DISTRICT) -> Snapshot | None:
        """Return this worker's copy of the area's last good snapshot."""
        if not self.watch(area_code):
            return None
        self._check()
        return self._held.get(area_code)

    def _check(self) -> None:
        due = self._checked_at is None or (
            time.monotonic() - self._checked_at >= self.check_seconds)
        if not due or not self._checking.acquire(blocking=self._checked_at is None):
            return
        try:
            states = self.table.states()
            with self._lock:
                wanted = list(self._read_at)
            for code in wanted:
                state, held = states.get(code), self._held.get(code)
                if state is not None and state.version is not None and (
                        held is None or held.version != state.version):
                    snapshot = self.table.load(code)
                    if snapshot is not None:
                        self._held[code] = snapshot
            self._states, self._read_error = states, None
            self._forget_idle()
        except SQLAlchemyError as exc:
            reason = error_reason(exc)
            if reason != self._read_error:
                log.warning("cannot read the shared snapshot, serving the last one: %s", reason)
            self._read_error = reason
        finally:
            self._checked_at = time.monotonic()
            self._checking.release()

    def keep_checking(self) -> Repeating:
        """Check the table every ``check_seconds`` from a thread of this worker, polled or not.

        On polls alone a worker that no wall reached never checked, so the statements grew
        with the workers the polls happened to reach (1.64x from 1 wall to 200 with two
        workers); with the thread each worker costs the same whatever polls it. A poll still
        checks when the thread has fallen behind. Call it in the serving process (after a fork).
        """
        return repeat_in_thread(self._check, self.check_seconds, "gridwatch-snapshot-check")

    def _forget_idle(self) -> None:
        idle_after = max(60.0, IDLE_INTERVALS * self.refresh_seconds)
        now = time.monotonic()
        with self._lock:
            for code in [c for c, at in self._read_at.items()
                         if c != DISTRICT and now - at > idle_after]:
                del self._read_at[code]
                self._asked.pop(code, None)
                self._held.pop(code, None)

    def _age(self, area_code: str) -> timedelta | None:
        state = self._states.get(area_code)
        if state is None or state.refreshed_at is None:
            return None
        return self.now_utc() - state.refreshed_at

    def refreshed_at(self, area_code: str = DISTRICT) -> datetime | None:
        """The city-clock time of the area's last good build, as the scheduler wrote it."""
        age = self._age(area_code)
        return None if age is None else self.clock().replace(microsecond=0) - age

    def is_stale(self, area_code: str = DISTRICT) -> bool:
        """True when the scheduler has not published the area within two intervals."""
        age = self._age(area_code)
        return age is None or age > timedelta(seconds=2 * self.refresh_seconds)

    def stamp(self, area_code: str = DISTRICT) -> str:
        """The wall's poll stamp (``poll_stamp``), the same in every worker."""
        snapshot = self.get(area_code)
        return poll_stamp(snapshot, self.is_stale(area_code))

    def status(self, area_code: str = DISTRICT) -> AreaStatus:
        """Say why an area has or lacks a snapshot, as SnapshotStore.status."""
        state = self._states.get(area_code)
        if area_code in self._held:
            return "ready"
        if state is not None and state.unknown:
            return "unknown"
        return "unavailable" if self.error(area_code) else "pending"

    def error(self, area_code: str = DISTRICT) -> str | None:
        """The scheduler's last error for the area, or this worker's own read error."""
        state = self._states.get(area_code)
        return self._read_error or (state.error if state is not None else None)
