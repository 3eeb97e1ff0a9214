"""The one KPI-tile path: an indicator's kind decides how its value, change and "no data" read.

The wall (from its snapshot payload), the grid page and the deck all format through here, so an
indicator added to a page's tile list needs no formatter of its own: a count reads "1,234", a
rate "95.20%" with its change in percentage points, hours "3.5", a score "87.25", and a missing
value "—" in a neutral colour, never 0% or 100%.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dashboard.formatting import delta_text, format_value
from dashboard.i18n import t
from queries.indicators import (
    DASH,
    NOT_APPLICABLE,
    Ratio,
    indicator_def,
    na_text,
    target_light,
    target_score,
)


def tile_payload(key: str, now: Any, comparisons: list[Any],
                 targets: Mapping[str, float]) -> dict[str, Any]:
    """Return a tile's language-neutral figures from raw values (a Ratio, a number or None).

    ``comparisons`` are the same indicator in the comparison spans (yesterday, last week …);
    ``deltas`` holds the change against each, in the value's own unit.
    """
    definition = indicator_def(key)
    value = _number(now)
    target = targets.get(key)
    light = None
    if target is not None and definition.higher_is_better is not None:
        light = target_light(target_score(value, target, definition.higher_is_better))
    return {
        "key": key, "kind": definition.kind, "value": value,
        # Why the value is not applicable (a NA_REASONS key), or None: "不适用", not "—".
        "na": now.na_reason if isinstance(now, Ratio) else None,
        "num": now.numerator if isinstance(now, Ratio) else None,
        "den": now.denominator if isinstance(now, Ratio) else None,
        "deltas": [_delta(value, _number(then)) for then in comparisons],
        "better": {True: "higher", False: "lower", None: None}[definition.higher_is_better],
        "target": target, "light": light,
    }


def _number(raw: Any) -> float | None:
    if isinstance(raw, Ratio):
        return raw.value
    return None if raw is None else float(raw)


def _delta(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(a - b, 6)


def value_text(tile: Mapping[str, Any], lang: str = "zh") -> str:
    """Return a tile's value as its kind reads ("—" when there is none, "不适用" / "n/a" when
    the data lacks its inputs)."""
    if tile.get("na"):
        return NOT_APPLICABLE["en" if lang == "en" else "zh"]
    return format_value(tile["value"], tile["kind"])


def change_text(tile: Mapping[str, Any], n: int) -> str:
    """Return the tile's change against comparison ``n`` as its kind reads."""
    return delta_text(tile["deltas"][n], tile["kind"])


def change_class(delta: float | None, better: str | None) -> str:
    """Return the CSS class of a change: good, bad or flat against the indicator's direction."""
    if not delta or better is None:
        return "gw-delta gw-delta-flat"
    good = (delta > 0) == (better == "higher")
    return "gw-delta gw-delta-good" if good else "gw-delta gw-delta-bad"


def hover_text(tile: Mapping[str, Any], lang: str) -> str:
    """Return a tile's hover: its name, a rate's numerator / denominator, the target if set."""
    parts = [indicator_def(tile["key"]).label(lang)]
    if tile.get("na"):
        parts.append(na_text(tile["na"], lang))
    if tile["den"] is not None:
        parts.append(f"{format_value(tile['num'], 'count')} / {format_value(tile['den'], 'count')}")
    if tile["target"] is not None:
        sign = "≥" if tile["better"] == "higher" else "≤"
        parts.append(f"{t('target', lang)} {sign} {format_value(tile['target'], tile['kind'])}")
    return " · ".join(parts)


def tile_class(tile: Mapping[str, Any]) -> str:
    """Return a tile's CSS class: coloured by its light, neutral when there is no value."""
    if tile["value"] is None:
        return "gw-tile gw-tile-none"
    return f"gw-tile gw-light-{tile['light']}" if tile["light"] else "gw-tile"


__all__ = ["DASH", "change_class", "change_text", "hover_text", "tile_class", "tile_payload",
           "value_text"]
