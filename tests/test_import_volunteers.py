"""``gridwatch import-volunteers``: teams, volunteers and activities from CSV, bad rows
quarantined with their reason, a second import a no-op. Areas from tests.handbuilt (城西街道
330199001; grid G1 spans lon 120.100–120.101, lat 30.299–30.300)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ingest.cli_places import import_volunteers_command
from ingest.places_import import PlacesFileError
from ingest.volunteers_import import import_volunteers
from queries.models import QuarantinedRow, Volunteer, VolunteerActivity, VolunteerTeam
from tests.handbuilt import build_city

NOW = datetime(2026, 11, 20, 10, 0)
TEAMS = """name,street,leader,founded_on
西苑红马甲队,330199001,张三,2021-03-05
东苑巾帼队,城东街道,李四,
无街道队,火星街道,王五,2021-01-01
"""
VOLUNTEERS = """team,name,joined_on
西苑红马甲队,赵六,2022-01-01
西苑红马甲队,钱七,
无此队,孙八,2022-01-01
"""
ACTIVITIES = """team,service_type,title,lat,lon,start_at,end_at,participants,service_hours
西苑红马甲队,美化家园,清理小广告,30.2995,120.1005,2026-11-20 08:00,2026-11-20 10:30,4,
东苑巾帼队,交通劝导,路口劝导,30.2995,120.1035,2026-11-19 07:00,2026-11-19 09:00,3,5.5
西苑红马甲队,美化家园,倒着的活动,30.2995,120.1005,2026-11-20 10:00,2026-11-20 09:00,4,
西苑红马甲队,美化家园,太远的活动,31.0,120.1005,2026-11-20 08:00,2026-11-20 09:00,4,
西苑红马甲队,美化家园,半个人,30.2995,120.1005,2026-11-20 08:00,2026-11-20 09:00,2.5,
"""


@pytest.fixture
def city(session: Session) -> None:
    build_city(session)
    session.commit()


def _file(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def test_three_kinds_in_bad_rows_kept_and_a_rerun_a_no_op(session: Session, city: None,
                                                          tmp_path: Path) -> None:
    teams = import_volunteers(session, _file(tmp_path, "teams.csv", TEAMS), kind="teams",
                              now=NOW)
    people = import_volunteers(session, _file(tmp_path, "people.csv", VOLUNTEERS),
                               kind="volunteers", now=NOW)
    acts = import_volunteers(session, _file(tmp_path, "acts.csv", ACTIVITIES),
                             kind="activities", now=NOW)
    session.commit()
    assert (teams.inserted, teams.quarantined) == (2, 1)
    assert (people.inserted, people.quarantined) == (2, 1)
    assert (acts.inserted, acts.quarantined) == (2, 3)
    reasons = session.scalars(select(QuarantinedRow.reason).order_by(QuarantinedRow.id)).all()
    assert "street='火星街道'" in reasons[0] and "no such team" in reasons[1]
    assert "is not after start_at" in reasons[2] and "outside every unit grid" in reasons[3]
    assert "a whole number" in reasons[4]
    first = session.scalars(select(VolunteerActivity).order_by(VolunteerActivity.id)).first()
    assert first is not None and first.service_hours == 10.0  # 4 people × 2.5 h
    given = session.scalars(select(VolunteerActivity.service_hours)
                            .where(VolunteerActivity.title == "路口劝导")).one()
    assert given == 5.5  # a stated figure wins over participants × duration

    for name, kind in (("teams.csv", "teams"), ("people.csv", "volunteers"),
                       ("acts.csv", "activities")):
        again = import_volunteers(session, tmp_path / name, kind=kind, now=NOW)
        assert (again.inserted, again.updated, again.quarantined) == (0, 0, 0), kind
    session.commit()
    counts = [session.scalar(select(func.count()).select_from(m))
              for m in (VolunteerTeam, Volunteer, VolunteerActivity, QuarantinedRow)]
    assert counts == [2, 2, 2, 5]


def test_a_file_without_the_columns_fails_in_one_line(session: Session, city: None,
                                                      tmp_path: Path) -> None:
    with pytest.raises(PlacesFileError, match="needs the columns"):
        import_volunteers(session, _file(tmp_path, "x.csv", "a,b\n1,2\n"), kind="activities",
                          now=NOW)


def test_the_command(engine: Engine, city: None, tmp_path: Path,
                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDWATCH_DATABASE_URL", str(engine.url))
    result = CliRunner().invoke(import_volunteers_command,
                                [str(_file(tmp_path, "teams.csv", TEAMS)), "--kind", "teams"])
    assert result.exit_code == 0, result.output
    assert "imported 2 new, 0 updated, 0 unchanged; 1 rows quarantined" in result.output
