"""``gridwatch import-checkins``: 路长 check-ins from a GBK CSV with Chinese headers, bad rows
quarantined with their reason, a second import a no-op, a corrected file an update; the
section's 到岗天数 follow. Sections and their check-ins from tests/handbuilt_sections.py
(LZ-A: 11-01, 11-03 and 11-20 count in November; 11-02 has 59 minutes, short of 60)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ingest.checkins_import import import_checkins
from ingest.cli_places import import_checkins_command
from ingest.places_import import PlacesFileError
from queries.models import QuarantinedRow, SectionCheckin
from queries.rules import SectionRules
from queries.scope import Scope
from queries.sections import section_board
from tests.handbuilt import NOVEMBER, NOW, build_handbuilt
from tests.handbuilt_sections import build_sections

# NOW is 2026-11-20 12:00. Row numbers count the header as line 1.
CHECKINS = """路段编号,路长,日期,到岗分钟,签到时间,签退时间
LZ-B,乙路长,2026-11-06,,08:00,09:15
LZ-C,丙路长,2026/11/07,60,,
LZ-A,甲路长,2026-11-02,59,,
LZ-Z,无名,2026-11-06,60,,
LZ-B,乙路长,2026-11-21,60,,
LZ-B,乙路长,2026-11-08,0,,
LZ-B,乙路长,2026-11-09,1500,,
LZ-B,乙路长,2026-11-10,,10:00,09:00
LZ-B,,2026-11-11,60,,
LZ-B,乙路长,11月12日,60,,
"""
REASONS = [
    "row 5: section='LZ-Z': no road section has this code",
    "row 6: day 2026-11-21 is after today (2026-11-20): a check-in cannot be in the future",
    "row 7: 0 minutes: a day's check-in is 1 to 1440 minutes",
    "row 8: 1500 minutes: a day's check-in is 1 to 1440 minutes",
    "row 9: end_at 09:00 is not after start_at 10:00",
    "row 10: missing person",
    "row 11: day='11月12日': expected a date YYYY-MM-DD",
]


@pytest.fixture
def city(session: Session) -> None:
    build_handbuilt(session)
    build_sections(session)
    session.commit()


def _file(tmp_path: Path, body: str, name: str = "checkins.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(body.encode("gbk"))  # a sign-in sheet saved by a Chinese spreadsheet
    return path


def _days(session: Session) -> dict[str, int]:
    board = section_board(session, NOVEMBER, NOW, SectionRules(), scope=Scope.everything())
    return {f.section.code: f.checkin_days for f in board.rows}


def test_good_rows_in_bad_rows_kept_a_rerun_a_no_op(session: Session, city: None,
                                                    tmp_path: Path) -> None:
    assert _days(session) == {"LZ-A": 3, "LZ-B": 1, "LZ-C": 0, "LZ-D": 0}
    path = _file(tmp_path, CHECKINS)
    first = import_checkins(session, path, now=NOW)
    session.commit()
    # LZ-B 11-06: 08:00 → 09:15 = 75 minutes; LZ-C 11-07: 60; LZ-A 11-02 59 is already stored.
    assert (first.inserted, first.updated, first.unchanged, first.quarantined) == (2, 0, 1, 7)
    assert first.reasons == REASONS
    minutes = {day: m for day, m in session.execute(select(
        SectionCheckin.day, SectionCheckin.minutes).where(
        SectionCheckin.day.in_([date(2026, 11, 6), date(2026, 11, 7)])))}
    assert minutes == {date(2026, 11, 6): 75, date(2026, 11, 7): 60}
    # LZ-B: 11-05 (61) and 11-06 (75) → 2; LZ-C: 11-07 (60, inclusive) → 1.
    assert _days(session) == {"LZ-A": 3, "LZ-B": 2, "LZ-C": 1, "LZ-D": 0}
    kept = session.scalars(select(QuarantinedRow.reason).where(
        QuarantinedRow.source == "import-checkins:checkins.csv")).all()
    assert sorted(kept) == sorted(r.split(": ", 1)[1] for r in REASONS)

    again = import_checkins(session, path, now=NOW)
    session.commit()
    assert (again.inserted, again.updated, again.unchanged, again.quarantined,
            again.already_quarantined) == (0, 0, 3, 0, 7)
    assert session.scalar(select(func.count()).select_from(QuarantinedRow)) == 7


def test_a_corrected_file_updates_the_minutes(session: Session, city: None,
                                              tmp_path: Path) -> None:
    fixed = import_checkins(session, _file(tmp_path, "section,person,day,minutes\n"
                                                     "LZ-A,甲路长,2026-11-02,61\n"), now=NOW)
    session.commit()
    assert (fixed.inserted, fixed.updated) == (0, 1)
    # 11-02 now has 61 minutes: LZ-A counts 11-01, 11-02, 11-03, 11-20 → 4.
    assert _days(session)["LZ-A"] == 4


def test_a_file_without_the_columns_fails_in_one_line(session: Session, city: None,
                                                      tmp_path: Path) -> None:
    with pytest.raises(PlacesFileError, match=r"needs the columns .* \(missing minutes \(or "
                                              r"start_at and end_at\)"):
        import_checkins(session, _file(tmp_path, "section,person,day\nLZ-A,甲,2026-11-01\n"),
                        now=NOW)


def test_no_sections_yet_says_which_command_comes_first(session: Session,
                                                        tmp_path: Path) -> None:
    build_handbuilt(session)
    session.commit()
    with pytest.raises(PlacesFileError, match="run `gridwatch import-sections` first"):
        import_checkins(session, _file(tmp_path, CHECKINS), now=NOW)


def test_the_command(engine: Engine, city: None, tmp_path: Path,
                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDWATCH_DATABASE_URL", str(engine.url))
    path = _file(tmp_path, CHECKINS)
    dry = CliRunner().invoke(import_checkins_command, [str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would import" in dry.output
    result = CliRunner().invoke(import_checkins_command, [str(path)])
    assert result.exit_code == 0, result.output
    assert "quarantined row 5: section='LZ-Z'" in result.output
