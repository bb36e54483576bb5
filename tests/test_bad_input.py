"""Bad input gets a clear, documented error ack and loses nothing; the server keeps serving."""
from __future__ import annotations

import pytest

from support.protocol import assert_documented_error
from support.server import FIXTURE_KB

LONG = "x" * 4001

VISITOR_CASES = [
    ("message", None), ("message", "just a string"), ("message", [1, 2]), ("message", {"text": "no id"}),
    ("message", {"client_id": "a", "text": 5}), ("message", {"client_id": "a", "text": "   "}),
    ("message", {"client_id": "a", "text": LONG}), ("message", {"client_id": "bad id with spaces", "text": "x"}),
    ("message", {"client_id": 7, "text": "x"}), ("message", {"client_id": "a", "text": "nul\x00byte"}),
    ("typing", {}), ("typing", {"typing": "yes"}),
    ("sync", {}), ("sync", {"after_seq": "0"}), ("sync", {"after_seq": -1}), ("sync", {"after_seq": True}),
    ("contact", {}), ("contact", {"email": "not-an-email"}), ("contact", {"email": "a@b.co", "name": 3}),
    ("article", {}), ("article", {"slug": "../../etc/passwd"}), ("article", {"slug": "no-such-article"}),
    ("article_feedback", {"slug": "track-order"}), ("article_feedback", {"slug": "track-order", "helpful": "yes"}),
    ("request_agent", "x"), ("close", 5), ("no_such_event", {}),
]

AGENT_CASES = [
    ("status", {}), ("status", {"status": "sleeping"}),
    ("claim", {}), ("claim", {"conversation_id": "1"}), ("claim", {"conversation_id": 999999}),
    ("message", {"conversation_id": 1}), ("message", {"conversation_id": 1, "client_id": "c", "text": LONG}),
    ("message", {"conversation_id": 999999, "client_id": "c", "text": "hi"}),
    ("note", {"conversation_id": 999999, "text": "hi"}), ("note", {"text": "hi"}),
    ("typing", {"conversation_id": 999999, "typing": True}), ("typing", {"conversation_id": 1}),
    ("transfer", {"conversation_id": 1}), ("transfer", {"conversation_id": 999999, "agent_id": 1}),
    ("close", {"conversation_id": 999999}), ("close", {"conversation_id": 2**60}),
    ("sync", {"conversation_id": 999999, "after_seq": 0}), ("sync", {"conversation_id": 1, "after_seq": "z"}),
    ("conversation", {"conversation_id": 999999}), ("kb_search", {"query": ""}), ("kb_search", {}),
    ("send_article", {"conversation_id": 1, "slug": "no-such-article"}), ("whatever", None),
]


@pytest.fixture
async def server(server_factory):
    return await server_factory(kb_dir=FIXTURE_KB)


async def test_visitor_events_refuse_bad_payloads(server):
    visitor = await server.visitor()
    for event, payload in VISITOR_CASES:
        ack = await visitor.call(event, payload)
        assert_documented_error(ack, (event, payload))
    # Still serving, and nothing was stored by the refused messages.
    ack = await visitor.call("message", {"client_id": "fine", "text": "hello"})
    assert ack["ok"] and ack["seq"] == 1


async def test_agent_events_refuse_bad_payloads(server):
    await server.create_agent("e@example.com", "Eve")
    agent = await server.agent("e@example.com")
    for event, payload in AGENT_CASES:
        ack = await agent.call(event, payload)
        assert_documented_error(ack, (event, payload))
    assert (await agent.call("status", {"status": "away"}))["ok"]


async def test_another_visitors_conversation_is_not_found_everywhere(server):
    await server.create_agent("f@example.com", "Fay")
    owner = await server.visitor()
    cid = (await owner.call("message", {"client_id": "o1", "text": "private stuff"}))["conversation_id"]
    intruder = await server.visitor()
    ack = await intruder.call("sync", {"after_seq": 0, "conversation_id": cid})
    assert ack["error"] == "not_found"
    # The intruder has no conversation, so conversation-bound events say so.
    for event, payload in [("close", {}), ("typing", {"typing": True}),
                           ("article_feedback", {"slug": "track-order", "helpful": True})]:
        assert (await intruder.call(event, payload))["error"] == "no_conversation"
    # An agent who is not assigned cannot write into it.
    agent = await server.agent("f@example.com", online=False)
    ack = await agent.call("message", {"conversation_id": cid, "client_id": "z", "text": "hi"})
    assert ack["error"] == "not_assigned"


async def test_visitor_messages_are_rate_limited(server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB, rate_limit_messages=3, rate_limit_window_seconds=60)
    visitor = await server.visitor()
    acks = [await visitor.call("message", {"client_id": f"r{n}", "text": f"m{n}"}) for n in range(5)]
    assert [a["ok"] for a in acks] == [True, True, True, False, False]
    assert acks[3]["error"] == "rate_limited"
    other = await server.visitor()
    assert (await other.call("message", {"client_id": "r0", "text": "unaffected"}))["ok"]


async def test_oversized_frames_close_only_that_connection(server):
    visitor = await server.visitor()
    await visitor.emit("message", {"client_id": "big", "text": "y" * 100_000})
    healthy = await server.visitor()
    assert (await healthy.call("message", {"client_id": "h", "text": "still here"}))["ok"]
