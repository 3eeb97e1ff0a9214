"""The ``gridwatch`` command line: click commands over the app factory and the named queries.

Every failure a user can cause (a bad setting, an unreachable database, a port in use, a bad
month or rules file) ends with one line and exit status 1, never a traceback.
"""

from __future__ import annotations

import errno
import logging
import socket
import sys
import time
import unicodedata
from dataclasses import replace
from pathlib import Path

import click

from app import Context, create_app, create_context, create_jobs
from dashboard.deck import deck_from, default_deck_name
from dashboard.deck.images import ChartRenderError
from dashboard.rankings.view import ranking_xlsx
from ingest import cli as ingest_cli
from ingest import cli_areas
from queries.areas import district
from queries.assessment import (
    FLAG_MIN_SAMPLE,
    AssessmentError,
    Change,
    MonthAssessment,
    load_month,
    month_bounds,
    publish_month,
)
from queries.deck import gather
from queries.engine import DatabaseUnavailable, check_connection, init_db, make_engine
from queries.rules import Rules, RulesError, load_rules
from queries.workcalendar import default_calendar
from settings import Settings, SettingsError
from snapshot.jobs import create_scheduler

log = logging.getLogger("gridwatch")


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


def _open_database(settings: Settings, *, create: bool) -> Context:
    try:
        ctx = create_context(settings)
        (init_db if create else check_connection)(ctx.engine)
    except DatabaseUnavailable as exc:
        raise click.ClickException(str(exc)) from exc
    return ctx


def _serve(ctx: Context) -> None:
    settings = ctx.settings
    _check_port_free(settings.host, settings.port)
    with ctx.sessions() as session:
        if district(session) is None:
            raise click.ClickException(
                "the database holds no city yet: run `gridwatch generate` (demo data) or import "
                "your case data first"
            )
    app = create_app(context=ctx)
    scheduler = create_scheduler(create_jobs(ctx), timezone=settings.timezone)
    ctx.store.refresh()
    if settings.run_scheduler:
        scheduler.start()
    click.echo(f"Gridwatch is serving on http://{settings.host}:{settings.port}/  (Ctrl+C stops)")
    try:
        app.run(host=settings.host, port=settings.port, debug=False, use_reloader=False)
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)


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


host_option = click.option("--host", default=None, help="address to listen on (GRIDWATCH_HOST)")
port_option = click.option("--port", type=int, default=None, help="port (GRIDWATCH_PORT)")


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="log every snapshot and job")
def cli(verbose: bool) -> None:
    """Gridwatch: a live command-center dashboard for city management."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@cli.command()
@host_option
@port_option
@click.option("--cases", type=click.IntRange(min=0), default=150_000, show_default=True,
              help="cases to generate when the demo database is new")
@click.option("--seed", type=int, default=42, show_default=True)
def demo(host: str | None, port: int | None, cases: int, seed: int) -> None:
    """Create the demo city if missing, then serve it with the live simulator on."""
    settings = replace(_settings(host=host, port=port), simulate=True)
    _check_port_free(settings.host, settings.port)
    ctx = _open_database(settings, create=True)
    with ctx.sessions() as session:
        empty = district(session) is None
    if empty:
        click.echo(f"creating the demo city in {settings.database_url} …")
        _generate(ctx, cases, seed)
    _serve(ctx)


@cli.command()
@host_option
@port_option
def serve(host: str | None, port: int | None) -> None:
    """Serve an existing database (no simulator)."""
    settings = _settings(host=host, port=port)
    _serve(_open_database(settings, create=True))  # adds tables a newer version needs


@cli.command("init-db")
def init_db_command() -> None:
    """Create the tables and indexes in the configured database."""
    settings = _settings()
    _open_database(settings, create=True)
    click.echo(f"database ready: {make_engine(settings.database_url).url.render_as_string()}")


@cli.command()
@click.option("--cases", type=click.IntRange(min=0), default=150_000, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
def generate(cases: int, seed: int) -> None:
    """Generate the demo city into the configured (empty) database."""
    _generate(_open_database(_settings(), create=True), cases, seed)


@cli.command()
def scheduler() -> None:
    """Run the demo simulator (GRIDWATCH_SIMULATE=true) once, beside gunicorn workers."""
    ctx = _open_database(_settings(), create=False)
    jobs = create_jobs(ctx, snapshot=False)  # workers build their own snapshots
    if not jobs:
        raise click.ClickException("nothing to run: set GRIDWATCH_SIMULATE=true for the simulator")
    sched = create_scheduler(jobs, timezone=ctx.settings.timezone)
    click.echo("Gridwatch scheduler running (Ctrl+C stops)")
    sched.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        sched.shutdown(wait=False)


month_option = click.option("--month", required=True, help="the month, YYYY-MM")
rules_option = click.option("--rules", "rules_file", default=None,
                            help="rules file (GRIDWATCH_RULES_FILE; default: the shipped rules)")


def _assessment_inputs(month: str, rules_file: str | None) -> tuple[Context, Rules]:
    """Check the month, load the rules and open the database, failing with one clear line."""
    settings = _settings()
    try:
        month_bounds(month)
        rules = load_rules(rules_file or settings.rules_file or None)
    except (AssessmentError, RulesError) as exc:
        raise click.ClickException(str(exc)) from exc
    return _open_database(settings, create=True), rules


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
            result = load_month(session, month, rules, now=ctx.settings.now())
        except AssessmentError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo("\n".join(_ranking_table(result)))


@cli.command()
@month_option
@rules_option
@click.option("--force", is_flag=True, help="replace the month if it is already published")
@click.option("--by", default="", help="who publishes (kept with the month)")
def publish(month: str, rules_file: str | None, force: bool, by: str) -> None:
    """Freeze a finished month's ranking with the rules that made it."""
    ctx, rules = _assessment_inputs(month, rules_file)
    with ctx.sessions() as session:
        try:
            done = publish_month(session, month, rules, now=ctx.settings.now(), by=by, force=force)
        except AssessmentError as exc:
            raise click.ClickException(str(exc)) from exc
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
    with ctx.sessions() as session:
        try:
            inputs = gather(session, month, rules, now=ctx.settings.now(),
                            figures=ctx.settings.indicator_settings())
            deck = deck_from(inputs)
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


def main() -> None:
    """Entry point of the ``gridwatch`` console script."""
    cli(prog_name="gridwatch")


if __name__ == "__main__":
    sys.exit(main())
