"""Whole journeys over a real server, real Socket.IO clients and a real SQLite file."""
from __future__ import annotations

import asyncio

import aiohttp
import pytest

from chatserver import keys
from chatserver.desk import sessions
from chatserver.store import conversations as conv_queries

from support.server import FIXTURE_KB, Recorder


@pytest.fixture
async def server(server_factory):
    return await server_factory(kb_dir=FIXTURE_KB)


async def test_visitor_queue_agent_exchange_and_close(server):
    await server.create_agent("dana@example.com", "Dana")
    visitor = await server.visitor()
    session = visitor.of("session")[0]
    assert session["visitor_token"].startswith("v1.")
    assert session["conversation"] is None

    ack = await visitor.call("message", {"client_id": "m1", "text": "Hello, I need help with an invoice"})
    assert ack["ok"] is True and ack["seq"] == 1
    cid = ack["conversation_id"]

    ack = await visitor.call("request_agent", {})
    assert ack["ok"] and ack["status"] == "queued"
    queue = await visitor.wait_for("queue", lambda q: q["conversation_id"] == cid)
    assert queue["position"] == 1
    assert queue["agents_online"] == 0          # honest: nobody is there yet
    assert queue["estimated_wait_seconds"] is None

    agent = await server.agent("dana@example.com")
    assigned = await agent.wait_for("assigned", lambda a: a["conversation"]["id"] == cid)
    assert "assigned to Dana" in assigned["reason"]
    texts = [m["text"] for m in assigned["messages"]]
    assert "Hello, I need help with an invoice" in texts
    joined = await visitor.wait_for("agent_joined")
    assert joined["agent_name"] == "Dana"

    ack = await agent.call("message", {"conversation_id": cid, "client_id": "a1", "text": "Hi, Dana here."})
    assert ack["ok"], ack
    got = await visitor.wait_for("message", lambda m: m["author"] == "agent")
    assert got["text"] == "Hi, Dana here." and got["agent_name"] == "Dana"

    ack = await visitor.call("message", {"client_id": "m2", "text": "Thanks! Invoice 42 is wrong."})
    assert ack["ok"]
    got = await agent.wait_for("message", lambda m: m["author"] == "visitor" and m["client_id"] == "m2")
    assert got["seq"] == ack["seq"]

    ack = await agent.call("close", {"conversation_id": cid})
    assert ack["ok"], ack
    closed = await visitor.wait_for("conversation_closed")
    assert closed["conversation_id"] == cid and closed["resolution"] == "resolved"

    events = await server.store.read(conv_queries.conversation_events, cid)
    assert [e["type"] for e in events] == ["created", "queued", "assigned", "closed"]
    assert events[2]["reason"].startswith("assigned to Dana: online, 0 of 3 chats")


async def test_reconnect_gets_exactly_the_missed_messages(server):
    await server.create_agent("sam@example.com", "Sam")
    agent = await server.agent("sam@example.com")
    visitor = await server.visitor()
    token = visitor.of("session")[0]["visitor_token"]
    ack = await visitor.call("message", {"client_id": "c-1", "text": "Where is my order?"})
    cid = ack["conversation_id"]
    await visitor.call("request_agent", {})
    await agent.wait_for("assigned")
    # The visitor has seen everything so far.
    sync = await visitor.call("sync", {"after_seq": 0})
    last_seq = sync["messages"][-1]["seq"]
    await visitor.disconnect()

    for n, text in enumerate(["First reply while you were away", "Second reply"]):
        ack = await agent.call("message", {"conversation_id": cid, "client_id": f"a-{n}", "text": text})
        assert ack["ok"], ack

    again = await server.visitor(token=token, last_seq=last_seq)
    session = again.of("session")[0]
    assert session["conversation"]["id"] == cid
    assert [m["text"] for m in session["messages"]] == ["First reply while you were away", "Second reply"]
    seqs = [m["seq"] for m in session["messages"]]
    assert seqs == sorted(seqs) and seqs[0] > last_seq

    # A replayed client_id returns the same ack and stores nothing new.
    replay = await again.call("message", {"client_id": "c-1", "text": "Where is my order?"})
    assert replay["ok"] and replay["duplicate"] is True and replay["seq"] == 1
    all_messages = await server.store.read(conv_queries.messages_after, cid, 0, True)
    assert sum(1 for m in all_messages if m.get("client_id") == "c-1") == 1


async def test_token_never_reaches_another_visitors_conversation(server):
    alice = await server.visitor()
    ack = await alice.call("message", {"client_id": "x", "text": "my secret address is 1 Main St"})
    alice_cid = ack["conversation_id"]
    mallory = await server.visitor()
    # Sync of a conversation id that is not hers: not found, nothing leaked.
    answer = await mallory.call("sync", {"after_seq": 0, "conversation_id": alice_cid})
    assert answer == {"ok": False, "error": "not_found", "message": answer["message"]}
    # A forged token gives a fresh anonymous visitor, not Alice.
    alice_token = alice.of("session")[0]["visitor_token"]
    forged = alice_token[:-4] + ("aaaa" if not alice_token.endswith("aaaa") else "bbbb")
    other = await server.visitor(token=forged, last_seq=0)
    session = other.of("session")[0]
    assert session["conversation"] is None and session["messages"] == []
    assert session["visitor_token"] != alice_token


async def test_messages_from_one_client_are_stored_in_send_order(server):
    visitor = await server.visitor()
    texts = [f"line {n}" for n in range(8)]
    acks = await asyncio.gather(*(visitor.call("message", {"client_id": f"o{n}", "text": t})
                                  for n, t in enumerate(texts)))
    assert all(a["ok"] for a in acks), acks
    cid = acks[0]["conversation_id"]
    stored = [m for m in await server.store.read(conv_queries.messages_after, cid, 0, True) if m["author"] == "visitor"]
    assert [m["text"] for m in stored] == texts


async def test_no_agent_online_then_agent_arrives(server):
    await server.create_agent("lee@example.com", "Lee")
    visitor = await server.visitor()
    ack = await visitor.call("request_agent", {})
    assert ack["ok"] and ack["agents_online"] == 0 and ack["queue"]["position"] == 1
    agent = await server.agent("lee@example.com", online=False)
    queue = agent.of("session")[0]["queue"]
    assert queue["conversations"][0]["conversation_id"] == ack["conversation_id"]
    assert queue["agents_online"] == 0
    await agent.call("status", {"status": "online"})
    await agent.wait_for("assigned")
    await visitor.wait_for("agent_joined")


async def test_agent_socket_requires_login_and_same_origin(server):
    import socketio

    anonymous = Recorder("/agent")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await anonymous.connect(server.url, auth={"token": "not-a-session"})
    token = await server.login("admin@localhost", "admin-password-1")
    foreign = Recorder("/agent")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await foreign.connect(server.url, auth={"token": token}, headers={"Origin": "https://evil.example"})
    ok = Recorder("/agent")
    await ok.connect(server.url, auth={"token": token})
    server.clients.append(ok)
    await ok.wait_for("session")


async def test_visitor_leaves_contact_details_when_nobody_is_online(server):
    from chatserver.store import visitors as visitor_queries

    visitor = await server.visitor()
    ack = await visitor.call("request_agent", {})
    assert ack["agents_online"] == 0
    saved = await visitor.call("contact", {"email": "  kim@example.org ", "name": "Kim"})
    assert saved == {"ok": True, "email": "kim@example.org", "name": "Kim"}
    visitor_id = visitor.of("session")[0]["visitor_id"]
    row = await server.store.read(visitor_queries.get_visitor, visitor_id)
    assert (row["email"], row["name"]) == ("kim@example.org", "Kim")
    events = await server.store.read(conv_queries.conversation_events, ack["conversation_id"])
    assert events[-1]["type"] == "contact"


async def test_visitor_closing_while_queued_leaves_the_queue(server):
    first = await server.visitor()
    second = await server.visitor()
    cid1 = (await first.call("request_agent", {}))["conversation_id"]
    cid2 = (await second.call("request_agent", {}))["conversation_id"]
    await second.wait_for("queue", lambda q: q["conversation_id"] == cid2 and q["position"] == 2)
    closed = await first.call("close", {})
    assert closed["resolution"] == "abandoned" and closed["conversation_id"] == cid1
    await second.wait_for("queue", lambda q: q["conversation_id"] == cid2 and q["position"] == 1)


async def test_a_visitors_other_tabs_see_its_messages_and_the_sending_tab_only_gets_the_ack(server):
    first_tab = await server.visitor()
    token = first_tab.of("session")[0]["visitor_token"]
    second_tab = await server.visitor(token=token)
    stranger = await server.visitor()

    ack = await first_tab.call("message", {"client_id": "t1", "text": "Where is my parcel?"})
    assert ack["ok"], ack
    echoed = await second_tab.wait_for("message", lambda m: m.get("client_id") == "t1")
    assert echoed["seq"] == ack["seq"] and echoed["author"] == "visitor"
    # The bot answers both tabs; by then the sender would have had its own message too if it were echoed.
    await first_tab.wait_for("message", lambda m: m["author"] == "bot")
    await asyncio.sleep(0.2)
    assert not [m for m in first_tab.of("message") if m.get("client_id") == "t1"]
    assert not stranger.of("message")


async def test_session_snapshot_comes_before_what_the_visitors_first_events_cause(server, monkeypatch):
    """A widget asks for a person the moment it connects; the `session` snapshot must not arrive after (and so
    overwrite) the `agent_joined` that request caused. A slow disk is simulated by delaying the snapshot's read."""
    await server.create_agent("sam@example.com", "Sam", max_chats=10)
    await server.agent("sam@example.com")
    store_read = server.store.read

    async def slow_snapshot_read(query, *args):
        if query is conv_queries.open_conversation_of:
            await asyncio.sleep(0.3)
        return await store_read(query, *args)

    monkeypatch.setattr(server.store, "read", slow_snapshot_read)
    visitors = []
    for _ in range(8):
        client = Recorder("/visitor")
        server.clients.append(client)
        await client.connect(server.url, auth={})
        visitors.append(client)
    acks = await asyncio.gather(*(client.call("request_agent", {}) for client in visitors))
    assert all(ack["ok"] for ack in acks), acks
    for client in visitors:
        await client.wait_for("agent_joined")
        names = [name for name, _ in client.events]
        assert names.index("session") < names.index("agent_joined"), names
        assert client.of("session")[0]["conversation"] is None


async def test_session_states_routing_as_it_is_when_sent_not_when_read(server, monkeypatch):
    """A visitor reconnects while their chat waits; an agent takes it while the snapshot is being read. The
    `session` that follows the `agent_joined` must not say the chat is still queued."""
    first = await server.visitor()
    token = first.of("session")[0]["visitor_token"]
    ack = await first.call("request_agent", {})
    assert ack["ok"] and ack["status"] == "queued", ack
    await first.disconnect()
    await server.create_agent("sam@example.com", "Sam")
    store_read = server.store.read
    taken = asyncio.Event()

    async def slow_after_snapshot_read(query, *args):
        found = await store_read(query, *args)
        if query is sessions.visitor_view:
            await asyncio.wait_for(taken.wait(), 20)    # the row is read; the agent takes the chat meanwhile
        return found

    monkeypatch.setattr(server.store, "read", slow_after_snapshot_read)
    again = Recorder("/visitor")
    server.clients.append(again)
    await again.connect(server.url, auth={"visitor_token": token})
    await server.agent("sam@example.com")                     # online: takes the waiting chat at once
    joined = await again.wait_for("agent_joined")
    taken.set()
    session = await again.wait_for("session")
    names = [name for name, _ in again.events]
    assert names.index("agent_joined") < names.index("session"), names    # the race this test is about
    assert joined["conversation_id"] == session["conversation"]["id"]
    assert (session["conversation"]["status"], session["conversation"]["agent_name"]) == ("assigned", "Sam")
    assert session["queue"] is None


async def test_visitors_list_their_own_previous_conversations_only(server):
    visitor = await server.visitor()
    token = visitor.of("session")[0]["visitor_token"]
    asked = []
    for n in range(3):
        question = f"Question number {n}: where is my parcel?"
        ack = await visitor.call("message", {"client_id": f"c{n}", "text": question})
        assert ack["ok"], ack
        asked.append((ack["conversation_id"], question))
        closed = await visitor.call("close", {})
        assert closed["ok"], closed
    stranger = await server.visitor()

    answer = await visitor.call("conversations", {})
    assert answer["ok"] and answer["more"] is False
    assert [(c["id"], c["preview"]) for c in answer["conversations"]] == list(reversed(asked))
    assert all(c["status"] == "closed" and c["message_count"] >= 1 for c in answer["conversations"])
    page = await visitor.call("conversations", {"before_id": asked[1][0]})
    assert [c["id"] for c in page["conversations"]] == [asked[0][0]]
    # Another tab with the same token sees them; another visitor sees none and cannot read one.
    other_tab = await server.visitor(token=token)
    assert len((await other_tab.call("conversations", {}))["conversations"]) == 3
    assert (await stranger.call("conversations", {}))["conversations"] == []
    refused = await stranger.call("sync", {"conversation_id": asked[0][0], "after_seq": 0})
    assert refused["ok"] is False and refused["error"] == "not_found"
    transcript = await visitor.call("sync", {"conversation_id": asked[0][0], "after_seq": 0})
    assert transcript["messages"][0]["text"] == asked[0][1]
    for bad in ({"before_id": "x"}, {"before_id": 0}, []):
        wrong = await visitor.call("conversations", bad)
        assert wrong["ok"] is False and wrong["error"] in ("invalid_payload", "out_of_range"), wrong


async def test_healthz_reports_the_knowledge_base_and_its_sentence_meaning(server_factory):
    plain = await server_factory(kb_dir=FIXTURE_KB, kb_encoder=False)
    with_meaning = await server_factory(kb_dir=FIXTURE_KB)
    async with aiohttp.ClientSession() as http:
        async with http.get(plain.url + "/healthz") as resp:
            kb = (await resp.json())["kb"]
            assert {k: kb[k] for k in ("articles", "meaning")} == {"articles": len(plain.app[keys.KB]), "meaning": "off"}
            assert set(kb["threshold"]) >= {"value", "source"}, kb     # the bot's threshold and where it came from
        assert await asyncio.to_thread(with_meaning.app[keys.KB].wait_embedded, 60)
        async with http.get(with_meaning.url + "/healthz") as resp:
            assert (await resp.json())["kb"]["meaning"] == "ready"
