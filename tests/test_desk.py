"""The domain operations called directly: a real SQLite store, the in-process live state and a notifier that
records what it is given (no sockets, no HTTP). Covers what each operation publishes, that nothing is published
for a refused or failed operation, one transaction per bot turn, and every ownership refusal."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from chatserver.config import Config
from chatserver.desk import Desk, assignment, bot, conversations, presence
from chatserver.desk.events import (AgentJoined, AgentStatusChanged, ChatAssigned, ChatClosed, MessageAdded,
                                    QueueBoard, RecordingNotifier, Typing)
from chatserver.desk.live import InProcessLiveState
from chatserver.errors import Forbidden, NotFound
from chatserver.passwords import hash_password
from chatserver.site_settings import SiteSettings
from chatserver.store import create_store
from chatserver.store import agents as agent_queries
from chatserver.store import visitors as visitor_queries
from chatserver.tokens import ServerSecret
from triage import KnowledgeBase

from support.server import on_test_database

FIXTURE_KB = Path(__file__).parent / "fixtures" / "kb"
PASSWORD_HASH = hash_password("agent-password-1")


@pytest.fixture
async def desk(tmp_path):
    config = on_test_database(Config(data_dir=tmp_path, kb_dir=FIXTURE_KB, kb_encoder=False))
    store = create_store(config)
    await store.start()
    settings = SiteSettings(config, store)
    await settings.load()
    live = InProcessLiveState({"visitor_messages": (10, 10.0), "visitor_events": (60, 10.0),
                               "new_visitors": (30, 60.0)})
    desk = Desk(config=config, store=store, live=live, notifier=RecordingNotifier(),
                kb=KnowledgeBase.load(FIXTURE_KB), settings=settings, secret=ServerSecret.load_or_create(tmp_path))
    await assignment.load(desk)
    for visitor_id in ("v1", "v2"):
        await store.write(visitor_queries.get_or_create_visitor, visitor_id, time.time(), "127.0.0.1", None, None)
    yield desk
    await desk.close()
    await store.close()


async def online_agent(desk, email: str, name: str, role: str = "agent", sid: str | None = None) -> dict:
    agent = await desk.store.write(agent_queries.create_agent, email, name, PASSWORD_HASH, role, 3, [], time.time())
    await presence.agent_connected(desk, agent, sid or f"sid-{email}")
    await presence.set_status(desk, agent["id"], "online")
    return agent


async def waiting_chat(desk, visitor_id: str, text: str = "where is my parcel") -> int:
    ack = await conversations.send_visitor_message(desk, {"visitor_id": visitor_id}, f"c-{visitor_id}", text, "s1")
    await bot.request_agent(desk, visitor_id, None)
    return ack["conversation_id"]


async def test_a_visitor_message_is_stored_then_published_once_skipping_the_sender(desk):
    ack = await conversations.send_visitor_message(desk, {"visitor_id": "v1"}, "m1", "hello", "sid-1")
    assert ack["ok"] and ack["seq"] == 1 and ack["duplicate"] is False
    [event] = desk.notifier.of(MessageAdded)
    assert event.message["text"] == "hello" and event.visitor_id == "v1" and event.sender_sid == "sid-1"
    again = await conversations.send_visitor_message(desk, {"visitor_id": "v1"}, "m1", "hello", "sid-1")
    assert again["duplicate"] is True and again["id"] == ack["id"]
    # A resend is not announced again. (The bot's answer, running in the background, may be announced meanwhile.)
    assert [e.message["id"] for e in desk.notifier.of(MessageAdded) if e.message["author"] == "visitor"] == [ack["id"]]


async def test_a_bot_turn_is_one_transaction_and_publishes_its_answer(desk):
    writes = desk.store.writes
    await conversations.send_visitor_message(desk, {"visitor_id": "v1"}, "m1", "where is my parcel", None)
    await asyncio.gather(*desk.background)                     # the bot answers in the background
    # One write for the message, one for the bot's turn (its suggestions and its reply stored together).
    assert desk.store.writes - writes == 2
    question, answer = [e.message for e in desk.notifier.of(MessageAdded)]
    assert answer["author"] == "bot" and answer["kind"] in ("suggestions", "no_match")


async def test_a_bot_turn_stays_silent_once_a_person_has_the_chat(desk):
    await online_agent(desk, "dana@example.com", "Dana")
    cid = await waiting_chat(desk, "v1")
    conversation = await desk.store.read(conversations.conv_queries.get_conversation, cid)
    assert conversation["status"] == "assigned"
    before = len(desk.notifier.events)
    await bot.answer(desk, conversation, {"text": "where is my parcel"})
    assert len(desk.notifier.events) == before


async def test_request_agent_queues_and_routing_assigns_with_the_events_in_order(desk):
    dana = await online_agent(desk, "dana@example.com", "Dana")
    desk.notifier.events.clear()
    cid = await waiting_chat(desk, "v1")
    kinds = [type(e) for e in desk.notifier.events]
    assigned = kinds.index(ChatAssigned)
    assert kinds[assigned + 1] is AgentStatusChanged and kinds[assigned + 2] is AgentJoined
    assert kinds[-1] is QueueBoard
    event = desk.notifier.of(ChatAssigned)[0]
    assert event.agent_id == dana["id"] and event.snapshot["conversation"]["id"] == cid
    assert await desk.live.holder(cid) == dana["id"]


async def test_nothing_is_published_for_a_refused_operation(desk):
    desk.notifier.events.clear()
    dana = await desk.store.write(agent_queries.create_agent, "d@example.com", "Dana", PASSWORD_HASH, "agent", 3, [],
                                  time.time())
    with pytest.raises(NotFound):
        await conversations.send_agent_message(desk, dana, 999, "c1", "hi", None)
    assert desk.notifier.events == []


async def test_ownership_refusals_for_another_agents_chat(desk):
    ana = await online_agent(desk, "ana@example.com", "Ana")
    ben = await desk.store.write(agent_queries.create_agent, "ben@example.com", "Ben", PASSWORD_HASH, "agent", 3, [],
                                 time.time())
    cid = await waiting_chat(desk, "v1")
    assert await desk.live.holder(cid) == ana["id"]
    await conversations.send_agent_message(desk, ana, cid, "a1", "hello from Ana", None)
    refusals = [
        conversations.send_agent_message(desk, ben, cid, "b1", "hijack", None),
        conversations.send_agent_message(desk, ben, cid, None, "a note", None, private=True),
        conversations.agent_sync(desk, ben, cid, 0),
        conversations.conversation_for_agent(desk, ben, cid),
        conversations.agent_typing(desk, ben, cid, True),
        assignment.transfer(desk, ben, cid, ana["id"]),
        conversations.close_by_agent(desk, ben, cid),
        bot.send_article(desk, ben, cid, next(iter(desk.kb.articles)), None),
    ]
    for refused in refusals:
        with pytest.raises(Forbidden) as caught:
            await refused
        assert caught.value.code == "not_assigned", refused
    # The holder and an admin may read; the conversation is untouched by the refusals.
    assert (await conversations.agent_sync(desk, ana, cid, 0))["ok"]
    admin = {"id": 10_000, "name": "Root", "role": "admin"}
    synced = await conversations.agent_sync(desk, admin, cid, 0)
    assert [m["text"] for m in synced["messages"] if m["author"] == "agent"] == ["hello from Ana"]


async def test_queued_chats_are_readable_by_any_agent_and_closed_ones_by_their_agent_only(desk):
    ana = await desk.store.write(agent_queries.create_agent, "ana@example.com", "Ana", PASSWORD_HASH, "agent", 3, [],
                                 time.time())
    ben = await desk.store.write(agent_queries.create_agent, "ben@example.com", "Ben", PASSWORD_HASH, "agent", 3, [],
                                 time.time())
    cid = await waiting_chat(desk, "v1")                       # nobody online: it waits
    assert (await conversations.agent_sync(desk, ben, cid, 0))["status"] == "queued"
    await presence.agent_connected(desk, ana, "sid-ana")
    await presence.set_status(desk, ana["id"], "online")       # takes it
    await conversations.close_by_agent(desk, ana, cid)
    assert (await conversations.agent_sync(desk, ana, cid, 0))["status"] == "closed"
    with pytest.raises(Forbidden):
        await conversations.agent_sync(desk, ben, cid, 0)


async def test_an_agent_reads_earlier_chats_of_the_visitor_they_hold(desk):
    ana = await online_agent(desk, "ana@example.com", "Ana")
    first = await waiting_chat(desk, "v1")
    await conversations.close_by_agent(desk, {"id": 0, "name": "Root", "role": "admin"}, first)
    ben = await online_agent(desk, "ben@example.com", "Ben")
    await presence.set_status(desk, ana["id"], "away")
    ack = await conversations.send_visitor_message(desk, {"visitor_id": "v1"}, "again", "me again", None)
    await bot.request_agent(desk, "v1", None)
    assert await desk.live.holder(ack["conversation_id"]) == ben["id"]
    snapshot = await conversations.conversation_for_agent(desk, ben, first)
    assert snapshot["conversation"]["id"] == first
    outsider = await desk.store.write(agent_queries.create_agent, "cy@example.com", "Cy", PASSWORD_HASH, "agent", 3,
                                      [], time.time())
    with pytest.raises(Forbidden):
        await conversations.conversation_for_agent(desk, outsider, first)


async def test_a_visitor_reaches_only_their_own_conversations(desk):
    ack = await conversations.send_visitor_message(desk, {"visitor_id": "v1"}, "m1", "hello", None)
    with pytest.raises(NotFound):
        await conversations.visitor_sync(desk, "v2", ack["conversation_id"], 0)
    assert (await conversations.visitor_sync(desk, "v1", ack["conversation_id"], 0))["messages"][0]["text"] == "hello"


async def test_closing_publishes_the_survey_offer_and_frees_the_agent(desk):
    dana = await online_agent(desk, "dana@example.com", "Dana")
    cid = await waiting_chat(desk, "v1")
    assert (await desk.live.agent(dana["id"])).open_chats == 1
    answer = await conversations.close_by_visitor(desk, "v1")
    assert answer["resolution"] == "resolved"
    [closed] = desk.notifier.of(ChatClosed)
    assert closed.conversation_id == cid and closed.agent_id == dana["id"] and closed.survey == {"nps": False} or \
        closed.survey == {"nps": True}
    assert (await desk.live.agent(dana["id"])).open_chats == 0


async def test_typing_reaches_the_other_side_only(desk):
    dana = await online_agent(desk, "dana@example.com", "Dana")
    cid = await waiting_chat(desk, "v1")
    await conversations.visitor_typing(desk, "v1", True)
    await conversations.agent_typing(desk, dana, cid, False)
    visitor_typing, agent_typing = desk.notifier.of(Typing)
    assert visitor_typing.author == "visitor" and visitor_typing.agent_id == dana["id"]
    assert agent_typing.author == "agent" and agent_typing.visitor_id == "v1" and agent_typing.agent_name == "Dana"
