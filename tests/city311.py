"""A small US-style city for the 311 samples: three wards (street level) split into precincts.

The real exports behind issue 10 have no unit-grid level and name areas loosely ("Ward 3",
"03", "3"; precinct "306.0", "0306", "0502A"), so this city has wards and precincts only,
in WGS-84, with codes the mapping's normalisation rules produce::

    Harbor City HC
    ├── Ward 1 W1  lon −71.09…−71.08: precincts P101 (north), P102 (south)
    ├── Ward 3 W3  lon −71.08…−71.07: precincts P306 (north), P307 (south)
    └── Ward 5 W5  lon −71.07…−71.05: precincts P502A (north), P502B (south)

Latitudes run 42.34…42.37; north/south halves split at 42.355. City hall (the export's
default geocode) is at (−71.0587, 42.3594), in P502A.
"""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from queries.models import LEVEL_COMMUNITY, LEVEL_DISTRICT, LEVEL_STREET, Area

SOUTH, MIDDLE, NORTH = 42.34, 42.355, 42.37
WARDS = (("W1", "Ward 1", -71.09, -71.08, ("P101", "P102")),
         ("W3", "Ward 3", -71.08, -71.07, ("P306", "P307")),
         ("W5", "Ward 5", -71.07, -71.05, ("P502A", "P502B")))
CITY_HALL = (-71.0587, 42.3594)
TIMEZONE = "America/New_York"


def _box(west: float, east: float, south: float, north: float) -> str:
    ring = [[west, north], [east, north], [east, south], [west, south], [west, north]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def build_city311(session: Session) -> dict[str, int]:
    """Insert the city's areas; return area ids by code. Flushes, does not commit."""
    district = Area(code="HC", name="Harbor City", level=LEVEL_DISTRICT,
                    geometry=_box(-71.09, -71.05, SOUTH, NORTH), center_lon=-71.07,
                    center_lat=(SOUTH + NORTH) / 2)
    areas = {"HC": district}
    for code, name, west, east, precincts in WARDS:
        ward = Area(code=code, name=name, level=LEVEL_STREET, parent=district,
                    geometry=_box(west, east, SOUTH, NORTH), center_lon=(west + east) / 2,
                    center_lat=(SOUTH + NORTH) / 2)
        areas[code] = ward
        for precinct, (south, north) in zip(precincts, ((MIDDLE, NORTH), (SOUTH, MIDDLE)),
                                            strict=True):
            areas[precinct] = Area(code=precinct, name=f"Precinct {precinct[1:]}",
                                   level=LEVEL_COMMUNITY, parent=ward,
                                   geometry=_box(west, east, south, north),
                                   center_lon=(west + east) / 2, center_lat=(south + north) / 2)
    session.add_all(areas.values())
    session.flush()
    return {code: area.id for code, area in areas.items()}
