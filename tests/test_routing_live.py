"""Routing over real sockets: capacity, transfer, requeue after the grace period, agents disabled."""
from __future__ import annotations

from chatserver import keys
from chatserver.desk import presence
from chatserver.store import agents as agent_queries
from chatserver.store import conversations as conv_queries

from support.server import FIXTURE_KB


async def queued_visitor(server, text="I need a person"):
    visitor = await server.visitor()
    ack = await visitor.call("message", {"client_id": "q1", "text": text})
    await visitor.call("request_agent", {})
    return visitor, ack["conversation_id"]


async def test_capacity_then_slot_frees_and_oldest_waiting_is_assigned(server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB)
    await server.create_agent("one@example.com", "One", max_chats=1)
    agent = await server.agent("one@example.com")
    first, cid1 = await queued_visitor(server)
    await agent.wait_for("assigned", lambda a: a["conversation"]["id"] == cid1)
    second, cid2 = await queued_visitor(server)
    third, cid3 = await queued_visitor(server)
    q = await third.wait_for("queue", lambda q: q["conversation_id"] == cid3)
    assert q["position"] == 2 and q["agents_online"] == 1 and q["estimated_wait_seconds"] > 0
    assert (await agent.call("claim", {"conversation_id": cid2}))["error"] == "at_capacity"
    await agent.call("close", {"conversation_id": cid1})
    await agent.wait_for("assigned", lambda a: a["conversation"]["id"] == cid2)
    # The third visitor moves up.
    await third.wait_for("queue", lambda q: q["position"] == 1)


async def test_transfer_moves_the_chat_and_is_logged(server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB)
    a = await server.create_agent("a@example.com", "Ana")
    b = await server.create_agent("b@example.com", "Ben")
    ana = await server.agent("a@example.com")
    visitor, cid = await queued_visitor(server)
    await ana.wait_for("assigned")
    ben = await server.agent("b@example.com")
    ack = await ana.call("transfer", {"conversation_id": cid, "agent_id": b["id"]})
    assert ack["ok"] and ack["agent_id"] == b["id"], ack
    assigned = await ben.wait_for("assigned", lambda x: x["conversation"]["id"] == cid)
    assert assigned["reason"] == "transferred from Ana to Ben by Ana"
    await ana.wait_for("unassigned", lambda x: x["conversation_id"] == cid)
    await visitor.wait_for("agent_joined", lambda x: x["agent_name"] == "Ben")
    # Ana can no longer write there; Ben can.
    denied = await ana.call("message", {"conversation_id": cid, "client_id": "x1", "text": "still me?"})
    assert denied["error"] == "not_assigned"
    assert (await ben.call("message", {"conversation_id": cid, "client_id": "y1", "text": "Ben here"}))["ok"]
    # Transfer to someone away is refused with a clear code.
    await ben.call("status", {"status": "online"})
    await ana.call("status", {"status": "away"})
    refused = await ben.call("transfer", {"conversation_id": cid, "agent_id": a["id"]})
    assert refused["error"] == "agent_unavailable"
    events = await server.store.read(conv_queries.conversation_events, cid)
    assert [e["type"] for e in events][-2:] == ["assigned", "transferred"]


async def test_disconnected_agent_keeps_chats_for_the_grace_period_then_they_requeue(server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB, agent_grace_seconds=1.0)
    await server.create_agent("g@example.com", "Gia")
    await server.create_agent("h@example.com", "Hal")
    gia = await server.agent("g@example.com")
    visitor, cid = await queued_visitor(server)
    await gia.wait_for("assigned")
    await gia.disconnect()
    hal = await server.agent("h@example.com")
    requeued_to_hal = await hal.wait_for("assigned", lambda a: a["conversation"]["id"] == cid, timeout=6)
    assert requeued_to_hal["reason"].startswith("assigned to Hal")
    events = await server.store.read(conv_queries.conversation_events, cid)
    requeue = [e for e in events if e["type"] == "requeued"]
    assert requeue and requeue[0]["reason"] == "Gia was disconnected for more than 1 s"
    await visitor.wait_for("agent_joined", lambda x: x["agent_name"] == "Hal")


async def test_agent_reconnecting_within_grace_keeps_the_chat(server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB, agent_grace_seconds=30.0)
    await server.create_agent("k@example.com", "Kim")
    kim = await server.agent("k@example.com")
    visitor, cid = await queued_visitor(server)
    await kim.wait_for("assigned")
    await kim.disconnect()
    back = await server.agent("k@example.com")
    session = back.of("session")[0]
    assert [c["conversation"]["id"] for c in session["conversations"]] == [cid]
    assert (await back.call("message", {"conversation_id": cid, "client_id": "k1", "text": "back"}))["ok"]


async def test_disabling_an_agent_drops_their_socket_and_requeues(server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB)
    agent = await server.create_agent("d@example.com", "Dee")
    dee = await server.agent("d@example.com")
    visitor, cid = await queued_visitor(server)
    await dee.wait_for("assigned")
    updated = await server.store.write(agent_queries.update_agent, agent["id"], disabled=True)
    await presence.refresh_agent(server.app[keys.DESK], updated)
    conversation = await server.store.read(conv_queries.get_conversation, cid)
    assert conversation["status"] == "queued"
    assert not dee.sio.connected or dee.sio.namespaces == {}


async def test_an_agent_who_reconnects_within_the_grace_takes_the_chats_that_waited_meanwhile(server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB, agent_grace_seconds=30)
    await server.create_agent("one@example.com", "One")
    agent = await server.agent("one@example.com")
    await agent.disconnect()
    visitor, cid = await queued_visitor(server)
    waiting = await visitor.wait_for("queue", lambda q: q["conversation_id"] == cid)
    assert waiting["agents_online"] == 0
    # Back on a new socket, without sending `status` again: still online, and the waiting chat is theirs.
    back = await server.agent("one@example.com", online=False)
    assigned = await back.wait_for("assigned", lambda a: a["conversation"]["id"] == cid)
    assert "assigned to One" in assigned["reason"]
    await visitor.wait_for("agent_joined")
