"""Tests that kill mutants bench/mutate.sh found alive in queries/repeats.py.

``earlier_problem`` (the rule for one case as it is registered, used by the simulator and the
importers) had no test in the repeats target; the others hold the exact bounds of
``find_repeats``. Every place is given in metres from P = 36.0°N 110.0°E and every time from
T = 2026-11-20 12:00, so each expected answer is read off the rule: same minor class, within
R = 50 m (+ 1 mm) and D = 30 days before, not cancelled, precisely placed, the most recent.
docs/mutants.md lists the mutants left alive and why each is equivalent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pytest
from sqlalchemy.orm import Session

from queries.models import SOURCE_PATROL, STATUS_CANCELLED, STATUS_CLOSED, Case, Category
from queries.repeats import (
    DISTANCE_TOLERANCE_M,
    EARTH_RADIUS_M,
    RepeatInput,
    detect_repeats,
    earlier_problem,
    find_repeats,
    repeat_inputs,
)
from tests.ranking_city import build_ranking_city

LAT, LON = 36.0, 110.0
T = datetime(2026, 11, 20, 12, 0)
METRE = 180 / math.pi / EARTH_RADIUS_M  # degrees of latitude per metre
DAY_US = 86_400 * 1_000_000
# A pair found by a search over float64 coordinates whose distance (equirectangular, as
# pair_distance_m) is exactly 50.001 m, R + 1 mm, to the last bit, and whose square is exactly
# 50.001²: the inclusive bound itself, about 35.36 m north and 35.36 m east of each other.
EDGE_A = (36.003012821576036, 110.0)
EDGE_B = (36.00333078569901, 110.00039304107922)


@dataclass
class Place:
    """The session, the street and the two minor classes cases are filed under."""

    session: Session
    street_id: int
    litter: int
    stalls: int

    def add(
        self,
        north_m: float = 0.0,
        east_m: float = 0.0,
        *,
        at: timedelta = timedelta(),
        category: int | None = None,
        case_id: int | None = None,
        cancelled: bool = False,
        precise: bool = True,
        lat: float | None = None,
        lon: float | None = None,
    ) -> int:
        """Register a case ``at`` after T (negative: before), metres from P; return its id."""
        lat = LAT + north_m * METRE if lat is None else lat
        lon = LON + east_m * METRE / math.cos(math.radians(LAT)) if lon is None else lon
        case = Case(
            id=case_id,
            external_id=f"RM-{lat}-{lon}-{at}-{case_id}",
            source=SOURCE_PATROL,
            category_id=self.litter if category is None else category,
            lat=lat,
            lon=lon,
            location_precise=precise,
            street_id=self.street_id,
            status=STATUS_CANCELLED if cancelled else STATUS_CLOSED,
            reported_at=T + at,
            registered_at=T + at,
        )
        self.session.add(case)
        self.session.commit()
        return case.id

    def earlier(
        self,
        north_m: float = 0.0,
        east_m: float = 0.0,
        *,
        lat: float | None = None,
        lon: float | None = None,
        category: int | None = None,
    ) -> int | None:
        """The problem a case registered at T, metres from P, repeats (R 50 m, D 30 days)."""
        return earlier_problem(
            self.session,
            category_id=self.litter if category is None else category,
            lat=LAT + north_m * METRE if lat is None else lat,
            lon=LON + east_m * METRE / math.cos(math.radians(LAT)) if lon is None else lon,
            at=T,
            radius_m=50,
            days=30,
        )


@pytest.fixture
def place(session: Session) -> Place:
    # The ranking city gives a street and the minor class 暴露垃圾; its cases lie 1.7° away.
    city = build_ranking_city(session)
    litter = session.query(Category).one()
    stalls = Category(
        code="SJ0102",
        kind="事件",
        major="街面秩序",
        minor="占道经营",
        element="街面",
        limit_hours=8.0,
        urgent_limit_hours=2.0,
        department_code="BM03",
    )
    session.add(stalls)
    session.commit()
    return Place(session, city.ids["S1"], litter.id, stalls.id)


def test_nothing_near_is_no_earlier_problem(place: Place) -> None:
    place.add(200, at=-timedelta(days=1))  # 200 m north: too far
    assert place.earlier() is None


def test_a_problem_near_and_before_is_found(place: Place) -> None:
    near = place.add(30, at=-timedelta(days=3))
    assert place.earlier() == near


def test_the_window_holds_both_of_its_ends(place: Place) -> None:
    # Exactly 30 days before T is in; exactly T (registered the same instant) is in too.
    first = place.add(10, at=-timedelta(days=30))
    assert place.earlier() == first
    same_instant = place.add(20)
    assert place.earlier() == same_instant


def test_a_problem_outside_the_window_is_not_found(place: Place) -> None:
    # 30 days and one second before T is out; a case registered after T is not earlier.
    place.add(10, at=-timedelta(days=30, seconds=1))
    place.add(20, at=timedelta(hours=1))
    assert place.earlier() is None


def test_the_most_recent_registration_wins_then_the_higher_id(place: Place) -> None:
    # Inserted in this order: the case of day −1 has the lower id but the later registration.
    later = place.add(10, at=-timedelta(days=1))
    place.add(20, at=-timedelta(days=2))
    assert place.earlier() == later
    # Two registered at the same instant (day −0.5): the higher id is the more recent.
    place.add(30, at=-timedelta(hours=12))
    tied_higher = place.add(40, at=-timedelta(hours=12))
    assert place.earlier() == tied_higher


def test_a_tie_goes_to_the_higher_id_even_when_it_was_stored_first(place: Place) -> None:
    # Stored 9000 then 8000, both registered at the same instant: the rule's tiebreak is the
    # id, not the order the rows happen to come in (storage order on PostgreSQL, where this
    # test kills the dropped tiebreak; SQLite returns ties highest rowid first anyway).
    place.add(10, at=-timedelta(hours=6), case_id=9000)
    place.add(20, at=-timedelta(hours=6), case_id=8000)
    assert place.earlier() == 9000


def test_another_class_a_cancelled_case_and_an_imprecise_one_are_not_problems_here(
    place: Place,
) -> None:
    # Near and recent, but 占道经营 not 暴露垃圾, cancelled, or placed by a default geocode.
    stall = place.add(10, at=-timedelta(days=1), category=place.stalls)
    place.add(10, at=-timedelta(days=2), cancelled=True)
    place.add(10, at=-timedelta(days=3), precise=False)
    assert place.earlier() is None
    assert place.earlier(category=place.stalls) == stall


@pytest.mark.parametrize(("north", "east"), [(50, 0), (-50, 0), (0, 45), (0, -45), (0, 50)])
def test_the_radius_reaches_every_direction(place: Place, north: float, east: float) -> None:
    # 50 m north or south, 45 m and 50 m east or west: all within R (the search box must span
    # 50 m of longitude at 36°N, i.e. 50 m / cos 36° in degrees, not less).
    near = place.add(north, east, at=-timedelta(days=1))
    assert place.earlier() == near


def test_within_the_millimetre_of_tolerance_due_north_is_a_repeat(place: Place) -> None:
    # 50.0005 m due north: more than R, within R + 1 mm; detection calls it a repeat, and the
    # rule at registration must agree (the search box reaches R + 1 mm, not only R).
    near = place.add(50.0005, at=-timedelta(days=1))
    assert place.earlier() == near
    points = [
        RepeatInput(1, 1, LAT + 50.0005 * METRE, LON, T - timedelta(days=1)),
        RepeatInput(2, 1, LAT, LON, T),
    ]
    assert detect_repeats(points, radius_m=50, days=30)[2].repeat_of_id == 1


def test_the_tolerance_is_inclusive_to_the_last_bit(place: Place) -> None:
    # EDGE_A and EDGE_B are exactly R + 1 mm apart: a repeat, at registration and in detection.
    edge = place.add(lat=EDGE_A[0], lon=EDGE_A[1], at=-timedelta(days=1))
    assert place.earlier(lat=EDGE_B[0], lon=EDGE_B[1]) == edge
    match, _ = find_repeats(
        np.array([1, 2]),
        np.array([1, 1]),
        np.array([EDGE_A[0], EDGE_B[0]]),
        np.array([EDGE_A[1], EDGE_B[1]]),
        np.array([0, DAY_US]),
        radius_m=50,
        days=30,
    )
    assert match.tolist() == [-1, 0]


def test_repeat_inputs_leave_out_imprecise_places(place: Place) -> None:
    # Three cases in November: one precise, one imprecise (a default geocode), one cancelled.
    kept = place.add(0, at=-timedelta(days=1))
    place.add(5, at=-timedelta(days=2), precise=False)
    place.add(10, at=-timedelta(days=3), cancelled=True)
    loaded = repeat_inputs(place.session, datetime(2026, 11, 10), datetime(2026, 11, 21), 0)
    assert [p.case_id for p in loaded if abs(p.lat - LAT) < 0.01] == [kept]


# --- the cell encoding's overflow guard, at its exact bound -----------------------------------
# _cell_keys numbers cells (category, time slot, x, y) with one cell of padding at both ends of
# each extent: nx = floor(Δx / w) + 3, ny = floor(Δy / w) + 3, nt = floor(Δt / D) + 3 (cells
# w = R + 2 mm wide: the farthest match), and refuses when categories · nt · nx · ny ≥ 2^62.
# Two cases span the extents asked, each in the middle of its cell (half a cell clear of any
# rounding), one category, R = 1 cm.


def _two_cases(nx: int, ny: int, slots: int, start_windows: int) -> tuple[np.ndarray, ...]:
    """Columns of two cases whose cells give (nx, ny) and ``slots`` time slots of 30 days."""
    cell = 0.01 + 2 * DISTANCE_TOLERANCE_M
    half_lat = math.degrees((ny - 2.5) * cell / EARTH_RADIUS_M) / 2
    coslat = math.cos(math.radians(half_lat))
    half_lon = math.degrees((nx - 2.5) * cell / (EARTH_RADIUS_M * coslat)) / 2
    window = 30 * DAY_US
    times = np.array([start_windows * window, (start_windows + slots - 1) * window])
    return (
        np.array([1, 2]),
        np.array([7, 7]),
        np.array([-half_lat, half_lat]),
        np.array([-half_lon, half_lon]),
        times,
    )


@pytest.mark.parametrize(
    ("nx", "ny", "slots", "start", "refused"),
    [
        # 1 · 3 · 2^30 · 2^30 = 3 · 2^60 < 2^62: accepted, at a start of 10 windows (slots count
        # from the earliest case, wherever the epoch is).
        (2**30, 2**30, 1, 10, False),
        (2**30, 2**30, 2, 0, True),  # 1 · 4 · 2^30 · 2^30 = 2^62: refused (not only above)
        (2**30 - 1, 2**30, 2, 0, False),  # 4 · (2^30 − 1) · 2^30 = 2^62 − 2^32: accepted
        (2**30, 2**30 - 1, 2, 0, False),  # the same with y
    ],
)
def test_the_cell_count_is_refused_from_exactly_two_to_the_62(
    nx: int, ny: int, slots: int, start: int, refused: bool
) -> None:
    columns = _two_cases(nx, ny, slots, start)
    if refused:
        with pytest.raises(ValueError, match="^too many cells to encode"):
            find_repeats(*columns, radius_m=0.01, days=30)
    else:
        match, _ = find_repeats(*columns, radius_m=0.01, days=30)
        assert match.tolist() == [-1, -1]  # thousands of km apart: no repeat


def test_cell_keys_beyond_float_precision_still_find_neighbours() -> None:
    # R = 1 cm over ±60° (test_too_many_cells_…'s accepted span: about 2.7e18 cells, far past
    # 2^53, where a float key could no longer tell neighbouring cells apart): two more cases
    # at 0°N 0°E and 5 mm north of it a day later repeat, as anywhere else.
    five_mm = 0.005 * METRE
    columns = (
        np.array([1, 2, 3, 4]),
        np.array([4, 4, 4, 4]),
        np.array([-60.0, 60.0, 0.0, five_mm]),
        np.array([-60.0, 60.0, 0.0, 0.0]),
        np.array([0, 0, 0, DAY_US]),
    )
    match, occurrence = find_repeats(*columns, radius_m=0.01, days=30)
    assert match.tolist() == [-1, -1, -1, 2] and occurrence.tolist() == [1, 1, 1, 2]
