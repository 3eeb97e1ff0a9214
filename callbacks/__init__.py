"""Thin Dash glue: each feature module exposes ``register``; ``register_all`` wires them once."""

from __future__ import annotations

from dash import Dash
from sqlalchemy.orm import Session, sessionmaker

from callbacks import (
    case,
    desk,
    grids,
    places,
    present,
    quality,
    rankings,
    router,
    screen,
    sections,
    volunteers,
)
from settings import Settings
from snapshot.sections import SectionBoards
from snapshot.store import SnapshotSource


def register_all(app: Dash, store: SnapshotSource, sessions: sessionmaker[Session],
                 settings: Settings, *, writes: sessionmaker[Session] | None = None) -> None:
    """Wire the router and every feature's callbacks into ``app``; ``writes`` is the write
    connection (publishing, 督办 from the wall's card and the case page), ``sessions`` when
    None."""
    router.register(app, store, settings)
    screen.register(app, store, sessions, settings, writes=writes)
    grids.register(app, sessions, settings, clock=store.clock)
    rankings.register(app, sessions, settings, clock=store.clock, writes=writes)
    # Data quality is about the database as it is: a source is stale by the real clock, even
    # while the wall looks back (GRIDWATCH_AS_OF) at a history imported today.
    quality.register(app, sessions, settings, clock=settings.now_live)
    present.register(app)
    places.register(app, clock=store.clock)
    volunteers.register(app, sessions, settings, clock=store.clock)
    desk.register(app, sessions, settings, clock=store.clock)
    case.register(app, sessions, settings, clock=store.clock, writes=writes)
    sections.register(app, SectionBoards(sessions, settings, clock=store.clock), settings)
