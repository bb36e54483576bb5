"""Three real node processes behind the repo's deploy/nginx.conf, on one PostgreSQL database and one Redis prefix,
driven by real Socket.IO clients that all go through nginx. Which node a client is on is chosen by the address it
connects from (nginx's ip_hash; tests/support/nginx_nodes.py) and checked in nginx's access log."""
from __future__ import annotations

import asyncio
import time

from support.nginx_nodes import node_cluster  # noqa: F401 (a fixture)


def bot_says(kind):
    return lambda m: m["author"] == "bot" and m["kind"] == kind


async def test_a_visitor_and_agents_on_three_nodes_go_through_a_whole_chat(node_cluster):
    cluster = await node_cluster(3)
    a, b, c = cluster.nodes
    dana = await cluster.create_agent("dana@example.com", "Dana")
    sam = await cluster.create_agent("sam@example.com", "Sam")
    on_a, on_b, on_c = [await cluster.source_for(node) for node in (a, b, c)]

    visitor = await cluster.visitor(on_a)
    assert cluster.node_of(on_a) == cluster.address(a)
    ack = await visitor.call("message", {"client_id": "v1", "text": "where is my parcel, I want to track my order"})
    assert ack["ok"], ack
    cid = ack["conversation_id"]
    await visitor.wait_for("message", bot_says("suggestions"))                     # the bot, on node a
    handoff = await visitor.call("request_agent", {})
    assert handoff["ok"] and handoff["status"] == "queued", handoff
    place = await visitor.wait_for("queue", lambda q: q.get("conversation_id") == cid)
    assert place["position"] == 1 and place["agents_online"] == 0

    console = await cluster.agent(on_b, "dana@example.com", online=False)      # node b, away
    assert cluster.node_of(on_b) == cluster.address(b)
    board = await console.wait_for("queue", lambda q: any(x["conversation_id"] == cid for x in q["conversations"]))
    assert board["conversations"][0]["conversation_id"] == cid
    assert (await console.call("status", {"status": "online"}))["ok"]         # node b assigns it to her
    assigned = await console.wait_for("assigned", lambda x: x["conversation"]["id"] == cid)
    assert any(m["author"] == "bot" for m in assigned["messages"])
    assert (await visitor.wait_for("agent_joined"))["agent_name"] == "Dana"

    reply = await console.call("message", {"conversation_id": cid, "client_id": "d1", "text": "on its way"})
    assert reply["ok"], reply
    assert (await visitor.wait_for("message", lambda m: m["text"] == "on its way"))["author"] == "agent"
    sent = await visitor.call("message", {"client_id": "v2", "text": "thanks, and the invoice?"})
    assert sent["ok"], sent
    assert (await console.wait_for("message", lambda m: m.get("client_id") == "v2"))["seq"] == sent["seq"]
    assert (await console.call("typing", {"conversation_id": cid, "typing": True}))["ok"]
    await visitor.wait_for("typing", lambda t: t["author"] == "agent" and t["typing"])
    await visitor.emit("typing", {"typing": True})
    await console.wait_for("typing", lambda t: t["author"] == "visitor" and t["typing"])

    other = await cluster.agent(on_c, "sam@example.com")                        # node c
    assert cluster.node_of(on_c) == cluster.address(c)
    moved = await console.call("transfer", {"conversation_id": cid, "agent_id": sam["id"]})
    assert moved["ok"], moved
    await console.wait_for("unassigned", lambda x: x["conversation_id"] == cid)
    taken = await other.wait_for("assigned", lambda x: x["conversation"]["id"] == cid)
    assert [m["client_id"] for m in taken["messages"] if m["author"] == "visitor"][-1] == "v2"
    await visitor.wait_for("agent_joined", lambda j: j["agent_name"] == "Sam")
    reply = await other.call("message", {"conversation_id": cid, "client_id": "s1", "text": "Sam here, invoice fixed"})
    assert reply["ok"], reply
    await visitor.wait_for("message", lambda m: m["text"] == "Sam here, invoice fixed")

    assert (await other.call("close", {"conversation_id": cid}))["ok"]
    closed = await visitor.wait_for("conversation_closed")
    assert closed["closed_by"] == "agent" and closed["survey"] is not None, closed
    survey = await visitor.call("survey", {"conversation_id": cid, "csat": 5, "comment": "quick"})
    assert survey["ok"] and survey["survey"]["csat"] == 5, survey
    assert dana["id"] != sam["id"]
