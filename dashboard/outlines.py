"""The district's outlines on a map: one URL and one layer for every page that draws them.

The outlines load on their own (``/api/boundaries.geojson``), often after the page's own shapes
or points are drawn; in the overlay pane they would then lie on top, veil them and take their
clicks and hover. ``outlines_under`` puts them in a pane beneath the overlay pane (z-index 400),
whatever the order they arrive in. The wall draws its outlines in the overlay pane and lets the
pointer through them in CSS instead (assets/screen.css): its cases are markers, above both.
"""

from __future__ import annotations

import dash_leaflet as dl

OUTLINE_STYLE = {"variable": "gridwatch.map.boundaryStyle"}  # assets/map.js


def boundaries_url(area_code: str) -> str:
    """Return the area's outlines' URL (cached by the browser for ten minutes)."""
    return f"/api/boundaries.geojson?area={area_code}"


def outlines_under(area_code: str, pane: str) -> dl.Pane:
    """Return the area's outlines in a pane named ``pane``, under the page's own shapes."""
    return dl.Pane(dl.GeoJSON(url=boundaries_url(area_code), style=OUTLINE_STYLE,
                              interactive=False, zoomToBounds=True),
                   name=pane, style={"zIndex": 350})
