"""Glue for the big screen: render the page from the URL, refresh it from the snapshot.

Every browser reads the shared snapshot. The browser polls ``/api/version`` (an empty
answer while nothing changed, assets/screen.js) and runs the refresh callback only on a new stamp;
the callback sends only the sections whose version changed (``no_update`` otherwise), and
the map's features travel through a versioned URL.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

import orjson
from cachetools import TTLCache
from dash import (
    ALL,
    ClientsideFunction,
    Dash,
    Input,
    Output,
    State,
    callback_context,
    html,
    no_update,
)
from flask import Flask, Response, g, request
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from dashboard import ids
from dashboard.i18n import t
from dashboard.screen import layout as screen
from dashboard.screen.figures import trend_figure
from dashboard.screen.panels import (
    create_activity_types,
    create_card_flag,
    create_case_card,
    create_ranking,
    create_ticker_items,
    create_tile_body,
)
from dashboard.tiles import hover_text, tile_class
from queries.cases import case_detail, case_exists
from queries.supervision import flag_case
from security.identity import ROLE_LEADER, current_identity
from security.scoping import request_scope, wall_scope
from settings import Settings
from snapshot.build import map_light
from snapshot.store import Snapshot, SnapshotSource


def refresh_outputs(snapshot: Snapshot, known: dict[str, str], wall: dict[str, str],
                    tile_ids: list[dict[str, str]], scale: float | None,
                    force_figures: bool) -> tuple[Any, ...]:
    """Return the screen's outputs for a snapshot, ``no_update`` for sections unchanged."""
    payload, lang = snapshot.payload, wall["lang"]

    def changed(section: str) -> bool:
        return snapshot.sections.get(section) != known.get(section)

    if changed("tiles"):
        by_key = {tile["key"]: tile for tile in payload["tiles"]}
        tiles = [by_key[i["index"]] for i in tile_ids]
        bodies = [create_tile_body(tile, lang) for tile in tiles]
        classes = [tile_class(tile) for tile in tiles]
        titles = [hover_text(tile, lang) for tile in tiles]
    else:
        bodies = classes = titles = [no_update] * len(tile_ids)
    volunteers = payload["volunteers"]
    trend = payload["trend"]
    map_changed = snapshot.map_version != known.get("map")
    cases_url, density_url = screen.map_urls(wall["area"], snapshot.map_version)
    return (
        screen.known_versions(snapshot),
        bodies, classes, titles,
        # Keyed by element id: assets/screen.js counts each element up to its new value.
        {ids.VOL_TEAMS: volunteers["teams"], ids.VOL_ON_DUTY: volunteers["on_duty"],
         ids.VOL_HOURS: volunteers["hours"]} if changed("volunteers") else no_update,
        create_activity_types(volunteers["types"], lang, volunteers.get("types_month"))
        if changed("volunteers") else no_update,
        create_ranking(payload["ranking"], lang) if changed("ranking") else no_update,
        trend_figure(trend["days"], trend["reported"], trend["closed"], lang=lang,
                     scale=scale or 1.0, theme=wall["theme"])
        if changed("trend") or force_figures else no_update,
        create_ticker_items(payload["ticker"], lang) if changed("ticker") else no_update,
        cases_url if map_changed else no_update,
        density_url if map_changed else no_update,
    )


def register(app: Dash, store: SnapshotSource, sessions: sessionmaker[Session],
             settings: Settings, *, writes: sessionmaker[Session] | None = None) -> None:
    """Wire the big screen's callbacks into ``app``; a leader's 督办 from the case card is
    written through ``writes`` (``sessions`` when None: serving may read on a SELECT-only
    role)."""
    writer = writes or sessions

    def refresh(_stamp: str | None, scale: float | None, wall: dict[str, str],
                known: dict[str, str] | None, tile_ids: list[dict[str, str]]) -> tuple[Any, ...]:
        area_code = wall["area"]
        snapshot = store.get(area_code)
        updated_at = store.refreshed_at(area_code)
        if wall.get("as_of"):  # a wall looking back: its data stand at that moment
            updated = f"{t('as_of_label', wall['lang'])} {wall['as_of'][:16].replace('T', ' ')}"
        else:
            updated = f"{t('updated', wall['lang'])} {updated_at:%H:%M:%S}" if updated_at else ""
        stale_hidden = not store.is_stale(area_code)
        if snapshot is None:
            tiles = [no_update] * len(tile_ids)
            return (no_update, tiles, tiles, tiles, *[no_update] * 7, updated, stale_hidden)
        force = callback_context.triggered_id == ids.SCREEN_SCALE
        outputs = refresh_outputs(snapshot, known or {}, wall, tile_ids, scale, force)
        return (*outputs, updated, stale_hidden)

    tile = {"type": ids.KPI_TILE, "index": ALL}
    app.callback(
        Output(ids.SCREEN_VERSION, "data"),
        Output(tile, "children"),
        Output(tile, "className"),
        Output(tile, "title"),
        Output(ids.VOL_DATA, "data"),
        Output(ids.VOL_TYPES, "children"),
        Output(ids.RANKING, "children"),
        Output(ids.TREND, "figure"),
        Output(ids.TICKER, "children"),
        Output(ids.MAP_CASES, "url"),
        Output(ids.MAP_DENSITY, "url"),
        Output(ids.SCREEN_UPDATED, "children"),
        Output(ids.SCREEN_STALE, "hidden"),
        Input(ids.SCREEN_POLL, "data"),
        Input(ids.SCREEN_SCALE, "data"),
        State(ids.SCREEN_WALL, "data"),
        State(ids.SCREEN_VERSION, "data"),
        State(tile, "id"),
    )(refresh)

    def show_case(
        click: dict[str, Any] | None, _close: int, wall: dict[str, str]
    ) -> tuple[Any, Any]:
        if callback_context.triggered_id == ids.MAP_CARD_CLOSE or not click:
            return no_update, True
        props = click.get("properties") or {}
        if props.get("cluster") or "id" not in props:
            return no_update, no_update
        lang = wall["lang"]
        try:
            case_id = int(props["id"])
        except (TypeError, ValueError):
            return html.Div(t("card_missing", lang), className="gw-empty"), False
        try:
            with sessions() as session:
                # The caller's scope, not the wall's snapshot: the point is everyone's, the
                # details only their scope's.
                case = case_detail(session, case_id, scope=wall_scope())
                known = case is not None or case_exists(session, case_id)
        except SQLAlchemyError:
            return html.Div(t("card_unavailable", lang), className="gw-empty"), False
        if case is None:
            missing = "card_outside_scope" if known else "card_missing"
            return html.Div(t(missing, lang), className="gw-empty"), False
        now = store.clock()
        light = map_light(case.dispatched_at, case.deadline_at, now, settings.warn_fraction)
        card = create_case_card(case, now, lang, light)
        if current_identity().role == ROLE_LEADER:  # 督办 is a leader's, from a login only
            card.append(create_card_flag(case.id, lang))
        return card, False

    app.callback(
        Output(ids.MAP_CARD, "children"),
        Output(ids.MAP_CARD_FRAME, "hidden"),
        Input(ids.MAP_CASES, "clickData"),
        Input(ids.MAP_CARD_CLOSE, "n_clicks"),
        State(ids.SCREEN_WALL, "data"),
        prevent_initial_call=True,
    )(show_case)

    def flag(clicks: int | None, note: str | None, case_id: Any, wall: dict[str, str]) -> Any:
        lang = wall["lang"]
        identity = current_identity()
        if not clicks:
            return no_update
        if identity.role != ROLE_LEADER:
            return t("case_flag_leaders", lang)
        try:
            number = int(str(case_id))
        except ValueError:
            return t("case_not_found", lang)
        with writer() as session:
            done = flag_case(session, number, scope=request_scope(),
                             by=identity.display_name or identity.username,
                             actor=identity.username, note=note or "", now=store.clock())
            session.commit()
        return t("case_flag_done" if done else "case_not_found", lang)

    app.callback(
        Output(ids.CARD_FLAG_MESSAGE, "children"),
        Input(ids.CARD_FLAG_BUTTON, "n_clicks"), State(ids.CARD_FLAG_NOTE, "value"),
        State(ids.CARD_FLAG_CASE, "data"), State(ids.SCREEN_WALL, "data"),
        prevent_initial_call=True,
    )(flag)

    # Pure UI wiring runs in the browser (assets/screen.js): no server round-trip.
    app.clientside_callback(
        ClientsideFunction("gridwatch", "screenScale"),
        Output(ids.SCREEN_SCALE, "data"), Input(ids.SCREEN_WALL, "data"),
    )
    app.clientside_callback(
        ClientsideFunction("gridwatch", "clusterRadius"),
        Output(ids.MAP_CASES, "superClusterOptions"), Input(ids.SCREEN_SCALE, "data"),
    )
    # The poll: a stamp each poll_ms from /api/version, SCREEN_POLL set only when it changed.
    # Dash calls it when a wall layout mounts (its SCREEN_WALL store), which starts the loop;
    # it always answers no_update, the loop sets SCREEN_POLL itself.
    app.clientside_callback(
        ClientsideFunction("gridwatch", "pollVersion"),
        Output(ids.SCREEN_POLL, "data"), Input(ids.SCREEN_WALL, "data"),
    )
    app.clientside_callback(
        ClientsideFunction("gridwatch", "clock"),
        Output(ids.SCREEN_CLOCK, "children"),
        Input(ids.SCREEN_CLOCK_TICK, "n_intervals"), State(ids.SCREEN_WALL, "data"),
    )
    app.clientside_callback(
        ClientsideFunction("gridwatch", "countUp"),
        Input(ids.VOL_DATA, "data"),
    )
    app.clientside_callback(
        ClientsideFunction("gridwatch", "layerFilter"),
        Output(ids.MAP_CASES, "hideout"),
        Input(ids.MAP_MAJORS, "value"), Input(ids.MAP_SOURCES, "value"),
        State(ids.MAP_MAJORS, "options"), State(ids.MAP_SOURCES, "options"),
    )
    app.clientside_callback(
        ClientsideFunction("gridwatch", "heatToggle"),
        Output(ids.MAP_DENSITY, "hideout"), Input(ids.MAP_HEAT, "value"),
    )


# The refresh's answers are the same for every wall of an area holding the same versions: a
# room of walls on one stamp asks the same question. Kept per request body, stamp and last
# refresh (to the second, as the 更新于 label shows it) for one interval.
REFRESH_OUTPUT = f"..{ids.SCREEN_VERSION}.data..."
ANSWERS_KEPT = 256


def register_refresh_cache(server: Flask, store: SnapshotSource) -> None:
    """Answer a wall's refresh from the answer an identical one got on this stamp.

    Registered after the login hook, so only a caller it let through reaches the cache; the
    answer depends on nothing but the request body (the wall's area, language, scale and held
    versions) and the snapshot. Compression and the security headers still apply (they run
    after every request, cached or not).
    """
    answers: TTLCache[str, tuple[bytes, str]] = TTLCache(maxsize=ANSWERS_KEPT,
                                                         ttl=max(1, store.refresh_seconds))
    lock = threading.Lock()

    def key() -> str | None:
        if request.path != "/_dash-update-component" or request.method != "POST":
            return None
        body = request.get_data(cache=True)
        try:
            call = orjson.loads(body)
            if not call.get("output", "").startswith(REFRESH_OUTPUT):
                return None
            wall = next(s["value"] for s in call.get("state", [])
                        if s.get("id") == ids.SCREEN_WALL)
            area = str(wall["area"])
        except (orjson.JSONDecodeError, AttributeError, KeyError, StopIteration, TypeError):
            return None  # not the refresh: Dash answers it (or refuses it) as always
        # The 更新于 label shows the last refresh to the second: so does the key.
        updated = store.refreshed_at(area)
        return "|".join((hashlib.sha256(body).hexdigest(), store.stamp(area),
                         f"{updated:%Y-%m-%d %H:%M:%S}" if updated else "-"))

    @server.before_request
    def answered_before() -> Response | None:
        found = key()
        if found is None:
            return None
        g.refresh_key = found
        with lock:
            hit = answers.get(found)
        if hit is None:
            return None
        g.refresh_hit = True
        return Response(hit[0], mimetype=hit[1])

    @server.after_request
    def keep_answer(response: Response) -> Response:
        found = g.get("refresh_key")
        if found is not None and not g.get("refresh_hit") and response.status_code == 200:
            with lock:
                answers[found] = (response.get_data(), response.mimetype or "application/json")
        return response
