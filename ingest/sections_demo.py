"""The demo city's 路长 sections: ~136 stretches of road, each with a 路长 who checks in daily.

The demo district has named roads but no road lines, so the generator lays a loose lattice of
roads across the outline (north–south and east–west, gently wavy, about ``SPACING_M`` apart),
cuts them into ``SECTIONS`` stretches of similar length and buffers each by ``HALF_WIDTH_M``
metres (flat ends) into the section's polygon. Each section gets a 路长 (a unit head), the
unit, a phone and the street it mostly lies in as 责任单位. Check-ins: every day of the
history, each 路长 comes with their own steadiness (most nearly always, a few often not),
less often at weekends, for about an hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import shapely
from shapely import LineString, Polygon
from shapely.ops import substring

from ingest import names
from ingest.geometry import M_PER_DEG, LocalFrame, label_point, to_geojson

SECTIONS = 136  # the seed city's count (136 个责任区(路段))
SPACING_M = 620.0  # between parallel roads
HALF_WIDTH_M = 30.0  # the section is the road and this much on each side
MIN_PIECE_M = 250.0  # shorter clipped road ends are dropped
WAVE_STEP_M = 200.0
WAVE_SD_M = 18.0
CHECKIN_MINUTES = (75.0, 12.0, 15)  # mean, sd, floor
WEEKEND_FACTOR = 0.6
CODE_PREFIX = "LZ"
SOURCE = "demo"


@dataclass(frozen=True)
class DemoSections:
    """The section rows (ready for insert), in code order."""

    rows: list[dict]


def _to_metres(frame: LocalFrame, geom: shapely.Geometry) -> shapely.Geometry:
    kx, ky = frame.m_per_deg_lon, M_PER_DEG
    return shapely.transform(
        geom, lambda xy: np.column_stack(((xy[:, 0] - frame.lon0) * kx,
                                          (xy[:, 1] - frame.lat0) * ky)))


def _roads(rng: np.random.Generator, outline: Polygon) -> list[LineString]:
    """Lay wavy north–south and east–west roads across the outline (local metres)."""
    minx, miny, maxx, maxy = outline.bounds
    lines: list[LineString] = []
    for vertical in (True, False):
        low, high = (minx, maxx) if vertical else (miny, maxy)
        along_low, along_high = (miny, maxy) if vertical else (minx, maxx)
        for at in np.arange(low + SPACING_M / 2, high, SPACING_M):
            at = at + rng.normal(0.0, SPACING_M / 10)
            steps = np.arange(along_low - WAVE_STEP_M, along_high + 2 * WAVE_STEP_M, WAVE_STEP_M)
            side = at + np.cumsum(rng.normal(0.0, WAVE_SD_M, steps.size)) * 0.5
            xy = np.column_stack((side, steps) if vertical else (steps, side))
            lines.append(LineString(xy))
    return lines


def _pieces(outline: Polygon, roads: list[LineString]) -> list[tuple[int, LineString]]:
    """Clip every road to the outline; return (road index, piece) for pieces worth keeping."""
    out: list[tuple[int, LineString]] = []
    for k, road in enumerate(roads):
        clipped = road.intersection(outline)
        parts = getattr(clipped, "geoms", [clipped])
        out += [(k, p) for p in parts
                if isinstance(p, LineString) and p.length >= MIN_PIECE_M]
    return out


def _counts(lengths: np.ndarray, total: int) -> np.ndarray:
    """Share ``total`` sections out over pieces by length, at least one each."""
    share = lengths / lengths.sum() * total
    whole = np.maximum(1, np.floor(share).astype(int))
    while whole.sum() > total:  # many short pieces: take back from the most divided
        whole[int(np.argmax(whole - share))] -= 1
    rest = total - whole.sum()
    whole[np.argsort(-(share - whole), kind="stable")[:rest]] += 1
    return whole


def build_sections(rng: np.random.Generator, frame: LocalFrame, district: Polygon,
                   streets: list[tuple[str, Polygon]], first_id: int) -> DemoSections:
    """Draw the sections over the district (lon/lat); ``streets`` are (name, outline) pairs."""
    outline = _to_metres(frame, district)
    roads = _roads(rng, outline)
    road_names = list(rng.choice(names.ROADS, size=len(roads), replace=False))
    pieces = _pieces(outline, roads)
    counts = _counts(np.array([p.length for _, p in pieces]), SECTIONS)
    stretches: list[tuple[str, LineString]] = []
    numbered: dict[int, int] = {}
    for (road, piece), n in zip(pieces, counts.tolist(), strict=True):
        for j in range(n):
            numbered[road] = numbered.get(road, 0) + 1
            part = substring(piece, piece.length * j / n, piece.length * (j + 1) / n)
            stretches.append((f"{road_names[road]}{numbered[road]}段", part))
    leaders = names.person_names(rng, len(stretches))
    phones = names.phone_numbers(rng, len(stretches))
    units = rng.choice(names.UNITS, size=len(stretches))
    street_polys = np.array([p for _, p in streets], dtype=object)
    rows: list[dict] = []
    for k, (name, line) in enumerate(stretches):
        polygon = frame.to_lonlat(line.buffer(HALF_WIDTH_M, cap_style="flat"))
        overlap = shapely.area(shapely.intersection(street_polys, polygon))
        lat, lon = label_point(polygon)
        rows.append({
            "id": first_id + k, "code": f"{CODE_PREFIX}{k + 1:03d}", "name": name,
            "road": name.rstrip("0123456789段"), "leader": leaders[k],
            "leader_unit": str(units[k]), "leader_phone": phones[k],
            "responsible_unit": streets[int(np.argmax(overlap))][0],
            "geometry": to_geojson(polygon), "center_lat": lat, "center_lon": lon,
            "length_m": round(float(line.length), 1), "source": SOURCE,
        })
    return DemoSections(rows)


def checkin_rows(rng: np.random.Generator, sections: list[dict], first: date,
                 now: datetime) -> list[dict]:
    """Draw each 路长's check-ins from ``first`` to today (today only once past 10:00)."""
    last = now.date() if now.hour >= 10 else now.date() - timedelta(days=1)
    days = [first + timedelta(days=d) for d in range((last - first).days + 1)]
    weekend = np.array([d.weekday() >= 5 for d in days])
    mean, sd, floor = CHECKIN_MINUTES
    rows: list[dict] = []
    for section in sections:
        steadiness = rng.beta(9.0, 1.6)
        came = rng.random(len(days)) < np.where(weekend, steadiness * WEEKEND_FACTOR, steadiness)
        minutes = np.maximum(floor, rng.normal(mean, sd, len(days))).round().astype(int)
        rows += [{"section_id": section["id"], "person": section["leader"], "day": day,
                  "minutes": int(m)}
                 for day, m, c in zip(days, minutes.tolist(), came.tolist(), strict=True) if c]
    return rows
