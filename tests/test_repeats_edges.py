"""Repeat detection at its edges: bad parameters, no cases, one case, the exact bounds.

Written for the mutants bench/mutate.sh found alive in queries/repeats.py (docs/mutants.md):
each test names the rule it holds, with every distance and time worked out by hand.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np
import pytest
from sqlalchemy.orm import Session

from queries.repeats import (
    EARTH_RADIUS_M,
    RepeatInput,
    _slices,
    detect_repeats,
    find_repeats,
    repeat_inputs,
)
from tests.handbuilt import build_handbuilt

DAY_US = 86_400 * 1_000_000
# One metre north, in degrees of latitude.
METRE = 180 / math.pi / EARTH_RADIUS_M


def arrays(*cases: tuple[int, int, float, int]) -> tuple[np.ndarray, ...]:
    """(id, category, metres north of 34.26°N 108.94°E, day) → the columns find_repeats takes."""
    ids, cats, north, day = (np.array(column) for column in zip(*cases))
    return ids, cats, 34.26 + north * METRE, np.full(len(ids), 108.94), day * DAY_US


@pytest.mark.parametrize(("radius", "days"), [(0, 30), (-1, 30), (50, 0), (50, -1)])
def test_a_radius_or_window_that_is_not_positive_is_refused(radius: float, days: int) -> None:
    with pytest.raises(ValueError, match="^radius_m and days must be positive$"):
        find_repeats(*arrays((1, 1, 0, 0)), radius_m=radius, days=days)


def test_a_small_positive_radius_and_one_day_are_accepted() -> None:
    # Half a metre and one day: the second case, 0.4 m away a day later, repeats the first.
    match, occurrence = find_repeats(*arrays((1, 1, 0, 0), (2, 1, 0.4, 1)), radius_m=0.5,
                                     days=1)
    assert match.tolist() == [-1, 0] and occurrence.tolist() == [1, 2]


def test_no_cases_give_two_empty_integer_arrays() -> None:
    empty = np.array([], dtype=np.int64)
    match, occurrence = find_repeats(empty, empty, empty.astype(float), empty.astype(float),
                                     empty, radius_m=50, days=30)
    assert (match.shape, occurrence.shape) == ((0,), (0,))
    assert (match.dtype, occurrence.dtype) == (np.int64, np.int64)
    assert detect_repeats([], radius_m=50, days=30) == {}


def test_one_case_is_a_first_occurrence() -> None:
    match, occurrence = find_repeats(*arrays((7, 1, 0, 0)), radius_m=50, days=30)
    assert match.tolist() == [-1] and occurrence.tolist() == [1]


@pytest.mark.parametrize("ids", [(1, 1, 3), (1, 2, 2), (3, 1, 3)])
def test_duplicate_case_ids_are_refused(ids: tuple[int, int, int]) -> None:
    # Any pair of equal ids, not only a duplicate of the smallest one.
    cases = [(case_id, 1, 200.0 * k, 0) for k, case_id in enumerate(ids)]
    with pytest.raises(ValueError, match="^case ids must be unique$"):
        find_repeats(*arrays(*cases), radius_m=50, days=30)


def test_occurrences_are_integers() -> None:
    _, occurrence = find_repeats(*arrays((1, 1, 0, 0), (2, 1, 10, 1)), radius_m=50, days=30)
    assert occurrence.dtype == np.int64 and occurrence.tolist() == [1, 2]


@pytest.mark.parametrize("lon", [0.01, 1.0, -0.5, 179.99])
def test_east_west_neighbours_are_found_at_any_longitude(lon: float) -> None:
    # Two cases 40 m apart east–west (and one 60 m further east, a first) near the equator
    # of longitudes where 1/lon or a sign would distort the grid of cells if x were not
    # proportional to longitude.
    metre_east = METRE / math.cos(math.radians(10.0))
    lats = np.full(3, 10.0)
    lons = np.array([lon, lon + 40 * metre_east, lon + 100 * metre_east])
    match, occurrence = find_repeats(np.array([1, 2, 3]), np.array([1, 1, 1]), lats, lons,
                                     np.array([0, DAY_US, 2 * DAY_US]), radius_m=50, days=30)
    assert match.tolist() == [-1, 0, -1] and occurrence.tolist() == [1, 2, 1]


def test_too_many_cells_to_encode_is_refused_and_just_fewer_are_accepted() -> None:
    # Two cases at (-60°, -60°) and (60°, 60°), same time, one category: ny ≈ 2π·6,371,009 m
    # × 120/360 / w, nx ≈ the same × cos 60° = ½, nt = 3 (one slot plus padding), with cells
    # w = R + 2 mm wide (the farthest match).
    #   R = 0.005 m, w = 0.007 m: 3 · nx · ny ≈ 3 · 0.953e9 · 1.906e9 ≈ 5.45e18 ≥ 2^62 ≈ 4.61e18:
    #   refused; R = 0.008 m, w = 0.010 m: 3 · 0.667e9 · 1.334e9 ≈ 2.67e18 < 2^62: accepted.
    columns = (np.array([1, 2]), np.array([4, 4]), np.array([-60.0, 60.0]),
               np.array([-60.0, 60.0]), np.array([0, 0]))
    with pytest.raises(ValueError, match="^too many cells to encode: the cases span too large "
                                         "an area or time for this radius and window$"):
        find_repeats(*columns, radius_m=0.005, days=30)
    match, occurrence = find_repeats(*columns, radius_m=0.008, days=30)
    assert match.tolist() == [-1, -1] and occurrence.tolist() == [1, 1]


@pytest.mark.parametrize("shift_m", [0.0, 0.0002, 17.3, 49.9999, 3 * 50 - 0.0002])
def test_a_pair_within_the_tolerance_repeats_whatever_else_is_in_the_input(
        shift_m: float) -> None:
    """B is 50.0005 m north of A (inside the millimetre tolerance: a repeat); C, another
    category, only moves the grid's origin. Cells exactly R wide found B's match with some
    origins and not with others, so the answer depended on C."""
    def north(m: float) -> float:
        return math.degrees(m / EARTH_RADIUS_M)

    lat = np.array([30.0 - north(shift_m) - north(150.0), 30.0, 30.0 + north(50.0005)])
    ids, lon = np.array([1, 2, 3]), np.full(3, 120.0)
    categories, times = np.array([9, 1, 1]), np.array([0, DAY_US, 2 * DAY_US])
    whole = find_repeats(ids, categories, lat, lon, times, radius_m=50, days=30)
    alone = find_repeats(ids[1:], categories[1:], lat[1:], lon[1:], times[1:], radius_m=50,
                         days=30)
    assert whole[1].tolist() == [1, 1, 2] and alone[1].tolist() == [1, 2]


@pytest.mark.parametrize(("counts", "limit", "runs"), [
    ([3, 3, 3], 6, [(0, 2), (2, 3)]),       # 3 + 3 = 6 fits, the third starts a new run
    ([3, 3, 3], 5, [(0, 1), (1, 2), (2, 3)]),
    ([7, 1, 1], 5, [(0, 1), (1, 3)]),       # a position larger than the limit runs alone
    ([1, 1, 1, 1], 100, [(0, 4)]),
    ([], 5, []),
])
def test_batches_cover_every_position_once_within_the_limit(
        counts: list[int], limit: int, runs: list[tuple[int, int]]) -> None:
    parts = _slices(np.array(counts, dtype=np.int64), limit)
    assert [(p.start, p.stop) for p in parts] == runs


def test_detect_repeats_reports_the_match_occurrence_and_distance() -> None:
    # A (day 0), B 30 m north on day 10 (repeats A: 2nd), C 60 m north on day 20 (30 m from
    # B, 60 m from A: repeats B, 3rd); D another category on A's spot (a first).
    at = datetime(2026, 3, 1, 9, 0)
    points = [RepeatInput(1, 5, 34.26, 108.94, at),
              RepeatInput(2, 5, 34.26 + 30 * METRE, 108.94, at + timedelta(days=10)),
              RepeatInput(3, 5, 34.26 + 60 * METRE, 108.94, at + timedelta(days=20)),
              RepeatInput(4, 6, 34.26, 108.94, at + timedelta(days=1))]
    found = detect_repeats(points, radius_m=50, days=30)
    assert sorted(found) == [2, 3]
    assert (found[2].repeat_of_id, found[2].occurrence) == (1, 2)
    assert (found[3].repeat_of_id, found[3].occurrence) == (2, 3)
    assert found[2].distance_m == pytest.approx(30, abs=1e-6)
    assert found[3].distance_m == pytest.approx(30, abs=1e-6)


def test_repeat_inputs_take_the_half_open_window(session: Session) -> None:
    # The hand-built city registers case 21 at 11-03 09:10 and case 22 at 11-05 09:20, and
    # nothing else between. A window [11-03 09:10, 11-05 09:20) — its start given as
    # start − lookback — holds case 21 (the first instant is in) and not 22 (the last is out).
    built = build_handbuilt(session)
    loaded = repeat_inputs(session, datetime(2026, 11, 4, 9, 10), datetime(2026, 11, 5, 9, 20),
                           lookback_days=1)
    assert [p.case_id for p in loaded] == [built.cases[21]]
    assert loaded[0].at == datetime(2026, 11, 3, 9, 10)
