"""Readers: CSV, XLSX (streamed) and Open311 GeoReport v2 JSON, each yielding raw rows.

A raw row is its number (as a spreadsheet shows it: the header is row 1) and a dict from
column name to raw value. A row the reader cannot take apart carries ``problem`` (a reason
and a detail) and goes to quarantine with its raw text.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.importer.reasons import BAD_VALUE, UNDECODABLE, Reason

_CHUNK = 1 << 20
# A file whose best strict decoding fails on at most this share of its lines is taken in that
# encoding; the lines with bad bytes are quarantined as undecodable.
_BAD_LINE_SHARE = 0.001


class ReadError(ValueError):
    """The file as a whole cannot be read (not the format, missing header …): one line."""


@dataclass(frozen=True)
class RawRow:
    """One input row: its number, its values by column, and a problem when unreadable."""

    number: int
    values: dict[str, Any]
    problem: tuple[Reason, str] | None = None


@dataclass(frozen=True)
class Source:
    """A readable input: ``rows()`` can be called more than once (the pipeline reads twice)."""

    name: str
    rows: Callable[[], Iterator[RawRow]]
    encoding: str | None = None


def detect_format(path: Path, declared: str | None) -> str:
    """Return csv, xlsx or open311 from the mapping or the file's extension."""
    if declared:
        return declared
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix == ".json":
        return "open311"
    if suffix in (".csv", ".txt", ".tsv"):
        return "csv"
    raise ReadError(f"{path.name}: cannot tell the format from the extension; set format: "
                    f"csv, xlsx or open311 in the mapping")


def open_source(path: str | Path, fmt: str | None, *, encoding: str | None = None,
                sheet: str | None = None, header_row: int = 1) -> Source:
    """Return the Source for a file in one of the supported formats."""
    path = Path(path)
    if not path.is_file():
        raise ReadError(f"no such file: {path}")
    kind = detect_format(path, fmt)
    if kind == "csv":
        chosen = encoding or detect_encoding(path)
        return Source(path.name, lambda: read_csv(path, chosen, header_row), chosen)
    if kind == "xlsx":
        return Source(path.name, lambda: read_xlsx(path, sheet, header_row))
    payload = load_open311(path)
    return Source(path.name, lambda: open311_rows(payload))


# ---------------------------------------------------------------------------------- CSV


def _count_errors(path: Path, encoding: str) -> tuple[int, int]:
    """Return (lines with undecodable bytes, lines) when ``path`` is decoded strictly."""
    bad_lines, lines = 0, 0
    with path.open("rb") as handle:
        for raw in handle:
            lines += 1
            try:
                raw.decode(encoding)
            except UnicodeDecodeError:
                bad_lines += 1
    return bad_lines, lines


def detect_encoding(path: Path) -> str:
    """Pick the encoding: UTF-8 (BOM or not) first, then GB18030, then detection.

    A two-line GBK sample fools detectors (cp949, utf_16_le), so detection comes last and only
    when neither strict decoding works on (nearly) every line.
    """
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):
        # UTF-8 first even when GB18030 fails no more often: a GBK file breaks strict UTF-8 on
        # nearly every Chinese line, while one bad byte in a UTF-8 file breaks both once.
        bad, lines = _count_errors(path, encoding)
        if bad <= lines * _BAD_LINE_SHARE or (bad == 1 and lines >= 50):
            return encoding
    from charset_normalizer import from_path

    best = from_path(path).best()
    if best is None:
        raise ReadError(f"{path.name}: cannot tell its text encoding; pass --encoding")
    return best.encoding


def read_csv(path: Path, encoding: str, header_row: int = 1) -> Iterator[RawRow]:
    """Yield the rows of a CSV file; bad bytes become quarantined rows, never a crash."""
    with path.open(encoding=encoding, errors="surrogateescape", newline="") as handle:
        sample = handle.read(64 * 1024)
        handle.seek(0)
        try:
            dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
        reader = csv.reader(handle, dialect)
        header: list[str] | None = None
        number = 0
        for record in reader:
            number += 1
            if number < header_row:
                continue
            if header is None:
                header = [_clean_header(h) for h in record]
                if not any(header):
                    raise ReadError(f"{path.name}: row {header_row} (the header) is empty")
                continue
            if not any(cell.strip() for cell in record):
                continue  # a blank line is not a row
            yield _csv_row(number, header, record)
        if header is None:
            raise ReadError(f"{path.name}: the file has no header row")


def _clean_header(name: str) -> str:
    return name.replace("\ufeff", "").strip()


_SURROGATE = re.compile("[\udc80-\udcff]")  # a byte the encoding could not decode


def _csv_row(number: int, header: list[str], record: list[str]) -> RawRow:
    values = dict(zip(header, record, strict=False))
    if _SURROGATE.search("\x00".join(record)):
        shown = {k: v.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
                 for k, v in values.items()}
        bad = [k for k, v in values.items() if _SURROGATE.search(v)]
        return RawRow(number, shown, (UNDECODABLE, f"column(s) {', '.join(bad)}"))
    if len(record) != len(header):
        return RawRow(number, values, (BAD_VALUE, (f"the row has {len(record)} cells, the header "
                                                  f"{len(header)}")))
    return RawRow(number, values)


# --------------------------------------------------------------------------------- XLSX


def read_xlsx(path: Path, sheet: str | None = None, header_row: int = 1) -> Iterator[RawRow]:
    """Yield the rows of a worksheet, streamed (openpyxl read-only: memory stays flat)."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise ReadError(f"{path.name}: not a readable XLSX workbook ({exc})") from exc
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise ReadError(f"{path.name}: no sheet {sheet!r}; sheets: "
                            f"{', '.join(book.sheetnames)}")
        ws = book[sheet] if sheet else book.worksheets[0]
        header: list[str] | None = None
        for number, cells in enumerate(ws.iter_rows(values_only=True), start=1):
            if number < header_row:
                continue
            if header is None:
                header = ["" if c is None else _clean_header(str(c)) for c in cells]
                continue
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            yield RawRow(number, dict(zip(header, cells, strict=False)))
        if header is None:
            raise ReadError(f"{path.name}: the sheet has no header row")
    finally:
        book.close()


# ------------------------------------------------------------------------------ Open311


def load_open311(path: Path) -> list[dict[str, Any]]:
    """Read a GeoReport v2 requests.json payload (a list of service requests)."""
    try:
        data = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReadError(f"{path.name}: not a JSON document ({exc})") from exc
    return open311_list(data, path.name)


def open311_list(data: Any, name: str) -> list[dict[str, Any]]:
    """Return the service requests of a decoded payload, or raise ReadError."""
    if isinstance(data, dict) and isinstance(data.get("service_requests"), list):
        data = data["service_requests"]
    if not isinstance(data, list):
        raise ReadError(f"{name}: expected a list of service requests (GeoReport v2 "
                        f"requests.json)")
    return data


def open311_rows(payload: list[Any]) -> Iterator[RawRow]:
    """Yield one raw row per service request (row numbers count from 1)."""
    for number, item in enumerate(payload, start=1):
        if not isinstance(item, dict):
            yield RawRow(number, {"_raw": item}, (BAD_VALUE, "not a JSON object"))
            continue
        yield RawRow(number, item)
