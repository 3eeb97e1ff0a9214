"""The /quality page's builders and its poll, on a hand-built report and database."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from dash import no_update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from callbacks import quality as glue
from dashboard.quality import layout as page
from queries.models import QuarantinedRow
from queries.quality import (
    DayCount,
    LocationCount,
    LocationSample,
    QualityReport,
    QuarantineCount,
    QuarantineSample,
    SourceFreshness,
)
from settings import Settings

AT = datetime(2026, 11, 20, 10, 0)
REPORT = QualityReport(
    quarantine=[QuarantineCount("a", "bad_timestamp", 2), QuarantineCount("a", "duplicate_id", 1)],
    quarantine_days=[DayCount(date(2026, 11, 19), "a", "bad_timestamp", 1),
                     DayCount(date(2026, 11, 20), "a", "bad_timestamp", 1),
                     DayCount(date(2026, 11, 20), "a", "duplicate_id", 1)],
    quarantine_samples=[QuarantineSample("a", "x.csv", 2, "10", "bad_timestamp",
                                         "时间无法解析 / unparseable", {"id": "10"}, AT)],
    imprecise=[LocationCount("a", "default_geocode", 1, 3), LocationCount("b", "coarse", 1, 1)],
    disagreements=[LocationCount("a", "field_point_disagree", 1, 3)],
    location_samples=[LocationSample("a", "2", "default_geocode", 120.1005, 30.2995,
                                     datetime(2026, 11, 19, 9))],
    freshness=[SourceFreshness("a", 3, datetime(2026, 11, 20, 6), 6.0, False),
               SourceFreshness("b", 1, datetime(2026, 11, 17, 12), 72.0, True)],
)


def texts(component: Any) -> list[str]:
    """Return every string inside a component tree, depth first."""
    if isinstance(component, str):
        return [component]
    if isinstance(component, list | tuple):
        return [s for c in component for s in texts(c)]
    children = getattr(component, "children", None)
    return texts(children) if children is not None else []


def rows(table: Any) -> list[list[str]]:
    body = table.children[1]
    return [[" ".join(texts(td)) for td in tr.children] for tr in body.children]


def test_tiles_count_and_share() -> None:
    # 2 + 1 quarantined; 1 + 1 imprecise of 8 cases = 25.00%; 1 disagrees; b is stale.
    tiles = page.create_tiles(REPORT, 8, "zh")
    assert [texts(t) for t in tiles] == [
        ["隔离行", "3", ""], ["位置不精确", "2", "占比 25.00%"],
        ["字段与坐标不一致", "1", ""], ["停更数据源", "1", "b"]]
    assert [t.className for t in tiles] == ["gw-q-tile gw-q-warn"] * 4
    # No cases at all: the share is "—", never 0%.
    assert texts(page.create_tiles(REPORT, 0, "zh")[1])[2] == "占比 —"


def test_tables() -> None:
    assert rows(page.create_quarantine(REPORT, "en"))[0][2] == "2"
    assert rows(page.create_locations(REPORT.imprecise, "zh")) == [
        ["a", "默认坐标", "1", "33.33%"], ["b", "坐标精度不足", "1", "100.00%"]]
    assert rows(page.create_sources(REPORT, "zh")) == [
        ["a", "3", "2026-11-20 06:00", "6.0", "正常"],
        ["b", "1", "2026-11-17 12:00", "72.0", "停更"]]
    samples = rows(page.create_samples(REPORT, "zh"))
    assert samples[0][:3] == ["a", "x.csv:2", "10"]
    assert samples[1] == ["a", "—", "2", "默认坐标", "120.10050, 30.29950 · 2026-11-19 09:00"]
    empty = QualityReport([], [], [], [], [], [], [])
    assert texts(page.create_quarantine(empty, "zh")) == ["无"]


def test_trend_figure() -> None:
    fig = page.trend_figure(REPORT.quarantine_days,
                            [DayCount(date(2026, 11, 19), "a", "default_geocode", 1)], "zh")
    bars = {t.name: (list(t.x), list(t.y)) for t in fig.data if t.type == "bar"}
    assert bars == {"时间无法解析": (["2026-11-19", "2026-11-20"], [1, 1]),
                    "文件内编号重复": (["2026-11-20"], [1])}
    line = [t for t in fig.data if t.type == "scatter"][0]
    assert (list(line.x), list(line.y)) == (["2026-11-19"], [1])
    assert page.trend_figure([], [], "zh").layout.annotations[0].text == "无"


class FakeApp:
    """Catch the one callback ``register`` wires."""

    def callback(self, *_args: Any) -> Any:
        def keep(fn: Any) -> Any:
            self.fn = fn
            return fn
        return keep


def test_an_outage_keeps_the_last_report(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as s:
        s.add(QuarantinedRow(source="a:x.csv", source_system="a", file_name="x.csv",
                             row_number=2, external_id="10", reason_code="bad_timestamp",
                             reason="bad_timestamp / bad", payload=json.dumps({"id": "10"}),
                             at=AT))
        s.commit()
    app, down = FakeApp(), {"now": False}

    def sessions() -> Session:
        if down["now"]:
            raise OperationalError("SELECT 1", {}, Exception("database is locked"))
        return session_factory()

    glue.register(app, sessions, Settings(refresh_seconds=0), clock=lambda: AT)  # type: ignore[arg-type]
    first = app.fn(0, "zh")
    assert first[0] == "统计于 2026-11-20 10:00"
    assert texts(first[1][0]) == ["隔离行", "1", ""]
    down["now"] = True
    second = app.fn(1, "zh")
    assert second[0] == "数据库暂不可达,显示上次结果,正在重试"
    assert texts(second[1][0]) == ["隔离行", "1", ""]  # the last report stays on screen


def test_an_outage_before_any_report_changes_nothing(
        session_factory: sessionmaker[Session]) -> None:
    app = FakeApp()

    def sessions() -> Session:
        raise OperationalError("SELECT 1", {}, Exception("unreachable"))

    glue.register(app, sessions, Settings(refresh_seconds=0), clock=lambda: AT)  # type: ignore[arg-type]
    out = app.fn(0, "en")
    assert out[0] == "Database unreachable: showing the last result, retrying"
    assert list(out[1:]) == [no_update] * 7

