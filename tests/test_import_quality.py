"""Quality queries, imprecise cases out of repeat detection, NULL grids in the queries, CLI."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from ingest.cli import import_cases, quality
from queries.cases import case_detail, open_cases
from queries.indicators import indicators, indicators_by_area
from queries.models import (
    LEVEL_COMMUNITY,
    LEVEL_GRID,
    LEVEL_STREET,
    STATUS_REGISTERED,
    Case,
    QuarantinedRow,
)
from queries.quality import (
    field_point_disagreements,
    imprecise_by_day,
    imprecise_locations,
    quality_report,
    quarantine_by_day,
    quarantine_by_reason,
    quarantine_samples,
    report_lines,
    source_freshness,
)
from queries.repeats import earlier_problem, repeat_inputs
from queries.scope import Scope
from tests.city311 import build_city311
from tests.handbuilt import NOVEMBER, NOW, OCTOBER, build_handbuilt

DATA = Path(__file__).parent / "data"
MAPPINGS = Path(__file__).parent.parent / "ingest" / "mappings"


# ------------------------------------------------------------------ repeat detection


def test_imprecise_cases_take_no_part_in_spatial_repeats(session: Session) -> None:
    hb = build_handbuilt(session)
    ids = {p.case_id for p in repeat_inputs(session, OCTOBER.start, NOVEMBER.end, 30)}
    assert hb.cases[19] in ids
    found = earlier_problem(session, category_id=hb.categories["K3"], lat=30.2995,
                            lon=120.1005, at=datetime(2026, 10, 25, 9), radius_m=50, days=30)
    assert found == hb.cases[19]  # case 19 (10-22, G1) is the latest problem there
    session.execute(update(Case).where(Case.id == hb.cases[19]).values(
        location_precise=False, location_note="default_geocode"))
    ids = {p.case_id for p in repeat_inputs(session, OCTOBER.start, NOVEMBER.end, 30)}
    assert hb.cases[19] not in ids and hb.cases[3] in ids
    found = earlier_problem(session, category_id=hb.categories["K3"], lat=30.2995,
                            lon=120.1005, at=datetime(2026, 10, 25, 9), radius_m=50, days=30)
    assert found == hb.cases[3]  # case 3 (10-02) instead


# --------------------------------------------------------------- NULL grid/community


def test_a_case_known_only_to_its_street_counts_at_street_and_district(
        session: Session) -> None:
    hb = build_handbuilt(session)
    before_d = indicators(session, NOVEMBER, now=NOW)
    before_s = indicators(session, NOVEMBER, area_id=hb.areas["S1"], now=NOW)
    before_g = indicators_by_area(session, NOVEMBER, level=LEVEL_GRID, now=NOW)
    before_c = indicators_by_area(session, NOVEMBER, level=LEVEL_COMMUNITY, now=NOW)
    session.add(Case(source_system="hotline", external_id="H-1", source="12345热线",
                     category_id=hb.categories["K3"], lat=30.2995, lon=120.1015,
                     location_precise=False, location_note="area_centre", grid_id=None,
                     community_id=None, street_id=hb.areas["S1"], status=STATUS_REGISTERED,
                     reported_at=datetime(2026, 11, 18, 9), registered_at=datetime(2026, 11, 18, 9),
                     deadline_at=datetime(2026, 11, 19, 9)))
    session.flush()
    after_d = indicators(session, NOVEMBER, now=NOW)
    after_s = indicators(session, NOVEMBER, area_id=hb.areas["S1"], now=NOW)
    assert (after_d.reported, after_d.registered, after_d.open_overdue) == (
        before_d.reported + 1, before_d.registered + 1, before_d.open_overdue + 1)
    assert (after_s.reported, after_s.open_overdue) == (before_s.reported + 1,
                                                        before_s.open_overdue + 1)
    by_street = indicators_by_area(session, NOVEMBER, level=LEVEL_STREET, now=NOW)
    assert by_street[hb.areas["S1"]].reported == before_s.reported + 1
    # Grids and communities skip it: their figures are as before.
    after_g = indicators_by_area(session, NOVEMBER, level=LEVEL_GRID, now=NOW)
    after_c = indicators_by_area(session, NOVEMBER, level=LEVEL_COMMUNITY, now=NOW)
    assert {k: v.reported for k, v in after_g.items()} == {k: v.reported
                                                           for k, v in before_g.items()}
    assert {k: v.reported for k, v in after_c.items()} == {k: v.reported
                                                           for k, v in before_c.items()}
    case_id = session.scalar(select(Case.id).where(Case.external_id == "H-1"))
    assert any(c.id == case_id and c.grid_id is None
               for c in open_cases(session, scope=Scope.everything()))
    detail = case_detail(session, case_id, scope=Scope.everything())
    assert detail is not None and detail.grid is None and detail.street == "城西街道"


# ------------------------------------------------------------------ quality queries


def _quality_city(session: Session) -> None:
    """Two sources by hand: 'a' with 3 cases (one imprecise, one disagreeing), 'b' with 1."""
    hb = build_handbuilt(session)  # 33 demo cases, all precise
    common = {"category_id": hb.categories["K1"], "street_id": hb.areas["S1"],
              "community_id": hb.areas["C1"], "grid_id": hb.areas["G1"],
              "status": STATUS_REGISTERED, "source": "12345热线", "lat": 30.2995,
              "lon": 120.1005}
    session.add_all([
        Case(source_system="a", external_id="1", reported_at=datetime(2026, 11, 19, 8),
             **common),
        Case(source_system="a", external_id="2", reported_at=datetime(2026, 11, 19, 9),
             location_precise=False, location_note="default_geocode", **common),
        Case(source_system="a", external_id="3", reported_at=datetime(2026, 11, 20, 6),
             location_note="field_point_disagree", **common),
        Case(source_system="b", external_id="1", reported_at=datetime(2026, 11, 17, 12),
             location_precise=False, location_note="coarse", **common),
    ])
    for k, (code, at) in enumerate([("bad_timestamp", datetime(2026, 11, 19, 10)),
                                    ("bad_timestamp", datetime(2026, 11, 20, 10)),
                                    ("duplicate_id", datetime(2026, 11, 20, 10))]):
        session.add(QuarantinedRow(source="a:x.csv", source_system="a", file_name="x.csv",
                                   row_number=k + 2, external_id=str(10 + k), reason_code=code,
                                   reason=f"{code} / {code}: row {k + 2}",
                                   payload=json.dumps({"id": str(10 + k)}), at=at))
    session.flush()


def test_quality_queries_on_a_hand_built_database(session: Session) -> None:
    _quality_city(session)
    assert [(q.source_system, q.reason_code, q.rows) for q in quarantine_by_reason(session)] == [
        ("a", "bad_timestamp", 2), ("a", "duplicate_id", 1)]
    assert [(d.day, d.code, d.rows) for d in quarantine_by_day(session)] == [
        (date(2026, 11, 19), "bad_timestamp", 1), (date(2026, 11, 20), "bad_timestamp", 1),
        (date(2026, 11, 20), "duplicate_id", 1)]
    samples = quarantine_samples(session, scope=Scope.everything(), reason_code="bad_timestamp")
    assert [(s.row_number, s.payload) for s in samples] == [(2, {"id": "10"}), (3, {"id": "11"})]
    imprecise = imprecise_locations(session)
    assert [(c.source_system, c.note, c.cases, c.source_cases) for c in imprecise] == [
        ("a", "default_geocode", 1, 3), ("b", "coarse", 1, 1)]
    assert imprecise[0].share == pytest.approx(1 / 3)
    assert [(d.day, d.source_system, d.code) for d in imprecise_by_day(session)] == [
        (date(2026, 11, 17), "b", "coarse"), (date(2026, 11, 19), "a", "default_geocode")]
    assert [(c.source_system, c.note, c.cases) for c in field_point_disagreements(session)] == [
        ("a", "field_point_disagree", 1)]
    fresh = {f.source_system: f for f in source_freshness(session, now=NOW, stale_hours=24)}
    assert (fresh["a"].cases, fresh["a"].hours_since, fresh["a"].stale) == (3, 6.0, False)
    assert (fresh["b"].hours_since, fresh["b"].stale) == (72.0, True)
    assert fresh["demo"].cases == 33  # the hand-built cases are the "demo" source
    lines = report_lines(quality_report(session, scope=Scope.everything(), now=NOW,
                                        stale_hours=24))
    assert "  a · bad_timestamp · 2" in lines and "  a · default_geocode · 1 · 33.33%" in lines
    assert any(line.startswith("  b · 1 · 2026-11-17 12:00 · 72.0 h · 停更 STALE")
               for line in lines)


def test_quality_on_an_empty_database_says_dash(session: Session) -> None:
    lines = report_lines(quality_report(session, scope=Scope.everything(), now=NOW))
    assert lines.count("  —") == 4


# ------------------------------------------------------------------------------ CLI


@pytest.fixture
def cli_env(engine: Engine, session_factory: sessionmaker[Session],
            tmp_path: Path) -> dict[str, str]:
    with session_factory() as s:
        build_city311(s)
        s.commit()
    return {"GRIDWATCH_DATABASE_URL": str(engine.url), "GRIDWATCH_TIMEZONE": "America/New_York",
            "GRIDWATCH_DATA_DIR": str(tmp_path)}


def test_cli_imports_and_summarises(cli_env: dict[str, str], session: Session) -> None:
    runner = CliRunner()
    args = [str(DATA / "cases_311.csv"), "--mapping", str(MAPPINGS / "cases_311.yaml")]
    dry = runner.invoke(import_cases, [*args, "--dry-run"], env=cli_env)
    assert dry.exit_code == 0, dry.output
    assert "dry run: nothing written" in dry.output
    assert session.scalar(select(Case.id).limit(1)) is None
    result = runner.invoke(import_cases, args, env=cli_env)
    assert result.exit_code == 0, result.output
    assert "read 290 = imported 268 + quarantined 22" in result.output
    assert "encoding: utf-8" in result.output
    assert "quarantined undecodable: 1" in result.output
    again = runner.invoke(import_cases, args, env=cli_env)
    assert "inserted 0 · updated 0 · unchanged 268" in again.output
    report = runner.invoke(quality, [], env=cli_env)
    assert report.exit_code == 0 and "city-311 · default_geocode · 37" in report.output


def test_cli_errors_are_one_line(cli_env: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nfields:\n  external_id: id\n", encoding="utf-8")
    cases = [
        ([str(DATA / "cases_311.csv"), "--mapping", str(bad)], "fields.reported_at: required"),
        ([str(tmp_path / "missing.csv"), "--mapping", str(MAPPINGS / "cases_311.yaml")],
         "no such file"),
        ([str(DATA / "cases_311.csv"), "--mapping", str(tmp_path / "none.yaml")],
         "cannot read the mapping"),
        ([str(DATA / "cases_311.csv"), "--mapping", str(MAPPINGS / "cases_311.yaml"),
          "--source", "demo"], "--source"),
    ]
    for args, message in cases:
        result = runner.invoke(import_cases, args, env=cli_env)
        assert result.exit_code == 1, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0]
    result = runner.invoke(import_cases, [str(DATA / "cases_311.csv"), "--mapping",
                                          str(MAPPINGS / "cases_311.yaml")],
                           env={**cli_env, "GRIDWATCH_DATABASE_URL": "nonsense://"})
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1


def test_the_demo_city_and_simulator_write_source_system_demo(
        engine: Engine, session_factory: sessionmaker[Session], session: Session) -> None:
    from sqlalchemy import func

    from ingest.democity import generate
    from ingest.simulator import Simulator

    now = datetime(2026, 11, 20, 12)
    generate(engine, cases=300, seed=1, now=now)
    # A fixed, busy rate: an hour at noon brings new cases whatever the small city measures.
    simulator = Simulator(session_factory, seed=3, clock=lambda: now, daily_cases=5000)
    for minute in range(1, 60):
        simulator.tick(now.replace(minute=minute))
    rows = session.execute(select(Case.source_system, Case.location_precise, func.count())
                           .group_by(Case.source_system, Case.location_precise)).all()
    assert len(rows) == 1 and rows[0][:2] == ("demo", True) and rows[0][2] > 300


def test_init_db_brings_an_older_database_up_to_date(engine: Engine) -> None:
    from sqlalchemy import inspect

    from queries.engine import init_db

    with engine.begin() as conn:  # a database from before migrations: no alembic_version
        conn.exec_driver_sql("DROP TABLE alembic_version")
        conn.exec_driver_sql("DROP INDEX ix_quarantined_rows_reason_code")
        for table, column in (("cases", "source_raw"), ("cases", "status_raw"),
                              ("cases", "location_note"), ("quarantined_rows", "file_name"),
                              ("quarantined_rows", "reason_code")):
            conn.exec_driver_sql(f"ALTER TABLE {table} DROP COLUMN {column}")
    init_db(engine)
    columns = {c["name"] for c in inspect(engine).get_columns("cases")}
    assert {"source_raw", "status_raw", "location_note", "source_system"} <= columns
    assert {"file_name", "reason_code"} <= {
        c["name"] for c in inspect(engine).get_columns("quarantined_rows")}
    init_db(engine)  # a second run changes nothing and does not fail
