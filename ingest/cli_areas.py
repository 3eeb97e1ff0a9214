"""Command line for boundaries and rules: ``gridwatch import-areas``, ``gridwatch
import-sections`` (路长 sections) and ``gridwatch rules init``.

The commands are plain click commands; the ``gridwatch`` group registers them
(``register(cli)``). Settings come through ``load_settings`` only, so the entry point can
repoint it. Every failure is one line on stderr and exit status 1.
"""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ingest.areas_import import (
    DEFAULT_DISTRICT_NAME,
    IMPORT_LEVELS,
    PARENT_BY,
    AreaImportError,
    AreaImportOptions,
    import_areas,
)
from ingest.sections_import import SectionsFileError, import_sections
from queries.areas import district
from queries.engine import (
    DatabaseUnavailable,
    error_reason,
    init_db,
    make_engine,
    make_session_factory,
)
from queries.hierarchy import descendants_at_level
from queries.models import LEVEL_STREET
from queries.rules import RulesError, check_streets, parse_rules
from queries.rules_draft import DraftError, draft_rules
from settings import Settings, SettingsError


def load_settings() -> Settings:
    """Return the settings (the one place this module reads them)."""
    return Settings.from_env()


def _session(settings: Settings) -> Session:
    try:
        engine = make_engine(settings.write_database_url, **settings.engine_timeouts())
        init_db(engine)  # adds the tables and columns a newer version needs
    except DatabaseUnavailable as exc:
        raise click.ClickException(str(exc)) from exc
    return make_session_factory(engine)()


def _refused(file: Path, exc: SQLAlchemyError) -> click.ClickException:
    """Return the one-line error for an import the database refused (a constraint, a lock)."""
    reason = error_reason(exc)
    return click.ClickException(f"{file}: the database refused the import: {reason}")


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


@click.command("import-areas")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--level", type=click.Choice(IMPORT_LEVELS), required=True,
              help="the level the file's polygons are (street = 街道/镇 or ward, community = "
                   "社区/村 or precinct, grid = 单元网格)")
@click.option("--crs", default=None, help="the file's coordinate system, e.g. EPSG:2249 "
                                          "(wins over the file's own)")
@click.option("--code-field", default="code", show_default=True, help="column of the area code")
@click.option("--name-field", default=None,
              help="column of the area name (default: name, NAME or Name; else the code)")
@click.option("--parent-field", default=None, help="column of the parent area's code")
@click.option("--parent-by", type=click.Choice(PARENT_BY), default=None,
              help="how to find each area's parent (default: code with --parent-field, else "
                   "containment: the parent it overlaps most)")
@click.option("--encoding", default=None, help="text encoding of the file (default: UTF-8, "
                                               "else GB18030; a shapefile's .cpg)")
@click.option("--district-name", default=DEFAULT_DISTRICT_NAME, show_default=True,
              help="name of the district root made when the database has none")
@click.option("--reassign", is_flag=True,
              help="re-locate the cases already in the database by their points (boundaries "
                   "of a newer vintage); imprecise locations keep their areas")
def import_areas_command(file: Path, level: str, crs: str | None, code_field: str,
                         name_field: str | None, parent_field: str | None, parent_by: str | None,
                         encoding: str | None, district_name: str, reassign: bool) -> None:
    """Import boundaries (GeoJSON, Shapefile, GeoPackage) as streets, communities or grids."""
    settings = _settings()
    options = AreaImportOptions(level=level, crs=crs, code_field=code_field,
                                name_field=name_field, parent_field=parent_field,
                                parent_by=parent_by, encoding=encoding,
                                district_name=district_name)
    with _session(settings) as session:
        try:
            summary = import_areas(session, file, options, now=settings.now(), reassign=reassign)
            session.commit()
        except AreaImportError as exc:
            session.rollback()
            raise click.ClickException(str(exc)) from exc
        except SQLAlchemyError as exc:
            session.rollback()
            raise _refused(file, exc) from exc
    click.echo(summary.line())


@click.command("import-sections")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--crs", default=None, help="the file's coordinate system, e.g. EPSG:4547 "
                                          "(wins over the file's own)")
@click.option("--encoding", default=None, help="text encoding of the file (default: UTF-8, "
                                               "else GB18030)")
@click.option("--dry-run", is_flag=True, help="check the file and report; write nothing")
def import_sections_command(file: Path, crs: str | None, encoding: str | None,
                            dry_run: bool) -> None:
    """Import 路长 road sections (polygons, or road lines buffered in metres; docs/sections.md)."""
    settings = _settings()
    with _session(settings) as session:
        try:
            summary = import_sections(session, file, crs=crs, encoding=encoding,
                                      now=settings.now_live())
            if dry_run:
                session.rollback()
            else:
                session.commit()
        except SectionsFileError as exc:
            session.rollback()
            raise click.ClickException(str(exc)) from exc
        except SQLAlchemyError as exc:
            session.rollback()
            raise _refused(file, exc) from exc
    for reason in summary.reasons[:20]:
        click.echo(f"  quarantined {reason}", err=True)
    if len(summary.reasons) > 20:
        click.echo(f"  … and {len(summary.reasons) - 20} more in the quarantined_rows table",
                   err=True)
    click.echo(("(dry run) " if dry_run else "") + summary.line())


@click.group("rules")
def rules_group() -> None:
    """Assessment rules files (考核细则)."""


@rules_group.command("init")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write the rules here (default: print them)")
@click.option("--force", is_flag=True, help="overwrite an existing --output file")
def rules_init_command(output: Path | None, force: bool) -> None:
    """Write a rules file for the streets in the database, thresholds scaled to their cases."""
    settings = _settings()
    with _session(settings) as session:
        try:
            text = draft_rules(session, now=settings.now())
            rules = parse_rules(text, str(output or "<drafted rules>"))
            root = district(session)
            assert root is not None  # draft_rules checked
            streets = descendants_at_level(session, root.id, LEVEL_STREET)
            check_streets(rules, {s.code: s for s in streets}, root.name)
        except (DraftError, RulesError) as exc:
            raise click.ClickException(str(exc)) from exc
    if output is None:
        click.echo(text, nl=False)
        return
    if output.exists() and not force:
        raise click.ClickException(f"{output} exists: pass --force to overwrite it")
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror}") from exc
    streets = sum(len(g.streets) for g in rules.groups)
    click.echo(f"wrote {output}: {streets} streets in {len(rules.groups)} groups; point "
               f"GRIDWATCH_RULES_FILE at it")


def register(cli: click.Group) -> None:
    """Add this module's commands to the ``gridwatch`` group."""
    cli.add_command(import_areas_command)
    cli.add_command(import_sections_command)
    cli.add_command(rules_group)
