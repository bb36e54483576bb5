"""Agents coming and going: connect, disconnect, online/away, changed or disabled in the admin pages."""
from __future__ import annotations

import time

from ..store import agents as agent_queries
from . import assignment
from .events import AgentSignedOut, AgentStatusChanged


async def agent_connected(desk, agent: dict, sid: str, session_hash: str | None = None) -> None:
    """A console connected (with the login session whose hash is given, so logging out can end it)."""
    async with desk.live.routing():
        await desk.live.agent_connected(agent, sid, time.time())
    await desk.notifier.join_agent(sid, agent["id"], session_hash)
    # An agent who comes back online (a reconnect keeps their status) takes what waited meanwhile.
    await assignment.rebalance(desk)


async def agent_disconnected(desk, agent_id: int, sid: str) -> None:
    async with desk.live.routing():
        await desk.live.agent_disconnected(agent_id, sid, time.time())
    await assignment.publish_queue(desk)


async def visitor_connected(desk, visitor_id: str) -> None:
    """A socket of the visitor connected (the supervisor view shows visitors with none)."""
    await desk.live.visitor_socket(visitor_id, 1)


async def visitor_disconnected(desk, visitor_id: str) -> None:
    await desk.live.visitor_socket(visitor_id, -1)


async def current_agent(desk, agent_id: int) -> dict | None:
    """The agent as routing knows them now (name, role), or None once disabled: sockets check this on every
    event, so a role change or a disabled account counts at once."""
    state = await desk.live.agent(agent_id)
    if state is None:
        return None
    return {"id": state.id, "name": state.name, "role": state.role}


async def set_status(desk, agent_id: int, status: str) -> dict:
    now = time.time()
    async with desk.live.routing():
        changed = await desk.live.set_status(agent_id, status, now)
    if changed:
        await desk.store.write(agent_queries.log_presence, agent_id, status, now)
    answer = await assignment.agent_status(desk, agent_id)
    await desk.notifier.publish([AgentStatusChanged(agent_id, answer)])
    await assignment.rebalance(desk)
    return await assignment.agent_status(desk, agent_id)


async def forget_agent(desk, agent_id: int, reason: str) -> None:
    """An agent was disabled: drop their sockets now and send their chats back to the queue."""
    await desk.notifier.publish([AgentSignedOut(agent_id)])
    async with desk.live.routing():
        held = await desk.live.forget_agent(agent_id)
    await assignment.requeue(desk, held, reason)


async def refresh_agent(desk, agent: dict) -> None:
    """Capacity, name, role or departments changed in the admin pages."""
    if agent["disabled"]:
        await forget_agent(desk, agent["id"], f"{agent['name']} was disabled")
        return
    async with desk.live.routing():
        await desk.live.remember_agent(agent, time.time())
    # Their console shows "2 of 3 chats": tell it the new capacity now.
    await desk.notifier.publish([AgentStatusChanged(agent["id"], await assignment.agent_status(desk, agent["id"]))])
    await assignment.rebalance(desk)


async def presence_of(desk, agent: dict) -> dict:
    """Live presence for lists: online / away / offline, open chats, capacity, whether they can take a chat."""
    state = await desk.live.agent(agent["id"])
    connected = bool(state and state.connected)
    return {"status": state.status if connected else "offline", "open_chats": state.open_chats if state else 0,
            "max_chats": state.max_chats if state else agent["max_chats"],
            "available": bool(state and state.available and state.has_capacity)}
