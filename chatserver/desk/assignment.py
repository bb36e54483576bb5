"""Routing operations: rebuild the live state at start, queue a chat, give waiting chats to free agents, claim,
transfer, requeue, close. The decisions themselves are the pure functions of chatserver/routing.py; these apply
them to the store and the live state, then publish what changed."""
from __future__ import annotations

import time

from ..errors import Conflict, Forbidden, NotFound
from ..routing import plan_assignments
from ..store import agents as agent_queries
from ..store import bot_log
from ..store import conversations as conv_queries
from ..store import labels as label_queries
from ..store import receipts as receipt_queries
from . import access, quality, surveys
from .events import (AgentJoined, AgentStatusChanged, ChatAssigned, ChatClosed, ChatUnassigned, MessageAdded,
                     QueueBoard, QueuePosition)


async def load(desk) -> None:
    """Rebuild live state from the database: every agent starts disconnected, so the chats they held go back to
    the queue after the grace period unless they reconnect."""
    now = time.time()
    agents = [a for a in await desk.store.read(agent_queries.list_agents) if not a["disabled"]]
    conversations = await desk.store.read(conv_queries.open_conversations)
    await desk.live.load(agents, conversations, await desk.store.read(conv_queries.recent_queue_waits), now)
    for conversation in conversations:
        if conversation["status"] == "queued":
            await desk.live.set_summary(conversation["id"], await desk.store.read(waiting_summary, conversation["id"]))
    known = {a["id"] for a in agents}
    orphaned = [c["id"] for c in conversations if c["status"] == "assigned" and c["agent_id"] not in known]
    await requeue(desk, orphaned, "its agent no longer exists or was disabled")


def waiting_summary(db, conversation_id: int) -> dict:
    """What agents see of a waiting chat before they take it: the question, the bot's suggestions, the feedback."""
    events = bot_log.article_events(db, conversation_id)
    return {
        "first_question": conv_queries.first_visitor_question(db, conversation_id),
        "suggestions": [{"slug": e["slug"], "score": e["score"], "rank": e["rank"]}
                        for e in events if e["type"] == "suggested"][:3],
        "feedback": [{"slug": e["slug"], "type": e["type"], "reason": e["reason"]}
                     for e in events if e["type"] in ("helpful", "not_helpful")],
    }


def snapshot(db, conversation_id: int) -> dict:
    """Everything an agent needs to pick up a chat: the conversation, full history (bot part and notes included),
    the bot's suggestions with scores and the visitor's feedback, and who the visitor is."""
    from ..store import visitors as visitor_queries

    conversation = access.exists(conv_queries.get_conversation(db, conversation_id))
    return {
        "conversation": conversation,
        "messages": conv_queries.messages_after(db, conversation_id, 0, include_private=True),
        "article_events": bot_log.article_events(db, conversation_id),
        "visitor": visitor_queries.visitor_details(db, conversation["visitor_id"]),
        "events": conv_queries.conversation_events(db, conversation_id),
        "labels": label_queries.labels_of(db, conversation_id),
        "transfer_note": transfer_note(db, conversation_id),
        "receipts": receipt_queries.current(db, conversation_id),
    }


def transfer_note(db, conversation_id: int) -> dict | None:
    """The note left by the transfer that gave the chat to its current agent, if that transfer had one."""
    for event in reversed(conv_queries.conversation_events(db, conversation_id)):
        if event["type"] in ("assigned", "requeued", "closed"):
            return None
        if event["type"] == "transferred":
            details = event["details"] or {}
            if not details.get("note"):
                return None
            author = agent_queries.get_agent(db, int(event["actor_id"])) if event["actor_id"] else None
            return {"text": details["note"], "from_agent_id": details.get("from_agent_id"),
                    "by_agent_name": author["name"] if author else None, "created_at": event["created_at"]}
    return None


def _assign(db, conversation_id, agent_id, event_type, actor_type, actor_id, reason, now, expect, note=None):
    """Assign (or transfer) and store the line the visitor sees about it, in one transaction."""
    conversation = conv_queries.assign_conversation(db, conversation_id, agent_id, event_type, actor_type, actor_id,
                                                    reason, now, expect, note=note)
    name = conversation["agent_name"]
    if event_type == "transferred":
        line = conv_queries.add_system_line(db, conversation, "transferred", f"{name} took over the chat", now,
                                            {"name": name})
    else:
        line = conv_queries.add_system_line(db, conversation, "joined", f"{name} joined the chat", now,
                                            {"name": name})
    return conversation, snapshot(db, conversation_id), line


async def agent_status(desk, agent_id: int) -> dict:
    state = await desk.live.agent(agent_id)
    return {"agent_id": agent_id, "status": state.status, "open_chats": state.open_chats,
            "max_chats": state.max_chats}


async def _announcement(desk, conversation: dict, snap: dict, line: dict, reason: str) -> list:
    agent_id = conversation["agent_id"]
    # The new holder has the line in the snapshot; the visitor's tabs hear it as a message.
    return [MessageAdded(line, conversation["visitor_id"], None), ChatAssigned(agent_id, snap, reason),
            AgentStatusChanged(agent_id, await agent_status(desk, agent_id)),
            AgentJoined(conversation["id"], conversation["visitor_id"], conversation["agent_name"])]


async def queue_events(desk) -> list:
    """Each waiting visitor's new place (only where it changed) and the whole queue for agents."""
    changes = await desk.live.queue_changes()
    await quality.note_estimates(desk, [state for _, state in changes])
    events = [QueuePosition(visitor_id, state) for visitor_id, state in changes]
    events.append(QueueBoard(await desk.live.queue_board(time.time()), await desk.live.agents_online()))
    return events


async def publish_queue(desk) -> None:
    await desk.notifier.publish(await queue_events(desk))


async def enqueue(desk, conversation: dict) -> None:
    """A conversation just entered the queue (the store already says so)."""
    async with desk.live.routing():
        if await desk.live.holder(conversation["id"]) is not None:
            return  # a stale snapshot: it was assigned meanwhile
        await desk.live.track(conversation)
    await desk.live.set_summary(conversation["id"], await desk.store.read(waiting_summary, conversation["id"]))
    await rebalance(desk)


async def rebalance(desk) -> None:
    """Give waiting chats to free agents, oldest first, then tell everyone where they stand."""
    events: list = []
    async with desk.live.routing():
        now = time.time()
        for decision in plan_assignments(await desk.live.waiting(), await desk.live.agents(), now):
            try:
                conversation, snap, line = await desk.store.write(
                    _assign, decision.conversation_id, decision.agent_id, "assigned", "system", None, decision.reason,
                    now, ("queued",))
            except Conflict:  # taken or closed meanwhile: follow what the store says
                current = await desk.store.read(conv_queries.get_conversation, decision.conversation_id)
                if current is not None:
                    await desk.live.track(current)
                continue
            await desk.live.assigned(conversation, now)
            events += await _announcement(desk, conversation, snap, line, decision.reason)
    await desk.notifier.publish(events + await queue_events(desk))


async def claim(desk, agent: dict, conversation_id: int) -> dict:
    async with desk.live.routing():
        state = await desk.live.agent(agent["id"])
        if state is None:
            raise Forbidden("you are not an active agent")
        if not await desk.live.is_waiting(conversation_id):
            conversation = access.exists(await desk.store.read(conv_queries.get_conversation, conversation_id))
            raise Conflict(f"the conversation is {conversation['status']}, not waiting", code="not_in_queue")
        if not state.has_capacity:
            raise Conflict(f"you already have {state.open_chats} of {state.max_chats} chats", code="at_capacity")
        now = time.time()
        reason = f"claimed by {state.name} from the queue"
        conversation, snap, line = await desk.store.write(_assign, conversation_id, agent["id"], "assigned", "agent",
                                                    agent["id"], reason, now, ("queued",))
        await desk.live.assigned(conversation, now)
        events = await _announcement(desk, conversation, snap, line, reason)
    await desk.notifier.publish(events + await queue_events(desk))
    return conversation


def _transfer(db, conversation_id, target_id, agent, reason, now, note):
    """One transaction: the chat goes to `target_id`; a note for them is kept with the transfer (its event) and in
    the history as a private note."""
    conversation, _, line = _assign(db, conversation_id, target_id, "transferred", "agent", agent["id"], reason, now,
                                    ("assigned",), note=note)
    if note:
        conversation = conv_queries.get_conversation(db, conversation_id)     # its last_seq moved with the line
        conv_queries.add_agent_message(db, conversation, agent["id"], None, note, now, private=True,
                                       payload={"transfer": {"to_agent_id": target_id,
                                                             "to_agent_name": conversation["agent_name"]}})
    return conversation, snapshot(db, conversation_id), line


async def transfer(desk, agent: dict, conversation_id: int, target_id: int, note: str | None = None) -> dict:
    async with desk.live.routing():
        current = await desk.live.holder(conversation_id)
        if current is None:
            conversation = access.exists(await desk.store.read(conv_queries.get_conversation, conversation_id))
            raise Conflict(f"the conversation is {conversation['status']}, not assigned", code="not_assigned")
        access.may_manage(agent, current)
        target = await desk.live.agent(target_id)
        if target is None:
            raise NotFound("no such agent", code="agent_not_found")
        if target_id == current:
            raise Conflict("the conversation is already with that agent", code="same_agent")
        if not target.available:
            raise Conflict(f"{target.name} is not online", code="agent_unavailable")
        if not target.has_capacity:
            raise Conflict(f"{target.name} has no free chat slot", code="agent_at_capacity")
        now = time.time()
        source = await desk.live.agent(current)
        reason = f"transferred from {source.name if source else 'an agent'} to {target.name} by {agent['name']}"
        conversation, snap, line = await desk.store.write(_transfer, conversation_id, target_id, agent, reason, now,
                                                          note)
        await desk.live.assigned(conversation, now)
        events: list = [ChatUnassigned(current, conversation_id, reason, target.name, agent["id"], agent["name"])]
        if await desk.live.agent(current) is not None:
            events.append(AgentStatusChanged(current, await agent_status(desk, current)))
        events += await _announcement(desk, conversation, snap, line, reason)
    await desk.notifier.publish(events)
    await rebalance(desk)
    return conversation


async def assign(desk, agent: dict, conversation_id: int, target_id: int) -> dict:
    """An admin gives a chat to `target_id`: a waiting one straight from the queue, an assigned one by transfer
    (the same checks: the target online with a free slot)."""
    access.may_manage(agent, None)          # admins only: nobody else picks an agent for a waiting chat
    async with desk.live.routing():
        waiting = await desk.live.is_waiting(conversation_id)
        if waiting:
            target = await desk.live.agent(target_id)
            if target is None:
                raise NotFound("no such agent", code="agent_not_found")
            if not target.available:
                raise Conflict(f"{target.name} is not online", code="agent_unavailable")
            if not target.has_capacity:
                raise Conflict(f"{target.name} has no free chat slot", code="agent_at_capacity")
            now = time.time()
            reason = f"assigned to {target.name} from the queue by {agent['name']}"
            conversation, snap = await desk.store.write(_assign, conversation_id, target_id, "assigned", "agent",
                                                        agent["id"], reason, now, ("queued",))
            await desk.live.assigned(conversation, now)
            events = await _announcement(desk, conversation, snap, reason)
    if not waiting:
        return await transfer(desk, agent, conversation_id, target_id)
    await desk.notifier.publish(events + await queue_events(desk))
    return conversation


def _close(db, conversation_id: int, decide, now: float):
    """One transaction: read the conversation, let `decide(db, conversation)` check who may close it and how it
    ended, close it. None when it was already closed."""
    conversation = access.exists(conv_queries.get_conversation(db, conversation_id))
    if conversation["status"] == "closed":
        return None
    closed_by, actor_id, resolution, reason = decide(db, conversation)
    closed = conv_queries.close_conversation(db, conversation_id, closed_by, actor_id, resolution, reason, now)
    line = conv_queries.add_system_line(db, closed, "ended", "This chat has ended", now, {})
    return closed, line


async def close(desk, conversation_id: int, decide) -> dict | None:
    """Close a conversation; `decide` (run inside the transaction) refuses or says (closed_by, actor, resolution,
    reason). Returns the closed conversation, or None when it was closed already."""
    now = time.time()
    closed = await desk.store.write(_close, conversation_id, decide, now)
    if closed is None:
        return None
    conversation, line = closed
    async with desk.live.routing():
        agent_id = await desk.live.released(conversation, now)
    events: list = [MessageAdded(line, conversation["visitor_id"], agent_id), ChatClosed(conversation_id, conversation["visitor_id"], agent_id, conversation["closed_by"],
                               conversation["resolution"], surveys.offer(desk.settings))]
    if agent_id is not None and await desk.live.agent(agent_id) is not None:
        events.append(AgentStatusChanged(agent_id, await agent_status(desk, agent_id)))
    await desk.notifier.publish(events)
    await rebalance(desk)
    return conversation


async def requeue(desk, conversation_ids: list[int], reason: str) -> None:
    if not conversation_ids:
        return
    now = time.time()
    requeued = await desk.store.write(conv_queries.requeue_conversations, conversation_ids, reason, now)
    async with desk.live.routing():
        for conversation in requeued:
            await desk.live.released(conversation, now)
    for conversation in requeued:
        await desk.live.set_summary(conversation["id"], await desk.store.read(waiting_summary, conversation["id"]))
    await rebalance(desk)


async def sweep(desk) -> None:
    """Requeue the chats of agents gone longer than the grace period."""
    grace = desk.config.agent_grace_seconds
    for agent_id in await desk.live.agents_gone(time.time(), grace):
        state = await desk.live.agent(agent_id)
        await requeue(desk, await desk.live.held_by(agent_id),
                      f"{state.name} was disconnected for more than {grace:g} s")
