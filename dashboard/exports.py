"""Workbook export: ag-grid community exports CSV only, so XLSX is built here with openpyxl."""

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
