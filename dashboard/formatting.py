"""Numbers as every page shows them: one formatter per kind, "—" for no value."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from queries.indicators import DASH


def _half_up(value: float, places: str) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def format_value(value: float | None, kind: str) -> str:
    """Format a number by indicator kind, rounding half up as bulletins do ("—" for none).

    Rates as percentages with two decimals, counts whole with separators, hours to a tenth,
    scores to a hundredth.
    """
    if value is None:
        return DASH
    if kind == "rate":
        return f"{_half_up(value * 100, '0.01')}%"
    if kind == "count":
        return f"{_half_up(value, '1'):,}"
    if kind == "hours":
        return f"{_half_up(value, '0.1'):,}"
    return f"{_half_up(value, '0.01')}"


def delta_text(delta: float | None, kind: str) -> str:
    """Return a change as an arrow and its size; rates change in percentage points."""
    if delta is None:
        return DASH
    arrow = "▲" if delta > 0 else "▼" if delta < 0 else "■"
    size = abs(delta)
    if kind == "rate":
        return f"{arrow}{size * 100:.2f}pp"
    return f"{arrow}{format_value(size, kind)}"
