"""Kept repeat detection (queries/assessment_data.py ``KeptRepeats``): reused, extended by later
cases or run again, its occurrences always equal a full ``find_repeats`` on the same inputs."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from queries.assessment_data import KeptRepeats
from queries.repeats import find_repeats

DAY = 86_400_000_000
RULE = {"radius_m": 50.0, "days": 3}


def _cases(seed: int, n: int, first_id: int, start_day: int, days: int
           ) -> tuple[np.ndarray, ...]:
    """Cases crowded into few places, categories and days, so chains run long."""
    rng = np.random.default_rng(seed)
    ids = first_id + rng.permutation(n)
    return (ids, rng.integers(1, 4, n), 30.0 + rng.integers(0, 4, n) * 0.0003,
            120.0 + rng.integers(0, 4, n) * 0.0003,
            (start_day + rng.integers(0, days * 24, n) // 24) * DAY
            + rng.integers(0, 24, n) // 6 * 3_600_000_000)


def _join(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    return tuple(np.concatenate([x, y]) for x, y in zip(a, b, strict=True))


def _full(cases: tuple[np.ndarray, ...]) -> np.ndarray:
    return find_repeats(*cases, **RULE)[1]


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), old=st.integers(1, 300), new=st.integers(1, 60),
       overlap=st.booleans())
def test_later_cases_extend_the_kept_detection(seed: int, old: int, new: int,
                                               overlap: bool) -> None:
    """New cases ranked after every kept one (the same last moment counts, with higher ids)
    are matched alone; earlier ones (``overlap``) make a full detection."""
    kept = KeptRepeats()
    before = _cases(seed, old, 1, 0, 10)
    assert np.array_equal(kept(*before, **RULE), _full(before))
    last = int(before[4].max())
    later = _cases(seed + 1, new, 10_000, last // DAY - (5 if overlap else 0), 4)
    later = (*later[:4], np.maximum(later[4], last) if not overlap else later[4])
    both = _join(before, later)
    assert np.array_equal(kept(*both, **RULE), _full(both))
    appended = not overlap
    if overlap:  # ranked after every kept case anyway when no new case fell before the last
        order = np.lexsort((both[0], both[4]))
        appended = bool(np.all(np.isin(order[:old], np.arange(old))))
    assert (kept.computed, kept.extended) == ((1, 1) if appended else (2, 0))
    assert np.array_equal(kept(*both, **RULE), _full(both))  # the same inputs: kept
    assert (kept.computed, kept.extended) == ((1, 1) if appended else (2, 0))


def test_a_moved_or_dropped_case_is_detected_again() -> None:
    kept = KeptRepeats()
    cases = _cases(7, 400, 1, 0, 10)
    kept(*cases, **RULE)
    moved = (cases[0], cases[1], cases[2] + np.where(np.arange(400) == 5, 0.001, 0.0),
             cases[3], cases[4])
    assert np.array_equal(kept(*moved, **RULE), _full(moved))
    dropped = tuple(c[1:] for c in cases)
    assert np.array_equal(kept(*dropped, **RULE), _full(dropped))
    assert (kept.computed, kept.extended) == (3, 0)
    other = {"radius_m": 80.0, "days": 3}
    assert np.array_equal(kept(*cases, **other), find_repeats(*cases, **other)[1])
    assert kept.computed == 4  # another rule is another detection
