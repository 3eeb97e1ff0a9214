"""Text extents for the deck: how wide a line is and how many lines a box needs, in points.

PowerPoint lays text out only when it opens the file, so the deck must size its text before:
a CJK character is about 1 em wide, anything else about 0.55 em (digits, Latin, punctuation
of the Noto Sans CJK / Microsoft YaHei faces the deck names), lines are 1.2 em apart, and
LibreOffice adds about a third of an em where CJK meets Latin text (its "spacing between Asian
and non-Asian text"). The estimate errs wide, and the same functions let the tests check every
box of a finished deck.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

CJK_EM = 1.0
LATIN_EM = 0.55
LINE_SPACING = 1.2
BOLD_FACTOR = 1.05
MIXED_GAP_EM = 0.3
ELLIPSIS = "…"
_TOKEN = re.compile(r"[A-Za-z0-9.,%+\-−:/()#@_]+|\s+|.", re.DOTALL)


def char_em(ch: str) -> float:
    """Return a character's estimated advance in em."""
    return CJK_EM if unicodedata.east_asian_width(ch) in "WF" else LATIN_EM


@lru_cache(maxsize=1 << 16)
def text_em(text: str, *, bold: bool = False) -> float:
    """Return a single line's estimated width in em (kept: fitting a cell asks each size)."""
    widths = [char_em(ch) for ch in text]
    width = sum(widths) + MIXED_GAP_EM * sum(
        (a == CJK_EM) != (b == CJK_EM) and not (x.isspace() or y.isspace())
        for a, b, x, y in zip(widths, widths[1:], text, text[1:]))
    return width * BOLD_FACTOR if bold else width


def wrap(text: str, width_em: float, *, bold: bool = False) -> list[str]:
    """Break a paragraph into lines no wider than ``width_em``, as a word processor would.

    Latin words and numbers stay whole (they move to the next line, or break by character
    when a single word is wider than the line); CJK text breaks between any two characters.
    """
    lines: list[str] = []
    line = ""
    for token in _TOKEN.findall(text):
        if text_em(line + token, bold=bold) <= width_em:
            line += token
            continue
        if token.isspace():
            lines.append(line)
            line = ""
            continue
        if line:
            lines.append(line.rstrip())
            line = ""
        for ch in token:  # a token wider than a line breaks by character
            if line and text_em(line + ch, bold=bold) > width_em:
                lines.append(line)
                line = ""
            line += ch
    lines.append(line.rstrip())
    return lines


def lines_needed(paragraphs: Sequence[str], width_pt: float, size_pt: float, *,
                 bold: bool = False, wrap_text: bool = True) -> int:
    """Return how many lines the paragraphs take at ``size_pt`` in a box ``width_pt`` wide.

    Without wrapping, a line wider than the box counts as infinitely many (it cannot fit).
    """
    width_em = width_pt / size_pt
    total = 0
    for paragraph in paragraphs:
        if wrap_text:
            total += len(wrap(paragraph, width_em, bold=bold))
        elif text_em(paragraph, bold=bold) > width_em:
            return 10**9
        else:
            total += 1
    return total


def text_height(paragraphs: Sequence[str], width_pt: float, size_pt: float, *,
                bold: bool = False, wrap_text: bool = True, gap_pt: float = 0.0) -> float:
    """Return the height the paragraphs take, ``gap_pt`` added between paragraphs."""
    lines = lines_needed(paragraphs, width_pt, size_pt, bold=bold, wrap_text=wrap_text)
    return lines * size_pt * LINE_SPACING + gap_pt * max(0, len(paragraphs) - 1)


def fits(paragraphs: Sequence[str], width_pt: float, height_pt: float, size_pt: float, *,
         bold: bool = False, wrap_text: bool = True, gap_pt: float = 0.0) -> bool:
    """Return whether the paragraphs fit a box of ``width_pt`` × ``height_pt`` at a size."""
    return text_height(paragraphs, width_pt, size_pt, bold=bold, wrap_text=wrap_text,
                       gap_pt=gap_pt) <= height_pt


def fit_size(paragraphs: Sequence[str], width_pt: float, height_pt: float, *, largest: float,
             smallest: float, bold: bool = False, wrap_text: bool = True,
             gap_pt: float = 0.0) -> float | None:
    """Return the largest size (in half points) from ``largest`` down that fits, or None."""
    size = largest
    while size >= smallest:
        if fits(paragraphs, width_pt, height_pt, size, bold=bold, wrap_text=wrap_text,
                gap_pt=gap_pt):
            return size
        size -= 0.5
    return None


def truncate(text: str, width_pt: float, size_pt: float, *, bold: bool = False) -> str:
    """Return ``text`` cut with "…" so that one line of it fits ``width_pt``."""
    width_em = width_pt / size_pt
    if text_em(text, bold=bold) <= width_em:
        return text
    out = text
    while out and text_em(out + ELLIPSIS, bold=bold) > width_em:
        out = out[:-1]
    return out + ELLIPSIS if out else ""
