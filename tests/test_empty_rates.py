"""A rate with an empty denominator reads "—" in a neutral colour on every surface.

The hand-built city (tests/handbuilt.py) has no case at all in grid G3 on 2026-11-01: its
立案数 is 0, so 应结案 is 0 and 按期结案率 has nothing to be a share of. The wall's tile, the
grid page's tile and table, and the deck's KPI text must all show "—" without red (never
"0.00%" in red beside 立案数 0), even with a 95% target set.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from dashboard.deck.build import MUTED, _kpi_color, kpi_texts
from dashboard.grids.view import indicator_text, row, tiles
from dashboard.screen.panels import create_tile
from dashboard.tiles import change_class as delta_class
from dashboard.tiles import tile_class, value_text
from queries.areas import area_by_code
from queries.grid_view import grid_view
from queries.indicators import DASH, indicators
from queries.periods import parse_period
from queries.scope import Scope
from snapshot.build import DayFigures, tile_entries
from tests.handbuilt import NOW, build_handbuilt

G3 = "33019900100201"
QUIET_DAY = "2026-11-01"


def test_an_empty_denominator_is_a_neutral_dash_everywhere(session: Session) -> None:
    build_handbuilt(session)
    session.commit()
    grid = area_by_code(session, G3)
    assert grid is not None
    day = parse_period(QUIET_DAY, NOW)
    values = indicators(session, day, area_id=grid.id, now=NOW)
    assert values.registered == 0 and values.ontime_close_rate.denominator == 0
    # the wall: text "—", no light although a target is set, a flat change
    figures = DayFigures(values, 0)
    entry = next(e for e in tile_entries([figures] * 3, [figures] * 2,
                                         {"ontime_close_rate": 0.95})
                 if e["key"] == "ontime_close_rate")
    assert (value_text(entry), entry["value"], entry["light"]) == (DASH, None, None)
    assert (tile_class(entry) == "gw-tile gw-tile-none"
            and "gw-delta-bad" not in str(create_tile(entry, "zh")))
    # the grid page: tile, table cell
    view = grid_view(session, G3, day, NOW, scope=Scope.everything())
    assert view is not None
    tile = next(t for t in tiles(view, "ontime_close_rate") if t.key == "ontime_close_rate")
    assert (tile.text, tile.delta) == (DASH, None)
    assert delta_class(tile.delta, tile.better) == "gw-delta gw-delta-flat"
    line = row(view.area, view.current, "zh")
    assert (line["ontime_close_rate"], line["ontime_close_rate__t"]) == (None, DASH)
    assert indicator_text(view.current, "close_rate") == DASH
    # the deck
    text, change, delta = kpi_texts("ontime_close_rate", values, values)
    assert (text, change, delta) == (DASH, f"较上月 {DASH}", None)
    assert _kpi_color("ontime_close_rate", delta) == MUTED
