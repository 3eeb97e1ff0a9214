"""How long a case stays in each stage: one model for the generator's history and the simulator.

The generator (``ingest.democity``) draws 13 months of cases from these samplers all at once;
the live simulator (``ingest.simulator``) draws from the same samplers one stage at a time, as a
case enters the stage, and — for a case it finds already open — from the same distribution
conditioned on the time the case has already spent there (every sampler takes ``above``: the
age in the stage, so only longer durations are drawn). Times are whole epoch seconds.

The model (per case):

- arrival: an hourly intensity ``arrival_weight`` (hour of day, rest days, season);
- 上报 → 立案 after a registration delay, or → 作废 (无效上报) with ``P_INVALID``;
- 立案 → 派遣 after a dispatch delay (a wrong dispatch, ``P_MISDISPATCH``, adds a bounce), or
  → 作废 with ``P_CANCEL``;
- 派遣 → 处置中 when the unit accepts; handling ends at a share of the limit after dispatch,
  in working hours (or clock hours for crews on rotas); ``P_LATE`` finish past the deadline,
  ``P_EXTEND`` get a 延期 and a second limit, ``P_STUCK`` stay open for weeks past the deadline
  (老大难): the backlog of a real district is mostly these;
- 待核查 → 结案 after verification, or → 处置中 again (返工) with ``P_REWORK`` (twice:
  ``P_REWORK_AGAIN`` of those).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from queries.workcalendar import WorkCalendar

EPOCH = datetime(1970, 1, 1)
FAR = np.iinfo(np.int64).max // 4  # "never": a stage a case does not reach
HOUR = 3600
DAY = 86400

P_INVALID = 0.025  # 无效上报: cancelled before registration
P_CANCEL = 0.01  # 作废 after registration
P_MISDISPATCH = 0.015
P_EXTEND = 0.02
P_REWORK = 0.03  # of the cases not extended
P_REWORK_AGAIN = 0.15  # of those reworked once
P_LATE = 0.035  # handling finishes past the deadline
# Crews on 7-day rotas (环卫, 城管执法) finish many cases in the evening or at the weekend: for
# these, the share of the limit elapses in clock hours, which can only make them earlier.
P_ROUND_THE_CLOCK = 0.5
# 老大难: handled this many days after the deadline. At ~380 cases a day this keeps some 60–90
# cases open past their deadline at any hour — the steady backlog a real district carries.
P_STUCK = 0.0065
STUCK_DAYS = (1.0, 60.0)
LATE_MEAN, LATE_MAX = 0.4, 3.0  # late handling: 1.01 + an exponential share, at most 3 more
EXTEND_USED = (0.3, 0.9)  # share of the limit gone when the extension is granted
ACCEPT_MEAN_S = 1500  # the unit accepts the dispatch after this long on average
REWORK_FAIL_S = (1200, 3 * HOUR)  # failed verification this long after handling
REWORK_RESTART_S = (300, 1800)  # and handling starts again this long after
REWORK_SHARE = (0.15, 0.5)  # of the limit, in working hours
CLOSE_S = (360, 4 * HOUR)  # handled → closed (verified at 70% of it)
CLOSE_MIN_ROOM_S = 120
INVALID_S = (300, 3600)  # an invalid report is cancelled this long after it came in
CANCEL_S = (600, 6 * HOUR)  # a late cancellation this long after registration
MISDISPATCH_S = (1800, 4 * HOUR)  # a wrong dispatch bounces back after this long

# Relative reports per hour of day: the daytime peak of a real district.
HOUR_WEIGHTS = np.array([0.3, 0.2, 0.15, 0.1, 0.1, 0.2, 0.6, 1.5, 3.5, 5.0, 5.5, 5.0,
                         3.5, 3.0, 4.5, 5.0, 4.8, 4.0, 2.5, 1.8, 1.4, 1.1, 0.8, 0.5])
REST_DAY_FACTOR = 0.7  # weekends and holidays: fewer patrols, fewer reports


def seconds_of(moment: datetime) -> int:
    """Return whole seconds since the epoch of a naive datetime."""
    return int((moment - EPOCH).total_seconds())


def datetime_of(seconds: int) -> datetime:
    """Return the naive datetime of whole epoch seconds."""
    return EPOCH + timedelta(seconds=int(seconds))


def arrival_weight(hours: np.ndarray, calendar: WorkCalendar,
                   month_volume: np.ndarray) -> np.ndarray:
    """Return the relative report intensity of each whole hour (epoch seconds at its start).

    ``month_volume`` holds twelve factors (January first): the season of the city's mix.
    """
    hours = np.asarray(hours, dtype=np.int64)
    day = hours // DAY
    workday = {int(d): calendar.is_workday(date(1970, 1, 1) + timedelta(days=int(d)))
               for d in np.unique(day).tolist()}
    day_factor = np.array([1.0 if workday[d] else REST_DAY_FACTOR for d in day.tolist()])
    month = hours.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64) % 12
    return day_factor * month_volume[month] * HOUR_WEIGHTS[(hours % DAY) // HOUR]


class WorkClock:
    """Working-hour arithmetic on whole seconds, vectorised; agrees with ``WorkCalendar``.

    ``WorkCalendar.add_working_hours`` walks day by day in Python; a million deadlines take
    the same answers from a table of the sittings between ``first`` and ``last`` and two
    binary searches.
    """

    def __init__(self, calendar: WorkCalendar, first: date, last: date) -> None:
        starts: list[int] = []
        ends: list[int] = []
        day = first
        while day <= last:
            if calendar.is_workday(day):
                for a, b in calendar.sittings:
                    starts.append(seconds_of(datetime.combine(day, a)))
                    ends.append(seconds_of(datetime.combine(day, b)))
            day += timedelta(days=1)
        self.first = first
        self.last = last
        self._start = np.array(starts, dtype=np.int64)
        self._end = np.array(ends, dtype=np.int64)
        self._cum_end = np.cumsum(self._end - self._start)
        self._cum_start = self._cum_end - (self._end - self._start)

    def add(self, start: np.ndarray, hours: np.ndarray) -> np.ndarray:
        """Return ``start`` (epoch seconds) plus ``hours`` working hours, as epoch seconds."""
        start = np.asarray(start, dtype=np.int64)
        first = np.searchsorted(self._end, start, side="right")
        if np.any(first >= len(self._end)):
            raise ValueError(f"working-time table ends on {self.last}: a start lies beyond it")
        worked = self._cum_start[first] + np.clip(start - self._start[first], 0, None)
        target = worked + np.rint(np.asarray(hours, dtype=float) * 3600).astype(np.int64)
        k = np.searchsorted(self._cum_end, target, side="left")
        if np.any(k >= len(self._cum_end)):
            raise ValueError(f"working-time table ends on {self.last}: a deadline lies beyond it")
        return self._start[k] + (target - self._cum_start[k])

    def worked(self, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Return the working seconds between ``start`` and ``end`` (0 when end <= start)."""
        return np.maximum(self._worked_at(end) - self._worked_at(start), 0)

    def _worked_at(self, moment: np.ndarray) -> np.ndarray:
        moment = np.asarray(moment, dtype=np.int64)
        k = np.searchsorted(self._end, moment, side="right")
        if np.any(k >= len(self._end)):
            raise ValueError(f"working-time table ends on {self.last}: a time lies beyond it")
        return self._cum_start[k] + np.clip(moment - self._start[k], 0,
                                            self._end[k] - self._start[k])


# --- samplers -------------------------------------------------------------------------------


def _uniform_above(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray,
                   above: np.ndarray) -> np.ndarray:
    """Draw U(lo, hi) conditioned on exceeding ``above`` (callers ensure above < hi)."""
    low = np.maximum(lo, above)
    return low + rng.random(len(low)) * (hi - low)


def _uniform_survival(lo: float | np.ndarray, hi: float | np.ndarray,
                      above: np.ndarray) -> np.ndarray:
    return np.clip((hi - np.maximum(lo, above)) / np.maximum(np.subtract(hi, lo), 1e-9), 0, 1)


def _pick(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """Return a column index per row of ``weights`` (rows of non-negative weights).

    A row whose weights are all zero — a case older than anything the model draws — gets -1.
    """
    total = weights.sum(axis=1)
    cum = np.cumsum(weights, axis=1)
    u = rng.random(len(weights)) * total
    choice = (cum <= u[:, None]).sum(axis=1)
    return np.where(total > 0, np.minimum(choice, weights.shape[1] - 1), -1)


@dataclass(frozen=True)
class Delay:
    """Minutes mostly, sometimes within hours, a few late: 30 s + an exponential, or uniforms."""

    fast_mean: float
    medium: tuple[int, int]
    slow: tuple[int, int]
    p_medium: float
    p_slow: float

    def sample(self, rng: np.random.Generator, n: int,
               above: np.ndarray | None = None) -> np.ndarray:
        """Draw ``n`` delays in whole seconds, each longer than ``above`` (default: any)."""
        age = np.zeros(n) if above is None else np.asarray(above, dtype=float)
        fast_survival = np.where(age <= 30, 1.0, np.exp(-(age - 30) / self.fast_mean))
        weights = np.column_stack((
            (1 - self.p_medium - self.p_slow) * fast_survival,
            self.p_medium * _uniform_survival(*self.medium, age),
            self.p_slow * _uniform_survival(*self.slow, age),
        ))
        kind = _pick(rng, weights)
        fresh = kind < 0  # older than any delay: drawn afresh on top of the age
        kind = np.where(fresh, _pick(rng, np.tile(self._prior(), (n, 1))), kind)
        start = np.where(fresh, 0.0, age)
        fast = np.maximum(start, 30) + rng.exponential(self.fast_mean, n)
        medium = _uniform_above(rng, np.full(n, float(self.medium[0])),
                                np.full(n, float(self.medium[1])),
                                np.minimum(start, self.medium[1] - 1))
        slow = _uniform_above(rng, np.full(n, float(self.slow[0])),
                              np.full(n, float(self.slow[1])),
                              np.minimum(start, self.slow[1] - 1))
        value = np.choose(kind, (fast, medium, slow)) + np.where(fresh, age, 0.0)
        return np.maximum(np.ceil(value), age + 1).astype(np.int64)

    def _prior(self) -> np.ndarray:
        return np.array([1 - self.p_medium - self.p_slow, self.p_medium, self.p_slow])


REGISTER_DELAY = Delay(300, (600, 2700), (3600, 28800), 0.05, 0.02)
DISPATCH_DELAY = Delay(300, (900, 3600), (7200, 28800), 0.05, 0.01)

# Handling share of the limit for a plain case: 0.02 + 0.98 × Beta(1.6, 2.6), by inverse CDF
# from a table, so the simulator can draw it conditioned on the share already used.
_BETA_X = np.linspace(0.0, 1.0, 4097)
_pdf = _BETA_X ** 0.6 * (1 - _BETA_X) ** 1.6
_BETA_CDF = np.concatenate(([0.0], np.cumsum((_pdf[1:] + _pdf[:-1]) / 2)))
_BETA_CDF /= _BETA_CDF[-1]
SHARE_LOW, SHARE_SPAN = 0.02, 0.98


def _beta_cdf(share: np.ndarray) -> np.ndarray:
    return np.interp((np.asarray(share) - SHARE_LOW) / SHARE_SPAN, _BETA_X, _BETA_CDF)


def _beta_share(rng: np.random.Generator, above: np.ndarray) -> np.ndarray:
    """Draw a plain handling share conditioned on exceeding ``above`` (where it can)."""
    low = np.minimum(_beta_cdf(above), 1 - 1e-9)
    u = low + rng.random(len(low)) * (1 - low)
    return SHARE_LOW + SHARE_SPAN * np.interp(u, _BETA_CDF, _BETA_X)


def _late_survival(above: np.ndarray) -> np.ndarray:
    x = np.clip(np.asarray(above) - 1.01, 0, None)
    inside = (np.exp(-x / LATE_MEAN) - np.exp(-LATE_MAX / LATE_MEAN)) / (
        1 - np.exp(-LATE_MAX / LATE_MEAN))
    return np.where(x >= LATE_MAX, 0.0, np.clip(inside, 0, 1))


def _late_share(rng: np.random.Generator, above: np.ndarray) -> np.ndarray:
    """Draw 1.01 + an exponential share truncated at ``LATE_MAX``, conditioned on > above."""
    x = np.clip(np.asarray(above, dtype=float) - 1.01, 0, LATE_MAX * (1 - 1e-9))
    top = 1 - np.exp(-LATE_MAX / LATE_MEAN)
    low = 1 - np.exp(-x / LATE_MEAN)
    u = low + rng.random(len(x)) * (top - low)
    return 1.01 + -LATE_MEAN * np.log1p(-u)


# Outcomes of handling for a case not extended (columns of ``handling_weights``).
PLAIN, PLAIN_CLOCK, LATE, STUCK, EXTEND = range(5)


def handling_weights(worked_share: np.ndarray, clock_share: np.ndarray,
                     overdue_s: np.ndarray) -> np.ndarray:
    """Return the weight of each outcome for cases still being handled, given their age.

    ``worked_share`` and ``clock_share`` are the limit already gone in working and in clock
    hours; ``overdue_s`` the seconds past the first deadline (negative before it). All zeros
    for a case: older than the model allows.
    """
    plain = (1 - P_EXTEND) * (1 - P_STUCK) * (1 - P_LATE)
    return np.column_stack((
        plain * (1 - P_ROUND_THE_CLOCK) * (1 - _beta_cdf(worked_share)),
        plain * P_ROUND_THE_CLOCK * (1 - _beta_cdf(clock_share)),
        (1 - P_EXTEND) * (1 - P_STUCK) * P_LATE * _late_survival(worked_share),
        (1 - P_EXTEND) * P_STUCK * _uniform_survival(STUCK_DAYS[0] * DAY, STUCK_DAYS[1] * DAY,
                                                     overdue_s),
        P_EXTEND * _uniform_survival(*EXTEND_USED, worked_share),
    ))


def draw_outcomes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw the handling outcome of ``n`` newly dispatched cases (no age yet)."""
    zero = np.zeros(n)
    return _pick(rng, handling_weights(zero, zero, np.full(n, -float(FAR))))


def draw_share(rng: np.random.Generator, outcome: np.ndarray, worked_share: np.ndarray,
               clock_share: np.ndarray) -> np.ndarray:
    """Draw the handling share of the limit for PLAIN, PLAIN_CLOCK and LATE outcomes.

    PLAIN and LATE shares run in working hours, PLAIN_CLOCK in clock hours; the share drawn
    exceeds the one already gone. Other outcomes get NaN.
    """
    share = np.full(len(outcome), np.nan)
    for kind, sampler, age in ((PLAIN, _beta_share, worked_share),
                               (PLAIN_CLOCK, _beta_share, clock_share),
                               (LATE, _late_share, worked_share)):
        chosen = np.flatnonzero(outcome == kind)
        if len(chosen):
            share[chosen] = sampler(rng, np.asarray(age)[chosen])
    return share


def draw_stuck_overdue(rng: np.random.Generator, overdue_s: np.ndarray) -> np.ndarray:
    """Seconds after the first deadline a 老大难 case is handled, beyond ``overdue_s``."""
    lo, hi = STUCK_DAYS[0] * DAY, STUCK_DAYS[1] * DAY
    age = np.minimum(np.asarray(overdue_s, dtype=float), hi - 1)
    return _uniform_above(rng, np.full(len(age), lo), np.full(len(age), hi), age).astype(np.int64)


def draw_extension_used(rng: np.random.Generator, worked_share: np.ndarray) -> np.ndarray:
    """Share of the limit gone when a 延期 is granted, beyond the share already gone."""
    share = np.minimum(np.asarray(worked_share, dtype=float), EXTEND_USED[1] - 1e-6)
    n = len(share)
    return _uniform_above(rng, np.full(n, EXTEND_USED[0]), np.full(n, EXTEND_USED[1]), share)


def draw_extended_share(rng: np.random.Generator, used: np.ndarray,
                        worked_share: np.ndarray | None = None) -> np.ndarray:
    """Handling share (of the first limit, working hours) of an extended case, > the share gone.

    The share lies in ``used + [0.1, 0.97] × (2 − used)``: within the second limit.
    """
    used = np.asarray(used, dtype=float)
    lo, hi = used + 0.1 * (2 - used), used + 0.97 * (2 - used)
    gone = lo if worked_share is None else np.minimum(np.asarray(worked_share), hi - 1e-6)
    return _uniform_above(rng, lo, hi, gone)


def draw_accept_delay(rng: np.random.Generator, handling_s: np.ndarray) -> np.ndarray:
    """Seconds from dispatch to acceptance: an exponential, at most half the handling time."""
    handling_s = np.asarray(handling_s, dtype=np.int64)
    wait = rng.exponential(ACCEPT_MEAN_S, len(handling_s))
    return np.minimum(wait, 0.5 * handling_s).astype(np.int64)


def draw_close_delay(rng: np.random.Generator, slack_s: np.ndarray,
                     above: np.ndarray | None = None) -> np.ndarray:
    """Seconds from handled to closed: U(6 min, 4 h), capped at 80% of the slack to the deadline.

    A capped case closes at the cap itself; ``above`` is the time already spent (the result
    exceeds it wherever the model allows, else the case closes one second later).
    """
    slack_s = np.asarray(slack_s, dtype=np.int64)
    n = len(slack_s)
    age = np.zeros(n) if above is None else np.asarray(above, dtype=float)
    room = np.where(slack_s > 0, np.maximum(CLOSE_MIN_ROOM_S, 0.8 * slack_s), float(FAR))
    lo, hi = float(CLOSE_S[0]), float(CLOSE_S[1])
    cap = np.minimum(room, hi)
    # Mass below the cap (continuous) and at it (the capped share).
    continuous = np.clip((cap - lo) / (hi - lo), 0, 1)
    at_cap = 1 - continuous
    weights = np.column_stack((continuous * _uniform_survival(lo, np.maximum(cap, lo), age),
                               at_cap * (cap > age)))
    kind = _pick(rng, weights)
    value = np.where(kind == 0, _uniform_above(rng, np.full(n, lo), np.maximum(cap, lo + 1),
                                               np.minimum(age, cap - 1)), cap)
    stale = np.flatnonzero(kind < 0)  # older than the model allows: drawn afresh on top
    if len(stale):
        value[stale] = age[stale] + draw_close_delay(rng, slack_s[stale])
    return np.ceil(value).astype(np.int64)


def draw_between(rng: np.random.Generator, bounds: tuple[float, float], n: int,
                 above: np.ndarray | None = None) -> np.ndarray:
    """Draw whole seconds from U(bounds), conditioned on exceeding ``above`` where possible."""
    lo, hi = bounds
    age = np.zeros(n) if above is None else np.minimum(np.asarray(above, dtype=float), hi - 1)
    return _uniform_above(rng, np.full(n, float(lo)), np.full(n, float(hi)),
                          age).astype(np.int64)


def uniform_survival(bounds: tuple[float, float], above: np.ndarray) -> np.ndarray:
    """P(U(bounds) > above), elementwise."""
    return _uniform_survival(bounds[0], bounds[1], np.asarray(above, dtype=float))


def delay_survival(delay: Delay, above: np.ndarray) -> np.ndarray:
    """P(delay > above), elementwise."""
    age = np.asarray(above, dtype=float)
    fast = np.where(age <= 30, 1.0, np.exp(-(age - 30) / delay.fast_mean))
    return ((1 - delay.p_medium - delay.p_slow) * fast
            + delay.p_medium * _uniform_survival(*delay.medium, age)
            + delay.p_slow * _uniform_survival(*delay.slow, age))


def close_survival(slack_s: np.ndarray, above: np.ndarray) -> np.ndarray:
    """P(close delay > above) for cases with ``slack_s`` to their deadline at handling."""
    slack_s = np.asarray(slack_s, dtype=np.int64)
    age = np.asarray(above, dtype=float)
    room = np.where(slack_s > 0, np.maximum(CLOSE_MIN_ROOM_S, 0.8 * slack_s), float(FAR))
    lo, hi = float(CLOSE_S[0]), float(CLOSE_S[1])
    cap = np.minimum(room, hi)
    continuous = np.clip((cap - lo) / (hi - lo), 0, 1)
    return (continuous * _uniform_survival(lo, np.maximum(cap, lo), age)
            + (1 - continuous) * (cap > age))
