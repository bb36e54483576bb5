"""`ticket.created` (docs/webhooks.md): a chat left waiting in the queue CHAT_TICKET_NOTICE_SECONDS (here nobody is
online) becomes a ticket once, and a real receiver gets one signed `ticket.created` for it, with or without email
configured; a chat an agent takes at once never becomes one."""
from __future__ import annotations

import asyncio

from support.admin_client import AdminClient
from support.webhook_receiver import Receiver, verify
from test_webhooks import add_webhook, allow_private


async def test_a_chat_left_waiting_becomes_one_ticket_and_its_webhook_arrives_signed(server_factory):
    receiver = await Receiver().start()
    server = await server_factory(bot_enabled=False, ticket_notice_seconds=0.3)
    admin = await AdminClient.login(server)
    try:
        await allow_private(server)
        status, page, secret = await add_webhook(admin, receiver.url, ["ticket.created", "conversation.queued"])
        assert status == 200 and secret, page[:500]
        await server.create_agent("dana@shop.example", "Dana")
        visitor = await server.visitor()                      # nobody is online: the chat waits
        visitor_id = visitor.of("session")[0]["visitor_id"]
        await visitor.call("contact", {"email": "eve@example.org", "name": "Eve"})
        ack = await visitor.call("message", {"client_id": "m1", "text": "Where is order 7?"})
        cid = ack["conversation_id"]
        await receiver.wait_until(lambda: "ticket.created" in [e["type"] for e in receiver.events()])
        await asyncio.sleep(2.5)                                # more ticks of the timed jobs: still one
        events = receiver.events()
        assert [e["type"] for e in events] == ["conversation.queued", "ticket.created"]
        ticket = events[1]
        assert ticket["conversation_id"] == cid
        data = ticket["data"]
        assert data["visitor_id"] == visitor_id and data["status"] == "queued"
        assert (data["first_question"], data["visitor_email"], data["visitor_name"]) == \
            ("Where is order 7?", "eve@example.org", "Eve")
        assert data["queued_at"] <= ticket["created_at"]
        headers, body, _ = receiver.requests[1]
        assert verify(secret, headers, body) and headers["X-Chat-Event"] == "ticket.created"

        # An agent online takes the next chat at once: it is never a ticket.
        dana = await server.agent("dana@shop.example")
        other = await server.visitor()
        second = await other.call("message", {"client_id": "m1", "text": "Hello?"})
        await dana.wait_for("assigned", lambda a: a["conversation"]["id"] == second["conversation_id"])
        await receiver.wait_until(lambda: len(receiver.events()) == 3)        # its conversation.queued
        await asyncio.sleep(2.5)
        assert [e["type"] for e in receiver.events()] == ["conversation.queued", "ticket.created",
                                                          "conversation.queued"]
        tickets = await server.store.read(lambda db: [r[0] for r in db.execute(
            "SELECT conversation_id FROM conversation_tickets ORDER BY conversation_id").fetchall()])
        assert tickets == [cid]
    finally:
        await admin.close()
        await receiver.stop()
