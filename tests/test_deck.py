"""The review-meeting deck, read back with python-pptx: titles, numbers, and nothing overflows.

The deck is built for February 2026 of the hand-built city (tests/assessment_city.py, worked
out by hand in tests/test_assessment.py). Structure tests use blank stand-in charts; the
LibreOffice test renders the real charts with kaleido and converts the deck to PDF and PNGs.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from concurrent.futures import CancelledError, ThreadPoolExecutor
from dataclasses import replace
from io import BytesIO
from pathlib import Path

import kaleido
import pytest
from click.testing import CliRunner
from PIL import Image
from pptx import Presentation
from pptx.presentation import Presentation as PresentationType
from pptx.slide import Slide
from pptx.table import _Cell
from pptx.text.text import TextFrame
from pptx.util import Emu
from sqlalchemy.orm import Session

from cli import cli
from dashboard.deck.build import (
    DeckInputs,
    build_deck,
    compared_words,
    count_change,
    deck_bytes,
    deck_figures,
)
from dashboard.deck.images import SCALE, ChartRenderError, Charts, render_images
from dashboard.deck.text import LINE_SPACING, lines_needed, text_em, wrap
from queries.assessment import AssessmentError, Change, StreetResult
from queries.deck import gather
from queries.engine import init_db, make_engine, make_session_factory
from queries.rules import parse_rules
from tests.assessment_city import NOW, RULES_YAML, build_city
from tests.tools import require_chromium, require_program

MONTH = "2026-02"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "deck"
EMU_PER_PT = 12700


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DeckInputs]:
    """February 2026 of the hand-built city, gathered as the deck reads it."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('deck') / 'city.sqlite3'}")
    init_db(engine)
    with Session(engine) as session:
        build_city(session)
    with make_session_factory(engine)() as session:
        yield gather(session, MONTH, parse_rules(RULES_YAML), now=NOW)
    engine.dispose()


def blank_images(inputs: DeckInputs) -> dict[str, bytes]:
    """Return a white PNG of the right size for every chart (the layout does not look inside)."""
    out = {}
    for key, spec in deck_figures(inputs).items():
        buffer = BytesIO()
        Image.new("RGB", spec.pixels, "white").save(buffer, "PNG")
        out[key] = buffer.getvalue()
    return out


def reopen(prs: PresentationType) -> PresentationType:
    """Save and read the deck back, as a leader's PowerPoint would."""
    return Presentation(BytesIO(deck_bytes(prs)))


@pytest.fixture(scope="module")
def deck(inputs: DeckInputs) -> PresentationType:
    """The deck with stand-in charts, read back from its bytes."""
    return reopen(build_deck(inputs, blank_images(inputs)))


def title_of(slide: Slide) -> str:
    """Return a slide's title: its first text (the title band, or the title slide's title)."""
    return next(s.text_frame.text for s in slide.shapes if s.has_text_frame and s.text_frame.text)


def tables(slide: Slide) -> list[list[list[str]]]:
    """Return the slide's tables as rows of cell texts (header row first)."""
    return [[[cell.text for cell in row.cells] for row in shape.table.rows]
            for shape in slide.shapes if shape.has_table]


def test_the_slides_come_in_the_meetings_order(deck: PresentationType,
                                               inputs: DeckInputs) -> None:
    titles = [title_of(s) for s in deck.slides]
    streets = [s.name for s in inputs.assessment.streets]
    assert titles[0] == "测试区城市管理综合考核点评"
    assert titles[1] == "全区运行概况 · 2026年2月"
    assert titles[2] == "考核总体情况 · 2026年2月"
    assert titles[3].startswith("第一组排名 · 均分 96.25")
    assert titles[4].startswith("第二组排名 · 均分 99.00")
    assert titles[5:11] == ["倒数后一名与连续末位 · 2026年2月", "扣分构成 · 2026年2月",
                            "重复问题分析 · 2026年2月", "高发问题(按小类) · 2026年2月",
                            "红黑榜 · 街道 · 2026年2月", "红黑榜 · 网格 · 2026年2月"]
    assert [t.split(" · ")[0] for t in titles[11:]] == streets
    assert len(titles) == 11 + len(streets)


def test_the_ranking_tables_hold_the_computed_numbers(deck: PresentationType,
                                                      inputs: DeckInputs) -> None:
    a = inputs.assessment
    for n, group in enumerate(a.groups):
        [table] = tables(deck.slides[3 + n])
        header, *rows = table
        assert header[:4] == ["组内排名", "总排名", "街道(镇)", "得分"]
        expected = [[str(s.group_rank or "—"), str(s.rank or "—"), s.name, f"{s.score:.2f}",
                     f"{s.problems}", f"{s.problems_costing_at_least_k}",
                     f"{s.repeat_problems}", f"{s.total_deduction:.2f}"]
                    for s in a.in_group(group.name)]
        assert [[r[0], r[1], r[2], r[3], r[6], r[7], r[8], r[9]] for r in rows] == expected
    # The hand-worked February: 乙 99.25 first, 甲 93.25 last of 第一组 and last twice running.
    first = tables(deck.slides[3])[0]
    assert first[1][:4] == ["1", "1", "乙街道", "99.25"]
    assert first[2][:4] == ["2", "3", "甲街道", "93.25"]
    assert first[2][-1] == "倒数后一名 连续2次后一名"
    assert tables(deck.slides[4])[0][2][:4] == ["—", "—", "丁街道", "99.50"]


def test_the_callouts_name_the_bottom_and_the_streak(deck: PresentationType) -> None:
    text = " ".join(s.text_frame.text for s in deck.slides[5].shapes if s.has_text_frame)
    assert "第一组:甲街道(93.25分)为倒数后一名" in text
    assert "甲街道(第一组)已连续 2 次位列后一名" in text


def test_every_street_has_its_deductions(deck: PresentationType, inputs: DeckInputs) -> None:
    for slide, street in zip(list(deck.slides)[11:], inputs.assessment.streets):
        [table] = tables(slide)
        points = {row[0]: row[1] for row in table[1:]}
        assert points["问题扣分"] == f"{street.deductions['problems']:.2f}"
        assert points["重复加扣"] == f"{street.deductions['repeat']:.2f}"
        assert points["扣分合计"] == f"{street.total_deduction:.2f}"
        assert points["得分"] == f"{street.score:.2f}"
        assert any(s.shape_type == 13 for s in slide.shapes)  # its chart, a picture


def assert_fits(prs: PresentationType) -> None:
    """Assert every shape lies on its slide and every text's estimated extent fits its box."""
    width, height = prs.slide_width, prs.slide_height
    for number, slide in enumerate(prs.slides, start=1):
        for shape in slide.shapes:
            where = f"slide {number} ({title_of(slide)}), {shape.name}"
            assert shape.left >= 0 and shape.top >= 0, where
            assert shape.left + shape.width <= width, where
            assert shape.top + shape.height <= height, where
            if shape.has_text_frame and shape.text_frame.text:
                assert_text_fits(shape.text_frame, shape.width, shape.height, where)
            if shape.has_table:
                table = shape.table
                for r, row in enumerate(table.rows):
                    for c, cell in enumerate(row.cells):
                        assert_text_fits(cell.text_frame, table.columns[c].width, row.height,
                                         f"{where} cell {r},{c}", cell=cell)


def assert_text_fits(frame: TextFrame, box_w: Emu, box_h: Emu, where: str,
                     cell: _Cell | None = None) -> None:
    margins = cell if cell is not None else frame
    inner_w = (box_w - margins.margin_left - margins.margin_right) / EMU_PER_PT
    inner_h = (box_h - margins.margin_top - margins.margin_bottom) / EMU_PER_PT
    used = 0.0
    for n, paragraph in enumerate(frame.paragraphs):
        if not paragraph.runs:
            continue
        size = max(run.font.size.pt for run in paragraph.runs)
        bold = any(run.font.bold for run in paragraph.runs)
        # Exact line spacing: renderers must not use the font's own (larger) leading.
        assert paragraph.line_spacing is not None and not isinstance(paragraph.line_spacing, float)
        assert paragraph.line_spacing.pt <= size * LINE_SPACING + 0.01, where
        if cell is not None or not frame.word_wrap:
            assert text_em(paragraph.text, bold=bold) * size <= inner_w + 0.01, \
                f"{where}: {paragraph.text!r} is wider than its box"
            lines = 1
        else:
            lines = lines_needed([paragraph.text], inner_w, size, bold=bold)
        used += lines * size * LINE_SPACING + (paragraph.space_before.pt
                                               if n and paragraph.space_before else 0.0)
    assert used <= inner_h + 0.01, f"{where}: {frame.text[:40]!r} needs {used:.1f} pt of " \
                                   f"{inner_h:.1f}"


def test_nothing_overflows_its_slide(deck: PresentationType) -> None:
    assert_fits(deck)


def test_the_text_estimate_counts_cjk_wide_and_latin_narrow() -> None:
    assert text_em("街道") == 2.0
    assert text_em("2026") == pytest.approx(2.2)
    assert text_em("第2组") == pytest.approx(2.55 + 2 * 0.3)  # gaps where CJK meets Latin
    assert wrap("北关街道连续两次位列后两名", 6) == ["北关街道连续", "两次位列后两", "名"]
    assert wrap("score 101.67 points", 5) == ["score", "101.67", "points"]
    assert wrap("score 101.67 points", 8) == ["score 101.67", "points"]


def long_month(inputs: DeckInputs) -> DeckInputs:
    """Return the month with one group of 30 streets, some with very long names."""
    a = inputs.assessment
    template: StreetResult = a.streets[0]
    streets = tuple(replace(template, code=f"610199{n:03d}",
                            name=("特别长名字的街道办事处" * 3 if n % 7 == 0 else f"第{n}街道"),
                            group="第一组", rank=n, group_rank=n)
                    for n in range(1, 31))
    groups = (replace(a.groups[0], streets=tuple(s.code for s in streets)),)
    return replace(inputs, assessment=replace(a, streets=streets, groups=groups,
                                              red_streets=(), black_streets=()))


def test_a_long_group_is_paginated_and_still_fits(inputs: DeckInputs) -> None:
    month = long_month(inputs)
    prs = reopen(build_deck(month, blank_images(month)))
    titles = [title_of(s) for s in prs.slides]
    pages = [t for t in titles if t.startswith("第一组排名")]
    assert len(pages) == 3 and "(续 1/3)" in pages[0] and "(续 3/3)" in pages[2]
    listed = [row[2] for n, t in enumerate(titles) if t in pages
              for row in tables(prs.slides[n])[0][1:]]
    assert len(listed) == 30
    assert all(name.endswith("…") for name in listed if name.startswith("特别长"))
    assert_fits(prs)


def test_a_month_without_data_is_refused(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'city.sqlite3'}")
    init_db(engine)
    with Session(engine) as session:
        build_city(session)
    with make_session_factory(engine)() as session, \
            pytest.raises(AssessmentError, match="no registered cases"):
        gather(session, "2024-01", parse_rules(RULES_YAML), now=NOW)
    engine.dispose()


def test_the_deck_converts_to_pdf_with_libreoffice(inputs: DeckInputs, tmp_path: Path) -> None:
    office = require_program("soffice", "libreoffice", install="libreoffice-impress")
    require_chromium()
    # With the browser present, a chart that cannot be drawn is a failure (ChartRenderError).
    prs = build_deck(inputs, render_images(deck_figures(inputs)))
    source = tmp_path / "deck.pptx"
    source.write_bytes(deck_bytes(prs))
    profile = f"-env:UserInstallation=file://{tmp_path / 'profile'}"  # no shared profile lock
    subprocess.run([office, "--headless", "--norestore", profile, "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(source)],
                   check=True, timeout=120, capture_output=True)
    pdf = tmp_path / "deck.pdf"
    assert pdf.stat().st_size > 10_000
    pdftoppm = require_program("pdftoppm", install="poppler-utils")  # the PDF was made above
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("page-*.png"):
        old.unlink()
    subprocess.run([pdftoppm, "-r", "72", "-png", str(pdf), str(ARTIFACTS / "page")],
                   check=True, timeout=120)
    pages = sorted(ARTIFACTS.glob("page-*.png"))
    assert len(pages) == len(prs.slides)
    with Image.open(pages[0]) as first:
        assert first.size == (960, 540)  # 13.333 × 7.5 in at 72 dpi: 16:9


def test_one_page_draws_each_chart_as_a_fresh_page_does(inputs: DeckInputs) -> None:
    """Kaleido reloads its page after every chart; Charts draws them all in one page."""
    require_chromium()
    assert hasattr(kaleido.Kaleido, "_return_kaleido_tab")  # what Charts overrides
    specs = deck_figures(inputs)

    async def reloading() -> list[bytes]:
        async with kaleido.Kaleido(n=1, mathjax=False) as renderer:
            return [await renderer.calc_fig(s.figure, opts={
                "format": "png", "width": s.pixels[0], "height": s.pixels[1], "scale": SCALE})
                for s in specs.values()]

    # In a thread of its own: in the whole suite the browser tests' Playwright keeps an event
    # loop running in this one, where asyncio.run refuses to start another.
    with ThreadPoolExecutor(1) as pool:
        fresh = pool.submit(asyncio.run, reloading()).result()
    assert list(render_images(specs).values()) == fresh


def test_a_missing_browser_is_reported_by_the_charts(inputs: DeckInputs,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-chromium"))
    with Charts() as charts:  # opening fails in its thread, and leaving does not raise
        drawn = charts.draw(deck_figures(inputs))
        with pytest.raises(ChartRenderError, match="needs Chrome or Chromium"):
            drawn["trend"]
    with Charts():
        pass  # a browser never used is closed, whether or not it opened


def test_a_chart_not_drawn_when_the_browser_closes_raises(inputs: DeckInputs) -> None:
    require_chromium()
    with Charts() as charts:  # left before the browser has opened: nothing is drawn
        drawn = charts.draw(deck_figures(inputs))
    with pytest.raises(CancelledError):
        drawn["trend"]  # rather than wait for ever


def test_the_report_command_writes_the_deck_and_the_workbook(tmp_path: Path) -> None:
    require_chromium()  # the deck's charts are drawn by kaleido in Chromium
    database = tmp_path / "city.sqlite3"
    engine = make_engine(f"sqlite:///{database}")
    init_db(engine)
    with Session(engine) as session:
        build_city(session)
    engine.dispose()
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES_YAML, encoding="utf-8")
    env = {"GRIDWATCH_DATABASE_URL": f"sqlite:///{database}", "GRIDWATCH_DATA_DIR": str(tmp_path)}
    runner = CliRunner()
    bad = runner.invoke(cli, ["report", "--month", "2026-13"], env=env)
    assert bad.exit_code == 1 and "is not a month" in bad.output and "Traceback" not in bad.output
    empty = runner.invoke(cli, ["report", "--month", "2020-01", "--rules", str(rules)], env=env)
    assert empty.exit_code == 1 and "no registered cases" in empty.output
    deck, table = tmp_path / "out" / "deck.pptx", tmp_path / "ranking.xlsx"
    nowhere = runner.invoke(cli, ["report", "--month", MONTH, "--output", str(deck)], env=env)
    assert nowhere.exit_code == 1 and "no folder" in nowhere.output
    deck.parent.mkdir()
    done = runner.invoke(cli, ["report", "--month", MONTH, "--rules", str(rules), "--output",
                               str(deck), "--xlsx", str(table)], env=env)
    assert done.exit_code == 0, done.output
    assert f"wrote {deck}" in done.output
    assert len(Presentation(str(deck)).slides) == 15
    assert table.stat().st_size > 0


def test_a_running_month_deck_says_same_span() -> None:
    assert count_change(Change(3, 2, 66.67), "件", "较上月同期") == "较上月同期增加 2 件(+66.67%)"
    assert count_change(Change(3, 0, 0.0), "件", "较上月同期") == "与上月同期持平"
    assert count_change(Change(5, -1, -20.0), "件") == "较上月减少 1 件(-20.00%)"

    class Running:
        previous_span_end = "2026-11-02 04:10"

    class Finished:
        previous_span_end = None

    assert compared_words(Running()) == "较上月同期"  # type: ignore[arg-type]
    assert compared_words(Finished()) == "较上月"  # type: ignore[arg-type]
