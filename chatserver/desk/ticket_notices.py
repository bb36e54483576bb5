"""New tickets: a chat left waiting in the queue for CHAT_TICKET_NOTICE_SECONDS (nobody online, outside business
hours, or nobody took it) becomes a ticket, once: in one transaction its conversation_tickets row, the
`ticket.created` webhook (docs/webhooks.md) and one email notice per agent who opted in on the Tickets page. The
timed jobs' leader finds such chats in the database, so a restart loses none; each notice's Message-ID names the
ticket and the agent, so none is queued twice."""
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


def _created(db, desk, ticket: dict, recipients: list[dict], sender: str | None, now: float) -> int:
    """The ticket and its webhook, and its notices (how many)."""
    if not notice_queries.create_ticket(db, ticket, now):
        return 0
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
    """A timed job: the chats waiting longer than CHAT_TICKET_NOTICE_SECONDS become tickets; returns how many
    notices were queued."""
    now = time.time()
    found = await desk.store.read(notice_queries.new_tickets, now - desk.config.ticket_notice_seconds)
    if not found:
        return 0
    target, sender = outbox.email_settings(desk)
    recipients = await desk.store.read(notice_queries.recipients) if target is not None else []
    queued = 0
    for ticket in found:
        queued += await desk.store.write(_created, desk, ticket, recipients, sender, now)
    return queued
