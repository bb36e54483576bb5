"""A conversation's lifecycle (docs/protocol.md, "Lifecycle"): `open` (with the bot, in the queue or with an
agent), `pending` (waiting on the visitor), `snoozed` until a time, `resolved` (closed). Agents set pending and
snooze; a visitor's message or email, the snooze's end (a timed job) or an agent reopens it. Every change is a
conversation event with its actor and reason. Routing is unchanged: a pending or snoozed chat keeps its agent."""
from __future__ import annotations

import time

from ..errors import Conflict, InvalidPayload
from ..store import conversations as conv_queries
from ..store import lifecycle as lifecycle_queries
from . import access
from .events import LifecycleChanged

MAX_SNOOZE_SECONDS = 30 * 86400
WITH_PEOPLE = ("queued", "assigned")      # the routing statuses a conversation may be pending or snoozed in


def _change(db, agent: dict, conversation_id: int, state: str | None, until: float | None, reason: str, now: float):
    conversation = access.exists(conv_queries.get_conversation(db, conversation_id))
    if conversation["status"] == "closed":
        raise Conflict("the conversation is resolved", code="conversation_closed")
    if conversation["status"] not in WITH_PEOPLE:
        raise Conflict("the bot has this conversation", code="wrong_state")
    access.may_manage(agent, conversation["agent_id"] if conversation["status"] == "assigned" else None)
    if state is None:
        lifecycle_queries.reopen(db, conversation_id, "agent", agent["id"], reason, now)
        return conversation, lifecycle_queries.state_of(db, conversation_id)
    return conversation, lifecycle_queries.set_state(db, conversation_id, state, until, agent["id"], reason, now)


async def _apply(desk, agent: dict, conversation_id: int, state: str | None, until: float | None, reason: str) -> dict:
    conversation, current = await desk.store.write(_change, agent, conversation_id, state, until, reason, time.time())
    await desk.notifier.publish([LifecycleChanged(conversation_id, conversation["agent_id"], current["state"],
                                                  current["snoozed_until"], reason)])
    return {"ok": True, **current}


async def set_pending(desk, agent: dict, conversation_id: int) -> dict:
    """Waiting on the visitor: the agent's chat (or any, for an admin)."""
    return await _apply(desk, agent, conversation_id, "pending", None, f"{agent['name']} is waiting on the visitor")


async def snooze(desk, agent: dict, conversation_id: int, until: float) -> dict:
    now = time.time()
    if not now < until <= now + MAX_SNOOZE_SECONDS:
        raise InvalidPayload("'until' must be a time in the next 30 days", code="out_of_range")
    return await _apply(desk, agent, conversation_id, "snoozed", until, f"snoozed by {agent['name']}")


async def reopen(desk, agent: dict, conversation_id: int) -> dict:
    return await _apply(desk, agent, conversation_id, None, None, f"reopened by {agent['name']}")


def reopen_for_visitor(db, conversation_id: int, visitor_id: str, reason: str, now: float) -> bool:
    """Inside the write that stored the visitor's message or email: a pending or snoozed chat is open again."""
    return lifecycle_queries.reopen(db, conversation_id, "visitor", visitor_id, reason, now)


async def wake_snoozed(desk) -> None:
    """A timed job: snoozes whose time came are open again, and their agents hear it."""
    now = time.time()
    for conversation_id in await desk.store.read(lifecycle_queries.snoozes_due, now):
        woke = await desk.store.write(_wake, conversation_id, now)
        if woke is not None:
            await desk.notifier.publish([LifecycleChanged(conversation_id, woke["agent_id"], "open", None,
                                                          "the snooze ended")])


def _wake(db, conversation_id: int, now: float) -> dict | None:
    conversation = conv_queries.get_conversation(db, conversation_id)
    if not lifecycle_queries.reopen(db, conversation_id, "system", None, "the snooze ended", now):
        return None
    return conversation


async def tickets(desk, agent: dict, view: str, state: str | None) -> list[dict]:
    """The Tickets view (Unassigned / Mine / All, filtered by lifecycle)."""
    if view not in lifecycle_queries.TICKET_VIEWS:
        raise InvalidPayload("view must be unassigned, mine or all", code="invalid_view")
    if state is not None and state not in lifecycle_queries.LIFECYCLE_STATES:
        raise InvalidPayload("state must be open, pending, snoozed or resolved", code="invalid_view")
    return await desk.store.read(lifecycle_queries.tickets, view, agent["id"], state)
