"""Thin glue for the places layer: its switch on the wall and on the grid page sets its URL.

The public map (/map) has no callbacks: it is a plain page (``snapshot.routes_places``) whose
filtering runs in ``assets/places.js``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from dash import Dash, Input, Output, State, no_update

from dashboard import ids
from dashboard.grids.state import parse_state
from dashboard.places.layer import TOGGLE_VALUE, places_state_url
from dashboard.routing import query_of


def layer_update(value: list[str] | None, area_code: str, now: datetime) -> tuple[Any, dict]:
    """Return (url, hideout) for the layer: data only while switched on, refreshed per bucket."""
    if TOGGLE_VALUE not in (value or []):
        return no_update, {"on": False}
    return places_state_url(area_code, now), {"on": True}


def register(app: Dash, clock: Callable[[], datetime]) -> None:
    """Wire the wall's and the grid page's toilet-state layers."""

    def wall(value: list[str] | None, _tick: int | None,
             wall_state: dict[str, str] | None) -> tuple[Any, dict]:
        return layer_update(value, (wall_state or {}).get("area", ""), clock())

    app.callback(Output(ids.MAP_PLACES, "url"), Output(ids.MAP_PLACES, "hideout"),
                 Input(ids.MAP_PLACES_TOGGLE, "value"), Input(ids.MAP_PLACES_TICK, "n_intervals"),
                 State(ids.SCREEN_WALL, "data"))(wall)

    def grids(value: list[str] | None, search: str | None) -> tuple[Any, dict]:
        return layer_update(value, parse_state(query_of(search)).area, clock())

    app.callback(Output(ids.GRIDS_PLACES, "url"), Output(ids.GRIDS_PLACES, "hideout"),
                 Input(ids.GRIDS_PLACES_TOGGLE, "value"), Input(ids.GRIDS_URL, "search"))(grids)
