"""Named reads of the livelihood maps (民生地图): every place with what its card shows.

A place is 报修中 while a case a citizen raised on it (``PlaceReport``) is still open, or when
its own record says 维修中; the map, the wall and the grid page all read that from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ScalarSelect, exists, func, select
from sqlalchemy.orm import Session

from queries.models import OPEN_STATUSES, Area, Case, PlaceReport, PointOfInterest

LAYER_TOILET = "toilet"
LAYER_CONVENIENCE = "convenience"
LAYER_CULTURE = "culture"
LAYERS = (LAYER_TOILET, LAYER_CONVENIENCE, LAYER_CULTURE)
STATUS_NORMAL = "正常"
STATUS_REPAIRING = "报修中"
# A record's own status words that mean "under repair" (the demo city writes 维修中).
REPAIR_WORDS = ("维修中", "报修中", "停用维修")


@dataclass(frozen=True)
class Place:
    """One point of a livelihood map, with every field its details card shows."""

    id: int
    layer: str
    kind: str
    name: str
    address: str
    lat: float
    lon: float
    opening_hours: str
    accessible: bool
    baby_care: bool
    family_room: bool
    free: bool | None
    paper: bool | None
    status: str
    repairing: bool
    open_reports: int
    managing_unit: str
    phone: str | None
    description: str
    grid_code: str
    grid_name: str


def _open_reports() -> ScalarSelect[int]:
    """Open cases raised from the map on the place of the outer row (a correlated count)."""
    return (select(func.count(PlaceReport.id))
            .join(Case, Case.id == PlaceReport.case_id)
            .where(PlaceReport.poi_id == PointOfInterest.id, Case.status.in_(OPEN_STATUSES))
            .correlate(PointOfInterest).scalar_subquery())


def list_places(session: Session, *, layer: str | None = None,
                area_code: str | None = None) -> list[Place]:
    """Every place (of one layer, inside one area when given), by layer, kind and name."""
    stmt = (select(PointOfInterest, Area.code, Area.name, _open_reports().label("reports"))
            .join(Area, Area.id == PointOfInterest.grid_id)
            .order_by(PointOfInterest.layer, PointOfInterest.kind, PointOfInterest.name,
                      PointOfInterest.id))
    if layer is not None:
        stmt = stmt.where(PointOfInterest.layer == layer)
    if area_code:
        stmt = stmt.where(Area.code.startswith(area_code, autoescape=True))
    out = []
    for poi, code, grid_name, reports in session.execute(stmt):
        repairing = bool(reports) or poi.status in REPAIR_WORDS
        out.append(Place(
            id=poi.id, layer=poi.layer, kind=poi.kind, name=poi.name, address=poi.address,
            lat=poi.lat, lon=poi.lon, opening_hours=poi.opening_hours,
            accessible=bool(poi.accessible), baby_care=bool(poi.baby_care),
            family_room=bool(poi.family_room), free=poi.free, paper=poi.paper,
            status=STATUS_REPAIRING if repairing else (poi.status or STATUS_NORMAL),
            repairing=repairing, open_reports=int(reports or 0),
            managing_unit=poi.managing_unit or "", phone=poi.phone,
            description=poi.description or "", grid_code=code, grid_name=grid_name))
    return out


def place_exists(session: Session, poi_id: int) -> bool:
    """True when a place with this id is on the map."""
    return bool(session.scalar(select(exists().where(PointOfInterest.id == poi_id))))


def reports_since(session: Session, *, client: str, since: datetime) -> int:
    """How many reports one client sent since ``since`` (the database side of rate limiting)."""
    return int(session.scalar(select(func.count(PlaceReport.id))
                              .where(PlaceReport.client == client, PlaceReport.at >= since)) or 0)
