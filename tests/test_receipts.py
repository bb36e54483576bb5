"""Delivered and seen receipts on `seq`, both ways, over a real server and real Socket.IO clients: stored,
heard by the other side, in the snapshots, and bad receipts refused with documented codes."""
from __future__ import annotations

import pytest

from chatserver.store import receipts as receipt_queries

from support.protocol import assert_documented_error
from support.server import FIXTURE_KB


@pytest.fixture
async def server(server_factory):
    return await server_factory(kb_dir=FIXTURE_KB, bot_enabled=False)


async def chat(server):
    await server.create_agent("dana@example.com", "Dana")
    agent = await server.agent("dana@example.com")
    visitor = await server.visitor()
    ack = await visitor.call("message", {"client_id": "v1", "text": "Hello, my parcel is late"})
    cid = ack["conversation_id"]
    await agent.wait_for("assigned", lambda a: a["conversation"]["id"] == cid)
    reply = await agent.call("message", {"conversation_id": cid, "client_id": "a1", "text": "Hi, Dana here."})
    assert reply["ok"], reply
    await visitor.wait_for("message", lambda m: m["author"] == "agent")
    return agent, visitor, cid, reply["seq"]


async def test_visitor_receipts_reach_the_agent_and_are_stored(server):
    agent, visitor, cid, reply_seq = await chat(server)
    ack = await visitor.call("receipt", {"conversation_id": cid, "delivered_seq": reply_seq})
    assert ack == {"ok": True, "conversation_id": cid, "delivered_seq": reply_seq, "seen_seq": 0}
    heard = await agent.wait_for("receipt", lambda r: r["delivered_seq"] == reply_seq)
    assert heard["reader"] == "visitor" and heard["seen_seq"] == 0 and heard["seen_at"] is None

    ack = await visitor.call("receipt", {"conversation_id": cid, "seen_seq": reply_seq})
    assert ack["seen_seq"] == reply_seq and ack["delivered_seq"] == reply_seq
    heard = await agent.wait_for("receipt", lambda r: r["seen_seq"] == reply_seq)
    assert heard["seen_at"] > 0

    # Going backwards changes nothing and tells nobody.
    before = len(agent.of("receipt"))
    ack = await visitor.call("receipt", {"conversation_id": cid, "delivered_seq": 1, "seen_seq": 1})
    assert ack["seen_seq"] == reply_seq
    current = await server.store.read(receipt_queries.current, cid)
    assert (current["delivered_seq"], current["seen_seq"]) == (reply_seq, reply_seq)
    timeline = await server.store.read(receipt_queries.timeline, cid)
    assert [(r["reader"], r["kind"], r["seq"]) for r in timeline] == [
        ("visitor", "delivered", reply_seq), ("visitor", "seen", reply_seq)]
    assert len(agent.of("receipt")) == before

    # A reconnecting console gets them in its snapshot.
    again = await server.agent("dana@example.com")
    snapshot = again.of("session")[0]["conversations"][0]
    assert snapshot["receipts"]["seen_seq"] == reply_seq


async def test_agent_receipts_reach_the_visitor_and_the_session(server):
    agent, visitor, cid, _ = await chat(server)
    ack = await agent.call("receipt", {"conversation_id": cid, "seen_seq": 1})
    assert ack == {"ok": True, "conversation_id": cid, "seen_seq": 1}
    heard = await visitor.wait_for("receipt")
    assert heard["reader"] == "agent" and heard["seen_seq"] == 1 and heard["conversation_id"] == cid
    token = visitor.of("session")[0]["visitor_token"]
    again = await server.visitor(token)
    assert again.of("session")[0]["receipts"]["agent_seen_seq"] == 1


async def test_bad_receipts_get_documented_codes_and_store_nothing(server):
    agent, visitor, cid, reply_seq = await chat(server)
    stranger = await server.visitor()
    await server.create_agent("sam@example.com", "Sam", role="admin")
    admin = await server.agent("sam@example.com", online=False)
    cases = [
        (visitor, {"conversation_id": cid}, "invalid_payload"),
        (visitor, {"conversation_id": "1", "seen_seq": 1}, "invalid_payload"),
        (visitor, {"conversation_id": cid, "seen_seq": True}, "invalid_payload"),
        (visitor, {"conversation_id": cid, "seen_seq": -1}, "out_of_range"),
        (visitor, {"conversation_id": cid, "seen_seq": reply_seq + 1}, "out_of_range"),
        (visitor, {"conversation_id": cid, "delivered_seq": 2**60}, "out_of_range"),
        (visitor, [1, 2], "invalid_payload"),
        (stranger, {"conversation_id": cid, "seen_seq": 1}, "not_found"),
        (agent, {"conversation_id": cid, "seen_seq": 99}, "out_of_range"),
        (agent, {"conversation_id": cid}, "invalid_payload"),
        (admin, {"conversation_id": cid, "seen_seq": 1}, "not_assigned"),
        (agent, {"conversation_id": 999999, "seen_seq": 1}, "not_found"),
    ]
    for client, payload, code in cases:
        ack = await client.call("receipt", payload)
        assert_documented_error(ack, payload)
        assert ack["error"] == code, (payload, ack)
    assert await server.store.read(receipt_queries.timeline, cid) == []


async def test_a_flood_of_receipts_is_rate_limited(server):
    _, visitor, cid, _ = await chat(server)
    answers = [await visitor.call("receipt", {"conversation_id": cid, "delivered_seq": 1}) for _ in range(70)]
    limited = [a for a in answers if not a["ok"]]
    assert limited and all(a["error"] == "rate_limited" for a in limited)
