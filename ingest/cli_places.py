"""``gridwatch import-places FILE``, ``gridwatch import-volunteers FILE --kind …`` and
``gridwatch import-checkins FILE``: click commands the lead registers on the group::

    from ingest.cli_places import import_places_command, import_volunteers_command
    main.add_command(import_places_command)
    main.add_command(import_volunteers_command)
    main.add_command(import_checkins_command)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import click
from sqlalchemy.orm import Session

from ingest.places_import import ImportSummary, PlacesFileError, import_places
from queries.engine import DatabaseUnavailable, init_db, make_engine, make_session_factory
from settings import Settings, SettingsError


@click.command("import-places")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--source", default=None,
              help="Name of the data source (default: the file's name); re-imports of the "
                   "same source update the same places.")
@click.option("--encoding", default=None, help="Text encoding (default: UTF-8, then GB18030).")
@click.option("--dry-run", is_flag=True, help="Check the file and report; write nothing.")
def import_places_command(file: Path, source: str | None, encoding: str | None,
                          dry_run: bool) -> None:
    """Load toilets, convenience and culture places from a CSV or GeoJSON file (docs/places.md)."""
    _run(file, dry_run, lambda session, now: import_places(
        session, file, source=source, encoding=encoding, now=now))


@click.command("import-volunteers")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--kind", type=click.Choice(["teams", "volunteers", "activities"]), required=True,
              help="What the file holds (docs/volunteers.md); import teams first.")
@click.option("--encoding", default=None, help="Text encoding (default: UTF-8, then GB18030).")
@click.option("--dry-run", is_flag=True, help="Check the file and report; write nothing.")
def import_volunteers_command(file: Path, kind: str, encoding: str | None,
                              dry_run: bool) -> None:
    """Load volunteer teams, volunteers or activities from a CSV file (docs/volunteers.md)."""
    from ingest.volunteers_import import import_volunteers

    _run(file, dry_run, lambda session, now: import_volunteers(
        session, file, kind=kind, encoding=encoding, now=now))


@click.command("import-checkins")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--encoding", default=None, help="Text encoding (default: UTF-8, then GB18030).")
@click.option("--dry-run", is_flag=True, help="Check the file and report; write nothing.")
def import_checkins_command(file: Path, encoding: str | None, dry_run: bool) -> None:
    """Load 路长 check-ins (到岗记录) from a CSV file (docs/sections.md); sections first."""
    from ingest.checkins_import import import_checkins

    _run(file, dry_run, lambda session, now: import_checkins(
        session, file, encoding=encoding, now=now))


def _run(file: Path, dry_run: bool,
         load: Callable[[Session, datetime], ImportSummary]) -> None:
    """Open the database, load one file in one transaction (rolled back on --dry-run), report.

    "Now" is the real clock even under GRIDWATCH_AS_OF: a history view must not turn every
    later row of the file into a future time.
    """
    try:
        settings = Settings.from_env()
        engine = make_engine(settings.write_database_url, **settings.engine_timeouts())
        init_db(engine)  # creates the tables a database from an older version lacks
    except (SettingsError, DatabaseUnavailable) as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        with make_session_factory(engine)() as session:
            summary = load(session, settings.now_live())
            if dry_run:
                session.rollback()
            else:
                session.commit()
    except PlacesFileError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        engine.dispose()
    _report(file, summary, dry_run)


def _report(file: Path, summary: ImportSummary, dry_run: bool) -> None:
    """Print the quarantined rows (the first 20) and the one-line summary."""
    for reason in summary.reasons[:20]:
        click.echo(f"  quarantined {reason}", err=True)
    if len(summary.reasons) > 20:
        click.echo(f"  … and {len(summary.reasons) - 20} more in the quarantined_rows table",
                   err=True)
    verb = "would import" if dry_run else "imported"
    click.echo(f"{file.name}: {verb} {summary.inserted} new, {summary.updated} updated, "
               f"{summary.unchanged} unchanged; {summary.quarantined} rows quarantined"
               + (f" ({summary.already_quarantined} already in quarantine)"
                  if summary.already_quarantined else ""))
