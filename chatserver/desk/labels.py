"""Labels and priority: admins keep the label list; agents put labels on a conversation they may read and set its
priority. A waiting chat's new priority moves it in the queue at once (the order itself is routing.queue_order)."""
from __future__ import annotations

import re
import time

from ..errors import Conflict, InvalidPayload
from ..routing import PRIORITIES
from ..store import conversations as conv_queries
from ..store import labels as label_queries
from . import access, assignment
from .events import ConversationUpdated

LABEL_NAME_CHARS = 40
MAX_LABELS = 200                # in the list
MAX_LABELS_PER_CONVERSATION = 20
COLOUR_RE = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")

def clean_label(fields: dict) -> dict:
    """A label's name (1-40 characters, trimmed) and colour (#rgb or #rrggbb, default the console's blue)."""
    name = fields.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidPayload("Give the label a name", code="empty_text")
    name = " ".join(name.split())
    if len(name) > LABEL_NAME_CHARS:
        raise InvalidPayload(f"Use at most {LABEL_NAME_CHARS} characters for the name", code="text_too_long")
    colour = fields.get("colour") or "#4856d6"
    if not isinstance(colour, str) or not COLOUR_RE.fullmatch(colour.strip()):
        raise InvalidPayload("Pick a colour like #4856d6", code="invalid_colour")
    return {"name": name, "colour": colour.strip().lower()}

async def list_labels(desk) -> list[dict]:
    return await desk.store.read(label_queries.all_labels)

async def create_label(desk, fields: dict) -> dict:
    label = clean_label(fields)

    def add(db, now):
        if len(label_queries.all_labels(db)) >= MAX_LABELS:
            raise Conflict(f"there are already {MAX_LABELS} labels; delete one first", code="too_many_labels")
        return label_queries.add_label(db, label["name"], label["colour"], now)

    return await desk.store.write(add, time.time())

async def delete_label(desk, label_id: int) -> None:
    await desk.store.write(label_queries.delete_label, label_id)

def _readable(db, agent: dict, conversation_id: int) -> dict:
    conversation = conv_queries.get_conversation(db, conversation_id)
    holds_visitor = conversation is not None and conv_queries.visitor_held_by(db, conversation["visitor_id"],
                                                                              agent["id"])
    return access.may_read(agent, conversation, holds_visitor)

def _set_labels(db, agent: dict, conversation_id: int, label_ids: list[int], now: float) -> tuple[dict, list]:
    conversation = _readable(db, agent, conversation_id)
    before = [label["name"] for label in label_queries.labels_of(db, conversation_id)]
    labels = label_queries.set_labels(db, conversation_id, label_ids, agent["id"], now)
    after = [label["name"] for label in labels]
    if before != after:
        conv_queries.add_event(db, conversation_id, "labelled", "agent", agent["id"],
                               f"labels set by {agent['name']}: {', '.join(after) or '(none)'}", now,
                               {"labels": after})
    return conversation, labels

async def set_labels(desk, agent: dict, conversation_id: int, label_ids: list[int]) -> dict:
    """Replace a conversation's labels (any conversation this agent may read, open or closed)."""
    if len(set(label_ids)) > MAX_LABELS_PER_CONVERSATION:
        raise InvalidPayload(f"at most {MAX_LABELS_PER_CONVERSATION} labels per conversation", code="out_of_range")
    conversation, labels = await desk.store.write(_set_labels, agent, conversation_id, label_ids, time.time())
    await desk.notifier.publish([ConversationUpdated(conversation_id, await desk.live.holder(conversation_id),
                                                     {"labels": labels})])
    return {"ok": True, "conversation_id": conversation_id, "labels": labels}

def _set_priority(db, agent: dict, conversation_id: int, priority: str, now: float) -> dict:
    conversation = _readable(db, agent, conversation_id)
    if conversation["status"] == "closed":
        raise Conflict("the conversation is closed", code="conversation_closed")
    if conversation["priority"] != priority:
        label_queries.set_priority(db, conversation_id, priority)
        conv_queries.add_event(db, conversation_id, "priority", "agent", agent["id"],
                               f"priority set to {priority} by {agent['name']}", now,
                               {"priority": priority, "was": conversation["priority"]})
    return conv_queries.get_conversation(db, conversation_id)

async def set_priority(desk, agent: dict, conversation_id: int, priority: str) -> dict:
    """Set an open conversation's priority; a waiting one takes its new place in the queue."""
    if priority not in PRIORITIES:
        raise InvalidPayload(f"'priority' must be one of: {', '.join(PRIORITIES)}")

    conversation = await desk.store.write(_set_priority, agent, conversation_id, priority, time.time())
    if conversation["status"] == "queued":
        async with desk.live.routing():
            if await desk.live.is_waiting(conversation_id):
                await desk.live.track(conversation)
        await assignment.publish_queue(desk)
    await desk.notifier.publish([ConversationUpdated(conversation_id, await desk.live.holder(conversation_id),
                                                     {"priority": conversation["priority"]})])
    return {"ok": True, "conversation_id": conversation_id, "priority": conversation["priority"]}
