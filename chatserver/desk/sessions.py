"""Starting a socket session: who the visitor is (a signed token or a new anonymous id), and the snapshot each
side gets first (`session`), consistent with the routing events that may already be on their way."""
from __future__ import annotations

import secrets
import time

from ..errors import RateLimited
from ..store import conversations as conv_queries
from ..store import privacy as privacy_queries
from ..store import receipts as receipt_queries
from ..store import visitors as visitor_queries
from . import assignment, identity, surveys

SYNC_LIMIT = 1000


async def identify_visitor(desk, token: object, address_key: str, stored_network: str | None,
                           user_agent: str | None, page_url: str | None, language: str | None = None,
                           claimed_identity: object = None) -> str:
    """The visitor a token was minted for, or a new anonymous visitor (at most so many per address a minute:
    `address_key`); a verified identity (desk/identity.py) names its customer's one visitor instead. Their row's
    last-seen time, network (never the full address), browser and page are updated."""
    visitor_id = desk.secret.visitor_id_from_token(token)
    checked = identity.check(desk.settings.get("identity_secret"), claimed_identity)
    verified = checked is not None and checked["customer_id"] is not None
    if visitor_id is None and not verified:
        if not await desk.live.allow("new_visitors", address_key, time.time()):
            raise RateLimited("too many new visitors from this address; try again later")
    return await desk.store.write(_identify, visitor_id, checked, secrets.token_hex(12), time.time(),
                                  stored_network, user_agent, page_url, language)


def _identify(db, visitor_id, checked, fresh_id, now, stored_network, user_agent, page_url, language) -> str:
    if visitor_id is not None and privacy_queries.is_erased(db, visitor_id):
        visitor_id = None           # an erased visitor's token opens a new, empty visitor
    visitor_id = identity.resolve(db, visitor_id, checked, fresh_id, now)
    visitor_queries.get_or_create_visitor(db, visitor_id, now, stored_network, user_agent, page_url, language)
    return visitor_id


async def visitor_socket_opened(desk, visitor_id: str, sid: str) -> None:
    """Counted as connected (what they are sent now counts as seen: no email follows it)."""
    await desk.live.visitor_connected(visitor_id, sid)


async def visitor_socket_closed(desk, visitor_id: str, sid: str) -> None:
    """What they were shown until now is seen (visitors.last_seen_at); replies from now on may go by email."""
    await desk.live.visitor_disconnected(visitor_id, sid)
    await desk.store.write(visitor_queries.touch_visitor, visitor_id, time.time())


def public_conversation(conversation: dict | None) -> dict | None:
    """What a visitor may know about their own conversation."""
    if conversation is None:
        return None
    return {"id": conversation["id"], "status": conversation["status"], "last_seq": conversation["last_seq"],
            "agent_name": conversation.get("agent_name") if conversation["status"] == "assigned" else None,
            "created_at": conversation["created_at"]}


def visitor_view(db, visitor_id: str, last_seq: int | None, known_conversation: int | None):
    conversation = conv_queries.open_conversation_of(db, visitor_id)
    messages, receipt = [], None
    if conversation is not None:
        after = last_seq if (last_seq is not None and known_conversation in (None, conversation["id"])) else 0
        messages = conv_queries.messages_after(db, conversation["id"], after, False, SYNC_LIMIT)
        receipt = receipt_queries.current(db, conversation["id"])
    return conversation, messages, receipt


async def visitor_session(desk, visitor_id: str, last_seq: int | None, known_conversation: int | None) -> dict:
    """The visitor's `session`: their token, open conversation, the messages after `last_seq` they lack, where they
    stand in the queue, and a survey still waiting for an answer."""
    conversation, messages, receipt = await desk.store.read(visitor_view, visitor_id, last_seq, known_conversation)
    session = {
        "visitor_token": desk.secret.visitor_token(visitor_id),
        "visitor_id": visitor_id,
        "conversation": public_conversation(conversation),
        "messages": messages,
        "queue": None,
        "agents_online": await desk.live.agents_online(),
        "receipts": receipt,
    }
    session.update(await surveys.pending_for_session(desk, visitor_id, conversation))
    if conversation is not None:
        where = await desk.live.where(conversation["id"])
        if where is not None:
            # The row was read a few awaits ago; an agent may have taken the chat since (and `agent_joined` may
            # already be on its way): the snapshot states routing as it is now, so it never undoes that event.
            session["conversation"].update(where)
        session["queue"] = await desk.live.visitor_queue_state(conversation["id"])
    return session


async def agent_session(desk, agent: dict) -> dict:
    """The agent's `session`: who they are, their status, every chat they hold (full snapshots) and the queue."""
    held = await desk.live.held_by(agent["id"])
    return {
        "agent": agent,
        "status": await assignment.agent_status(desk, agent["id"]),
        "conversations": [await desk.store.read(assignment.snapshot, cid) for cid in held],
        "queue": {"conversations": await desk.live.queue_board(time.time()),
                  "agents_online": await desk.live.agents_online()},
    }
