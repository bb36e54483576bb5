"""The whole app as two cluster nodes (CHAT_REDIS_URL, one prefix): a visitor on one node and an agent on the other
go through queue, assignment, messages both ways, typing and close, every event crossing nodes through Redis.

A cluster node refuses SQLite (tests/test_cluster_settings.py). Until the PostgreSQL store lands, these two
in-process nodes share one SQLite file under tmp_path instead (safe in a test: SQLite locks across connections,
and the nodes start one after the other), by letting `uses_sqlite` answer no: the refusal itself is not under test
here, the cluster's wiring through `create_app` is."""
from __future__ import annotations

import pytest

from chatserver.cluster import node as cluster_node

from support.redis_service import redis_prefix, redis_url  # noqa: F401 (fixtures)


@pytest.fixture
def nodes_share_sqlite(monkeypatch):
    monkeypatch.setattr(cluster_node, "uses_sqlite", lambda config: False)


async def test_a_visitor_on_one_node_and_an_agent_on_another_go_through_a_whole_chat(server_factory, redis_url,
                                                                                     redis_prefix,
                                                                                     nodes_share_sqlite):
    cluster = {"redis_url": redis_url, "redis_prefix": redis_prefix, "bot_enabled": False, "kb_encoder": False}
    a = await server_factory(**cluster)
    b = await server_factory(**cluster)
    await a.create_agent("dana@example.com", "Dana")
    console = await b.agent("dana@example.com", online=False)         # on node b, away
    visitor = await a.visitor()                                       # on node a
    ack = await visitor.call("message", {"client_id": "c1", "text": "where is my parcel"})
    assert ack["ok"], ack
    cid = ack["conversation_id"]
    place = await visitor.wait_for("queue", lambda q: q.get("conversation_id") == cid)
    assert place["position"] == 1 and place["agents_online"] == 0
    board = await console.wait_for("queue", lambda q: any(c["conversation_id"] == cid for c in q["conversations"]))
    assert board["conversations"][0]["first_question"] == "where is my parcel"
    assert (await console.call("status", {"status": "online"}))["ok"]   # node b assigns it to her
    assigned = await console.wait_for("assigned")
    assert assigned["conversation"]["id"] == cid
    assert (await visitor.wait_for("agent_joined"))["agent_name"] == "Dana"
    reply = await console.call("message", {"conversation_id": cid, "client_id": "r1", "text": "on its way"})
    assert reply["ok"], reply
    assert (await visitor.wait_for("message", lambda m: m["text"] == "on its way"))["author"] == "agent"
    assert (await visitor.call("message", {"client_id": "c2", "text": "thanks"}))["ok"]
    await console.wait_for("message", lambda m: m["text"] == "thanks")
    assert (await console.call("typing", {"conversation_id": cid, "typing": True}))["ok"]
    await visitor.wait_for("typing", lambda t: t["author"] == "agent" and t["typing"])
    assert (await console.call("close", {"conversation_id": cid}))["ok"]
    closed = await visitor.wait_for("conversation_closed")
    assert closed["conversation_id"] == cid and closed["closed_by"] == "agent"
