"""The wall's refresh answered once per question and stamp (callbacks/screen.py).

A room of walls on one area holding the same versions asks the same question after each new
stamp: the first is computed, the others get its answer, byte for byte, until the stamp moves.
Only a caller the login hook let through reaches the cache.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dash import Dash
from sqlalchemy import update
from sqlalchemy.orm import Session

import callbacks.screen as screen_callbacks
from app import create_app, create_context
from queries.models import STATUS_VERIFYING, Case
from settings import Settings
from tests.handbuilt import NOW, build_handbuilt
from tests.identities import LEADER, logged_in_client
from tests.test_scope_enumeration import Fire, dash_request

WALL = {"area": "", "lang": "zh", "theme": "dark"}


class AtNow(Settings):
    def now(self) -> Any:
        return NOW


def app_for(tmp_path: Path, session: Session, database_url: str, *, open_wall: bool) -> Dash:
    build_handbuilt(session)
    session.commit()
    ctx = create_context(AtNow(data_dir=tmp_path, database_url=database_url,
                               open_wall=open_wall, secret_key="test-secret"))
    ctx.store.refresh()  # type: ignore[union-attr]
    # The hand-built city's clock stands still, so "refreshed N s ago" would move the 更新于
    # label back each second; here the last refresh is one fixed moment.
    ctx.store.refreshed_at = lambda area="": NOW  # type: ignore[method-assign]
    return create_app(context=ctx)


def refresh_body(app: Dash, wall: dict[str, str]) -> dict[str, Any]:
    key = next(k for k in app.callback_map if k.startswith(screen_callbacks.REFRESH_OUTPUT))
    return dash_request(key, app.callback_map[key],
                        Fire({"screen-poll.data": "stamp", "screen-scale.data": 1.0,
                              "screen-wall.data": wall, "screen-version.data": None}))


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The refreshes actually computed, by language."""
    calls: list[str] = []
    real = screen_callbacks.refresh_outputs

    def counting(snapshot: Any, known: Any, wall: dict[str, str], *args: Any) -> Any:
        calls.append(wall["lang"])
        return real(snapshot, known, wall, *args)

    monkeypatch.setattr(screen_callbacks, "refresh_outputs", counting)
    return calls


def test_the_same_question_on_the_same_stamp_is_computed_once(
        tmp_path: Path, session: Session, database_url: str, computed: list[str]) -> None:
    app = app_for(tmp_path, session, database_url, open_wall=True)
    walls = [app.server.test_client() for _ in range(5)]
    answers = {w.post("/_dash-update-component", json=refresh_body(app, WALL)).data
               for w in walls}
    assert len(answers) == 1 and b"screen-version" in answers.pop()
    assert computed == ["zh"]
    english = walls[0].post("/_dash-update-component",
                            json=refresh_body(app, {**WALL, "lang": "en"}))
    assert english.status_code == 200 and computed == ["zh", "en"]
    # New data, a new stamp: the same question is computed again.
    session.execute(update(Case).where(Case.external_id == "HB-024").values(
        status=STATUS_VERIFYING, handled_at=NOW))
    session.commit()
    app.server.config["GRIDWATCH"].store.refresh()
    walls[1].post("/_dash-update-component", json=refresh_body(app, WALL))
    assert computed == ["zh", "en", "zh"]


def test_a_caller_the_login_hook_refuses_never_reaches_a_kept_answer(
        tmp_path: Path, session: Session, database_url: str, computed: list[str]) -> None:
    app = app_for(tmp_path, session, database_url, open_wall=False)
    leader = logged_in_client(app, LEADER)
    assert leader.post("/_dash-update-component",
                       json=refresh_body(app, WALL)).status_code == 200
    stranger = app.server.test_client()
    assert stranger.post("/_dash-update-component",
                         json=refresh_body(app, WALL)).status_code == 401
    assert computed == ["zh"]
