"""The per-conversation quality record (docs/quality.md): the widget's `quality` reports (validated, bounded in
size and rate) and what the server itself sees of the visitor's experience (disconnects, the first wait estimate
shown). Nothing is recorded when an admin turned it off (`quality_enabled`)."""
from __future__ import annotations

import logging
import math
import statistics
import time

from .. import validation
from ..errors import Conflict, InvalidPayload, RateLimited
from ..store import quality as quality_queries
from ..store import receipts as receipt_queries
from . import access

log = logging.getLogger(__name__)

MAX_SAMPLES = 200                 # latencies per list in one report
MAX_MS = 600_000.0                # 10 minutes: a latency beyond that is not a measurement
MAX_COUNT = 10_000
MAX_OFFLINE_SECONDS = 7 * 86400.0
MAX_OFFSET_MS = 7 * 86400_000.0
COUNTS = ("reconnects", "resends", "not_sent", "hidden_replies", "replies", "unsent")
FIELDS = {"conversation_id", "connect_ms", "offline_seconds", "ack_ms", "delivery_ms", "clock_offset_ms", *COUNTS}


def _number(body: dict, name: str, low: float, high: float, required: bool = True) -> float | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidPayload(f"'{name}' must be a number")
    if not low <= value <= high:
        raise InvalidPayload(f"'{name}' must be between {low:g} and {high:g}", code="out_of_range")
    return float(value)


def _samples(body: dict, name: str) -> list[float]:
    value = body.get(name, [])
    if not isinstance(value, list):
        raise InvalidPayload(f"'{name}' must be a list of milliseconds")
    if len(value) > MAX_SAMPLES:
        raise InvalidPayload(f"'{name}' holds at most {MAX_SAMPLES} values", code="out_of_range")
    return [_number({name: v}, name, 0.0, MAX_MS) for v in value]


def percentile(values: list[float], share: float) -> float | None:
    """Nearest rank (a value that happened), as the reports count."""
    values = sorted(values)
    return values[math.ceil(share * len(values)) - 1] if values else None


def parse_report(body: dict) -> dict:
    """The figures of one `quality` payload, or InvalidPayload naming the first bad field."""
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise InvalidPayload(f"unknown fields: {', '.join(map(str, unknown))[:200]}")
    figures = {name: validation.integer(body, name, minimum=0, maximum=MAX_COUNT, required=False) or 0
               for name in COUNTS}
    figures["connect_ms"] = _number(body, "connect_ms", 0.0, MAX_MS, required=False)
    figures["offline_seconds"] = _number(body, "offline_seconds", 0.0, MAX_OFFLINE_SECONDS, required=False) or 0.0
    figures["clock_offset_ms"] = _number(body, "clock_offset_ms", -MAX_OFFSET_MS, MAX_OFFSET_MS, required=False)
    acks, deliveries = _samples(body, "ack_ms"), _samples(body, "delivery_ms")
    figures.update({
        "acks": len(acks),
        "ack_p50_ms": statistics.median(acks) if acks else None,
        "ack_p95_ms": percentile(acks, 0.95), "ack_max_ms": max(acks, default=None),
        "delivery_p50_ms": statistics.median(deliveries) if deliveries else None,
        "delivery_p95_ms": percentile(deliveries, 0.95), "delivery_max_ms": max(deliveries, default=None),
    })
    if figures["hidden_replies"] > figures["replies"]:
        raise InvalidPayload("'hidden_replies' cannot exceed 'replies'", code="out_of_range")
    return figures


def enabled(desk) -> bool:
    return bool(desk.settings.get("quality_enabled"))


def _save(db, visitor_id: str, conversation_id: int, figures: dict, now: float) -> dict:
    access.visitor_owns(visitor_id, receipt_queries.conversation_for_receipt(db, conversation_id))
    return quality_queries.save_widget_report(db, conversation_id, figures, now)


async def report(desk, visitor_id: str, body: dict) -> dict:
    """Store the widget's measures of one of the visitor's conversations (they replace its previous report)."""
    if not enabled(desk):
        raise Conflict("quality measurement is switched off on this server", code="quality_disabled")
    conversation_id = validation.integer(body, "conversation_id", minimum=1, maximum=2**53)
    figures = parse_report(body)
    if not await desk.live.allow("visitor_quality", visitor_id, time.time()):
        raise RateLimited("at most a few quality reports a minute")
    record = await desk.store.write(_save, visitor_id, conversation_id, figures, time.time())
    return {"ok": True, "conversation_id": conversation_id, "reports": record["reports"]}


async def visitor_disconnected(desk, visitor_id: str) -> None:
    """A socket of the visitor dropped: counted on their open conversation's record."""
    if enabled(desk):
        await desk.store.write(quality_queries.count_disconnect, visitor_id, time.time())


async def note_estimates(desk, states: list[dict]) -> None:
    """The wait estimates waiting visitors were just shown: the first of each is the promise the reports hold the
    wait against. A side record: a failure is logged, never allowed to hold up routing."""
    estimates = [(s["conversation_id"], float(s["estimated_wait_seconds"])) for s in states
                 if s.get("estimated_wait_seconds") is not None and s.get("conversation_id")]
    if not estimates or not enabled(desk):
        return
    try:
        await desk.store.write(quality_queries.note_estimates, estimates, time.time())
    except Exception:
        log.exception("could not record the wait estimates shown")
