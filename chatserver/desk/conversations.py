"""What people do inside a conversation: write, add a note, type, catch up, look back, leave a contact, close."""
from __future__ import annotations

import time

from ..errors import Forbidden, InvalidPayload, NotFound, RateLimited
from ..store import conversations as conv_queries
from ..store import visitors as visitor_queries
from . import access, assignment, bot, email_replies, lifecycle
from .messages import message_ack, open_conversation, store_agent_message
from .events import LifecycleChanged, MessageAdded, Typing

SYNC_LIMIT = 1000
HISTORY_PAGE = 20          # conversations per `conversations` answer
PREVIEW_CHARS = 140        # of the visitor's first question, as the list's label


async def limit_visitor_events(desk, visitor_id: str) -> None:
    """Every visitor event but messages (typing, sync, feedback...) shares one budget per visitor."""
    if not await desk.live.allow("visitor_events", visitor_id, time.time()):
        raise RateLimited("too many events; slow down")


async def send_visitor_message(desk, visitor: dict, client_id: str, text: str, sender_sid: str | None) -> dict:
    """Store the message in the visitor's open conversation (a new one if none), tell the other side, and let the
    bot answer when it has the chat. A resent client_id returns the stored message (duplicate)."""
    now = time.time()
    visitor_id = visitor["visitor_id"]
    if not await desk.live.allow("visitor_messages", visitor_id, now):
        limit, window = desk.config.rate_limit_messages, desk.config.rate_limit_window_seconds
        raise RateLimited(f"at most {limit} messages every {window:g} s; slow down")
    initial_status = "bot" if desk.config.bot_enabled else "queued"
    stored = await desk.store.write(_store_visitor_message, visitor_id, client_id, text, now,
                                    initial_status, visitor.get("page_url"))
    message, conversation = stored["message"], stored["conversation"]
    if not stored["duplicate"]:
        # Other tabs of the same visitor and the assigned agent see it; the sender has the ack.
        agent_id = await desk.live.holder(conversation["id"])
        events = [MessageAdded(message, visitor_id, agent_id, sender_sid)]
        if stored["reopened"]:
            events.append(LifecycleChanged(conversation["id"], agent_id, "open", None, REOPENED_BY_VISITOR))
        await desk.notifier.publish(events)
        if stored["created"] and initial_status == "queued":
            await assignment.enqueue(desk, conversation)
        elif conversation["status"] == "bot":
            desk.run_in_background(bot.answer(desk, conversation, message),
                                   f"the bot's answer in conversation {conversation['id']}")
    return message_ack(message, stored["duplicate"])


REOPENED_BY_VISITOR = "the visitor wrote"


def _store_visitor_message(db, visitor_id: str, client_id: str, text: str, now: float, initial_status: str,
                           page_url: str | None) -> dict:
    """The message, and a pending or snoozed conversation open again: one transaction."""
    stored = conv_queries.add_visitor_message(db, visitor_id, client_id, text, now, initial_status, page_url)
    # Only chats with people can be pending or snoozed: the bot's (most of the traffic) cost no extra statement.
    stored["reopened"] = (not stored["duplicate"] and not stored["created"] and
                          stored["conversation"]["status"] in lifecycle.WITH_PEOPLE and
                          lifecycle.reopen_for_visitor(db, stored["conversation"]["id"], visitor_id,
                                                       REOPENED_BY_VISITOR, now))
    return stored


async def send_agent_message(desk, agent: dict, conversation_id: int, client_id: str | None, text: str,
                             sender_sid: str | None, private: bool = False) -> dict:
    """A reply to the visitor, or a private note (`private`) only agents see. A reply the visitor does not see in
    time goes to them by email: queued in the same transaction (email_replies.py)."""
    plan = None if private else await email_replies.digest_plan(desk, conversation_id)
    message, conversation, duplicate = await desk.store.write(
        _store_reply, agent, conversation_id, client_id, text, time.time(), private, plan)
    if not duplicate:
        await desk.notifier.publish([MessageAdded(message, conversation["visitor_id"],
                                                  await desk.live.holder(conversation_id), sender_sid)])
    return {**message_ack(message, duplicate), "conversation_id": conversation_id}


def _store_reply(db, agent: dict, conversation_id: int, client_id: str | None, text: str, now: float, private: bool,
                 plan: dict | None):
    message, conversation, duplicate = store_agent_message(db, agent, conversation_id, client_id, text, now, private)
    if not duplicate and not private:
        email_replies.queue_digest(db, plan, conversation, message, now)
    return message, conversation, duplicate


async def agent_typing(desk, agent: dict, conversation_id: int, typing: bool) -> None:
    access.holds(agent, await desk.live.holder(conversation_id))
    await desk.notifier.publish([Typing(conversation_id, "agent", typing,
                                        visitor_id=await desk.live.visitor_of(conversation_id),
                                        agent_name=agent["name"])])


async def visitor_typing(desk, visitor_id: str, typing: bool) -> None:
    conversation = await open_conversation(desk, visitor_id)
    agent_id = await desk.live.holder(conversation["id"])
    if agent_id is not None:
        await desk.notifier.publish([Typing(conversation["id"], "visitor", typing, agent_id=agent_id)])


def _readable(db, agent: dict, conversation_id: int) -> dict:
    conversation = conv_queries.get_conversation(db, conversation_id)
    holds_visitor = conversation is not None and conv_queries.visitor_held_by(db, conversation["visitor_id"],
                                                                              agent["id"])
    return access.may_read(agent, conversation, holds_visitor)


def _agent_sync(db, agent: dict, conversation_id: int, after_seq: int) -> dict:
    conversation = _readable(db, agent, conversation_id)
    messages = conv_queries.messages_after(db, conversation_id, after_seq, True, SYNC_LIMIT)
    return {"ok": True, "conversation_id": conversation_id, "status": conversation["status"], "messages": messages,
            "more": len(messages) == SYNC_LIMIT}


async def agent_sync(desk, agent: dict, conversation_id: int, after_seq: int) -> dict:
    """The messages (notes included) after `after_seq` of a conversation this agent may read."""
    return await desk.store.read(_agent_sync, agent, conversation_id, after_seq)


def _agent_snapshot(db, agent: dict, conversation_id: int) -> dict:
    _readable(db, agent, conversation_id)
    return assignment.snapshot(db, conversation_id)


async def conversation_for_agent(desk, agent: dict, conversation_id: int) -> dict:
    """The full snapshot of one conversation this agent may read (history, bot log, visitor details)."""
    return {"ok": True, **await desk.store.read(_agent_snapshot, agent, conversation_id)}


def _visitor_sync(db, visitor_id: str, conversation_id: int | None, after_seq: int) -> dict:
    if conversation_id is None:
        conversation = conv_queries.open_conversation_of(db, visitor_id)
        if conversation is None:
            raise NotFound("you have no open conversation", code="no_conversation")
    else:
        conversation = access.visitor_owns(visitor_id, conv_queries.get_conversation(db, conversation_id))
    messages = conv_queries.messages_after(db, conversation["id"], after_seq, False, SYNC_LIMIT)
    return {"ok": True, "conversation_id": conversation["id"], "messages": messages,
            "status": conversation["status"], "more": len(messages) == SYNC_LIMIT}


async def visitor_sync(desk, visitor_id: str, conversation_id: int | None, after_seq: int) -> dict:
    """The visitor's messages after `after_seq`, in their open conversation or one of their earlier ones."""
    return await desk.store.read(_visitor_sync, visitor_id, conversation_id, after_seq)


async def visitor_history(desk, visitor_id: str, before_id: int | None) -> dict:
    """The visitor's earlier conversations, newest first, a page at a time."""
    found = await desk.store.read(conv_queries.conversations_of_visitor, visitor_id, before_id, HISTORY_PAGE + 1)
    for conversation in found:
        question = conversation.pop("first_question") or ""
        conversation["preview"] = question[:PREVIEW_CHARS]
    return {"ok": True, "conversations": found[:HISTORY_PAGE], "more": len(found) > HISTORY_PAGE}


def _set_contact(db, visitor_id: str, email: str, name: str | None, now: float) -> None:
    conversation = conv_queries.open_conversation_of(db, visitor_id)
    visitor_queries.set_contact(db, visitor_id, email, name, conversation["id"] if conversation else None, now)


async def leave_contact(desk, visitor_id: str, email: str, name: str | None) -> dict:
    await desk.store.write(_set_contact, visitor_id, email, name, time.time())
    return {"ok": True, "email": email, "name": name}


async def close_by_agent(desk, agent: dict, conversation_id: int) -> dict:
    def decide(db, conversation):
        access.may_manage(agent, conversation["agent_id"])
        return "agent", agent["id"], "resolved", f"closed by {agent['name']}"

    closed = await assignment.close(desk, conversation_id, decide)
    if closed is None:
        return {"ok": True, "conversation_id": conversation_id, "already_closed": True}
    return {"ok": True, "conversation_id": conversation_id}


async def close_by_visitor(desk, visitor_id: str) -> dict:
    conversation = await open_conversation(desk, visitor_id)

    def decide(db, current):
        access.visitor_owns(visitor_id, current)
        resolution, reason = bot.resolution_on_visitor_close(db, current)
        return "visitor", visitor_id, resolution, reason

    closed = await assignment.close(desk, conversation["id"], decide)
    resolution = closed["resolution"] if closed else conversation.get("resolution")
    return {"ok": True, "conversation_id": conversation["id"], "resolution": resolution}


LIST_STATUSES = ("bot", "queued", "assigned", "closed")
LIST_MAX = 100


def clean_list_filters(query: dict) -> dict:
    """The API's list filters from query-string values (all strings); InvalidPayload names the bad one."""
    filters: dict = {}
    status = query.get("status")
    if status is not None:
        if status not in LIST_STATUSES:
            raise InvalidPayload(f"'status' must be one of: {', '.join(LIST_STATUSES)}")
        filters["status"] = status
    for name in ("agent_id", "limit", "cursor"):
        raw = query.get(name)
        if raw is not None:
            if not raw.isdigit() or len(raw) > 15:
                raise InvalidPayload(f"'{name}' must be a whole number", code="invalid_cursor" if name == "cursor"
                                     else "invalid_payload")
            filters[name] = int(raw)
    if "limit" in filters and not 1 <= filters["limit"] <= LIST_MAX:
        raise InvalidPayload(f"'limit' must be between 1 and {LIST_MAX}", code="out_of_range")
    visitor_id = query.get("visitor_id")
    if visitor_id is not None:
        if not visitor_id.isalnum() or len(visitor_id) > 64:
            raise InvalidPayload("'visitor_id' must be a visitor id (letters and digits)")
        filters["visitor_id"] = visitor_id
    for name in ("created_after", "created_before"):
        raw = query.get(name)
        if raw is not None:
            try:
                value = float(raw)
            except ValueError:
                value = float("nan")
            if not 0 <= value < 1e11:      # NaN fails too
                raise InvalidPayload(f"'{name}' must be a Unix time in seconds")
            filters[name] = value
    return filters


async def list_conversations(desk, agent: dict, filters: dict) -> dict:
    """A page of conversations (admins: everyone's), newest first, with the cursor of the next page or None."""
    if not access.is_admin(agent):
        raise Forbidden("only admins list every conversation")
    limit = filters.get("limit", 25)
    found = await desk.store.read(conv_queries.list_conversations, filters, filters.get("cursor"), limit + 1)
    page = found[:limit]
    return {"ok": True, "conversations": page,
            "next_cursor": str(page[-1]["id"]) if len(found) > limit else None}
