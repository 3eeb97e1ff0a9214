"""Glue for the big screen: render the page from the URL, refresh it from the snapshot."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from dash import ALL, Dash, Input, Output, State, html, no_update
from sqlalchemy.orm import Session, sessionmaker

from dashboard import ids
from dashboard.i18n import pick_language, t
from dashboard.pages import screen
from dashboard.settings import Settings
from dashboard.snapshot import DISTRICT, SnapshotStore

SCREEN_PATHS = ("/", "/screen")


def _query(search: str | None) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs((search or "").lstrip("?")).items()}


def register(app: Dash, store: SnapshotStore, sessions: sessionmaker[Session],
             settings: Settings) -> None:
    """Wire the big screen's callbacks into ``app``."""

    def render_page(pathname: str | None, search: str | None) -> Any:
        params = _query(search)
        lang = pick_language(params.get("lang"), settings.language)
        if pathname not in SCREEN_PATHS:
            return html.Div("404", className="gw-notfound")
        area_code = params.get("area", DISTRICT)
        snapshot = store.get(area_code)
        if snapshot is None or snapshot.payload["area"] is None:
            return html.Div(t("no_data", lang), className="gw-notfound")
        center = tuple(snapshot.payload["area"]["center"])
        return screen.layout(settings, lang, area_code, center)  # type: ignore[arg-type]

    app.callback(Output(ids.PAGE, "children"),
                 Input(ids.URL, "pathname"), Input(ids.URL, "search"))(render_page)

    def refresh(_tick: int | None, area_code: str, known_version: str | None,
                tile_ids: list[dict[str, str]]) -> tuple[Any, ...]:
        snapshot = store.get(area_code)
        updated_at = store.refreshed_at(area_code)
        updated = f"{t('updated')} {updated_at:%H:%M:%S}" if updated_at else ""
        stale_hidden = not store.is_stale(area_code)
        if snapshot is None or snapshot.version == known_version:
            return no_update, [no_update] * len(tile_ids), no_update, updated, stale_hidden
        today = snapshot.payload["today"]
        keys = {"today_reported": "reported", "open": "open", "open_overdue": "open_overdue"}
        values = [f"{today[keys[i['index']]]:,}" for i in tile_ids]
        url = f"/api/open-cases.geojson?area={area_code}&v={snapshot.map_version}"
        return snapshot.version, values, url, updated, stale_hidden

    app.callback(
        Output(ids.SCREEN_VERSION, "data"),
        Output({"type": ids.KPI_TILE, "index": ALL}, "children"),
        Output(ids.MAP_CASES, "url"),
        Output(ids.SCREEN_UPDATED, "children"),
        Output(ids.SCREEN_STALE, "hidden"),
        Input(ids.SCREEN_TICK, "n_intervals"),
        State(ids.SCREEN_AREA, "data"),
        State(ids.SCREEN_VERSION, "data"),
        State({"type": ids.KPI_TILE, "index": ALL}, "id"),
    )(refresh)
