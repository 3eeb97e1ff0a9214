"""The desk's exports: the current view (its filters in the URL) as CSV or XLSX, streamed.

``/desk/export.csv?status=…&major=…&area=…&source=…&from=…&to=…&q=…`` and ``/desk/export.xlsx``
take the desk's own filter parameters (``queries.desk.filters_from_query``) and read with the
caller's scope (``request_scope()``): a URL naming another department's area or case number
exports nothing of it. Both need a logged-in user (the login hook refuses the rest; the route
checks again). CSV streams row by row with a UTF-8 BOM so Excel opens Chinese text; XLSX is
written by openpyxl's write-only mode (constant memory) to a temporary file, then sent in
chunks. Every text cell follows the CSV-injection rule of ``dashboard.exports``.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime
from urllib.parse import quote

from flask import Flask, Response, request, stream_with_context
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from sqlalchemy.orm import Session, sessionmaker

from dashboard.desk.columns import file_values, headers
from dashboard.exports import HEADER_FONT, csv_cell, formula_like
from dashboard.i18n import pick_language
from queries.desk import DeskFilters, filters_from_query, iter_desk_rows
from queries.scope import Scope
from security.identity import current_identity
from security.scoping import request_scope
from settings import Settings

EXPORT_RULE = "/desk/export.<any(csv, xlsx):kind>"
CHUNK_BYTES = 64 * 1024
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def register(server: Flask, sessions: sessionmaker[Session], settings: Settings,
             clock: Callable[[], datetime]) -> None:
    """Add the export route (CSV and XLSX) to the Flask server."""

    def rows(scope: Scope, filters: DeskFilters, lang: str) -> Iterator[list[object]]:
        now = clock()
        with sessions() as session:
            for row in iter_desk_rows(session, scope=scope, filters=filters):
                yield file_values(row, now, lang)

    def csv_body(scope: Scope, filters: DeskFilters, lang: str) -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(headers(lang))
        yield "\ufeff" + out.getvalue()
        for values in rows(scope, filters, lang):
            out.seek(0)
            out.truncate()
            writer.writerow([csv_cell(v) if v is not None else "" for v in values])
            yield out.getvalue()

    def xlsx_body(scope: Scope, filters: DeskFilters, lang: str) -> Iterator[bytes]:
        book = Workbook(write_only=True)
        sheet = book.create_sheet("desk")
        sheet.freeze_panes = "A2"
        head = []
        for text in headers(lang):
            cell = WriteOnlyCell(sheet, value=text)
            cell.font = HEADER_FONT
            head.append(cell)
        sheet.append(head)
        for values in rows(scope, filters, lang):
            line: list[object] = []
            for value in values:
                if isinstance(value, str) and formula_like(value):
                    cell = WriteOnlyCell(sheet, value=value)
                    cell.data_type = "s"  # text, never a formula
                    line.append(cell)
                else:
                    line.append(value)
            sheet.append(line)
        with tempfile.TemporaryFile() as spool:
            book.save(spool)
            spool.seek(0)
            while chunk := spool.read(CHUNK_BYTES):
                yield chunk

    @server.get(EXPORT_RULE)
    def export(kind: str) -> Response:
        if not current_identity().logged_in:
            return Response('{"error": "login required"}', 403, mimetype="application/json")
        query = dict(request.args.items())
        scope, filters = request_scope(), filters_from_query(query)
        lang = pick_language(query.get("lang"), settings.language)
        if kind == "csv":
            resp = Response(stream_with_context(csv_body(scope, filters, lang)),
                            mimetype="text/csv")
        else:
            resp = Response(xlsx_body(scope, filters, lang), mimetype=XLSX_TYPE)
        name = f"desk-{clock():%Y%m%d-%H%M}.{kind}"
        resp.headers["Content-Disposition"] = (
            f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}")
        resp.cache_control.no_store = True
        return resp
