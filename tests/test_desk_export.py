"""The desk through the real app and a real login: CSV and XLSX exports whose every row is the
caller's, filters in the URL, no file without a login, and 督办 from the wall's card and the
case page pinning the case on the department's desk."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from dash import Dash
from flask.testing import FlaskClient
from openpyxl import load_workbook
from plotly.utils import PlotlyJSONEncoder
from sqlalchemy import select

from app import create_app
from dashboard.desk.layout import create_tiles
from dashboard.tiles import tile_payload
from queries.engine import init_db, make_engine, make_session_factory
from queries.models import AuditEntry, Case
from queries.scope import Scope
from security.identity import ROLE_AREA, ROLE_DEPARTMENT, Identity
from settings import Settings
from tests.desk_city import NOW, DeskCity, build_desk_city
from tests.identities import LEADER, logged_in_client
from tests.test_scope_enumeration import Fire, callback_name, dash_request, readable


@pytest.fixture
def city(database_url: str) -> tuple[str, DeskCity]:
    url = database_url
    engine = make_engine(url)
    init_db(engine)
    with make_session_factory(engine)() as session:
        built = build_desk_city(session)
        session.commit()
    engine.dispose()
    return url, built


@pytest.fixture
def app(tmp_path: Path, city: tuple[str, DeskCity]) -> Dash:
    return create_app(Settings(data_dir=tmp_path, database_url=city[0], as_of=NOW))


def head_of(city: DeskCity, department: str = "D1") -> Identity:
    return Identity(f"head-{department}", ROLE_DEPARTMENT,
                    Scope.department(city.departments[department]), "部门负责人")


def csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith("\ufeff".encode())  # Excel reads the BOM as UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_a_department_heads_csv_holds_only_their_cases_in_desk_order(
        app: Dash, city: tuple[str, DeskCity]) -> None:
    client = logged_in_client(app, head_of(city[1]))
    resp = client.get("/desk/export.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    header, *rows = csv_rows(resp.data)
    assert header[:4] == ["案件编号", "督办", "状态", "剩余时间"]
    assert [r[0] for r in rows] == ["DESK-X7", "DESK-X1", "DESK-X2", "DESK-X3", "DESK-X4",
                                    "DESK-X5"]
    # X7 is flagged; X1's deadline 11-19 12:00 is 24 h before NOW; X5 has none.
    assert rows[0][1] == "督办" and rows[1][3] == "-24.0" and rows[5][3] == ""
    # Another department's area or case number in the URL exports nothing of it.
    for query in ("?q=DESK-Y1", "?q=人民路91", "?status=派遣,结案&source=巡查上报"):
        shown = [r[0] for r in csv_rows(client.get("/desk/export.csv" + query).data)[1:]]
        assert not [s for s in shown if s.startswith("DESK-Y")], query
    s2 = [r[0] for r in csv_rows(client.get("/desk/export.csv?area=330199002").data)[1:]]
    assert s2 == ["DESK-X7", "DESK-X2", "DESK-X5"]


def test_the_xlsx_export_holds_the_same_rows(app: Dash, city: tuple[str, DeskCity]) -> None:
    client = logged_in_client(app, head_of(city[1], "D2"))
    resp = client.get("/desk/export.xlsx?lang=en")
    assert resp.status_code == 200
    sheet = load_workbook(io.BytesIO(resp.data), read_only=True).worksheets[0]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0][:3] == ["Case", "Supervised", "Status"]
    assert [r[0] for r in values[1:]] == ["DESK-Y1", "DESK-Y2"]
    assert values[1][3] == -51.0  # Y1 fell due 11-18 09:00, 51 h before NOW


def test_a_street_manager_and_a_leader_export_their_scopes(
        app: Dash, city: tuple[str, DeskCity]) -> None:
    manager = Identity("street-s2", ROLE_AREA, Scope.area(city[1].areas["S2"]), "街道")
    rows = csv_rows(logged_in_client(app, manager).get("/desk/export.csv").data)[1:]
    assert [r[0] for r in rows] == ["DESK-X7", "DESK-X2", "DESK-Y2", "DESK-X5"]
    rows = csv_rows(logged_in_client(app, LEADER).get("/desk/export.csv").data)[1:]
    assert len(rows) == 8


def test_no_file_without_a_login(app: Dash) -> None:
    client = app.server.test_client()
    resp = client.get("/desk/export.csv")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")
    assert client.get("/desk/export.xlsx").status_code == 302


def test_a_formula_in_an_address_stays_text(app: Dash, city: tuple[str, DeskCity]) -> None:
    engine = make_engine(str(app.server.config["GRIDWATCH"].settings.database_url))
    with make_session_factory(engine)() as session:
        case = session.get(Case, city[1].cases["X3"])
        assert case is not None
        case.address = "=HYPERLINK(\"http://x\")"
        session.commit()
    engine.dispose()
    client = logged_in_client(app, head_of(city[1]))
    rows = csv_rows(client.get("/desk/export.csv?q=DESK-X3").data)
    assert rows[1][7] == "'=HYPERLINK(\"http://x\")"
    sheet = load_workbook(io.BytesIO(client.get("/desk/export.xlsx?q=DESK-X3").data)).worksheets[0]
    assert sheet.cell(row=2, column=8).data_type == "s"


def fire(client: FlaskClient, app: Dash, name: str, values: dict[str, Any]) -> str:
    """Fire one callback (by its first output) through Dash's endpoint; return the answer."""
    key = {callback_name(k, v): k for k, v in app.callback_map.items()}[name]
    resp = client.post("/_dash-update-component",
                       json=dash_request(key, app.callback_map[key], Fire(values)))
    assert resp.status_code == 200, resp.data
    return readable(resp.data)


def test_a_leader_flags_from_the_wall_card_and_the_department_sees_it_pinned(
        app: Dash, city: tuple[str, DeskCity]) -> None:
    leader, head = logged_in_client(app, LEADER), logged_in_client(app, head_of(city[1]))
    wall = {"area": "", "lang": "zh", "theme": "dark"}
    x4 = city[1].cases["X4"]
    click = {"map-cases.clickData": {"properties": {"id": x4}}, "map-card-close.n_clicks": None,
             "screen-wall.data": wall}
    assert "card-flag-button" in fire(leader, app, "map-card.children", click)
    assert "card-flag-button" not in fire(head, app, "map-card.children", click)
    flagged = {"card-flag-button.n_clicks": 1, "card-flag-note.value": "今天办结",
               "card-flag-case.data": x4, "screen-wall.data": wall}
    assert "只有领导可以督办" in fire(head, app, "card-flag-message.children", flagged)
    assert "已督办" in fire(leader, app, "card-flag-message.children", flagged)
    rows = csv_rows(head.get("/desk/export.csv").data)[1:]
    # X4 and X7 are both flagged now: pinned first, by deadline (X4 11-22, X7 11-25).
    assert [(r[0], r[1]) for r in rows[:3]] == [("DESK-X4", "督办"), ("DESK-X7", "督办"),
                                                ("DESK-X1", "")]
    page = fire(head, app, "case-body.children", {"case-id.data": {"id": x4, "lang": "zh"}})
    assert "今天办结" in page and "领导 于 2026-11-20 12:00 督办" in page
    with make_session_factory(make_engine(city[0]))() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "supervise")).one()
        assert (entry.actor, entry.target, entry.detail) == ("leader", "DESK-X4", "今天办结")


def test_a_leader_flags_from_the_case_page_and_a_head_cannot(
        app: Dash, city: tuple[str, DeskCity]) -> None:
    leader, head = logged_in_client(app, LEADER), logged_in_client(app, head_of(city[1]))
    x2 = city[1].cases["X2"]
    values = {"case-flag-button.n_clicks": 1, "case-flag-note.value": "请核实",
              "case-id.data": {"id": x2, "lang": "zh"}}
    assert "case-flag-button" in fire(leader, app, "case-body.children",
                                      {"case-id.data": {"id": x2, "lang": "zh"}})
    assert "case-flag-button" not in fire(head, app, "case-body.children",
                                          {"case-id.data": {"id": x2, "lang": "zh"}})
    assert "只有领导可以督办" in fire(head, app, "case-flags.children", values)
    photos = fire(head, app, "case-body.children", {"case-id.data": {"id": x2, "lang": "zh"}})
    assert "https://photos.example/x2.jpg" in photos and "javascript:" not in photos
    answer = fire(leader, app, "case-flags.children", values)
    assert "请核实" in answer and "尽快处置" not in answer  # X2's own history only
    grid = fire(head, app, "desk-grid.getRowsResponse",
                {"desk-grid.getRowsRequest": {"startRow": 0, "endRow": 2},
                 "desk-filters.data": {}, "desk-lang.data": "zh"})
    assert '"rowCount": 6' in grid
    assert grid.index("DESK-X2") < grid.index("DESK-X7")  # X2 (11-20 10:00) before X7 (11-25)


def test_a_database_outage_says_so_instead_of_no_cases(app: Dash,
                                                       city: tuple[str, DeskCity]) -> None:
    """No rows read is not "0 cases": the grid's count and the case page name the outage."""
    client = logged_in_client(app, head_of(city[1]))
    engine = make_engine(city[0])
    with engine.begin() as conn:  # the case table is gone: every read of it fails
        conn.exec_driver_sql("ALTER TABLE cases RENAME TO cases_away")
    engine.dispose()
    answer = fire(client, app, "desk-grid.getRowsResponse",
                  {"desk-grid.getRowsRequest": {"startRow": 0, "endRow": 100},
                   "desk-filters.data": {}, "desk-lang.data": "zh"})
    assert "数据暂不可用" in answer and "rowCount" not in answer
    page = fire(client, app, "case-body.children", {"case-id.data": {"id": "1", "lang": "zh"}})
    assert "数据暂不可用" in page


def test_the_mean_handling_tile_names_its_unit_and_none_stays_a_dash() -> None:
    shown = [readable(json.dumps(create_tiles([tile_payload("avg_handling_hours", v, [], {})],
                                              "zh"), cls=PlotlyJSONEncoder).encode())
             for v in (0.64, None)]
    assert "0.6 小时" in shown[0]
    assert "—" in shown[1] and "小时" not in shown[1].split("平均处置时长")[1]
