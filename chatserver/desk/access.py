"""Who may see and do what with a conversation: the one place these rules live (docs/protocol.md, "Who may read
what"). Each check takes the conversation as the store has it, inside the operation's transaction where it
writes, and raises a domain error with a documented code.

- A visitor: only their own conversations (`not_found` otherwise, so ids of others reveal nothing).
- An agent writes replies only in a chat assigned to them; notes also in queued chats (for whoever takes it).
- An agent reads a conversation that is assigned to them or was last theirs, one waiting in the queue (they may
  claim it), or an earlier conversation of a visitor whose chat they hold now.
- Admins read everything, add notes anywhere, and may transfer or close any open chat.
- Supervisors read everything and add notes anywhere (the supervisor view), without the admin's powers: no
  transfer or close of others' chats, no admin pages.
"""
from __future__ import annotations

from ..errors import Conflict, Forbidden, NotFound


SUPERVISING_ROLES = ("admin", "supervisor")


def is_admin(agent: dict) -> bool:
    return agent.get("role") == "admin"


def sees_everything(agent: dict) -> bool:
    """Admins and supervisors read every conversation and see the supervisor view."""
    return agent.get("role") in SUPERVISING_ROLES


def visitor_owns(visitor_id: str, conversation: dict | None) -> dict:
    if conversation is None or conversation["visitor_id"] != visitor_id:
        raise NotFound("no such conversation")
    return conversation


def exists(conversation: dict | None) -> dict:
    if conversation is None:
        raise NotFound("no such conversation")
    return conversation


def may_read(agent: dict, conversation: dict | None, holds_visitor: bool) -> dict:
    conversation = exists(conversation)
    if (sees_everything(agent) or conversation["agent_id"] == agent["id"] or conversation["status"] == "queued"
            or holds_visitor):
        return conversation
    raise Forbidden("this conversation is not yours to read", code="not_assigned")


def may_reply(agent: dict, conversation: dict | None) -> dict:
    conversation = exists(conversation)
    if conversation["status"] == "closed":
        raise Conflict("the conversation is closed", code="conversation_closed")
    if conversation["status"] != "assigned" or conversation["agent_id"] != agent["id"]:
        raise Forbidden("this conversation is not assigned to you", code="not_assigned")
    return conversation


def may_note(agent: dict, conversation: dict | None) -> dict:
    conversation = exists(conversation)
    if conversation["agent_id"] != agent["id"] and not sees_everything(agent) and conversation["status"] != "queued":
        raise Forbidden("only the assigned agent, a supervisor or an admin can add notes here", code="not_assigned")
    return conversation


def may_manage(agent: dict, holder: int | None) -> None:
    """Transfer or close: the agent holding the chat, or an admin."""
    if holder != agent["id"] and not is_admin(agent):
        raise Forbidden("this conversation is not assigned to you", code="not_assigned")


def holds(agent: dict, holder: int | None) -> None:
    """Live actions inside a chat (typing): only the agent holding it right now."""
    if holder != agent["id"]:
        raise Forbidden("this conversation is not assigned to you", code="not_assigned")
