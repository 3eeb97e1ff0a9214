"""A plain area locator for the importer's tests, with the interface of ingest.spatial.

The boundaries importer (ingest/spatial.py) provides the real ``AreaLocator``; these tests
use this small one over shapely so they exercise the case pipeline alone, on areas whose
answers are known (the hand-built city, the sample boundaries).
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass

import shapely
from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from queries.models import LEVEL_COMMUNITY, LEVEL_GRID, LEVEL_STREET, Area


@dataclass(frozen=True)
class AreaChain:
    """The ids of a case's areas; lower levels None when unknown."""

    street_id: int
    community_id: int | None = None
    grid_id: int | None = None

    def contains(self, other: AreaChain) -> bool:
        """True when ``other`` lies within this chain (same street, and below where known)."""
        return (self.street_id == other.street_id
                and self.community_id in (None, other.community_id)
                and self.grid_id in (None, other.grid_id))


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split()).casefold()


class SimpleLocator:
    """Point-in-polygon over the deepest areas, and lookup by code or name."""

    def __init__(self, areas: list[tuple[int, str, str, str, int | None, str]]) -> None:
        by_id = {a[0]: a for a in areas}
        self.chains: dict[int, AreaChain] = {}
        for area_id, _code, _name, level, _parent, _geometry in areas:
            ids: dict[str, int] = {}
            cursor: int | None = area_id
            while cursor is not None:
                ids[by_id[cursor][3]] = cursor
                cursor = by_id[cursor][4]
            if LEVEL_STREET in ids:
                self.chains[area_id] = AreaChain(ids[LEVEL_STREET], ids.get(LEVEL_COMMUNITY),
                                                 ids.get(LEVEL_GRID))
        self.names: dict[tuple[str, str], int] = {}
        for area_id, code, name, level, _parent, _geometry in areas:
            if area_id in self.chains:
                self.names.setdefault((_norm(code), level), area_id)
                self.names.setdefault((_norm(name), level), area_id)
        order = {LEVEL_GRID: 0, LEVEL_COMMUNITY: 1, LEVEL_STREET: 2}
        deepest = sorted((a for a in areas if a[0] in self.chains), key=lambda a: order[a[3]])
        self.ids = [a[0] for a in deepest]
        self.polygons = [shape(json.loads(a[5])) for a in deepest]
        self.tree = shapely.STRtree(self.polygons)

    @classmethod
    def load(cls, session: Session) -> SimpleLocator:
        """Read every area with its geometry."""
        rows = session.execute(select(Area.id, Area.code, Area.name, Area.level, Area.parent_id,
                                      Area.geometry)).all()
        return cls([tuple(r) for r in rows])

    def locate(self, lon: float, lat: float) -> AreaChain | None:
        """Return the deepest chain whose polygon covers the point."""
        hits = self.tree.query(shapely.Point(lon, lat), predicate="intersects")
        if len(hits) == 0:
            return None
        return self.chains[self.ids[int(min(hits))]]

    def find(self, text: str, level: str | None = None) -> AreaChain | None:
        """Return the chain of the area with this code or name."""
        key = _norm(text)
        levels = (level,) if level else (LEVEL_GRID, LEVEL_COMMUNITY, LEVEL_STREET)
        for lv in levels:
            area_id = self.names.get((key, lv))
            if area_id is not None:
                chain = self.chains[area_id]
                if lv == LEVEL_STREET:
                    return AreaChain(chain.street_id)
                if lv == LEVEL_COMMUNITY:
                    return AreaChain(chain.street_id, chain.community_id)
                return chain
        return None
