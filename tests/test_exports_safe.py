"""Exports are safe to open: a formula-like area or case text is written as text.

OWASP's CSV-injection rule: a cell starting with =, +, -, @, a tab or a carriage return runs as
a formula in a spreadsheet. XLSX cells with such text are string cells with Excel's quote
prefix; CSV cells get a leading apostrophe — in Python (``csv_cell``) and in the browser's
ag-grid export (``assets/exports.js``, run here under node, no browser).
"""

from __future__ import annotations

import json
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.cell.cell import Cell
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from dashboard.exports import csv_cell, csv_params, formula_like, xlsx_bytes
from dashboard.grids.view import export_table
from dashboard.rankings.view import ranking_xlsx
from queries.assessment import load_month
from queries.grid_view import grid_view
from queries.models import Area
from queries.rules import parse_rules
from queries.scope import Scope
from tests.assessment_city import NOW as FEBRUARY_NOW
from tests.assessment_city import RULES_YAML, build_city
from tests.handbuilt import NOVEMBER, NOW, build_handbuilt
from tests.tools import require_program

ASSET = Path(__file__).resolve().parents[1] / "assets" / "exports.js"
# (text, formula-like?): the triggers, each alone and in a payload, and numbers left alone.
CASES = [
    ("=HYPERLINK(\"http://x\",\"点我\")", True), ("=1+2", True), ("+1+cmd|' /C calc'!A0", True),
    ("-2+3", True), ("@SUM(A1:A9)", True), ("\t=1", True), ("\r=1", True), ("-", True),
    ("+", True), ("=", True), ("--5", True), ("-1.75", False), ("+3%", False), ("-.5", False),
    ("-1,234.50%", False), ("1,234", False), ("北关街道", False), ("a=b", False), ("", False),
    ("—", False),  # the em dash of "no value" is not a minus sign
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_the_rule(text: str, expected: bool) -> None:
    assert formula_like(text) is expected
    assert csv_cell(text) == (f"'{text}" if expected else text)


def test_numbers_pass_through_csv_cell() -> None:
    assert csv_cell(-5) == -5 and csv_cell(None) is None and csv_cell(1.5) == 1.5


def cells(data: bytes) -> dict[str, Cell]:
    sheet = load_workbook(BytesIO(data)).active
    assert sheet is not None
    return {str(c.value): c for row in sheet.iter_rows(min_row=2) for c in row
            if c.value is not None}


def test_xlsx_writes_formula_like_text_as_text() -> None:
    data = xlsx_bytes("t", ["名称", "值"], [["=1+2", -2.5], ["@x", "-1.75"], ["北关", 3]],
                      [None, "0.00"])
    found = cells(data)
    for text in ("=1+2", "@x"):
        assert found[text].data_type == "s" and found[text].quotePrefix
    assert found["-1.75"].data_type == "s" and not found["-1.75"].quotePrefix  # a number's text
    assert found["北关"].data_type == "s" and not found["北关"].quotePrefix
    numbers = [c for c in found.values() if c.data_type == "n"]
    assert sorted(c.value for c in numbers) == [-2.5, 3]


def test_the_grid_page_xlsx_keeps_an_area_named_like_a_formula_as_text(
        session: Session) -> None:
    city = build_handbuilt(session)
    session.execute(update(Area).where(Area.id == city.areas["S1"]).values(name="=1+2"))
    session.commit()
    view = grid_view(session, "", NOVEMBER, NOW, scope=Scope.everything())
    assert view is not None
    headers, rows, formats = export_table(view, "zh")
    assert ["=1+2"] == [r[0] for r in rows if r[0] == "=1+2"]
    cell = cells(xlsx_bytes("示范区", headers, rows, formats))["=1+2"]
    assert cell.data_type == "s" and cell.quotePrefix


def test_the_ranking_xlsx_keeps_a_street_named_like_a_formula_as_text(
        session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        build_city(session)
        street = session.query(Area).filter(Area.name == "甲街道").one()
        street.name = "@SUM(1+1)*cmd"
        session.commit()
        february = load_month(session, "2026-02", parse_rules(RULES_YAML), now=FEBRUARY_NOW)
    cell = cells(ranking_xlsx(february))["@SUM(1+1)*cmd"]
    assert cell.data_type == "s" and cell.quotePrefix


def test_the_grid_csv_export_calls_the_safe_cell_function() -> None:
    params = csv_params("北关街道_2026-11.csv")
    assert params == {"fileName": "北关街道_2026-11.csv",
                      "processCellCallback": {"function": "gridwatchCsvCell(params)"}}
    assert "ns.gridwatchCsvCell = function (params)" in ASSET.read_text(encoding="utf-8")


def test_the_browsers_csv_function_follows_the_same_rule() -> None:
    node = require_program("node", install="nodejs")  # runs the browser's CSV function
    script = f"""
        global.window = {{}};
        require({json.dumps(str(ASSET))});
        const ns = window.dashAgGridFunctions;
        const texts = JSON.parse(process.argv[1]);
        const safe = texts.map((t) => ns.gridwatchCsvSafe(t));
        // processCellCallback receives the raw value and formats it as the grid shows it
        const cell = ns.gridwatchCsvCell({{value: 7, formatValue: () => "=7"}});
        const empty = ns.gridwatchCsvCell({{value: null, formatValue: (v) => v}});
        console.log(JSON.stringify({{safe, cell, empty, number: ns.gridwatchCsvSafe(-5)}}));
    """
    texts = [text for text, _ in CASES]
    out = subprocess.run([node, "-e", script, json.dumps(texts)], capture_output=True,
                         text=True, check=True, timeout=30)
    result = json.loads(out.stdout)
    assert result["safe"] == [csv_cell(text) for text in texts]
    assert result["cell"] == "'=7" and result["empty"] == "" and result["number"] == -5
