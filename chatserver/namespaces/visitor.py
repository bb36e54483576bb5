"""The /visitor namespace: anonymous site visitors, identified by a signed visitor token."""
from __future__ import annotations

import asyncio
import secrets
import time


from .. import client_address, keys, rooms, surveys, validation
from ..errors import NotFound, RateLimited
from ..ratelimit import SlidingWindowLimiter
from ..store import conversations as conv_queries
from ..store import visitors as visitor_queries
from .base import ChatNamespace, refusal

SYNC_LIMIT = 1000
HISTORY_PAGE = 20          # conversations per `conversations` answer
PREVIEW_CHARS = 140        # of the visitor's first question, as the list's label


class VisitorNamespace(ChatNamespace):
    def __init__(self, app):
        super().__init__("/visitor", app)
        config = app[keys.CONFIG]
        self.message_limiter = SlidingWindowLimiter(config.rate_limit_messages, config.rate_limit_window_seconds)
        self.new_visitor_limiter = SlidingWindowLimiter(config.new_visitors_per_minute_per_ip, 60.0)
        self.event_limiter = SlidingWindowLimiter(60, 10.0)  # every other event: typing, sync, feedback...
        # sid -> set once that socket's `session` event is out. A visitor's own events wait for it, so the snapshot
        # in `session` is never older than what those events cause (e.g. `agent_joined` after `request_agent`).
        self.session_pending: dict[str, asyncio.Event] = {}

    async def on_connect(self, sid, environ, auth=None):
        auth = auth if isinstance(auth, dict) else {}
        secrets_ = self.app[keys.SECRETS]
        ip = client_address.of_environ(environ)
        visitor_id = secrets_.visitor_id_from_token(auth.get("visitor_token"))
        if visitor_id is None:
            if not self.new_visitor_limiter.allow(client_address.limit_key(ip), time.time()):
                raise refusal("rate_limited", "too many new visitors from this address; try again later")
            visitor_id = secrets.token_hex(12)
        last_seq = auth.get("last_seq")
        if isinstance(last_seq, bool) or not isinstance(last_seq, int) or last_seq < 0:
            last_seq = None
        known_conversation = auth.get("conversation_id")
        if isinstance(known_conversation, bool) or not isinstance(known_conversation, int):
            known_conversation = None
        page_url = auth.get("page_url") if isinstance(auth.get("page_url"), str) else None
        visitor, _ = await self.store.write(visitor_queries.get_or_create_visitor, visitor_id, time.time(),
                                            client_address.stored_network(ip), environ.get("HTTP_USER_AGENT"),
                                            page_url)
        await self.save_session(sid, {"visitor_id": visitor_id, "ip": ip, "page_url": page_url})
        await self.enter_room(sid, rooms.visitor(visitor_id))
        # The session event must follow the CONNECT packet, which python-socketio sends after this returns.
        self.session_pending[sid] = asyncio.Event()
        asyncio.get_running_loop().create_task(
            self._send_session(sid, visitor_id, last_seq, known_conversation))

    async def _send_session(self, sid, visitor_id, last_seq, known_conversation):
        try:
            await self._emit_session(sid, visitor_id, last_seq, known_conversation)
        finally:
            self.session_pending.pop(sid).set()

    async def _emit_session(self, sid, visitor_id, last_seq, known_conversation):
        await asyncio.sleep(0)
        conversation = await self.store.read(conv_queries.open_conversation_of, visitor_id)
        messages = []
        queue_state = None
        if conversation is not None:
            after = last_seq if (last_seq is not None and known_conversation in (None, conversation["id"])) else 0
            messages = await self.store.read(conv_queries.messages_after, conversation["id"], after, False, SYNC_LIMIT)
            queue_state = self.dispatcher.visitor_queue_state(conversation["id"])
        session = {
            "visitor_token": self.app[keys.SECRETS].visitor_token(visitor_id),
            "visitor_id": visitor_id,
            "conversation": _public_conversation(conversation),
            "messages": messages,
            "queue": queue_state,
            "agents_online": self.dispatcher.agents_online(),
        }
        extra = self.app.get(keys.SESSION_EXTRAS)
        if extra:
            for add in extra:
                session.update(await add(self.app, visitor_id, conversation))
        live = self.dispatcher.live_routing(conversation["id"]) if conversation is not None else None
        if live is not None:
            # The row was read a few awaits ago; an agent may have taken the chat since (and `agent_joined` may
            # already be on its way): the snapshot states routing as it is now, so it never undoes that event.
            session["conversation"].update(live)
            session["queue"] = self.dispatcher.visitor_queue_state(conversation["id"])
        await self.emit("session", session, to=sid)

    async def on_disconnect(self, sid, reason=None):
        return None

    async def _visitor(self, sid) -> dict:
        pending = self.session_pending.get(sid)
        if pending is not None:
            await pending.wait()
        return await self.get_session(sid)

    def _limit_events(self, session: dict) -> None:
        if not self.event_limiter.allow(session["visitor_id"], time.time()):
            raise RateLimited("too many events; slow down")

    async def _open_conversation(self, session: dict) -> dict:
        conversation = await self.store.read(conv_queries.open_conversation_of, session["visitor_id"])
        if conversation is None:
            raise NotFound("you have no open conversation", code="no_conversation")
        return conversation

    async def on_message(self, sid, payload):
        session = await self._visitor(sid)
        body = validation.payload(payload)
        client_id = validation.client_id(body)
        text = validation.text(body, "text", self.app[keys.CONFIG].max_message_chars)
        now = time.time()
        if not self.message_limiter.allow(session["visitor_id"], now):
            raise RateLimited(f"at most {self.message_limiter.limit} messages every "
                              f"{self.message_limiter.window:g} s; slow down")
        initial_status = "bot" if self.app[keys.CONFIG].bot_enabled else "queued"
        stored = await self.store.write(conv_queries.add_visitor_message, session["visitor_id"], client_id, text, now,
                                        initial_status, session.get("page_url"))
        message, conversation = stored["message"], stored["conversation"]
        if not stored["duplicate"]:
            # Other tabs of the same visitor and the assigned agent see it; the sender has the ack.
            await self.dispatcher.deliver(message, conversation, sender_sid=sid)
            if stored["created"] and initial_status == "queued":
                await self.dispatcher.enqueue(conversation)
            elif conversation["status"] == "bot":
                self.app[keys.BOT].schedule_reply(conversation, message)
        return {"ok": True, "id": message["id"], "seq": message["seq"], "conversation_id": message["conversation_id"],
                "created_at": message["created_at"], "duplicate": stored["duplicate"]}

    async def on_typing(self, sid, payload):
        session = await self._visitor(sid)
        body = validation.payload(payload)
        typing = validation.boolean(body, "typing")
        self._limit_events(session)
        conversation = await self._open_conversation(session)
        agent_id = self.dispatcher.conversation_agent.get(conversation["id"])
        if agent_id is not None:
            await self.app[keys.SIO].emit("typing", {"conversation_id": conversation["id"], "author": "visitor",
                                                     "typing": typing}, to=rooms.agent(agent_id), namespace="/agent")
        return {"ok": True}

    async def on_sync(self, sid, payload):
        session = await self._visitor(sid)
        body = validation.payload(payload)
        after_seq = validation.integer(body, "after_seq", minimum=0, maximum=2**53)
        self._limit_events(session)
        conversation_id = validation.integer(body, "conversation_id", minimum=1, maximum=2**53, required=False)
        if conversation_id is None:
            conversation = await self._open_conversation(session)
        else:
            conversation = await self.store.read(conv_queries.get_conversation, conversation_id)
            if conversation is None or conversation["visitor_id"] != session["visitor_id"]:
                raise NotFound("no such conversation")
        messages = await self.store.read(conv_queries.messages_after, conversation["id"], after_seq, False, SYNC_LIMIT)
        return {"ok": True, "conversation_id": conversation["id"], "messages": messages,
                "status": conversation["status"], "more": len(messages) == SYNC_LIMIT}

    async def on_conversations(self, sid, payload):
        session = await self._visitor(sid)
        body = validation.payload(payload)
        before_id = validation.integer(body, "before_id", minimum=1, maximum=2**53, required=False)
        self._limit_events(session)
        found = await self.store.read(conv_queries.conversations_of_visitor, session["visitor_id"], before_id,
                                      HISTORY_PAGE + 1)
        for conversation in found:
            question = conversation.pop("first_question") or ""
            conversation["preview"] = question[:PREVIEW_CHARS]
        return {"ok": True, "conversations": found[:HISTORY_PAGE], "more": len(found) > HISTORY_PAGE}

    async def on_request_agent(self, sid, payload):
        session = await self._visitor(sid)
        validation.payload(payload)
        self._limit_events(session)
        return await self.app[keys.BOT].hand_off(session["visitor_id"], session.get("page_url"))

    async def on_contact(self, sid, payload):
        session = await self._visitor(sid)
        body = validation.payload(payload)
        email = validation.email(body)
        name = validation.text(body, "name", 200, required=False)
        self._limit_events(session)
        conversation = await self.store.read(conv_queries.open_conversation_of, session["visitor_id"])
        await self.store.write(visitor_queries.set_contact, session["visitor_id"], email, name,
                               conversation["id"] if conversation else None, time.time())
        return {"ok": True, "email": email, "name": name}

    async def on_close(self, sid, payload):
        session = await self._visitor(sid)
        validation.payload(payload)
        self._limit_events(session)
        conversation = await self._open_conversation(session)
        resolution, reason = await self.app[keys.BOT].resolution_on_visitor_close(conversation)
        await self.dispatcher.close(conversation["id"], "visitor", session["visitor_id"], resolution, reason)
        return {"ok": True, "conversation_id": conversation["id"], "resolution": resolution}

    async def on_article(self, sid, payload):
        session = await self._visitor(sid)
        body = validation.payload(payload)
        slug = validation.slug(body)
        self._limit_events(session)
        return await self.app[keys.BOT].open_article(session["visitor_id"], slug)

    async def on_article_feedback(self, sid, payload):
        session = await self._visitor(sid)
        body = validation.payload(payload)
        slug = validation.slug(body)
        helpful = validation.boolean(body, "helpful")
        reason = validation.text(body, "reason", 500, required=False)
        self._limit_events(session)
        conversation = await self._open_conversation(session)
        return await self.app[keys.BOT].feedback(conversation, slug, helpful, reason)

    async def on_survey(self, sid, payload):
        session = await self._visitor(sid)
        body = validation.payload(payload)
        self._limit_events(session)
        return await surveys.submit(self.app, session["visitor_id"], body)


def _public_conversation(conversation: dict | None) -> dict | None:
    """What a visitor may know about their own conversation."""
    if conversation is None:
        return None
    return {"id": conversation["id"], "status": conversation["status"], "last_seq": conversation["last_seq"],
            "agent_name": conversation.get("agent_name") if conversation["status"] == "assigned" else None,
            "created_at": conversation["created_at"]}
