"""A second tiny hand-built data set, for the two 应结案 conventions and 积案 by age.

It reuses the areas, departments and categories of tests/handbuilt.py (``build_city``) and
puts a dozen cases of 2027 in grid G1, all 暴露垃圾 (K3) with 环卫 (D3), from the patrol. The
hand-built city of tests/handbuilt.py is left alone: its expectations do not move.

MAY is over (as of 06-01 00:00); JUNE runs (NOW = 06-10 12:00). Each case is reported 10
minutes before its registration and dispatched 10 minutes after it; handling ends one hour
before the closure. Deadlines are set by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from queries.models import SOURCE_PATROL, Case
from queries.periods import Period, parse_period
from tests.handbuilt import City, build_city, status_of

NOW = datetime(2027, 6, 10, 12, 0)
MAY: Period = parse_period("2027-05", NOW)
JUNE: Period = parse_period("2027-06", NOW)


@dataclass(frozen=True)
class Due:
    """One case: times are "MM-DD HH:MM" in 2027; None where the case has not got there."""

    name: str
    registered: str
    deadline: str | None
    closed: str | None = None
    handled: str | None = None  # without it, one hour before ``closed`` (if closed)
    cancelled: str | None = None


# fmt: off
CASES = (
    # B2 the old backlog: January, open and overdue since 01-07 (> 90 days old at May's end)
    Due("B2", "01-05 09:00", "01-07 09:00"),
    # B1 April, open and overdue since 04-12 (31–90 days old at May's end)
    Due("B1", "04-10 09:00", "04-12 09:00"),
    # A1 April's registration closed late in May: in May's 311 set (closed then), late;
    #    not in May's bulletin set (April's cohort)
    Due("A1", "04-25 09:00", "04-28 09:00", closed="05-06 09:00"),
    # A2 April's registration with no deadline, closed in May: 311 counts it on time
    Due("A2", "04-28 09:00", None, closed="05-02 09:00"),
    # M1 May, closed on time
    Due("M1", "05-03 09:00", "05-05 09:00", closed="05-04 09:00"),
    # M2 May, handled and closed late
    Due("M2", "05-10 09:00", "05-11 09:00", closed="05-14 09:00"),
    # M3 May, open past its deadline at May's end: in the bulletin set (overdue), not in 311's
    Due("M3", "05-20 09:00", "05-22 09:00"),
    # M4 May, open, deadline in June: due in neither convention
    Due("M4", "05-30 09:00", "06-03 09:00"),
    # M5 May, no deadline, closed: in both sets, on time
    Due("M5", "05-28 09:00", None, closed="05-29 09:00"),
    # M6 May, handled but waiting for verification, deadline in June: not due; registered
    #    exactly 7 days before May's end (the ≤ 7 days band is inclusive)
    Due("M6", "05-25 00:00", "06-05 00:00", handled="05-26 09:00"),
    # J1 registered at May's last hour, closed on time on 06-01: open at May's end, so in
    #    neither May set; June's 311 set holds it (closed in June)
    Due("J1", "05-31 23:00", "06-01 10:00", closed="06-01 09:00"),
    # X1 May, cancelled: out of every set
    Due("X1", "05-15 09:00", "05-16 09:00", cancelled="05-16 09:00"),
    # J2 June, closed on time
    Due("J2", "06-02 09:00", "06-04 09:00", closed="06-03 09:00"),
    # J3 June, open, not yet due at NOW
    Due("J3", "06-09 09:00", "06-11 09:00"),
)
# fmt: on


def at(text: str) -> datetime:
    """Read "MM-DD HH:MM" in 2027."""
    return datetime.strptime(f"2027-{text}", "%Y-%m-%d %H:%M")


def case_row(city: City, spec: Due) -> dict[str, Any]:
    """Return the table row of one case of CASES."""
    registered = at(spec.registered)
    closed = at(spec.closed) if spec.closed else None
    handled = at(spec.handled) if spec.handled else None
    if handled is None and closed is not None:
        handled = closed - timedelta(hours=1)
    dispatched = registered + timedelta(minutes=10)
    cancelled = at(spec.cancelled) if spec.cancelled else None
    areas = city.areas
    return {
        "external_id": f"DUE-{spec.name}", "source": SOURCE_PATROL,
        "category_id": city.categories["K3"], "lat": 30.2995, "lon": 120.1005,
        "grid_id": areas["G1"], "community_id": areas["C1"], "street_id": areas["S1"],
        "department_id": city.departments["D3"],
        "status": status_of(registered, dispatched, handled, closed, cancelled),
        "reported_at": registered - timedelta(minutes=10), "registered_at": registered,
        "dispatched_at": dispatched, "handled_at": handled, "closed_at": closed,
        "cancelled_at": cancelled, "deadline_at": at(spec.deadline) if spec.deadline else None,
    }


def build_due_city(session: Session) -> City:
    """Insert the areas of tests/handbuilt.py and the cases above; flush, do not commit."""
    city = build_city(session)
    session.execute(insert(Case), [case_row(city, spec) for spec in CASES])
    session.flush()
    return city
