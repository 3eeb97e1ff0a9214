"""Where is a case? Points and area fields resolved to the ids of the areas holding the case.

The importers use one ``AreaLocator`` per run: it reads every area once, builds an STRtree of
prepared polygons, and answers single points, whole batches (vectorised) and area fields
(a code or a name). The answer is an ``AreaChain``: the street, community and grid ids a case
row stores. The hierarchy comes from ``Area.parent_id`` only — codes are opaque strings and
need not nest ("0502A", "W03").

Rules, chosen so the same input always gives the same answer:
- the deepest area containing the point wins; a point inside a street but outside all of its
  communities gets ``AreaChain(street, None, None)``;
- a point on an edge shared by two areas of the same level goes to the one whose interior holds
  it if any, else to the area with the smallest code (a deterministic tie-break, independent of
  the order the areas were loaded in);
- derived areas (``Area.derived``: the one child a missing level gets, same outline as its
  parent) are not in the tree: a chain reaching an area whose only child is derived continues
  into it, so a two-level city's cases still get a grid id.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from queries.models import LEVEL_COMMUNITY, LEVEL_DISTRICT, LEVEL_GRID, LEVEL_STREET, LEVELS, Area

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class AreaChain:
    """The ids of a case's areas, top down; lower levels are None when unknown."""

    street_id: int
    community_id: int | None = None
    grid_id: int | None = None

    def contains(self, other: AreaChain) -> bool:
        """Return True when ``other`` lies inside this chain (equal ids where this one knows)."""
        if self.street_id != other.street_id:
            return False
        if self.community_id is not None and self.community_id != other.community_id:
            return False
        return self.grid_id is None or self.grid_id == other.grid_id

    @property
    def deepest_id(self) -> int:
        """Return the id of the lowest known area of the chain."""
        return self.grid_id or self.community_id or self.street_id


@dataclass(frozen=True)
class _AreaRow:
    id: int
    code: str
    name: str
    level: str
    parent_id: int | None
    derived: bool


@dataclass(frozen=True)
class _LevelTree:
    tree: shapely.STRtree
    geoms: np.ndarray  # prepared polygons, in code order
    chains: np.ndarray  # the AreaChain of each polygon


def normalise(text: str) -> str:
    """Return an area field reduced for exact matching: NFKC, trimmed, case-folded, one space.

    NFKC folds full-width letters and digits ("０５０２Ａ") to ASCII, so the same code typed on a
    Chinese keyboard matches.
    """
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()


class AreaLocator:
    """Resolve points and area fields to ``AreaChain`` s; build once per import with ``load``."""

    def __init__(self, rows: Sequence[_AreaRow], geometries: Sequence[shapely.Geometry]) -> None:
        self._rows = {row.id: row for row in rows}
        self._chains = self._build_chains(rows)
        by_code: dict[str, list[int]] = {}
        by_name: dict[str, list[int]] = {}
        for row in rows:
            by_code.setdefault(normalise(row.code), []).append(row.id)
            by_name.setdefault(normalise(row.name), []).append(row.id)
        self._by_code = by_code
        self._by_name = by_name

        # One tree per level, deepest first: most points are settled by the grid tree alone,
        # so each point meets about one polygon instead of one per level.
        keep = [i for i, row in enumerate(rows)
                if row.level != LEVEL_DISTRICT and not row.derived and row.id in self._chains
                and geometries[i] is not None and not shapely.is_empty(geometries[i])]
        self._levels: list[_LevelTree] = []
        for level in reversed(LEVELS[1:]):
            members = sorted((i for i in keep if rows[i].level == level),
                             key=lambda i: rows[i].code)
            if members:
                geoms = np.array([geometries[i] for i in members], dtype=object)
                shapely.prepare(geoms)
                chains = np.empty(len(members), dtype=object)
                chains[:] = [self._chains[rows[i].id] for i in members]
                self._levels.append(_LevelTree(shapely.STRtree(geoms), geoms, chains))

    @classmethod
    def load(cls, session: Session) -> AreaLocator:
        """Read every area of the database once and build the locator."""
        result = session.execute(
            select(Area.id, Area.code, Area.name, Area.level, Area.parent_id, Area.derived,
                   Area.geometry).order_by(Area.id)
        ).all()
        rows = [_AreaRow(r.id, r.code, r.name, r.level, r.parent_id, bool(r.derived))
                for r in result]
        texts = np.array([r.geometry or None for r in result], dtype=object)
        geometries = list(shapely.from_geojson(texts, on_invalid="ignore")) if len(texts) else []
        return cls(rows, geometries)

    # -- chains -------------------------------------------------------------------------------

    @staticmethod
    def _build_chains(rows: Sequence[_AreaRow]) -> dict[int, AreaChain]:
        """Return the chain of every area at street level or below that has a street above it."""
        by_id = {row.id: row for row in rows}
        kids: dict[int, list[_AreaRow]] = {}
        for row in rows:
            if row.parent_id is not None:
                kids.setdefault(row.parent_id, []).append(row)

        chains: dict[int, AreaChain] = {}
        for row in rows:
            if row.level == LEVEL_DISTRICT:
                continue
            ids: dict[str, int] = {}
            node: _AreaRow | None = row
            seen: set[int] = set()
            while node is not None and node.id not in seen:  # a parent cycle ends the walk
                seen.add(node.id)
                ids.setdefault(node.level, node.id)
                node = by_id.get(node.parent_id) if node.parent_id is not None else None
            # Continue down through derived-only children: they repeat this area's outline.
            node = row
            while True:
                below = kids.get(node.id, [])
                if len(below) != 1 or not below[0].derived:
                    break
                node = below[0]
                ids.setdefault(node.level, node.id)
            if LEVEL_STREET in ids:
                chains[row.id] = AreaChain(ids[LEVEL_STREET], ids.get(LEVEL_COMMUNITY),
                                           ids.get(LEVEL_GRID))
        return chains

    def chain_of(self, area_id: int) -> AreaChain | None:
        """Return the chain of one area (None for the district or an area with no street)."""
        return self._chains.get(area_id)

    def code_of(self, area_id: int) -> str:
        """Return an area's code, for messages."""
        return self._rows[area_id].code

    # -- points -------------------------------------------------------------------------------

    def locate(self, lon: float, lat: float) -> AreaChain | None:
        """Return the chain of the deepest area holding the WGS-84 point, or None if outside."""
        return self.locate_many([lon], [lat])[0]

    def locate_many(self, lons: Iterable[float], lats: Iterable[float]) -> list[AreaChain | None]:
        """Locate a batch of WGS-84 points at once (one tree query per level for the batch)."""
        x = np.asarray(list(lons) if not isinstance(lons, np.ndarray) else lons, dtype=float)
        y = np.asarray(list(lats) if not isinstance(lats, np.ndarray) else lats, dtype=float)
        if x.shape != y.shape:
            raise ValueError(f"{x.size} longitudes but {y.size} latitudes")
        if x.size == 0 or not self._levels:
            return [None] * x.size
        finite = np.isfinite(x) & np.isfinite(y)
        points = shapely.points(np.where(finite, x, 0.0), np.where(finite, y, 0.0))
        found = np.full(x.size, None, dtype=object)
        remaining = np.flatnonzero(finite)
        for level in self._levels:
            if remaining.size == 0:
                break
            which, hit = level.tree.query(points[remaining], predicate="intersects")
            if which.size == 0:
                continue
            # Only a point with several candidates needs the interior test: interior over
            # edge, then the smallest code (members are in code order, so the lowest index).
            inside = np.ones(which.size, dtype=bool)
            several = np.bincount(which, minlength=remaining.size)[which] > 1
            if several.any():
                inside[several] = shapely.contains_properly(
                    level.geoms[hit[several]], points[remaining[which[several]]])
            order = np.lexsort((hit, ~inside, which))
            which, hit = which[order], hit[order]
            first = np.ones(which.size, dtype=bool)
            first[1:] = which[1:] != which[:-1]
            found[remaining[which[first]]] = level.chains[hit[first]]
            settled = np.zeros(remaining.size, dtype=bool)
            settled[which] = True
            remaining = remaining[~settled]
        return found.tolist()

    # -- area fields --------------------------------------------------------------------------

    def find(self, text: str, level: str | None = None) -> AreaChain | None:
        """Return the chain of the area whose code or name is ``text`` (exact, normalised).

        Codes win over names. An answer that is ambiguous — two different chains match — is
        None, like an unknown one: a case must not land in a guessed area.
        """
        key = normalise(text)
        if not key:
            return None
        for index in (self._by_code, self._by_name):
            ids = [i for i in index.get(key, [])
                   if level is None or self._rows[i].level == level]
            chains = {self._chains[i] for i in ids if i in self._chains}
            if len(chains) == 1:
                return chains.pop()
            if len(chains) > 1:
                return self._narrowest(chains)
        return None

    @staticmethod
    def _narrowest(chains: set[AreaChain]) -> AreaChain | None:
        """Return the deepest chain when all candidates nest in it (a street and its derived
        community share a name), else None."""
        deepest = max(chains, key=lambda c: (c.community_id is not None, c.grid_id is not None))
        return deepest if all(c.contains(deepest) for c in chains) else None


class SectionLocator:
    """Resolve points to 路长 road sections (``RoadSection``): one STRtree of their outlines.

    Sections are a layer of their own beside the grid hierarchy: a case has a grid and may
    have a section. Buffered road lines overlap where roads cross; a point in several sections
    goes to the one with the smallest code, whatever order they were loaded in.
    """

    def __init__(self, ids: Sequence[int], codes: Sequence[str],
                 geometries: Sequence[shapely.Geometry | None]) -> None:
        keep = sorted((i for i, g in enumerate(geometries)
                       if g is not None and not shapely.is_empty(g)), key=lambda i: codes[i])
        self._ids = np.array([ids[i] for i in keep], dtype=np.int64)
        self._geoms = np.array([geometries[i] for i in keep], dtype=object)
        shapely.prepare(self._geoms)
        self._tree = shapely.STRtree(self._geoms)

    @classmethod
    def load(cls, session: Session) -> SectionLocator:
        """Read every section's outline once and build the locator."""
        from queries.models import RoadSection  # the model module imports nothing from here

        result = session.execute(select(RoadSection.id, RoadSection.code,
                                        RoadSection.geometry).order_by(RoadSection.id)).all()
        texts = np.array([r.geometry or None for r in result], dtype=object)
        geometries = list(shapely.from_geojson(texts, on_invalid="ignore")) if len(texts) else []
        return cls([r.id for r in result], [r.code for r in result], geometries)

    def __len__(self) -> int:
        return int(self._ids.size)

    def locate(self, lon: float, lat: float) -> int | None:
        """Return the id of the section holding the WGS-84 point, or None."""
        return self.locate_many([lon], [lat])[0]

    def locate_many(self, lons: Iterable[float], lats: Iterable[float]) -> list[int | None]:
        """Locate a batch of WGS-84 points with one tree query (None: in no section)."""
        x = np.asarray(list(lons), dtype=float)
        y = np.asarray(list(lats), dtype=float)
        if x.shape != y.shape:
            raise ValueError(f"{x.size} longitudes but {y.size} latitudes")
        found: list[int | None] = [None] * x.size
        if x.size == 0 or self._ids.size == 0:
            return found
        finite = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
        which, hit = self._tree.query(shapely.points(x[finite], y[finite]),
                                      predicate="intersects")
        # Members are in code order: the lowest index hit per point is the smallest code.
        order = np.lexsort((hit, which))
        which, hit = which[order], hit[order]
        first = np.ones(which.size, dtype=bool)
        first[1:] = which[1:] != which[:-1]
        for point, member in zip(finite[which[first]].tolist(), hit[first].tolist(),
                                 strict=True):
            found[point] = int(self._ids[member])
        return found
