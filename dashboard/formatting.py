"""Numbers as every page shows them: one formatter per kind, "—" for no value."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from queries.indicators import DASH


def format_value(value: float | None, kind: str) -> str:
    """Format a number by indicator kind: rates as percentages (two decimals, half up)."""
    if value is None:
        return DASH
    if kind == "rate":
        percent = (Decimal(repr(value)) * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        return f"{percent}%"
    if kind == "count":
        return f"{value:,.0f}"
    if kind == "hours":
        return f"{value:,.1f}"
    return f"{value:.2f}"


def delta_text(delta: float | None, kind: str) -> str:
    """Return a change as an arrow and its size; rates change in percentage points."""
    if delta is None:
        return DASH
    arrow = "▲" if delta > 0 else "▼" if delta < 0 else "■"
    size = abs(delta)
    if kind == "rate":
        return f"{arrow}{size * 100:.2f}pp"
    return f"{arrow}{format_value(size, kind)}"
