"""The lifecycle (open, pending, snoozed, resolved) and the Tickets view, with a real server and real clients:
agents set pending and snooze, a visitor's message or the snooze's end reopens, each change is an event with actor
and reason and reaches the agent's console; offline messages wait as tickets in Unassigned, an agent claims one
from the Tickets page and it moves to Mine; bad input gets documented codes."""
from __future__ import annotations

import asyncio
import time

from chatserver.store import conversations as conv_queries

from support.admin_client import AdminClient
from support.protocol import assert_documented_error


async def agent_http(server) -> AdminClient:
    return await AdminClient.login(server, "dana@shop.example", "agent-password-1")


async def assigned_chat(server):
    await server.create_agent("dana@shop.example", "Dana")
    agent = await server.agent("dana@shop.example")
    visitor = await server.visitor()
    ack = await visitor.call("message", {"client_id": "m1", "text": "My parcel is late"})
    cid = ack["conversation_id"]
    await agent.wait_for("assigned", lambda a: a["conversation"]["id"] == cid)
    return agent, visitor, cid


async def test_pending_snooze_and_reopen_with_events_and_console_updates(server_factory):
    server = await server_factory(bot_enabled=False)
    agent, visitor, cid = await assigned_chat(server)
    answer = await agent.call("set_pending", {"conversation_id": cid})
    assert answer == {"ok": True, "conversation_id": cid, "state": "pending", "snoozed_until": None}
    await agent.wait_for("conversation_state", lambda e: e["state"] == "pending")
    # The visitor writes: open again, in the same transaction as the message.
    await visitor.call("message", {"client_id": "m2", "text": "Any news?"})
    reopened = await agent.wait_for("conversation_state", lambda e: e["state"] == "open")
    assert reopened["reason"] == "the visitor wrote"

    until = time.time() + 1.5
    answer = await agent.call("snooze", {"conversation_id": cid, "until": int(until) + 1})
    assert answer["state"] == "snoozed" and answer["snoozed_until"] == int(until) + 1
    woke = await agent.wait_for("conversation_state", lambda e: e["reason"] == "the snooze ended", timeout=20)
    assert woke["state"] == "open"
    await agent.call("set_pending", {"conversation_id": cid})
    assert (await agent.call("reopen", {"conversation_id": cid}))["state"] == "open"

    events = [(e["type"], e["actor_type"], e["reason"]) for e in
              await server.store.read(conv_queries.conversation_events, cid)
              if e["type"] in ("pending", "snoozed", "reopened")]
    assert events == [("pending", "agent", "Dana is waiting on the visitor"),
                      ("reopened", "visitor", "the visitor wrote"),
                      ("snoozed", "agent", "snoozed by Dana"),
                      ("reopened", "system", "the snooze ended"),
                      ("pending", "agent", "Dana is waiting on the visitor"),
                      ("reopened", "agent", "reopened by Dana")]


async def test_lifecycle_refusals(server_factory):
    server = await server_factory(bot_enabled=False)
    agent, visitor, cid = await assigned_chat(server)
    await server.create_agent("sam@shop.example", "Sam")
    other = await server.agent("sam@shop.example", online=False)
    for client, event, payload, code in [
            (agent, "snooze", {"conversation_id": cid, "until": int(time.time()) - 10}, "out_of_range"),
            (agent, "snooze", {"conversation_id": cid, "until": int(time.time()) + 40 * 86400}, "out_of_range"),
            (agent, "snooze", {"conversation_id": cid}, "invalid_payload"),
            (agent, "set_pending", {"conversation_id": "x"}, "invalid_payload"),
            (agent, "set_pending", {"conversation_id": 999999}, "not_found"),
            (other, "set_pending", {"conversation_id": cid}, "not_assigned")]:
        ack = await client.call(event, payload)
        assert_documented_error(ack, (event, payload))
        assert ack["error"] == code, (event, payload, ack)
    await agent.call("close", {"conversation_id": cid})
    ack = await agent.call("set_pending", {"conversation_id": cid})
    assert ack["error"] == "conversation_closed"


async def test_offline_messages_are_tickets_claimed_from_the_tickets_view(server_factory):
    server = await server_factory(bot_enabled=False)
    await server.create_agent("dana@shop.example", "Dana")
    visitor = await server.visitor()                         # nobody is online: the chat waits as a ticket
    ack = await visitor.call("message", {"client_id": "m1", "text": "Where is <b>order</b> 7?"})
    cid = ack["conversation_id"]
    await visitor.call("contact", {"email": "eve@example.org", "name": "Eve"})
    agent = await server.agent("dana@shop.example", online=False)   # signed in, away: nothing is auto-assigned
    http = await agent_http(server)
    try:
        status, listed = await http.call("GET", "/api/console/tickets?view=unassigned")
        assert status == 200 and [t["id"] for t in listed["tickets"]] == [cid]
        ticket = listed["tickets"][0]
        assert ticket["lifecycle"] == "open" and ticket["visitor_email"] == "eve@example.org"
        _, page, _ = await http.get("/console/tickets")
        assert "Where is &lt;b&gt;order&lt;/b&gt; 7?" in page and "Claim" in page
        status, mine = await http.call("GET", "/api/console/tickets?view=mine")
        assert mine["tickets"] == []

        status, _, headers = await http.post_form(f"/console/tickets/{cid}/claim", {})
        assert status == 303 and headers["Location"] == "/console"
        await agent.wait_for("assigned", lambda a: a["conversation"]["id"] == cid)
        _, mine = await http.call("GET", "/api/console/tickets?view=mine")
        assert [t["id"] for t in mine["tickets"]] == [cid] and mine["tickets"][0]["agent_name"] == "Dana"
        _, unassigned = await http.call("GET", "/api/console/tickets?view=unassigned")
        assert unassigned["tickets"] == []
        await agent.call("set_pending", {"conversation_id": cid})
        _, pending = await http.call("GET", "/api/console/tickets?view=all&state=pending")
        assert [t["id"] for t in pending["tickets"]] == [cid]
        _, open_ = await http.call("GET", "/api/console/tickets?view=all&state=open")
        assert open_["tickets"] == []
        status, _, _ = await http.post_form(f"/console/tickets/{cid}/claim", {})     # taken already
        assert status == 409
        status, answer = await http.call("GET", "/api/console/tickets?view=everything")
        assert (status, answer["error"]) == (400, "invalid_view")
        status, answer = await http.call("GET", "/api/console/tickets?state=closedish")
        assert (status, answer["error"]) == (400, "invalid_view")
        status, _, _ = await http.post_form(f"/console/tickets/{cid}/claim", {}, with_csrf=False)
        assert status == 403
    finally:
        await http.close()
    async with __import__("aiohttp").ClientSession() as anonymous:
        async with anonymous.get(server.url + "/api/console/tickets") as resp:
            assert resp.status == 401


async def test_agents_who_opt_in_get_one_email_per_new_ticket(server_factory, tmp_path):
    from support.smtp_server import SmtpServer

    mail = SmtpServer(tmp_path).start()
    try:
        server = await server_factory(bot_enabled=False, smtp_url=mail.url(), email_from="support@shop.example",
                                      ticket_notice_seconds=0.3)
        await server.create_agent("dana@shop.example", "Dana")
        await server.create_agent("sam@shop.example", "Sam")
        http = await agent_http(server)
        try:
            status, _, _ = await http.post_form("/console/tickets/emails", {"ticket_emails": "on"})
            assert status == 303
            _, page, _ = await http.get("/console/tickets")
            assert 'name="ticket_emails" checked' in page
            visitor = await server.visitor()
            await visitor.call("contact", {"email": "eve@example.org", "name": "Eve <3"})
            cid = (await visitor.call("message", {"client_id": "m1", "text": "Refund <script>1</script>?"}))[
                "conversation_id"]
            [notice] = await mail.wait_for(1)
            assert notice.rcpt_tos == ["dana@shop.example"]          # Sam did not opt in
            assert notice.message["Subject"] == f"New ticket #{cid} from Eve <3"
            assert "Refund &lt;script&gt;1&lt;/script&gt;?" in notice.part("text/html")
            assert "/console/tickets" in notice.part("text/plain")
            await asyncio.sleep(1.5)
            assert len(mail.received) == 1                            # one notice per ticket and agent
            await http.post_form("/console/tickets/emails", {})        # opted out: the next ticket sends nothing
            other = await server.visitor()
            await other.call("message", {"client_id": "m1", "text": "Hello?"})
            await asyncio.sleep(1.5)
            assert len(mail.received) == 1
        finally:
            await http.close()
    finally:
        mail.stop()
