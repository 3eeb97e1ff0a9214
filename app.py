"""Gridwatch: the app factory and the ``gridwatch`` command line.

``create_app(settings)`` assembles the Dash app (layout, routes, callbacks) and builds nothing
at import time. Jobs (snapshot refresh, demo simulator) start only from ``main()`` commands, in
exactly one process. Under gunicorn use ``gunicorn "app:wsgi()"`` with a separate
``gridwatch scheduler`` process for the jobs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from dash import Dash
from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from callbacks import register_all
from dashboard import pages, shell
from queries.engine import (
    make_engine,
    make_session_factory,
)
from queries.rules import load_rules
from queries.workcalendar import default_calendar
from settings import Settings, SettingsError
from snapshot import routes, routes_places
from snapshot.build import make_builder
from snapshot.jobs import JobDefinition
from snapshot.store import SnapshotStore

ASSETS = Path(__file__).resolve().parent / "assets"
log = logging.getLogger("gridwatch")


@dataclass(frozen=True)
class Context:
    """What the running app holds: its settings, database and snapshot store."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: SnapshotStore


def create_context(settings: Settings, *, auto_refresh: bool = False) -> Context:
    """Open the database and create the (empty) snapshot store."""
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    store = SnapshotStore(
        builder=make_builder(sessions, settings), refresh_seconds=settings.refresh_seconds,
        clock=settings.now, auto_refresh=auto_refresh,
    )
    return Context(settings=settings, engine=engine, sessions=sessions, store=store)


def create_app(settings: Settings | None = None, *, context: Context | None = None) -> Dash:
    """Assemble the Dash app for ``settings`` (environment defaults when None)."""
    ctx = context or create_context(settings or Settings.from_env())
    unknown = [item for item in ctx.settings.present_pages
               if pages.presentable(item.partition("?")[0]) is None]
    if unknown:
        raise SettingsError(f"GRIDWATCH_PRESENT_PAGES: {', '.join(unknown)} is not a page the "
                            f"carousel can show ({', '.join(p.name for p in pages.PAGES if p.presentable)})")
    app = Dash(
        __name__,
        assets_folder=str(ASSETS),
        title="Gridwatch 城市运行指挥大屏",
        update_title=None,
        suppress_callback_exceptions=True,
        serve_locally=True,
    )
    app.server.secret_key = ctx.settings.secret_key
    app.server.config["GRIDWATCH"] = ctx
    app.layout = shell.layout
    routes.register(app.server, ctx.store)
    routes_places.register(app.server, ctx.sessions, ctx.settings, ctx.store.clock)
    register_all(app, ctx.store, ctx.sessions, ctx.settings)
    return app


def create_jobs(ctx: Context, *, snapshot: bool = True) -> list[JobDefinition]:
    """Return the periodic jobs of a deployment: the snapshot, and the simulator in demo mode."""
    jobs = []
    if snapshot:
        jobs.append(JobDefinition("snapshot-refresh", ctx.store.refresh,
                                  ctx.settings.refresh_seconds))
    if ctx.settings.simulate:
        from ingest.simulator import Simulator

        simulator = Simulator(ctx.sessions,
                              repeat=load_rules(ctx.settings.rules_file or None).repeat,
                              calendar=default_calendar(ctx.settings.calendar_file),
                              clock=ctx.settings.now)
        jobs.append(JobDefinition("demo-simulator", simulator.tick, ctx.settings.simulator_seconds))
    return jobs


def wsgi() -> Flask:
    """Return the Flask server for gunicorn (``gunicorn "app:wsgi()"``).

    Workers run no scheduler: each rebuilds a snapshot at most once per refresh interval when
    a client asks, so database load grows with workers and areas, never with browsers.
    """
    ctx = create_context(Settings.from_env(), auto_refresh=True)
    return create_app(context=ctx).server
