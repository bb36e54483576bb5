"""The `LiveState` contract (chatserver/desk/live.py), run against both implementations: `InProcessLiveState` (one
process) and `RedisLiveState` (a cluster node, on real Redis under a fresh key prefix). The operations only know the
interface, so the two must answer alike. What only a cluster has (several nodes, presence expiry, leadership) is in
tests/test_live_redis.py."""
from __future__ import annotations

import asyncio
import uuid

import pytest

from chatserver.cluster import redis_client
from chatserver.cluster.names import RedisNames
from chatserver.desk.live import InProcessLiveState
from chatserver.desk.live_redis import RedisLiveState
from chatserver.routing import estimate_wait_seconds, queue_order

from support.redis_service import redis_prefix, redis_url  # noqa: F401 (fixtures)

LIMITS = {"visitor_messages": (3, 10.0), "visitor_events": (60, 10.0), "new_visitors": (2, 60.0)}


@pytest.fixture(params=["in_process", "redis"])
def backend(request) -> tuple:
    if request.param == "in_process":
        return ("in_process",)
    return ("redis", request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix"))


@pytest.fixture
async def live(backend):
    """A live state as the app has it once started: `load` ran (on an empty database here)."""
    if backend[0] == "in_process":
        state = InProcessLiveState(LIMITS)
        await state.load([], [], [], 0.0)
        yield state
        return
    _, url, prefix = backend
    state = RedisLiveState(redis_client.connect(url), RedisNames(prefix).key("live"), uuid.uuid4().hex, LIMITS)
    await state.start()
    await state.load([], [], [], 0.0)
    yield state
    await state.close()
    await state.redis.aclose()


def agent(aid: int, name: str = "Dana", max_chats: int = 2, role: str = "agent", departments=()) -> dict:
    return {"id": aid, "name": name, "role": role, "max_chats": max_chats, "departments": list(departments)}


def conversation(cid: int, status: str, queued_at: float | None = None, agent_id: int | None = None,
                 department: str | None = None, visitor: str | None = None) -> dict:
    return {"id": cid, "visitor_id": visitor or f"v{cid}", "status": status, "queued_at": queued_at,
            "created_at": 50.0, "department": department, "agent_id": agent_id}


async def online(live, aid: int, now: float = 90.0, **fields) -> None:
    await live.agent_connected(agent(aid, **fields), f"sid-{aid}", now)
    await live.set_status(aid, "online", now)


async def test_an_agent_is_remembered_and_changes_keep_their_status(live):
    state = await live.remember_agent(agent(1, "Dana", 2, departments=["billing"]), 100.0)
    assert (state.id, state.name, state.role, state.max_chats, state.departments, state.status, state.connected,
            state.open_chats, state.idle_since) == (1, "Dana", "agent", 2, ["billing"], "away", False, 0, 100.0)
    assert await live.set_status(1, "online", 110.0) is True
    assert await live.set_status(1, "online", 111.0) is False
    state = await live.remember_agent(agent(1, "Dana K", 4, role="admin"), 120.0)
    assert (state.name, state.role, state.max_chats, state.departments, state.status, state.idle_since) == (
        "Dana K", "admin", 4, [], "online", 110.0)
    await live.remember_agent(agent(2, "Lee"), 120.0)
    assert sorted(a.id for a in await live.agents()) == [1, 2]
    assert await live.agent(3) is None


async def test_an_agent_is_connected_while_any_socket_is_and_gone_from_the_last_disconnect(live):
    await live.agent_connected(agent(1), "s1", 100.0)
    await live.agent_connected(agent(1), "s2", 101.0)
    await live.set_status(1, "online", 101.0)
    assert (await live.agent(1)).available and await live.agents_online() == 1
    await live.agent_disconnected(1, "s1", 102.0)
    state = await live.agent(1)
    assert state.connected and state.disconnected_at is None
    await live.agent_disconnected(1, "s2", 103.0)
    state = await live.agent(1)
    assert not state.connected and state.disconnected_at == 103.0 and not state.available
    assert await live.agents_online() == 0
    await live.agent_connected(agent(1), "s3", 104.0)
    state = await live.agent(1)
    assert state.connected and state.disconnected_at is None and state.status == "online"


async def test_the_queue_is_first_come_first_served(live):
    await live.track(conversation(3, "queued", queued_at=105.0))
    await live.track(conversation(1, "queued", queued_at=100.0, department="billing"))
    await live.track(conversation(2, "queued", queued_at=100.0))
    await live.track(conversation(4, "bot"))
    assert queue_order(await live.waiting()) == [1, 2, 3]
    assert {c.conversation_id: (c.queued_at, c.department) for c in await live.waiting()} == {
        1: (100.0, "billing"), 2: (100.0, None), 3: (105.0, None)}
    assert [await live.is_waiting(cid) for cid in (1, 4, 99)] == [True, False, False]
    assert await live.visitor_of(4) == "v4" and await live.visitor_of(99) is None
    board = await live.queue_board(110.0)
    assert [(row["conversation_id"], row["position"], row["wait_seconds"], row["department"]) for row in board] == [
        (1, 1, 10, "billing"), (2, 2, 10, None), (3, 3, 5, None)]
    assert await live.where(3) == {"status": "queued", "agent_name": None}
    assert await live.where(4) is None


async def test_assigning_moves_a_chat_from_the_queue_to_its_agent_and_a_transfer_moves_the_slot(live):
    await online(live, 1, max_chats=2)
    await online(live, 2, name="Lee")
    await live.track(conversation(1, "queued", queued_at=100.0))
    await live.set_summary(1, {"first_question": "where is my parcel"})
    assert await live.assigned(conversation(1, "assigned", agent_id=1), 130.0) is None
    assert await live.holder(1) == 1 and await live.held_by(1) == [1]
    state = await live.agent(1)
    assert state.open_chats == 1 and state.idle_since == 130.0 and state.has_capacity
    assert not await live.is_waiting(1) and await live.queue_board(130.0) == []
    assert await live.where(1) == {"status": "assigned", "agent_name": "Dana"}
    assert await live.assigned(conversation(1, "assigned", agent_id=2), 140.0) == 1      # a transfer
    assert (await live.agent(1)).open_chats == 0 and (await live.agent(2)).open_chats == 1
    assert await live.held_by(1) == [] and await live.held_by(2) == [1] and await live.holder(1) == 2
    # Its summary went with the assignment: queued again, it has none until one is set.
    await live.released(conversation(1, "queued", queued_at=100.0), 150.0)
    assert (await live.queue_board(150.0))[0]["first_question"] is None


async def test_releasing_frees_the_slot_and_requeues_or_closes_the_chat(live):
    await online(live, 1)
    await live.track(conversation(1, "queued", queued_at=100.0))
    await live.assigned(conversation(1, "assigned", agent_id=1), 130.0)
    assert await live.released(conversation(1, "queued", queued_at=100.0), 140.0) == 1
    state = await live.agent(1)
    assert state.open_chats == 0 and state.idle_since == 130.0      # requeued: not a finished chat
    assert await live.holder(1) is None and await live.is_waiting(1)
    assert await live.where(1) == {"status": "queued", "agent_name": None}
    await live.assigned(conversation(1, "assigned", agent_id=1), 150.0)
    assert await live.released(conversation(1, "closed"), 160.0) == 1
    state = await live.agent(1)
    assert state.open_chats == 0 and state.idle_since == 160.0
    assert await live.visitor_of(1) is None and await live.where(1) is None and not await live.is_waiting(1)
    assert await live.released(conversation(2, "closed"), 170.0) is None   # nobody held it


async def test_a_summary_is_kept_for_a_waiting_chat_only(live):
    await live.set_summary(9, {"first_question": "not waiting"})
    await live.track(conversation(9, "queued", queued_at=101.0))
    summary = {"first_question": "where is my parcel", "suggestions": [{"slug": "shipping", "score": 0.8, "rank": 1}],
               "feedback": [{"slug": "shipping", "type": "not_helpful", "reason": None}]}
    await live.track(conversation(1, "queued", queued_at=100.0))
    await live.set_summary(1, summary)
    board = await live.queue_board(110.0)
    assert board[0] == {"conversation_id": 1, "position": 1, "queued_at": 100.0, "wait_seconds": 10,
                        "department": None, "priority": "normal", **summary}
    assert board[1]["first_question"] is None and board[1]["suggestions"] == [] and board[1]["feedback"] == []


async def test_a_waiting_visitor_gets_their_place_and_an_estimate_from_recent_waits(live):
    await online(live, 1, max_chats=1)
    await live.assigned(conversation(10, "assigned", agent_id=1), 95.0)
    await live.track(conversation(1, "queued", queued_at=100.0))
    await live.track(conversation(2, "queued", queued_at=101.0))
    await live.set_recent_waits([60.0, 120.0, 90.0])
    expected = estimate_wait_seconds(2, [60.0, 120.0, 90.0], [await live.agent(1)])
    assert expected == 180
    assert await live.visitor_queue_state(2) == {"conversation_id": 2, "position": 2, "queue_length": 2,
                                                 "estimated_wait_seconds": 180, "agents_online": 1}
    assert await live.visitor_queue_state(99) is None
    # A chat taken from the queue adds its wait to the recent ones: 100 -> 130 is 30 s.
    await live.assigned(conversation(1, "assigned", agent_id=1), 130.0)
    assert (await live.visitor_queue_state(2))["estimated_wait_seconds"] == estimate_wait_seconds(
        1, [30.0, 60.0, 120.0, 90.0], [await live.agent(1)])


async def test_queue_changes_tell_each_waiting_visitor_only_what_changed(live):
    await live.track(conversation(1, "queued", queued_at=100.0))
    await live.track(conversation(2, "queued", queued_at=101.0))
    changes = await live.queue_changes()
    assert [(visitor, state["position"]) for visitor, state in changes] == [("v1", 1), ("v2", 2)]
    assert await live.queue_changes() == []
    await live.track(conversation(1, "closed"))
    assert [(visitor, state["position"], state["queue_length"]) for visitor, state in await live.queue_changes()] == [
        ("v2", 1, 1)]
    await live.track(conversation(1, "queued", queued_at=102.0))      # back, behind v2: told again
    assert [(visitor, state["position"]) for visitor, state in await live.queue_changes()] == [("v1", 2)]
    await online(live, 1)                                              # agents online changed for both
    assert [visitor for visitor, _ in await live.queue_changes()] == ["v2", "v1"]


async def test_forgetting_an_agent_hands_back_the_chats_they_held(live):
    await online(live, 1)
    for cid in (1, 2):
        await live.track(conversation(cid, "queued", queued_at=100.0 + cid))
        await live.assigned(conversation(cid, "assigned", agent_id=1), 110.0)
    assert sorted(await live.forget_agent(1)) == [1, 2]
    assert await live.agent(1) is None and await live.agents() == [] and await live.agents_online() == 0
    await live.released(conversation(1, "queued", queued_at=101.0), 120.0)
    assert await live.holder(1) is None and await live.is_waiting(1)


async def test_an_agent_gone_past_the_grace_period_is_named_while_they_hold_chats(live):
    await online(live, 1)
    await online(live, 2, name="Lee")
    await live.track(conversation(1, "queued", queued_at=100.0))
    await live.assigned(conversation(1, "assigned", agent_id=1), 100.0)
    await live.agent_disconnected(1, "sid-1", 100.0)
    await live.agent_disconnected(2, "sid-2", 100.0)                # holds nothing: nothing to requeue
    assert await live.agents_gone(159.0, 60.0) == []
    assert await live.agents_gone(160.0, 60.0) == [1]
    await live.agent_connected(agent(1), "sid-1b", 161.0)
    assert await live.agents_gone(300.0, 60.0) == []


async def test_rate_limits_allow_so_many_events_per_window(live):
    assert [await live.allow("visitor_messages", "v1", 100.0 + i) for i in range(4)] == [True, True, True, False]
    assert await live.allow("visitor_messages", "v2", 103.0)            # per key
    assert await live.allow("new_visitors", "v1", 103.0)                # per limit
    assert not await live.allow("visitor_messages", "v1", 109.9)
    assert await live.allow("visitor_messages", "v1", 110.0)           # the event at 100.0 left the window
    assert not await live.allow("visitor_messages", "v1", 110.5)
    await live.reset_limit("visitor_messages", "v1")
    assert await live.allow("visitor_messages", "v1", 110.5)


async def test_load_rebuilds_the_state_from_the_database(live):
    agents = [agent(1), agent(2, "Lee")]
    open_conversations = [conversation(1, "queued", queued_at=100.0), conversation(2, "assigned", agent_id=1),
                          conversation(3, "bot")]
    await live.load(agents, open_conversations, [30.0, 45.0], 200.0)
    dana, lee = await live.agent(1), await live.agent(2)
    assert (dana.open_chats, dana.connected, dana.disconnected_at, dana.status) == (1, False, 200.0, "away")
    assert (lee.open_chats, lee.disconnected_at) == (0, None)
    assert await live.holder(2) == 1 and await live.is_waiting(1) and await live.visitor_of(3) == "v3"
    # Every agent starts disconnected: the chats Dana held go back after the grace period unless she returns.
    assert await live.agents_gone(260.0, 60.0) == [1]
    await online(live, 2, 200.0, name="Lee")
    assert (await live.visitor_queue_state(1))["estimated_wait_seconds"] == 0      # Lee has a free slot


async def test_routing_decisions_never_overlap(live):
    inside, most = 0, 0

    async def decide():
        nonlocal inside, most
        async with live.routing():
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.005)
            inside -= 1

    await asyncio.gather(*(decide() for _ in range(20)))
    assert most == 1


async def test_a_lone_process_leads_the_timed_jobs(live):
    assert await live.leads_timed_jobs(100.0) and await live.leads_timed_jobs(101.0)


async def test_a_visitor_is_online_while_any_of_their_sockets_is(live):
    assert not await live.visitor_online("v1")
    assert await live.visitors_connected(["v1", "v2"]) == set()
    await live.visitor_connected("v1", "s1")
    await live.visitor_connected("v1", "s2")           # a second tab
    await live.visitor_connected("v2", "s3")
    assert await live.visitors_connected(["v1", "v2", "v3"]) == {"v1", "v2"}
    await live.visitor_disconnected("v1", "s1")
    assert await live.visitor_online("v1") and await live.visitor_online("v2") and not await live.visitor_online("v3")
    assert await live.visitors_connected(["v1"]) == {"v1"}     # one tab still open
    await live.visitor_disconnected("v1", "s2")
    await live.visitor_disconnected("v1", "s2")        # a second disconnect of one socket changes nothing
    assert not await live.visitor_online("v1")
    assert await live.visitors_connected(["v1", "v2"]) == {"v2"}
    assert await live.visitors_connected([]) == set()


async def test_priority_orders_the_queue_and_a_retrack_moves_a_waiting_chat(live):
    await live.track(conversation(1, "queued", queued_at=100.0))
    await live.track(conversation(2, "queued", queued_at=101.0))
    await live.track({**conversation(3, "queued", queued_at=102.0), "priority": "high"})
    assert [c["conversation_id"] for c in await live.queue_board(110.0)] == [3, 1, 2]
    await live.track({**conversation(2, "queued", queued_at=101.0), "priority": "urgent"})
    board = await live.queue_board(110.0)
    assert [(c["conversation_id"], c["priority"]) for c in board] == [(2, "urgent"), (3, "high"), (1, "normal")]
    assert [c.conversation_id for c in sorted(await live.waiting(), key=lambda c: c.queued_at)] == [1, 2, 3]
    assert (await live.visitor_queue_state(1))["position"] == 3
