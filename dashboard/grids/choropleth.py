"""Choropleth classes: split an indicator's values into colour classes, for map and legend.

Pure data in, plain data out. The polygons travel once per level (``/api/areas.geojson``);
what changes with the indicator or period is only the ``hideout`` built here, which
``assets/grids.js`` reads to colour each area in the browser. An area without a value (a
zero denominator) gets class -1, drawn hatched: never the colour of 0.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass

NO_VALUE = -1
CLASSES = 5
# Bad → good for indicators with a direction; a neutral ramp (viridis) for volumes.
RED_TO_GREEN = ("#d7301f", "#f46d43", "#fdae61", "#a6d96a", "#1a9850")
VOLUME = ("#3b528b", "#21918c", "#35b779", "#90d743", "#fde725")
SAME = "#4f8fcf"  # one class only: the areas do not differ, so no good or bad colour


@dataclass(frozen=True)
class Classes:
    """Class breaks (each class is [breaks[k-1], breaks[k])), colours and each area's class."""

    breaks: tuple[float, ...]
    colors: tuple[str, ...]
    of_area: dict[str, int]


def class_breaks(values: list[float], classes: int = CLASSES) -> tuple[float, ...]:
    """Return up to ``classes - 1`` inner breaks at quantiles, taken from the values themselves.

    Breaks are data values (nearest rank), so counts break at whole numbers; equal values
    never straddle a break, and fewer distinct values give fewer classes.
    """
    ordered = sorted(values)
    if not ordered:
        return ()
    picked = {ordered[(len(ordered) * k) // classes] for k in range(1, classes)}
    return tuple(sorted(b for b in picked if b > ordered[0]))


def class_of(value: float | None, breaks: tuple[float, ...]) -> int:
    """Return a value's class (0 lowest), or NO_VALUE when there is none."""
    return NO_VALUE if value is None else bisect_right(breaks, value)


def palette(higher_is_better: bool | None, n: int) -> tuple[str, ...]:
    """Return ``n`` colours from bad to good (or low to high for a volume), spread evenly."""
    if n == 1:
        return (SAME,)
    ramp = VOLUME if higher_is_better is None else RED_TO_GREEN
    if higher_is_better is False:
        ramp = ramp[::-1]
    return tuple(ramp[round(k * (len(ramp) - 1) / (n - 1))] for k in range(n))


def classify(values: Mapping[str, float | None], higher_is_better: bool | None,
             classes: int = CLASSES) -> Classes:
    """Classify each area's value (keyed by area code) into colour classes."""
    breaks = class_breaks([v for v in values.values() if v is not None], classes)
    return Classes(breaks=breaks, colors=palette(higher_is_better, len(breaks) + 1),
                   of_area={code: class_of(v, breaks) for code, v in values.items()})


def hideout(classes: Classes, tips: Mapping[str, str], selected: str | None) -> dict[str, object]:
    """Return the GeoJSON layer's ``hideout``: class per area, colours, tooltips, the selection."""
    return {"classes": classes.of_area, "colors": list(classes.colors), "tips": dict(tips),
            "selected": selected}


def legend_ranges(breaks: tuple[float, ...]) -> list[tuple[float | None, float | None]]:
    """Return each class's [low, high) bounds; None is open-ended."""
    bounds: list[float | None] = [None, *breaks, None]
    return [(bounds[k], bounds[k + 1]) for k in range(len(breaks) + 1)]
