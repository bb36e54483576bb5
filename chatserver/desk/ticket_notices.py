"""Emails to agents about new tickets (opt-in on the Tickets page): a chat left waiting in the queue for
CHAT_TICKET_NOTICE_SECONDS (nobody online, or nobody took it) gets one notice per opted-in agent. The timed jobs'
leader finds such tickets in the database, so a restart loses none; each notice's Message-ID names the ticket and
the agent, so none is queued twice."""
from __future__ import annotations

import time

from ..mail.compose import Draft, Link, Paragraph, Quote, to_bytes
from ..store import outbox as outbox_queries
from ..store import ticket_notices as notice_queries
from . import outbox
from .email_replies import _when


async def set_opt_in(desk, agent: dict, wanted: bool) -> dict:
    await desk.store.write(notice_queries.set_opt_in, agent["id"], wanted, time.time())
    return {"ok": True, "ticket_emails": wanted}


async def opted_in(desk, agent: dict) -> bool:
    return await desk.store.read(notice_queries.opted_in, agent["id"])


def _queue_notices(db, desk, ticket: dict, recipients: list[dict], sender: str, now: float) -> int:
    who = ticket["visitor_name"] or ticket["visitor_email"] or "a visitor"
    queued = 0
    for agent in recipients:
        message_id = f"<ticket.{ticket['id']}.{agent['id']}@{outbox.mail_domain(desk)}>"
        draft = Draft(message_id=message_id, sender=sender, sender_name="Support desk", recipient=agent["email"],
                      subject=f"New ticket #{ticket['id']} from {who}", language="en", created_at=now,
                      blocks=[Paragraph(f"A chat is waiting for a person: ticket #{ticket['id']} from {who}."),
                              Quote(who, _when(ticket["queued_at"]), ticket["first_question"] or ""),
                              Link("Open the Tickets view", f"{desk.config.base_url}/console/tickets")])
        _, created = outbox_queries.queue_email(db, message_id, "ticket_notice", agent["email"], now,
                                                subject=draft.subject, raw=to_bytes(draft).decode("ascii"),
                                                conversation_id=ticket["id"])
        queued += created
    return queued


async def scan(desk) -> int:
    """A timed job: queue the notices of tickets waiting longer than CHAT_TICKET_NOTICE_SECONDS."""
    target, sender = outbox.email_settings(desk)
    if target is None:
        return 0
    recipients = await desk.store.read(notice_queries.recipients)
    if not recipients:
        return 0
    now = time.time()
    queued = 0
    for ticket in await desk.store.read(notice_queries.unnoticed_tickets, now - desk.config.ticket_notice_seconds):
        queued += await desk.store.write(_queue_notices, desk, ticket, recipients, sender, now)
    return queued
