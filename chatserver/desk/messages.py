"""Pieces the conversation and bot operations share: the ack of a stored message, the visitor's open conversation,
and storing an agent's message where they may write."""
from __future__ import annotations

from ..errors import Conflict, NotFound
from ..store import conversations as conv_queries
from . import access


def message_ack(message: dict, duplicate: bool) -> dict:
    return {"ok": True, "id": message["id"], "seq": message["seq"], "conversation_id": message["conversation_id"],
            "created_at": message["created_at"], "duplicate": duplicate}


async def open_conversation(desk, visitor_id: str) -> dict:
    conversation = await desk.store.read(conv_queries.open_conversation_of, visitor_id)
    if conversation is None:
        raise NotFound("you have no open conversation", code="no_conversation")
    return conversation


def store_agent_message(db, agent: dict, conversation_id: int, client_id: str | None, text: str, now: float,
                   private: bool, kind: str = "text", payload: object = None):
    """(message, conversation, duplicate) in one transaction: a resent client_id returns what was stored."""
    if client_id is not None:
        existing = conv_queries.agent_message_by_client_id(db, conversation_id, client_id)
        if existing is not None:
            if existing.get("agent_id") != agent["id"]:
                raise Conflict("that client_id was already used in this conversation", code="duplicate_client_id")
            return existing, conv_queries.get_conversation(db, conversation_id), True
    conversation = conv_queries.get_conversation(db, conversation_id)
    if private:
        access.may_note(agent, conversation)
    else:
        access.may_reply(agent, conversation)
    message = conv_queries.add_agent_message(db, conversation, agent["id"], client_id, text, now, private, kind,
                                             payload)
    return message, conversation, False


