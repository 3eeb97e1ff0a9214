"""Gridwatch pointed at an existing case database through SQL views (docs/import.md).

A foreign schema (wo_region, wo_type, wo_dept, wo_order) gets views named and shaped like
Gridwatch's tables (tests/data/legacy_views.sql); ``init_db`` then creates only the tables
the views do not stand for, and the indicators and case lists read the city's own rows.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import text

from queries.cases import open_cases
from queries.engine import init_db, make_engine, make_session_factory
from queries.indicators import indicators, indicators_by_area
from queries.models import LEVEL_STREET
from queries.periods import custom
from queries.scope import Scope

VIEWS = (Path(__file__).parent / "data" / "legacy_views.sql").read_text(encoding="utf-8")
NOW = datetime(2026, 11, 20, 12, 0)
NOVEMBER = custom(date(2026, 11, 1), date(2026, 11, 20))
BOX = json.dumps({"type": "Polygon", "coordinates": [[[120.1, 30.3], [120.2, 30.3],
                                                      [120.2, 30.2], [120.1, 30.3]]]})
FOREIGN = [
    ("CREATE TABLE wo_region (rid INTEGER PRIMARY KEY, rcode TEXT, rname TEXT, rlevel INTEGER, "
    "parent INTEGER, shape TEXT, cx REAL, cy REAL)"),
    ("CREATE TABLE wo_type (tid INTEGER PRIMARY KEY, tcode TEXT, big TEXT, small TEXT, "
    "kind TEXT, hours REAL)"),
    "CREATE TABLE wo_dept (did INTEGER PRIMARY KEY, dcode TEXT, dname TEXT)",
    ("CREATE TABLE wo_order (oid INTEGER PRIMARY KEY, order_no TEXT, create_time TEXT, "
    "accept_time TEXT, send_time TEXT, finish_time TEXT, close_time TEXT, cancel_time TEXT, "
    "limit_time TEXT, state INTEGER, tid INTEGER, grid INTEGER, comm INTEGER, street INTEGER, "
    "x REAL, y REAL, dept INTEGER, addr TEXT)"),
]
# (order, reported, registered, dispatched, handled, closed, cancelled, deadline, state)
ORDERS = [
    ("O1", "11-02 09:00", "11-02 09:10", "11-02 09:20", "11-02 15:00", "11-02 16:00", None,
     "11-03 09:20", 6),  # closed on time
    ("O2", "11-05 10:00", "11-05 10:05", "11-05 10:10", "11-08 10:00", "11-08 11:00", None,
     "11-06 10:10", 6),  # closed late
    ("O3", "11-10 08:00", "11-10 08:10", "11-10 08:20", None, None, None, "11-11 08:20", 3),
    ("O4", "11-19 09:00", "11-19 09:10", None, None, None, None, "11-21 09:10", 2),
    ("O5", "11-12 09:00", "11-12 09:05", None, None, None, "11-12 10:00", None, 9),
    ("O6", "11-15 09:00", None, None, None, None, None, None, 1),
]


def _t(value: str | None) -> str | None:
    return None if value is None else f"2026-{value}:00"


def test_indicators_read_through_views(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'legacy.sqlite3'}")
    with engine.begin() as conn:
        for statement in FOREIGN:
            conn.exec_driver_sql(statement)
        regions = [(1, "330199", "示范区", 1, None), (2, "330199001", "城西街道", 2, 1),
                   (3, "330199001001", "西苑社区", 3, 2), (4, "33019900100101", "西苑01网格", 4, 3)]
        for rid, code, name, level, parent in regions:
            conn.execute(text("INSERT INTO wo_region VALUES (:r, :c, :n, :l, :p, :s, 120.15, "
                              "30.25)"), {"r": rid, "c": code, "n": name, "l": level,
                                          "p": parent, "s": BOX})
        conn.exec_driver_sql("INSERT INTO wo_type VALUES (1, 'SJ01', '市容环境', '暴露垃圾', "
                             "'事件', 8)")
        conn.exec_driver_sql("INSERT INTO wo_dept VALUES (1, 'BM03', '环卫')")
        for k, (no, rep, reg, dis, han, clo, can, dl, state) in enumerate(ORDERS, start=1):
            conn.execute(text(
                "INSERT INTO wo_order VALUES (:id, :no, :rep, :reg, :dis, :han, :clo, :can, :dl, "
                ":state, 1, 4, 3, 2, 120.15, 30.25, 1, '西苑路')"),
                {"id": k, "no": no, "rep": _t(rep), "reg": _t(reg), "dis": _t(dis),
                 "han": _t(han), "clo": _t(clo), "can": _t(can), "dl": _t(dl), "state": state})
        for statement in VIEWS.split(";"):
            if "CREATE VIEW" in statement:
                conn.exec_driver_sql(statement)
    init_db(engine)  # creates the tables no view stands for; leaves the views alone
    with engine.connect() as conn:
        kinds = dict(conn.exec_driver_sql(
            "SELECT name, type FROM sqlite_master WHERE name IN ('cases', 'areas', "
            "'case_events')").all())
    assert kinds == {"cases": "view", "areas": "view", "case_events": "table"}
    with make_session_factory(engine)() as session:
        figures = indicators(session, NOVEMBER, now=NOW)
        # 6 reported; O1–O5 registered; O5 cancelled; O1, O2 closed; O3 open past 11-11 08:20.
        assert (figures.reported, figures.registered, figures.cancelled, figures.closed,
                figures.open_overdue) == (6, 5, 1, 2, 1)
        assert figures.handled == 2 and figures.dispatched == 3
        street = indicators_by_area(session, NOVEMBER, level=LEVEL_STREET, now=NOW)
        assert street[2].reported == 6
        everything = Scope.everything()
        assert sorted(c.external_id for c in open_cases(session, scope=everything)) == [
            "O3", "O4", "O6"]
    engine.dispose()
