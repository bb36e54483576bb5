"""Two nodes of one cluster at the desk level: two `Desk`s, each with its own `RedisLiveState` (one Redis, one key
prefix) and its own `Store` on the same SQLite file under tmp_path (SQLite locks across connections, so two stores
in one test are safe; a real cluster runs on PostgreSQL and refuses SQLite). The domain operations run unchanged:
chats queued on one node are claimed on the other, agents claiming at once on both never get a chat twice nor more
than their capacity, the grace sweep runs on one node, and a dead node's agents lose their chats after the grace
period unless they reconnect to the other."""
from __future__ import annotations

import asyncio
import random
import time
import uuid
from pathlib import Path

import pytest

from chatserver.cluster import redis_client
from chatserver.cluster.names import RedisNames
from chatserver.config import Config
from chatserver.desk import Desk, assignment, conversations, presence, timed_jobs
from chatserver.desk.events import AgentStatusChanged, ChatAssigned, MessageAdded, RecordingNotifier
from chatserver.desk.live_redis import RedisLiveState
from chatserver.errors import Conflict, RateLimited, StorageError
from chatserver.passwords import hash_password
from chatserver.site_settings import SiteSettings
from chatserver.store import Store
from chatserver.store import agents as agent_queries
from chatserver.store import visitors as visitor_queries
from chatserver.tokens import ServerSecret
from triage import KnowledgeBase

from support.redis_service import delete_prefixed, redis_prefix, redis_url  # noqa: F401 (fixtures)

FIXTURE_KB = Path(__file__).parent / "fixtures" / "kb"
PASSWORD_HASH = hash_password("agent-password-1")
LIMITS = {"visitor_messages": (3, 10.0), "visitor_events": (60, 10.0), "new_visitors": (30, 60.0)}


@pytest.fixture
async def node(tmp_path, redis_url, redis_prefix):
    """`await node(grace=..., start=True, **live_options)`: one more node of the test's cluster."""
    made: list[Desk] = []
    kb = KnowledgeBase.load(FIXTURE_KB)

    async def make(grace: float = 60.0, start: bool = True, **live_options) -> Desk:
        config = Config(data_dir=tmp_path, kb_dir=FIXTURE_KB, kb_encoder=False, bot_enabled=False,
                        agent_grace_seconds=grace)
        store = Store(config.db_path)
        await store.start()
        settings = SiteSettings(config, store)
        await settings.load()
        live = RedisLiveState(redis_client.connect(redis_url), RedisNames(redis_prefix).key("live"),
                              uuid.uuid4().hex, LIMITS, **live_options)
        if start:
            await live.start()
        desk = Desk(config=config, store=store, live=live, notifier=RecordingNotifier(), kb=kb, settings=settings,
                    secret=ServerSecret.load_or_create(tmp_path))
        await assignment.load(desk)
        made.append(desk)
        return desk

    yield make
    for desk in made:
        await desk.close()
        await desk.live.close()
        await desk.live.redis.aclose()
        await desk.store.close()


async def new_agent(desk, email: str, name: str, max_chats: int = 3) -> dict:
    return await desk.store.write(agent_queries.create_agent, email, name, PASSWORD_HASH, "agent", max_chats, [],
                                  time.time())


async def queued_chat(desk, visitor_id: str, text: str = "where is my parcel") -> int:
    """A visitor's first message with the bot off: a new conversation, straight into the queue."""
    await desk.store.write(visitor_queries.get_or_create_visitor, visitor_id, time.time(), "127.0.0.1", None, None)
    ack = await conversations.send_visitor_message(desk, {"visitor_id": visitor_id}, f"c-{uuid.uuid4().hex}", text,
                                                   None)
    return ack["conversation_id"]


def count_by(db, sql: str, params=()) -> dict:
    return {row[0]: row[1] for row in db.execute(sql, params).fetchall()}


async def test_a_chat_queued_on_one_node_is_claimed_by_an_agent_on_the_other(node):
    a, b = await node(), await node()
    dana = await new_agent(a, "dana@example.com", "Dana")
    await presence.agent_connected(b, dana, "sid-dana")            # on node b, away: nothing is assigned yet
    first, second = await queued_chat(a, "v1"), await queued_chat(b, "v2")
    assert (await a.live.visitor_queue_state(second)) == (await b.live.visitor_queue_state(second))
    assert (await a.live.visitor_queue_state(second))["position"] == 2
    claimed = await assignment.claim(b, dana, first)
    assert claimed["agent_id"] == dana["id"] and await a.live.holder(first) == dana["id"]
    assert (await a.live.visitor_queue_state(second))["position"] == 1
    [announced] = b.notifier.of(ChatAssigned)
    assert announced.snapshot["conversation"]["id"] == first
    with pytest.raises(Conflict) as refused:                        # taken: not in the queue on either node
        await assignment.claim(a, dana, first)
    assert refused.value.code == "not_in_queue"
    # The visitor writes on node a: the message event names the agent who holds the chat (on node b).
    await conversations.send_visitor_message(a, {"visitor_id": "v1"}, "m2", "thanks", None)
    assert a.notifier.of(MessageAdded)[-1].agent_id == dana["id"]


async def test_agents_claiming_at_once_on_two_nodes_never_double_assign_or_exceed_capacity(node):
    """Four agents (eight slots) on two nodes, twelve queued chats a round: every agent claims every chat at once
    on a random node while one agent goes online on a node (automatic assignment racing the claims)."""
    a, b = await node(), await node()
    capacity = {"ana": 2, "ben": 1, "cho": 3, "dev": 2}
    agents = []
    for i, (name, max_chats) in enumerate(capacity.items()):
        person = await new_agent(a, f"{name}@example.com", name, max_chats)
        await presence.agent_connected(a if i % 2 else b, person, f"sid-{name}")
        agents.append(person)
    rng = random.Random(7)
    rounds, started = 20, time.monotonic()
    for round_ in range(rounds):
        chats = [await queued_chat(rng.choice((a, b)), f"v{round_}-{i}") for i in range(12)]
        automatic = rng.choice(agents)

        async def claim(person, chat):
            try:
                await assignment.claim(rng.choice((a, b)), person, chat)
            except Conflict:
                pass

        attempts = [claim(person, chat) for chat in chats for person in agents]
        attempts.append(presence.set_status(rng.choice((a, b)), automatic["id"], "online"))
        rng.shuffle(attempts)
        await asyncio.gather(*attempts)

        held = await a.store.read(count_by, "SELECT agent_id, COUNT(*) FROM conversations "
                                             "WHERE status = 'assigned' GROUP BY agent_id")
        assert held == {person["id"]: capacity[person["name"]] for person in agents}, round_
        placeholders = ",".join("?" * len(chats))
        assignments = await a.store.read(count_by, "SELECT conversation_id, COUNT(*) FROM conversation_events "
                                                   f"WHERE type = 'assigned' AND conversation_id IN ({placeholders}) "
                                                   "GROUP BY conversation_id", chats)
        assert sorted(assignments.values()) == [1] * sum(capacity.values()), assignments
        for person in agents:
            for desk in (a, b):
                assert (await desk.live.agent(person["id"])).open_chats == capacity[person["name"]]
        await presence.set_status(a, automatic["id"], "away")
        for person in agents:
            for chat in await a.live.held_by(person["id"]):
                await conversations.close_by_agent(b, person, chat)
        for chat in chats:
            if await b.live.is_waiting(chat):
                await conversations.close_by_visitor(a, (await a.store.read(_visitor_of, chat)))
        assert await a.live.waiting() == []
    print(f"{rounds} rounds of 12 chats x 4 agents claiming on two nodes: {time.monotonic() - started:.1f} s")


def _visitor_of(db, conversation_id: int) -> str:
    return db.execute("SELECT visitor_id FROM conversations WHERE id = ?", [conversation_id]).fetchone()[0]


async def test_a_visitors_message_budget_is_shared_by_the_nodes(node):
    a, b = await node(), await node()
    await queued_chat(a, "v1", "hello")
    await conversations.send_visitor_message(b, {"visitor_id": "v1"}, "m2", "again", None)
    await conversations.send_visitor_message(a, {"visitor_id": "v1"}, "m3", "and again", None)
    with pytest.raises(RateLimited):                     # three per window in all, whichever node they reach
        await conversations.send_visitor_message(b, {"visitor_id": "v1"}, "m4", "one more", None)


async def test_the_grace_sweep_runs_on_one_node_only(node):
    grace = 0.2
    a, b = await node(grace=grace), await node(grace=grace)
    dana = await new_agent(a, "dana@example.com", "Dana")
    await presence.agent_connected(a, dana, "sid-dana")
    await presence.set_status(a, dana["id"], "online")
    chat = await queued_chat(b, "v1")
    assert await a.live.holder(chat) == dana["id"]                  # assigned automatically
    await presence.agent_disconnected(a, dana["id"], "sid-dana")
    await asyncio.sleep(grace + 0.05)
    a.notifier.events.clear()
    b.notifier.events.clear()
    ran = await asyncio.gather(*(timed_jobs.tick(desk) for desk in (a, b, a, b, a, b)))
    assert ran in ([True, False] * 3, [False, True] * 3), ran
    leader, other = (a, b) if ran[0] else (b, a)
    assert other.notifier.events == [] and leader.notifier.events != []
    requeued = await a.store.read(count_by, "SELECT conversation_id, COUNT(*) FROM conversation_events "
                                            "WHERE type = 'requeued' GROUP BY conversation_id")
    assert requeued == {chat: 1} and await b.live.is_waiting(chat)


async def test_a_dead_nodes_agent_loses_their_chats_after_the_grace_period(node):
    ttl, grace = 0.6, 0.3
    dead = await node(start=False, node_ttl_seconds=ttl)           # never sends a heartbeat: it died
    survivor = await node(grace=grace)
    dana = await new_agent(survivor, "dana@example.com", "Dana")
    await presence.agent_connected(dead, dana, "sid-dana")
    await presence.set_status(dead, dana["id"], "online")
    chat = await queued_chat(dead, "v1")
    assert await survivor.live.holder(chat) == dana["id"]
    started = time.monotonic()
    while await survivor.live.holder(chat) is not None:
        assert time.monotonic() - started < ttl + grace + 3.0, "the chat never went back to the queue"
        await timed_jobs.tick(survivor)
        await asyncio.sleep(0.05)
    took = time.monotonic() - started
    print(f"a dead node's chat was back in the queue {took:.2f} s after its last heartbeat "
          f"(node TTL {ttl} s + grace {grace} s)")
    assert took >= grace
    assert await survivor.live.is_waiting(chat)


async def test_a_dead_nodes_agent_who_reconnects_to_the_other_node_keeps_their_chats(node):
    ttl, grace = 0.5, 0.6
    dead = await node(start=False, node_ttl_seconds=ttl)
    survivor = await node(grace=grace)
    dana = await new_agent(survivor, "dana@example.com", "Dana")
    await presence.agent_connected(dead, dana, "sid-dana")
    await presence.set_status(dead, dana["id"], "online")
    chat = await queued_chat(dead, "v1")
    deadline = time.monotonic() + ttl + 2.0
    while (await survivor.live.agent(dana["id"])).connected:       # until the dead node's presence expired
        assert time.monotonic() < deadline, "the dead node's presence never expired"
        await asyncio.sleep(0.05)
    await timed_jobs.tick(survivor)                                  # noticed: her grace period starts
    await presence.agent_connected(survivor, dana, "sid-dana-again")
    deadline = time.monotonic() + grace + 0.5
    while time.monotonic() < deadline:
        await timed_jobs.tick(survivor)
        await asyncio.sleep(0.05)
    assert await survivor.live.holder(chat) == dana["id"]


async def test_a_lost_shared_state_is_rebuilt_from_the_database(node, redis_url, redis_prefix):
    a, b = await node(node_ttl_seconds=0.4), await node()
    dana = await new_agent(a, "dana@example.com", "Dana", max_chats=1)
    await presence.agent_connected(a, dana, "sid-dana")
    await presence.set_status(a, dana["id"], "online")
    taken, waiting = await queued_chat(a, "v1"), await queued_chat(b, "v2")
    assert await b.live.holder(taken) == dana["id"] and await b.live.is_waiting(waiting)
    await delete_prefixed(redis_url, redis_prefix)                  # Redis restarted without its data
    assert await b.live.agent(dana["id"]) is None and await b.live.needs_load()
    # Until it is rebuilt, nothing is decided on the empty state: the visitor's message is refused, not lost.
    with pytest.raises(StorageError):
        await conversations.send_visitor_message(a, {"visitor_id": "v1"}, "m-lost", "still there?", None)
    with pytest.raises(StorageError):
        await assignment.claim(b, dana, waiting)
    assert await timed_jobs.tick(b)
    assert await b.live.holder(taken) == dana["id"] and await b.live.is_waiting(waiting)
    assert [e.status["status"] for e in b.notifier.of(AgentStatusChanged)][-1:] == ["away"]   # her console hears
    said = await conversations.send_visitor_message(a, {"visitor_id": "v1"}, "m-lost", "still there?", None)
    assert said["ok"] and a.notifier.of(MessageAdded)[-1].agent_id == dana["id"]
    assert not await a.live.needs_load()
    deadline = time.monotonic() + 2.0
    while not (await b.live.agent(dana["id"])).connected:           # node a's next heartbeat counts her again
        assert time.monotonic() < deadline, "her presence was never restored"
        await asyncio.sleep(0.05)
