"""Every component id of the app, in one place; callbacks import these, never string literals.

Ids are prefixed by the area of the page they belong to (``screen-…``, ``map-…``, ``kpi-…``);
repeated widgets use dict ids built by the small helpers below.
"""

from __future__ import annotations

# App shell
URL = "app-url"
PAGE = "app-page"
PAGE_RETRY = "app-page-retry"

# Big screen (大屏)
SCREEN = "screen"
SCREEN_POLL = "screen-poll"  # the poll stamp assets/screen.js sets when it changed
SCREEN_VERSION = "screen-version"
SCREEN_WALL = "screen-wall"
SCREEN_SCALE = "screen-scale"
SCREEN_CLOCK = "screen-clock"
SCREEN_CLOCK_TICK = "screen-clock-tick"
SCREEN_UPDATED = "screen-updated"
SCREEN_STALE = "screen-stale"
SCREEN_TITLE = "screen-title"
SCREEN_TILES = "screen-tiles"

# Volunteer counters (志愿服务)
VOL_DATA = "vol-data"
VOL_TEAMS = "vol-teams"
VOL_ON_DUTY = "vol-on-duty"
VOL_HOURS = "vol-hours"
VOL_TYPES = "vol-types"

# Street ranking, trend and ticker
RANKING = "ranking-list"
TREND = "trend-graph"
TICKER = "ticker-track"

# Map
MAP = "map"
MAP_CASES = "map-cases"
MAP_DENSITY = "map-density"
MAP_BOUNDARIES = "map-boundaries"
MAP_LABELS = "map-labels"  # street (community, grid) names at their centres
MAP_CARD = "map-card"
MAP_CARD_FRAME = "map-card-frame"
MAP_CARD_CLOSE = "map-card-close"
MAP_MAJORS = "map-majors"
MAP_SOURCES = "map-sources"
MAP_HEAT = "map-heat"

KPI_TILE = "kpi-tile"


def kpi_tile(key: str) -> dict[str, str]:
    """Return the id of one KPI tile."""
    return {"type": KPI_TILE, "index": key}


# Grid management page (网格化管理, /grids)
GRIDS = "grids-page"
GRIDS_URL = "grids-url"
GRIDS_DOWNLOAD = "grids-download"
GRIDS_LANG = "grids-lang"
GRIDS_CRUMBS = "grids-crumbs"
GRIDS_CRUMB = "grids-crumb"
GRIDS_PERIOD = "grids-period"
GRIDS_RANGE = "grids-range"
GRIDS_RANGE_BOX = "grids-range-box"
GRIDS_KPI = "grids-kpi"
GRIDS_STATUS = "grids-status"
GRIDS_TILES = "grids-tiles"
GRIDS_MAP = "grids-map"
GRIDS_AREAS = "grids-areas"
GRIDS_MAP_TITLE = "grids-map-title"
GRIDS_LEGEND = "grids-legend"
GRIDS_ROSTER = "grids-roster"
GRIDS_CASES = "grids-cases"
GRIDS_CASES_TITLE = "grids-cases-title"
GRIDS_CATEGORIES = "grids-categories"
GRIDS_TREND = "grids-trend"
GRIDS_TABLE = "grids-table"
GRIDS_TABLE_TITLE = "grids-table-title"
GRIDS_CSV = "grids-csv"
GRIDS_XLSX = "grids-xlsx"
GRIDS_SHEET = "grids-sheet"  # the cover shown while the page has no data (outage, unknown area)
GRIDS_RETRY = "grids-retry"  # polls while the database is unreachable


def grids_crumb(code: str) -> dict[str, str]:
    """Return the id of one breadcrumb link (an area code; "" is the district)."""
    return {"type": GRIDS_CRUMB, "index": code}


# Monthly assessment page (城市管理综合考核, /rankings)
RANK = "rank-page"
RANK_URL = "rank-url"
RANK_TICK = "rank-tick"
RANK_LANG = "rank-lang"
RANK_MONTH = "rank-month"
RANK_STATUS = "rank-status"
RANK_MESSAGE = "rank-message"
RANK_RUNNING = "rank-running"  # the link to the running month while the last one is shown
RANK_SUMMARY = "rank-summary"
RANK_TABLES = "rank-tables"
RANK_TABLE = "rank-table"
RANK_STREET = "rank-street"
RANK_BREAKDOWN = "rank-breakdown"
RANK_LISTS = "rank-lists"
RANK_CHART_CHANGE = "rank-chart-change"
RANK_CHART_CAUSES = "rank-chart-causes"
RANK_CHART_REPEATS = "rank-chart-repeats"
RANK_PUBLISH = "rank-publish"
RANK_CONFIRM = "rank-confirm"
RANK_VERSION = "rank-version"
RANK_PPTX = "rank-pptx"
RANK_XLSX = "rank-xlsx"
RANK_DOWNLOAD = "rank-download"
RANK_SHEET = "rank-sheet"  # the cover shown while the database is unreachable


def rank_table(group: str) -> dict[str, str]:
    """Return the id of one group's ranking table."""
    return {"type": RANK_TABLE, "index": group}


# Presentation mode (/present)
PRESENT = "present-page"
PRESENT_STATE = "present-state"
PRESENT_TICK = "present-tick"
PRESENT_KEYS = "present-keys"
PRESENT_FRAME = "present-frame"
PRESENT_INDICATOR = "present-indicator"
PRESENT_PROGRESS = "present-progress"


def present_frame(index: int) -> dict[str, str | int]:
    """Return the id of one page of the presentation's playlist."""
    return {"type": PRESENT_FRAME, "index": index}

# The data-quality page (/quality)
QUALITY = "quality"
QUALITY_TICK = "quality-tick"
QUALITY_LANG = "quality-lang"
QUALITY_STATUS = "quality-status"
QUALITY_TILES = "quality-tiles"
QUALITY_TREND = "quality-trend"
QUALITY_QUARANTINE = "quality-quarantine"
QUALITY_LOCATIONS = "quality-locations"
QUALITY_DISAGREE = "quality-disagree"
QUALITY_SOURCES = "quality-sources"
QUALITY_SAMPLES = "quality-samples"

# The places layer (公厕 state) on the wall's map and the grid page's map
MAP_PLACES = "map-places"
MAP_PLACES_TOGGLE = "map-places-toggle"
MAP_PLACES_TICK = "map-places-tick"
GRIDS_PLACES = "grids-places"
GRIDS_PLACES_TOGGLE = "grids-places-toggle"

# The volunteers page (/volunteers)
VOL = "vol-page"
VOL_URL = "vol-url"
VOL_TICK = "vol-tick"
VOL_TILES = "vol-tiles"
VOL_TYPES = "vol-types"
VOL_MAP = "vol-map"
VOL_POINTS = "vol-points"
VOL_TEAMS = "vol-teams"
VOL_TREND = "vol-trend"
VOL_ASOF = "vol-asof"
VOL_STATUS = "vol-status"
GRIDS_VOLUNTEERS = "grids-volunteers"

# Case desk (案件工作台, /desk) and the case page (/desk/case)
DESK = "desk"
DESK_LANG = "desk-lang"
DESK_WHO = "desk-who"
DESK_TILES = "desk-tiles"
DESK_STATUS = "desk-status"
DESK_MAJOR = "desk-major"
DESK_AREA = "desk-area"
DESK_SOURCE = "desk-source"
DESK_DATES = "desk-dates"
DESK_SEARCH = "desk-search"
DESK_FILTERS = "desk-filters"
DESK_CSV = "desk-csv"
DESK_XLSX = "desk-xlsx"
DESK_COUNT = "desk-count"
DESK_GRID = "desk-grid"
CASE = "case"
CASE_ID = "case-id"
CASE_BODY = "case-body"
CASE_FLAGS = "case-flags"
CASE_FLAG_NOTE = "case-flag-note"
CASE_FLAG_BUTTON = "case-flag-button"
CASE_FLAG_MESSAGE = "case-flag-message"
# The wall's case card: a logged-in leader's 督办 button (the card is drawn per click)
CARD_FLAG_CASE = "card-flag-case"
CARD_FLAG_NOTE = "card-flag-note"
CARD_FLAG_BUTTON = "card-flag-button"
CARD_FLAG_MESSAGE = "card-flag-message"
# The 路长 sections page (/sections)
SEC = "sec-page"
SEC_URL = "sec-url"
SEC_TICK = "sec-tick"
SEC_BOARD = "sec-board"  # the period, language and version of the board on screen
SEC_RED = "sec-red"
SEC_BLACK = "sec-black"
SEC_TABLE = "sec-table"
SEC_MAP = "sec-map"
SEC_SHAPES = "sec-shapes"
SEC_RULE = "sec-rule"
SEC_DETAIL = "sec-detail"
SEC_DETAIL_BODY = "sec-detail-body"
SEC_CLOSE = "sec-close"
SEC_ASOF = "sec-asof"
SEC_STATUS = "sec-status"
SEC_PERIOD = "sec-period"
SEC_PICK = "sec-pick"  # pattern id type of a ranking table row
SEC_LIST = "sec-list"  # pattern id type of a 红/黑 list row
