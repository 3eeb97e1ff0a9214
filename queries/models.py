"""The case database: typed SQLAlchemy 2 models in the domain's words.

All timestamps are naive local wall-clock time of the city (``Settings.timezone``, default
Asia/Shanghai): that is how case systems store them and how deadlines in working hours are set.
Geometry is GeoJSON text so any database works without PostGIS.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def written_at() -> datetime:
    """The moment of a write as ``cases.updated_at`` keeps it: naive UTC, to the microsecond."""
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    """Declarative base shared by every Gridwatch table."""


# Area levels, top to bottom. The hierarchy is ``Area.parent_id``; codes are opaque strings (a
# city's own "0502A" or "W03" as well as the demo city's nested GB/T 30428 digits) and are never
# cut into prefixes. Every grid has a community parent and every community a street parent: an
# importer derives a missing level (``Area.derived``) rather than skipping it.
LEVEL_DISTRICT = "district"
LEVEL_STREET = "street"
LEVEL_COMMUNITY = "community"
LEVEL_GRID = "grid"
LEVELS = (LEVEL_DISTRICT, LEVEL_STREET, LEVEL_COMMUNITY, LEVEL_GRID)

# Case lifecycle states (案件状态), in order; 作废 can end a case at any point.
STATUS_REPORTED = "上报"
STATUS_REGISTERED = "立案"
STATUS_DISPATCHED = "派遣"
STATUS_HANDLING = "处置中"
STATUS_VERIFYING = "待核查"
STATUS_CLOSED = "结案"
STATUS_CANCELLED = "作废"
OPEN_STATUSES = (
    STATUS_REPORTED,
    STATUS_REGISTERED,
    STATUS_DISPATCHED,
    STATUS_HANDLING,
    STATUS_VERIFYING,
)
STATUSES = (*OPEN_STATUSES, STATUS_CLOSED, STATUS_CANCELLED)

# Case sources (来源).
SOURCE_PATROL = "巡查上报"
SOURCE_HOTLINE = "12345热线"
SOURCE_PHOTO = "随手拍"
SOURCE_VIDEO = "视频监控"
SOURCE_LEADER = "领导交办"
SOURCES = (SOURCE_PATROL, SOURCE_HOTLINE, SOURCE_PHOTO, SOURCE_VIDEO, SOURCE_LEADER)
# Problems the public found before the patrol did (监督举报率's numerator).
PUBLIC_SOURCES = (SOURCE_HOTLINE, SOURCE_PHOTO)

# Level where a case was settled (处置层级), for 小事不出网格.
SETTLED_GRID = "grid"
SETTLED_STREET = "street"
SETTLED_DISTRICT = "district"
SETTLED_LEVELS = (SETTLED_GRID, SETTLED_STREET, SETTLED_DISTRICT)

# Case.location_note: why a location is imprecise, or (precise cases) that the area field and
# the point disagree. The data-quality page counts them by these codes.
LOCATION_DEFAULT_GEOCODE = "default_geocode"  # a listed default point (e.g. the city hall)
LOCATION_SHARED_POINT = "shared_point"  # one point carries a large share of the file's cases
LOCATION_COARSE = "coarse"  # too few decimals (coarser than ~10 m)
LOCATION_AREA_CENTRE = "area_centre"  # no point at all: placed at its area's centre
LOCATION_DISAGREES = "field_point_disagree"  # precise point outside the area the field names
LOCATION_OUTSIDE = "point_outside"  # point outside every area; the field placed it (imprecise)
IMPRECISE_NOTES = (LOCATION_DEFAULT_GEOCODE, LOCATION_SHARED_POINT, LOCATION_COARSE,
                   LOCATION_OUTSIDE, LOCATION_AREA_CENTRE)
DISAGREEMENT_NOTES = (LOCATION_DISAGREES, LOCATION_OUTSIDE)

URGENCY_NORMAL = "一般"
URGENCY_URGENT = "紧急"


class Area(Base):
    """One node of the grid hierarchy: district, street/town, community or unit grid."""

    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    level: Mapped[str] = mapped_column(String(16), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    geometry: Mapped[str] = mapped_column(Text, doc="GeoJSON geometry (WGS-84), as text")
    center_lat: Mapped[float] = mapped_column(Float)
    center_lon: Mapped[float] = mapped_column(Float)
    area_m2: Mapped[float] = mapped_column(Float, default=0.0)
    # Roster: filled for grids (网格长, 网格员, 包抓单位, 包抓领导); streets and communities
    # keep their own leader (二级/三级网格长) in ``leader``.
    leader: Mapped[str | None] = mapped_column(String(32))
    leader_phone: Mapped[str | None] = mapped_column(String(20))
    workers: Mapped[str | None] = mapped_column(Text, doc="网格员 names, separated by '、'")
    responsible_unit: Mapped[str | None] = mapped_column(String(64))
    unit_leader: Mapped[str | None] = mapped_column(String(32))

    derived: Mapped[bool] = mapped_column(
        Boolean, default=False,
        doc="made by the importer for a level the city lacks: one child with its parent's outline",
    )

    parent: Mapped[Area | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"Area({self.code!r}, {self.name!r}, {self.level})"


class Department(Base):
    """A department cases are dispatched to (专业部门), or a street itself (属地)."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Widths take real department names (承办单位 strings run long); imported departments get
    # a generated code ("<source>:<hash>"), hence 64.
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="专业部门")

    def __repr__(self) -> str:
        return f"Department({self.code!r}, {self.name!r})"


class Category(Base):
    """A minor class (小类) of 部件 or 事件, with its major class and handling time limits.

    Deadlines are data, not code: each minor class carries its limit in working hours for a
    normal and an urgent case, as the city's 立案结案标准 sets them.
    """

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Real type names run past 100 characters (311 service names); imported categories get a
    # generated code ("<source>:<hash>"). Widths hold on PostgreSQL, not only on SQLite.
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(8), doc="部件 or 事件")
    major: Mapped[str] = mapped_column(String(255), doc="大类")
    minor: Mapped[str] = mapped_column(String(255), doc="小类")
    element: Mapped[str] = mapped_column(String(8),
                                         doc="八要素: 道路 建筑 车辆 绿植 环卫 市政 亮灯 水系")
    limit_hours: Mapped[float] = mapped_column(Float, doc="处置时限, working hours, normal case")
    urgent_limit_hours: Mapped[float] = mapped_column(Float, doc="处置时限, urgent case")
    department_code: Mapped[str | None] = mapped_column(String(64), doc="usual department")

    def __repr__(self) -> str:
        return f"Category({self.code!r}, {self.kind}/{self.major}/{self.minor})"


class Case(Base):
    """A case (案件) with one timestamp per lifecycle stage it reached.

    ``grid_id``, ``community_id`` and ``street_id`` are all stored (they follow from the grid)
    so the indicators group by any level without walking the hierarchy.

    Real data (issue 10) added:

    - ``source_system``: which system a row came from (an import mapping's name, "demo" for
      the generated city). A case is identified by (source_system, external_id): two systems
      may reuse the same number, and re-imports upsert on that pair.
    - ``grid_id`` and ``community_id`` are nullable: a case whose area field names only a
      street and whose point is imprecise keeps its street and nothing below it.
    - ``location_precise`` / ``location_note``: a default geocode, a point shared by a large
      share of the source's cases or coarse coordinates make a location imprecise; such cases
      stay out of spatial repeat detection. The note also records a disagreement between the
      area field and the point (the case stays precise then), for the data-quality page.
    - ``source_raw`` / ``status_raw``: the source's own channel and status strings, kept
      beside the canonical ``source`` and ``status`` the indicators compare with constants.

    Issue 12 added ``section_id``: the 路长 responsibility section (``RoadSection``) whose
    outline holds the point. It is independent of the grid (a case has both); a case whose
    location is imprecise has none, since a default geocode would pile cases on one section.
    """

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_system: Mapped[str] = mapped_column(String(64), default="demo")
    external_id: Mapped[str] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(64))
    source_raw: Mapped[str | None] = mapped_column(Text, doc="the source's own channel string")
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(Text, default="")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    location_precise: Mapped[bool] = mapped_column(Boolean, default=True)
    location_note: Mapped[str | None] = mapped_column(
        String(32), doc="LOCATION_* code: why imprecise, or that the area field disagrees")
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    street_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    section_id: Mapped[int | None] = mapped_column(
        ForeignKey("road_sections.id"), doc="路长 section holding the point (precise points only)")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    status: Mapped[str] = mapped_column(String(8), doc="canonical: one of STATUSES")
    status_raw: Mapped[str | None] = mapped_column(Text, doc="the source's own status string")
    urgency: Mapped[str] = mapped_column(String(4), default=URGENCY_NORMAL)
    severity: Mapped[int] = mapped_column(Integer, default=1, doc="1 minor, 2 serious, 3 grave")
    valid_report: Mapped[bool] = mapped_column(Boolean, default=True, doc="有效上报")

    reported_at: Mapped[datetime] = mapped_column(DateTime)
    registered_at: Mapped[datetime | None] = mapped_column(DateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime)
    handled_at: Mapped[datetime | None] = mapped_column(DateTime, doc="处置完成 (handling done)")
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime)
    deadline_at: Mapped[datetime | None] = mapped_column(
        DateTime, doc="处置时限 in force (after any approved 延期)"
    )
    original_deadline_at: Mapped[datetime | None] = mapped_column(DateTime)

    extended: Mapped[bool] = mapped_column(Boolean, default=False, doc="延期 approved")
    misdispatched: Mapped[bool] = mapped_column(Boolean, default=False, doc="sent back: wrong unit")
    rework_count: Mapped[int] = mapped_column(Integer, default=0, doc="返工 times")
    settled_level: Mapped[str | None] = mapped_column(String(8), doc="grid / street / district")
    repeat_of_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), doc="重复问题 of")
    satisfied: Mapped[bool | None] = mapped_column(Boolean, doc="hotline 回访满意度")
    photo_urls: Mapped[str | None] = mapped_column(
        Text, doc="the source's photo URLs (照片; http/https only), one per line")
    # Change tracking: when the row was last written (UTC), set on every insert and every
    # UPDATE SQLAlchemy sends (default, onupdate), and by the two bulk writers that bypass
    # SQLAlchemy's defaults (ingest/democity.py, the importer's inserts). The kept months re-read
    # only the days of cases written since they last looked (queries/kept_months.py). NULL:
    # written by a tool that does not keep it (a view over a city's platform, SQL by hand).
    updated_at: Mapped[datetime | None] = mapped_column(
        DateTime, nullable=True, default=written_at, onupdate=written_at,
        doc="last write, UTC")

    category: Mapped[Category] = relationship()
    department: Mapped[Department | None] = relationship()
    grid: Mapped[Area | None] = relationship(foreign_keys=[grid_id])

    __table_args__ = (
        UniqueConstraint("source_system", "external_id", name="uq_cases_source_external"),
        Index("ix_cases_status", "status"),
        Index("ix_cases_reported_at", "reported_at"),
        Index("ix_cases_registered_at", "registered_at"),
        # cancelled_at second: "open" (closed_at IS NULL AND cancelled_at IS NULL) is two index
        # conditions, not a walk over every cancelled case (revision 0008).
        Index("ix_cases_closed_at", "closed_at", "cancelled_at"),
        Index("ix_cases_dispatched_at", "dispatched_at"),
        Index("ix_cases_handled_at", "handled_at"),
        Index("ix_cases_category_registered", "category_id", "registered_at"),
        Index("ix_cases_deadline_at", "deadline_at"),
        Index("ix_cases_street_reported", "street_id", "reported_at"),
        Index("ix_cases_grid_id", "grid_id"),
        Index("ix_cases_community_id", "community_id"),
        Index("ix_cases_department_id", "department_id"),
        Index("ix_cases_repeat_of_id", "repeat_of_id"),
        Index("ix_cases_section_id", "section_id"),
        Index("ix_cases_updated_at", "updated_at"),
        # Partial: only the few cancelled cases, so a planner never drives a "not cancelled"
        # test (most WHEREs) through it; "cancelled since" implies NOT NULL and uses it.
        Index("ix_cases_cancelled_at", "cancelled_at",
              sqlite_where=text("cancelled_at IS NOT NULL"),
              postgresql_where=text("cancelled_at IS NOT NULL")),
    )

    def __repr__(self) -> str:
        return f"Case({self.external_id!r}, {self.status})"


class RoadSection(Base):
    """A 路长 responsibility section (责任路段): a stretch of road with its outline and 路长.

    Under 路长制 a unit's head (the 路长) answers for one section and spends an hour a day on
    it; problems found there are closed out (销号) against a time limit. The outline is a
    polygon (a road line buffered in metres when the file gives a line), GeoJSON text like
    ``Area.geometry``. ``source`` and ``code`` identify the section across re-imports.
    """

    __tablename__ = "road_sections"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    road: Mapped[str] = mapped_column(String(64), default="", doc="the road it is a stretch of")
    leader: Mapped[str] = mapped_column(String(32), doc="路长")
    leader_unit: Mapped[str] = mapped_column(String(64), default="", doc="路长's own unit")
    leader_phone: Mapped[str | None] = mapped_column(String(20))
    responsible_unit: Mapped[str] = mapped_column(String(64), default="", doc="责任单位")
    geometry: Mapped[str] = mapped_column(Text, doc="GeoJSON polygon (WGS-84), as text")
    center_lat: Mapped[float] = mapped_column(Float)
    center_lon: Mapped[float] = mapped_column(Float)
    length_m: Mapped[float | None] = mapped_column(Float, doc="road length when given as a line")
    source: Mapped[str] = mapped_column(String(64), default="", doc="importer source name")

    def __repr__(self) -> str:
        return f"RoadSection({self.code!r}, {self.name!r}, 路长 {self.leader})"


class SectionCheckin(Base):
    """One day a 路长 (or a deputy) was on the section, and for how many minutes (到岗记录)."""

    __tablename__ = "section_checkins"

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("road_sections.id"))
    person: Mapped[str] = mapped_column(String(32))
    day: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint("section_id", "day", "person", name="uq_checkin_section_day_person"),
        Index("ix_checkins_day", "day"),
    )

    def __repr__(self) -> str:
        return f"SectionCheckin({self.section_id}, {self.person!r}, {self.day}, {self.minutes})"


class CaseEvent(Base):
    """One step of a case's lifecycle log, so durations can be audited."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    # Indexed: the events since a moment are what changed since then (a refresh that reads
    # only the changes starts here; migration 0002).
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    action: Mapped[str] = mapped_column(String(16),
                                        doc="上报 立案 派遣 处置 延期 返工 核查 结案 作废")
    actor: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(Text, default="")

    def __repr__(self) -> str:
        return f"CaseEvent({self.case_id}, {self.action!r}, {self.at:%Y-%m-%d %H:%M})"


class VolunteerTeam(Base):
    """A volunteer team (志愿服务队), based in a street."""

    __tablename__ = "volunteer_teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    leader: Mapped[str] = mapped_column(String(32))
    founded_on: Mapped[date] = mapped_column(Date)

    def __repr__(self) -> str:
        return f"VolunteerTeam({self.name!r})"


class Volunteer(Base):
    """A registered volunteer."""

    __tablename__ = "volunteers"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("volunteer_teams.id"), index=True)
    name: Mapped[str] = mapped_column(String(32))
    joined_on: Mapped[date] = mapped_column(Date)

    def __repr__(self) -> str:
        return f"Volunteer({self.name!r})"


class VolunteerActivity(Base):
    """One service activity of a team: type, place, time, people and service hours."""

    __tablename__ = "volunteer_activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("volunteer_teams.id"), index=True)
    service_type: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(128))
    grid_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    start_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    end_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    participants: Mapped[int] = mapped_column(Integer)
    service_hours: Mapped[float] = mapped_column(Float, doc="participants × duration, hours")

    def __repr__(self) -> str:
        return f"VolunteerActivity({self.title!r}, {self.start_at:%Y-%m-%d})"


class PointOfInterest(Base):
    """A place on the livelihood maps (民生地图): toilets, convenience points, culture sites.

    ``opening_hours`` is an OSM ``opening_hours`` expression (``Mo-Fr 08:00-18:00; PH off``),
    evaluated with the Chinese working calendar (``queries.opening``). ``source`` and
    ``external_id`` name the record in the file it was imported from, so a re-import updates
    the same row instead of adding a second one. ``free`` and ``paper`` are None when the
    record does not say (shown as 不详, never as "no").
    """

    __tablename__ = "points_of_interest"

    id: Mapped[int] = mapped_column(primary_key=True)
    layer: Mapped[str] = mapped_column(String(16), index=True, doc="toilet / convenience / culture")
    kind: Mapped[str] = mapped_column(String(16),
                                      doc="公厕 菜市场 政务服务 诊所 医院 药店 避难场所 AED …")
    name: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(128))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    grid_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    opening_hours: Mapped[str] = mapped_column(Text, default="24/7", doc="OSM opening_hours")
    accessible: Mapped[bool] = mapped_column(Boolean, default=False, doc="无障碍")
    baby_care: Mapped[bool] = mapped_column(Boolean, default=False, doc="母婴室")
    family_room: Mapped[bool] = mapped_column(Boolean, default=False, doc="第三卫生间")
    free: Mapped[bool | None] = mapped_column(Boolean, doc="免费 (None: not stated)")
    paper: Mapped[bool | None] = mapped_column(Boolean, doc="免费厕纸 (None: not stated)")
    status: Mapped[str] = mapped_column(String(8), default="正常")
    managing_unit: Mapped[str] = mapped_column(String(64), default="")
    phone: Mapped[str | None] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="", doc="简介, shown on the card")
    source: Mapped[str] = mapped_column(String(64), default="", doc="importer source name")
    external_id: Mapped[str | None] = mapped_column(String(64), doc="id in the source file")

    __table_args__ = (
        Index("ux_poi_source_external", "source", "external_id", unique=True),
    )

    def __repr__(self) -> str:
        return f"PointOfInterest({self.layer}/{self.kind}, {self.name!r})"


class PlaceReport(Base):
    """A citizen's report on a place (随手拍 from the public map), linked to the case it became.

    The place reads 报修中 while any linked case is open. ``client`` is a salted hash of the
    reporter's address, kept only to explain rate limiting; the report text lives in the case.
    """

    __tablename__ = "place_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    poi_id: Mapped[int] = mapped_column(ForeignKey("points_of_interest.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    problem: Mapped[str] = mapped_column(String(16), doc="broken / dirty / closed")
    at: Mapped[datetime] = mapped_column(DateTime)
    client: Mapped[str] = mapped_column(String(16), default="")

    def __repr__(self) -> str:
        return f"PlaceReport({self.poi_id}, {self.problem!r}, case {self.case_id})"


class QuarantinedRow(Base):
    """An input row that could not be loaded, kept with the reason so nothing is lost.

    ``reason_code`` is machine-readable (ingest.importer.reasons), ``reason`` the human
    message. A re-import of the same file by the same source deletes the file's rows it reads
    again and re-quarantines only what still fails, so an accepted row leaves quarantine
    (released) and nothing is counted twice.
    """

    __tablename__ = "quarantined_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(255), doc="importer and file")
    source_system: Mapped[str] = mapped_column(String(64), default="")
    file_name: Mapped[str] = mapped_column(Text, default="")
    row_number: Mapped[int | None] = mapped_column(Integer)
    external_id: Mapped[str | None] = mapped_column(String(128))
    reason_code: Mapped[str] = mapped_column(String(32), default="", index=True)
    payload: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (  # what a re-import deletes by: the file's rows, and accepted ids
        Index("ix_quarantine_source_row", "source_system", "row_number"),
        Index("ix_quarantine_source_external", "source_system", "external_id"),
    )

    def __repr__(self) -> str:
        return f"QuarantinedRow({self.source!r}, {self.row_number}, {self.reason!r})"


class ImportWatermark(Base):
    """How far a pulled source (an Open311 endpoint) has been read: its newest updated time.

    The next pull asks for requests updated since ``since`` (minus an overlap), so a restart
    neither loses nor re-reads the whole history.
    """

    __tablename__ = "import_watermarks"

    source_system: Mapped[str] = mapped_column(String(64), primary_key=True)
    since: Mapped[datetime] = mapped_column(DateTime, doc="newest updated_datetime seen (UTC)")
    pulled_at: Mapped[datetime] = mapped_column(DateTime, doc="when the last pull finished")

    def __repr__(self) -> str:
        return f"ImportWatermark({self.source_system!r}, {self.since:%Y-%m-%d %H:%M})"


class AssessmentPublication(Base):
    """A published month of the assessment (综合考核): frozen figures and the rules behind them.

    ``result_json`` holds the whole month as computed when it was published; later changes to
    cases never touch it. ``rules_text`` is the rules file as it was, ``rules_sha256`` its hash.
    """

    __tablename__ = "assessment_publications"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), unique=True, doc="YYYY-MM")
    published_at: Mapped[datetime] = mapped_column(DateTime)
    published_by: Mapped[str] = mapped_column(String(64), default="")
    rules_source: Mapped[str] = mapped_column(String(256), default="", doc="rules file path")
    rules_sha256: Mapped[str] = mapped_column(String(64))
    rules_text: Mapped[str] = mapped_column(Text)
    result_json: Mapped[str] = mapped_column(Text, doc="assessment_to_json of the month")

    def __repr__(self) -> str:
        return f"AssessmentPublication({self.month!r}, {self.published_at:%Y-%m-%d %H:%M})"


class KeptMonth(Base):
    """A finished month's assessment as computed, kept until what it read changes.

    Keyed by month and the sha256 of the rules that produced it; ``inputs`` is the digest of
    everything else it read (queries/kept_months.py says what and how it is checked), and the
    result holds for a clock in (``valid_after``, ``valid_until``]: an open problem turns
    overdue at its deadline with no row changing.
    """

    __tablename__ = "kept_months"
    __table_args__ = (UniqueConstraint("month", "rules_sha256", name="uq_kept_month_rules"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), doc="YYYY-MM")
    rules_sha256: Mapped[str] = mapped_column(String(64))
    inputs: Mapped[str] = mapped_column(String(64), doc="digest of the cases, areas, volunteers")
    valid_after: Mapped[datetime | None] = mapped_column(DateTime)
    valid_until: Mapped[datetime | None] = mapped_column(DateTime)
    computed_at: Mapped[datetime] = mapped_column(DateTime)
    result_json: Mapped[str] = mapped_column(Text, doc="assessment_to_json, no history")


class User(Base):
    """An account that logs in (leader, department head, street manager); no password is kept,
    only its argon2 hash. ``locked_until`` stops logins after repeated failures."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64), default="")
    role: Mapped[str] = mapped_column(String(16), doc="security.identity.ROLES")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), nullable=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), nullable=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    def __repr__(self) -> str:
        return f"User({self.username!r}, {self.role!r})"


class KioskToken(Base):
    """A wall screen's token (大屏令牌): only its SHA-256 is stored; revoking stops it."""

    __tablename__ = "kiosk_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    def __repr__(self) -> str:
        return f"KioskToken({self.name!r})"


class AuditEntry(Base):
    """One security-relevant action: who (``actor``), what, on what, and details."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(120), default="")
    detail: Mapped[str] = mapped_column(Text, default="")


class SupervisionFlag(Base):
    """A leader's 督办 on a case: who flagged it, the note, and when it was cleared.

    A flag is never deleted: clearing stamps ``cleared_at``/``cleared_by``, so the case page
    keeps the whole history. A case is pinned on its department's desk while any flag of it is
    not cleared.
    """

    __tablename__ = "supervision_flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    flagged_by: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime)
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    cleared_by: Mapped[str | None] = mapped_column(String(64), nullable=True)

    def __repr__(self) -> str:
        return f"SupervisionFlag({self.case_id}, {self.flagged_by!r}, {self.at:%Y-%m-%d %H:%M})"


class SharedSnapshot(Base):
    """One area's snapshot as the scheduler process built it, read by every serving worker.

    Under several workers (``gridwatch serve --workers N``) no worker builds: the one scheduler
    writes each watched area here once per interval, and the workers read the small state
    columns often and ``body`` only when ``version`` changed (snapshot/shared.py). A worker
    asks for an area by setting ``requested_at``; an area nobody asked for in a while is
    dropped. Times are UTC wall-clock times (the stale badge), ``built_at`` the city clock.
    """

    __tablename__ = "snapshots"

    area_code: Mapped[str] = mapped_column(String(64), primary_key=True,
                                           doc="'' for the district; code@moment looks back")
    version: Mapped[str | None] = mapped_column(String(16), nullable=True, doc="None: not built")
    built_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    refreshed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True,
                                                          doc="UTC, last good build")
    attempted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True,
                                                          doc="UTC, last build good or failed")
    requested_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True,
                                                          doc="UTC, last time a worker asked")
    error: Mapped[str | None] = mapped_column(Text, nullable=True, doc="the last build's failure")
    unknown: Mapped[bool] = mapped_column(Boolean, default=False, doc="no such area")
    body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True,
                                               doc="gzip of the payload, sections, map layers")
