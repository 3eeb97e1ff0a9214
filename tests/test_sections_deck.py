"""The monthly deck's 路长 slides: the 红黑榜 and the ranking of the month's sections, on the
hand-built city with its sections (figures worked out in tests/test_sections.py)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from dashboard.deck.build import build_deck
from queries.deck import gather
from queries.rules import DEFAULT_RULES_FILE, parse_rules
from tests.handbuilt import NOW, build_handbuilt
from tests.handbuilt_sections import build_sections
from tests.test_deck import assert_fits, blank_images, reopen, tables, title_of

# The shipped rules with min_due 2, so that LZ-B (2 to close out in November) is ranked too,
# and the hand-built city's two streets as the one group.
_SHIPPED = DEFAULT_RULES_FILE.read_text(encoding="utf-8").replace("  min_due: 3", "  min_due: 2")
RULES = parse_rules(_SHIPPED[:_SHIPPED.index("\ngroups:")]
                    + "\ngroups:\n  第一组: [330199001, 330199002]\n", "rules.yaml")


def test_the_deck_has_the_sections_slides(session: Session) -> None:
    build_handbuilt(session)
    build_sections(session)
    session.commit()
    inputs = gather(session, "2026-11", RULES, now=NOW)
    deck = reopen(build_deck(inputs, blank_images(inputs)))
    titles = [title_of(s) for s in deck.slides]
    at = titles.index("红黑榜 · 路长责任路段 · 2026年11月")
    assert titles[at - 1] == "红黑榜 · 网格 · 2026年11月"  # after the streets' and grids' lists
    assert titles[at + 1] == "路长责任路段排名 · 2026年11月"
    # November is 1–30 November here, read at NOW (20 November 12:00): the figures of
    # tests/test_sections.py. LZ-A: 100 × (0.3 × 1 + 0.4 × 0.6 + 0.3 × 3/20) = 58.5;
    # LZ-B: 100 × (0.3 × 0.5 + 0.4 × 0.5 + 0.3 × 1/20) = 36.5. Both lists hold up to 10:
    # the red list takes both, the black list none.
    (red,) = tables(deck.slides[at])  # the black list is empty: "本月无", no table
    assert red[1:] == [["1", "西环路1段", "甲路长", "100.00%", "3/20", "58.5"],
                       ["2", "西环路2段", "乙路长", "50.00%", "1/20", "36.5"]]
    texts = [s.text_frame.text for s in deck.slides[at].shapes if s.has_text_frame]
    assert "黑榜(得分最低)" in texts and "本月无" in texts
    (ranking,) = tables(deck.slides[at + 1])
    assert ranking[0] == ["名次", "路段", "路长", "责任单位", "应销号", "销号率", "按期销号率",
                          "到岗天数", "超期在办", "得分"]
    assert ranking[1:] == [
        ["1", "西环路1段", "甲路长", "城西街道", "5", "100.00%", "60.00%", "3/20", "0", "58.5"],
        ["2", "西环路2段", "乙路长", "城西街道", "2", "50.00%", "50.00%", "1/20", "2", "36.5"]]
    note = [s.text_frame.text for s in deck.slides[at + 1].shapes
            if s.has_text_frame and "不排名" in s.text_frame.text]
    assert note == ["得分 = 销号率×0.3 + 按期销号率×0.4 + 到岗率×0.3;"
                    "应销号少于 2 件的 2 个路段不排名"]
    assert_fits(deck)


def test_the_demo_citys_sections_paginate_and_fit(engine: Engine) -> None:
    from ingest.democity import generate
    from queries.rules import load_rules

    now = datetime(2026, 11, 20, 12, 0)
    generate(engine, cases=30_000, now=now)
    with Session(engine) as session:
        inputs = gather(session, "2026-10", load_rules(), now=now)
    assert inputs.sections is not None
    ranked = [f for f in inputs.sections.rows if f.ranked]
    deck = reopen(build_deck(inputs, blank_images(inputs)))
    titles = [title_of(s) for s in deck.slides]
    pages = [t for t in titles if t.startswith("路长责任路段排名")]
    rows = sum(len(tables(s)[0]) - 1 for s in deck.slides
               if title_of(s).startswith("路长责任路段排名") and tables(s))
    assert len(pages) > 1 and rows == len(ranked) > 20
    assert_fits(deck)


def test_a_city_without_sections_has_no_sections_slide(session: Session, tmp_path: Path) -> None:
    build_handbuilt(session)
    session.commit()
    inputs = gather(session, "2026-11", RULES, now=NOW)
    assert inputs.sections is None
    titles = [title_of(s) for s in reopen(build_deck(inputs, blank_images(inputs))).slides]
    assert not [t for t in titles if "路长" in t]
