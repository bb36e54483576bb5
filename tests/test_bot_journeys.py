"""The triage bot inside real conversations (real server, real sockets, fixture KB)."""
from __future__ import annotations

import asyncio
import shutil

import pytest

from chatserver import keys
from chatserver.store import bot_log
from chatserver.store import conversations as conv_queries

from support.server import FIXTURE_KB

OFF_TOPIC = "What will the weather be like in Paris tomorrow afternoon?"


@pytest.fixture
async def server(server_factory):
    return await server_factory(kb_dir=FIXTURE_KB)


def bot_says(kind):
    return lambda m: m["author"] == "bot" and m["kind"] == kind


async def test_suggestion_helpful_then_close_is_a_deflection(server):
    visitor = await server.visitor()
    ack = await visitor.call("message", {"client_id": "b1", "text": "where is my order? it has not arrived"})
    cid = ack["conversation_id"]
    suggestions = await visitor.wait_for("message", bot_says("suggestions"))
    cards = suggestions["payload"]["articles"]
    assert cards[0]["slug"] == "track-order"
    assert cards[0]["url"] == "/kb/track-order"
    assert 0 < cards[0]["score"] <= 1 and cards[0]["explanation"]["matched_question"]
    article = await visitor.call("article", {"slug": "track-order"})
    assert article["ok"] and "tracking link" in article["article"]["html"]
    feedback = await visitor.call("article_feedback", {"slug": "track-order", "helpful": True})
    assert feedback["next"] == "resolved_prompt"
    await visitor.wait_for("message", bot_says("resolved_prompt"))
    closed = await visitor.call("close", {})
    assert closed["resolution"] == "deflected"
    conversation = await server.store.read(conv_queries.get_conversation, cid)
    assert conversation["status"] == "closed" and conversation["resolution"] == "deflected"
    funnel = [(e["slug"], e["type"]) for e in await server.store.read(bot_log.article_events, cid)]
    assert ("track-order", "suggested") in funnel and ("track-order", "opened") in funnel
    assert ("track-order", "helpful") in funnel


async def test_not_helpful_then_person_with_department_and_reason(server):
    await server.create_agent("ops@example.com", "Ops")
    visitor = await server.visitor()
    ack = await visitor.call("message", {"client_id": "b1", "text": "I want my money back, when does the refund arrive"})
    cid = ack["conversation_id"]
    first = await visitor.wait_for("message", bot_says("suggestions"))
    top = first["payload"]["articles"][0]["slug"]
    assert top == "refund-status"
    feedback = await visitor.call("article_feedback", {"slug": top, "helpful": False, "reason": "already waited 2 weeks"})
    assert feedback["ok"] and feedback["next"] in ("more_suggestions", "offer_agent")
    handoff = await visitor.call("request_agent", {})
    assert handoff["status"] == "queued"
    conversation = await server.store.read(conv_queries.get_conversation, cid)
    assert conversation["department"] == "returns" and conversation["handoff_reason"] == "not_helpful"

    agent = await server.agent("ops@example.com")
    assigned = await agent.wait_for("assigned")
    # The agent sees the bot part of the transcript, the suggestions with scores and the feedback.
    assert any(m["author"] == "bot" and m["kind"] == "suggestions" for m in assigned["messages"])
    suggested = [e for e in assigned["article_events"] if e["type"] == "suggested"]
    assert suggested[0]["slug"] == "refund-status" and suggested[0]["score"] > 0
    not_helpful = [e for e in assigned["article_events"] if e["type"] == "not_helpful"]
    assert not_helpful[0]["reason"] == "already waited 2 weeks"

    # From now on the bot is silent.
    count_before = len(visitor.of("message"))
    await visitor.call("message", {"client_id": "b2", "text": "where is my order?"})
    await agent.wait_for("message", lambda m: m.get("client_id") == "b2")
    await agent.call("message", {"conversation_id": cid, "client_id": "a1", "text": "Let me check."})
    await visitor.wait_for("message", lambda m: m.get("client_id") == "a1")
    bot_after = [m for m in visitor.of("message")[count_before:] if m["author"] == "bot"]
    assert bot_after == []


async def test_no_match_offers_a_person_and_lands_in_the_gap_list(server):
    visitor = await server.visitor()
    ack = await visitor.call("message", {"client_id": "n1", "text": OFF_TOPIC})
    cid = ack["conversation_id"]
    reply = await visitor.wait_for("message", lambda m: m["author"] == "bot")
    assert reply["kind"] == "no_match" and reply["payload"]["offer_agent"] is True
    gaps = await server.store.read(lambda db: [dict(r) for r in db.execute(
        "SELECT * FROM unanswered_questions WHERE conversation_id = ?", [cid]).fetchall()])
    assert [g["text"] for g in gaps] == [OFF_TOPIC]
    handoff = await visitor.call("request_agent", {})
    assert handoff["status"] == "queued"
    conversation = await server.store.read(conv_queries.get_conversation, cid)
    assert conversation["handoff_reason"] == "no_match"


async def test_typing_a_wish_for_a_person_hands_off(server):
    visitor = await server.visitor()
    await visitor.call("message", {"client_id": "p1", "text": "Can I talk to a real person please"})
    handoff = await visitor.wait_for("message", bot_says("handoff"))
    assert handoff["payload"]["reason"] == "visitor_asked"
    await visitor.wait_for("queue")


async def test_agent_searches_the_kb_and_sends_an_article(server):
    await server.create_agent("kb@example.com", "Kay")
    agent = await server.agent("kb@example.com")
    visitor = await server.visitor()
    await visitor.call("request_agent", {})
    assigned = await agent.wait_for("assigned")
    cid = assigned["conversation"]["id"]
    found = await agent.call("kb_search", {"query": "forgot password"})
    assert found["results"][0]["slug"] == "reset-password"
    ack = await agent.call("send_article", {"conversation_id": cid, "slug": "reset-password", "client_id": "s1"})
    assert ack["ok"], ack
    message = await visitor.wait_for("message", lambda m: m["kind"] == "article")
    assert message["payload"]["url"] == "/kb/reset-password" and message["author"] == "agent"


async def test_articles_edited_on_disk_are_picked_up_without_a_restart(server_factory, tmp_path):
    kb_dir = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, kb_dir)
    server = await server_factory(kb_dir=kb_dir, kb_poll_seconds=0.2)
    (kb_dir / "gift-cards.md").write_text(
        "---\ntitle: Gift cards\ndepartment: billing\nquestions:\n  - How do I redeem a gift card?\n"
        "  - Can I pay with a gift voucher?\n  - My gift card code does not work\n---\n"
        "Enter the code at checkout under 'Gift card'.\n")
    visitor = await server.visitor()
    for _ in range(50):
        if server.app[keys.KB].get("gift-cards") is not None:
            break
        await asyncio.sleep(0.1)
    await visitor.call("message", {"client_id": "g1", "text": "how do I redeem my gift card code"})
    reply = await visitor.wait_for("message", bot_says("suggestions"))
    assert reply["payload"]["articles"][0]["slug"] == "gift-cards"


async def test_typed_handoff_and_request_agent_at_once_queue_the_chat_once(server):
    """The bot reading "talk to a person" and the visitor's request_agent race to hand off the same chat: it is
    queued, announced and assigned once, and the agent keeps it (closing it reaches the agent)."""
    await server.create_agent("dana@example.com", "Dana")
    agent = await server.agent("dana@example.com")
    visitor = await server.visitor()
    for attempt in range(5):
        ack = await visitor.call("message", {"client_id": f"race-{attempt}", "text": "Let me talk to a person please"})
        cid = ack["conversation_id"]
        await visitor.call("request_agent", {})
        await agent.wait_for("assigned", lambda a: a["conversation"]["id"] == cid)
        await asyncio.sleep(0.2)  # let the slower hand-off finish
        messages = await server.store.read(conv_queries.messages_after, cid, 0, False)
        assert [m["kind"] for m in messages].count("handoff") == 1
        assert len([a for a in agent.of("assigned") if a["conversation"]["id"] == cid]) == 1
        assert (await agent.call("close", {"conversation_id": cid}))["ok"]
        closed = await agent.wait_for("conversation_closed", lambda c: c["conversation_id"] == cid)
        assert closed["closed_by"] == "agent"
