"""/sections' callback through the real app: a pick answers with the section's view alone.

The board (红黑榜, the ranking table, the map's shapes, the rule, as-of) is some 200 kB on the
demo city and the renderer rebuilds all of it, so it is sent again only when the period or the
language asked for changed, or at the minute tick; a pick (only ``section=`` changed) sends the
view and the status line. A failed read sends the status alone: the last board stays on screen
and the board's key on the page is not written, so the next answer draws the board again.

Requests are POSTed to ``/_dash-update-component`` as dash-renderer sends them, on the
hand-built city with its four sections (tests/handbuilt_sections.py) at its NOW.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from dash import Dash
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app import create_app
from dashboard import ids
from dashboard.sections.text import w
from settings import Settings
from tests.handbuilt import NOW, build_handbuilt
from tests.handbuilt_sections import build_sections
from tests.identities import LEADER, logged_in_client

BOARD = {ids.SEC_RED, ids.SEC_BLACK, ids.SEC_TABLE, ids.SEC_SHAPES, ids.SEC_RULE, ids.SEC_ASOF,
         ids.SEC_BOARD}
VIEW = {ids.SEC_DETAIL, ids.SEC_DETAIL_BODY, ids.SEC_STATUS}
URL = f"{ids.SEC_URL}.search"
TICK = f"{ids.SEC_TICK}.n_intervals"
Fire = Callable[..., dict[str, dict[str, Any]]]


@pytest.fixture
def app(session: Session, database_url: str, tmp_path: Path) -> Dash:
    build_handbuilt(session)
    build_sections(session)
    session.commit()
    return create_app(Settings(data_dir=tmp_path, database_url=database_url, as_of=NOW))


@pytest.fixture
def fire(app: Dash) -> Fire:
    """Return a firer of the page's render callback: the answer's outputs by component id."""
    client: FlaskClient = logged_in_client(app, LEADER)
    key = next(k for k in app.callback_map if k.startswith(f"..{ids.SEC_RED}.children"))
    spec = app.callback_map[key]

    def fire_(search: str, shown: Any = None, *, changed: str = URL,
              tick: int | None = None) -> dict[str, dict[str, Any]]:
        values = {URL: search, TICK: tick, f"{ids.SEC_BOARD}.data": shown}
        entry = [{"id": i["id"], "property": i["property"],
                  "value": values[f"{i['id']}.{i['property']}"]}
                 for i in (*spec["inputs"], *spec["state"])]
        outputs = [{"id": ident, "property": prop} for ident, _, prop in
                   (part.rpartition(".") for part in key[2:-2].split("..."))]
        resp = client.post("/_dash-update-component", json={
            "output": key, "outputs": outputs, "inputs": entry[:len(spec["inputs"])],
            "state": entry[len(spec["inputs"]):], "changedPropIds": [changed]})
        assert resp.status_code == 200, resp.data
        return resp.get_json()["response"]

    return fire_


def test_the_first_answer_draws_the_board_and_its_key(fire: Fire) -> None:
    sent = fire("?section=LZ-B")
    assert set(sent) == BOARD | VIEW
    assert sent[ids.SEC_BOARD]["data"][:2] == ["", "zh"]
    assert [f["properties"]["code"] for f in sent[ids.SEC_SHAPES]["data"]["features"]] == [
        "LZ-A", "LZ-B", "LZ-C", "LZ-D"]
    assert sent[ids.SEC_DETAIL]["hidden"] is False and sent[ids.SEC_STATUS]["children"] == ""


def test_a_pick_sends_the_view_and_not_the_board(fire: Fire) -> None:
    shown = fire("")[ids.SEC_BOARD]["data"]
    sent = fire("?section=LZ-B", shown)
    assert set(sent) == VIEW
    assert sent[ids.SEC_DETAIL]["hidden"] is False
    assert "乙路长" in str(sent[ids.SEC_DETAIL_BODY]["children"])
    closed = fire("", shown)
    assert set(closed) == VIEW and closed[ids.SEC_DETAIL]["hidden"] is True
    unknown = fire("?section=NOPE&lang=en", ["", "en"])
    assert set(unknown) == VIEW
    assert unknown[ids.SEC_STATUS]["children"] == w("unknown_section", "en")


@pytest.mark.parametrize(("search", "shown", "changed", "key"), [
    ("?period=2026-10&section=LZ-A", ["", "zh"], URL, ["2026-10", "zh"]),  # another period
    ("?section=LZ-A&lang=en", ["", "zh"], URL, ["", "en"]),  # another language
    ("?section=LZ-A", ["", "zh"], TICK, ["", "zh"]),  # the minute tick
])
def test_a_new_period_language_or_the_tick_draws_the_board(
        fire: Fire, search: str, shown: list[str], changed: str, key: list[str]) -> None:
    sent = fire(search, shown, changed=changed, tick=1)
    assert set(sent) == BOARD | VIEW and sent[ids.SEC_BOARD]["data"][:2] == key


def test_the_tick_on_an_unchanged_board_sends_its_time_alone(fire: Fire) -> None:
    """The board on screen is the board's version: the minute tick then re-sends only the
    as-of line (the renderer rebuilt some 200 kB every minute); another version, all of it."""
    first = fire("?section=LZ-A")
    shown = first[ids.SEC_BOARD]["data"]
    sent = fire("?section=LZ-A", shown, changed=TICK, tick=1)
    assert set(sent) == {ids.SEC_ASOF} | VIEW
    assert sent[ids.SEC_ASOF] == first[ids.SEC_ASOF]
    stale = fire("?section=LZ-A", [*shown[:2], "another"], changed=TICK, tick=2)
    assert set(stale) == BOARD | VIEW and stale[ids.SEC_BOARD]["data"] == shown


def test_a_failed_read_sends_the_status_alone(fire: Fire,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    shown = fire("")[ids.SEC_BOARD]["data"]

    def down(*_args: object, **_kwargs: object) -> None:
        raise OperationalError("SELECT …", {}, Exception("unable to open database file"))

    monkeypatch.setattr("snapshot.sections.section_detail", down)
    monkeypatch.setattr("snapshot.sections.section_board", down)
    failed = fire("?section=LZ-C", shown)  # a pick
    assert failed == {ids.SEC_STATUS: {"children": w("unavailable", "zh")}}
    assert fire("?period=2026-10", shown) == failed  # a board not cached: the old one stays
    monkeypatch.undo()
    again = fire("?period=2026-10", shown)  # the key was not written: the board is drawn
    assert set(again) == BOARD | VIEW and again[ids.SEC_STATUS]["children"] == ""
