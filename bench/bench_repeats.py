"""Benchmark repeat detection (重复问题) on a million synthetic cases; run on demand.

    python bench/bench_repeats.py [--cases 1000000] [--subset 4000] [--seed 7]

Cases are generated in memory with numpy (no database): a 12 km × 12 km district, 120 minor
classes of uneven frequency, 400 days, and a third of the cases thrown at 30,000 hot spots so
that real repeat chains exist. It prints the detection time on all cases (the numpy core and the
end-to-end call on ``RepeatInput`` objects) and, on a random subset measured in the same run, the
time of a naive all-pairs comparison against the detector's: their ratio, and the naive time
extrapolated to all cases (it grows with the square of the count).
"""

from __future__ import annotations

import argparse
import math
import time
from datetime import datetime, timedelta

import numpy as np

from queries.repeats import (
    DISTANCE_TOLERANCE_M,
    EARTH_RADIUS_M,
    RepeatInput,
    detect_repeats,
    find_repeats,
    pair_distance_m,
)

RADIUS_M, DAYS = 50.0, 30
LAT0, LON0 = 34.2610, 108.9423  # 钟楼, Xi'an
SIDE_M, SPAN_DAYS, CATEGORIES, HOTSPOTS = 12_000.0, 400, 120, 30_000
EPOCH = datetime(1970, 1, 1)


def synthetic(n: int, seed: int) -> dict[str, np.ndarray]:
    """Return columns of ``n`` cases: ids, categories, lat, lon, microseconds."""
    rng = np.random.default_rng(seed)
    weights = 1 / np.arange(1, CATEGORIES + 1)
    categories = rng.choice(CATEGORIES, n, p=weights / weights.sum())
    north, east = rng.uniform(0, SIDE_M, n), rng.uniform(0, SIDE_M, n)
    hot = rng.random(n) < 1 / 3
    spots = rng.uniform(0, SIDE_M, (HOTSPOTS, 2))
    pick = rng.integers(0, HOTSPOTS, hot.sum())
    north[hot] = spots[pick, 0] + rng.normal(0, 15, hot.sum())
    east[hot] = spots[pick, 1] + rng.normal(0, 15, hot.sum())
    metre = 180 / math.pi / EARTH_RADIUS_M
    lat = LAT0 + north * metre
    lon = LON0 + east * metre / np.cos(np.radians(lat))
    start = int((datetime(2025, 1, 1) - EPOCH).total_seconds())
    seconds = start + rng.integers(0, SPAN_DAYS * 86_400, n)
    return {"ids": rng.permutation(n) + 1, "categories": categories, "lat": lat, "lon": lon,
            "micros": seconds * 1_000_000}


def naive(c: dict[str, np.ndarray]) -> np.ndarray:
    """Compare every case with every earlier one; return each case's match index or -1."""
    order = np.lexsort((c["ids"], c["micros"]))
    window = DAYS * 86_400 * 1_000_000
    match = np.full(len(order), -1)
    for k in range(1, len(order)):
        i, earlier = order[k], order[:k]
        dist = pair_distance_m(c["lat"][i], c["lon"][i], c["lat"][earlier], c["lon"][earlier])
        ok = ((c["categories"][earlier] == c["categories"][i])
              & (c["micros"][i] - c["micros"][earlier] <= window)
              & (dist <= RADIUS_M + DISTANCE_TOLERANCE_M))
        hits = np.flatnonzero(ok)
        if len(hits):
            match[i] = earlier[hits[-1]]
    return match


def timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--subset", type=int, default=4_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    cols, t_gen = timed(synthetic, args.cases, args.seed)
    print(f"generated {args.cases:,} cases in {t_gen:.2f} s "
          f"(R = {RADIUS_M:g} m, D = {DAYS} days, {CATEGORIES} minor classes, {SPAN_DAYS} days)")
    (match, occurrence), t_core = timed(
        find_repeats, cols["ids"], cols["categories"], cols["lat"], cols["lon"], cols["micros"],
        radius_m=RADIUS_M, days=DAYS)
    repeats = int((match >= 0).sum())
    print(f"find_repeats (numpy core):        {t_core:6.2f} s  → {repeats:,} repeats "
          f"({repeats / args.cases:.1%}), longest chain {int(occurrence.max())}")

    points = [RepeatInput(int(i), int(c), float(la), float(lo),
                          EPOCH + timedelta(microseconds=int(m)))
              for i, c, la, lo, m in zip(cols["ids"], cols["categories"], cols["lat"],
                                         cols["lon"], cols["micros"], strict=True)]
    found, t_full = timed(detect_repeats, points, radius_m=RADIUS_M, days=DAYS)
    assert len(found) == repeats
    print(f"detect_repeats (RepeatInput in):  {t_full:6.2f} s")

    rng = np.random.default_rng(args.seed + 1)
    pick = rng.choice(args.cases, args.subset, replace=False)
    subset = {key: value[pick] for key, value in cols.items()}
    expected, t_naive = timed(naive, subset)
    (got, _), t_fast = timed(find_repeats, subset["ids"], subset["categories"], subset["lat"],
                             subset["lon"], subset["micros"], radius_m=RADIUS_M, days=DAYS)
    assert np.array_equal(got, expected), "detector and naive baseline disagree"
    scale = (args.cases / args.subset) ** 2
    print(f"subset of {args.subset:,}: naive all-pairs {t_naive:.3f} s, detector {t_fast:.4f} s "
          f"→ {t_naive / t_fast:,.0f}× faster (same matches)")
    print(f"naive on all {args.cases:,} (extrapolated, ∝ n²): {t_naive * scale / 3600:,.1f} h "
          f"vs {t_core:.2f} s measured → {t_naive * scale / t_core:,.0f}×")


if __name__ == "__main__":
    main()
