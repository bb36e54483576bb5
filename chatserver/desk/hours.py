"""The help desk's business hours now (chatserver/business_hours.py over the admin's settings): whether it is
open, when it opens next, business seconds for the reports, and seeding holidays from the `holidays` package."""
from __future__ import annotations

import functools

from ..business_hours import BadHours, BusinessHours, parse_holidays, seeded_holidays
from ..errors import InvalidPayload


@functools.lru_cache(maxsize=8)
def _parsed(zone: str, schedule: str, holidays: str) -> BusinessHours:
    return BusinessHours.from_text(zone, schedule, holidays)


def current(desk) -> BusinessHours:
    settings = desk.settings
    return _parsed(settings.get("hours_timezone"), settings.get("hours_schedule"), settings.get("hours_holidays"))


def status(desk, now: float | None = None) -> dict:
    """{open, next_open_at, timezone}: what the widget and `request_agent` tell the visitor, on the desk's clock."""
    now = desk.clock() if now is None else now
    hours = current(desk)
    return {"open": hours.is_open(now), "next_open_at": hours.next_open(now), "timezone": hours.zone.key}


async def add_country_holidays(desk, country: str, year: int) -> dict:
    """Merge a country's public holidays for a year into the holidays setting (existing lines are kept)."""
    if not (isinstance(year, int) and 2000 <= year <= 2100):
        raise InvalidPayload("the year must be between 2000 and 2100", code="out_of_range")
    try:
        found = seeded_holidays(country.strip(), [year])
    except BadHours as exc:
        raise InvalidPayload(str(exc), code="invalid_hours") from None
    merged = {**found, **parse_holidays(desk.settings.get("hours_holidays"))}
    text = "\n".join(f"{day.isoformat()} {name}".rstrip() for day, name in sorted(merged.items()))
    return await desk.settings.update({"hours_holidays": text})
