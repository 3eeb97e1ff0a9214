"""Repeat problems (重复问题): the same minor class within R metres and D days of an earlier case.

Definitions (docs/assessment.md):

- Cases are ordered by (time, case id); *earlier* means before in that order.
- Case B **repeats** an earlier case A when both have the same category (minor class), the
  distance between them is at most R metres, and B's time is at most D days after A's
  (both bounds inclusive; distances are compared to the millimetre).
- B's **match** is the most recent earlier case it repeats; B's **occurrence** is 1 + the
  occurrence of its match, so a problem that keeps coming back at one place counts 2, 3, 4 …
  A case that repeats nothing is occurrence 1 and has no match.
- Cases whose location is imprecise (``Case.location_precise`` false: a default geocode, a
  point shared by a large share of the source, coarse coordinates) take no part: their
  point says nothing about where the problem is, and one default geocode would otherwise
  make thousands of "repeats".
- Distance is equirectangular at the pair's mean latitude: exact to well under a millimetre at
  50 m, and the same for a pair whatever other cases are in the input.

Detection never compares all pairs: cases are bucketed into cells of (category, D days, R metres
× R metres), and each case is compared only with the 9 neighbouring spatial cells of its own and
the previous time slot — all in numpy, a million cases in about a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from queries.models import STATUS_CANCELLED, Case

EARTH_RADIUS_M = 6_371_008.8
DISTANCE_TOLERANCE_M = 1e-3
_MICROSECONDS_PER_DAY = 86_400 * 1_000_000
# Candidate pairs examined at once: bounds memory when many cases share one spot (say,
# un-geocoded cases all placed at the district's centre).
_PAIRS_PER_BATCH = 4_000_000


@dataclass(frozen=True, slots=True)
class RepeatInput:
    """What repeat detection needs of one case: its category, place and time."""

    case_id: int
    category_id: int
    lat: float
    lon: float
    at: datetime


@dataclass(frozen=True, slots=True)
class RepeatMatch:
    """A case that repeats an earlier one: the earlier case, the occurrence, and how far apart."""

    case_id: int
    repeat_of_id: int
    occurrence: int
    distance_m: float


def pair_distance_m(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray,
                    lon2: np.ndarray) -> np.ndarray:
    """Return metres between points (degrees), equirectangular at each pair's mean latitude."""
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    dx = np.radians(lon2 - lon1) * np.cos((phi1 + phi2) / 2)
    return EARTH_RADIUS_M * np.hypot(dx, phi2 - phi1)


def find_repeats(case_ids: np.ndarray, categories: np.ndarray, lat: np.ndarray, lon: np.ndarray,
                 micros: np.ndarray, *, radius_m: float,
                 days: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (index of each case's match or -1, occurrence) for cases given as arrays.

    ``micros`` is each case's time in microseconds on any fixed epoch; ``case_ids`` must be
    unique. This is the array core of ``detect_repeats``, for callers that hold columns.
    """
    n = len(case_ids)
    if radius_m <= 0 or days <= 0:
        raise ValueError("radius_m and days must be positive")
    if n == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    ids = np.asarray(case_ids, dtype=np.int64)
    by_id = np.argsort(ids)
    if np.any(ids[by_id][1:] == ids[by_id][:-1]):
        raise ValueError("case ids must be unique")
    t = np.asarray(micros, dtype=np.int64)
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    order = by_id[np.argsort(t[by_id], kind="stable")]  # rank order: by time, then case id
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    window = int(days) * _MICROSECONDS_PER_DAY
    keys, (nx, ny) = _cell_keys(np.asarray(categories), lat, lon, t, radius_m, window)

    by_key = np.argsort(keys)
    sorted_keys = keys[by_key]
    first = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    cells = sorted_keys[first]
    bounds = np.append(first, n)  # the points of cell c are by_key[bounds[c]:bounds[c + 1]]
    best = np.full(n, -1, np.int64)  # highest rank of an earlier case each case repeats
    limit = (radius_m + DISTANCE_TOLERANCE_M) ** 2
    for dt in (-1, 0):
        for dx in (-1, 0, 1):
            # Keys run (category, time slot, x, y), so the three y-neighbours of a cell in
            # slot dt and column dx are one contiguous key range: [y - 1, y + 1].
            shift = (dt * nx + dx) * ny
            lo = np.searchsorted(cells, cells + shift - 1)
            hi = np.searchsorted(cells, cells + shift + 2)
            near = np.flatnonzero(hi > lo)
            if near.size == 0:
                continue
            p = _expand(bounds[near], bounds[near + 1] - bounds[near])
            cell = np.repeat(near, bounds[near + 1] - bounds[near])
            q_start, q_count = bounds[lo[cell]], bounds[hi[cell]] - bounds[lo[cell]]
            for part in _slices(q_count, _PAIRS_PER_BATCH):
                i = by_key[np.repeat(p[part], q_count[part])]
                j = by_key[_expand(q_start[part], q_count[part])]
                keep = (rank[j] < rank[i]) & (t[i] - t[j] <= window)
                i, j = i[keep], j[keep]
                dist = pair_distance_m(lat[i], lon[i], lat[j], lon[j])
                keep = dist * dist <= limit
                np.maximum.at(best, i[keep], rank[j[keep]])
    match = np.where(best >= 0, order[np.maximum(best, 0)], -1)
    return match, _occurrences(match)


def detect_repeats(points: Sequence[RepeatInput], *, radius_m: float,
                   days: int) -> dict[int, RepeatMatch]:
    """Return the repeats among ``points`` by case id; a case not in the result is a first."""
    if not points:
        return {}
    epoch = datetime(1970, 1, 1)
    ids = np.fromiter((p.case_id for p in points), np.int64, len(points))
    micros = np.fromiter(((p.at - epoch) // timedelta(microseconds=1) for p in points),
                         np.int64, len(points))
    lat = np.fromiter((p.lat for p in points), np.float64, len(points))
    lon = np.fromiter((p.lon for p in points), np.float64, len(points))
    categories = np.fromiter((p.category_id for p in points), np.int64, len(points))
    match, occurrence = find_repeats(ids, categories, lat, lon, micros,
                                     radius_m=radius_m, days=days)
    found = np.flatnonzero(match >= 0)
    other = match[found]
    distance = pair_distance_m(lat[found], lon[found], lat[other], lon[other])
    return {
        int(ids[k]): RepeatMatch(case_id=int(ids[k]), repeat_of_id=int(ids[m]),
                                 occurrence=int(occurrence[k]), distance_m=float(dist))
        for k, m, dist in zip(found, other, distance, strict=True)
    }


def repeat_inputs(session: Session, start: datetime, end: datetime,
                  lookback_days: int) -> list[RepeatInput]:
    """Load the precisely placed, not cancelled cases registered in [start − lookback, end)."""
    rows = session.execute(
        select(Case.id, Case.category_id, Case.lat, Case.lon, Case.registered_at)
        .where(Case.registered_at >= start - timedelta(days=lookback_days),
               Case.registered_at < end, Case.status != STATUS_CANCELLED,
               Case.location_precise.is_(True))
    )
    # registered_at is never None here: the range filter above excludes NULLs.
    return [RepeatInput(case_id, category_id, lat, lon, cast(datetime, at))
            for case_id, category_id, lat, lon, at in rows]


def _cell_keys(categories: np.ndarray, lat: np.ndarray, lon: np.ndarray, t: np.ndarray,
               radius_m: float, window: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Return one int64 key per case, ordered (category, time slot, x cell, y cell), and (nx, ny).

    x is scaled at the input's highest |latitude|, so x distances never exceed the pair metric
    and a pair within R always lands in neighbouring cells. Each extent has a cell of padding
    on both sides so a neighbour offset never wraps into another row.
    """
    _, category = np.unique(categories, return_inverse=True)
    coslat = np.cos(np.radians(np.abs(lat).max()))
    x = EARTH_RADIUS_M * np.radians(lon) * coslat
    y = EARTH_RADIUS_M * np.radians(lat)
    # As wide as the farthest match (R plus the millimetre tolerance, with room for rounding):
    # cells exactly R wide put a pair just over R two cells apart or next to each other
    # depending on where the input's smallest coordinate falls, so the answer for a pair
    # depended on the other cases in the input.
    cell = radius_m + 2 * DISTANCE_TOLERANCE_M
    cx = np.floor((x - x.min()) / cell).astype(np.int64) + 1
    cy = np.floor((y - y.min()) / cell).astype(np.int64) + 1
    ct = (t - t.min()) // window + 1
    nx, ny, nt = int(cx.max()) + 2, int(cy.max()) + 2, int(ct.max()) + 2
    if (int(category.max()) + 1) * nt * nx * ny >= 2**62:
        raise ValueError("too many cells to encode: the cases span too large an area or time "
                         "for this radius and window")
    keys = ((category.astype(np.int64) * nt + ct) * nx + cx) * ny + cy
    return keys, (nx, ny)


def _expand(start: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Return start[k], start[k] + 1, …, start[k] + count[k] - 1 for every k, concatenated."""
    total = int(count.sum())
    offsets = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
    return np.repeat(start, count) + offsets


def _slices(counts: np.ndarray, limit: int) -> list[slice]:
    """Split positions into runs whose counts add up to at most ``limit`` (or one position)."""
    ends = np.cumsum(counts)
    out, start = [], 0
    while start < len(counts):
        done = int(ends[start - 1]) if start else 0
        stop = max(int(np.searchsorted(ends, done + limit, side="right")), start + 1)
        out.append(slice(start, stop))
        start = stop
    return out


def _occurrences(match: np.ndarray) -> np.ndarray:
    """Return 1 + chain length for each case by pointer jumping over the match forest."""
    parent = np.where(match >= 0, match, np.arange(len(match)))
    depth = (match >= 0).astype(np.int64)
    active = np.flatnonzero(match >= 0)  # cases whose parent is not yet a chain's first case
    while active.size:
        up = parent[active]
        depth[active] += depth[up]
        parent[active] = parent[up]
        active = active[parent[parent[active]] != parent[active]]
    return depth + 1


def earlier_problem(session: Session, *, category_id: int, lat: float, lon: float,
                    at: datetime, radius_m: float, days: int) -> int | None:
    """Return the most recent problem a case registered at (lat, lon, at) repeats, or None.

    The same rule as ``find_repeats`` (registered, not cancelled cases, by registration time)
    for one case as it is registered: the simulator and importers link it then, so the stored
    ``repeat_of_id`` and the assessment agree.
    """
    # The box reaches R + 1 mm, as the distance test does: a case 50.0005 m due north repeats.
    reach = radius_m + DISTANCE_TOLERANCE_M
    dlat = np.degrees(reach / EARTH_RADIUS_M)
    dlon = dlat / max(np.cos(np.radians(lat)), 1e-6)
    rows = session.execute(
        select(Case.id, Case.lat, Case.lon)
        .where(Case.category_id == category_id, Case.status != STATUS_CANCELLED,
               Case.location_precise.is_(True),
               Case.registered_at >= at - timedelta(days=days), Case.registered_at <= at,
               Case.lat.between(lat - dlat, lat + dlat), Case.lon.between(lon - dlon, lon + dlon))
        .order_by(Case.registered_at.desc(), Case.id.desc())
    ).all()
    for case_id, c_lat, c_lon in rows:
        distance = pair_distance_m(np.array([lat]), np.array([lon]), np.array([c_lat]),
                                   np.array([c_lon]))[0]
        if distance <= reach:
            return int(case_id)
    return None
