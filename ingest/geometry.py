"""Geometry of the demo city: an outline cut into nested cells that tile each other exactly.

Cells are drawn in local metres (x east, y north, origin at the district centre) and moved to
WGS-84 longitude/latitude by one affine map. Exact tiling comes from a single noded
arrangement: the boundaries of every cell are snapped to a 1e-6° grid and polygonised once,
and every area at every level is a union of those same faces. Neighbours therefore share
identical vertices, and the coordinates survive rounding to six decimals unchanged.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely import Polygon
from shapely.ops import polylabel

GRID_SIZE = 1e-6  # degrees; six decimals
DECIMALS = 6
M_PER_DEG = 6_371_008.8 * math.pi / 180  # metres per degree of latitude, spherical Earth


@dataclass(frozen=True)
class LocalFrame:
    """A local equirectangular frame around (lat0, lon0): metres <-> degrees."""

    lat0: float
    lon0: float

    @property
    def m_per_deg_lon(self) -> float:
        """Metres per degree of longitude at the frame's latitude."""
        return M_PER_DEG * math.cos(math.radians(self.lat0))

    def to_lonlat(self, geom: shapely.Geometry) -> shapely.Geometry:
        """Map a geometry in local metres to longitude/latitude."""
        kx, ky = self.m_per_deg_lon, M_PER_DEG
        return shapely.transform(
            geom, lambda xy: np.column_stack((self.lon0 + xy[:, 0] / kx, self.lat0 + xy[:, 1] / ky))
        )

    def area_m2(self, geom: shapely.Geometry) -> float:
        """Return the area in square metres of a longitude/latitude geometry."""
        return float(geom.area * self.m_per_deg_lon * M_PER_DEG)

    def from_origin_m(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Distance in metres from the frame's origin, on the local plane."""
        return np.hypot((np.asarray(lon) - self.lon0) * self.m_per_deg_lon,
                        (np.asarray(lat) - self.lat0) * M_PER_DEG)

    def offset(self, lat: np.ndarray, lon: np.ndarray, east_m: np.ndarray,
               north_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Move points by metres east and north; return (lat, lon)."""
        return lat + north_m / M_PER_DEG, lon + east_m / self.m_per_deg_lon


def district_outline(rng: np.random.Generator, area_m2: float, vertices: int = 18) -> Polygon:
    """Draw a slightly irregular, wider-than-tall outline of ``area_m2``, centroid at the origin."""
    jitter = rng.uniform(-0.35, 0.35, vertices)
    angles = np.sort((np.arange(vertices) + jitter) * 2 * np.pi / vertices)
    noise = rng.normal(0.0, 1.0, vertices)
    smooth = (np.roll(noise, 1) + 2 * noise + np.roll(noise, -1)) / 4
    radius = np.clip(1 + 0.2 * smooth, 0.6, 1.4)
    shape = Polygon(np.column_stack((1.25 * radius * np.cos(angles),
                                     0.85 * radius * np.sin(angles))))
    scale = math.sqrt(area_m2 / shape.area)
    cx, cy = shape.centroid.x, shape.centroid.y
    return shapely.transform(shape, lambda xy: (xy - (cx, cy)) * scale)


def points_in(rng: np.random.Generator, polygon: shapely.Geometry, n: int,
              decimals: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Sample ``n`` points uniformly inside ``polygon`` by rejection; return (x, y).

    With ``decimals`` the points are rounded first and tested after rounding, so a rounded
    point is still strictly inside.
    """
    shapely.prepare(polygon)
    x0, y0, x1, y1 = polygon.bounds
    fill = max(polygon.area / max((x1 - x0) * (y1 - y0), 1e-30), 0.05)
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    got = 0
    while got < n:
        batch = int((n - got) / fill * 1.3) + 16
        x = rng.uniform(x0, x1, batch)
        y = rng.uniform(y0, y1, batch)
        if decimals is not None:
            x, y = np.round(x, decimals), np.round(y, decimals)
        keep = shapely.contains_xy(polygon, x, y)
        xs.append(x[keep])
        ys.append(y[keep])
        got += int(keep.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def sample_point_in_grid(rng: np.random.Generator,
                         grid_polygon: shapely.Geometry) -> tuple[float, float]:
    """Return one (lat, lon) inside a grid polygon in lon/lat, rounded to six decimals.

    Build the polygon from an area's stored geometry with ``shapely.from_geojson``.
    """
    lon, lat = points_in(rng, grid_polygon, 1, DECIMALS)
    return float(lat[0]), float(lon[0])


def voronoi_split(rng: np.random.Generator, parent: shapely.Geometry, n: int,
                  relax: int = 3) -> list[shapely.Geometry]:
    """Cut ``parent`` into ``n`` cells: Voronoi cells of relaxed seeds, clipped to the parent.

    Lloyd relaxation (moving each seed to its cell's centre) evens out the cell sizes. A cell
    may come out in several parts where the parent is not convex; ``snap_partition`` mends it.
    """
    if n == 1:
        return [parent]
    x, y = points_in(rng, parent, n)
    for _ in range(relax + 1):
        diagram = shapely.voronoi_polygons(shapely.multipoints(np.column_stack((x, y))),
                                           extend_to=parent, ordered=True)
        cells = shapely.intersection(np.asarray(diagram.geoms), parent)
        centres = shapely.centroid(cells)
        inside = shapely.contains(cells, centres)
        centres = np.where(inside, centres, shapely.point_on_surface(cells))
        x, y = shapely.get_x(centres), shapely.get_y(centres)
    return list(cells)


def snap_partition(district: Polygon, cells: list[list[shapely.Geometry]],
                   parents: list[np.ndarray]) -> list[list[Polygon]]:
    """Turn nested float cells (lon/lat) into exact, single-polygon cells on the 1e-6° grid.

    ``cells[k]`` are the cells of level k (streets, communities, grids) and ``parents[k][i]``
    the index of cell i's parent in level k-1 (all 0 for the top level). Returns the exact
    polygons of each level; every parent is exactly the union of its children.
    """
    finest = cells[-1]
    lines = shapely.union_all(shapely.boundary(np.array([district, *finest], dtype=object)),
                              grid_size=GRID_SIZE)
    faces = np.asarray(shapely.get_parts(shapely.polygonize(shapely.get_parts(lines))))
    probes = shapely.point_on_surface(faces)
    face_parent = np.zeros(len(faces), dtype=int)
    result: list[list[Polygon]] = []
    for level, parent_of in zip(cells, parents):
        labels = _label_faces(probes, np.asarray(level, dtype=object), parent_of, face_parent)
        labels = _make_connected(faces, labels, parent_of)
        result.append([_union(faces[labels == i]) for i in range(len(level))])
        face_parent = labels
    return result


def _label_faces(probes: np.ndarray, cells: np.ndarray, parent_of: np.ndarray,
                 face_parent: np.ndarray) -> np.ndarray:
    """Give each face the cell holding its probe point, among its parent's children."""
    tree = shapely.STRtree(cells)
    hit_face, hit_cell = tree.query(probes, predicate="intersects")
    labels = np.full(len(probes), -1)
    for f, c in zip(hit_face.tolist(), hit_cell.tolist()):
        if labels[f] < 0 and parent_of[c] == face_parent[f]:
            labels[f] = c
    for f in np.flatnonzero(labels < 0).tolist():
        # Snapping moved the face off its float cell: take the nearest sibling.
        siblings = np.flatnonzero(parent_of == face_parent[f])
        labels[f] = siblings[np.argmin(shapely.distance(cells[siblings], probes[f]))]
    return labels


def _make_connected(faces: np.ndarray, labels: np.ndarray, parent_of: np.ndarray) -> np.ndarray:
    """Hand detached parts of a cell to the sibling sharing the longest border with them."""
    labels = labels.copy()
    for _ in range(len(faces)):
        moved = False
        for cell in range(len(parent_of)):
            members = np.flatnonzero(labels == cell)
            if len(members) == 0:
                raise ValueError(f"cell {cell} lost every face while snapping to the grid")
            merged = _union(faces[members], single=False)
            if isinstance(merged, Polygon):
                continue
            parts = sorted(merged.geoms, key=lambda p: -p.area)
            for part in parts[1:]:
                in_part = members[shapely.within(shapely.point_on_surface(faces[members]), part)]
                labels[in_part] = _best_neighbour(faces, labels, parent_of, part, cell)
                moved = True
        if not moved:
            return labels
    raise ValueError("cannot make every cell a single polygon")


def _best_neighbour(faces: np.ndarray, labels: np.ndarray, parent_of: np.ndarray,
                    part: Polygon, cell: int) -> int:
    """Return the sibling of ``cell`` sharing the longest border with ``part``."""
    siblings = parent_of == parent_of[cell]
    near = np.flatnonzero(shapely.intersects(faces, part) & siblings[labels] & (labels != cell))
    if len(near) == 0:
        candidates = np.flatnonzero(siblings & (np.arange(len(parent_of)) != cell))
        near_faces = np.flatnonzero(np.isin(labels, candidates))
        return int(labels[near_faces[np.argmin(shapely.distance(faces[near_faces], part))]])
    shared = shapely.length(shapely.intersection(faces[near], part.boundary))
    totals: dict[int, float] = {}
    for label, length in zip(labels[near].tolist(), shared.tolist()):
        totals[label] = totals.get(label, 0.0) + length
    return max(sorted(totals), key=lambda k: totals[k])


def _union(faces: np.ndarray, single: bool = True) -> shapely.Geometry:
    merged = shapely.union_all(faces, grid_size=GRID_SIZE)
    if single and not isinstance(merged, Polygon):
        raise ValueError(f"expected one polygon, got {merged.geom_type}")
    return merged


def row_major(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Return the numbering order: rows north to south, west to east within a row.

    ``n`` cells make ``round(sqrt(n))`` rows of near-equal size, cut by latitude.
    """
    rows = max(1, round(math.sqrt(len(lat))))
    by_lat = np.argsort(-np.asarray(lat), kind="stable")
    return np.concatenate([row[np.argsort(np.asarray(lon)[row], kind="stable")]
                           for row in np.array_split(by_lat, rows)])


def label_point(polygon: Polygon) -> tuple[float, float]:
    """Return a (lat, lon) well inside the polygon (pole of inaccessibility), six decimals."""
    point = polylabel(polygon, tolerance=1e-5)
    lat, lon = round(point.y, DECIMALS), round(point.x, DECIMALS)
    if not shapely.contains_xy(polygon, lon, lat):
        point = polygon.representative_point()
        lat, lon = point.y, point.x
    return lat, lon


def to_geojson(polygon: Polygon) -> str:
    """Serialise a lon/lat polygon as GeoJSON text with six-decimal coordinates."""
    rings = [polygon.exterior, *polygon.interiors]
    coordinates = [np.round(shapely.get_coordinates(ring), DECIMALS).tolist() for ring in rings]
    return json.dumps({"type": "Polygon", "coordinates": coordinates}, separators=(",", ":"))
