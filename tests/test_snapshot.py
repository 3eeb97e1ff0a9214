"""The snapshot store keeps the last good data and reports staleness."""

from datetime import datetime

import pytest
from sqlalchemy.exc import OperationalError

from snapshot.store import DISTRICT, Snapshot, SnapshotStore


class FlakyBuilder:
    """Builds snapshots until told the database is down."""

    def __init__(self) -> None:
        self.down = False
        self.value = 1
        self.calls = 0

    def __call__(self, area_code: str, now: datetime) -> Snapshot:
        self.calls += 1
        if self.down:
            raise OperationalError("SELECT 1", {}, Exception("connection refused"))
        return Snapshot.create(area_code, now, {"value": self.value}, [])


def test_version_changes_only_with_content() -> None:
    now = datetime(2026, 11, 23, 10)
    a = Snapshot.create("", now, {"x": 1}, [{"type": "Feature"}])
    b = Snapshot.create("", datetime(2026, 11, 23, 11), {"x": 1}, [{"type": "Feature"}])
    c = Snapshot.create("", now, {"x": 2}, [{"type": "Feature"}])
    assert a.version == b.version != c.version
    assert a.map_version == c.map_version


def test_failure_keeps_last_good_and_goes_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr("snapshot.store.time.monotonic", lambda: clock[0])
    builder = FlakyBuilder()
    store = SnapshotStore(builder=builder, refresh_seconds=10)
    first = store.get(DISTRICT)
    assert first is not None and first.payload == {"value": 1}
    assert not store.is_stale()
    builder.down = True
    clock[0] += 15
    store.refresh()
    assert store.get() is first and store.error() == "connection refused"
    assert not store.is_stale()  # 15 s: within two intervals
    clock[0] += 10
    store.refresh()
    assert store.is_stale() and store.get() is first
    builder.down, builder.value = False, 2
    store.refresh()
    assert not store.is_stale() and store.error() is None
    assert store.get().payload == {"value": 2}


def test_watched_areas_refresh_together() -> None:
    builder = FlakyBuilder()
    store = SnapshotStore(builder=builder, refresh_seconds=10)
    store.get(DISTRICT)
    store.get("610120001")
    builder.calls = 0
    store.refresh()
    assert builder.calls == 2


def test_a_builder_bug_keeps_the_last_good_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr("snapshot.store.time.monotonic", lambda: clock[0])
    calls = {"n": 0}

    def builder(area_code: str, now: datetime) -> Snapshot:
        calls["n"] += 1
        if calls["n"] > 1:
            raise ValueError("empty geometry")
        return Snapshot.create(area_code, now, {"value": 1}, [])

    store = SnapshotStore(builder=builder, refresh_seconds=10)
    first = store.get()
    clock[0] += 10
    store.refresh()  # must not raise
    assert store.get() is first and store.error() == "ValueError: empty geometry"


def test_an_outage_before_the_first_build_is_not_retried_on_every_poll(
        monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr("snapshot.store.time.monotonic", lambda: clock[0])
    builder = FlakyBuilder()
    builder.down = True
    store = SnapshotStore(builder=builder, refresh_seconds=10)
    for _ in range(5):
        assert store.get() is None
    assert builder.calls == 1 and store.is_stale()
    clock[0] += 10
    builder.down = False
    assert store.get() is not None and builder.calls == 2


def test_areas_nobody_reads_are_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr("snapshot.store.time.monotonic", lambda: clock[0])
    builder = FlakyBuilder()
    store = SnapshotStore(builder=builder, refresh_seconds=10)
    store.get(DISTRICT)
    store.get("610120001")
    clock[0] += 61
    store.get(DISTRICT)
    builder.calls = 0
    store.refresh()
    assert builder.calls == 1  # the district only; the street was not read for a minute
