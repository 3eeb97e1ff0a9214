"""The two scores the pages rank by, named so that a leader cannot confuse them.

- **考核得分** (assessment score): the monthly assessment's score of a street, from the rules
  file (``queries.assessment``): base score − deductions + bonus. The wall's district ranking
  and ``/rankings`` rank by it.
- **综合指标值** (composite indicator): GB/T 30428.4-style weighted indicator scores of any area
  (``queries.indicators.score_composite``). ``/grids`` and the walls of streets, communities and
  grids rank by it.

Each has a name and a one-line formula in both languages, shown on hover (``title``).
"""

from __future__ import annotations

ASSESSMENT = "assessment"
COMPOSITE = "composite"

_NAMES = {
    ASSESSMENT: {"zh": "考核得分", "en": "Assessment score"},
    COMPOSITE: {"zh": "综合指标值", "en": "Composite indicator"},
}
_FORMULAS = {
    ASSESSMENT: {
        "zh": "考核得分 = 基础分 − 扣分(问题、重复问题、超期、返工;按单元网格数折算,各项封顶)"
              " + 志愿服务加分,按考核细则计算;与「考核」页同一结果",
        "en": "Assessment score = base score − deductions (problems, repeats, overdue, rework; "
              "per unit grid, each capped) + volunteer bonus, by the assessment rules; the same "
              "figures as the Rankings page",
    },
    COMPOSITE: {
        "zh": "综合指标值 = 监督举报率分值×10% + 立案数分值×20% + 结案率分值×30% "
              "+ 按期结案率分值×40%(各分值 0–100)",
        "en": "Composite indicator = public report rate score × 10% + registrations score × 20% "
              "+ closure rate score × 30% + on-time closure rate score × 40% (each 0–100)",
    },
}


def score_name(kind: str, lang: str) -> str:
    """Return the score's name (考核得分 or 综合指标值) in the UI language."""
    return _NAMES[kind]["en" if lang == "en" else "zh"]


def score_formula(kind: str, lang: str) -> str:
    """Return the score's formula, for hover text."""
    return _FORMULAS[kind]["en" if lang == "en" else "zh"]


def composite_formula(lang: str) -> str:
    """Return the formula of 综合指标值."""
    return score_formula(COMPOSITE, lang)
