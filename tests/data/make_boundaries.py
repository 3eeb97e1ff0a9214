"""Write the boundary files of "Fairhaven", a small fictional US-style city, for the tests.

    python tests/data/make_boundaries.py      # rewrites the three files next to this script

Coordinates are Massachusetts State Plane (EPSG:2249, US survey feet), as a real city's GIS
office exports them. Deterministic: the same files every run, no randomness.

- ``fairhaven_wards.geojson`` — 5 wards (→ streets), field ``WARD`` ("01" … "05") and
  ``NAME`` ("Ward 1" …); NO ``crs`` member. Ward 2 is split across two rows (south and north
  halves, same code); ward 4 is a MultiPolygon (the mainland strip and Gull Island); ward 5 is a
  self-intersecting "bowtie" (its top corners swapped), which ``make_valid`` repairs into two
  triangles.
- ``fairhaven_precincts.geojson`` — 10 precincts (→ communities) + one broken row, fields
  ``PRECINCT`` (codes "0101" … "0306" … "0502A", "0502B": letters and digits, zero-padded),
  ``WARD`` (the parent's code), ``NAME`` and ``PREC_NUM`` (the same precinct as a float:
  306.0 — how another export spells it); NO ``crs`` member. Precinct 0401 is a MultiPolygon
  with its island; row 11 ("0999") is a degenerate polygon with no area (quarantined).
- ``fairhaven_blocks.geojson`` — 20 blocks (→ unit grids), two per precinct, fields ``BLOCK``
  ("0101-1" …), ``PRECINCT``, ``NAME``; it DOES declare its CRS
  (``urn:ogc:def:crs:EPSG::2249``), so no ``--crs`` is needed.

The two-level city is wards + precincts (no blocks: the grid level is derived); the
three-level city adds the blocks.

Layout, in feet from the south-west corner (X0, Y0)::

    y 9000 ┌──────────── ward 05: precincts 0502A (x<8000) | 0502B ────────────┐
    y 6000 ├── 01 ──┬── 02 ──┬── 03 ──┬── 04 ──┤        ┌─┐ Gull Island (ward 04,
           │  0102  │  0202  │  0306  │  0402  │        └─┘ precinct 0401), x 17000–18000
    y 3000 │  0101  │  0201  │  0301  │  0401  │            y 1000–2000
    y    0 └────────┴────────┴────────┴────────┘
           x 0    4000     8000    12000   16000
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent
X0, Y0 = 760_000.0, 2_930_000.0  # feet, EPSG:2249: south of Boston
STRIP, HALF = 4000.0, 3000.0
ISLAND = (17_000.0, 1_000.0, 18_000.0, 2_000.0)


def ring(x1: float, y1: float, x2: float, y2: float) -> list[list[float]]:
    """A closed counter-clockwise rectangle ring, in file coordinates."""
    pts = [(x1, y1), (x2, y1), (x2, y2), (x1, y2), (x1, y1)]
    return [[X0 + x, Y0 + y] for x, y in pts]


def polygon(*rings: list[list[float]]) -> dict:
    return {"type": "Polygon", "coordinates": list(rings)}


def feature(props: dict, geometry: dict) -> dict:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def wards() -> dict:
    features = []
    for w in (1, 2, 3, 4):
        x1, x2 = (w - 1) * STRIP, w * STRIP
        props = {"WARD": f"{w:02d}", "NAME": f"Ward {w}"}
        if w == 2:  # one ward in two rows: south half, north half
            features.append(feature(props, polygon(ring(x1, 0, x2, HALF))))
            features.append(feature(props, polygon(ring(x1, HALF, x2, 2 * HALF))))
        elif w == 4:
            features.append(feature(props, {"type": "MultiPolygon", "coordinates": [
                [ring(x1, 0, x2, 2 * HALF)], [ring(*ISLAND)]]}))
        else:
            features.append(feature(props, polygon(ring(x1, 0, x2, 2 * HALF))))
    # Ward 5, the bowtie: the top corners swapped, so the ring crosses itself at (8000, 7500).
    bowtie = [[X0 + x, Y0 + y] for x, y in
              [(0, 6000), (16000, 6000), (0, 9000), (16000, 9000), (0, 6000)]]
    features.append(feature({"WARD": "05", "NAME": "Ward 5"}, polygon(bowtie)))
    return {"type": "FeatureCollection", "name": "fairhaven_wards", "features": features}


PRECINCTS = (  # code, ward, x1, y1, x2, y2 (feet from the corner)
    ("0101", "01", 0, 0, 4000, 3000), ("0102", "01", 0, 3000, 4000, 6000),
    ("0201", "02", 4000, 0, 8000, 3000), ("0202", "02", 4000, 3000, 8000, 6000),
    ("0301", "03", 8000, 0, 12000, 3000), ("0306", "03", 8000, 3000, 12000, 6000),
    ("0401", "04", 12000, 0, 16000, 3000), ("0402", "04", 12000, 3000, 16000, 6000),
    ("0502A", "05", 0, 6000, 8000, 9000), ("0502B", "05", 8000, 6000, 16000, 9000),
)


def _number(code: str) -> float | None:
    digits = code.rstrip("AB")
    return float(int(digits)) if digits.isdigit() and digits == code else None


def precincts() -> dict:
    features = []
    for code, ward, x1, y1, x2, y2 in PRECINCTS:
        props = {"PRECINCT": code, "WARD": ward,
                 "NAME": f"Ward {int(ward)} Precinct {code[2:].lstrip('0')}",
                 "PREC_NUM": _number(code)}
        if code == "0401":  # the precinct that holds Gull Island
            geometry = {"type": "MultiPolygon", "coordinates": [
                [ring(x1, y1, x2, y2)], [ring(*ISLAND)]]}
        else:
            geometry = polygon(ring(x1, y1, x2, y2))
        features.append(feature(props, geometry))
    # A degenerate row: three collinear points, no area at all. Nothing can repair it.
    flat = [[X0 + x, Y0 + 500] for x in (1000, 2000, 3000, 1000)]
    features.append(feature({"PRECINCT": "0999", "WARD": "01", "NAME": "Ward 1 Precinct 99",
                             "PREC_NUM": 999.0}, polygon(flat)))
    return {"type": "FeatureCollection", "name": "fairhaven_precincts", "features": features}


def blocks() -> dict:
    features = []
    for code, _ward, x1, y1, x2, y2 in PRECINCTS:
        mid = (x1 + x2) / 2
        for k, (a, b) in enumerate(((x1, mid), (mid, x2)), start=1):
            features.append(feature({"BLOCK": f"{code}-{k}", "PRECINCT": code,
                                     "NAME": f"Block {code}-{k}"},
                                    polygon(ring(a, y1, b, y2))))
    return {"type": "FeatureCollection", "name": "fairhaven_blocks",
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2249"}},
            "features": features}


def write(name: str, doc: dict) -> Path:
    path = HERE / name
    path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    return path


def main() -> None:
    for name, doc in (("fairhaven_wards.geojson", wards()),
                      ("fairhaven_precincts.geojson", precincts()),
                      ("fairhaven_blocks.geojson", blocks())):
        path = write(name, doc)
        print(f"wrote {path} ({path.stat().st_size:,} bytes, {len(doc['features'])} features)")


if __name__ == "__main__":
    main()
