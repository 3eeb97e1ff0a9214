"""Workbook export and the CSV-injection rule every export follows.

ag-grid community exports CSV only, so XLSX is built here with openpyxl. A text that starts
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would run as a formula when the file
is opened in a spreadsheet (OWASP, "CSV Injection"): an area or case text such as
``=HYPERLINK(...)`` is written as text — in XLSX a string cell with Excel's quote prefix, in CSV
with a leading apostrophe (``csv_cell``; the grid page's browser-side CSV export applies the
same rule in ``assets/exports.js``). A plain number such as ``-1.75`` or ``+3%`` is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

HEADER_FILL = PatternFill("solid", fgColor="1F4B7A")
HEADER_FONT = Font(bold=True, color="FFFFFF")
FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# A number as the pages write it (signed, thousands commas, decimals, a percent sign): not a
# formula, so "-1.75" stays "-1.75". assets/exports.js holds the same pattern.
_NUMBER = re.compile(r"[+-]?(?=[\d.])\d[\d,]*(\.\d+)?%?|[+-]?\.\d+%?")


def formula_like(text: str) -> bool:
    """True when a spreadsheet would read ``text`` as a formula (and it is not a plain number)."""
    return text.startswith(FORMULA_TRIGGERS) and not _NUMBER.fullmatch(text)


def csv_cell(value: Any) -> Any:
    """Return a CSV cell's value, a formula-like text prefixed with an apostrophe."""
    return f"'{value}" if isinstance(value, str) and formula_like(value) else value


def csv_params(filename: str) -> dict[str, Any]:
    """Return an AG Grid's ``csvExportParams``: the file name, every cell made safe to open."""
    return {"fileName": filename,
            "processCellCallback": {"function": "gridwatchCsvCell(params)"}}


def xlsx_bytes(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]],
               formats: Sequence[str | None]) -> bytes:
    """Return a one-sheet workbook: a bold header row, frozen, then rows with number formats."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook always has its first sheet
    sheet.title = FORBIDDEN.sub(" ", title)[:31] or "Sheet1"  # Excel's rules for sheet names
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.fill, cell.font = HEADER_FILL, HEADER_FONT
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for line in rows:
        sheet.append(list(line))
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and formula_like(cell.value):
                cell.data_type = "s"  # openpyxl made "=…" a formula on assignment
                cell.quotePrefix = True  # Excel keeps it text even when the cell is edited
    for column, number_format in enumerate(formats, start=1):
        letter = get_column_letter(column)
        sheet.column_dimensions[letter].width = max(10, min(24, 2 * len(headers[column - 1]) + 2))
        if number_format:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
                if isinstance(cell.value, (int, float)):
                    cell.number_format = number_format
    sheet.freeze_panes = "C2"
    out = BytesIO()
    book.save(out)
    return out.getvalue()
