"""The demo city: a fictional district, 雁湖区, around Xi'an's Bell Tower, with 13 months of data.

``generate`` writes areas and rosters, cases with their lifecycle and event log, volunteer
teams and activities, livelihood-map points and 路长 road sections into an empty database, as a
bulk load: indexes built after the rows, bounded transactions, and a failed run deleted again.
The same seed and ``now`` give the same city; each part draws from its own random stream, so
the map does not change when only the number of cases does.

The pieces the live simulator reuses are importable from here: ``SOURCE_WEIGHTS``,
``CATEGORIES``, ``ensure_reference_data``, ``sample_point_in_grid``, ``make_address``,
``make_description`` and ``WorkClock``.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

import numpy as np
import shapely
from shapely import Polygon
from sqlalchemy import (
    Connection,
    Engine,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from tqdm import tqdm

from ingest import lifecycle as lc
from ingest import names
from ingest.geometry import (
    GRID_SIZE,
    LocalFrame,
    district_outline,
    label_point,
    points_in,
    row_major,
    sample_point_in_grid,
    snap_partition,
    to_geojson,
    voronoi_split,
)
from ingest.lifecycle import FAR, WorkClock
from ingest.names import make_address, make_description
from ingest.reference import (
    CATEGORIES,
    DEPARTMENTS,
    KIND_LOCAL,
    SEASONS,
    SERVICE_TYPES,
    SOURCE_WEIGHTS,
    ensure_reference_data,
    local_department_code,
)
from ingest.sections_demo import build_sections, checkin_rows
from ingest.spatial import SectionLocator
from queries.models import (
    LEVEL_COMMUNITY,
    LEVEL_DISTRICT,
    LEVEL_GRID,
    LEVEL_STREET,
    SETTLED_LEVELS,
    SOURCE_HOTLINE,
    SOURCE_LEADER,
    SOURCE_PATROL,
    SOURCE_PHOTO,
    SOURCE_VIDEO,
    STATUS_CANCELLED,
    STATUS_CLOSED,
    STATUS_DISPATCHED,
    STATUS_HANDLING,
    STATUS_REGISTERED,
    STATUS_REPORTED,
    STATUS_VERIFYING,
    URGENCY_NORMAL,
    URGENCY_URGENT,
    Area,
    Case,
    CaseEvent,
    Category,
    Department,
    PointOfInterest,
    RoadSection,
    SectionCheckin,
    Volunteer,
    VolunteerActivity,
    VolunteerTeam,
    written_at,
)
from queries.repeats import find_repeats
from queries.rules import load_rules
from queries.workcalendar import WorkCalendar, default_calendar

__all__ = [
    "CATEGORIES", "SOURCE_WEIGHTS", "GenerateSummary", "WorkClock", "ensure_reference_data",
    "generate", "make_address", "make_description", "sample_point_in_grid",
]

log = logging.getLogger(__name__)

DISTRICT_NAME = "雁湖区"
DISTRICT_CODE = "610120"
# The demo city's codes nest as GB/T 30428 numbers them (district 6 digits, street +3,
# community +3, grid +2). Only the demo relies on that: Gridwatch reads the hierarchy from
# Area.parent_id, and a real city's codes are opaque.
CODE_LENGTH = {"district": 6, "street": 9, "community": 12, "grid": 14}
CENTRE = (34.2610, 108.9423)  # Xi'an Bell Tower (lat, lon): the district's centroid
CHUNK = 20_000  # cases per bulk insert, each chunk with its events one transaction
MONTHS = 13

# Lifecycle shares and stage durations: ingest.lifecycle (shared with the simulator).
P_URGENT = 0.08
P_REPEAT = 0.05
P_SATISFIED = 0.9
# Settled at grid / street / district, for problems a street settles itself and for the rest.
SETTLED_P = {True: (0.80, 0.18, 0.02), False: (0.33, 0.37, 0.30)}
YEAR_SHAPE = np.array(SEASONS["summer"]) ** 0.4  # a little busier in summer overall
STREET_WOBBLE_SD = 0.2  # a street's month-to-month swing in volume (log scale)
STREET_WOBBLE_RHO = 0.5  # and how much of it carries into the next month
STREET_LEVEL_PULL = 0.5  # share of the gap in per-grid volume between urban streets closed
REPEAT_RADIUS_M = 40.0  # repeats are placed within this of the first case (rule: 50 m)
REPEAT_DAYS = 29.5  # and this many days after it (rule: 30 days)
P_REPEAT_SAME_DAY = 0.25  # of repeats: reported again within hours of the first
REPEAT_SAME_DAY_S = (600, 8 * 3600)

# Who appears as the reporter of a case, by source (a patrol report names the officer).
REPORTERS = {SOURCE_PATROL: "", SOURCE_HOTLINE: "12345热线", SOURCE_PHOTO: "市民随手拍",
             SOURCE_VIDEO: "视频智能识别", SOURCE_LEADER: "区领导交办"}
# Why an invalid report was cancelled (作废).
INVALID_REASONS = np.array(["重复上报", "不属于受理范围", "信息不实", "现场已自行处置"],
                           dtype=object)


@dataclass(frozen=True)
class GenerateSummary:
    """What ``generate`` wrote, and how long it took."""

    areas: int
    departments: int
    categories: int
    cases: int
    case_events: int
    volunteer_teams: int
    volunteers: int
    activities: int
    pois: int
    sections: int
    seconds: float


def generate(engine: Engine, *, cases: int = 150_000, seed: int = 42, now: datetime | None = None,
             progress: bool = False, calendar: WorkCalendar | None = None,
             bulk: bool = True) -> GenerateSummary:
    """Build the demo city into an empty, initialised database (init_db already run).

    ``bulk`` loads the way a bulk load should: the case tables' secondary indexes are dropped
    while the tables fill and built once at the end (keeping 18 indexes current row by row
    cost most of the load), and each chunk of cases with its events is its own transaction, so
    PostgreSQL's WAL and SQLite's journal stay bounded. A failure (Ctrl+C included) deletes what
    was written, so the next run finds the database as empty as before. ``bulk=False`` writes
    the city in one transaction with the indexes live: the benchmark's baseline. Both write
    the same rows.
    """
    if cases < 0:
        raise ValueError(f"cases must be zero or more, not {cases}")
    began = time.perf_counter()
    now = (now or datetime.now()).replace(microsecond=0)
    calendar = calendar or default_calendar()
    with engine.connect() as conn:
        held = conn.scalar(select(func.count()).select_from(Area.__table__))
        if held:
            raise ValueError(f"the database already holds {held} areas: the demo city is "
                             "generated into an empty database only")
        if not bulk:
            summary = _write_city(conn, cases, seed, now, calendar, progress, lambda: None)
            conn.commit()
            return replace(summary, seconds=round(time.perf_counter() - began, 2))
        first_ids = {table: _next_id(conn, table) for table in WRITTEN}
        for index in DEFERRED_INDEXES:
            index.drop(conn, checkfirst=True)
        conn.commit()
        with _loading(conn):
            try:
                summary = _write_city(conn, cases, seed, now, calendar, progress, conn.commit)
                conn.commit()
            except BaseException:
                conn.rollback()
                _delete_written(conn, first_ids)
                raise
            finally:
                for index in DEFERRED_INDEXES:
                    index.create(conn, checkfirst=True)
                conn.commit()
        if conn.dialect.name == "postgresql":
            # Statistics of the rows as written: autovacuum's last look was mid-load, and the
            # repeat count of the month (registered in it, repeating) was planned as a walk of
            # every repeat link, 48.6 ms vs 1.8 ms once analysed at 200,000 cases (1.0 s).
            conn.execute(text("ANALYZE " + ", ".join(table.name for table in WRITTEN)))
            conn.commit()
    summary = replace(summary, seconds=round(time.perf_counter() - began, 2))
    log.info("demo city generated: %s", summary)
    return summary


# The tables ``generate`` writes, children before parents (the order a failed run deletes in).
WRITTEN: tuple[Table, ...] = tuple(model.__table__ for model in (
    CaseEvent, Case, SectionCheckin, RoadSection, VolunteerActivity, Volunteer, VolunteerTeam,
    PointOfInterest, Area, Category, Department))
# The secondary indexes of the two big tables, built after the bulk load.
DEFERRED_INDEXES = tuple(sorted((*Case.__table__.indexes, *CaseEvent.__table__.indexes),
                                key=lambda index: str(index.name)))


# SQLite settings of the loading connection, its own (the app's connections keep theirs),
# restored after the load:
# - foreign_keys off: the generator writes only ids it has just written (the one-transaction
#   way, with the checks on, writes the same rows); each case checked 7 parents, each event 1;
# - synchronous off: no flush to disk at each chunk's commit. A crash of the process is
#   still safe (the failed run is rolled back or deleted); a crash of the machine mid-load
#   may leave the file unusable: delete it and generate again.
LOAD_PRAGMAS = {"foreign_keys": "OFF", "synchronous": "OFF"}


@contextmanager
def _loading(conn: Connection) -> Iterator[None]:
    """Load through ``conn`` with ``LOAD_PRAGMAS`` and a rollback journal, then put back its
    own settings and WAL."""
    if conn.dialect.name != "sqlite":
        yield
        return
    kept = {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in LOAD_PRAGMAS}
    for name, value in LOAD_PRAGMAS.items():
        conn.exec_driver_sql(f"PRAGMA {name}={value}")
    journal = _leave_wal(conn)
    conn.commit()
    try:
        yield
    finally:
        if journal:
            conn.exec_driver_sql(f"PRAGMA journal_mode={journal}")
        for name, own in kept.items():
            conn.exec_driver_sql(f"PRAGMA {name}={own}")
        conn.commit()


def _leave_wal(conn: Connection) -> str | None:
    """Switch a WAL database to a rollback journal for the load; return the mode to put back.

    In WAL every page is written twice (the log, then the checkpoint into the file): at a
    million cases 3 GB of writes instead of 1.5; a run took 66 s for 52 s of CPU in WAL,
    52 s for 51 s with the journal (2026-12-04, the rest waiting on the disk). A rollback
    journal records only pages that held data before the transaction, and a load appends
    new pages, so it stays small, and a failed chunk still rolls back. Leaving WAL needs the
    only open connection to the file: with another one open the switch is refused at once
    (no busy wait) and the load stays in WAL.
    """
    mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
    if mode != "wal":
        return None
    wait = conn.exec_driver_sql("PRAGMA busy_timeout").scalar()
    conn.exec_driver_sql("PRAGMA busy_timeout=0")
    try:
        switched = conn.exec_driver_sql("PRAGMA journal_mode=DELETE").scalar()
    except OperationalError:
        conn.rollback()
        switched = mode
    finally:
        conn.exec_driver_sql(f"PRAGMA busy_timeout={wait}")
    return str(mode) if switched != mode else None


def _write_city(conn: Connection, cases: int, seed: int, now: datetime, calendar: WorkCalendar,
                progress: bool, commit: Callable[[], None]) -> GenerateSummary:
    """Write every part of the city through ``conn``; ``commit`` ends a bounded transaction."""
    # Streams 0-4 as before; stream 5 (added later) draws the streets' month-to-month wobble
    # and stream 6 the 路长 sections, so the map, the rosters and the volunteers stay what they
    # were for a seed.
    geo, roster, case_rng, volunteer_rng, map_rng, wobble_rng, section_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(7)
    )
    if not conn.in_transaction():
        conn.begin()  # the session below joins this transaction instead of rolling back its own
    with Session(bind=conn) as session:
        ensure_reference_data(session)
    city = _build_city(geo, roster, _next_id(conn, Area.__table__))
    conn.execute(insert(Area), city.rows)
    conn.execute(insert(Department), [
        {"code": local_department_code(code), "name": name, "kind": KIND_LOCAL}
        for code, name in zip(city.street_code, city.street_name)
    ])
    sections = _write_sections(conn, section_rng, city, now)
    commit()
    wobble = _street_wobble(wobble_rng, city, now)
    n_events = _write_cases(conn, case_rng, city, cases, now, calendar, progress, wobble,
                            sections, commit)
    n_teams, n_volunteers, n_activities = _write_volunteers(conn, volunteer_rng, city, now,
                                                            calendar)
    n_pois = _write_map_points(conn, map_rng, city)
    _advance_sequences(conn, (Area.__table__, Case.__table__, VolunteerTeam.__table__,
                              RoadSection.__table__))
    return GenerateSummary(
        areas=len(city.rows),
        departments=conn.scalar(select(func.count()).select_from(Department.__table__)) or 0,
        categories=conn.scalar(select(func.count()).select_from(Category.__table__)) or 0,
        cases=cases, case_events=n_events, volunteer_teams=n_teams, volunteers=n_volunteers,
        activities=n_activities, pois=n_pois, sections=len(sections), seconds=0.0,
    )


def _delete_written(conn: Connection, first_ids: dict[Table, int]) -> None:
    """Delete the rows a failed bulk run committed (ids from ``first_ids`` on)."""
    cases = Case.__table__
    conn.execute(update(cases).where(cases.c.id >= first_ids[cases]).values(repeat_of_id=None))
    for table in WRITTEN:
        conn.execute(delete(table).where(table.c.id >= first_ids[table]))
    conn.commit()


# --- areas ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class City:
    """The built areas, with what the case, volunteer and map writers need to place things."""

    rows: list[dict]
    frame: LocalFrame
    grids: list[Polygon]
    grid_id: np.ndarray
    grid_community: np.ndarray  # index of each grid's community
    grid_weight: np.ndarray  # each grid's share of the city's activity (sums to 1)
    community_id: np.ndarray
    community_name: list[str]
    community_street: np.ndarray  # index of each community's street
    street_id: np.ndarray
    street_name: list[str]
    street_code: list[str]
    supervisors: list[list[str]]  # 监督员 of each street

    @property
    def grid_street(self) -> np.ndarray:
        """Index of each grid's street."""
        return self.community_street[self.grid_community]


def _build_city(geo: np.random.Generator, roster: np.random.Generator, first_id: int) -> City:
    """Draw the district, cut it into streets, communities and grids, name and staff them."""
    frame = LocalFrame(*CENTRE)
    outline = district_outline(geo, geo.uniform(28e6, 32e6))
    n_communities, n_grids = int(geo.integers(56, 65)), int(geo.integers(480, 521))
    streets = voronoi_split(geo, outline, len(names.STREET_NAMES) + len(names.TOWN_NAMES))
    communities, community_parent = _split_all(geo, streets, n_communities, minimum=3)
    grids, grid_parent = _split_all(geo, communities, n_grids, minimum=4)
    levels = snap_partition(
        frame.to_lonlat(outline),
        [list(frame.to_lonlat(np.array(level, dtype=object)))
         for level in (streets, communities, grids)],
        [np.zeros(len(streets), dtype=int), community_parent, grid_parent],
    )
    # Number every level row-major inside its parent, then keep everything in code order.
    s_order = _numbering(levels[0], np.zeros(len(streets), dtype=int), 1)
    s_rank = _rank(s_order)
    c_order = _numbering(levels[1], s_rank[community_parent], len(streets))
    c_rank = _rank(c_order)
    g_order = _numbering(levels[2], c_rank[grid_parent], len(communities))
    s_polys = [levels[0][i] for i in s_order]
    c_polys = [levels[1][i] for i in c_order]
    g_polys = [levels[2][i] for i in g_order]
    c_street = s_rank[community_parent][c_order]
    g_community = c_rank[grid_parent][g_order]

    district = shapely.union_all(s_polys, grid_size=GRID_SIZE)
    s_points = [label_point(p) for p in s_polys]
    s_names = _street_names(frame, np.array([p[0] for p in s_points]),
                            np.array([p[1] for p in s_points]))
    c_names = _community_names(geo, s_names, c_street)

    district_id = first_id
    s_ids = district_id + 1 + np.arange(len(s_polys))
    c_ids = s_ids[-1] + 1 + np.arange(len(c_polys))
    g_ids = c_ids[-1] + 1 + np.arange(len(g_polys))
    rows = [_area_row(district_id, DISTRICT_CODE, DISTRICT_NAME, LEVEL_DISTRICT, None, district,
                      frame, leader=names.person_names(roster, 1)[0])]
    s_codes = [f"{DISTRICT_CODE}{k + 1:03d}" for k in range(len(s_polys))]
    for k, (poly, leader) in enumerate(zip(s_polys, names.person_names(roster, len(s_polys)))):
        rows.append(_area_row(int(s_ids[k]), s_codes[k], s_names[k], LEVEL_STREET, district_id,
                              poly, frame, leader=leader))
    c_codes = []
    for k, (poly, leader) in enumerate(zip(c_polys, names.person_names(roster, len(c_polys)))):
        s = int(c_street[k])
        c_codes.append(f"{s_codes[s]}{int(np.sum(c_street[:k] == s)) + 1:03d}")
        rows.append(_area_row(int(c_ids[k]), c_codes[k], c_names[k], LEVEL_COMMUNITY,
                              int(s_ids[s]), poly, frame, leader=leader))
    rows += _grid_rows(roster, g_polys, g_ids, g_community, c_codes, c_names, c_ids,
                       c_street, frame)
    g_lat = np.array([r["center_lat"] for r in rows[-len(g_polys):]])
    g_lon = np.array([r["center_lon"] for r in rows[-len(g_polys):]])
    g_area = np.array([r["area_m2"] for r in rows[-len(g_polys):]])
    # Busier in the old centre, quieter in the towns, with some grids simply livelier.
    is_town = np.array([n in names.TOWN_NAMES for n in s_names])[c_street[g_community]]
    density = (np.exp(-frame.from_origin_m(g_lat, g_lon) / 2500.0)
               * geo.lognormal(0.0, 0.45, len(g_polys)) * np.where(is_town, 0.55, 1.0))
    weight = density * g_area
    supervisors = names.person_names(roster, 5 * len(s_polys))
    return City(
        rows=rows, frame=frame, grids=g_polys, grid_id=g_ids, grid_community=g_community,
        grid_weight=weight / weight.sum(), community_id=c_ids, community_name=c_names,
        community_street=c_street, street_id=s_ids, street_name=s_names, street_code=s_codes,
        supervisors=[supervisors[5 * k:5 * k + 5] for k in range(len(s_polys))],
    )


def _split_all(rng: np.random.Generator, parents: list, total: int,
               minimum: int) -> tuple[list, np.ndarray]:
    """Cut each parent into children, ``total`` in all, shared out by area."""
    counts = _allocate(np.array([p.area for p in parents]), total, minimum)
    children: list = []
    parent_of: list[int] = []
    for k, (parent, count) in enumerate(zip(parents, counts)):
        cells = voronoi_split(rng, parent, int(count))
        children += cells
        parent_of += [k] * len(cells)
    return children, np.array(parent_of)


def _allocate(weights: np.ndarray, total: int, minimum: int) -> np.ndarray:
    """Share ``total`` out in proportion to ``weights``, at least ``minimum`` each."""
    base = np.full(len(weights), minimum)
    share = weights / weights.sum() * (total - base.sum())
    whole = np.floor(share).astype(int)
    whole[np.argsort(-(share - whole), kind="stable")[: total - base.sum() - whole.sum()]] += 1
    return base + whole


def _numbering(polys: list[Polygon], parent_of: np.ndarray, n_parents: int) -> np.ndarray:
    """Return the cells in code order: by parent, then row-major within the parent."""
    centres = shapely.centroid(np.array(polys, dtype=object))
    lat, lon = shapely.get_y(centres), shapely.get_x(centres)
    order = []
    for p in range(n_parents):
        members = np.flatnonzero(parent_of == p)
        order.append(members[row_major(lat[members], lon[members])])
    return np.concatenate(order)


def _rank(order: np.ndarray) -> np.ndarray:
    rank = np.empty(len(order), dtype=int)
    rank[order] = np.arange(len(order))
    return rank


def _street_names(frame: LocalFrame, lat: np.ndarray, lon: np.ndarray) -> list[str]:
    """Name streets: the two outermost are towns; 北关 goes north, 西湖 west, and so on."""
    dist = frame.from_origin_m(lat, lon)
    result = [""] * len(lat)
    for k, town in zip(sorted(np.argsort(-dist)[: len(names.TOWN_NAMES)]), names.TOWN_NAMES):
        result[k] = town
    score = {"north": lat, "south": -lat, "east": lon, "west": -lon, "centre": -dist}
    for name in names.STREET_NAMES:
        free = [k for k in range(len(lat)) if not result[k]]
        side = names.STREET_SIDES.get(name)
        result[free[int(np.argmax(score[side][free]))] if side else free[0]] = name
    return result


def _community_names(rng: np.random.Generator, street_names: list[str],
                     community_street: np.ndarray) -> list[str]:
    """Name communities; in a town the first is the town seat's 社区, the rest mostly 村."""
    urban = iter([names.COMMUNITY_NAMES[i] for i in rng.permutation(len(names.COMMUNITY_NAMES))])
    villages = iter([names.VILLAGE_NAMES[i] for i in rng.permutation(len(names.VILLAGE_NAMES))])
    result: list[str] = []
    for k, s in enumerate(community_street.tolist()):
        street = street_names[s]
        first_in_street = k == 0 or community_street[k - 1] != s
        if street in names.TOWN_NAMES and first_in_street:
            result.append(street[:-1] + "社区")
        elif street in names.TOWN_NAMES:
            result.append(next(villages, None) or next(urban))
        else:
            result.append(next(urban))
    return result


def _grid_rows(rng: np.random.Generator, polys: list[Polygon], ids: np.ndarray,
               community: np.ndarray, c_codes: list[str], c_names: list[str], c_ids: np.ndarray,
               c_street: np.ndarray, frame: LocalFrame) -> list[dict]:
    """Area rows of the unit grids, with their roster (网格长, 网格员, 包抓单位, 包抓领导)."""
    n_streets = int(c_street.max()) + 1
    units = np.array_split(rng.permutation(len(names.UNITS)), n_streets)
    unit_leader = dict(zip(range(len(names.UNITS)), names.person_names(rng, len(names.UNITS))))
    leaders = names.person_names(rng, len(polys))
    phones = names.phone_numbers(rng, len(polys))
    n_workers = rng.integers(2, 5, len(polys))
    workers = names.person_names(rng, int(n_workers.sum()))
    bounds = np.concatenate(([0], np.cumsum(n_workers)))
    rows = []
    for k, poly in enumerate(polys):
        c = int(community[k])
        number = int(np.sum(community[:k] == c)) + 1
        unit = int(rng.choice(units[int(c_street[c])]))
        rows.append(_area_row(
            int(ids[k]), f"{c_codes[c]}{number:02d}", f"{c_names[c]}{number:02d}网格", LEVEL_GRID,
            int(c_ids[c]), poly, frame, leader=leaders[k], leader_phone=phones[k],
            workers="、".join(workers[bounds[k]:bounds[k + 1]]),
            responsible_unit=names.UNITS[unit], unit_leader=unit_leader[unit],
        ))
    return rows


def _area_row(area_id: int, code: str, name: str, level: str, parent_id: int | None,
              poly: Polygon, frame: LocalFrame, **roster: str) -> dict:
    lat, lon = label_point(poly)
    return {
        "id": area_id, "code": code, "name": name, "level": level, "parent_id": parent_id,
        "geometry": to_geojson(poly), "center_lat": lat, "center_lon": lon,
        "area_m2": round(frame.area_m2(poly), 1), "leader": roster.get("leader"),
        "leader_phone": roster.get("leader_phone"), "workers": roster.get("workers"),
        "responsible_unit": roster.get("responsible_unit"),
        "unit_leader": roster.get("unit_leader"),
    }


# --- working time ---------------------------------------------------------------------------


_seconds = lc.seconds_of


def _datetimes(seconds: np.ndarray) -> list[datetime | None]:
    """Convert epoch seconds to naive datetimes; ``FAR`` (never) becomes None."""
    seconds = np.asarray(seconds, dtype=np.int64)
    never = seconds >= FAR
    values = (np.datetime64("1970-01-01T00:00:00", "s")
              + np.where(never, 0, seconds).astype("timedelta64[s]")).astype(object)
    values[never] = None
    return values.tolist()


def _months_before(moment: datetime, months: int) -> datetime:
    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    first_of_next = date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    day = min(moment.day, (first_of_next - timedelta(days=1)).day)
    return moment.replace(year=year, month=month + 1, day=day)


# --- cases ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Categories:
    """The categories in the database, as arrays, joined with their reference specs."""

    id: np.ndarray
    minor: list[str]
    limit: np.ndarray
    urgent_limit: np.ndarray
    department: list[str]
    weight: np.ndarray
    season: np.ndarray  # (categories, 12)
    local: np.ndarray


def _load_categories(conn: Connection) -> _Categories:
    specs = {c.code: c for c in CATEGORIES}
    table = Category.__table__
    rows = [r for r in conn.execute(select(table).order_by(table.c.code)).mappings()
            if r["code"] in specs]
    return _Categories(
        id=np.array([r["id"] for r in rows]),
        minor=[r["minor"] for r in rows],
        limit=np.array([r["limit_hours"] for r in rows]),
        urgent_limit=np.array([r["urgent_limit_hours"] for r in rows]),
        department=[r["department_code"] or specs[r["code"]].department_code for r in rows],
        weight=np.array([specs[r["code"]].weight for r in rows]),
        season=np.array([SEASONS[specs[r["code"]].season] for r in rows]),
        local=np.array([specs[r["code"]].local for r in rows]),
    )


def _write_sections(conn: Connection, rng: np.random.Generator, city: City,
                    now: datetime) -> SectionLocator:
    """Write the 路长 sections and their check-ins; return the locator cases are placed with."""
    district = shapely.from_geojson(city.rows[0]["geometry"])
    streets = [(row["name"], shapely.from_geojson(row["geometry"])) for row in city.rows
               if row["level"] == LEVEL_STREET]
    demo = build_sections(rng, city.frame, district, streets, _next_id(conn, RoadSection.__table__))
    conn.execute(insert(RoadSection), demo.rows)
    checkins = checkin_rows(rng, demo.rows, _months_before(now, MONTHS).date(), now)
    for lo in range(0, len(checkins), CHUNK):
        conn.execute(insert(SectionCheckin), checkins[lo:lo + CHUNK])
    # The stored (six-decimal) outlines, so a later re-assignment gives the same answer.
    return SectionLocator([r["id"] for r in demo.rows], [r["code"] for r in demo.rows],
                          [shapely.from_geojson(r["geometry"]) for r in demo.rows])


def _write_cases(conn: Connection, rng: np.random.Generator, city: City, n: int, now: datetime,
                 calendar: WorkCalendar, progress: bool, wobble: dict[int, np.ndarray],
                 sections: SectionLocator, commit: Callable[[], None]) -> int:
    """Draw ``n`` cases over the 13 months before ``now`` and write them with their events,
    calling ``commit`` after each chunk."""
    cats = _load_categories(conn)
    departments = {r.code: (r.id, r.name) for r in conn.execute(select(Department.__table__))}
    start, now_s = _months_before(now, MONTHS), _seconds(now)
    reported = _report_times(rng, n, start, now, calendar, cats)
    # Each month has its own mix: more 积水 in July, 积雪 in January.
    category = _draw_by_month(rng, _month_index(reported), cats.weight[:, None] * cats.season)
    grid = _draw_grids(rng, city, reported, wobble)
    lat, lon = _points_by_grid(rng, city.grids, grid)
    _place_repeats(rng, reported, category, grid, lat, lon, city, now_s)

    order = np.argsort(reported, kind="stable")
    reported, category, grid, lat, lon = (a[order] for a in (reported, category, grid, lat, lon))
    first_id = _next_id(conn, Case.__table__)
    case_id = first_id + np.arange(n)

    urgent = rng.random(n) < P_URGENT
    limit = np.where(urgent, cats.urgent_limit[category], cats.limit[category])
    # Late handling and two 返工 rounds end within about five limits of dispatch; the table
    # covers six, in calendar days with weekends and a long holiday or two.
    horizon = int(6 * limit.max(initial=0) / calendar.hours_per_day * 7 / 5) + 30
    clock = WorkClock(calendar, start.date() - timedelta(days=1),
                      now.date() + timedelta(days=horizon))
    life = _Lifecycle(rng, reported, limit, clock, now_s)
    repeat_of = _repeat_links(case_id, category, lat, lon, life, now_s)

    source = rng.choice(len(SOURCE_WEIGHTS), size=n, p=list(SOURCE_WEIGHTS.values()))
    hotline = source == list(SOURCE_WEIGHTS).index(SOURCE_HOTLINE)
    community = city.grid_community[grid]
    street = city.community_street[community]
    local = cats.local[category]
    level = np.where(local, rng.choice(3, size=n, p=SETTLED_P[True]),
                     rng.choice(3, size=n, p=SETTLED_P[False]))
    to_street = local & (level == 1)  # settled by the street itself: its 属地 department
    usual = np.array([departments[code][0] for code in cats.department])[category]
    local_ids = np.array([departments[local_department_code(c)][0] for c in city.street_code])
    department = np.where(to_street, local_ids[street], usual)
    dept_name = {dept_id: name for dept_id, name in departments.values()}

    columns: dict[str, np.ndarray] = {
        "id": case_id,
        "source_system": np.full(n, "demo", dtype=object),
        "external_id": _external_ids(reported),
        "source": np.array(list(SOURCE_WEIGHTS), dtype=object)[source],
        "category_id": cats.id[category],
        "description": np.array(names.make_descriptions(rng, [cats.minor[c] for c in category]),
                                dtype=object),
        "address": np.array(names.make_addresses(rng, [city.street_name[s] for s in street],
                                                 [city.community_name[c] for c in community]),
                            dtype=object),
        "lat": lat, "lon": lon, "location_precise": np.ones(n, dtype=bool),
        "section_id": np.array(sections.locate_many(lon, lat), dtype=object),
        "grid_id": city.grid_id[grid], "community_id": city.community_id[community],
        "street_id": city.street_id[street],
        "department_id": np.where(life.dispatched <= now_s, department, -1),
        "status": life.status,
        "urgency": np.where(urgent, URGENCY_URGENT, URGENCY_NORMAL).astype(object),
        "severity": np.where(urgent, rng.choice([2, 3], size=n, p=[0.6, 0.4]),
                             rng.choice([1, 2, 3], size=n, p=[0.78, 0.19, 0.03])),
        "valid_report": ~life.invalid,
        "reported_at": reported,
        "registered_at": life.shown(life.registered),
        "dispatched_at": life.shown(life.dispatched),
        "handled_at": life.shown(life.handled),
        "closed_at": life.shown(life.closed),
        "cancelled_at": life.shown(life.cancelled),
        "deadline_at": life.deadline,
        "original_deadline_at": np.where(life.extended, life.first_deadline, FAR),
        "extended": life.extended,
        "misdispatched": life.misdispatch <= now_s,
        "rework_count": life.reworks_done,
        "settled_level": _nullable(np.array(SETTLED_LEVELS, dtype=object)[level],
                                   life.handled <= now_s),
        # A repeat is written with its link when its origin is inserted before it; the few
        # registered earlier but reported (so inserted) later are linked once both exist.
        "repeat_of_id": np.where(repeat_of < case_id, repeat_of, -1),
        "satisfied": _nullable(rng.random(n) < P_SATISFIED, hotline & (life.closed <= now_s)),
        # The driver's executemany skips SQLAlchemy's defaults: the write time, stamped here.
        "updated_at": np.full(n, _seconds(written_at()), dtype=np.int64),
    }
    reporter, checker = _reporters(rng, source, street, city)
    actors = {
        "reporter": reporter, "checker": checker,
        "department": np.array([dept_name[d] for d in department.tolist()], dtype=object),
        "wrong": _wrong_departments(rng, usual, departments),
    }
    bar = tqdm(total=n, unit="件", desc="案件", disable=not progress, mininterval=0.5)
    events = 0
    for lo in range(0, n, CHUNK):
        part = slice(lo, min(n, lo + CHUNK))
        _insert_columns(conn, Case.__table__, _driver_values(conn, columns, part))
        event_columns = _event_columns(conn, part, columns, life, actors)
        _insert_columns(conn, CaseEvent.__table__, event_columns)
        events += len(event_columns["case_id"])
        commit()
        bar.update(part.stop - part.start)
    bar.close()
    linked = np.flatnonzero(repeat_of > case_id)
    if len(linked):
        conn.execute(update(Case.__table__).where(Case.__table__.c.id == bindparam("case"))
                     .values(repeat_of_id=bindparam("origin")),
                     [{"case": int(c), "origin": int(o)}
                      for c, o in zip(case_id[linked], repeat_of[linked])])
        commit()
    return events


def _report_times(rng: np.random.Generator, n: int, start: datetime, now: datetime,
                  calendar: WorkCalendar, cats: _Categories) -> np.ndarray:
    """Draw report times (epoch seconds): fewer on rest days and at night, more in summer."""
    now_s, start_s = _seconds(now), _seconds(start)
    bins = np.arange(start_s - start_s % 3600, now_s, 3600, dtype=np.int64)  # whole hours
    low = np.maximum(bins, start_s)
    length = np.minimum(bins + 3600, now_s) - low
    weight = lc.arrival_weight(bins, calendar, month_volume(cats)) * length / 3600
    pick = rng.choice(len(bins), size=n, p=weight / weight.sum())
    return low[pick] + (rng.random(n) * length[pick]).astype(np.int64)


def month_volume(cats: _Categories) -> np.ndarray:
    """Twelve monthly factors of the whole city's volume (its mix of seasonal categories)."""
    return (cats.weight @ cats.season) * YEAR_SHAPE


def _month_serial(seconds: np.ndarray) -> np.ndarray:
    """Months since January 1970 of epoch seconds (each month of the 13 its own number)."""
    return np.asarray(seconds).astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)


def _street_wobble(rng: np.random.Generator, city: City, now: datetime) -> dict[int, np.ndarray]:
    """Return each month's factor on each street's share of the cases (month serial → factors).

    A real ranking moves: a street has a bad month (a market street in the summer, a works
    site), recovers, slips again. Each street's log factor is an AR(1) series over the months
    (``STREET_WOBBLE_RHO``, ``STREET_WOBBLE_SD``), and the urban streets' per-grid volumes are
    pulled part of the way to their common level (``STREET_LEVEL_PULL``): the score is a
    per-grid deduction, and the raw density of the old centre would pin the same two streets
    to the bottom every month. The towns stay quieter; the monthly total is unchanged.
    """
    grid_street = city.grid_street
    n_streets = len(city.street_name)
    per_grid = (np.bincount(grid_street, weights=city.grid_weight, minlength=n_streets)
                / np.bincount(grid_street, minlength=n_streets))
    town = np.array([name in names.TOWN_NAMES for name in city.street_name])
    level = np.zeros(n_streets)
    urban = np.log(per_grid[~town])
    level[~town] = STREET_LEVEL_PULL * (urban.mean() - urban)
    first = int(_month_serial(np.array([_seconds(_months_before(now, MONTHS))]))[0])
    last = int(_month_serial(np.array([_seconds(now)]))[0])
    wobble: dict[int, np.ndarray] = {}
    state = rng.normal(0.0, STREET_WOBBLE_SD, n_streets)
    innovation = STREET_WOBBLE_SD * np.sqrt(1 - STREET_WOBBLE_RHO ** 2)
    for month in range(first, last + 1):
        wobble[month] = np.exp(level + state)
        state = STREET_WOBBLE_RHO * state + rng.normal(0.0, innovation, n_streets)
    return wobble


def _draw_grids(rng: np.random.Generator, city: City, reported: np.ndarray,
                wobble: dict[int, np.ndarray]) -> np.ndarray:
    """Draw each case's grid from the grids' activity times its street's factor that month."""
    month = _month_serial(reported)
    grid = np.empty(len(reported), dtype=np.int64)
    for m in np.unique(month).tolist():
        items = np.flatnonzero(month == m)
        p = city.grid_weight * wobble[m][city.grid_street]
        grid[items] = rng.choice(len(p), size=len(items), p=p / p.sum())
    return grid


def _month_index(seconds: np.ndarray) -> np.ndarray:
    """Calendar month (0 = January) of epoch seconds."""
    return seconds.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64) % 12


def _draw_by_month(rng: np.random.Generator, month: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Draw one option per item from its month's column of ``weights`` (options x 12)."""
    chosen = np.empty(len(month), dtype=np.int64)
    for m in np.unique(month).tolist():
        items = np.flatnonzero(month == m)
        p = weights[:, m]
        chosen[items] = rng.choice(len(p), size=len(items), p=p / p.sum())
    return chosen


def _points_by_grid(rng: np.random.Generator, grids: list[Polygon],
                    grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Draw one (lat, lon) inside each given grid, six decimals, grid by grid."""
    lat, lon = np.empty(len(grid)), np.empty(len(grid))
    order = np.argsort(grid, kind="stable")
    bounds = np.concatenate(([0], np.cumsum(np.bincount(grid, minlength=len(grids)))))
    for g in np.flatnonzero(np.diff(bounds)).tolist():
        chosen = order[bounds[g]:bounds[g + 1]]
        lon[chosen], lat[chosen] = points_in(rng, grids[g], len(chosen), decimals=6)
    return lat, lon


def _repeat_links(case_id: np.ndarray, category: np.ndarray, lat: np.ndarray, lon: np.ndarray,
                  life: _Lifecycle, now_s: int) -> np.ndarray:
    """Link each repeat to its earlier problem by the one repeat rule (-1: a first).

    The rule of ``queries.repeats`` with the rules' R and D, over the cases registered and not
    cancelled at ``now`` by registration time — exactly what the assessment detects, so the
    big screen's 重复 tile and the assessment count the same problems.
    """
    rule = load_rules().repeat
    kept = np.flatnonzero((life.registered <= now_s) & (life.cancelled > now_s))
    match, _ = find_repeats(case_id[kept], category[kept], lat[kept], lon[kept],
                            life.registered[kept] * 1_000_000, radius_m=rule.radius_m,
                            days=rule.days)
    links = np.full(len(case_id), -1, dtype=np.int64)
    links[kept] = np.where(match >= 0, case_id[kept][np.maximum(match, 0)], -1)
    return links


def _place_repeats(rng: np.random.Generator, reported: np.ndarray, category: np.ndarray,
                   grid: np.ndarray, lat: np.ndarray, lon: np.ndarray, city: City,
                   now_s: int) -> None:
    """Move a share of cases next to earlier ones (same category, grid, within R and D).

    A repeat takes its origin's category and grid, a point within ``REPEAT_RADIUS_M`` of it
    inside the same grid, and a report time within ``REPEAT_DAYS`` after it. Origins are never
    repeats themselves, so moving a repeat never breaks another pair.
    """
    n = len(reported)
    k = round(P_REPEAT * n)
    shuffled = rng.permutation(n)
    repeats, pool = shuffled[:k], shuffled[k:]
    pool = pool[reported[pool] < now_s - 7200]
    if k == 0 or len(pool) == 0:
        return
    origins = rng.choice(pool, size=k)
    room = np.minimum(REPEAT_DAYS * 86400, now_s - 60 - reported[origins])
    # Some come back within the day (a citizen calls what the patrol already reported), the
    # rest within the rule's D days. A same-day pair can be registered in the other order.
    soon = rng.random(k) < P_REPEAT_SAME_DAY
    room = np.where(soon, np.minimum(room, REPEAT_SAME_DAY_S[1]), room)
    after = np.where(soon, rng.uniform(REPEAT_SAME_DAY_S[0], np.maximum(room, 601)),
                     rng.uniform(3600, np.maximum(room, 3601)))
    reported[repeats] = reported[origins] + np.minimum(after, room).astype(np.int64)
    category[repeats] = category[origins]
    grid[repeats] = grid[origins]
    polygons = np.array(city.grids, dtype=object)[grid[origins]]
    new_lat, new_lon = lat[origins].copy(), lon[origins].copy()
    reach = rng.uniform(3.0, REPEAT_RADIUS_M, k)
    angle = rng.uniform(0.0, 2 * np.pi, k)
    todo = np.arange(k)
    for _ in range(6):  # halve the step until the point stays in the grid; else reuse the origin
        cand_lat, cand_lon = city.frame.offset(lat[origins[todo]], lon[origins[todo]],
                                               reach[todo] * np.cos(angle[todo]),
                                               reach[todo] * np.sin(angle[todo]))
        cand_lat, cand_lon = np.round(cand_lat, 6), np.round(cand_lon, 6)
        inside = shapely.contains_xy(polygons[todo], cand_lon, cand_lat)
        new_lat[todo[inside]], new_lon[todo[inside]] = cand_lat[inside], cand_lon[inside]
        todo = todo[~inside]
        reach[todo] /= 2
    lat[repeats], lon[repeats] = new_lat, new_lon



def _external_ids(reported: np.ndarray) -> np.ndarray:
    """Return "YH" + report date + serial within the day, for cases sorted by report time."""
    day = reported // 86400
    serial = np.arange(len(day)) - np.searchsorted(day, day, side="left") + 1
    stamp = {int(d): (date(1970, 1, 1) + timedelta(days=int(d))).strftime("%Y%m%d")
             for d in np.unique(day)}
    return np.array([f"YH{stamp[d]}{s:05d}" for d, s in zip(day.tolist(), serial.tolist())],
                    dtype=object)


class _Lifecycle:
    """Every stage time of every case (epoch seconds; ``FAR`` = never), and its state at ``now``.

    Stage times are drawn as if the future happened, then cut at ``now``: a stage after ``now``
    is not reached yet. Every duration comes from ``ingest.lifecycle``, the model the live
    simulator draws from too, so the simulated city carries on where the history stops.
    """

    def __init__(self, rng: np.random.Generator, reported: np.ndarray, limit: np.ndarray,
                 clock: WorkClock, now: int) -> None:
        n = len(reported)
        self.now = now
        self.invalid = rng.random(n) < lc.P_INVALID
        late_cancel = ~self.invalid & (rng.random(n) < lc.P_CANCEL)
        normal = ~self.invalid & ~late_cancel
        self.registered = reported + lc.REGISTER_DELAY.sample(rng, n)
        self.cancelled = np.full(n, FAR)
        k = int(self.invalid.sum())
        self.cancelled[self.invalid] = reported[self.invalid] + lc.draw_between(
            rng, lc.INVALID_S, k)
        k = int(late_cancel.sum())
        self.cancelled[late_cancel] = self.registered[late_cancel] + lc.draw_between(
            rng, lc.CANCEL_S, k)
        self.registered[self.invalid] = FAR
        first_dispatch = self.registered + lc.DISPATCH_DELAY.sample(rng, n)
        wrong = normal & (rng.random(n) < lc.P_MISDISPATCH)
        self.misdispatch = np.where(wrong, first_dispatch, FAR)
        bounce = lc.draw_between(rng, lc.MISDISPATCH_S, n)
        self.dispatched = np.where(normal, first_dispatch + np.where(wrong, bounce, 0), FAR)

        live = np.flatnonzero(normal)
        self.first_deadline = np.full(n, FAR)
        self.first_deadline[live] = clock.add(self.dispatched[live], limit[live])
        outcome = np.full(n, -1)
        outcome[live] = lc.draw_outcomes(rng, len(live))
        extend = outcome == lc.EXTEND
        ext = np.flatnonzero(extend)
        used = lc.draw_extension_used(rng, np.zeros(len(ext)))
        self.extension = np.full(n, FAR)
        self.extension[ext] = clock.add(self.dispatched[ext], used * limit[ext])
        self.second_deadline = np.full(n, FAR)
        self.second_deadline[ext] = clock.add(self.first_deadline[ext], limit[ext])

        zero = np.zeros(n)
        share = lc.draw_share(rng, outcome, zero, zero)
        share[ext] = lc.draw_extended_share(rng, used)
        self.handling = np.full((3, n), FAR)
        working = np.flatnonzero(np.isin(outcome, (lc.PLAIN, lc.LATE, lc.EXTEND)))
        self.handling[0, working] = clock.add(self.dispatched[working],
                                              share[working] * limit[working])
        rota = np.flatnonzero(outcome == lc.PLAIN_CLOCK)
        self.handling[0, rota] = self.dispatched[rota] + (
            share[rota] * limit[rota] * 3600).astype(np.int64)
        stuck = np.flatnonzero(outcome == lc.STUCK)
        self.handling[0, stuck] = self.first_deadline[stuck] + lc.draw_stuck_overdue(
            rng, np.full(len(stuck), -np.inf))
        draw = rng.random(n)
        self.rounds = np.where(normal & ~extend & (outcome != lc.STUCK) & (draw < lc.P_REWORK),
                               np.where(draw < lc.P_REWORK * lc.P_REWORK_AGAIN, 2, 1), 0)
        self.failed = np.full((2, n), FAR)
        for k in (1, 2):
            again = np.flatnonzero(self.rounds >= k)
            self.failed[k - 1, again] = (self.handling[k - 1, again]
                                         + lc.draw_between(rng, lc.REWORK_FAIL_S, len(again)))
            restart = self.failed[k - 1, again] + lc.draw_between(rng, lc.REWORK_RESTART_S,
                                                                   len(again))
            self.handling[k, again] = clock.add(
                restart, rng.uniform(*lc.REWORK_SHARE, len(again)) * limit[again])

        self.accepted = self.dispatched + lc.draw_accept_delay(
            rng, self.handling[0] - self.dispatched)
        final = self.handling[self.rounds, np.arange(n)]
        slack = np.where(extend, self.second_deadline, self.first_deadline) - final
        # Verification and closing take minutes to hours, and rarely push a case past its limit.
        total = lc.draw_close_delay(rng, slack)
        self.verified = final + (0.7 * total).astype(np.int64)
        self.closed = final + total

    def shown(self, moment: np.ndarray) -> np.ndarray:
        """Return the times already reached at ``now``; the rest become ``FAR``."""
        return np.where(moment <= self.now, moment, FAR)

    @property
    def reworks_done(self) -> np.ndarray:
        """返工 times so far."""
        return (self.failed <= self.now).sum(axis=0)

    @property
    def handled(self) -> np.ndarray:
        """When the current handling round ends (the one after the last 返工 so far)."""
        return self.handling[self.reworks_done, np.arange(self.handling.shape[1])]

    @property
    def extended(self) -> np.ndarray:
        """延期 granted by ``now``."""
        return self.extension <= self.now

    @property
    def deadline(self) -> np.ndarray:
        """The deadline in force at ``now``; ``FAR`` before dispatch."""
        moved = np.where(self.extended, self.second_deadline, self.first_deadline)
        return np.where(self.dispatched <= self.now, moved, FAR)

    @property
    def status(self) -> np.ndarray:
        """Each case's status at ``now``."""
        reached = [self.cancelled, self.closed, self.handled, self.accepted, self.dispatched,
                   self.registered]
        states = [STATUS_CANCELLED, STATUS_CLOSED, STATUS_VERIFYING, STATUS_HANDLING,
                  STATUS_DISPATCHED, STATUS_REGISTERED]
        return np.select([t <= self.now for t in reached], states, STATUS_REPORTED).astype(object)


def _nullable(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Return Python values where ``present``, None elsewhere."""
    out = np.full(len(values), None, dtype=object)
    out[present] = values[present].tolist()
    return out


def _reporters(rng: np.random.Generator, source: np.ndarray, street: np.ndarray,
               city: City) -> tuple[np.ndarray, np.ndarray]:
    """Return who reported each case and which patrol officer (监督员) verifies it."""
    officers = np.array([f"监督员{name}" for team in city.supervisors for name in team],
                        dtype=object)
    checker = officers[street * 5 + rng.integers(5, size=len(source))]
    by_source = np.array([REPORTERS[s] for s in SOURCE_WEIGHTS], dtype=object)
    patrol = source == list(SOURCE_WEIGHTS).index(SOURCE_PATROL)
    return np.where(patrol, checker, by_source[source]), checker


def _wrong_departments(rng: np.random.Generator, usual: np.ndarray,
                       departments: dict[str, tuple[int, str]]) -> np.ndarray:
    """Return, for each case, a specialist department other than its usual one."""
    ids = np.array([departments[d.code][0] for d in DEPARTMENTS])
    pick = ids[rng.integers(len(ids) - 1, size=len(usual))]
    pick = np.where(pick == usual, ids[-1], pick)
    name = {i: n for i, n in departments.values()}
    return np.array([name[i] for i in pick.tolist()], dtype=object)



def _event_columns(conn: Connection, part: slice, columns: dict[str, np.ndarray],
                   life: _Lifecycle, actors: dict[str, np.ndarray]) -> dict[str, list]:
    """Return the event log (one row per stage reached) of the cases in ``part``, as columns."""
    ids = columns["id"][part]
    pieces: list[tuple[np.ndarray, ...]] = []

    def add(rank: int, action: str, at: np.ndarray, actor: object, note: object = "") -> None:
        seen = np.flatnonzero(at <= life.now)
        size = len(seen)
        pieces.append((
            ids[seen], at[seen], np.full(size, rank), np.full(size, action, dtype=object),
            actor[seen] if isinstance(actor, np.ndarray) else np.full(size, actor, dtype=object),
            note[seen] if isinstance(note, np.ndarray) else np.full(size, note, dtype=object),
        ))

    department = actors["department"][part]
    invalid = life.invalid[part]
    reasons = INVALID_REASONS[ids % len(INVALID_REASONS)]
    add(0, "上报", columns["reported_at"][part], actors["reporter"][part])
    add(1, "立案", life.registered[part], "指挥中心")
    add(2, "派遣", life.misdispatch[part], "指挥中心",
        "派遣至" + actors["wrong"][part] + ",职责不符退回")
    add(3, "派遣", life.dispatched[part], "指挥中心", "派遣至" + department)
    add(4, "延期", life.extension[part], department, "申请延期已批准")
    for k in range(3):
        add(5, "处置", life.handling[k, part], department, "已处置")
    for k in range(2):
        add(5, "返工", life.failed[k, part], "指挥中心", "核查未通过,返工")
    add(6, "核查", life.verified[part], actors["checker"][part], "核查通过")
    add(7, "结案", life.closed[part], "指挥中心")
    add(8, "作废", life.cancelled[part], "指挥中心",
        np.where(invalid, reasons, "经核实不属于受理范围"))
    case_id, at, rank, action, actor, note = (np.concatenate(c) for c in zip(*pieces))
    order = np.lexsort((rank, at, case_id))
    events = {"case_id": case_id, "at": at, "action": action, "actor": actor, "note": note}
    return _driver_values(conn, {k: v[order] for k, v in events.items()}, slice(None))


def _driver_values(conn: Connection, columns: dict[str, np.ndarray],
                   part: slice) -> dict[str, list]:
    """Turn a slice of column arrays into plain values the database driver takes as they are."""
    values: dict[str, list] = {}
    for name, column in columns.items():
        chunk = column[part]
        if name == "at" or name.endswith("_at"):
            values[name] = _driver_times(conn, chunk)
        elif name in ("department_id", "repeat_of_id"):
            values[name] = [v if v >= 0 else None for v in chunk.tolist()]
        else:
            values[name] = chunk.tolist()
    return values


def _driver_times(conn: Connection, seconds: np.ndarray) -> list:
    """Convert epoch seconds (``FAR`` = None) to what the driver stores for a DateTime column.

    SQLite gets the exact text SQLAlchemy's DATETIME writes ("2026-05-12 10:30:00.000000"),
    so rows written here compare equal to bound datetimes in later queries. The text is put
    together as character codes: each day's date formatted once, the clock time from digits
    (numpy's datetime_as_string, per value, cost a million cases about 6 s of the load).
    """
    if conn.dialect.name != "sqlite":
        return _datetimes(seconds)
    never = seconds >= FAR
    day, second = np.divmod(np.where(never, 0, seconds), 86400)
    days, which = np.unique(day, return_inverse=True)
    stamps = np.datetime_as_string(days.astype("datetime64[D]")).astype("U10")
    chars = np.empty((len(day), len(_CLOCK_TEXT) + 10), dtype=np.uint32)
    chars[:, :10] = stamps.view(np.uint32).reshape(len(days), 10)[which]
    chars[:, 10:] = _CLOCK_TEXT
    hour, rest = np.divmod(second, 3600)
    for column, value in ((11, hour), (14, rest // 60), (17, rest % 60)):
        chars[:, column] += (value // 10).astype(np.uint32)
        chars[:, column + 1] += (value % 10).astype(np.uint32)
    values = chars.view(f"U{chars.shape[1]}")[:, 0].astype(object)
    values[never] = None
    return values.tolist()


# The clock part of SQLite's DATETIME text, as character codes the digits are added to.
_CLOCK_TEXT = np.array([ord(c) for c in " 00:00:00.000000"], dtype=np.uint32)


def _insert_columns(conn: Connection, table: Table, values: dict[str, list]) -> None:
    """Insert rows given as columns straight through the driver's executemany.

    Per-row parameter processing in SQLAlchemy costs more than SQLite's own work at a million
    rows, so the big tables skip it; values must already be driver-ready (``_driver_values``).
    """
    statement = insert(table).compile(dialect=conn.dialect, column_keys=list(values))
    if statement.positional:
        rows: list = list(zip(*(values[name] for name in statement.positiontup)))
    else:
        rows = [dict(zip(values, row)) for row in zip(*values.values())]
    if rows:
        conn.exec_driver_sql(statement.string, rows)


def _next_id(conn: Connection, table: Table) -> int:
    return (conn.scalar(select(func.max(table.c.id))) or 0) + 1


def _advance_sequences(conn: Connection, tables: tuple[Table, ...]) -> None:
    """Move PostgreSQL id sequences past the explicit ids written, so later inserts fit."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        top = conn.scalar(select(func.max(table.c.id)))
        if top:
            conn.execute(text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :v)"),
                         {"t": table.name, "v": top})


# --- volunteers -----------------------------------------------------------------------------

SERVICE_MONTHS = np.array([t.months for t in SERVICE_TYPES])
START_CHOICES = np.array([len(t.start_hours) for t in SERVICE_TYPES])
START_HOURS = np.array([t.start_hours + (0,) * (START_CHOICES.max() - len(t.start_hours))
                        for t in SERVICE_TYPES])  # padded; only the first START_CHOICES count


def _write_volunteers(conn: Connection, rng: np.random.Generator, city: City, now: datetime,
                      calendar: WorkCalendar) -> tuple[int, int, int]:
    """Write teams, their members and 13 months of activities; return the three counts."""
    teams: list[tuple[str, int, np.ndarray]] = []  # name, street, grids where it serves
    for s, street in enumerate(city.street_name):
        home = np.flatnonzero(city.grid_street == s)
        teams += [(street + kind, s, home) for kind in names.STREET_TEAMS]
    for c, community in enumerate(city.community_name):
        kinds = np.sort(rng.choice(len(names.COMMUNITY_TEAMS), size=int(rng.integers(2, 4)),
                                   replace=False))
        home = np.flatnonzero(city.grid_community == c)
        teams += [(community + names.COMMUNITY_TEAMS[k], int(city.community_street[c]), home)
                  for k in kinds.tolist()]
    start = _months_before(now, MONTHS)
    first_id = _next_id(conn, VolunteerTeam.__table__)
    founded = _random_dates(rng, date(2012, 1, 1), start.date(), len(teams))
    conn.execute(insert(VolunteerTeam), [
        {"id": first_id + k, "name": name, "street_id": int(city.street_id[s]), "leader": leader,
         "founded_on": founded[k]}
        for k, ((name, s, _), leader) in enumerate(zip(teams, names.person_names(rng, len(teams))))
    ])
    sizes = rng.integers(10, 36, len(teams))
    members = names.person_names(rng, int(sizes.sum()))
    team_of = np.repeat(np.arange(len(teams)), sizes)
    since = np.array(founded, dtype="datetime64[D]")[team_of]
    span = (np.datetime64(now.date()) - since).astype(np.int64)
    joined = (since + (rng.random(len(team_of)) * (span + 1)).astype(np.int64)).astype(object)
    conn.execute(insert(Volunteer), [
        {"team_id": first_id + t, "name": m, "joined_on": j}
        for t, m, j in zip(team_of.tolist(), members, joined.tolist())
    ])
    activities = _activities(rng, city, [t[2] for t in teams], sizes, start, now, calendar)
    for row in activities:
        row["team_id"] += first_id
    conn.execute(insert(VolunteerActivity), activities)
    return len(teams), int(sizes.sum()), len(activities)


def _random_dates(rng: np.random.Generator, first: date, last: date, n: int) -> list[date]:
    offsets = rng.integers(0, (last - first).days + 1, n)
    return [first + timedelta(days=int(d)) for d in offsets.tolist()]


def _activities(rng: np.random.Generator, city: City, homes: list[np.ndarray], sizes: np.ndarray,
                start: datetime, now: datetime, calendar: WorkCalendar) -> list[dict]:
    """Draw each team's activities over the period, plus some under way at ``now`` by day."""
    days = np.arange(np.datetime64(start.date()), np.datetime64(now.date()) + 1)
    workday = np.array([calendar.is_workday(d) for d in days.astype(object)])
    counts = rng.poisson(rng.uniform(1.5, 5.0, len(homes)) * MONTHS)
    team = np.repeat(np.arange(len(homes)), counts)
    day_weight = np.where(workday, 1.0, 1.8)  # volunteers turn out more at weekends
    day = days[rng.choice(len(days), size=len(team), p=day_weight / day_weight.sum())]
    kind = _draw_by_month(rng, day.astype("datetime64[M]").astype(np.int64) % 12, SERVICE_MONTHS)
    hour = START_HOURS[kind, (rng.random(len(kind)) * START_CHOICES[kind]).astype(np.int64)]
    begin = (day.astype("datetime64[s]").astype(np.int64) + hour * 3600
             + rng.choice([0, 1800], size=len(team)))
    minutes = rng.choice([90, 120, 150, 180, 210, 240], size=len(team))
    now_s = _seconds(now)
    keep = begin < now_s  # nothing starts after now
    team, kind, begin, minutes = team[keep], kind[keep], begin[keep], minutes[keep]
    if 7 <= now.hour < 19:  # daytime: some teams are out right now
        extra = _under_way(rng, len(homes), now)
        team, kind, begin, minutes = (np.concatenate((a, b)) for a, b in
                                      zip((team, kind, begin, minutes), extra))
    grid = np.array([homes[t][rng.integers(len(homes[t]))] for t in team.tolist()])
    lat, lon = _points_by_grid(rng, city.grids, grid)
    people = 5 + (rng.random(len(team)) * (sizes[team] - 4)).astype(np.int64)
    starts = _datetimes(begin)
    ends = _datetimes(begin + minutes * 60)
    return [
        {"team_id": t, "service_type": SERVICE_TYPES[k].name,
         "title": city.community_name[city.grid_community[g]] + SERVICE_TYPES[k].title,
         "grid_id": int(city.grid_id[g]), "lat": la, "lon": lo, "start_at": s, "end_at": e,
         "participants": p, "service_hours": p * m / 60}
        for t, k, g, la, lo, s, e, p, m in zip(team.tolist(), kind.tolist(), grid.tolist(),
                                               lat.tolist(), lon.tolist(), starts, ends,
                                               people.tolist(), minutes.tolist())
    ]


def _under_way(rng: np.random.Generator, n_teams: int,
               now: datetime) -> tuple[np.ndarray, ...]:
    """Return (team, type, start, minutes) of activities running at ``now`` and done today."""
    now_s = _seconds(now)
    morning = _seconds(now.replace(hour=6, minute=30, second=0))
    running, done = 8, 4 if now_s - morning >= 3 * 3600 else 0
    team = rng.choice(n_teams, size=running + done, replace=False)
    kind = _draw_by_month(rng, np.full(running + done, now.month - 1), SERVICE_MONTHS)
    begin = np.maximum(morning, now_s - rng.integers(600, 9000, running))
    minutes = (now_s + rng.integers(1200, 9000, running) - begin) // 60
    if done:
        begin = np.concatenate((begin, rng.integers(morning, now_s - 9000, done)))
        minutes = np.concatenate((minutes, rng.choice([60, 90, 120], size=done)))
    return team, kind, begin, minutes


# --- livelihood maps ------------------------------------------------------------------------

# Map points placed where the city is busy: (layer, kind, count range, name, hours, unit).
MAP_KINDS = (
    ("convenience", "菜市场", (18, 27), "{road}便民菜市场",
     ("06:00-20:00", "06:30-19:30; PH 07:00-12:00"),
     "区商务局"),
    ("convenience", "社区卫生服务站", (26, 37), "{community}卫生服务站",
     ("Mo-Fr 08:00-12:00,14:00-17:30; Sa,Su 08:30-12:00; PH off",),
     "区卫生健康局"),
    ("convenience", "药店", (50, 71), "{brand}({road}店)", ("08:00-22:00", "24/7"),
     "区市场监督管理局"),
    ("convenience", "应急避难场所", (15, 26), "{community}应急避难场所", ("24/7",),
     "区应急管理局"),
    ("convenience", "AED", (50, 81), "{road}{spot}AED", ("24/7", "Mo-Su 08:00-22:00"),
     "区卫生健康局"),
)
# Map points with their own names: (layer, kind, names, hours, unit).
NAMED_KINDS = (
    ("convenience", "医院", names.HOSPITALS, ("24/7",), "区卫生健康局"),  # 急诊 never closes
    ("culture", "文物古迹", names.CULTURE_SITES, ("08:30-17:30", "24/7"),
     "区文化和旅游体育局"),
    ("culture", "博物馆", names.MUSEUMS, ("Tu-Su 09:00-17:00; Mo off; PH 09:00-17:00",
                                       "Tu-Su 09:00-17:30; Mo off"), "区文化和旅游体育局"),
    ("culture", "特色街区", names.FEATURE_STREETS, ("24/7",), "区文化和旅游体育局"),
)
AED_SPOTS = ("地铁站", "公交枢纽", "党群服务中心", "体育场", "商场")
# Opening hours are OSM opening_hours expressions (docs/places.md).
TOILET_HOURS = (("24/7", 0.35), ("06:00-22:00", 0.35), ("06:30-22:30", 0.1),
                ("07:00-21:00", 0.1), ("Mo-Fr 07:00-21:00; Sa,Su,PH 06:00-23:00", 0.1))


def _write_map_points(conn: Connection, rng: np.random.Generator, city: City) -> int:
    """Write the livelihood-map points: toilets, convenience services, culture sites."""
    rows = _toilets(rng, city)
    for layer, kind, (low, high), pattern, hours, unit in MAP_KINDS:
        spots = _spots(rng, city, rng.choice(len(city.grids), size=int(rng.integers(low, high)),
                                              p=city.grid_weight))
        brands = rng.choice(names.PHARMACY_BRANDS, size=len(spots))
        aed = rng.choice(AED_SPOTS, size=len(spots))
        for spot, brand, where in zip(spots, brands.tolist(), aed.tolist()):
            name = pattern.format(road=spot["road"], community=spot["community"], brand=brand,
                                  spot=where)
            rows.append(_map_row(spot, layer, kind, name, str(rng.choice(hours)), unit,
                                 names.landline_numbers(rng, 1)[0]))
    for layer, kind, titles, hours, unit in NAMED_KINDS:
        count = int(rng.integers(len(titles) * 3 // 4, len(titles) + 1))
        for title in rng.choice(titles, size=count, replace=False).tolist():
            spot = _spots(rng, city, np.array([_home_grid(rng, city, title)]))[0]
            rows.append(_map_row(spot, layer, kind, title, str(rng.choice(hours)), unit,
                                 names.landline_numbers(rng, 1)[0]))
    # Service halls sit in the busiest grid of the district and of each street.
    busiest = [np.where(city.grid_street == s, city.grid_weight, 0.0).argmax()
               for s in range(len(city.street_name))]
    centre = [int(np.argmax(city.grid_weight))] + [int(g) for g in busiest]
    titles = [f"{DISTRICT_NAME}政务服务中心"] + [f"{s}便民服务中心" for s in city.street_name]
    for spot, title in zip(_spots(rng, city, np.array(centre)), titles):
        rows.append(_map_row(spot, "convenience", "政务服务中心", title,
                             "Mo-Fr 09:00-12:00,13:30-17:00; PH off",
                             "区政务服务中心", names.landline_numbers(rng, 1)[0]))
    conn.execute(insert(PointOfInterest), rows)
    return len(rows)


def _toilets(rng: np.random.Generator, city: City) -> list[dict]:
    """Public toilets (厕所地图) with opening hours, facilities, status and managing unit."""
    count = int(rng.integers(90, 121))
    spots = _spots(rng, city, rng.choice(len(city.grids), size=count, p=city.grid_weight))
    hours = rng.choice([h for h, _ in TOILET_HOURS], size=count, p=[p for _, p in TOILET_HOURS])
    accessible = rng.random(count) < 0.75
    baby_care = rng.random(count) < 0.35
    family_room = accessible & (rng.random(count) < 0.4)
    repairing = rng.random(count) < 0.05
    owner = rng.random(count)
    seen: dict[str, int] = {}
    rows = []
    for k, spot in enumerate(spots):
        seen[spot["road"]] = seen.get(spot["road"], 0) + 1
        number = seen[spot["road"]]
        name = f"{spot['road']}{'' if number == 1 else f'{number}号'}公厕"
        unit = ("区环境卫生管理中心" if owner[k] < 0.7 else f"{spot['street']}环卫所"
                if owner[k] < 0.9 else f"{spot['road']}商业综合体(社会开放)")
        rows.append(_map_row(spot, "toilet", "公厕", name, str(hours[k]), unit, None,
                             accessible=bool(accessible[k]), baby_care=bool(baby_care[k]),
                             family_room=bool(family_room[k]),
                             status="维修中" if repairing[k] else "正常",
                             # Public toilets are free; paper is stocked in about 60 %
                             # (from the name, so the generator's random stream is unchanged).
                             free=True, paper=zlib.crc32(name.encode()) % 100 < 60))
    return rows


def _spots(rng: np.random.Generator, city: City, grid: np.ndarray) -> list[dict]:
    """Return a place in each given grid: point, grid, street, community, road and address."""
    lat, lon = _points_by_grid(rng, city.grids, grid)
    community = [city.community_name[c] for c in city.grid_community[grid].tolist()]
    street = [city.street_name[s] for s in city.grid_street[grid].tolist()]
    roads = names.local_roads(rng, community)
    addresses = names.make_addresses(rng, street, community, roads)
    return [
        {"grid_id": g, "lat": la, "lon": lo, "street": s, "community": c, "road": r, "address": a}
        for g, la, lo, s, c, r, a in zip(city.grid_id[grid].tolist(), lat.tolist(), lon.tolist(),
                                         street, community, roads, addresses)
    ]


def _home_grid(rng: np.random.Generator, city: City, title: str) -> int:
    """Pick a grid for a named place, inside the street its name mentions (西湖夜市 in 西湖)."""
    weight = city.grid_weight.copy()
    for s, street in enumerate(city.street_name):
        if street[:2] in title:
            weight = np.where(city.grid_street == s, weight, 0.0)
            break
    return int(rng.choice(len(weight), p=weight / weight.sum()))


def _map_row(spot: dict, layer: str, kind: str, name: str, hours: str, unit: str,
             phone: str | None, **facilities: object) -> dict:
    return {
        "layer": layer, "kind": kind, "name": name, "address": spot["address"],
        "lat": spot["lat"], "lon": spot["lon"], "grid_id": spot["grid_id"],
        "opening_hours": hours, "managing_unit": unit, "phone": phone,
        "accessible": facilities.get("accessible", False),
        "baby_care": facilities.get("baby_care", False),
        "family_room": facilities.get("family_room", False),
        "status": facilities.get("status", "正常"),
        "free": facilities.get("free"), "paper": facilities.get("paper"),
    }
