"""What only a cluster's live state has: several nodes (two `RedisLiveState`s on one Redis and one prefix, as two
processes would be) sharing one queue, one presence, one set of rate limits and one leader; a dead node's agents
seen offline; keys and channels under the prefix; Redis going away. The contract both implementations keep is in
tests/test_live_state.py."""
from __future__ import annotations

import asyncio
import random
import time
import uuid

import pytest
import redis.asyncio

from chatserver.cluster import redis_client
from chatserver.cluster.names import RedisNames
from chatserver.desk.live_redis import RedisLiveState
from chatserver.errors import StorageError

from support.redis_service import delete_prefixed, redis_prefix, redis_url  # noqa: F401 (fixtures)

LIMITS = {"visitor_messages": (3, 10.0), "visitor_events": (60, 10.0), "new_visitors": (2, 60.0)}


@pytest.fixture
async def nodes(redis_url, redis_prefix):
    """`await nodes(start=True, **options)` makes one more node of the test's cluster, loaded as at start. A node
    made with start=False never sends a heartbeat: like a process that died right after its agents connected."""
    made: list[RedisLiveState] = []

    async def make(start: bool = True, prefix: str | None = None, **options) -> RedisLiveState:
        live = RedisLiveState(redis_client.connect(redis_url), RedisNames(prefix or redis_prefix).key("live"),
                              uuid.uuid4().hex, LIMITS, **options)
        if start:
            await live.start()
        await live.load([], [], [], 0.0)        # as every node does at start (the first one marks it loaded)
        made.append(live)
        return live

    yield make
    for live in made:
        await live.close()
        await live.redis.aclose()


def agent(aid: int, name: str = "Dana", max_chats: int = 2) -> dict:
    return {"id": aid, "name": name, "role": "agent", "max_chats": max_chats, "departments": []}


def conversation(cid: int, status: str, queued_at: float | None = None, agent_id: int | None = None) -> dict:
    return {"id": cid, "visitor_id": f"v{cid}", "status": status, "queued_at": queued_at, "created_at": 50.0,
            "department": None, "agent_id": agent_id}


async def wait_until(check, timeout: float, step: float = 0.02) -> float:
    """Seconds until `await check()` is true (fails after `timeout`)."""
    started = time.monotonic()
    while not await check():
        assert time.monotonic() - started < timeout, f"not true within {timeout} s"
        await asyncio.sleep(step)
    return time.monotonic() - started


async def test_two_nodes_see_one_queue_one_presence_and_the_same_estimates(nodes):
    a, b = await nodes(), await nodes()
    await a.agent_connected(agent(1, max_chats=1), "sid-a", 100.0)
    await a.set_status(1, "online", 100.0)
    assert (await b.agent(1)).available and await b.agents_online() == 1
    for cid in (1, 2, 3):
        await (a if cid % 2 else b).track(conversation(cid, "queued", queued_at=100.0 + cid))
    await a.set_recent_waits([40.0, 80.0])
    for cid in (1, 2, 3):
        assert await a.visitor_queue_state(cid) == await b.visitor_queue_state(cid)
    assert await a.queue_board(110.0) == await b.queue_board(110.0)
    await b.assigned(conversation(1, "assigned", agent_id=1), 120.0)
    assert await a.holder(1) == 1 and (await a.agent(1)).open_chats == 1
    assert (await a.visitor_queue_state(2))["position"] == 1 == (await b.visitor_queue_state(2))["position"]
    # What one node told a visitor about their place, the other does not tell again.
    first = await a.queue_changes()
    assert [visitor for visitor, _ in first] == ["v2", "v3"] and await b.queue_changes() == []


async def test_claims_from_two_nodes_never_double_assign_or_exceed_capacity(nodes):
    """Many coroutines on two nodes claim the same queued chats at once, the way desk.assignment.claim decides
    (check inside routing(), then assign): 200 rounds, more chats than slots."""
    a, b = await nodes(), await nodes()
    capacity = {1: 2, 2: 1, 3: 3}
    for aid, max_chats in capacity.items():
        await (a if aid % 2 else b).agent_connected(agent(aid, max_chats=max_chats), f"sid-{aid}", 1.0)
    rng = random.Random(13)
    cid = 0
    for round_ in range(200):
        chats = []
        for _ in range(9):
            cid += 1
            chats.append(cid)
            await a.track(conversation(cid, "queued", queued_at=float(cid)))
        claims: list[tuple[int, int]] = []

        async def claim(live, aid, chat):
            async with live.routing():
                state = await live.agent(aid)
                if not await live.is_waiting(chat) or not state.has_capacity:
                    return
                await asyncio.sleep(0)        # where the store's write would be
                await live.assigned(conversation(chat, "assigned", agent_id=aid), float(round_))
                claims.append((chat, aid))

        attempts = [claim(rng.choice((a, b)), aid, chat) for chat in chats for aid in capacity]
        rng.shuffle(attempts)
        await asyncio.gather(*attempts)
        claimed = [chat for chat, _ in claims]
        assert len(claimed) == len(set(claimed)) == sum(capacity.values()), claims
        for aid, max_chats in capacity.items():
            assert (await a.agent(aid)).open_chats == max_chats == len(await b.held_by(aid))
        for chat, aid in claims:                     # close them: the next round starts with free agents
            await b.released(conversation(chat, "closed"), float(round_))
        for chat in set(chats) - set(claimed):
            await a.track(conversation(chat, "closed"))


async def test_a_dead_nodes_agents_are_seen_offline_and_then_their_grace_period_runs(nodes):
    ttl = 0.8
    dead = await nodes(start=False, node_ttl_seconds=ttl)       # never refreshes its presence
    survivor = await nodes()
    await dead.agent_connected(agent(1), "sid-1", time.time())
    await dead.set_status(1, "online", time.time())
    await dead.track(conversation(1, "queued", queued_at=1.0))
    await dead.assigned(conversation(1, "assigned", agent_id=1), time.time())
    assert (await survivor.agent(1)).connected
    seen_offline = await wait_until(lambda: _offline(survivor, 1), timeout=ttl + 2.0)
    print(f"a dead node's agent was seen offline {seen_offline:.2f} s after its last heartbeat (node TTL {ttl} s)")
    assert seen_offline <= ttl + 1.5
    grace = 0.3
    assert await survivor.agents_gone(time.time(), grace) == []      # noticed now: the grace period starts
    assert (await survivor.agent(1)).disconnected_at is not None
    await asyncio.sleep(grace)
    assert await survivor.agents_gone(time.time(), grace) == [1]


async def test_an_agent_of_a_dead_node_who_reconnects_to_another_keeps_their_chats(nodes):
    ttl = 0.5
    dead = await nodes(start=False, node_ttl_seconds=ttl)
    survivor = await nodes()
    await dead.agent_connected(agent(1), "sid-1", time.time())
    await dead.track(conversation(1, "queued", queued_at=1.0))
    await dead.assigned(conversation(1, "assigned", agent_id=1), time.time())
    await wait_until(lambda: _offline(survivor, 1), timeout=ttl + 2.0)
    assert await survivor.agents_gone(time.time(), 0.3) == []
    await survivor.agent_connected(agent(1), "sid-1-again", time.time())
    await asyncio.sleep(0.4)
    assert await survivor.agents_gone(time.time(), 0.3) == []
    assert await survivor.held_by(1) == [1] and (await survivor.agent(1)).open_chats == 1


async def test_a_node_that_shuts_down_takes_its_presence_along(nodes):
    leaving, staying = await nodes(), await nodes()
    await leaving.agent_connected(agent(1), "sid-1", 100.0)
    await leaving.agent_connected(agent(2, "Lee"), "sid-2", 100.0)
    await staying.agent_connected(agent(2, "Lee"), "sid-2b", 100.0)
    await leaving.close()
    one, two = await staying.agent(1), await staying.agent(2)
    assert not one.connected and one.disconnected_at is not None
    assert two.connected and two.disconnected_at is None                 # still connected to the other node


async def test_a_heartbeat_states_this_nodes_presence_exactly(nodes):
    """A disconnect whose Redis write was lost is corrected by the next heartbeat (the node's own count wins)."""
    a, b = await nodes(node_ttl_seconds=0.4), await nodes()
    await a.agent_connected(agent(1), "sid-1", 100.0)
    a._local_sids.clear()            # the socket went away on this node, but Redis never heard of it
    assert (await b.agent(1)).connected
    await wait_until(lambda: _offline(b, 1), timeout=1.0)
    assert (await b.agent(1)).disconnected_at is not None


async def test_rate_limits_hold_across_nodes(nodes):
    a, b = await nodes(), await nodes()
    now = time.time()
    assert [await a.allow("visitor_messages", "v1", now), await b.allow("visitor_messages", "v1", now + 0.1),
            await a.allow("visitor_messages", "v1", now + 0.2)] == [True, True, True]
    assert not await b.allow("visitor_messages", "v1", now + 0.3)
    assert not await a.allow("visitor_messages", "v1", now + 0.4)
    # A new visitor per address: reconnecting to another node does not buy more.
    assert await a.allow("new_visitors", "203.0.113.7", now) and await b.allow("new_visitors", "203.0.113.7", now)
    assert not await b.allow("new_visitors", "203.0.113.7", now)
    assert not await a.allow("new_visitors", "203.0.113.7", now)
    await b.reset_limit("visitor_messages", "v1")
    assert await a.allow("visitor_messages", "v1", now + 0.5)


async def test_one_node_leads_the_timed_jobs_and_another_takes_over_when_it_dies(nodes):
    ttl = 1.5
    a, b = await nodes(leader_ttl_seconds=ttl), await nodes(leader_ttl_seconds=ttl)
    leaders = [await a.leads_timed_jobs(time.time()), await b.leads_timed_jobs(time.time())]
    assert leaders == [True, False]
    for _ in range(5):                                  # the leader renews its lease each tick
        await asyncio.sleep(ttl / 3)
        assert [await a.leads_timed_jobs(time.time()), await b.leads_timed_jobs(time.time())] == [True, False]
    started = time.monotonic()                          # a stops ticking (it died)
    await wait_until(lambda: b.leads_timed_jobs(time.time()), timeout=ttl + 1.0, step=0.05)
    print(f"the timed jobs moved to another node {time.monotonic() - started:.2f} s after their leader stopped")
    assert not await a.leads_timed_jobs(time.time())


async def test_every_key_and_channel_of_the_live_state_carries_the_prefix(nodes, redis_url, redis_prefix):
    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    before = {key async for key in client.scan_iter(count=1000)}
    live = await nodes()
    await live.agent_connected(agent(1), "sid-1", 100.0)
    await live.set_status(1, "online", 100.0)
    for cid in (1, 2):
        await live.track(conversation(cid, "queued", queued_at=100.0 + cid))
    await live.set_summary(2, {"first_question": "hello"})
    await live.assigned(conversation(1, "assigned", agent_id=1), 105.0)
    await live.queue_changes()
    await live.allow("visitor_messages", "v1", time.time())
    await live.leads_timed_jobs(time.time())
    async with live.routing():
        during = {key async for key in client.scan_iter(count=1000)}
    new = during - before
    await client.aclose()
    assert len(new) >= 10 and all(key.startswith(redis_prefix + ":live:") for key in new), sorted(new)


async def test_two_prefixes_are_two_separate_clusters(nodes, redis_url):
    other_prefix = f"test-{uuid.uuid4().hex[:12]}"
    try:
        ours, theirs = await nodes(), await nodes(prefix=other_prefix)
        await ours.agent_connected(agent(1), "sid-1", 100.0)
        await ours.track(conversation(1, "queued", queued_at=100.0))
        assert await theirs.agent(1) is None and await theirs.waiting() == []
        assert await ours.allow("new_visitors", "x", 100.0) and await ours.allow("new_visitors", "x", 100.0)
        assert await theirs.allow("new_visitors", "x", 100.0)
    finally:
        await delete_prefixed(redis_url, other_prefix)


async def test_an_unreachable_redis_fails_operations_with_a_storage_error_quickly():
    live = RedisLiveState(redis_client.connect("redis://127.0.0.1:9/0"), "nowhere:live", "n1", LIMITS)
    started = time.monotonic()
    for attempt in (live.holder(1), live.allow("visitor_messages", "v1", 1.0), live.agents()):
        with pytest.raises(StorageError) as refused:
            await attempt
        assert refused.value.code == "storage_error"
    with pytest.raises(StorageError):
        async with live.routing():
            pass
    assert time.monotonic() - started < 10
    await live.redis.aclose()


async def _offline(live: RedisLiveState, agent_id: int) -> bool:
    return not (await live.agent(agent_id)).connected
