"""Webhooks (docs/webhooks.md): admins add endpoints (URL, events, secret); the store writes a delivery into the
outbox in the same transaction as each event; `deliver_due` (run by the timed jobs' leader, so once across a
cluster) sends what is due: each conversation's events in order per endpoint, retried with exponential backoff,
given up after the last attempt, and the endpoint paused after too many failures in a row (the admins are told:
the audit log and Admin → Webhooks say so). The sending itself (signature, address guard, aiohttp) is
chatserver/webhooks/, reached through `desk.webhook_sender`."""
from __future__ import annotations

import asyncio
import logging
import secrets
import time

from ..errors import InvalidFields, InvalidPayload
from ..store import webhooks as webhook_queries
from ..store.webhooks import EVENTS
from . import audit

log = logging.getLogger(__name__)
BATCH = 50
MAX_URL = 2000


def retry_delay(desk, attempts: int) -> float | None:
    """Seconds before attempt `attempts + 1` (base, 2x base, 4x base...), None once the attempts are used up."""
    if attempts >= desk.config.webhook_max_attempts:
        return None
    return desk.config.webhook_retry_base_seconds * 2 ** (attempts - 1)


async def clean_endpoint(desk, fields: dict) -> dict:
    errors: dict[str, str] = {}
    url = fields.get("url")
    if not isinstance(url, str) or not url.strip() or len(url) > MAX_URL:
        errors["url"] = "enter the URL that receives the events, like https://crm.example.com/hooks/chat"
    else:
        url = url.strip()
        try:
            await desk.webhook_sender.check(url)
        except ValueError as exc:
            errors["url"] = str(exc)
    events = fields.get("events")
    if not isinstance(events, list) or not events or not all(isinstance(e, str) and e in EVENTS for e in events):
        errors["events"] = f"choose one or more of: {', '.join(EVENTS)}"
    secret = fields.get("secret") or ""
    if not isinstance(secret, str) or (secret and not 16 <= len(secret) <= 200):
        errors["secret"] = "a secret of 16 to 200 characters, or leave it empty to have one made"
    if errors:
        raise InvalidFields(errors, code="invalid_webhook_url" if "url" in errors else "invalid_payload")
    return {"url": url, "events": [e for e in EVENTS if e in events], "secret": secret or secrets.token_urlsafe(32)}


async def add_endpoint(desk, fields: dict, actor: audit.Actor | None = None) -> dict:
    cleaned = await clean_endpoint(desk, fields)
    write = audit.audited(webhook_queries.create_endpoint, actor, "webhook.created", "webhook",
                          lambda e: (e["id"], {"url": [None, e["url"]], "events": [None, e["events"]]}))
    return await desk.store.write(write, cleaned["url"], cleaned["events"], cleaned["secret"], time.time())


async def delete_endpoint(desk, endpoint_id: int, actor: audit.Actor | None = None) -> None:
    write = audit.audited(webhook_queries.delete_endpoint, actor, "webhook.deleted", "webhook",
                          lambda e: (e["id"], {"url": [e["url"], None]}))
    await desk.store.write(write, endpoint_id)


async def resume_endpoint(desk, endpoint_id: int, actor: audit.Actor | None = None) -> dict:
    write = audit.audited(webhook_queries.resume_endpoint, actor, "webhook.resumed", "webhook",
                          lambda e: (e["id"], None))
    return await desk.store.write(write, endpoint_id, time.time())


async def resend(desk, endpoint_id: int, delivery_id: int, actor: audit.Actor | None = None) -> dict:
    write = audit.audited(webhook_queries.resend, actor, "webhook.resent", "webhook_delivery",
                          lambda d: (d["id"], {"event_id": [None, d["event_id"]]}))
    return await desk.store.write(write, endpoint_id, delivery_id, time.time())


def parse_id(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 15:
        raise InvalidPayload("not an id")
    return int(raw)


async def _attempt(desk, delivery: dict) -> None:
    outcome = await desk.webhook_sender.send(delivery["url"], delivery["secret"], delivery["event_id"],
                                             delivery["event_type"], delivery["body"])
    now = time.time()
    ok = outcome.status_code is not None and 200 <= outcome.status_code < 300
    delay = None if ok else retry_delay(desk, delivery["attempts"] + 1)
    result = await desk.store.write(webhook_queries.record_attempt, delivery["id"], now, outcome.status_code,
                                    outcome.error, outcome.excerpt, outcome.duration_ms,
                                    None if delay is None else now + delay, desk.config.webhook_pause_after_failures)
    if result["paused"]:
        log.warning("webhook %s paused after %d failed attempts in a row", result["endpoint_id"],
                    desk.config.webhook_pause_after_failures)
        await audit.append_now(desk, audit.SYSTEM, "webhook.paused", "webhook", result["endpoint_id"],
                               {"failures": [None, desk.config.webhook_pause_after_failures]})


async def deliver_due(desk) -> int:
    """Send every delivery due now (one per conversation and endpoint at a time, so order holds); how many."""
    due = await desk.store.read(webhook_queries.due_deliveries, time.time(), BATCH)
    if due:
        await asyncio.gather(*(_attempt(desk, d) for d in due))
    return len(due)
