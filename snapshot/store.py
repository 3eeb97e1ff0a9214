"""The snapshot: one immutable picture of the data that every open browser reads.

A scheduled job rebuilds it every ``refresh_seconds``; callbacks never query the database per
client. The store keeps the last good snapshot when a rebuild fails, so the screen never goes
blank and shows a stale badge instead. Areas are built on demand: the district always, and any
street, community or grid once a wall asks for it (``watch``), so the work per tick grows with
the number of distinct areas on screen, not with the number of browsers.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

import orjson
from sqlalchemy.exc import SQLAlchemyError

from queries.engine import error_reason

log = logging.getLogger(__name__)

DISTRICT = ""  # the key of the district-wide snapshot
MAX_UNKNOWN = 1024
IDLE_INTERVALS = 6  # refresh intervals without a reader before an area is no longer rebuilt


# Why a wall has no snapshot to show: "ready" it has one; "unknown" the code names no area (or,
# for the district, the database holds no city); "unavailable" the last build failed (an outage);
# "pending" no build has finished yet.
AreaStatus = Literal["ready", "unknown", "unavailable", "pending"]


class UnknownArea(LookupError):
    """A wall asked for an area code that does not exist; the store forgets the code."""


def _digest(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()[:16]


def _feature_collection(features: list[dict[str, Any]]) -> bytes:
    return orjson.dumps({"type": "FeatureCollection", "features": features})


@dataclass(frozen=True)
class Snapshot:
    """Everything one area's screen shows, computed at ``built_at``.

    ``payload`` is plain JSON-able data (tiles, rankings, trend, ticker …), with a version per
    top-level section so a client receives only the sections that changed. The open cases for
    the map and their density per grid travel separately as GeoJSON bytes, served by a route
    with their own version so the map re-downloads only when the cases changed.
    """

    area_code: str
    built_at: datetime
    payload: dict[str, Any]
    version: str
    sections: dict[str, str]
    map_geojson: bytes
    map_gzip: bytes
    map_version: str
    boundaries: bytes
    density_geojson: bytes
    density_gzip: bytes = b""

    @classmethod
    def create(cls, area_code: str, built_at: datetime, payload: dict[str, Any],
               map_features: list[dict[str, Any]], boundaries: bytes = b"",
               density: list[dict[str, Any]] | None = None) -> Snapshot:
        """Freeze a payload and the map layers, hashing each for change detection."""
        option = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
        sections = {key: _digest(orjson.dumps(value, option=option))
                    for key, value in payload.items()}
        geo = _feature_collection(map_features)
        density_geo = _feature_collection(density or [])
        map_version = _digest(geo + density_geo)
        return cls(
            area_code=area_code,
            built_at=built_at,
            payload=payload,
            version=_digest(orjson.dumps(sections, option=option) + map_version.encode()),
            sections=sections,
            map_geojson=geo,
            map_gzip=gzip.compress(geo, compresslevel=6),
            map_version=map_version,
            boundaries=boundaries,
            density_geojson=density_geo,
            density_gzip=gzip.compress(density_geo, compresslevel=6),
        )


Builder = Callable[[str, datetime], Snapshot]


@dataclass(frozen=True)
class Failure:
    """Why one build gave no snapshot: the reason to show, and whether the area does not exist."""

    reason: str
    unknown: bool = False


def attempt(builder: Builder, area_code: str, now: datetime,
            previous_error: str | None = None) -> Snapshot | Failure:
    """Build one area's snapshot, or say why not. Never raises: the job boundary.

    One warning per outage (per reason), not one per area every interval, and one line when
    the database answers again after ``previous_error``.
    """
    name = area_code or "district"
    started = time.perf_counter()
    try:
        snapshot = builder(area_code, now)
    except UnknownArea:
        log.info("no area %r: not watching it", area_code)
        return Failure("unknown area", unknown=True)
    except SQLAlchemyError as exc:
        reason = error_reason(exc)
        level = logging.DEBUG if previous_error == reason else logging.WARNING
        log.log(level, "snapshot %r failed, keeping the last good one: %s", name, reason)
        return Failure(reason)
    except Exception as exc:  # noqa: BLE001 - the job boundary: a bug must not blank the wall
        log.exception("snapshot %r: the builder failed, keeping the last good one", name)
        return Failure(f"{type(exc).__name__}: {exc}")
    log.info("snapshot %r built in %.0f ms (version %s)", name,
             (time.perf_counter() - started) * 1000, snapshot.version)
    if previous_error is not None:
        log.warning("snapshot %r recovered: the database answers again", name)
    return snapshot


def poll_stamp(snapshot: Snapshot | None, stale: bool) -> str:
    """Return the wall's poll stamp: everything an unchanged poll must not miss.

    The snapshot's version (its content) and a ``-stale`` suffix while it is stale, so the
    stale badge appears and goes with a changed stamp even when the content stands still;
    ``none`` while the area has no snapshot.
    """
    version = snapshot.version if snapshot is not None else "none"
    return version + ("-stale" if stale else "")


class SnapshotSource(Protocol):
    """What the pages, routes and callbacks read: the in-process store of a single server, or
    the shared table's reader in a worker of several (snapshot/shared.py)."""

    @property
    def refresh_seconds(self) -> int:
        """Seconds between two builds of an area."""

    @property
    def clock(self) -> Callable[[], datetime]:
        """The city clock the snapshot was built by."""

    def get(self, area_code: str = DISTRICT) -> Snapshot | None:
        """The area's last good snapshot (None: see ``status``)."""

    def stamp(self, area_code: str = DISTRICT) -> str:
        """The poll stamp (``poll_stamp``)."""

    def status(self, area_code: str = DISTRICT) -> AreaStatus:
        """Why an area has or lacks a snapshot."""

    def is_stale(self, area_code: str = DISTRICT) -> bool:
        """True when the area was not refreshed within two refresh intervals."""

    def refreshed_at(self, area_code: str = DISTRICT) -> datetime | None:
        """The city-clock time of the area's last successful refresh."""

    def error(self, area_code: str = DISTRICT) -> str | None:
        """The last refresh error of an area, None when the last refresh worked."""


@dataclass
class _Slot:
    snapshot: Snapshot | None = None
    refreshed_at: float | None = None  # monotonic time of the last successful build
    attempted_at: float | None = None  # monotonic time of the last build, good or failed
    read_at: float = field(default_factory=time.monotonic)  # last time a client asked
    error: str | None = None
    building: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class SnapshotStore:
    """Holds the latest good snapshot per watched area and rebuilds them on each tick: the
    store of a single serving process, whose scheduler runs ``refresh``."""

    builder: Builder
    refresh_seconds: int
    clock: Callable[[], datetime] = datetime.now
    # At most this many areas are watched (0: no bound). Only a caller with an identity reaches
    # ``get`` (the login hook), and the bound keeps even them from growing the refresh without
    # end: past it a new area answers None (the page's "data unavailable" state) until an idle
    # area is dropped.
    max_areas: int = 0
    _slots: dict[str, _Slot] = field(default_factory=dict)
    _unknown: set[str] = field(default_factory=set)  # codes whose last build said "no such area"
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def watch(self, area_code: str) -> bool:
        """Include an area in every following refresh (idempotent); False when the set is full."""
        with self._lock:
            if area_code not in self._slots and 0 < self.max_areas <= len(self._slots):
                log.warning("watched areas full (%d): %s not added", self.max_areas, area_code)
                return False
            self._slots.setdefault(area_code, _Slot())
            return True

    def get(self, area_code: str = DISTRICT) -> Snapshot | None:
        """Return the last good snapshot of an area, building it when it is missing.

        A missing snapshot is built at most once per interval (an outage must not turn every
        poll into a database call); the refresh job keeps the others fresh.
        """
        if not self.watch(area_code):
            return None
        with self._lock:
            slot = self._slots.get(area_code)
        if slot is None:
            return None
        slot.read_at = time.monotonic()
        if slot.snapshot is None and not self._recently_tried(slot):
            with slot.building:
                if slot.snapshot is None:
                    self._refresh_one(area_code)
        return slot.snapshot

    def _recently_tried(self, slot: _Slot) -> bool:
        return slot.attempted_at is not None and (
            time.monotonic() - slot.attempted_at < self.refresh_seconds)

    def refreshed_at(self, area_code: str = DISTRICT) -> datetime | None:
        """Return the wall-clock time of the area's last successful refresh."""
        slot = self._slots.get(area_code)
        if slot is None or slot.refreshed_at is None:
            return None
        return self.clock() - timedelta(seconds=time.monotonic() - slot.refreshed_at)

    def is_stale(self, area_code: str = DISTRICT) -> bool:
        """True when the area was not refreshed within two refresh intervals."""
        slot = self._slots.get(area_code)
        if slot is None or slot.refreshed_at is None:
            return True
        return time.monotonic() - slot.refreshed_at > 2 * self.refresh_seconds

    def stamp(self, area_code: str = DISTRICT) -> str:
        """Return the wall's poll stamp (``poll_stamp``)."""
        snapshot = self.get(area_code)
        return poll_stamp(snapshot, self.is_stale(area_code))

    def status(self, area_code: str = DISTRICT) -> AreaStatus:
        """Say why an area has or lacks a snapshot, so a failure never reads as "unknown area"."""
        with self._lock:
            slot = self._slots.get(area_code)
            if slot is not None and slot.snapshot is not None:
                return "ready"
            if area_code in self._unknown:
                return "unknown"
            return "unavailable" if slot is not None and slot.error else "pending"

    def error(self, area_code: str = DISTRICT) -> str | None:
        """Return the last refresh error of an area, or None when the last refresh worked."""
        slot = self._slots.get(area_code)
        return None if slot is None else slot.error

    def refresh(self) -> None:
        """Rebuild every watched area: the scheduled job. Never raises.

        Areas no client asked for in ``IDLE_INTERVALS`` intervals are dropped (the district
        stays), so a link once opened does not cost a rebuild every tick for ever.
        """
        idle_after = max(60.0, IDLE_INTERVALS * self.refresh_seconds)
        with self._lock:
            now = time.monotonic()
            for code in [c for c, sl in self._slots.items()
                         if c != DISTRICT and now - sl.read_at > idle_after]:
                del self._slots[code]
            codes = list(self._slots) or [DISTRICT]
        for code in codes:
            with self._lock:
                slot = self._slots.setdefault(code, _Slot())
            with slot.building:
                self._refresh_one(code)

    def _refresh_one(self, area_code: str) -> None:
        with self._lock:
            self._slots.setdefault(area_code, _Slot()).attempted_at = time.monotonic()
        outcome = attempt(self.builder, area_code, self.clock().replace(microsecond=0),
                          self.error(area_code))
        with self._lock:
            if isinstance(outcome, Failure) and outcome.unknown:
                self._slots.pop(area_code, None)
                if len(self._unknown) >= MAX_UNKNOWN:  # crafted codes must not grow it forever
                    self._unknown.clear()
                self._unknown.add(area_code)
                return
            slot = self._slots.setdefault(area_code, _Slot())
            if isinstance(outcome, Failure):
                slot.error = outcome.reason
                return
            if slot.snapshot is None or slot.snapshot.version != outcome.version:
                slot.snapshot = outcome
            slot.refreshed_at = time.monotonic()
            slot.error = None
            self._unknown.discard(area_code)
