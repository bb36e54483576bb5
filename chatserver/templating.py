"""The Jinja environment of the server's pages (autoescaped) and the filters they share."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import jinja2


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, timezone.utc)


def format_datetime(timestamp: float) -> str:
    """'23 Nov 2026, 14:05 UTC': pages are read by people in several time zones, so the zone is always named."""
    return _utc(timestamp).strftime("%d %b %Y, %H:%M UTC")


def iso_time(timestamp: float) -> str:
    """For <time datetime=...>: machine-readable, so a browser or a test can read the exact moment."""
    return _utc(timestamp).isoformat(timespec="seconds")


def environment(folder: Path) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(folder), autoescape=True, trim_blocks=True,
                             lstrip_blocks=True)
    env.filters["datetime"] = format_datetime
    env.filters["isotime"] = iso_time
    return env
