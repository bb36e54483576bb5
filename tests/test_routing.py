"""Routing decisions are pure functions: tested here without sockets or a database."""
from __future__ import annotations

from chatserver.routing import (AgentState, WaitingChat, agents_to_requeue, choose_agent, estimate_wait_seconds,
                                plan_assignments, queue_order)


def online(id_, name, open_chats=0, max_chats=3, idle_since=0.0, departments=None):
    return AgentState(id=id_, name=name, status="online", connected=True, open_chats=open_chats,
                      max_chats=max_chats, idle_since=idle_since, departments=departments or [])


def test_fewest_open_chats_wins():
    agent, reason = choose_agent([online(1, "Ann", open_chats=2), online(2, "Bo", open_chats=1)])
    assert agent.id == 2
    assert reason == "assigned to Bo: online, 1 of 3 chats, fewest open chats"


def test_ties_go_to_the_agent_idle_longest():
    agent, reason = choose_agent([online(1, "Ann", 1, idle_since=200.0), online(2, "Bo", 1, idle_since=100.0)])
    assert agent.id == 2 and "idle longest" in reason


def test_capacity_is_respected_and_away_or_disconnected_agents_are_skipped():
    full = online(1, "Ann", open_chats=3, max_chats=3)
    away = AgentState(id=2, name="Bo", status="away", connected=True)
    gone = AgentState(id=3, name="Cy", status="online", connected=False)
    agent, reason = choose_agent([full, away, gone])
    assert agent is None and reason == "all 1 online agents are at capacity"
    assert choose_agent([away, gone]) == (None, "no agent is online")


def test_department_specialists_first_then_anyone_free():
    generalist = online(1, "Ann", open_chats=0)
    billing = online(2, "Bo", open_chats=1, departments=["billing"])
    agent, reason = choose_agent([generalist, billing], department="billing")
    assert agent.id == 1  # Ann covers every department (none set) and has fewer chats
    shipping_only = online(3, "Cy", open_chats=0, departments=["shipping"])
    agent, reason = choose_agent([billing, shipping_only], department="billing")
    assert agent.id == 2 and "covers billing" in reason
    agent, reason = choose_agent([shipping_only], department="billing")
    assert agent.id == 3 and "no free agent covers billing" in reason


def test_plan_assigns_oldest_first_until_slots_run_out():
    queue = [WaitingChat(10, queued_at=30.0), WaitingChat(11, queued_at=10.0), WaitingChat(12, queued_at=20.0)]
    agents = [online(1, "Ann", open_chats=2, max_chats=3), online(2, "Bo", open_chats=3, max_chats=3)]
    decisions = plan_assignments(queue, agents, now=100.0)
    assert [(d.conversation_id, d.agent_id) for d in decisions] == [(11, 1)]
    assert agents[0].open_chats == 2  # the plan works on copies


def test_plan_spreads_load():
    queue = [WaitingChat(i, queued_at=float(i)) for i in range(4)]
    decisions = plan_assignments(queue, [online(1, "Ann"), online(2, "Bo")], now=100.0)
    assert [d.agent_id for d in decisions] == [1, 2, 1, 2]


def test_queue_order_is_fifo_and_requeued_chats_keep_their_place():
    queue = [WaitingChat(5, queued_at=50.0), WaitingChat(3, queued_at=10.0)]  # 3 was requeued, keeps queued_at
    assert queue_order(queue) == [3, 5]


def test_wait_estimate_is_honest():
    assert estimate_wait_seconds(1, [], []) is None  # nobody online: no made-up number
    free = [online(1, "Ann", open_chats=0, max_chats=3)]
    assert estimate_wait_seconds(2, [], free) == 0  # a free slot for it
    busy = [online(1, "Ann", open_chats=3), online(2, "Bo", open_chats=3)]
    assert estimate_wait_seconds(1, [60.0, 120.0, 30.0], busy) == 30  # median 60 s, 1 ahead, 2 agents
    assert estimate_wait_seconds(4, [60.0], busy) == 120
    assert estimate_wait_seconds(1, [], busy) == 45  # default 90 s per chat over 2 agents


def test_requeue_after_grace_only():
    gone_long = AgentState(id=1, name="Ann", connected=False, disconnected_at=0.0, open_chats=2)
    gone_briefly = AgentState(id=2, name="Bo", connected=False, disconnected_at=50.0, open_chats=1)
    gone_empty = AgentState(id=3, name="Cy", connected=False, disconnected_at=0.0, open_chats=0)
    here = online(4, "Di", open_chats=1)
    assert agents_to_requeue([gone_long, gone_briefly, gone_empty, here], now=60.0, grace_seconds=60.0) == [1]
