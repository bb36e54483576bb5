"""A transfer with a note for the receiving agent: stored with the transfer and in the history (private), shown to
the receiver in `assigned` and in every later snapshot, never sent to the visitor."""
from __future__ import annotations

from chatserver.store import conversations as conv_queries

from support.server import FIXTURE_KB


async def test_the_receiving_agent_gets_the_note_and_the_visitor_never_does(server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB)
    await server.create_agent("a@example.com", "Ana")
    ben_account = await server.create_agent("b@example.com", "Ben")
    ana = await server.agent("a@example.com")
    visitor = await server.visitor()
    cid = (await visitor.call("message", {"client_id": "m1", "text": "My refund is late"}))["conversation_id"]
    await visitor.call("request_agent", {})
    await ana.wait_for("assigned")
    ben = await server.agent("b@example.com")
    note = "  Refund #4411 approved yesterday; she wants the bank reference.  "
    ack = await ana.call("transfer", {"conversation_id": cid, "agent_id": ben_account["id"], "note": note})
    assert ack["ok"], ack
    assigned = await ben.wait_for("assigned", lambda a: a["conversation"]["id"] == cid)
    expected = "Refund #4411 approved yesterday; she wants the bank reference."
    assert assigned["transfer_note"]["text"] == expected and assigned["transfer_note"]["by_agent_name"] == "Ana"
    stored_note = [m for m in assigned["messages"] if m.get("private")]
    assert [m["text"] for m in stored_note] == [expected]
    assert stored_note[0]["payload"]["transfer"] == {"to_agent_id": ben_account["id"], "to_agent_name": "Ben"}
    events = await server.store.read(conv_queries.conversation_events, cid)
    assert events[-1]["type"] == "transferred" and events[-1]["details"]["note"] == expected
    # Ben reconnects: the note is still there.
    await ben.disconnect()
    ben_again = await server.agent("b@example.com")
    session = ben_again.of("session")[-1]
    assert session["conversations"][0]["transfer_note"]["text"] == expected
    # The visitor never hears of it, not live and not after a reload.
    await ben_again.call("message", {"conversation_id": cid, "client_id": "r1", "text": "Hi, Ben here"})
    await visitor.wait_for("message", lambda m: m["text"] == "Hi, Ben here")
    assert all(expected not in str(m) for m in visitor.of("message"))
    history = await visitor.call("sync", {"after_seq": 0})
    assert all(m["text"] != expected for m in history["messages"])
    # A transfer back without a note: the note was for Ben, Ana gets none.
    ana_id = ana.of("session")[0]["agent"]["id"]
    back = await ben_again.call("transfer", {"conversation_id": cid, "agent_id": ana_id, "note": "   "})
    assert back["ok"], back
    again = await ana.wait_for("assigned", lambda a: a["conversation"]["id"] == cid and a["reason"].startswith("transferred from Ben"))
    assert again["transfer_note"] is None


async def test_a_bad_note_is_refused_and_nothing_moves(server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB)
    await server.create_agent("a@example.com", "Ana")
    ben_account = await server.create_agent("b@example.com", "Ben")
    ana = await server.agent("a@example.com")
    visitor = await server.visitor()
    cid = (await visitor.call("message", {"client_id": "m1", "text": "hello"}))["conversation_id"]
    await visitor.call("request_agent", {})
    await ana.wait_for("assigned")
    await server.agent("b@example.com")
    too_long = await ana.call("transfer", {"conversation_id": cid, "agent_id": ben_account["id"], "note": "x" * 1001})
    assert too_long["error"] == "text_too_long"
    wrong = await ana.call("transfer", {"conversation_id": cid, "agent_id": ben_account["id"], "note": 5})
    assert wrong["error"] == "invalid_payload"
    conversation = await server.store.read(conv_queries.get_conversation, cid)
    assert conversation["agent_name"] == "Ana"
