"""The email outbox: every email is queued in the transaction of what causes it (store/outbox.py), then sent by
one worker across the cluster (started by the timed jobs' leader, timed_jobs.py) with retries and backoff. The
Message-ID is each email's idempotency key; a crash between the SMTP server's acceptance and our record of it
is the one window in which an email is handed over again, with the same Message-ID (docs/email.md)."""
from __future__ import annotations

import asyncio
import logging
import secrets
import time

from ..errors import Conflict, NotFound
from ..mail import strings
from ..mail.compose import Draft, Paragraph, to_bytes
from ..mail.sender import SendFailed
from ..mail.smtp_url import parse
from ..store import outbox as outbox_queries

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 10
MAX_BACKOFF_SECONDS = 3600.0
# One at a time: only the email being handed over is leased, so a crash delays no other email by its lease.
BATCH = 1
# Kinds composed when first sent (their content depends on what happened until then): kind -> fn(db, desk, email)
# returning a Draft, or None when the email is no longer needed (cancelled). Registered by the features.
DEFERRED: dict = {}
# Kinds that may turn out unneeded by their first attempt: kind -> async fn(desk, email) -> bool.
STILL_NEEDED: dict = {}
# Kinds whose bytes hold a secret (a password reset link): forgotten once the SMTP server accepted them, so a copy
# of the database taken later holds no working link.
SECRET_KINDS: set = set()


def email_settings(desk) -> tuple[object | None, str | None]:
    """(SmtpTarget, From address), or (None, why email is off)."""
    url, sender = desk.settings.get("smtp_url"), desk.settings.get("email_from")
    if not url:
        return None, "no SMTP server is set (CHAT_SMTP_URL or Settings)"
    if not sender:
        return None, "no From address is set (CHAT_EMAIL_FROM or Settings)"
    return parse(url), sender


def mail_domain(desk) -> str:
    sender = desk.settings.get("email_from") or "localhost"
    return sender.rsplit("@", 1)[-1]


def new_message_id(desk, kind: str) -> str:
    return f"<{kind}.{secrets.token_hex(10)}@{mail_domain(desk)}>"


def backoff(desk, attempt: int) -> float:
    """Seconds before the next attempt after `attempt` failed ones: doubling from CHAT_EMAIL_RETRY_SECONDS."""
    return min(desk.config.email_retry_seconds * 2 ** (attempt - 1), MAX_BACKOFF_SECONDS)


async def queue_test_email(desk, admin: dict, recipient: str) -> dict:
    """Admin → Settings, "Send a test email": queued like every other email, so it proves the whole path."""
    target, sender = email_settings(desk)
    if target is None:
        raise Conflict(f"email is off: {sender}", code="email_off")
    now = time.time()
    site = desk.config.base_url
    draft = Draft(message_id=new_message_id(desk, "test"), sender=sender,
                  sender_name=strings.text("en", "sender_name"), recipient=recipient,
                  subject=strings.text("en", "test_subject", site=site), language="en",
                  blocks=[Paragraph(strings.text("en", "test_body", site=site))], created_at=now)
    email, _ = await desk.store.write(outbox_queries.queue_email, draft.message_id, "test", recipient, now,
                                      subject=draft.subject, raw=to_bytes(draft).decode("ascii"),
                                      created_by=admin["id"])
    return email


async def status(desk) -> dict:
    """What admins see: whether email is on, the counts per status and the newest emails (last error, next retry)."""
    target, sender_or_reason = email_settings(desk)
    return {"enabled": target is not None,
            "off_reason": None if target is not None else sender_or_reason,
            "server": target.describe() if target is not None else None,
            "counts": await desk.store.read(outbox_queries.counts),
            "emails": await desk.store.read(outbox_queries.recent, 50)}


async def retry_now(desk, email_id: int) -> dict:
    email = await desk.store.write(outbox_queries.retry_now, email_id, time.time())
    if email is None:
        raise NotFound("no such email", code="email_not_found")
    return email


def start_delivery(desk) -> None:
    """Called on each tick of the timed jobs' leader: one delivery run at a time on this node."""
    running = desk.jobs.get("outbox")
    if running is not None and not running.done():
        return
    desk.jobs["outbox"] = asyncio.get_running_loop().create_task(_deliver_logged(desk))


async def _deliver_logged(desk) -> None:
    try:
        await deliver_due(desk)
    except Exception:
        log.exception("the outbox run failed")


async def deliver_due(desk) -> int:
    """Send every due email (queued and due, or leased by a worker that died); how many were sent."""
    target, sender = email_settings(desk)
    if target is None:
        return 0    # they wait, queued: admins see why (status)
    timeout = desk.config.smtp_timeout_seconds
    sent = 0
    while True:
        claimed = await desk.store.write(outbox_queries.claim_due, time.time(), 2 * timeout, BATCH)
        if not claimed:
            return sent
        for email in claimed:
            sent += await _attempt(desk, email, target, sender, timeout)


def _prepare(db, desk, email: dict) -> str | None:
    """The bytes to send: frozen at the first attempt (composed now for a deferred kind), or None: cancelled."""
    if email["raw"] is not None:
        return email["raw"]
    compose_for = DEFERRED.get(email["kind"])
    draft = compose_for(db, desk, email) if compose_for else None
    if draft is None:
        outbox_queries.cancel(db, email["id"], "no longer needed" if compose_for else f"unknown kind {email['kind']}")
        return None
    raw = to_bytes(draft).decode("ascii")
    outbox_queries.freeze(db, email["id"], draft.subject, raw)
    return raw


async def _attempt(desk, email: dict, target, sender: str, timeout: float) -> int:
    still_needed = STILL_NEEDED.get(email["kind"])
    if email["raw"] is None and still_needed is not None and not await still_needed(desk, email):
        await desk.store.write(outbox_queries.cancel, email["id"], "no longer needed")
        return 0
    try:
        raw = await desk.store.write(_prepare, desk, email)
    except Exception as exc:        # a composer's bug must not stop the other emails
        log.exception("email %s could not be composed", email["message_id"])
        await desk.store.write(outbox_queries.mark_failed_attempt, email["id"], email["attempts"],
                               f"could not be composed: {type(exc).__name__}", None)
        return 0
    if raw is None:
        return 0
    try:
        await desk.mailer.send(target, sender, email["recipient"], raw.encode("ascii"), timeout)
    except SendFailed as exc:
        attempt = email["attempts"]
        retry_at = None if exc.permanent or attempt >= MAX_ATTEMPTS else time.time() + backoff(desk, attempt)
        log.warning("email %s to %s failed (attempt %d): %s", email["message_id"], email["recipient"], attempt,
                    exc.reason)
        await desk.store.write(outbox_queries.mark_failed_attempt, email["id"], attempt, exc.reason, retry_at)
        return 0
    await desk.store.write(_mark_sent, email, time.time())
    return 1


def _mark_sent(db, email: dict, now: float) -> None:
    if outbox_queries.mark_sent(db, email["id"], email["attempts"], now) and email["kind"] in SECRET_KINDS:
        outbox_queries.forget_raw(db, email["id"])
