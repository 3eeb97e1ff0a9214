"""A citizen's report from the public map becomes a case (来源 随手拍) on the place.

The case enters the normal lifecycle at 上报, in the place's grid, with the place's address, so
the command center handles it like any other; the place reads 报修中 until the case is closed
or cancelled. The citizen's words are stored as plain text and are only ever rendered escaped.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from queries.models import (
    SOURCE_PHOTO,
    STATUS_REPORTED,
    URGENCY_NORMAL,
    Area,
    Case,
    CaseEvent,
    Category,
    PlaceReport,
    PointOfInterest,
)

# What a citizen can report, and the wording the case description starts with.
PROBLEMS = {"broken": "设施损坏", "dirty": "卫生脏乱", "closed": "应开未开"}
MAX_TEXT = 500  # characters of the citizen's own words kept on the case
# The minor class (小类) a report lands in: a toilet's problems are 公厕 (部件); elsewhere a
# broken or shut facility is a 安全隐患 and dirt is 暴露垃圾 (事件).
TOILET_MINOR = "公厕"
OTHER_MINOR = {"broken": "安全隐患", "dirty": "暴露垃圾", "closed": "安全隐患"}


class ReportRejected(ValueError):
    """The report cannot be taken; the message is safe to show the citizen."""


@dataclass(frozen=True)
class ReportReceipt:
    """What the citizen is told: the case number to quote on the hotline."""

    case_id: int
    external_id: str


def client_key(address: str, salt: str) -> str:
    """Return a short salted hash of a client address (no address is stored)."""
    return hashlib.sha256(f"{salt}|{address}".encode()).hexdigest()[:16]


def _category_id(session: Session, layer: str, problem: str) -> int:
    minor = TOILET_MINOR if layer == "toilet" else OTHER_MINOR[problem]
    found = session.scalar(select(Category.id).where(Category.minor == minor).limit(1))
    if found is None:
        raise ReportRejected(f"no case category {minor!r} in this city's standard")
    return found


def report_place_problem(session: Session, *, poi_id: int, problem: str, text: str,
                         client: str, now: datetime) -> ReportReceipt:
    """Write the case, its 上报 event and the place link; the caller commits.

    Raises ``ReportRejected`` for an unknown place or problem (the route answers 400).
    """
    if problem not in PROBLEMS:
        raise ReportRejected(f"unknown problem {problem!r}: one of {', '.join(PROBLEMS)}")
    words = " ".join((text or "").split())[:MAX_TEXT]
    poi = session.get(PointOfInterest, poi_id)
    if poi is None:
        raise ReportRejected(f"no place {poi_id}")
    grid = session.get(Area, poi.grid_id)
    community = session.get(Area, grid.parent_id) if grid and grid.parent_id else None
    street_id = community.parent_id if community and community.parent_id else None
    if grid is None or community is None or street_id is None:
        raise ReportRejected(f"place {poi_id} is not inside a unit grid")
    serial = (session.scalar(select(func.count(PlaceReport.id))) or 0) + 1
    external_id = f"SSP{now:%Y%m%d%H%M%S}{serial:05d}{secrets.token_hex(2)}"
    description = f"【民生地图】{poi.name}{PROBLEMS[problem]}" + (f":{words}" if words else "")
    case = Case(external_id=external_id[:32], source=SOURCE_PHOTO,
                category_id=_category_id(session, poi.layer, problem),
                description=description, address=(poi.address or poi.name)[:128],
                lat=poi.lat, lon=poi.lon, grid_id=grid.id, community_id=community.id,
                street_id=street_id, status=STATUS_REPORTED, urgency=URGENCY_NORMAL,
                severity=1, valid_report=True, reported_at=now)
    session.add(case)
    session.flush()
    session.add(CaseEvent(case_id=case.id, at=now, action="上报", actor=SOURCE_PHOTO,
                          note=f"民生地图 · {poi.name}"))
    session.add(PlaceReport(poi_id=poi.id, case_id=case.id, problem=problem, at=now,
                            client=client[:16]))
    return ReportReceipt(case_id=case.id, external_id=case.external_id)
