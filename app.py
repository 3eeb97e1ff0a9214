"""Gridwatch: the app factory and the ``gridwatch`` command line.

``create_app(settings)`` assembles the Dash app (layout, routes, callbacks) and builds nothing
at import time. Jobs (snapshot refresh, demo simulator) start only from ``main()`` commands, in
exactly one process. ``gridwatch serve --workers N`` runs gunicorn workers (``app:wsgi()``) that
read the snapshot the one scheduler publishes (snapshot/shared.py); by hand, run
``gunicorn "app:wsgi()"`` beside one ``gridwatch scheduler``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from dash import Dash
from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.middleware.proxy_fix import ProxyFix

from callbacks import register_all
from callbacks import screen as screen_callbacks
from dashboard import bundles, pages, shell
from dashboard.i18n import use_vocabulary
from ingest.importer.mapping import MappingError, load_mapping
from ingest.open311 import Open311Error, Open311Job, Open311Settings
from queries.engine import (
    make_engine,
    make_session_factory,
)
from queries.rules import load_rules
from queries.vocabulary import VocabularyError
from queries.workcalendar import default_calendar
from security import headers
from security import sessions as login
from settings import Settings, SettingsError
from snapshot import routes, routes_desk, routes_places
from snapshot.build import make_builder
from snapshot.jobs import JobDefinition
from snapshot.shared import NEW_AREA_SECONDS, SharedSnapshots, SnapshotPublisher, SnapshotTable
from snapshot.store import SnapshotStore

ASSETS = Path(__file__).resolve().parent / "assets"
# What flask-compress may compress: the media types this app serves that compress well. Its own
# default list leaves out GeoJSON's, so the outlines, the area layers and the toilets' state
# travelled uncompressed (the open cases and their density are gzipped once per snapshot).
COMPRESSED_TYPES = ["text/html", "text/css", "text/plain", "text/javascript",
                    "application/javascript", "application/json", "application/geo+json",
                    "image/svg+xml", "font/otf"]
log = logging.getLogger("gridwatch")


@dataclass(frozen=True)
class Context:
    """What the running app holds: its settings, database and snapshot store.

    ``sessions`` read (the snapshot, the pages: a SELECT-only role is enough); ``writes`` is
    what publishing, logins, audit entries, citizens' reports and the jobs that write use
    (``GRIDWATCH_WRITE_DATABASE_URL``; the same engine when it is not set).
    """

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: SnapshotStore | SharedSnapshots
    write_engine: Engine
    writes: sessionmaker[Session]


def create_context(settings: Settings, *, shared: bool | None = None) -> Context:
    """Open the database and create the (empty) snapshot store.

    ``shared`` (read the ``snapshots`` table the one scheduler writes; build nothing) defaults
    to ``not settings.run_scheduler``: a process that runs no jobs is one of several workers.
    """
    if shared is None:
        shared = not settings.run_scheduler
    engine = make_engine(settings.database_url, **settings.engine_timeouts())
    sessions = make_session_factory(engine)
    write_engine = engine if settings.write_database_url == settings.database_url \
        else make_engine(settings.write_database_url, **settings.engine_timeouts())
    writes = make_session_factory(write_engine)
    store: SnapshotStore | SharedSnapshots
    if shared:
        store = SharedSnapshots(SnapshotTable(sessions, writes), settings.refresh_seconds,
                                clock=settings.now, max_areas=settings.max_watched_areas)
    else:
        store = SnapshotStore(
            builder=make_builder(sessions, settings, writes=writes),
            refresh_seconds=settings.refresh_seconds, clock=settings.now,
            max_areas=settings.max_watched_areas,
        )
    return Context(settings=settings, engine=engine, sessions=sessions, store=store,
                   write_engine=write_engine, writes=writes)


def create_publisher(ctx: Context) -> SnapshotPublisher:
    """Return the scheduler's side of the shared snapshot: builds and writes the table."""
    return SnapshotPublisher(make_builder(ctx.sessions, ctx.settings, writes=ctx.writes),
                             SnapshotTable(ctx.sessions, ctx.writes),
                             ctx.settings.refresh_seconds, clock=ctx.settings.now)


def create_app(settings: Settings | None = None, *, context: Context | None = None) -> Dash:
    """Assemble the Dash app for ``settings`` (environment defaults when None)."""
    ctx = context or create_context(settings or Settings.from_env())
    unknown = [item for item in ctx.settings.present_pages
               if pages.presentable(item.partition("?")[0]) is None]
    if unknown:
        shown = ', '.join(p.name for p in pages.PAGES if p.presentable)
        raise SettingsError(f"GRIDWATCH_PRESENT_PAGES: {', '.join(unknown)} is not a page the "
                            f"carousel can show ({shown})")
    server = Flask(__name__)
    server.config["COMPRESS_MIMETYPES"] = COMPRESSED_TYPES  # read when Dash enables compress
    app = Dash(
        __name__,
        server=server,
        assets_folder=str(ASSETS),
        # Vendored bundles are served by dashboard.bundles, never put on every page.
        assets_path_ignore=["vendor"],
        title="Gridwatch 城市运行指挥大屏",
        update_title=None,
        suppress_callback_exceptions=True,
        serve_locally=True,
        # gzip every JS, CSS and JSON answer over 500 B (flask-compress): the wall's first
        # paint is bound by ~8 MB of component JavaScript on a slow office link.
        compress=True,
    )
    app.server.secret_key = ctx.settings.secret_key
    if ctx.settings.proxy_hops:
        # Behind nginx the client's address and scheme arrive in X-Forwarded-For/-Proto; only
        # as many hops as configured are believed, so a client cannot forge its own address.
        hops = ctx.settings.proxy_hops
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    try:
        use_vocabulary(ctx.settings.vocabulary_file)
    except VocabularyError as exc:
        raise SettingsError(f"GRIDWATCH_VOCABULARY_FILE: {exc}") from exc
    app.server.config["GRIDWATCH"] = ctx
    bundles.register(app, ctx.store, ctx.settings)
    app.layout = shell.layout
    routes.register(app.server, ctx.store)
    routes_places.register(app.server, ctx.sessions, ctx.settings, ctx.store.clock,
                           writes=ctx.writes)
    routes_desk.register(app.server, ctx.sessions, ctx.settings, ctx.store.clock)
    register_all(app, ctx.store, ctx.sessions, ctx.settings, writes=ctx.writes)
    # After the router's 404 hook: an unknown path answers 404 before any login redirect.
    headers.register(app.server)
    login.register(app.server, ctx.sessions, ctx.settings, writes=ctx.writes)
    screen_callbacks.register_refresh_cache(app.server, ctx.store)  # after the login hook
    return app


def create_jobs(ctx: Context, *, publisher: SnapshotPublisher | None = None
                ) -> list[JobDefinition]:
    """Return the periodic jobs of a deployment: the snapshot, the simulator in demo mode, and
    the Open311 pull when ``GRIDWATCH_OPEN311_ENDPOINT`` is set.

    The snapshot job refreshes this process's store; given a ``publisher`` (the one scheduler
    of several workers) it writes the shared table instead, and builds an area a worker asked
    for within ``NEW_AREA_SECONDS``. A worker's context (``SharedSnapshots``) has no snapshot
    job of its own.
    """
    jobs = []
    if publisher is not None:
        jobs += [JobDefinition("snapshot-publish", publisher.refresh, ctx.settings.refresh_seconds),
                 JobDefinition("snapshot-new-areas", publisher.build_requested, NEW_AREA_SECONDS)]
    elif isinstance(ctx.store, SnapshotStore):
        jobs.append(JobDefinition("snapshot-refresh", ctx.store.refresh,
                                  ctx.settings.refresh_seconds))
    if ctx.settings.simulate:
        from ingest.simulator import Simulator

        simulator = Simulator(ctx.writes,
                              repeat=load_rules(ctx.settings.rules_file or None).repeat,
                              calendar=default_calendar(ctx.settings.calendar_file),
                              clock=ctx.settings.now,
                              tick_seconds=ctx.settings.simulator_seconds)
        jobs.append(JobDefinition("demo-simulator", simulator.tick, ctx.settings.simulator_seconds))
    pull = open311_job(ctx)
    if pull is not None:
        jobs.append(JobDefinition(pull.id, pull, pull.seconds))
    return jobs


def open311_job(ctx: Context) -> Open311Job | None:
    """Return the scheduled Open311 pull, or None when no endpoint is configured.

    A bad Open311 setting or mapping stops the start with one line (SettingsError).
    """
    try:
        settings = Open311Settings.from_env()
        if not settings.endpoint:
            return None
        mapping = load_mapping(settings.mapping_file)
    except Open311Error as exc:
        raise SettingsError(str(exc)) from exc
    except MappingError as exc:
        raise SettingsError(f"GRIDWATCH_OPEN311_MAPPING: {exc}") from exc
    return Open311Job(engine=ctx.write_engine, settings=settings, mapping=mapping,
                      clock=ctx.settings.now, city_timezone=ctx.settings.timezone,
                      calendar=default_calendar(ctx.settings.calendar_file))
def serving_jobs(ctx: Context) -> list[JobDefinition]:
    """Return the jobs ``gridwatch serve``/``demo`` start in the serving process.

    None with GRIDWATCH_RUN_SCHEDULER=false: another process (``gridwatch scheduler``) runs
    them and publishes the snapshot this process reads.
    """
    return create_jobs(ctx) if ctx.settings.run_scheduler else []


def wsgi() -> Flask:
    """Return the Flask server for gunicorn (``gunicorn "app:wsgi()"``).

    Workers run no jobs and build nothing: they serve the snapshot one ``gridwatch scheduler``
    (or ``gridwatch serve --workers N``) publishes, so database load does not grow with
    workers, areas watched or browsers.
    """
    ctx = create_context(Settings.from_env(), shared=True)
    server = create_app(context=ctx).server
    # Each worker's own upkeep threads, started after gunicorn's fork: the same statements
    # per worker whichever workers the walls' polls reach.
    cast(SharedSnapshots, ctx.store).keep_checking()
    cast(login.TokenCache, server.config["GRIDWATCH_TOKENS"]).keep_reading()
    return server
