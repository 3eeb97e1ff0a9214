"""Slide primitives for the review-meeting deck: boxes, fitted text, tables, pictures.

Every primitive sizes its text with ``dashboard.deck.text`` before writing it, so nothing
overflows whatever program opens the file: text shrinks to fit its box, and what still does not
fit at the smallest size is cut with "…" rather than spilling out. Geometry is in inches on a
16:9 slide (13.333 × 7.5 in).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO

from lxml import etree
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE, PP_ALIGN
from pptx.oxml.ns import qn
from pptx.oxml.table import CT_TableCell
from pptx.presentation import Presentation as PresentationType
from pptx.shapes.autoshape import Shape
from pptx.shapes.graphfrm import GraphicFrame
from pptx.slide import Slide
from pptx.table import _Cell
from pptx.text.text import TextFrame, _Run
from pptx.util import Emu, Inches, Pt

from dashboard.deck.text import LINE_SPACING, fit_size, truncate, wrap

SLIDE_W_IN, SLIDE_H_IN = 13.333, 7.5
MARGIN_IN = 0.5
# Latin text in Noto Sans CJK SC (the stack's font), CJK text in Microsoft YaHei (the face of
# Chinese office PCs); where YaHei is missing the zh-CN language tag picks a Simplified face.
LATIN_FONT = "Noto Sans CJK SC"
CJK_FONT = "Microsoft YaHei"
LANGUAGE = "zh-CN"
INSET_X_IN, INSET_Y_IN = 0.08, 0.04
BLANK_LAYOUT = 6

NAVY = RGBColor(0x0B, 0x25, 0x45)
ACCENT = RGBColor(0x1F, 0x6F, 0xB2)
TEXT = RGBColor(0x1D, 0x2B, 0x3A)
MUTED = RGBColor(0x6B, 0x7A, 0x8C)
WHITE = RGBColor(0xFF, 0xFF, 0xFF)
RED = RGBColor(0xD9, 0x36, 0x3E)
GREEN = RGBColor(0x2E, 0x9E, 0x5B)
RED_FILL = RGBColor(0xFD, 0xE4, 0xE4)
GREY_FILL = RGBColor(0xF0, 0xF2, 0xF5)
HEADER_FILL = RGBColor(0x1F, 0x4B, 0x7A)
TILE_FILL = RGBColor(0xF4, 0xF7, 0xFB)
LINE = RGBColor(0xD5, 0xDD, 0xE8)


@dataclass(frozen=True)
class Box:
    """A rectangle on the slide, in inches from the top left corner."""

    left: float
    top: float
    width: float
    height: float

    @property
    def bottom(self) -> float:
        """The bottom edge."""
        return self.top + self.height

    def columns(self, weights: Sequence[float], gap: float = 0.0) -> list[Box]:
        """Split side by side by relative widths, ``gap`` inches apart."""
        free = self.width - gap * (len(weights) - 1)
        out, left = [], self.left
        for weight in weights:
            width = free * weight / sum(weights)
            out.append(Box(left, self.top, width, self.height))
            left += width + gap
        return out

    def rows(self, weights: Sequence[float], gap: float = 0.0) -> list[Box]:
        """Split one above the other by relative heights, ``gap`` inches apart."""
        free = self.height - gap * (len(weights) - 1)
        out, top = [], self.top
        for weight in weights:
            height = free * weight / sum(weights)
            out.append(Box(self.left, top, self.width, height))
            top += height + gap
        return out


BODY = Box(MARGIN_IN, 1.2, SLIDE_W_IN - 2 * MARGIN_IN, 5.65)


@dataclass(frozen=True)
class Para:
    """A paragraph with its own colour or weight (None: the box's)."""

    text: str
    color: RGBColor | None = None
    bold: bool | None = None


def new_presentation() -> PresentationType:
    """Return an empty 16:9 presentation."""
    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(SLIDE_W_IN), Inches(SLIDE_H_IN)
    return prs


def blank_slide(prs: PresentationType) -> Slide:
    """Add a slide with nothing on it."""
    return prs.slides.add_slide(prs.slide_layouts[BLANK_LAYOUT])


def style_run(run: _Run, size: float, *, bold: bool = False, color: RGBColor = TEXT) -> None:
    """Set a run's size, weight, colour and face, naming the face for Latin and CJK text."""
    font = run.font
    font.size, font.bold = Pt(size), bold
    font.color.rgb = color
    font.name = LATIN_FONT
    r_pr = run._r.get_or_add_rPr()
    r_pr.set("lang", LANGUAGE)
    r_pr.set("altLang", "en-US")
    for old in r_pr.findall(qn("a:ea")):
        r_pr.remove(old)
    ea = etree.SubElement(r_pr, qn("a:ea"))
    ea.set("typeface", CJK_FONT)
    r_pr.find(qn("a:latin")).addnext(ea)


def _frame(frame: TextFrame, *, wrap_text: bool, anchor: MSO_ANCHOR) -> None:
    frame.word_wrap = wrap_text
    frame.auto_size = MSO_AUTO_SIZE.NONE
    frame.vertical_anchor = anchor
    frame.margin_left = frame.margin_right = Inches(INSET_X_IN)
    frame.margin_top = frame.margin_bottom = Inches(INSET_Y_IN)


def inner_pt(box: Box) -> tuple[float, float]:
    """Return the width and height a text box leaves for text, in points."""
    return (box.width - 2 * INSET_X_IN) * 72, (box.height - 2 * INSET_Y_IN) * 72


def fitted_lines(paragraphs: Sequence[Para], box: Box, *, largest: float, smallest: float,
                 bold: bool, wrap_text: bool, gap: float) -> tuple[float, float, list[Para]]:
    """Return the size and paragraph gap that fit the box, and the paragraphs to write.

    When even ``smallest`` does not fit, the text is set line by line without gaps and cut
    with "…" where the box ends.
    """
    width, height = inner_pt(box)
    strong = bold or any(p.bold for p in paragraphs)
    size = fit_size([p.text for p in paragraphs], width, height, largest=largest,
                    smallest=smallest, bold=strong, wrap_text=wrap_text, gap_pt=gap)
    if size is not None:
        return size, gap, list(paragraphs)
    lines = [Para(part, p.color, p.bold) for p in paragraphs
             for part in (wrap(p.text, width / smallest, bold=strong) if wrap_text else [p.text])]
    room = max(1, math.floor(height / (smallest * LINE_SPACING)))
    kept = lines[:room]
    if len(lines) > room:
        kept[-1] = Para(kept[-1].text + "…", kept[-1].color, kept[-1].bold)
    return smallest, 0.0, [Para(truncate(p.text, width, smallest, bold=strong), p.color, p.bold)
                           for p in kept]


def add_text(slide: Slide, box: Box, paragraphs: Sequence[str | Para], *, largest: float,
             smallest: float, bold: bool = False, color: RGBColor = TEXT,
             align: PP_ALIGN = PP_ALIGN.LEFT, anchor: MSO_ANCHOR = MSO_ANCHOR.TOP,
             wrap_text: bool = True, gap: float = 0.0) -> Shape:
    """Add a text box whose text is sized to fit it (``gap``: points between paragraphs)."""
    paras = [p if isinstance(p, Para) else Para(p) for p in paragraphs]
    size, gap, paras = fitted_lines(paras, box, largest=largest, smallest=smallest, bold=bold,
                                    wrap_text=wrap_text, gap=gap)
    shape = slide.shapes.add_textbox(Inches(box.left), Inches(box.top), Inches(box.width),
                                     Inches(box.height))
    frame = shape.text_frame
    _frame(frame, wrap_text=wrap_text, anchor=anchor)
    for n, p in enumerate(paras):
        paragraph = frame.paragraphs[0] if n == 0 else frame.add_paragraph()
        paragraph.alignment = align
        paragraph.line_spacing = Pt(size * LINE_SPACING)  # exact: fonts' own leading varies
        paragraph.space_before = Pt(gap if n else 0)
        paragraph.space_after = Pt(0)
        style_run(paragraph.add_run(), size, bold=bold if p.bold is None else p.bold,
                  color=color if p.color is None else p.color)
        paragraph.runs[0].text = p.text
    return shape


def add_rect(slide: Slide, box: Box, fill: RGBColor, *, line: RGBColor | None = None) -> Shape:
    """Add a filled rectangle (a band, a tile's background)."""
    shape = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, Inches(box.left), Inches(box.top),
                                   Inches(box.width), Inches(box.height))
    shape.fill.solid()
    shape.fill.fore_color.rgb = fill
    if line is None:
        shape.line.fill.background()
    else:
        shape.line.color.rgb = line
        shape.line.width = Pt(0.75)
    shape.shadow.inherit = False
    return shape


def add_picture(slide: Slide, box: Box, png: bytes) -> None:
    """Add an image stretched to the box (images are rendered at the box's aspect)."""
    slide.shapes.add_picture(BytesIO(png), Inches(box.left), Inches(box.top), Inches(box.width),
                             Inches(box.height))


def content_slide(prs: PresentationType, title: str, footer: str) -> Slide:
    """Add a slide with the title band (one line) and the footer line."""
    slide = blank_slide(prs)
    add_rect(slide, Box(0, 0, SLIDE_W_IN, 0.95), NAVY)
    add_rect(slide, Box(0, 0.95, SLIDE_W_IN, 0.05), ACCENT)
    add_text(slide, Box(MARGIN_IN, 0.15, SLIDE_W_IN - 2 * MARGIN_IN, 0.7), [title], largest=28,
             smallest=16, bold=True, color=WHITE, anchor=MSO_ANCHOR.MIDDLE, wrap_text=False)
    add_text(slide, Box(MARGIN_IN, 7.02, SLIDE_W_IN - 2 * MARGIN_IN, 0.34), [footer],
             largest=10, smallest=8, color=MUTED, align=PP_ALIGN.RIGHT, wrap_text=False)
    return slide


@dataclass(frozen=True)
class Column:
    """A table column: its header, relative width and alignment."""

    header: str
    weight: float
    align: PP_ALIGN = PP_ALIGN.CENTER


@dataclass(frozen=True)
class Row:
    """A table row: its cells' text, and optional fill and text colour for the whole row."""

    cells: Sequence[str]
    fill: RGBColor | None = None
    color: RGBColor | None = None
    bold: bool = False


ROW_H_IN, HEADER_H_IN = 0.38, 0.42
CELL_X_IN, CELL_Y_IN = 0.06, 0.03


def rows_per_slide(box: Box, row_h: float = ROW_H_IN, header_h: float = HEADER_H_IN) -> int:
    """Return how many rows a table fits in the box under its header."""
    return max(1, math.floor((box.height - header_h) / row_h + 1e-9))


def _cell_size(texts: Sequence[str], width_in: float, size: float, *, bold: bool) -> float:
    """Return one size for a set of cells (a column, the header row): the largest that fits all."""
    width = (width_in - 2 * CELL_X_IN) * 72
    smallest = max(8.0, size - 4)
    sizes = [fit_size([text], width, size * LINE_SPACING, largest=size, smallest=smallest,
                      bold=bold, wrap_text=False) or smallest for text in texts]
    return min(sizes, default=size)


def _cell_text(cell: _Cell, text: str, size: float, width_in: float, *, bold: bool,
               color: RGBColor, align: PP_ALIGN) -> None:
    cell.margin_left = cell.margin_right = Inches(CELL_X_IN)
    cell.margin_top = cell.margin_bottom = Inches(CELL_Y_IN)
    cell.vertical_anchor = MSO_ANCHOR.MIDDLE
    frame = cell.text_frame
    frame.word_wrap = False
    paragraph = frame.paragraphs[0]
    paragraph.alignment = align
    paragraph.line_spacing = Pt(size * LINE_SPACING)
    run = paragraph.add_run()
    style_run(run, size, bold=bold, color=color)
    run.text = _fitted(text, width_in, size, bold)


def _fitted(text: str, width_in: float, size: float, bold: bool) -> str:
    """The text a cell ``width_in`` wide shows: cut with "…" when it does not fit."""
    return truncate(text, (width_in - 2 * CELL_X_IN) * 72, size, bold=bold)


def _fill(cell: _Cell, color: RGBColor) -> None:
    cell.fill.solid()
    cell.fill.fore_color.rgb = color


_Look = tuple[str, float, bool, str, PP_ALIGN]


def _set_cell(cell: _Cell, text: str, size: float, width_in: float, *, fill: RGBColor,
              bold: bool, color: RGBColor, align: PP_ALIGN, looks: dict[_Look, CT_TableCell]
              ) -> None:
    """Fill and write a new cell; a cell that looks like one written before is copied from it.

    Styling a cell through python-pptx walks its element tree a dozen times (half the deck's
    layout time); a copy of an earlier cell of the same look with its text replaced is the
    same XML.
    """
    look = (str(fill), size, bold, str(color), align)
    model = looks.get(look)
    if model is None:
        _fill(cell, fill)
        _cell_text(cell, text, size, width_in, bold=bold, color=color, align=align)
        looks[look] = copy.deepcopy(cell._tc)
        return
    tc = copy.deepcopy(model)
    run = tc.find(qn("a:txBody")).find(qn("a:p")).find(qn("a:r"))
    run.text = _fitted(text, width_in, size, bold)
    cell._tc.getparent().replace(cell._tc, tc)


def add_table(slide: Slide, box: Box, columns: Sequence[Column], rows: Sequence[Row], *,
              size: float = 14, row_h: float = ROW_H_IN,
              header_h: float = HEADER_H_IN) -> GraphicFrame:
    """Add a table at the top of the box; callers paginate with ``rows_per_slide``."""
    if header_h + len(rows) * row_h > box.height + 1e-6:
        raise ValueError(f"{len(rows)} rows do not fit a {box.height:.2f} in box: paginate")
    height = header_h + len(rows) * row_h
    frame = slide.shapes.add_table(len(rows) + 1, len(columns), Inches(box.left),
                                   Inches(box.top), Inches(box.width), Inches(height))
    table = frame.table
    table.first_row, table.horz_banding = True, False
    total = sum(c.weight for c in columns)
    widths = [box.width * c.weight / total for c in columns]
    for n, width in enumerate(widths):
        table.columns[n].width = Inches(width)
    # Column widths in EMU are rounded; the frame must match their sum exactly.
    frame.width = Emu(sum(table.columns[n].width for n in range(len(columns))))
    # One size for the header row and one per column, so a table reads evenly.
    header_size = min(_cell_size([c.header], w, size, bold=True) for c, w in zip(columns, widths))
    sizes = [_cell_size([row.cells[n] for row in rows], widths[n], size,
                        bold=any(row.bold for row in rows)) for n in range(len(columns))]
    # The rows and cells walked once: table.cell(r, n) lists every row again for each cell.
    table_rows = list(table.rows)
    looks: dict[_Look, CT_TableCell] = {}
    table_rows[0].height = Inches(header_h)
    for n, (column, cell) in enumerate(zip(columns, table_rows[0].cells)):
        _set_cell(cell, column.header, header_size, widths[n], fill=HEADER_FILL, bold=True,
                  color=WHITE, align=PP_ALIGN.CENTER, looks=looks)
    for r, (row, table_row) in enumerate(zip(rows, table_rows[1:]), start=1):
        table_row.height = Inches(row_h)
        for n, (column, cell) in enumerate(zip(columns, table_row.cells)):
            _set_cell(cell, row.cells[n], sizes[n], widths[n],
                      fill=row.fill or (WHITE if r % 2 else GREY_FILL), bold=row.bold,
                      color=row.color or TEXT, align=column.align, looks=looks)
    return frame
