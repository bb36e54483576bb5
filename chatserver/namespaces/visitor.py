"""The /visitor namespace: anonymous site visitors, identified by a signed visitor token. Each handler parses
its payload, calls one operation of chatserver/desk and returns its answer as the ack."""
from __future__ import annotations

import asyncio
import logging

from .. import keys, validation
from ..desk import bot, conversations, email_replies, quality, receipts, search, sessions, surveys
from ..errors import InvalidPayload, RateLimited
from ..mail.strings import LANGUAGES
from ..security import client_address
from .base import ChatNamespace, refusal

MAX_ID = 2**53
log = logging.getLogger(__name__)


class VisitorNamespace(ChatNamespace):
    def __init__(self, app):
        super().__init__("/visitor", app)
        # sid -> set once that socket's `session` event is out. A visitor's own events wait for it, so the snapshot
        # in `session` is never older than what those events cause (e.g. `agent_joined` after `request_agent`).
        self.session_pending: dict[str, asyncio.Event] = {}

    async def on_connect(self, sid, environ, auth=None):
        auth = auth if isinstance(auth, dict) else {}
        last_seq = auth.get("last_seq")
        if isinstance(last_seq, bool) or not isinstance(last_seq, int) or last_seq < 0:
            last_seq = None
        else:  # clamped: above SQLite's 64-bit integers the query fails, and no seq comes near 2**53
            last_seq = min(last_seq, 2**53)
        known_conversation = auth.get("conversation_id")
        if isinstance(known_conversation, bool) or not isinstance(known_conversation, int):
            known_conversation = None
        page_url = auth.get("page_url") if isinstance(auth.get("page_url"), str) else None
        language = auth.get("language") if auth.get("language") in LANGUAGES else None
        address = client_address.of_environ(environ)
        try:
            visitor_id = await sessions.identify_visitor(self.desk, auth.get("visitor_token"),
                                                         client_address.limit_key(address),
                                                         client_address.stored_network(address),
                                                         environ.get("HTTP_USER_AGENT"), page_url, language,
                                                         auth.get("identity"))
        except RateLimited as exc:
            raise refusal("rate_limited", exc.message) from None
        await self.save_session(sid, {"visitor_id": visitor_id, "page_url": page_url})
        await self.desk.notifier.join_visitor(sid, visitor_id)
        await sessions.visitor_socket_opened(self.desk, visitor_id, sid)
        # The session event must follow the CONNECT packet, which python-socketio sends after this returns.
        self.session_pending[sid] = asyncio.Event()
        asyncio.get_running_loop().create_task(self._send_session(sid, visitor_id, last_seq, known_conversation))

    async def _send_session(self, sid, visitor_id, last_seq, known_conversation):
        try:
            await asyncio.sleep(0)
            session = await sessions.visitor_session(self.desk, visitor_id, last_seq, known_conversation)
            await self.desk.notifier.send_session("visitor", sid, session)
        except Exception:
            # Without its `session` the widget would wait forever: drop the socket, so it reconnects and asks again.
            log.exception("could not send the session to a visitor")
            await self.disconnect(sid)
        finally:
            self.session_pending.pop(sid).set()

    async def on_disconnect(self, sid, reason=None):
        visitor = await self.get_session(sid)
        if visitor and visitor.get("visitor_id"):
            await sessions.visitor_socket_closed(self.desk, visitor["visitor_id"], sid)
            await quality.visitor_disconnected(self.desk, visitor["visitor_id"])

    async def _visitor(self, sid) -> dict:
        pending = self.session_pending.get(sid)
        if pending is not None:
            await pending.wait()
        return await self.get_session(sid)

    async def on_message(self, sid, payload):
        visitor = await self._visitor(sid)
        body = validation.payload(payload)
        client_id = validation.client_id(body)
        text = validation.text(body, "text", self.app[keys.CONFIG].max_message_chars)
        return await conversations.send_visitor_message(self.desk, visitor, client_id, text, sid)

    async def on_typing(self, sid, payload):
        visitor = await self._visitor(sid)
        typing = validation.boolean(validation.payload(payload), "typing")
        await conversations.limit_visitor_events(self.desk, visitor["visitor_id"])
        await conversations.visitor_typing(self.desk, visitor["visitor_id"], typing)

    async def on_sync(self, sid, payload):
        visitor = await self._visitor(sid)
        body = validation.payload(payload)
        after_seq = validation.integer(body, "after_seq", minimum=0, maximum=MAX_ID)
        await conversations.limit_visitor_events(self.desk, visitor["visitor_id"])
        conversation_id = validation.integer(body, "conversation_id", minimum=1, maximum=MAX_ID, required=False)
        return await conversations.visitor_sync(self.desk, visitor["visitor_id"], conversation_id, after_seq)

    async def on_conversations(self, sid, payload):
        visitor = await self._visitor(sid)
        before_id = validation.integer(validation.payload(payload), "before_id", minimum=1, maximum=MAX_ID,
                                       required=False)
        await conversations.limit_visitor_events(self.desk, visitor["visitor_id"])
        return await conversations.visitor_history(self.desk, visitor["visitor_id"], before_id)

    async def on_search(self, sid, payload):
        """The visitor's own conversations holding some words."""
        visitor = await self._visitor(sid)
        body = validation.payload(payload)
        query = validation.text(body, "query", search.QUERY_CHARS)
        before_id = validation.integer(body, "before_id", minimum=1, maximum=MAX_ID, required=False)
        await conversations.limit_visitor_events(self.desk, visitor["visitor_id"])
        return await search.visitor_search(self.desk, visitor["visitor_id"], query, before_id)

    async def on_request_agent(self, sid, payload):
        visitor = await self._visitor(sid)
        validation.payload(payload)
        await conversations.limit_visitor_events(self.desk, visitor["visitor_id"])
        return await bot.request_agent(self.desk, visitor["visitor_id"], visitor.get("page_url"))

    async def on_contact(self, sid, payload):
        visitor = await self._visitor(sid)
        body = validation.payload(payload)
        email = validation.email(body)
        name = validation.text(body, "name", 200, required=False)
        await conversations.limit_visitor_events(self.desk, visitor["visitor_id"])
        return await conversations.leave_contact(self.desk, visitor["visitor_id"], email, name)

    async def on_close(self, sid, payload):
        visitor = await self._visitor(sid)
        validation.payload(payload)
        await conversations.limit_visitor_events(self.desk, visitor["visitor_id"])
        return await conversations.close_by_visitor(self.desk, visitor["visitor_id"])

    async def on_transcript(self, sid, payload):
        visitor = await self._visitor(sid)
        body = validation.payload(payload)
        cid = validation.integer(body, "conversation_id", minimum=1, maximum=MAX_ID)
        recipient = validation.email(body) if "email" in body else None
        await conversations.limit_visitor_events(self.desk, visitor["visitor_id"])
        return await email_replies.send_transcript(self.desk, cid, visitor_id=visitor["visitor_id"],
                                                   recipient=recipient)

    async def on_article(self, sid, payload):
        visitor = await self._visitor(sid)
        slug = validation.slug(validation.payload(payload))
        await conversations.limit_visitor_events(self.desk, visitor["visitor_id"])
        return await bot.open_article(self.desk, visitor["visitor_id"], slug)

    async def on_article_feedback(self, sid, payload):
        visitor = await self._visitor(sid)
        body = validation.payload(payload)
        slug = validation.slug(body)
        helpful = validation.boolean(body, "helpful")
        reason = validation.text(body, "reason", 500, required=False)
        await conversations.limit_visitor_events(self.desk, visitor["visitor_id"])
        return await bot.article_feedback(self.desk, visitor["visitor_id"], slug, helpful, reason)

    async def on_survey(self, sid, payload):
        visitor = await self._visitor(sid)
        body = validation.payload(payload)
        await conversations.limit_visitor_events(self.desk, visitor["visitor_id"])
        return await surveys.submit(self.desk, visitor["visitor_id"], body)

    async def on_receipt(self, sid, payload):
        visitor = await self._visitor(sid)
        body = validation.payload(payload)
        cid = validation.integer(body, "conversation_id", minimum=1, maximum=MAX_ID)
        delivered = validation.integer(body, "delivered_seq", minimum=0, maximum=MAX_ID, required=False)
        seen = validation.integer(body, "seen_seq", minimum=0, maximum=MAX_ID, required=False)
        if delivered is None and seen is None:
            raise InvalidPayload("send 'delivered_seq', 'seen_seq' or both")
        await conversations.limit_visitor_events(self.desk, visitor["visitor_id"])
        return await receipts.visitor_receipt(self.desk, visitor["visitor_id"], cid, delivered, seen)

    async def on_quality(self, sid, payload):
        visitor = await self._visitor(sid)
        return await quality.report(self.desk, visitor["visitor_id"], validation.payload(payload))
