"""The area locator: points and area fields to street/community/grid ids.

Point-in-polygon is checked against a brute force written here in exact arithmetic (Fractions,
even-odd ray casting over every ring), so holes, MultiPolygons and points exactly on edges are
decided without shapely.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from itertools import pairwise

import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Polygon, box
from sqlalchemy.orm import Session

from ingest.spatial import AreaChain, AreaLocator, _AreaRow, normalise
from queries.models import (
    LEVEL_COMMUNITY,
    LEVEL_DISTRICT,
    LEVEL_GRID,
    LEVEL_STREET,
    LEVELS,
    Area,
    Case,
)
from tests.handbuilt import build_handbuilt

# -- brute force --------------------------------------------------------------------------------


def _rings(geom: shapely.Geometry) -> list[list[tuple[Fraction, Fraction]]]:
    polys = geom.geoms if isinstance(geom, MultiPolygon) else [geom]
    rings = []
    for poly in polys:
        for ring in [poly.exterior, *poly.interiors]:
            rings.append([(Fraction(x), Fraction(y)) for x, y in ring.coords])
    return rings


def _where(geom: shapely.Geometry, px: float, py: float) -> str:
    """Return "in", "edge" or "out" for a point and a (multi)polygon, in exact arithmetic."""
    x, y = Fraction(px), Fraction(py)
    crossings = 0
    for ring in _rings(geom):
        for (x1, y1), (x2, y2) in pairwise(ring):
            cross = (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1)
            if cross == 0 and min(x1, x2) <= x <= max(x1, x2) and min(y1, y2) <= y <= max(y1, y2):
                return "edge"
            if (y1 > y) != (y2 > y):
                x_at = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
                if x < x_at:
                    crossings += 1
    return "in" if crossings % 2 else "out"


def _expected_chain(rows: list[_AreaRow], geoms: list[shapely.Geometry],
                    px: float, py: float) -> AreaChain | None:
    """The locator's rule, by brute force: deepest, then interior over edge, then least code."""
    chains = AreaLocator._build_chains(rows)
    best = None
    for row, geom in zip(rows, geoms, strict=True):
        if row.level == LEVEL_DISTRICT or row.id not in chains:
            continue
        where = _where(geom, px, py)
        if where == "out":
            continue
        key = (-LEVELS.index(row.level), where != "in", row.code)
        if best is None or key < best[0]:
            best = (key, row.id)
    return None if best is None else chains[best[1]]


# -- random layouts -------------------------------------------------------------------------------

coord = st.integers(min_value=0, max_value=40).map(lambda v: v / 4)


@st.composite
def star(draw: st.DrawFn, cx: float, cy: float) -> Polygon:
    """A star-shaped polygon around (cx, cy): simple by construction, vertices on a 1/8 grid."""
    steps = sorted(draw(st.sets(st.integers(0, 23), min_size=3, max_size=8)))
    points = []
    for step in steps:
        r = draw(st.integers(2, 12)) / 4
        a = step * math.pi / 12
        points.append((round((cx + r * math.cos(a)) * 8) / 8,
                       round((cy + r * math.sin(a)) * 8) / 8))
    polygon = Polygon(points)
    assume(polygon.is_valid and polygon.area > 0)
    return polygon


@st.composite
def area_geometry(draw: st.DrawFn) -> shapely.Geometry:
    """A polygon, a polygon with a square hole, or a two-part MultiPolygon."""
    cx, cy = draw(coord), draw(coord)
    shape = draw(star(cx, cy))
    kind = draw(st.sampled_from(["plain", "hole", "multi"]))
    if kind == "hole":
        shape = shape.difference(box(cx - 0.25, cy - 0.25, cx + 0.25, cy + 0.25))
    elif kind == "multi":
        shape = shapely.union(shape, draw(star(cx + 20, cy)))
    assume(isinstance(shape, Polygon | MultiPolygon) and shape.is_valid and shape.area > 0)
    return shape


@st.composite
def layout(draw: st.DrawFn) -> tuple[list[_AreaRow], list[shapely.Geometry]]:
    """Random areas at random levels with random parents among shallower earlier areas."""
    n = draw(st.integers(1, 6))
    rows: list[_AreaRow] = []
    geoms: list[shapely.Geometry] = []
    for i in range(n):
        level = draw(st.sampled_from([LEVEL_STREET, LEVEL_COMMUNITY, LEVEL_GRID]))
        above = [r.id for r in rows if LEVELS.index(r.level) < LEVELS.index(level)]
        parent = draw(st.sampled_from([None, *above])) if above else None
        code = draw(st.sampled_from(["0502A", "306.0", "0306", "W03", "A", "b"])) + f"-{i}"
        rows.append(_AreaRow(i + 1, code, f"area {i}", level, parent, False))
        geoms.append(draw(area_geometry()))
    return rows, geoms


@st.composite
def probe_points(draw: st.DrawFn, geoms: list[shapely.Geometry]) -> list[tuple[float, float]]:
    """Random points, plus vertices and edge midpoints (exactly on boundaries)."""
    points = draw(st.lists(st.tuples(st.floats(-3, 33), st.floats(-3, 13)), max_size=20))
    for geom in geoms:
        ring = draw(st.sampled_from(_rings(geom)))
        for k in draw(st.lists(st.integers(0, len(ring) - 2), max_size=4)):
            (x1, y1), (x2, y2) = ring[k], ring[k + 1]
            points.append((float(x1), float(y1)))
            points.append((float((x1 + x2) / 2), float((y1 + y2) / 2)))
    return points


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.filter_too_much])
@given(data=st.data())
def test_locate_matches_brute_force(data: st.DataObject) -> None:
    rows, geoms = data.draw(layout())
    points = data.draw(probe_points(geoms))
    locator = AreaLocator(rows, geoms)
    got = locator.locate_many([p[0] for p in points], [p[1] for p in points])
    for (px, py), chain in zip(points, got, strict=True):
        assert chain == _expected_chain(rows, geoms, px, py), (px, py)
        assert locator.locate(px, py) == chain


@given(order=st.permutations([0, 1, 2]))
def test_shared_edge_goes_to_the_smallest_code_whatever_the_load_order(order: list[int]) -> None:
    # Three streets side by side; x=1 is shared by "B" and "A", x=2 by "A" and "C".
    base = [(1, "B", box(0, 0, 1, 1)), (2, "A", box(1, 0, 2, 1)), (3, "C", box(2, 0, 3, 1))]
    rows = [_AreaRow(base[i][0], base[i][1], base[i][1], LEVEL_STREET, None, False) for i in order]
    locator = AreaLocator(rows, [base[i][2] for i in order])
    assert locator.locate(1.0, 0.5) == AreaChain(2)  # "A" < "B"
    assert locator.locate(2.0, 0.5) == AreaChain(2)  # "A" < "C"
    assert locator.locate(0.5, 0.5) == AreaChain(1)
    assert locator.locate(3.0, 0.5) == AreaChain(3)  # outer edge: only "C" touches it
    assert locator.locate(3.5, 0.5) is None


# -- a fixed layout with derived levels, holes, gaps ----------------------------------------------


def _fixed() -> AreaLocator:
    """District 1; street 2 ("W01") with a hole holding street 3 ("W02", an enclave).

    Street 2: community 4 (south half, minus the hole) with grids 6 (x<2.5) and 7 (x≥2.5),
    community 5 (north half) with grid 8 covering only y<7.5 — the rest is a gap.
    Street 3: derived community 9 and derived grid 10 (a two-level part of the city).
    """
    hole = box(1, 1, 2, 2)
    street2 = box(0, 0, 5, 10).difference(hole)
    south = box(0, 0, 5, 5).difference(hole)
    rows = [
        _AreaRow(1, "D", "全市", LEVEL_DISTRICT, None, False),
        _AreaRow(2, "W01", "Ward 1", LEVEL_STREET, 1, False),
        _AreaRow(3, "W02", "Ward 2", LEVEL_STREET, 1, False),
        _AreaRow(4, "0306", "Precinct 306", LEVEL_COMMUNITY, 2, False),
        _AreaRow(5, "0502A", "Precinct 502A", LEVEL_COMMUNITY, 2, False),
        _AreaRow(6, "G1", "Grid 1", LEVEL_GRID, 4, False),
        _AreaRow(7, "G2", "Grid 2", LEVEL_GRID, 4, False),
        _AreaRow(8, "G3", "Grid 3", LEVEL_GRID, 5, False),
        _AreaRow(9, "W02-0", "Ward 2", LEVEL_COMMUNITY, 3, True),
        _AreaRow(10, "W02-0-0", "Ward 2", LEVEL_GRID, 9, True),
    ]
    geoms = [box(0, 0, 5, 10), street2, hole, south, box(0, 5, 5, 10),
             south.intersection(box(0, 0, 2.5, 5)), south.intersection(box(2.5, 0, 5, 5)),
             box(0, 5, 5, 7.5), hole, hole]
    return AreaLocator(rows, geoms)


def test_deepest_area_and_gaps() -> None:
    loc = _fixed()
    assert loc.locate(0.5, 0.5) == AreaChain(2, 4, 6)
    assert loc.locate(4.0, 4.0) == AreaChain(2, 4, 7)
    assert loc.locate(4.0, 6.0) == AreaChain(2, 5, 8)
    assert loc.locate(4.0, 9.0) == AreaChain(2, 5, None)  # inside the community, no grid
    assert loc.locate(6.0, 9.0) is None


def test_hole_belongs_to_the_enclave_and_derived_levels_fill_the_chain() -> None:
    loc = _fixed()
    assert loc.locate(1.5, 1.5) == AreaChain(3, 9, 10)
    # The hole's edge is shared by street 2's grid 6 (a grid) and street 3's derived grid,
    # which is not in the tree: the deepest real area, grid 6, wins.
    assert loc.locate(1.0, 1.5) == AreaChain(2, 4, 6)


def test_locate_many_handles_empty_and_non_finite_input() -> None:
    loc = _fixed()
    assert loc.locate_many([], []) == []
    assert loc.locate_many([float("nan"), 0.5], [0.5, float("inf")]) == [None, None]


def test_find_by_code_or_name() -> None:
    loc = _fixed()
    assert loc.find("0502A") == AreaChain(2, 5, None)
    assert loc.find(" ０５０２ａ ") == AreaChain(2, 5, None)  # full-width, padded, lower case
    assert loc.find("precinct  306") == AreaChain(2, 4, None)
    assert loc.find("306") is None  # exact only: "306" is not "0306"
    # "Ward 2" names the street and its two derived children: one chain, the deepest.
    assert loc.find("Ward 2") == AreaChain(3, 9, 10)
    assert loc.find("Ward 2", level=LEVEL_STREET) == AreaChain(3, 9, 10)
    assert loc.find("Ward 1", level=LEVEL_STREET) == AreaChain(2)
    assert loc.find("Ward 1", level=LEVEL_GRID) is None
    assert loc.find("全市") is None  # the district is no case location
    assert loc.find("") is None


def test_find_refuses_an_ambiguous_name() -> None:
    rows = [_AreaRow(1, "S1", "Ward 1", LEVEL_STREET, None, False),
            _AreaRow(2, "C1", "Centre", LEVEL_COMMUNITY, 1, False),
            _AreaRow(3, "S2", "Ward 2", LEVEL_STREET, None, False),
            _AreaRow(4, "C2", "Centre", LEVEL_COMMUNITY, 3, False)]
    loc = AreaLocator(rows, [box(0, 0, 1, 1), box(0, 0, 1, 1), box(1, 0, 2, 1), box(1, 0, 2, 1)])
    assert loc.find("Centre") is None
    assert loc.find("C2") == AreaChain(3, 4)


def test_chain_contains() -> None:
    assert AreaChain(2).contains(AreaChain(2, 4, 6))
    assert AreaChain(2, 4).contains(AreaChain(2, 4, 6))
    assert AreaChain(2, 4, 6).contains(AreaChain(2, 4, 6))
    assert not AreaChain(2, 4, 6).contains(AreaChain(2, 4, None))
    assert not AreaChain(2, 5).contains(AreaChain(2, 4, 6))
    assert not AreaChain(3).contains(AreaChain(2))
    assert AreaChain(2, 4, 6).deepest_id == 6 and AreaChain(2).deepest_id == 2


def test_normalise() -> None:
    assert normalise("  Ward\u3000 3 ") == "ward 3"
    assert normalise("Ｗ０３") == "w03"


def test_load_from_the_database_places_every_handbuilt_case_in_its_grid(session: Session) -> None:
    build_handbuilt(session)
    session.commit()
    loc = AreaLocator.load(session)
    cases = list(session.query(Case))
    got = loc.locate_many([c.lon for c in cases], [c.lat for c in cases])
    assert [g and (g.street_id, g.community_id, g.grid_id) for g in got] == [
        (c.street_id, c.community_id, c.grid_id) for c in cases]
    grid = session.query(Area).filter(Area.level == LEVEL_GRID).order_by(Area.code).first()
    assert grid is not None and json.loads(grid.geometry)["type"] == "Polygon"
    assert loc.find(grid.code) == loc.chain_of(grid.id)
    assert loc.code_of(grid.id) == grid.code

