"""Repeat detection agrees with a brute-force reference, at the R and D boundaries too."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from queries.repeats import (
    EARTH_RADIUS_M,
    RepeatInput,
    RepeatMatch,
    detect_repeats,
    pair_distance_m,
    repeat_inputs,
)
from tests.assessment_city import build_city

T0 = datetime(2026, 1, 1)
LAT, LON = 34.26, 108.94
METRE_LAT = 180 / math.pi / EARTH_RADIUS_M  # degrees of latitude per metre


def brute_force_repeats(points: list[RepeatInput], *, radius_m: float,
                        days: int) -> dict[int, RepeatMatch]:
    """Compare every case with every earlier one: the definition, written out directly."""
    ordered = sorted(points, key=lambda p: (p.at, p.case_id))
    lat = np.array([p.lat for p in ordered])
    lon = np.array([p.lon for p in ordered])
    cat = np.array([p.category_id for p in ordered])
    at = np.array([p.at for p in ordered], dtype="datetime64[us]")
    window = np.timedelta64(days * 86_400_000_000, "us")
    occurrence: list[int] = []
    out = {}
    for k, point in enumerate(ordered):
        dist = pair_distance_m(lat[k], lon[k], lat[:k], lon[:k])
        ok = (cat[:k] == cat[k]) & (at[k] - at[:k] <= window) & (dist <= radius_m + 1e-3)
        hits = np.flatnonzero(ok)
        if len(hits) == 0:
            occurrence.append(1)
            continue
        j = int(hits[-1])  # the most recent earlier case
        occurrence.append(occurrence[j] + 1)
        out[point.case_id] = RepeatMatch(point.case_id, ordered[j].case_id, occurrence[k],
                                         float(dist[j]))
    return out


def point(case_id: int, north_m: float = 0.0, east_m: float = 0.0, *,
          at: timedelta = timedelta(), category: int = 1) -> RepeatInput:
    lat = LAT + north_m * METRE_LAT
    lon = LON + east_m * METRE_LAT / math.cos(math.radians(lat))
    return RepeatInput(case_id, category, lat, lon, T0 + at)


def same(found: dict[int, RepeatMatch], expected: dict[int, RepeatMatch]) -> None:
    assert found.keys() == expected.keys()
    for key, match in expected.items():
        assert (found[key].repeat_of_id, found[key].occurrence) == (
            match.repeat_of_id, match.occurrence)
        assert found[key].distance_m == pytest.approx(match.distance_m, abs=1e-6)


def random_cases(seed: int, n: int, *, side_m: float, span_days: int,
                 categories: int) -> list[RepeatInput]:
    rng = np.random.default_rng(seed)
    ids = rng.permutation(n) * 7 + 3  # ids unrelated to time order
    north = rng.uniform(0, side_m, n)
    east = rng.uniform(0, side_m, n)
    # Whole hours over the span, so equal times (ties broken by id) happen.
    minutes = rng.integers(0, span_days * 24, n) * 60
    cats = rng.integers(0, categories, n)
    return [point(int(i), float(y), float(x), at=timedelta(minutes=int(m)), category=int(c))
            for i, y, x, m, c in zip(ids, north, east, minutes, cats, strict=True)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matches_brute_force_on_random_cases(seed: int) -> None:
    cases = random_cases(seed, 3000, side_m=800, span_days=120, categories=4)
    expected = brute_force_repeats(cases, radius_m=50, days=30)
    assert len(expected) > 500 and max(m.occurrence for m in expected.values()) >= 4
    same(detect_repeats(cases, radius_m=50, days=30), expected)


def test_matches_brute_force_with_other_radius_and_window() -> None:
    cases = random_cases(9, 2000, side_m=3000, span_days=400, categories=2)
    expected = brute_force_repeats(cases, radius_m=173.5, days=7)
    assert expected
    same(detect_repeats(cases, radius_m=173.5, days=7), expected)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 120), st.floats(0, 120), st.integers(0, 90),
                          st.integers(0, 1)), max_size=40))
def test_matches_brute_force_on_small_crowds(raw: list[tuple[float, float, int, int]]) -> None:
    cases = [point(n, y, x, at=timedelta(days=d), category=c)
             for n, (y, x, d, c) in enumerate(raw)]
    same(detect_repeats(cases, radius_m=50, days=30),
         brute_force_repeats(cases, radius_m=50, days=30))


def test_radius_is_inclusive_to_the_millimetre() -> None:
    at = timedelta(days=1)
    found = detect_repeats([point(1), point(2, 50.0, at=at)], radius_m=50, days=30)
    assert found[2].occurrence == 2
    assert detect_repeats([point(1), point(2, east_m=50.0, at=at)], radius_m=50, days=30)
    assert not detect_repeats([point(1), point(2, 50.01, at=at)], radius_m=50, days=30)
    assert not detect_repeats([point(1), point(2, east_m=50.01, at=at)], radius_m=50, days=30)


def test_window_is_inclusive_to_the_second() -> None:
    exactly = timedelta(days=30)
    assert 2 in detect_repeats([point(1), point(2, 5, at=exactly)], radius_m=50, days=30)
    later = exactly + timedelta(seconds=1)
    assert not detect_repeats([point(1), point(2, 5, at=later)], radius_m=50, days=30)


def test_other_category_never_repeats() -> None:
    cases = [point(1, category=1), point(2, at=timedelta(hours=1), category=2)]
    assert detect_repeats(cases, radius_m=50, days=30) == {}


def test_equal_times_order_by_case_id() -> None:
    found = detect_repeats([point(8), point(5)], radius_m=50, days=30)
    assert list(found) == [8] and found[8].repeat_of_id == 5


def test_occurrences_chain_through_the_most_recent_match() -> None:
    # a, b, c, d every 20 days, 10 m apart: each repeats the one before (a and c are 40 days
    # apart, so only the chain links them).
    chain = [point(10 + k, 10.0 * k, at=timedelta(days=20 * k)) for k in range(4)]
    found = detect_repeats(chain, radius_m=50, days=30)
    assert [(m.case_id, m.repeat_of_id, m.occurrence) for m in found.values()] == [
        (11, 10, 2), (12, 11, 3), (13, 12, 4)]
    assert found[11].distance_m == pytest.approx(10.0, abs=1e-6)


def test_the_most_recent_match_wins_over_a_longer_older_chain() -> None:
    # w 40 m west repeats v (occurrence 2); e 40 m east is a first (80 m from w); x in the middle
    # is within 40 m of both, and e is more recent: x repeats e, occurrence 2 (not 3).
    cases = [point(1, east_m=-60), point(2, east_m=-40, at=timedelta(days=1)),
             point(3, east_m=40, at=timedelta(days=2)), point(4, at=timedelta(days=3))]
    found = detect_repeats(cases, radius_m=50, days=30)
    assert (found[2].occurrence, found[4].repeat_of_id, found[4].occurrence) == (2, 3, 2)


def test_empty_input_and_bad_arguments() -> None:
    assert detect_repeats([], radius_m=50, days=30) == {}
    with pytest.raises(ValueError, match="unique"):
        detect_repeats([point(1), point(1, at=timedelta(days=1))], radius_m=50, days=30)
    with pytest.raises(ValueError, match="positive"):
        detect_repeats([point(1)], radius_m=0, days=30)


def test_repeat_inputs_load_registered_cases_of_the_window(session: Session) -> None:
    ids = build_city(session)
    name = {case_id: key for key, case_id in ids.items()}
    # February with 90 days of history: all January and February cases but b3 (cancelled)
    # and e1 (never registered).
    points = repeat_inputs(session, datetime(2026, 2, 1), datetime(2026, 3, 1), 90)
    assert sorted(name[p.case_id] for p in points) == sorted(set(ids) - {"b3", "e1"})
    found = detect_repeats(points, radius_m=50, days=30)
    assert {name[k]: (name[m.repeat_of_id], m.occurrence) for k, m in found.items()} == {
        "a2": ("a1", 2), "a5": ("a2", 3), "d2": ("d1", 2), "d3": ("d2", 3), "c4": ("c3", 2)}
    february = repeat_inputs(session, datetime(2026, 2, 1), datetime(2026, 3, 1), 0)
    assert sorted(name[p.case_id] for p in february) == ["a5", "a6", "a7", "b4", "b5", "c4",
                                                         "c5", "d4"]


def test_a_crowd_on_one_spot_is_batched_and_still_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("queries.repeats._PAIRS_PER_BATCH", 50)  # force many small batches
    crowd = [point(n, at=timedelta(hours=n)) for n in range(300)]  # one spot, one category
    found = detect_repeats(crowd, radius_m=50, days=30)
    assert [found[n].occurrence for n in (1, 2, 299)] == [2, 3, 300]
    cases = random_cases(4, 600, side_m=200, span_days=60, categories=2)
    same(detect_repeats(cases, radius_m=50, days=30),
         brute_force_repeats(cases, radius_m=50, days=30))
