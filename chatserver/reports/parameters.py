"""The report query: `from`, `to` (UTC days, inclusive) and `group_by`, read from a mapping and checked.
Bad input raises ReportError with a documented code (docs/protocol.md, Error codes)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Mapping

from ..errors import InvalidPayload

GROUP_BY = ("day", "agent", "department", "handled_by", "label")
DEFAULT_DAYS = 30
MAX_DAYS = 731


class ReportError(InvalidPayload):
    """The report parameters are not valid."""
    code = "invalid_date"


@dataclass(frozen=True)
class ReportParams:
    start: date          # first day, inclusive (UTC)
    end: date            # last day, inclusive (UTC)
    group_by: str | None

    @property
    def start_ts(self) -> float:
        return _midnight(self.start)

    @property
    def end_ts(self) -> float:
        """Exclusive: midnight after the last day."""
        return _midnight(self.end + timedelta(days=1))

    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def query(self) -> dict[str, str]:
        """The query string that asks for these parameters again (links and forms of the reports page)."""
        query = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        if self.group_by:
            query["group_by"] = self.group_by
        return query


def _midnight(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp()


def parse_params(query: Mapping[str, str], today: date) -> ReportParams:
    """`from`, `to` (YYYY-MM-DD, inclusive, UTC; default the last 30 days) and `group_by`."""
    def parse_day(name: str) -> date | None:
        raw = query.get(name)
        if raw in (None, ""):
            return None
        try:
            if len(raw) != 10:
                raise ValueError
            return date.fromisoformat(raw)
        except ValueError:
            label = "start" if name == "from" else "end"
            raise ReportError(f"Enter the {label} date as year-month-day, like 2025-01-31.",
                              code="invalid_date") from None

    end = parse_day("to") or today
    start = parse_day("from") or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise ReportError(f"The start date is after the end date: choose a start date on or before "
                          f"{end.isoformat()}.", code="invalid_range")
    if (end - start).days + 1 > MAX_DAYS:
        raise ReportError(f"Choose a range of at most {MAX_DAYS} days: this one has {(end - start).days + 1}.",
                          code="invalid_range")
    group_by = query.get("group_by") or None
    if group_by is not None and group_by not in GROUP_BY:
        raise ReportError(f"Group the tables by one of: {', '.join(g.replace('_', ' ') for g in GROUP_BY)}.",
                          code="invalid_group_by")
    return ReportParams(start, end, group_by)


def preset_ranges(today: date) -> list[tuple[str, str, str]]:
    """(label, from, to) of the ranges the reports page offers with one click."""
    return [(label, (today - timedelta(days=n - 1)).isoformat(), today.isoformat())
            for label, n in (("Last 7 days", 7), ("Last 30 days", 30), ("Last 90 days", 90))]
