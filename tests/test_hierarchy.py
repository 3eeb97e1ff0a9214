"""The hierarchy by parent links: a city whose codes are opaque and do not nest.

The city (ids in brackets), built by hand::

    全市 "CITY" [1]
    ├── Ward 1  "W1"  [2]
    │   └── Precinct 0306 "0306" [4]: grids "G-1" [7], "G-2" [8]
    └── Ward 10 "W10" [3]            ← "W1" is a prefix of "W10": prefix matching would mix them
        ├── Precinct 306.0 "306.0" [5]: derived grid "306.0-0" [9]
        └── Precinct 502A  "0502A" [6]: derived grid "0502A-0" [10]

Cases registered in October 2026: three in G-1, one in G-2, two in 306.0-0, none in 0502A-0.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy.orm import Session

from queries import hierarchy
from queries.areas import descendants_at_level
from queries.grid_view import grid_view, lineage
from queries.indicators import indicators, indicators_by_area
from queries.models import (
    LEVEL_COMMUNITY,
    LEVEL_DISTRICT,
    LEVEL_GRID,
    LEVEL_STREET,
    SOURCE_PATROL,
    STATUS_REGISTERED,
    Area,
    Case,
    Category,
)
from queries.periods import parse_period
from queries.scope import Scope

NOW = datetime(2026, 11, 20, 12, 0)
OCTOBER = parse_period("2026-10", NOW)
SQUARE = json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]})

AREAS = (  # id, code, name, level, parent id, derived
    (1, "CITY", "全市", LEVEL_DISTRICT, None, False),
    (2, "W1", "Ward 1", LEVEL_STREET, 1, False),
    (3, "W10", "Ward 10", LEVEL_STREET, 1, False),
    (4, "0306", "Precinct 0306", LEVEL_COMMUNITY, 2, False),
    (5, "306.0", "Precinct 306.0", LEVEL_COMMUNITY, 3, False),
    (6, "0502A", "Precinct 502A", LEVEL_COMMUNITY, 3, False),
    (7, "G-1", "Grid 1", LEVEL_GRID, 4, False),
    (8, "G-2", "Grid 2", LEVEL_GRID, 4, False),
    (9, "306.0-0", "Precinct 306.0", LEVEL_GRID, 5, True),
    (10, "0502A-0", "Precinct 502A", LEVEL_GRID, 6, True),
)
CASES_IN = {7: 3, 8: 1, 9: 2}


def build_opaque_city(session: Session) -> None:
    """Write the city above and its six cases."""
    for area_id, code, name, level, parent, derived in AREAS:
        session.add(Area(id=area_id, code=code, name=name, level=level, parent_id=parent,
                         derived=derived, geometry=SQUARE, center_lat=0.5, center_lon=0.5))
    session.add(Category(id=1, code="SJ01", kind="事件", major="市容环境", minor="暴露垃圾",
                         element="环卫", limit_hours=8.0, urgent_limit_hours=2.0))
    parents = {a[0]: a[4] for a in AREAS}
    n = 0
    for grid, count in CASES_IN.items():
        for _ in range(count):
            n += 1
            at = datetime(2026, 10, n, 9, 0)
            community = parents[grid]
            session.add(Case(external_id=f"C{n}", source=SOURCE_PATROL, category_id=1, lat=0.5,
                             lon=0.5, grid_id=grid, community_id=community,
                             street_id=parents[community], status=STATUS_REGISTERED,
                             reported_at=at, registered_at=at))
    session.commit()


def test_descendants_do_not_follow_code_prefixes(session: Session) -> None:
    build_opaque_city(session)
    w1 = session.get(Area, 2)
    assert w1 is not None
    assert [a.code for a in descendants_at_level(session, w1, LEVEL_GRID)] == ["G-1", "G-2"]
    assert [a.code for a in hierarchy.descendants_at_level(session, 3, LEVEL_GRID)] == [
        "0502A-0", "306.0-0"]
    assert hierarchy.counts_below(session, 1) == {LEVEL_STREET: 2, LEVEL_COMMUNITY: 3,
                                                  LEVEL_GRID: 4}
    assert hierarchy.counts_below(session, 2) == {LEVEL_COMMUNITY: 1, LEVEL_GRID: 2}


def test_grid_counts_and_streets_of_grids(session: Session) -> None:
    build_opaque_city(session)
    assert hierarchy.grid_counts(session, LEVEL_STREET) == {2: 2, 3: 2}
    assert hierarchy.grid_counts(session, LEVEL_COMMUNITY) == {4: 2, 5: 1, 6: 1}
    assert hierarchy.grid_counts(session, LEVEL_DISTRICT) == {1: 4}
    assert hierarchy.grid_counts(session, LEVEL_GRID) == {7: 1, 8: 1, 9: 1, 10: 1}
    assert hierarchy.grids_inside(session, None) == 4
    assert hierarchy.grids_inside(session, 2) == 2
    assert hierarchy.grids_inside(session, 9) == 1
    assert hierarchy.street_of_grids(session) == {7: 2, 8: 2, 9: 3, 10: 3}
    assert hierarchy.street_of_grids(session, 3) == {9: 3, 10: 3}


def test_ancestors_and_lineage(session: Session) -> None:
    build_opaque_city(session)
    assert [a.code for a in hierarchy.ancestors(session, 9)] == ["CITY", "W10", "306.0",
                                                                 "306.0-0"]
    grid = session.get(Area, 7)
    assert grid is not None
    assert [a.code for a in lineage(session, grid)] == ["CITY", "W1", "0306", "G-1"]


def test_children_to_show_skip_derived_levels(session: Session) -> None:
    build_opaque_city(session)
    assert [a.code for a in hierarchy.children_to_show(session, 1)] == ["W1", "W10"]
    assert [a.code for a in hierarchy.children_to_show(session, 4)] == ["G-1", "G-2"]
    assert hierarchy.children_to_show(session, 5) == []  # only its derived grid below
    # A street over a derived community shows the community's grids in its place.
    session.add(Area(id=11, code="W2", name="Ward 2", level=LEVEL_STREET, parent_id=1,
                     geometry=SQUARE, center_lat=0.5, center_lon=0.5))
    session.add(Area(id=12, code="W2-0", name="Ward 2", level=LEVEL_COMMUNITY, parent_id=11,
                     derived=True, geometry=SQUARE, center_lat=0.5, center_lon=0.5))
    for k, code in ((13, "X"), (14, "Y")):
        session.add(Area(id=k, code=code, name=code, level=LEVEL_GRID, parent_id=12,
                         geometry=SQUARE, center_lat=0.5, center_lon=0.5))
    session.commit()
    assert [a.code for a in hierarchy.children_to_show(session, 11)] == ["X", "Y"]


def test_indicators_by_area_count_cases_and_grids_by_parent_links(session: Session) -> None:
    build_opaque_city(session)
    streets = indicators_by_area(session, OCTOBER, level=LEVEL_STREET, now=NOW)
    assert {k: (v.registered, v.composite and v.composite.grids) for k, v in streets.items()} == {
        2: (4, 2), 3: (2, 2)}
    under_w10 = indicators_by_area(session, OCTOBER, level=LEVEL_GRID, parent_id=3, now=NOW)
    assert {k: v.registered for k, v in under_w10.items()} == {10: 0, 9: 2}  # code order
    assert list(under_w10) == [10, 9]  # "0502A-0" < "306.0-0"
    whole = indicators(session, OCTOBER, now=NOW)
    assert whole.registered == 6 and whole.composite is not None and whole.composite.grids == 4
    w1 = indicators(session, OCTOBER, area_id=2, now=NOW)
    assert w1.registered == 4 and w1.composite is not None and w1.composite.grids == 2


def test_grid_page_of_a_precinct_with_a_derived_grid_lists_its_siblings(session: Session) -> None:
    build_opaque_city(session)
    view = grid_view(session, "306.0", OCTOBER, NOW, scope=Scope.everything())
    assert view is not None
    assert view.map_parent.code == "W10" and view.child_level == LEVEL_COMMUNITY
    assert [ref.code for ref, _ in view.children] == ["0502A", "306.0"]
    assert [ref.code for ref, s in view.children if s.registered] == ["306.0"]
    street = grid_view(session, "W1", OCTOBER, NOW, scope=Scope.everything())
    assert street is not None and street.child_level == LEVEL_COMMUNITY
    assert [ref.code for ref, _ in street.children] == ["0306"]
    assert street.roster.below == {LEVEL_COMMUNITY: 1, LEVEL_GRID: 2}


def test_an_older_database_gains_the_derived_column(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    from queries.engine import init_db, make_engine

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:  # the areas table as the first release made it
        conn.execute("CREATE TABLE areas (id INTEGER PRIMARY KEY, code VARCHAR(14) UNIQUE, "
                     "name VARCHAR(64), level VARCHAR(16), parent_id INTEGER, geometry TEXT, "
                     "center_lat FLOAT, center_lon FLOAT, area_m2 FLOAT, leader VARCHAR(32), "
                     "leader_phone VARCHAR(20), workers TEXT, responsible_unit VARCHAR(64), "
                     "unit_leader VARCHAR(32))")
        conn.execute("INSERT INTO areas (id, code, name, level, geometry, center_lat, "
                     "center_lon, area_m2) VALUES (1, 'CITY', '全市', 'district', '{}', 0, 0, 0)")
    engine = make_engine(f"sqlite:///{path}")
    init_db(engine)
    init_db(engine)  # a second run finds the column and leaves it
    with Session(engine) as session:
        area = session.get(Area, 1)
        assert area is not None and area.derived is False
    engine.dispose()
