"""Search and the console's lists over real sockets and a real store (SQLite FTS5, or PostgreSQL's text search
under CHAT_TEST_DATABASE_URL): words from closed conversations, every filter, Mine / Unassigned / All, the scope
of an agent and of a visitor (never another visitor's data, never a private note)."""
from __future__ import annotations

import datetime

from chatserver.store import labels as label_queries
from chatserver.store import search as search_queries

from support.server import ADMIN_EMAIL, ADMIN_PASSWORD, FIXTURE_KB


async def chat(server, agent, text, reply=None, close=True, n=[0]):
    n[0] += 1
    visitor = await server.visitor()
    cid = (await visitor.call("message", {"client_id": f"m{n[0]}", "text": text}))["conversation_id"]
    await visitor.call("request_agent", {})
    await agent.wait_for("assigned", lambda a: a["conversation"]["id"] == cid)
    if reply:
        await agent.call("message", {"conversation_id": cid, "client_id": f"r{n[0]}", "text": reply})
    if close:
        await agent.call("close", {"conversation_id": cid})
    return visitor, cid


def ids(ack):
    assert ack["ok"], ack
    return [c["id"] for c in ack["conversations"]]


async def test_words_from_closed_conversations_and_filters(server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB)
    await server.create_agent("ana@example.com", "Ana")
    ben_account = await server.create_agent("ben@example.com", "Ben")
    ana = await server.agent("ana@example.com")
    v1, c1 = await chat(server, ana, "Mon colis est arrivé cassé", reply="Sorry about the broken parcel, refund sent")
    v2, c2 = await chat(server, ana, "How do I reset my password?", reply="Use the Forgot password link")
    await ana.call("note", {"conversation_id": c2, "text": "suspicious zebra account"})
    ben = await server.agent("ben@example.com")
    await ana.call("status", {"status": "away"})
    v3, c3 = await chat(server, ben, "Another parcel question", close=False)
    admin = await server.agent(ADMIN_EMAIL, ADMIN_PASSWORD, online=False)

    # A word from a closed conversation; a prefix; case ignored; every word must match.
    assert ids(await admin.call("search", {"query": "refund"})) == [c1]
    assert ids(await admin.call("search", {"query": "PARC"})) == [c3, c1]
    found = await admin.call("search", {"query": "broken refund"})
    assert ids(found) == [c1]
    assert found["conversations"][0]["match"]["excerpt"] == "Sorry about the broken parcel, refund sent"
    assert found["conversations"][0]["preview"] == "Mon colis est arrivé cassé"
    assert ids(await admin.call("search", {"query": "broken zebra"})) == []
    # Operators and quotes are words, never syntax.
    assert ids(await admin.call("search", {"query": 'refund" * ( ^:'})) == [c1]
    assert ids(await admin.call("search", {"query": "refund OR zebra"})) == []     # "or" is a word here
    # Private notes are found by agents who may read them.
    assert ids(await admin.call("search", {"query": "zebra"})) == [c2]

    # Filters: status, agent, label, rating, dates.
    assert ids(await admin.call("search", {"status": "closed"})) == [c2, c1]
    assert ids(await admin.call("search", {"status": "open"})) == [c3]
    assert ids(await admin.call("search", {"agent_id": ben_account["id"]})) == [c3]
    label = await server.store.write(label_queries.add_label, "damaged", "#123", 0.0)
    await server.store.write(label_queries.set_labels, c1, [label["id"]], ben_account["id"], 0.0)
    labelled = await admin.call("search", {"label_id": label["id"]})
    assert ids(labelled) == [c1] and labelled["conversations"][0]["labels"] == ["damaged"]
    await v2.call("survey", {"conversation_id": c2, "csat": 5})
    rated = await admin.call("search", {"rating": 5})
    assert ids(rated) == [c2] and rated["conversations"][0]["rating"] == 5
    today = datetime.datetime.now(datetime.timezone.utc).date()
    assert ids(await admin.call("search", {"from": today.isoformat(), "to": today.isoformat()})) == [c3, c2, c1]
    tomorrow = (today + datetime.timedelta(days=1)).isoformat()
    assert ids(await admin.call("search", {"from": tomorrow})) == []
    assert ids(await admin.call("search", {"to": (today - datetime.timedelta(days=1)).isoformat()})) == []

    # Bad input: documented codes.
    for payload, code in [({"query": 5}, "invalid_payload"), ({"query": "x" * 201}, "text_too_long"),
                          ({"view": "everything"}, "invalid_payload"), ({"status": "snoozed"}, "invalid_payload"),
                          ({"from": "2025-02-30"}, "invalid_date"), ({"from": 20250101}, "invalid_date"),
                          ({"from": "2025-02-02", "to": "2025-02-01"}, "invalid_range"),
                          ({"rating": 6}, "out_of_range"), ({"label_id": "1"}, "invalid_payload"), ([], "invalid_payload")]:
        assert (await admin.call("search", payload))["error"] == code, payload


async def test_mine_unassigned_and_all_follow_who_may_read_what(server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB)
    await server.create_agent("ana@example.com", "Ana")
    await server.create_agent("ben@example.com", "Ben")
    ana = await server.agent("ana@example.com")
    _, mine_closed = await chat(server, ana, "first parcel")
    _, mine_open = await chat(server, ana, "second parcel", close=False)
    await ana.call("status", {"status": "away"})
    ben = await server.agent("ben@example.com")
    _, bens = await chat(server, ben, "third parcel", close=False)
    await ben.call("status", {"status": "away"})
    waiting_visitor = await server.visitor()
    waiting = (await waiting_visitor.call("message", {"client_id": "w1", "text": "fourth parcel"}))["conversation_id"]
    await waiting_visitor.call("request_agent", {})
    await ana.wait_for("queue", lambda q: any(c["conversation_id"] == waiting for c in q["conversations"]))

    assert ids(await ana.call("search", {"view": "mine"})) == [mine_open, mine_closed]
    assert ids(await ana.call("search", {"view": "unassigned"})) == [waiting]
    # All = every conversation Ana may read: hers and the queue, not Ben's chat.
    assert ids(await ana.call("search", {"view": "all"})) == [waiting, mine_open, mine_closed]
    assert ids(await ana.call("search", {"query": "parcel"})) == [waiting, mine_open, mine_closed]
    admin = await server.agent(ADMIN_EMAIL, ADMIN_PASSWORD, online=False)
    assert ids(await admin.call("search", {"view": "all"})) == [waiting, bens, mine_open, mine_closed]
    assert ids(await admin.call("search", {"view": "mine"})) == []


async def test_a_visitor_searches_only_their_own_conversations_and_never_notes(server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB)
    await server.create_agent("ana@example.com", "Ana")
    ana = await server.agent("ana@example.com")
    alice, alices = await chat(server, ana, "My invoice 7781 is wrong", reply="I corrected invoice 7781")
    await ana.call("note", {"conversation_id": alices, "text": "invoice customer is grumpy"})
    bob, bobs = await chat(server, ana, "Bob's invoice question", reply="Your invoice is attached")
    found = await alice.call("search", {"query": "invoice"})
    assert ids(found) == [alices]
    assert found["conversations"][0]["match"]["excerpt"] == "My invoice 7781 is wrong"
    assert set(found["conversations"][0]) == {"id", "status", "created_at", "closed_at", "resolution", "agent_name",
                                              "preview", "message_count", "match"}
    assert ids(await alice.call("search", {"query": "grumpy"})) == []      # a private note
    assert ids(await alice.call("search", {"query": "attached"})) == []    # Bob's conversation
    assert ids(await bob.call("search", {"query": "7781"})) == []
    assert ids(await bob.call("search", {"query": "invoice"})) == [bobs]
    assert ids(await alice.call("search", {"query": "!!!"})) == []
    assert (await alice.call("search", {}))["error"] == "invalid_payload"
    assert (await alice.call("search", {"query": ""}))["error"] == "empty_text"


def test_excerpt_cuts_around_the_first_word():
    text = "a" * 300 + " the refund went out " + "b" * 300
    cut = search_queries.excerpt(text, ("refund",))
    assert cut.startswith("…") and cut.endswith("…") and "the refund went out" in cut
    assert len(cut) <= search_queries.SNIPPET_CHARS + 2
