"""Business hours as pure functions over plain data (docs/admin.md, "Business hours"): a time zone, a weekly
schedule of several ranges per day, and holidays. Whether the desk is open at a moment, when it opens next, and
how many seconds of business time lie between two moments (the SLA figures). Local times are turned into instants
day by day with zoneinfo, so a day with a DST change has its true length. No clock: every call is given `now`.

Schedule text, one line per day group: `Mon-Fri 09:00-12:00, 13:00-18:00` / `Sat 10:00-14:00`. Holidays, one per
line: `2026-12-25 Christmas Day`. An empty schedule means always open (24/7)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time as clock, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
LINE_RE = re.compile(r"^\s*([a-z]{3})(?:\s*-\s*([a-z]{3}))?\s+(.+)$", re.IGNORECASE)
RANGE_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
HOLIDAY_RE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})\s*(.*)$")
MAX_DAYS = 800      # business_seconds / next_open look this far at most


class BadHours(ValueError):
    """The schedule, time zone or holidays cannot be read; the message says where."""


def parse_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name.strip() or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise BadHours(f"unknown time zone {name!r} (use a name like Europe/Berlin)") from None


def parse_schedule(text: str) -> dict[int, list[tuple[int, int]]]:
    """weekday (0 = Monday) -> [(start minute, end minute)], sorted; raises BadHours naming the line."""
    weekly: dict[int, list[tuple[int, int]]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        found = LINE_RE.match(line)
        first = DAYS.index(found.group(1).lower()) if found and found.group(1).lower() in DAYS else None
        last = DAYS.index(found.group(2).lower()) if found and found.group(2) and found.group(2).lower() in DAYS \
            else first
        if first is None or last is None or last < first:
            raise BadHours(f"line {number}: start with a day or days like Mon or Mon-Fri")
        ranges = []
        for part in found.group(3).split(","):
            hours = RANGE_RE.match(part)
            if not hours:
                raise BadHours(f"line {number}: {part.strip()!r} is not a range like 09:00-17:30")
            start = int(hours.group(1)) * 60 + int(hours.group(2))
            end = int(hours.group(3)) * 60 + int(hours.group(4))
            if not 0 <= start < end <= 24 * 60 or int(hours.group(2)) > 59 or int(hours.group(4)) > 59:
                raise BadHours(f"line {number}: {part.strip()!r} must start before it ends, within the day")
            ranges.append((start, end))
        for day in range(first, last + 1):
            merged = sorted(weekly.get(day, []) + ranges)
            for (_, end), (start, _) in zip(merged, merged[1:]):
                if start < end:
                    raise BadHours(f"line {number}: ranges overlap on {DAYS[day].capitalize()}")
            weekly[day] = merged
    return weekly


def parse_holidays(text: str) -> dict[date, str]:
    found: dict[date, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        match = HOLIDAY_RE.match(line)
        try:
            day = date.fromisoformat(match.group(1)) if match else None
        except ValueError:
            day = None
        if day is None:
            raise BadHours(f"line {number}: start with a date like 2026-12-25")
        found[day] = match.group(2).strip()
    return found


def seeded_holidays(country: str, years: list[int], subdivision: str | None = None) -> dict[date, str]:
    """Public holidays of a country (the `holidays` package), for the admin's "add holidays" button."""
    import holidays

    try:
        return dict(holidays.country_holidays(country.upper(), subdiv=subdivision or None, years=years))
    except NotImplementedError:
        raise BadHours(f"no holiday calendar for country {country!r} (use a code like DE, FR, US)") from None


@dataclass(frozen=True)
class BusinessHours:
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    weekly: dict = field(default_factory=dict)
    holidays: frozenset = frozenset()

    @classmethod
    def from_text(cls, zone: str, schedule: str, holidays_text: str) -> "BusinessHours":
        return cls(parse_zone(zone), parse_schedule(schedule), frozenset(parse_holidays(holidays_text)))

    @property
    def always_open(self) -> bool:
        return not self.weekly

    def _ranges_on(self, day: date) -> list[tuple[float, float]]:
        """The day's open ranges as Unix times (the local clock of that day, DST included)."""
        if day in self.holidays:
            return []
        spans = []
        for start, end in self.weekly.get(day.weekday(), []):
            spans.append((self._instant(day, start), self._instant(day, end)))
        return spans

    def _instant(self, day: date, minute: int) -> float:
        if minute >= 24 * 60:
            return datetime.combine(day + timedelta(days=1), clock(0), self.zone).timestamp()
        return datetime.combine(day, clock(minute // 60, minute % 60), self.zone).timestamp()

    def _local_day(self, ts: float) -> date:
        return datetime.fromtimestamp(ts, timezone.utc).astimezone(self.zone).date()

    def is_open(self, now: float) -> bool:
        if self.always_open:
            return True
        return any(start <= now < end for start, end in self._ranges_on(self._local_day(now)))

    def next_open(self, now: float) -> float | None:
        """`now` when open; else the start of the next open range (None if none within MAX_DAYS)."""
        if self.is_open(now):
            return now
        day = self._local_day(now)
        for offset in range(MAX_DAYS):
            for start, _ in self._ranges_on(day + timedelta(days=offset)):
                if start > now:
                    return start
        return None

    def business_seconds(self, start: float, end: float) -> float:
        """Seconds between `start` and `end` that fall within open hours (all of them when always open)."""
        if end <= start:
            return 0.0
        if self.always_open:
            return end - start
        total = 0.0
        day, last = self._local_day(start), self._local_day(end)
        for offset in range(min((last - day).days + 1, MAX_DAYS)):
            for open_at, close_at in self._ranges_on(day + timedelta(days=offset)):
                total += max(0.0, min(end, close_at) - max(start, open_at))
        return total
