"""Pure builders of the grid page's data: tiles, table rows, map colours, export rows.

They format a ``queries.grid_view.GridView``; they never query. Every value and text comes
from ``queries.indicators`` (``Ratio.text()`` for rates, so the page and the bulletins round
alike); "—" stands for a zero denominator, never 0% or 100%.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from types import MappingProxyType
from typing import Any

from dashboard.formatting import format_value
from dashboard.grids.choropleth import NO_VALUE, Classes, classify, hideout, legend_ranges
from dashboard.i18n import t, term
from dashboard.scores import composite_formula
from queries.grid_view import AreaRef, GridView
from queries.indicators import (
    DASH,
    INDICATOR_BY_KEY,
    INDICATORS,
    NOT_APPLICABLE,
    IndicatorSet,
    Ratio,
    ranking,
    value_of,
)
from queries.models import LEVEL_GRID

TILE_KEYS = ("reported", "registered", "closed", "close_rate", "ontime_close_rate",
             "open_overdue", "grid_settle_rate", "composite")
TEXT_SUFFIX = "__t"  # a row's display text of an indicator, beside its number for sorting
PARTS_SUFFIX = "__nd"  # a rate's "numerator / denominator", for hover
GRADE = "grade"
XLSX_FORMATS: Mapping[str, str] = MappingProxyType(
    {"rate": "0.00%", "count": "#,##0", "hours": "0.0", "score": "0.00"})


def indicator_text(values: IndicatorSet, key: str, lang: str = "zh") -> str:
    """Return one indicator as the page shows it ("不适用" / "n/a" when the data lacks it)."""
    raw = getattr(values, key)
    if isinstance(raw, Ratio):
        return raw.text(lang)
    if values.na_reason(key):
        return NOT_APPLICABLE["en" if lang == "en" else "zh"]
    return format_value(value_of(values, key), INDICATOR_BY_KEY[key].kind)


def indicator_parts(values: IndicatorSet, key: str, lang: str = "zh") -> str | None:
    """Return a rate's "numerator / denominator", after why it is not applicable if it is not
    (None for other kinds)."""
    raw = getattr(values, key)
    if not isinstance(raw, Ratio):
        return None
    parts = f"{raw.numerator:,} / {raw.denominator:,}"
    return f"{raw.reason(lang)} · {parts}" if raw.na_reason else parts


@dataclass(frozen=True)
class Tile:
    """One KPI tile: this period's value, the previous period's, and the change."""

    key: str
    kind: str
    text: str
    parts: str | None
    before_text: str
    before_parts: str | None
    delta: float | None
    better: str | None  # "higher", "lower", or None for a volume
    grade: str | None
    selected: bool


def tiles(view: GridView, kpi: str) -> list[Tile]:
    """Return the page's tiles, and the chosen indicator's too when it is not among them."""
    keys = TILE_KEYS if kpi in TILE_KEYS else (*TILE_KEYS, kpi)
    out = []
    for key in keys:
        definition = INDICATOR_BY_KEY[key]
        now, then = value_of(view.current, key), value_of(view.before, key)
        composite = view.current.composite
        out.append(Tile(
            key=key, kind=definition.kind,
            text=indicator_text(view.current, key), parts=indicator_parts(view.current, key),
            before_text=indicator_text(view.before, key),
            before_parts=indicator_parts(view.before, key),
            delta=None if now is None or then is None else round(now - then, 9),
            better={True: "higher", False: "lower", None: None}[definition.higher_is_better],
            grade=composite.grade if key == "composite" and composite else None,
            selected=key == kpi,
        ))
    return out


@dataclass(frozen=True)
class Standing:
    """An area's place among the areas the table lists, on the chosen indicator (1 = best)."""

    area: AreaRef
    rank: int
    of: int
    text: str


def standings(view: GridView, kpi: str) -> list[Standing]:
    """Return the listed areas with a value, worst first; none for a volume (no better side)."""
    if INDICATOR_BY_KEY[kpi].higher_is_better is None:
        return []
    ranks = ranking({area.id: values for area, values in view.children}, kpi)
    placed = [(area, values, ranks[area.id]) for area, values in view.children
              if ranks[area.id] is not None]
    placed.sort(key=lambda item: (-item[2], item[0].code))
    return [Standing(area, rank, len(placed), indicator_text(values, kpi))
            for area, values, rank in placed]


def row(area: AreaRef, values: IndicatorSet, lang: str, *,
        selected: bool = False) -> dict[str, Any]:
    """Return one table row: each indicator's number (for sorting), text and parts."""
    out: dict[str, Any] = {"code": area.code, "name": term(area.name, lang),
                           "_selected": selected}
    for definition in INDICATORS:
        key = definition.key
        out[key] = value_of(values, key)
        out[key + TEXT_SUFFIX] = indicator_text(values, key, lang)
        parts = indicator_parts(values, key, lang)
        if parts is not None:
            out[key + PARTS_SUFFIX] = parts
    out[GRADE] = values.composite.grade if values.composite and values.composite.grade else DASH
    return out


def table_rows(view: GridView, lang: str) -> list[dict[str, Any]]:
    """Return the children's rows (a grid's page: its siblings, itself marked)."""
    return [row(area, values, lang, selected=area.code == view.area.code)
            for area, values in view.children]


def total_rows(view: GridView, lang: str) -> list[dict[str, Any]]:
    """Return the pinned total row: the area itself, when the table lists its children."""
    if view.area.level == LEVEL_GRID:
        return []
    total = row(view.area, view.current, lang)
    total["name"] = f"{t('grids_total', lang)} · {term(view.area.name, lang)}"
    return [total]


def column_defs(kpi: str, lang: str) -> list[dict[str, Any]]:
    """Return the table's columns: name, code, every indicator, grade; sorted worst first."""
    columns: list[dict[str, Any]] = [
        {"field": "name", "headerName": t("grids_col_name", lang), "pinned": "left",
         "width": 190, "sortable": True},
        {"field": "code", "headerName": t("grids_col_code", lang), "width": 150},
    ]
    for definition in INDICATORS:
        key = definition.key
        column: dict[str, Any] = {
            "field": key, "headerName": definition.label(lang),
            "headerTooltip": (composite_formula(lang) if key == "composite" else
                              definition.formula_zh if lang != "en" else definition.name_en),
            "type": "rightAligned", "width": 124 if definition.kind == "rate" else 108,
            "valueFormatter": {"function": f"params.data ? params.data['{key}{TEXT_SUFFIX}'] : ''"},
            # A function *reference*: dash-ag-grid calls it as the comparator (assets/grids.js).
            "comparator": {"function": "gridwatchNullsLast"},
        }
        if definition.kind == "rate":
            column["tooltipValueGetter"] = {
                "function": f"params.data ? params.data['{key}{PARTS_SUFFIX}'] : ''"}
        if key == kpi:  # the chosen indicator sits next to the name, worst first
            column["pinned"] = "left"
            column["cellClass"] = "gw-g-kpi-cell"
            column["headerClass"] = "gw-g-kpi-head"
            if definition.higher_is_better is not None:
                column["sort"] = "asc" if definition.higher_is_better else "desc"
        columns.append(column)
        if key == "composite":
            columns.append({"field": GRADE, "headerName": t("grids_col_grade", lang),
                            "width": 80})
    return columns


def export_table(view: GridView, lang: str) -> tuple[list[str], list[list[Any]], list[str | None]]:
    """Return the table for a workbook: headers, rows (numbers, "—" for none) and formats."""
    headers = [t("grids_col_name", lang), t("grids_col_code", lang)]
    formats: list[str | None] = [None, None]
    for definition in INDICATORS:
        headers.append(definition.label(lang))
        formats.append(XLSX_FORMATS[definition.kind])
        if definition.key == "composite":
            headers.append(t("grids_col_grade", lang))
            formats.append(None)
    rows = []
    for line in [*table_rows(view, lang), *total_rows(view, lang)]:
        cells: list[Any] = [line["name"], line["code"]]
        for definition in INDICATORS:
            value = line[definition.key]
            cells.append(DASH if value is None else value)
            if definition.key == "composite":
                cells.append(line[GRADE])
        rows.append(cells)
    return headers, rows, formats


def map_classes(view: GridView, kpi: str) -> Classes:
    """Classify the children on the chosen indicator."""
    definition = INDICATOR_BY_KEY[kpi]
    return classify({area.code: value_of(values, kpi) for area, values in view.children},
                    definition.higher_is_better)


def map_hideout(view: GridView, kpi: str, lang: str) -> dict[str, object]:
    """Return the map layer's hideout: each child's colour class, its tooltip, the selection."""
    definition = INDICATOR_BY_KEY[kpi]
    tips = {}
    for area, values in view.children:
        lines = [f"<b>{escape(term(area.name, lang))}</b>",
                 f"{escape(definition.label(lang))}: {indicator_text(values, kpi)}"]
        parts = indicator_parts(values, kpi)
        if parts is not None:
            lines.append(parts)
        if kpi == "composite" and values.composite and values.composite.grade:
            lines.append(f"{t('grids_col_grade', lang)} {values.composite.grade}")
        tips[area.code] = "<br>".join(lines)
    selected = view.area.code if view.area.level == LEVEL_GRID else None
    return hideout(map_classes(view, kpi), tips, selected)


def legend(classes: Classes, kind: str, lang: str) -> list[tuple[str, str]]:
    """Return the legend's (colour, label) rows, lowest class first, then "no value"."""
    if all(k == NO_VALUE for k in classes.of_area.values()):
        return []
    entries = []
    for color, (low, high) in zip(classes.colors, legend_ranges(classes.breaks)):
        entries.append((color, _range_label(low, high, kind, lang)))
    return entries


def _range_label(low: float | None, high: float | None, kind: str, lang: str) -> str:
    """Label the class [low, high); whole counts read inclusively ("3–4")."""
    if kind == "count" and high is not None:
        top = high - 1
        if low is None:
            return f"≤ {format_value(top, kind)}"
        return format_value(low, kind) if low == top else \
            f"{format_value(low, kind)}–{format_value(top, kind)}"
    if low is None and high is None:
        return t("grids_legend_all", lang)
    if low is None:
        return f"< {format_value(high, kind)}"
    if high is None:
        return f"≥ {format_value(low, kind)}"
    return f"{format_value(low, kind)} – {format_value(high, kind)}"
