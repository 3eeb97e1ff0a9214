"""The grid page's state as its URL holds it: ``/grids?area=…&period=…&kpi=…&lang=…``.

The URL is the one source of the view: controls write it, the page renders from it, so a
shared link or a reload shows the same thing. Relative periods stay relative in the URL
("month" is this month whenever the link is opened); a custom range is written out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from urllib.parse import parse_qs, urlencode

from queries.indicators import INDICATOR_BY_KEY
from queries.periods import CUSTOM, KINDS, MONTH, Period, PeriodError, custom, parse_period

PATH = "/grids"
DEFAULT_PERIOD = MONTH  # 月通报: the cadence of the monthly bulletin
DEFAULT_KPI = "composite"


@dataclass(frozen=True)
class GridsState:
    """The view a URL asks for: an area code ("" is the district), period token, indicator."""

    area: str = ""
    period: str = DEFAULT_PERIOD
    kpi: str = DEFAULT_KPI
    lang: str = ""  # "" keeps the deployment's language

    def search(self) -> str:
        """Return the URL query string that parses back to this state."""
        params = {"area": self.area, "period": self.period, "kpi": self.kpi}
        if self.lang:
            params["lang"] = self.lang
        return "?" + urlencode({k: v for k, v in params.items() if v}, safe=".,")


def other_language_href(state: GridsState, lang: str) -> str:
    """Return the link to the same view in the other language."""
    return f"{PATH}{replace(state, lang='zh' if lang == 'en' else 'en').search()}"


def query_params(search: str | None) -> dict[str, str]:
    """Return a URL query string as a dict (the last value wins for repeated keys)."""
    return {k: v[-1] for k, v in parse_qs((search or "").lstrip("?")).items()}


def parse_state(params: dict[str, str]) -> GridsState:
    """Read the state from URL parameters; an unknown indicator falls back to the default."""
    kpi = params.get("kpi", DEFAULT_KPI)
    return GridsState(
        area=params.get("area", "").strip(),
        period=params.get("period", DEFAULT_PERIOD).strip() or DEFAULT_PERIOD,
        kpi=kpi if kpi in INDICATOR_BY_KEY else DEFAULT_KPI,
        lang=params.get("lang", "") if params.get("lang") in ("zh", "en") else "",
    )


def resolve_period(token: str, now: datetime) -> tuple[Period, str | None]:
    """Return the period of a URL token, or this month and the parse error for a bad token."""
    try:
        return parse_period(token, now), None
    except PeriodError as exc:
        return parse_period(DEFAULT_PERIOD, now), str(exc)


def period_choice(token: str) -> str:
    """Return the selector's choice for a token: a relative kind, else "custom"."""
    return token if token in KINDS else CUSTOM


def with_period_choice(state: GridsState, choice: str, shown: Period) -> GridsState:
    """Return the state after picking a period choice; "custom" starts from the shown span."""
    if choice == CUSTOM:
        return replace(state, period=shown.token if shown.kind == CUSTOM
                       else custom(shown.start.date(), shown.last_day).token)
    return replace(state, period=choice)


def with_range(state: GridsState, start: str | None, end: str | None) -> GridsState:
    """Return the state with a custom range from the date pickers (unchanged while half set)."""
    if not start or not end:
        return state
    first, last = date.fromisoformat(start[:10]), date.fromisoformat(end[:10])
    if last < first:
        first, last = last, first
    return replace(state, period=custom(first, last).token)


def range_of(token: str) -> tuple[str | None, str | None]:
    """Return the first and last day of an absolute period token (None, None for "month"…)."""
    if token in KINDS:
        return None, None
    try:
        # Absolute tokens ("2026-10", "2026-10-01..2026-10-15") do not depend on the clock.
        period = parse_period(token, datetime.now())
    except PeriodError:
        return None, None
    return period.start.date().isoformat(), period.last_day.isoformat()
