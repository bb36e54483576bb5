"""Delivered and seen receipts on `seq`, both ways (docs/protocol.md, "Receipts"). The widget reports the highest
seq it received (delivered) and the highest it showed in a visible tab (seen); the console reports the highest seq
the agent holding the chat had on screen. Each advance is stored, then the other side hears of it."""
from __future__ import annotations

import time

from ..errors import Forbidden, InvalidPayload
from ..store import receipts as receipt_queries
from . import access
from .events import ReceiptUpdated


def _check_seq(conversation: dict, seq: int | None, name: str) -> None:
    if seq is not None and seq > conversation["last_seq"]:
        raise InvalidPayload(f"'{name}' is beyond the conversation's last message ({conversation['last_seq']})",
                             code="out_of_range")


def _visitor_receipt(db, visitor_id: str, conversation_id: int, delivered: int | None, seen: int | None, now: float):
    conversation = access.visitor_owns(visitor_id, receipt_queries.conversation_for_receipt(db, conversation_id))
    _check_seq(conversation, delivered, "delivered_seq")
    _check_seq(conversation, seen, "seen_seq")
    if seen is not None and (delivered is None or delivered < seen):
        delivered = seen   # a message seen was delivered
    moved = receipt_queries.advance(db, conversation_id, "visitor", None,
                                    {"delivered": delivered, "seen": seen}, now)
    return conversation, moved, receipt_queries.current(db, conversation_id)


async def visitor_receipt(desk, visitor_id: str, conversation_id: int, delivered: int | None,
                          seen: int | None) -> dict:
    """The visitor's widget received messages up to `delivered` and showed them, visible, up to `seen`."""
    conversation, moved, receipt = await desk.store.write(_visitor_receipt, visitor_id, conversation_id, delivered,
                                                          seen, time.time())
    if moved and conversation["agent_id"] is not None:
        await desk.notifier.publish([ReceiptUpdated(conversation_id, "visitor", visitor_id, conversation["agent_id"],
                                                    receipt)])
    return {"ok": True, "conversation_id": conversation_id, "delivered_seq": receipt["delivered_seq"],
            "seen_seq": receipt["seen_seq"]}


def _agent_receipt(db, agent: dict, conversation_id: int, seen: int, now: float):
    conversation = access.exists(receipt_queries.conversation_for_receipt(db, conversation_id))
    if conversation["agent_id"] != agent["id"]:
        # Only the agent the chat is with reads for the visitor; a supervisor looking in is not "the agent".
        raise Forbidden("this conversation is not assigned to you", code="not_assigned")
    _check_seq(conversation, seen, "seen_seq")
    moved = receipt_queries.advance(db, conversation_id, "agent", agent["id"], {"seen": seen}, now)
    return conversation, moved, receipt_queries.current(db, conversation_id)


async def agent_receipt(desk, agent: dict, conversation_id: int, seen: int) -> dict:
    """The agent holding the chat had it on screen, in a visible tab, up to `seen`."""
    conversation, moved, receipt = await desk.store.write(_agent_receipt, agent, conversation_id, seen, time.time())
    if moved:
        await desk.notifier.publish([ReceiptUpdated(conversation_id, "agent", conversation["visitor_id"], agent["id"],
                                                    receipt)])
    return {"ok": True, "conversation_id": conversation_id, "seen_seq": receipt["agent_seen_seq"]}
