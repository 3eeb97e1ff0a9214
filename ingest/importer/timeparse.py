"""Timestamps from a source: parse, place in the source's time zone, convert to city time.

Gridwatch stores naive wall-clock time of the city (Settings.timezone). A source string
with an offset ("2026-11-01T01:30:00-04:00") is exact and converted. A string without one is
local time of the source's zone; inside a DST change it is ambiguous (the autumn hour happens
twice) or does not exist (the spring hour is skipped), and the row is quarantined unless the
mapping says ``timestamps.ambiguous: earlier|later``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from ingest.importer.reasons import AMBIGUOUS_TIME, BAD_TIMESTAMP, RowRejected


class TimeParser:
    """Parse one source's timestamps into the city's naive wall-clock time."""

    def __init__(self, formats: tuple[str, ...], source_zone: str, city_zone: str,
                 ambiguous: str = "quarantine") -> None:
        self.formats = formats
        self.source = ZoneInfo(source_zone)
        self.city = ZoneInfo(city_zone)
        self.same_zone = source_zone == city_zone
        self.ambiguous = ambiguous
        # Per wall-clock hour of the source: None when the hour is unambiguous, else the
        # reason. DST changes fall on whole hours in every zone with real case data, and an
        # import meets the same hours thousands of times.
        self._hours: dict[tuple[int, int, int, int], str | None] = {}

    def parse(self, value: object, field: str) -> datetime | None:
        """Return the city-time value of ``value`` ('' and None are None)."""
        if value is None:
            return None
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):
            moment = datetime(value.year, value.month, value.day)
        else:
            text = str(value).strip()
            if not text:
                return None
            moment = self._parse_text(text, field)
        if moment.tzinfo is not None:
            return moment.astimezone(self.city).replace(tzinfo=None)
        return self._localise(moment, field)

    def _parse_text(self, text: str, field: str) -> datetime:
        try:  # ISO 8601 first: C speed, and never ambiguous about day and month
            return datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z")
                                          else text)
        except ValueError:
            pass
        for fmt in self.formats:
            try:
                return datetime.strptime(text, fmt)
            except ValueError:
                continue
        shown = ", ".join(self.formats) or "ISO 8601"
        raise RowRejected(BAD_TIMESTAMP, f"{field}={text!r} matches none of: {shown}")

    def _localise(self, moment: datetime, field: str) -> datetime:
        key = (moment.year, moment.month, moment.day, moment.hour)
        problem = self._hours.get(key, "")
        if problem == "":
            problem = self._hours[key] = self._hour_problem(
                moment.replace(minute=0, second=0, microsecond=0))
        if problem is None and self.same_zone:
            return moment
        return self._localise_slow(moment, field)

    def _hour_problem(self, hour: datetime) -> str | None:
        """Return None when every minute of the hour has one offset, else 'ambiguous'."""
        for minute in (0, 30, 59):
            moment = hour.replace(minute=minute)
            if moment.replace(tzinfo=self.source).utcoffset() != moment.replace(
                    tzinfo=self.source, fold=1).utcoffset():
                return "ambiguous"
        return None

    def _localise_slow(self, moment: datetime, field: str) -> datetime:
        first = moment.replace(tzinfo=self.source)
        second = moment.replace(tzinfo=self.source, fold=1)
        if first.utcoffset() != second.utcoffset():
            if self.ambiguous == "quarantine":
                gap = first.astimezone(UTC).astimezone(self.source).replace(
                    tzinfo=None) != moment
                what = "does not exist (spring forward)" if gap else "happens twice (fall back)"
                raise RowRejected(AMBIGUOUS_TIME, f"{field}={moment:%Y-%m-%d %H:%M:%S} {what} "
                                                  f"in {self.source.key}; give an offset or set "
                                                  f"timestamps.ambiguous")
            first = second if self.ambiguous == "later" else first
        if self.same_zone:
            return moment
        return first.astimezone(self.city).replace(tzinfo=None)
