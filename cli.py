"""The ``gridwatch`` command line: click commands over the app factory and the named queries.

Every failure a user can cause (a bad setting, an unreachable database, a port in use, a bad
month or rules file) ends with one line and exit status 1, never a traceback.
"""

from __future__ import annotations

import errno
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
from flask import Flask
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from waitress.server import BaseWSGIServer, MultiSocketServer, create_server

from app import Context, create_app, create_context, create_jobs, create_publisher, serving_jobs
from dashboard.deck import deck_from, default_deck_name
from dashboard.deck.images import ChartRenderError, Charts
from dashboard.rankings.view import ranking_xlsx
from ingest import cli as ingest_cli
from ingest import cli_areas, cli_places
from queries import accounts
from queries.areas import district
from queries.assessment import (
    FLAG_MIN_SAMPLE,
    MAX_PUBLISHER,
    AssessmentError,
    Change,
    MonthAssessment,
    check_month,
    load_month,
)
from queries.assessment import publish as publish_command
from queries.deck import gather
from queries.engine import (
    DatabaseUnavailable,
    check_connection,
    error_reason,
    init_db,
    make_engine,
)
from queries.kept_months import KeptMonths
from queries.migrate import SchemaBehind, current_revision, require_current
from queries.models import LEVEL_STREET, Area, Department
from queries.rules import Rules, RulesError, load_rules
from queries.workcalendar import CalendarFileError, default_calendar
from security import cli as accounts_cli
from settings import Settings, SettingsError
from snapshot.jobs import JobDefinition, create_scheduler
from snapshot.shared import SnapshotPublisher
from snapshot.store import DISTRICT, SnapshotStore

log = logging.getLogger("gridwatch")

# Errors whose message is written for the user: any command ending in one prints it as one line.
USER_ERRORS = (SettingsError, RulesError, CalendarFileError, AssessmentError, DatabaseUnavailable,
               SchemaBehind)
# Our own loggers: -v shows their debug lines (a failed job's traceback) without turning on
# every library's debug output (SQLAlchemy would log each statement).
OWN_LOGGERS = ("gridwatch", "app", "cli", "callbacks", "dashboard", "ingest", "queries",
               "snapshot")


class _Group(click.Group):
    """The command group: a user-facing error from any layer ends as one line, exit status 1."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except USER_ERRORS as exc:
            raise click.ClickException(str(exc)) from exc


def configure_logging(verbose: bool) -> None:
    """Log warnings only by default; -v adds every snapshot, job step and request line.

    The served requests are logged by ``gridwatch.access`` (waitress logs none). Werkzeug, the
    development server of the browser tests, sets its own logger to INFO when it has no level,
    so its level is set here either way.
    """
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("werkzeug").setLevel(logging.INFO if verbose else logging.WARNING)
    logging.getLogger("gridwatch.access").setLevel(logging.INFO if verbose else logging.WARNING)
    # A job blocked on a locked database makes APScheduler warn "skipped: maximum number of
    # running instances reached" every interval; GuardedJob already says the job is failing.
    logging.getLogger("apscheduler").setLevel(logging.INFO if verbose else logging.ERROR)
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.NOTSET)


def sqlite_file(url: str) -> Path | None:
    """Return the file of an SQLite URL, or None for another database or an in-memory one."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return None  # make_engine reports a malformed URL
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser()


def _settings(**overrides: object) -> Settings:
    try:
        return Settings.from_env(**overrides)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


def _check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise click.ClickException(
                    f"port {port} on {host} is already in use: stop the other server or pass "
                    f"--port (or set GRIDWATCH_PORT)"
                ) from exc
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from exc


def _open_database(settings: Settings, *, create: bool, add_tables: bool = True) -> Context:
    """Open the database; only ``create`` commands may start a new SQLite file.

    ``add_tables`` brings the schema to this version (``init_db``: create, or migrate) and
    connects with the write setting for everything; without it the database must answer and
    already be at this version's schema (serving changes no schema and reads through
    ``GRIDWATCH_DATABASE_URL``, which may be a read-only role).
    """
    if add_tables:
        settings = settings.writing()
    path = sqlite_file(settings.database_url)
    if not create and path is not None and not path.is_file():
        raise click.ClickException(
            f"no database at {path}: run `gridwatch demo` or `gridwatch init-db`")
    try:
        ctx = create_context(settings)
        if add_tables:
            init_db(ctx.engine)
        else:
            check_connection(ctx.engine)
            require_current(ctx.engine)
    except (DatabaseUnavailable, SchemaBehind) as exc:
        raise click.ClickException(str(exc)) from exc
    return ctx


DEV_SECRET = Settings().secret_key


def _check_can_serve(ctx: Context) -> None:
    """Refuse to serve with the development secret key or with nobody able to log in."""
    if ctx.settings.secret_key == DEV_SECRET:
        raise click.ClickException(
            "set GRIDWATCH_SECRET_KEY (python -c 'import secrets; print(secrets.token_hex(32))')")
    with ctx.sessions() as session:
        if accounts.enabled_user_count(session) == 0:
            raise click.ClickException("create a user: gridwatch user add NAME --role leader")


def _demo_accounts(ctx: Context) -> list[str]:
    """Create one account per role and one kiosk token with random secrets; return the lines
    to print (the demo's passwords exist only in this output)."""
    lines = []
    now = ctx.settings.now_live()
    with ctx.sessions() as session:
        department = session.scalar(select(Department).order_by(Department.id))
        street = session.scalar(select(Area).where(Area.level == LEVEL_STREET).order_by(Area.id))
        wanted = [("demo-leader", "leader", "演示领导", None, None)]
        if department is not None:
            wanted.append(("demo-dept", "department", f"{department.name}负责人",
                           department.code, None))
        if street is not None:
            wanted.append(("demo-street", "area", f"{street.name}街长", None, street.code))
        for username, role, name, dept, area in wanted:
            password = accounts.generate_password()
            if accounts.get_account(session, username) is None:
                accounts.add_user(session, username, password, role, now=now, display_name=name,
                                  department=dept, area=area)
            else:
                accounts.reset_password(session, username, password)
            accounts.audit(session, "demo", "user-add", username, f"role={role}", now=now)
            lines.append(f"  {role:<10} {username} / {password}")
        token_name = f"demo-wall-{secrets.token_hex(3)}"
        secret = accounts.add_token(session, token_name, now=now)
        accounts.audit(session, "demo", "token-add", token_name, now=now)
        session.commit()
    host = ctx.settings.host
    lines.append(f"  kiosk      http://{host}:{ctx.settings.port}/screen?kiosk={secret}")
    return lines


# Open connections waitress keeps at most (idle kept-alive ones included): past its default of
# 100, a room of 200 polling walls would queue for a free slot.
CONNECTION_LIMIT = 1000
access_log = logging.getLogger("gridwatch.access")


def _logged(app: Flask) -> Callable[..., Iterable[bytes]]:
    """Wrap ``app`` so each request logs one line (-v): waitress itself logs none."""

    def logged(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            access_log.info('"%s %s %s" %s', environ["REQUEST_METHOD"],
                            environ.get("PATH_INFO", ""), environ["SERVER_PROTOCOL"],
                            status.split(" ", 1)[0])
            return start_response(status, headers, *exc)

        return app(environ, start)

    return logged


def production_server(app: Flask, settings: Settings) -> BaseWSGIServer | MultiSocketServer:
    """Return the bound server of ``serve`` and ``demo``: waitress, HTTP/1.1 keep-alive.

    A wall polls every few seconds; Werkzeug's development server closed its connection after
    each answer, so every poll paid a new TCP handshake and a thread. Waitress keeps the
    connection open and runs requests in ``GRIDWATCH_THREADS`` worker threads.
    """
    wsgi = _logged(app) if access_log.isEnabledFor(logging.INFO) else app
    return create_server(wsgi, host=settings.host, port=settings.port, threads=settings.threads,
                         connection_limit=CONNECTION_LIMIT, ident="gridwatch")


def _check_city(ctx: Context) -> None:
    with ctx.sessions() as session:
        if district(session) is None:
            raise click.ClickException(
                "the database holds no city yet: run `gridwatch generate` (demo data) or import "
                "your case data first"
            )


def _serve(ctx: Context, *, accounts_needed: bool = False) -> None:
    settings = ctx.settings
    _check_port_free(settings.host, settings.port)
    _check_city(ctx)
    if accounts_needed:
        _check_can_serve(ctx)
    app = create_app(context=ctx)
    jobs = serving_jobs(ctx)
    scheduler = create_scheduler(jobs, timezone=settings.timezone)
    if isinstance(ctx.store, SnapshotStore):
        ctx.store.refresh()
    try:
        server = production_server(app.server, settings)
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}") from exc
    if jobs:
        scheduler.start()
    click.echo(f"Gridwatch is serving on http://{settings.host}:{settings.port}/  "
               f"(Ctrl+C stops)")
    try:
        server.run()  # returns on Ctrl+C, its worker threads stopped
    finally:
        server.close()
        if scheduler.running:
            scheduler.shutdown(wait=False)


def _publishing_jobs(ctx: Context) -> list[JobDefinition]:
    """Return the jobs of the one scheduler beside workers, after publishing the district once.

    A role that may not write the ``snapshots`` table stops the start with one line: the
    workers would otherwise wait for a snapshot that never comes.
    """
    publisher: SnapshotPublisher = create_publisher(ctx)
    try:
        publisher.publish(DISTRICT)
    except SQLAlchemyError as exc:
        reason = error_reason(exc)
        raise click.ClickException(
            f"cannot write the shared snapshot (table snapshots): {reason}. The scheduler "
            f"needs a role that may write it: set GRIDWATCH_WRITE_DATABASE_URL") from exc
    return create_jobs(ctx, publisher=publisher)


# Seconds gunicorn keeps an idle connection open: longer than a wall's poll interval, so each
# poll reuses its connection (gunicorn's default of 2 s closed it between polls).
KEEP_ALIVE = 75


def gunicorn_command(settings: Settings, workers: int) -> list[str]:
    """Return the gunicorn command line of ``serve --workers N``: threaded workers, keep-alive."""
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{settings.port}",
            "--workers", str(workers), "--worker-class", "gthread",
            "--threads", str(settings.threads), "--keep-alive", str(KEEP_ALIVE),
            # gunicorn 27 otherwise opens a control socket in the home folder (read-only
            # under the systemd unit's ProtectHome=, docs/deploy.md).
            "--no-control-socket", "--graceful-timeout", "10", "app:wsgi()"]


def _serve_workers(ctx: Context, workers: int) -> None:
    """Serve with gunicorn workers that read the snapshot this process publishes.

    This process is the deployment's one scheduler (unless GRIDWATCH_RUN_SCHEDULER=false says
    a separate ``gridwatch scheduler`` is); the workers run none (GRIDWATCH_RUN_SCHEDULER=false
    in their environment) and build nothing.
    """
    settings = ctx.settings
    _check_port_free(settings.host, settings.port)
    _check_city(ctx)
    _check_can_serve(ctx)
    jobs = _publishing_jobs(ctx) if settings.run_scheduler else []
    scheduler = create_scheduler(jobs, timezone=settings.timezone)
    env = {**os.environ, "GRIDWATCH_RUN_SCHEDULER": "false"}
    server = subprocess.Popen(gunicorn_command(settings, workers), env=env)
    stopping = False

    def stop(_signum: int, _frame: object) -> None:  # systemd's stop: gunicorn stops gracefully
        nonlocal stopping
        stopping = True
        server.terminate()

    signal.signal(signal.SIGTERM, stop)
    if jobs:
        scheduler.start()
    click.echo(f"Gridwatch is serving on http://{settings.host}:{settings.port}/ with {workers} "
               f"workers (Ctrl+C stops)")
    try:
        status = 0 if server.wait() == 0 or stopping else server.returncode
    except KeyboardInterrupt:
        status = 0
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        if scheduler.running:
            scheduler.shutdown(wait=False)
    if status:
        raise click.ClickException(f"gunicorn stopped with status {status}")


def _generate(ctx: Context, cases: int, seed: int) -> None:
    from ingest.democity import generate

    started = time.perf_counter()
    try:
        summary = generate(ctx.engine, cases=cases, seed=seed, progress=True,
                           now=ctx.settings.now(),
                           calendar=default_calendar(ctx.settings.calendar_file))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    rows = (summary.areas + summary.departments + summary.categories + summary.cases
            + summary.case_events + summary.volunteer_teams + summary.volunteers
            + summary.activities + summary.pois)
    click.echo(
        f"generated {summary.cases:,} cases, {summary.areas} areas, {summary.volunteer_teams} "
        f"volunteer teams, {summary.pois} places: {rows:,} rows in "
        f"{time.perf_counter() - started:.1f} s"
    )


def _host(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is not None and (not value.strip() or any(c.isspace() for c in value)):
        raise click.BadParameter(f"{value!r} is not a host name or address")
    return value


def _publisher(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    value = value.strip()
    if len(value) > MAX_PUBLISHER:
        raise click.BadParameter(f"at most {MAX_PUBLISHER} characters, not {len(value)}")
    return value


host_option = click.option("--host", default=None, callback=_host,
                           help="address to listen on (GRIDWATCH_HOST)")
port_option = click.option("--port", type=click.IntRange(1, 65535), default=None,
                           help="port, 1–65535 (GRIDWATCH_PORT)")
cases_option = click.option("--cases", type=click.IntRange(0, 10_000_000), default=150_000,
                            show_default=True, help="cases to generate")
seed_option = click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=42,
                           show_default=True, help="random seed of the demo city")


@click.group(cls=_Group)
@click.option("-v", "--verbose", is_flag=True,
              help="log every snapshot, job step and request (and a failed job's traceback)")
def cli(verbose: bool) -> None:
    """Gridwatch: a live command-center dashboard for city management."""
    configure_logging(verbose)


@cli.command()
@host_option
@port_option
@cases_option
@seed_option
def demo(host: str | None, port: int | None, cases: int, seed: int) -> None:
    """Create the demo city if missing, then serve it with the live simulator on."""
    settings = replace(_settings(host=host, port=port), simulate=True, open_wall=True)
    if settings.secret_key == DEV_SECRET:
        # A fresh key per demo run: sessions end with it, nothing signed outlives the demo.
        settings = replace(settings, secret_key=secrets.token_hex(32))
    _check_port_free(settings.host, settings.port)
    ctx = _open_database(settings, create=True)
    with ctx.sessions() as session:
        empty = district(session) is None
    if empty:
        click.echo(f"creating the demo city in {settings.database_url} …")
        _generate(ctx, cases, seed)
    click.echo("demo accounts (new passwords every start):")
    click.echo("\n".join(_demo_accounts(ctx)))
    _serve(ctx)


@cli.command()
@host_option
@port_option
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              envvar="GRIDWATCH_WORKERS",
              help="processes serving (GRIDWATCH_WORKERS); past 1, gunicorn workers that share "
                   "the snapshot this process publishes")
def serve(host: str | None, port: int | None, workers: int) -> None:
    """Serve an existing database (no simulator unless GRIDWATCH_SIMULATE=true)."""
    settings = _settings(host=host, port=port)
    if workers > 1:
        _serve_workers(_open_database(settings, create=False, add_tables=False), workers)
        return
    _serve(_open_database(settings, create=False, add_tables=False), accounts_needed=True)


@cli.command("migrate")
def migrate_command() -> None:
    """Upgrade the database's schema to this version (new indexes included)."""
    settings = _settings().writing()
    path = sqlite_file(settings.database_url)
    if path is not None and not path.is_file():
        raise click.ClickException(f"no database at {path}: run `gridwatch init-db`")
    # GRIDWATCH_STATEMENT_TIMEOUT reaches migrations too: an index on millions of cases may
    # need longer than the default, and the setting is how to say so.
    engine = make_engine(settings.database_url, **settings.engine_timeouts())
    check_connection(engine)
    with engine.connect() as conn:
        before = current_revision(conn)
    init_db(engine)
    with engine.connect() as conn:
        after = current_revision(conn)
    shown = engine.url.render_as_string()
    if before == after:
        click.echo(f"database schema already at revision {after}: {shown}")
    else:
        click.echo(f"database schema upgraded from {before or 'before migrations'} to revision "
                   f"{after}: {shown}")


@cli.command("init-db")
def init_db_command() -> None:
    """Create the tables and indexes in the configured database."""
    settings = _settings()
    _open_database(settings, create=True)
    click.echo(f"database ready: {make_url(settings.write_database_url).render_as_string()}")


@cli.command()
@cases_option
@seed_option
def generate(cases: int, seed: int) -> None:
    """Generate the demo city into the configured (empty) database."""
    _generate(_open_database(_settings(), create=True), cases, seed)


@cli.command()
def scheduler() -> None:
    """Run the jobs once beside gunicorn workers: publish the shared snapshot, and the demo
    simulator with GRIDWATCH_SIMULATE=true."""
    ctx = _open_database(_settings(), create=False, add_tables=False)
    _check_city(ctx)
    sched = create_scheduler(_publishing_jobs(ctx), timezone=ctx.settings.timezone)
    click.echo("Gridwatch scheduler running (Ctrl+C stops)")
    sched.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        sched.shutdown(wait=False)


# A bad month is one line and exit 1 like every other failure of these commands, so it is
# checked in the command (``_assessment_inputs``), not as a click usage error.
month_option = click.option("--month", required=True, help="the month, YYYY-MM")
rules_option = click.option("--rules", "rules_file", default=None,
                            type=click.Path(dir_okay=False),
                            help="rules file (GRIDWATCH_RULES_FILE; default: the shipped rules)")


def _assessment_inputs(month: str, rules_file: str | None) -> tuple[Context, Rules]:
    """Check the month, load the rules and open the database, failing with one clear line."""
    settings = _settings()
    try:
        check_month(month)
        rules = load_rules(rules_file or settings.rules_file or None)
    except (AssessmentError, RulesError) as exc:
        raise click.ClickException(str(exc)) from exc
    return _open_database(settings, create=False), rules


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _ranking_table(result: MonthAssessment) -> list[str]:
    """Return the terminal lines of a month's ranking: two summary lines, then one row a street."""
    def signed(change: Change) -> str:
        return "" if change.delta is None else f"{change.delta:+g}"

    d, k = result.district, f"{result.cost_threshold:g}"
    state = (f"published {result.published_at:%Y-%m-%d %H:%M}" if result.published_at
             else f"provisional, computed {result.computed_at:%Y-%m-%d %H:%M}")
    pct = "" if d.problems_change.pct is None else f" ({d.problems_change.pct:+g}%)"
    score = "—" if d.score is None else f"{d.score:.2f}"
    title = (f"{result.month} {d.name} 综合考核 · {state} · rules {result.rules_title} "
             f"({result.rules_sha256[:12]})")
    summary = (f"district score {score} {signed(d.score_change)} · problems {d.problems} "
               f"{signed(d.problems_change)}{pct} · costing ≥ {k} points "
               f"{d.problems_costing_at_least_k} · repeats {d.repeat_problems}")
    lines = [title, summary]
    rows = [("group", "g.rank", "rank", "street", "score", "Δ", "problems", f"≥{k}", "repeats",
             "flags")]
    for group in result.groups:
        for s in result.in_group(group.name):
            flags = [f"倒数×{s.consecutive_bottom_two}" if s.bottom_two else "",
                     "样本不足" if s.flag == FLAG_MIN_SAMPLE else "",
                     "capped:" + ",".join(s.capped) if s.capped else ""]
            rows.append((group.name, str(s.group_rank or "—"), str(s.rank or "—"), s.name,
                         f"{s.score:.2f}", signed(s.score_change), str(s.problems),
                         str(s.problems_costing_at_least_k), str(s.repeat_problems),
                         " ".join(f for f in flags if f)))
    widths = [max(_width(row[n]) for row in rows) for n in range(len(rows[0]))]
    lines += ["  ".join(cell + " " * (w - _width(cell)) for cell, w in zip(row, widths)).rstrip()
              for row in rows]
    return lines + [f"warning: {w}" for w in result.warnings]


@cli.command()
@month_option
@rules_option
def assess(month: str, rules_file: str | None) -> None:
    """Print a month's ranking: the frozen figures when published, provisional otherwise."""
    ctx, rules = _assessment_inputs(month, rules_file)
    with ctx.sessions() as session:
        try:
            result = load_month(session, month, rules, now=ctx.settings.now(),
                                kept=KeptMonths(ctx.writes))
        except AssessmentError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo("\n".join(_ranking_table(result)))


@cli.command()
@month_option
@rules_option
@click.option("--force", is_flag=True, help="replace the month if it is already published")
@click.option("--by", default="", callback=_publisher,
              help=f"who publishes (kept with the month, at most {MAX_PUBLISHER} characters)")
def publish(month: str, rules_file: str | None, force: bool, by: str) -> None:
    """Freeze a finished month's ranking with the rules that made it."""
    ctx, rules = _assessment_inputs(month, rules_file)
    try:
        done = publish_command(ctx.sessions, month, rules, now=ctx.settings.now(), by=by,
                               force=force, indicator_rules=ctx.settings.indicator_settings())
    except AssessmentError as exc:
        raise click.ClickException(str(exc)) from exc
    with ctx.sessions() as session:
        accounts.audit(session, accounts_cli.CLI_ACTOR, "publish", month, f"by={by}",
                       now=ctx.settings.now_live())
        session.commit()
    click.echo("\n".join(_ranking_table(done.assessment)))
    click.echo(f"published {month} with rules sha256 {done.rules_sha256[:12]}")


@cli.command()
@month_option
@rules_option
@click.option("--output", "output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="the deck to write (default: gridwatch-YYYY-MM.pptx here)")
@click.option("--xlsx", "xlsx", type=click.Path(dir_okay=False, writable=True), default=None,
              help="also write the ranking table as an Excel workbook")
def report(month: str, rules_file: str | None, output: str | None, xlsx: str | None) -> None:
    """Write a month's review-meeting deck (PPTX, in Chinese), and its ranking as XLSX."""
    deck_path = Path(output or default_deck_name(month))
    for target in (deck_path, Path(xlsx) if xlsx else None):
        if target is not None and not target.resolve().parent.is_dir():
            raise click.ClickException(f"cannot write {target}: no folder {target.parent}")
    ctx, rules = _assessment_inputs(month, rules_file)
    # The browser opens while the month is read: it needs none of it.
    with Charts() as charts, ctx.sessions() as session:
        try:
            inputs = gather(session, month, rules, now=ctx.settings.now(),
                            indicator_rules=ctx.settings.indicator_settings(),
                            kept=KeptMonths(ctx.writes))
            deck = deck_from(inputs, charts)
        except (AssessmentError, ChartRenderError) as exc:
            raise click.ClickException(str(exc)) from exc
    try:
        deck_path.write_bytes(deck)
        if xlsx:
            Path(xlsx).write_bytes(ranking_xlsx(inputs.assessment))
    except OSError as exc:
        raise click.ClickException(f"cannot write {exc.filename}: {exc.strerror}") from exc
    click.echo(f"wrote {deck_path} ({len(deck) / 1024:,.0f} KB)"
               + (f" and {xlsx}" if xlsx else ""))


# The writers' commands live beside their code in ingest/ and join the one group here.
for _command in ingest_cli.COMMANDS:
    cli.add_command(_command)
cli_areas.register(cli)
accounts_cli.register(
    cli, lambda: (lambda ctx: (ctx.settings, ctx.sessions))(
        _open_database(_settings(), create=False)))
cli.add_command(cli_places.import_places_command)
cli.add_command(cli_places.import_volunteers_command)
cli.add_command(cli_places.import_checkins_command)


def main() -> None:
    """Entry point of the ``gridwatch`` console script."""
    cli(prog_name="gridwatch")


if __name__ == "__main__":
    sys.exit(main())
