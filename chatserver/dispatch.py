"""Live state of the help desk (who is online, who is waiting) and the operations that change it.

The Dispatcher applies routing decisions (made by the pure functions in routing.py) to the store and tells the
people involved over Socket.IO. Socket handlers call it; it never parses payloads itself.
"""
from __future__ import annotations

import asyncio
import logging
import time

import socketio

from . import rooms
from .config import Config
from .errors import Conflict, Forbidden, NotFound
from .routing import (AgentState, WaitingChat, agents_to_requeue, estimate_wait_seconds,
                      plan_assignments, queue_order)
from .store import Store
from .store import agents as agent_queries
from .store import bot_log
from .store import conversations as conv_queries
from .store import visitors as visitor_queries

log = logging.getLogger(__name__)
VISITOR_NS = "/visitor"
AGENT_NS = "/agent"


class Dispatcher:
    def __init__(self, config: Config, store: Store, sio: socketio.AsyncServer):
        self.config = config
        self.store = store
        self.sio = sio
        self.agents: dict[int, AgentState] = {}
        self.agent_sids: dict[int, set[str]] = {}
        self.queue: dict[int, WaitingChat] = {}
        self.queue_summaries: dict[int, dict] = {}
        self.conversation_visitor: dict[int, str] = {}
        self.conversation_agent: dict[int, int] = {}
        self.recent_waits: list[float] = []
        self.lock = asyncio.Lock()
        self._last_queue_state: dict[int, tuple] = {}
        # Set by chatserver.surveys: conversation -> the survey to offer ({"nps": bool}) or None.
        self.survey_offer = None

    # -- start-up -------------------------------------------------------------------------------

    async def load(self) -> None:
        """Rebuild live state from the database: every agent starts disconnected, so the chats they held
        go back to the queue after the grace period unless they reconnect."""
        now = time.time()
        for agent in await self.store.read(agent_queries.list_agents):
            if not agent["disabled"]:
                self._remember_agent(agent, now)
        for conversation in await self.store.read(conv_queries.open_conversations):
            self._track(conversation)
            if conversation["status"] == "assigned" and conversation["agent_id"] in self.agents:
                state = self.agents[conversation["agent_id"]]
                state.open_chats += 1
                state.disconnected_at = now
        for cid in list(self.queue):
            await self._summarise_waiting(cid)
        self.recent_waits = await self.store.read(conv_queries.recent_queue_waits)
        orphaned = [cid for cid, aid in self.conversation_agent.items() if aid not in self.agents]
        await self._requeue(orphaned, "its agent no longer exists or was disabled")

    def _remember_agent(self, agent: dict, now: float) -> AgentState:
        state = self.agents.get(agent["id"])
        if state is None:
            state = self.agents[agent["id"]] = AgentState(id=agent["id"], name=agent["name"], idle_since=now)
        state.name = agent["name"]
        state.max_chats = agent["max_chats"]
        state.departments = list(agent["departments"])
        return state

    def _track(self, conversation: dict) -> None:
        cid = conversation["id"]
        self.conversation_visitor[cid] = conversation["visitor_id"]
        if conversation["status"] == "queued":
            self.queue[cid] = WaitingChat(cid, conversation["queued_at"] or conversation["created_at"],
                                          conversation["department"])
            self.conversation_agent.pop(cid, None)
        elif conversation["status"] == "assigned":
            self.queue.pop(cid, None)
            self.conversation_agent[cid] = conversation["agent_id"]
        elif conversation["status"] == "closed":
            self.queue.pop(cid, None)
            self.queue_summaries.pop(cid, None)
            self.conversation_agent.pop(cid, None)
            self.conversation_visitor.pop(cid, None)

    # -- presence -------------------------------------------------------------------------------

    async def agent_connected(self, agent: dict, sid: str) -> None:
        now = time.time()
        async with self.lock:
            state = self._remember_agent(agent, now)
            self.agent_sids.setdefault(agent["id"], set()).add(sid)
            state.connected = True
            state.disconnected_at = None
            state.open_chats = sum(1 for a in self.conversation_agent.values() if a == agent["id"])
        await self.sio.enter_room(sid, rooms.agent(agent["id"]), namespace=AGENT_NS)
        await self.sio.enter_room(sid, rooms.AGENTS, namespace=AGENT_NS)
        # An agent who comes back online (a reconnect keeps their status) takes what waited meanwhile.
        await self.rebalance()

    async def agent_disconnected(self, agent_id: int, sid: str) -> None:
        async with self.lock:
            sids = self.agent_sids.get(agent_id, set())
            sids.discard(sid)
            state = self.agents.get(agent_id)
            if state is not None and not sids:
                state.connected = False
                state.disconnected_at = time.time()
        await self.broadcast_queue()

    async def set_status(self, agent_id: int, status: str) -> AgentState:
        now = time.time()
        async with self.lock:
            state = self.agents[agent_id]
            changed = state.status != status
            if changed:
                state.status = status
                if status == "online":
                    state.idle_since = now
        if changed:
            await self.store.write(agent_queries.log_presence, agent_id, status, now)
        await self.sio.emit("status", self.agent_status(agent_id), to=rooms.agent(agent_id), namespace=AGENT_NS)
        await self.rebalance()
        return state

    def agent_status(self, agent_id: int) -> dict:
        state = self.agents[agent_id]
        return {"agent_id": agent_id, "status": state.status, "open_chats": state.open_chats,
                "max_chats": state.max_chats}

    def agents_online(self) -> int:
        return sum(1 for a in self.agents.values() if a.available)

    async def forget_agent(self, agent_id: int, reason: str) -> None:
        """An agent was disabled: drop their sockets now and send their chats back to the queue."""
        sids = list(self.agent_sids.get(agent_id, ()))
        for sid in sids:
            await self.sio.disconnect(sid, namespace=AGENT_NS)
        async with self.lock:
            held = [cid for cid, aid in self.conversation_agent.items() if aid == agent_id]
            self.agents.pop(agent_id, None)
            self.agent_sids.pop(agent_id, None)
        await self._requeue(held, reason)

    async def refresh_agent(self, agent: dict) -> None:
        """Capacity, name or departments changed in the admin pages."""
        if agent["disabled"]:
            await self.forget_agent(agent["id"], f"{agent['name']} was disabled")
            return
        async with self.lock:
            self._remember_agent(agent, time.time())
        # Their console shows "2 of 3 chats": tell it the new capacity now.
        await self.sio.emit("status", self.agent_status(agent["id"]), to=rooms.agent(agent["id"]), namespace=AGENT_NS)
        await self.rebalance()

    # -- the queue ------------------------------------------------------------------------------

    async def enqueue(self, conversation: dict) -> None:
        """A conversation just entered the queue (store already says so)."""
        async with self.lock:
            if conversation["id"] in self.conversation_agent:
                return  # a stale snapshot: it was assigned meanwhile
            self._track(conversation)
        await self._summarise_waiting(conversation["id"])
        await self.rebalance()

    async def _summarise_waiting(self, cid: int) -> None:
        first_question = await self.store.read(conv_queries.first_visitor_question, cid)
        events = await self.store.read(bot_log.article_events, cid)
        self.queue_summaries[cid] = {
            "first_question": first_question,
            "suggestions": [{"slug": e["slug"], "score": e["score"], "rank": e["rank"]}
                            for e in events if e["type"] == "suggested"][:3],
            "feedback": [{"slug": e["slug"], "type": e["type"], "reason": e["reason"]}
                         for e in events if e["type"] in ("helpful", "not_helpful")],
        }

    async def rebalance(self) -> None:
        """Give waiting chats to free agents, oldest first, then tell everyone where they stand."""
        assigned: list[tuple[dict, str]] = []
        async with self.lock:
            now = time.time()
            for decision in plan_assignments(list(self.queue.values()), list(self.agents.values()), now):
                try:
                    conversation = await self.store.write(
                        conv_queries.assign_conversation, decision.conversation_id, decision.agent_id, "assigned",
                        "system", None, decision.reason, now, ("queued",))
                except Conflict:
                    self.queue.pop(decision.conversation_id, None)
                    continue
                self._apply_assignment(conversation, now)
                assigned.append((conversation, decision.reason))
        for conversation, reason in assigned:
            await self._announce_assignment(conversation, reason)
        await self.broadcast_queue()

    def _apply_assignment(self, conversation: dict, now: float) -> None:
        cid = conversation["id"]
        waiting = self.queue.pop(cid, None)
        if waiting is not None:
            self.recent_waits = ([max(0.0, now - waiting.queued_at)] + self.recent_waits)[:20]
        previous = self.conversation_agent.get(cid)
        if previous is not None and previous in self.agents:
            self.agents[previous].open_chats = max(0, self.agents[previous].open_chats - 1)
        self.conversation_agent[cid] = conversation["agent_id"]
        self.conversation_visitor[cid] = conversation["visitor_id"]
        state = self.agents.get(conversation["agent_id"])
        if state is not None:
            state.open_chats += 1
            state.idle_since = now

    async def _announce_assignment(self, conversation: dict, reason: str) -> None:
        agent_id = conversation["agent_id"]
        snapshot = await self.conversation_snapshot(conversation["id"])
        await self.sio.emit("assigned", {**snapshot, "reason": reason}, to=rooms.agent(agent_id), namespace=AGENT_NS)
        await self.sio.emit("status", self.agent_status(agent_id), to=rooms.agent(agent_id), namespace=AGENT_NS)
        await self.sio.emit("agent_joined", {"conversation_id": conversation["id"],
                                             "agent_name": conversation["agent_name"]},
                            to=rooms.visitor(conversation["visitor_id"]), namespace=VISITOR_NS)
        self.queue_summaries.pop(conversation["id"], None)

    async def claim(self, agent: dict, cid: int) -> dict:
        async with self.lock:
            state = self.agents.get(agent["id"])
            if state is None:
                raise Forbidden("you are not an active agent")
            if cid not in self.queue:
                conversation = await self.store.read(conv_queries.get_conversation, cid)
                if conversation is None:
                    raise NotFound("no such conversation")
                raise Conflict(f"the conversation is {conversation['status']}, not waiting",
                               code="not_in_queue")
            if not state.has_capacity:
                raise Conflict(f"you already have {state.open_chats} of {state.max_chats} chats", code="at_capacity")
            now = time.time()
            reason = f"claimed by {state.name} from the queue"
            conversation = await self.store.write(conv_queries.assign_conversation, cid, agent["id"], "assigned",
                                                  "agent", agent["id"], reason, now, ("queued",))
            self._apply_assignment(conversation, now)
        await self._announce_assignment(conversation, reason)
        await self.broadcast_queue()
        return conversation

    async def transfer(self, agent: dict, cid: int, target_id: int) -> dict:
        async with self.lock:
            current = self.conversation_agent.get(cid)
            if current is None:
                conversation = await self.store.read(conv_queries.get_conversation, cid)
                if conversation is None:
                    raise NotFound("no such conversation")
                raise Conflict(f"the conversation is {conversation['status']}, not assigned", code="not_assigned")
            if current != agent["id"] and agent["role"] != "admin":
                raise Forbidden("this conversation is not assigned to you", code="not_assigned")
            target = self.agents.get(target_id)
            if target is None:
                raise NotFound("no such agent", code="agent_not_found")
            if target_id == current:
                raise Conflict("the conversation is already with that agent", code="same_agent")
            if not target.available:
                raise Conflict(f"{target.name} is not online", code="agent_unavailable")
            if not target.has_capacity:
                raise Conflict(f"{target.name} has no free chat slot", code="agent_at_capacity")
            now = time.time()
            source_name = self.agents[current].name if current in self.agents else "an agent"
            reason = f"transferred from {source_name} to {target.name} by {agent['name']}"
            conversation = await self.store.write(conv_queries.assign_conversation, cid, target_id, "transferred",
                                                  "agent", agent["id"], reason, now, ("assigned",))
            self._apply_assignment(conversation, now)
        await self.sio.emit("unassigned", {"conversation_id": cid, "reason": reason}, to=rooms.agent(current),
                            namespace=AGENT_NS)
        if current in self.agents:
            await self.sio.emit("status", self.agent_status(current), to=rooms.agent(current), namespace=AGENT_NS)
        await self._announce_assignment(conversation, reason)
        await self.rebalance()
        return conversation

    async def close(self, cid: int, closed_by: str, actor_id: object, resolution: str, reason: str) -> dict:
        now = time.time()
        conversation = await self.store.write(conv_queries.close_conversation, cid, closed_by, actor_id,
                                              resolution, reason, now)
        async with self.lock:
            agent_id = self.conversation_agent.get(cid)
            if agent_id is not None and agent_id in self.agents:
                self.agents[agent_id].open_chats = max(0, self.agents[agent_id].open_chats - 1)
                self.agents[agent_id].idle_since = now
            self._track(conversation)
        closed = {"conversation_id": cid, "closed_by": closed_by, "resolution": resolution,
                  "survey": self.survey_offer(conversation) if self.survey_offer else None}
        await self.sio.emit("conversation_closed", closed, to=rooms.visitor(conversation["visitor_id"]),
                            namespace=VISITOR_NS)
        if agent_id is not None:
            await self.sio.emit("conversation_closed", closed, to=rooms.agent(agent_id), namespace=AGENT_NS)
            if agent_id in self.agents:
                await self.sio.emit("status", self.agent_status(agent_id), to=rooms.agent(agent_id),
                                    namespace=AGENT_NS)
        await self.rebalance()
        return conversation

    async def sweep(self) -> None:
        """Requeue the chats of agents gone longer than the grace period."""
        now = time.time()
        for agent_id in agents_to_requeue(list(self.agents.values()), now, self.config.agent_grace_seconds):
            held = [cid for cid, aid in self.conversation_agent.items() if aid == agent_id]
            name = self.agents[agent_id].name
            await self._requeue(held, f"{name} was disconnected for more than "
                                      f"{self.config.agent_grace_seconds:g} s")

    async def _requeue(self, cids: list[int], reason: str) -> None:
        if not cids:
            return
        requeued = await self.store.write(conv_queries.requeue_conversations, cids, reason, time.time())
        async with self.lock:
            for conversation in requeued:
                agent_id = self.conversation_agent.get(conversation["id"])
                if agent_id in self.agents:
                    self.agents[agent_id].open_chats = max(0, self.agents[agent_id].open_chats - 1)
                self._track(conversation)
        for conversation in requeued:
            await self._summarise_waiting(conversation["id"])
        await self.rebalance()

    def queue_view(self, now: float | None = None) -> list[dict]:
        now = now or time.time()
        view = []
        for position, cid in enumerate(queue_order(list(self.queue.values())), start=1):
            waiting = self.queue[cid]
            summary = self.queue_summaries.get(cid, {})
            view.append({"conversation_id": cid, "position": position, "queued_at": waiting.queued_at,
                         "wait_seconds": int(now - waiting.queued_at), "department": waiting.department,
                         "first_question": summary.get("first_question"),
                         "suggestions": summary.get("suggestions", []), "feedback": summary.get("feedback", [])})
        return view

    def live_routing(self, cid: int) -> dict | None:
        """Where the chat stands in routing this instant ({status, agent_name}), or None when routing does not hold
        it (the bot has it, or it is closed). Read with no await before sending, it cannot be older than any
        routing event already sent."""
        agent_id = self.conversation_agent.get(cid)
        if agent_id is not None:
            state = self.agents.get(agent_id)
            return {"status": "assigned", "agent_name": state.name if state else None}
        if cid in self.queue:
            return {"status": "queued", "agent_name": None}
        return None

    def visitor_queue_state(self, cid: int) -> dict | None:
        order = queue_order(list(self.queue.values()))
        if cid not in self.queue:
            return None
        position = order.index(cid) + 1
        agents = list(self.agents.values())
        return {"conversation_id": cid, "position": position, "queue_length": len(order),
                "estimated_wait_seconds": estimate_wait_seconds(position, self.recent_waits, agents),
                "agents_online": self.agents_online()}

    async def broadcast_queue(self) -> None:
        """Tell each waiting visitor their position and wait (only when it changed) and agents the whole queue."""
        for cid in queue_order(list(self.queue.values())):
            state = self.visitor_queue_state(cid)
            if state is None:  # assigned or closed while an earlier emit was awaited
                continue
            key = (state["position"], state["estimated_wait_seconds"], state["agents_online"])
            if self._last_queue_state.get(cid) == key:
                continue
            self._last_queue_state[cid] = key
            visitor_id = self.conversation_visitor.get(cid)
            if visitor_id:
                await self.sio.emit("queue", state, to=rooms.visitor(visitor_id), namespace=VISITOR_NS)
        for cid in [c for c in self._last_queue_state if c not in self.queue]:
            del self._last_queue_state[cid]
        await self.sio.emit("queue", {"conversations": self.queue_view(), "agents_online": self.agents_online()},
                            to=rooms.AGENTS, namespace=AGENT_NS)

    # -- messages -------------------------------------------------------------------------------

    async def deliver(self, message: dict, conversation: dict, sender_sid: str | None = None) -> None:
        """Send a stored message to the people in the conversation (private notes to agents only).
        The sending socket already has the ack, so it is skipped; the sender's other tabs get the message."""
        cid = conversation["id"]
        visitor_room = rooms.visitor(conversation["visitor_id"])
        # Usually the sender is the visitor's only socket: skip the emit (python-socketio encodes before it looks).
        if not message.get("private") and any(
                sid != sender_sid for sid, _ in self.sio.manager.get_participants(VISITOR_NS, visitor_room)):
            await self.sio.emit("message", message, to=visitor_room, namespace=VISITOR_NS, skip_sid=sender_sid)
        agent_id = self.conversation_agent.get(cid)
        if agent_id is not None:
            await self.sio.emit("message", message, to=rooms.agent(agent_id), namespace=AGENT_NS,
                                skip_sid=sender_sid)

    async def conversation_snapshot(self, cid: int) -> dict:
        """Everything an agent needs to pick up a chat: the conversation, full history (bot part and notes
        included), the bot's suggestions with scores and the visitor's feedback, and who the visitor is."""
        return await self.store.read(_snapshot, cid)


def _snapshot(db, cid: int) -> dict:
    conversation = conv_queries.get_conversation(db, cid)
    if conversation is None:
        raise NotFound("no such conversation")
    return {
        "conversation": conversation,
        "messages": conv_queries.messages_after(db, cid, 0, include_private=True),
        "article_events": bot_log.article_events(db, cid),
        "visitor": visitor_queries.visitor_details(db, conversation["visitor_id"]),
        "events": conv_queries.conversation_events(db, cid),
    }
