"""The case page names the level a case was settled at (处置层级) in words, not its code."""

from __future__ import annotations

from dashboard.case.layout import _settled


def test_settled_levels_in_words() -> None:
    assert [_settled(level, "zh") for level in ("grid", "street", "district")] == [
        "网格", "街道", "区级"]
    assert _settled("street", "en") == "Street"
    # Nothing recorded is "—"; a code an import brought that the codes do not know stays as is.
    assert (_settled(None, "zh"), _settled("", "zh"), _settled("社区", "zh")) == ("—", "—", "社区")
