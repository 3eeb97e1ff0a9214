"""Every component id of the app, in one place; callbacks import these, never string literals.

Ids are prefixed by the area of the page they belong to (``screen-…``, ``map-…``, ``kpi-…``);
repeated widgets use dict ids built by the small helpers below.
"""

from __future__ import annotations

# App shell
URL = "app-url"
PAGE = "app-page"

# Big screen (大屏)
SCREEN_TICK = "screen-tick"
SCREEN_VERSION = "screen-version"
SCREEN_AREA = "screen-area"
SCREEN_CLOCK = "screen-clock"
SCREEN_UPDATED = "screen-updated"
SCREEN_STALE = "screen-stale"
SCREEN_TITLE = "screen-title"
SCREEN_TILES = "screen-tiles"

# Map
MAP = "map"
MAP_CASES = "map-cases"
MAP_BOUNDARIES = "map-boundaries"
MAP_CARD = "map-card"

KPI_TILE = "kpi-tile"


def kpi_tile(key: str) -> dict[str, str]:
    """Return the id of one KPI tile."""
    return {"type": KPI_TILE, "index": key}
