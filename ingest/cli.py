"""The importers' commands: ``gridwatch import-cases``, ``quality``, ``pull-open311``.

The lead registers them on the ``gridwatch`` group (``cli.add_command(import_cases)``). Every
failure the user can fix — a bad mapping, an unreadable file, an unreachable database, a bad
setting — ends with one line and exit status 1, never a traceback.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from ingest.importer.mapping import MappingError, load_mapping
from ingest.importer.pipeline import BATCH_SIZE, CaseImporter, ImportSummary
from ingest.importer.readers import ReadError, open_source
from queries.engine import DatabaseUnavailable, error_reason, init_db, make_engine
from queries.workcalendar import CalendarFileError, WorkCalendar, default_calendar


class _Env:
    """What the commands need of the settings: the database, the city's zone and clock."""

    def __init__(self, database_url: str, timezone: str, now: datetime, calendar: WorkCalendar,
                 timeouts: dict[str, int]) -> None:
        self.database_url = database_url
        self.timeouts = timeouts
        self.timezone = timezone
        self.now = now
        self.calendar = calendar


def load_env() -> _Env:
    """Read the settings once (the one place that knows where they live)."""
    from settings import Settings, SettingsError

    try:
        settings = Settings.from_env()
        calendar = default_calendar(settings.calendar_file)
    except (SettingsError, CalendarFileError) as exc:
        raise click.ClickException(str(exc)) from exc
    # The real clock, not GRIDWATCH_AS_OF: "in the future" means after today, even while the
    # wall looks back at a moment of the history being imported.
    return _Env(settings.write_database_url, settings.timezone, settings.now_live(), calendar,
                settings.engine_timeouts())


def open_engine(env: _Env) -> Engine:
    """Open the database and create any missing table; one-line errors."""
    try:
        engine = make_engine(env.database_url, **env.timeouts)
        init_db(engine)
    except DatabaseUnavailable as exc:
        raise click.ClickException(str(exc)) from exc
    return engine


@click.command("import-cases")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--mapping", "mapping_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="the mapping file (YAML, docs/import.md)")
@click.option("--encoding", default=None, help="the CSV's text encoding (wins over detection)")
@click.option("--source", "source_name", default=None,
              help="the source system's name (default: the mapping's name)")
@click.option("--dry-run", is_flag=True, help="read, check and count; write nothing")
@click.option("--batch-size", type=click.IntRange(min=1), default=BATCH_SIZE, show_default=True,
              help="rows per transaction")
def import_cases(file: Path, mapping_path: Path, encoding: str | None, source_name: str | None,
                 dry_run: bool, batch_size: int) -> None:
    """Import a case export (CSV, XLSX or Open311 JSON) through a mapping file."""
    env = load_env()
    try:
        mapping = load_mapping(mapping_path)
        source = open_source(file, mapping.format, encoding=encoding or mapping.encoding,
                             sheet=mapping.sheet, header_row=mapping.header_row)
    except (MappingError, ReadError) as exc:
        raise click.ClickException(str(exc)) from exc
    if source_name is not None and not (0 < len(source_name) <= 64) or source_name == "demo":
        raise click.ClickException("--source: expected 1–64 characters, not 'demo'")
    engine = open_engine(env)
    importer = CaseImporter(engine, mapping, now=env.now, city_timezone=env.timezone,
                            calendar=env.calendar, batch_size=batch_size, progress=True,
                            source_system=source_name)
    try:
        summary = importer.run(source, dry_run=dry_run)
    except KeyboardInterrupt as exc:
        raise click.ClickException("interrupted: the batch in progress was rolled back; "
                                   "earlier batches are kept, and a re-import continues "
                                   "safely") from exc
    except (ReadError, MappingError) as exc:
        raise click.ClickException(str(exc)) from exc
    except (DBAPIError, OSError) as exc:
        raise click.ClickException(f"the import stopped: {error_reason(exc)}; the batch in "
                                   f"progress was rolled back") from exc
    finally:
        engine.dispose()
    _echo_summary(summary)


def _echo_summary(summary: ImportSummary) -> None:
    for line in summary.lines():
        click.echo(line)
    if summary.encoding:
        click.echo(f"encoding: {summary.encoding}")


@click.command("quality")
@click.option("--stale-hours", type=click.FloatRange(min=0), default=24.0, show_default=True,
              help="a source with no new case for this long is stale")
@click.option("--samples", type=click.IntRange(min=0), default=3, show_default=True,
              help="sample rows shown per reason")
def quality(stale_hours: float, samples: int) -> None:
    """Print the data-quality summary: quarantine, imprecise locations, disagreements, staleness."""
    from queries.engine import make_session_factory
    from queries.quality import quality_report, report_lines
    from queries.scope import Scope

    env = load_env()
    engine = open_engine(env)
    try:
        with make_session_factory(engine)() as session:
            # The command line is the operator's own: the whole city.
            report = quality_report(session, scope=Scope.everything(), now=env.now,
                                    stale_hours=stale_hours, samples=samples)
    except DBAPIError as exc:
        raise click.ClickException(f"cannot read the database: {error_reason(exc)}") from exc
    finally:
        engine.dispose()
    for line in report_lines(report):
        click.echo(line)


@click.command("pull-open311")
@click.option("--endpoint", default=None, help="the GeoReport v2 base URL "
                                               "(GRIDWATCH_OPEN311_ENDPOINT)")
def pull_open311(endpoint: str | None) -> None:
    """Pull new and updated service requests from the Open311 endpoint once."""
    from ingest.open311 import Open311Error, Open311Settings, pull_once

    env = load_env()
    try:
        settings = Open311Settings.from_env(endpoint=endpoint)
        if not settings.endpoint:
            raise click.ClickException("no endpoint: set GRIDWATCH_OPEN311_ENDPOINT or pass "
                                       "--endpoint")
        mapping = load_mapping(settings.mapping_file)
    except (Open311Error, MappingError) as exc:
        raise click.ClickException(str(exc)) from exc
    engine = open_engine(env)
    try:
        result = pull_once(engine, settings, mapping, now=env.now, city_timezone=env.timezone,
                           calendar=env.calendar)
    except Open311Error as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        engine.dispose()
    click.echo(result.line())


COMMANDS = (import_cases, quality, pull_open311)
