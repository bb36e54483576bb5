"""Live state of the help desk: who is online and how loaded, which chats wait, who holds which chat, the
per-visitor rate limits. Operations read and change it only through `LiveState`; `InProcessLiveState` keeps it
in this process's memory (one server process, the default). `RedisLiveState` (live_redis.py) keeps it in Redis,
shared by every node of a cluster; operations never know which one they have.

The state is a cache of what the store says: `load` rebuilds it from the database at start, and operations
update it only after their transaction committed. Routing decisions that read and then change it run inside
`async with live.routing():`, so two of them never plan on the same snapshot.
"""
from __future__ import annotations

import asyncio
import contextlib
from typing import AsyncIterator

from ..ratelimit import SlidingWindowLimiter
from ..routing import AgentState, WaitingChat, agents_to_requeue, estimate_wait_seconds, queue_order

RECENT_WAITS = 20


class LiveState:
    """The interface. Every method is a coroutine so a shared implementation can reach its engine."""

    def routing(self) -> contextlib.AbstractAsyncContextManager:
        raise NotImplementedError

    async def load(self, agents: list[dict], open_conversations: list[dict], recent_waits: list[float],
                   now: float) -> None: raise NotImplementedError

    # agents
    async def remember_agent(self, agent: dict, now: float) -> AgentState: raise NotImplementedError
    async def agent_connected(self, agent: dict, sid: str, now: float) -> None: raise NotImplementedError
    async def agent_disconnected(self, agent_id: int, sid: str, now: float) -> None: raise NotImplementedError
    async def set_status(self, agent_id: int, status: str, now: float) -> bool: raise NotImplementedError
    async def forget_agent(self, agent_id: int) -> list[int]: raise NotImplementedError
    async def agent(self, agent_id: int) -> AgentState | None: raise NotImplementedError
    async def agents(self) -> list[AgentState]: raise NotImplementedError
    async def agents_online(self) -> int: raise NotImplementedError
    async def agents_gone(self, now: float, grace_seconds: float) -> list[int]: raise NotImplementedError

    # conversations
    async def track(self, conversation: dict) -> None: raise NotImplementedError
    async def holder(self, conversation_id: int) -> int | None: raise NotImplementedError
    async def visitor_of(self, conversation_id: int) -> str | None: raise NotImplementedError

    async def held_by(self, agent_id: int) -> list[int]: raise NotImplementedError
    async def assigned(self, conversation: dict, now: float) -> int | None: raise NotImplementedError
    async def released(self, conversation: dict, now: float) -> int | None: raise NotImplementedError

    # the queue
    async def waiting(self) -> list[WaitingChat]: raise NotImplementedError
    async def is_waiting(self, conversation_id: int) -> bool: raise NotImplementedError
    async def set_summary(self, conversation_id: int, summary: dict) -> None: raise NotImplementedError
    async def queue_board(self, now: float) -> list[dict]: raise NotImplementedError
    async def visitor_queue_state(self, conversation_id: int) -> dict | None: raise NotImplementedError
    async def queue_changes(self) -> list[tuple[str, dict]]: raise NotImplementedError
    async def where(self, conversation_id: int) -> dict | None: raise NotImplementedError
    async def set_recent_waits(self, waits: list[float]) -> None: raise NotImplementedError

    # visitors' sockets (whether a reply was "seen": the email continuation, desk/email_replies.py; the supervisor
    # view: whose visitor is disconnected now)
    async def visitor_connected(self, visitor_id: str, sid: str) -> None: raise NotImplementedError
    async def visitor_disconnected(self, visitor_id: str, sid: str) -> None: raise NotImplementedError
    async def visitor_online(self, visitor_id: str) -> bool: raise NotImplementedError
    async def visitors_connected(self, visitor_ids: list[str]) -> set[str]: raise NotImplementedError

    # rate limits
    async def allow(self, limit: str, key: str, now: float) -> bool: raise NotImplementedError
    async def reset_limit(self, limit: str, key: str) -> None: raise NotImplementedError

    # the node's part
    async def start(self) -> None:
        """Before the first operation (a shared implementation starts its heartbeat)."""

    async def close(self) -> None:
        """At shutdown, after the last operation."""

    async def leads_timed_jobs(self, now: float) -> bool:
        """Whether this process runs the timed jobs (the grace sweep) now: exactly one node of a cluster does."""
        raise NotImplementedError

    async def needs_load(self) -> bool:
        """Whether the state is empty although the server runs (a shared store lost its data): `load` again."""
        raise NotImplementedError


class InProcessLiveState(LiveState):
    def __init__(self, limits: dict[str, tuple[int, float]]):
        self._agents: dict[int, AgentState] = {}
        self.agent_sids: dict[int, set[str]] = {}
        self.queue: dict[int, WaitingChat] = {}
        self._summaries: dict[int, dict] = {}
        self._visitor_of: dict[int, str] = {}
        self._holder: dict[int, int] = {}
        self._recent_waits: list[float] = []
        self._last_queue_state: dict[int, tuple] = {}
        self._lock = asyncio.Lock()
        self._limiters = {name: SlidingWindowLimiter(limit, window) for name, (limit, window) in limits.items()}
        self._visitor_sids: dict[str, set[str]] = {}

    @contextlib.asynccontextmanager
    async def routing(self) -> AsyncIterator[None]:
        async with self._lock:
            yield

    async def load(self, agents: list[dict], open_conversations: list[dict], recent_waits: list[float],
                   now: float) -> None:
        for agent in agents:
            await self.remember_agent(agent, now)
        for conversation in open_conversations:
            await self.track(conversation)
            state = self._agents.get(conversation["agent_id"]) if conversation["status"] == "assigned" else None
            if state is not None:
                state.open_chats += 1
                state.disconnected_at = now
        await self.set_recent_waits(recent_waits)

    # -- agents -----------------------------------------------------------------------------------

    async def remember_agent(self, agent: dict, now: float) -> AgentState:
        state = self._agents.get(agent["id"])
        if state is None:
            state = self._agents[agent["id"]] = AgentState(id=agent["id"], name=agent["name"], idle_since=now)
        state.name = agent["name"]
        state.role = agent["role"]
        state.max_chats = agent["max_chats"]
        state.departments = list(agent["departments"])
        return state

    async def agent_connected(self, agent: dict, sid: str, now: float) -> None:
        state = await self.remember_agent(agent, now)
        self.agent_sids.setdefault(agent["id"], set()).add(sid)
        state.connected = True
        state.disconnected_at = None
        state.open_chats = sum(1 for holder in self._holder.values() if holder == agent["id"])

    async def agent_disconnected(self, agent_id: int, sid: str, now: float) -> None:
        sids = self.agent_sids.get(agent_id, set())
        sids.discard(sid)
        state = self._agents.get(agent_id)
        if state is not None and not sids:
            state.connected = False
            state.disconnected_at = now

    async def set_status(self, agent_id: int, status: str, now: float) -> bool:
        state = self._agents[agent_id]
        if state.status == status:
            return False
        state.status = status
        if status == "online":
            state.idle_since = now
        return True

    async def forget_agent(self, agent_id: int) -> list[int]:
        self._agents.pop(agent_id, None)
        self.agent_sids.pop(agent_id, None)
        return [cid for cid, holder in self._holder.items() if holder == agent_id]

    async def agent(self, agent_id: int) -> AgentState | None:
        return self._agents.get(agent_id)

    async def agents(self) -> list[AgentState]:
        return list(self._agents.values())

    async def agents_online(self) -> int:
        return sum(1 for a in self._agents.values() if a.available)

    async def agents_gone(self, now: float, grace_seconds: float) -> list[int]:
        return agents_to_requeue(list(self._agents.values()), now, grace_seconds)

    # -- conversations ------------------------------------------------------------------------------

    async def track(self, conversation: dict) -> None:
        """Follow a conversation's routing state as the store has it now (queued, assigned or closed)."""
        cid = conversation["id"]
        self._visitor_of[cid] = conversation["visitor_id"]
        status = conversation["status"]
        if status == "queued":
            self.queue[cid] = WaitingChat(cid, conversation["queued_at"] or conversation["created_at"],
                                           conversation["department"], conversation.get("priority") or "normal")
            self._holder.pop(cid, None)
        elif status == "assigned":
            self.queue.pop(cid, None)
            self._holder[cid] = conversation["agent_id"]
        elif status == "closed":
            self.queue.pop(cid, None)
            self._summaries.pop(cid, None)
            self._holder.pop(cid, None)
            self._visitor_of.pop(cid, None)

    async def holder(self, conversation_id: int) -> int | None:
        return self._holder.get(conversation_id)

    async def visitor_of(self, conversation_id: int) -> str | None:
        return self._visitor_of.get(conversation_id)

    async def held_by(self, agent_id: int) -> list[int]:
        return sorted(cid for cid, holder in self._holder.items() if holder == agent_id)

    async def assigned(self, conversation: dict, now: float) -> int | None:
        """The chat went to conversation['agent_id']; returns who held it before (a transfer), if anyone."""
        cid = conversation["id"]
        waiting = self.queue.pop(cid, None)
        if waiting is not None:
            self._recent_waits = ([max(0.0, now - waiting.queued_at)] + self._recent_waits)[:RECENT_WAITS]
        self._summaries.pop(cid, None)
        previous = self._holder.get(cid)
        if previous is not None and previous in self._agents:
            self._agents[previous].open_chats = max(0, self._agents[previous].open_chats - 1)
        self._holder[cid] = conversation["agent_id"]
        self._visitor_of[cid] = conversation["visitor_id"]
        state = self._agents.get(conversation["agent_id"])
        if state is not None:
            state.open_chats += 1
            state.idle_since = now
        return previous

    async def released(self, conversation: dict, now: float) -> int | None:
        """The chat was closed or sent back to the queue: its agent has a free slot again. Returns that agent."""
        holder = self._holder.get(conversation["id"])
        if holder is not None and holder in self._agents:
            state = self._agents[holder]
            state.open_chats = max(0, state.open_chats - 1)
            if conversation["status"] == "closed":
                state.idle_since = now
        await self.track(conversation)
        return holder

    # -- the queue ----------------------------------------------------------------------------------

    async def waiting(self) -> list[WaitingChat]:
        return list(self.queue.values())

    async def is_waiting(self, conversation_id: int) -> bool:
        return conversation_id in self.queue

    async def set_summary(self, conversation_id: int, summary: dict) -> None:
        if conversation_id in self.queue:
            self._summaries[conversation_id] = summary

    async def queue_board(self, now: float) -> list[dict]:
        board = []
        for position, cid in enumerate(queue_order(list(self.queue.values())), start=1):
            waiting = self.queue[cid]
            summary = self._summaries.get(cid, {})
            board.append({"conversation_id": cid, "position": position, "queued_at": waiting.queued_at,
                          "wait_seconds": int(now - waiting.queued_at), "department": waiting.department,
                          "priority": waiting.priority,
                          "first_question": summary.get("first_question"),
                          "suggestions": summary.get("suggestions", []), "feedback": summary.get("feedback", [])})
        return board

    def _visitor_queue_state(self, cid: int, order: list[int]) -> dict:
        position = order.index(cid) + 1
        agents = list(self._agents.values())
        return {"conversation_id": cid, "position": position, "queue_length": len(order),
                "estimated_wait_seconds": estimate_wait_seconds(position, self._recent_waits, agents),
                "agents_online": sum(1 for a in agents if a.available)}

    async def visitor_queue_state(self, conversation_id: int) -> dict | None:
        if conversation_id not in self.queue:
            return None
        return self._visitor_queue_state(conversation_id, queue_order(list(self.queue.values())))

    async def queue_changes(self) -> list[tuple[str, dict]]:
        """(visitor_id, queue state) for each waiting visitor whose position, estimate or agents online changed
        since the last call."""
        changes = []
        order = queue_order(list(self.queue.values()))
        for cid in order:
            state = self._visitor_queue_state(cid, order)
            key = (state["position"], state["estimated_wait_seconds"], state["agents_online"])
            if self._last_queue_state.get(cid) == key:
                continue
            self._last_queue_state[cid] = key
            visitor_id = self._visitor_of.get(cid)
            if visitor_id:
                changes.append((visitor_id, state))
        for cid in [c for c in self._last_queue_state if c not in self.queue]:
            del self._last_queue_state[cid]
        return changes

    async def where(self, conversation_id: int) -> dict | None:
        """Where the chat stands in routing this instant ({status, agent_name}), or None when routing does not hold
        it (the bot has it, or it is closed)."""
        holder = self._holder.get(conversation_id)
        if holder is not None:
            state = self._agents.get(holder)
            return {"status": "assigned", "agent_name": state.name if state else None}
        if conversation_id in self.queue:
            return {"status": "queued", "agent_name": None}
        return None

    async def set_recent_waits(self, waits: list[float]) -> None:
        self._recent_waits = list(waits)[:RECENT_WAITS]

    # -- visitors' sockets ----------------------------------------------------------------------------

    async def visitors_connected(self, visitor_ids: list[str]) -> set[str]:
        return {v for v in visitor_ids if self._visitor_sids.get(v)}

    # -- rate limits --------------------------------------------------------------------------------

    async def visitor_connected(self, visitor_id: str, sid: str) -> None:
        self._visitor_sids.setdefault(visitor_id, set()).add(sid)

    async def visitor_disconnected(self, visitor_id: str, sid: str) -> None:
        sids = self._visitor_sids.get(visitor_id, set())
        sids.discard(sid)
        if not sids:
            self._visitor_sids.pop(visitor_id, None)

    async def visitor_online(self, visitor_id: str) -> bool:
        return bool(self._visitor_sids.get(visitor_id))

    async def allow(self, limit: str, key: str, now: float) -> bool:
        return self._limiters[limit].allow(key, now)

    async def reset_limit(self, limit: str, key: str) -> None:
        self._limiters[limit].reset(key)

    async def leads_timed_jobs(self, now: float) -> bool:
        return True     # the only process

    async def needs_load(self) -> bool:
        return False    # this memory lives exactly as long as the process
