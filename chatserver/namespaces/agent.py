"""The /agent namespace: logged-in agents. Authenticated once at connect from the login session; every event
then acts as the agent the live state knows now (a changed role counts at once, a disabled agent is refused)."""
from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from .. import keys, validation
from ..auth import agent_for_token, session_token_from_environ
from ..desk import (assignment, bot, conversations, email_replies, labels, lifecycle, presence, receipts, search,
                    sessions, supervisor)
from ..desk.agents import login_session_hash
from ..errors import Unauthorized
from ..routing import PRIORITIES
from ..security.origins import is_own_origin
from .base import ChatNamespace, refusal

MAX_ID = 2**53
TRANSFER_NOTE_CHARS = 1000


def same_origin(environ: dict, config) -> bool:
    """The console is served by this server (its public URL, or the host asked for); browsers on other sites may
    not open agent sockets."""
    origin = environ.get("HTTP_ORIGIN")
    if not origin:
        return True  # non-browser clients (they authenticate with a token)
    return urlsplit(origin).scheme in ("http", "https") and is_own_origin(origin, config, environ.get("HTTP_HOST"))


class AgentNamespace(ChatNamespace):
    def __init__(self, app):
        super().__init__("/agent", app)

    async def on_connect(self, sid, environ, auth=None):
        if not same_origin(environ, self.app[keys.CONFIG]):
            raise refusal("forbidden_origin", "agent sockets are only accepted from this server's pages")
        token = session_token_from_environ(environ, auth)
        agent = await agent_for_token(self.app, token)
        if agent is None:
            raise refusal("unauthorized", "log in first")
        await self.save_session(sid, {"agent": agent})
        await presence.agent_connected(self.desk, agent, sid, login_session_hash(token))
        asyncio.get_running_loop().create_task(self._send_session(sid, agent))

    async def _send_session(self, sid, agent):
        await asyncio.sleep(0)
        await self.desk.notifier.send_session("agent", sid, await sessions.agent_session(self.desk, agent))
        await supervisor.watcher_connected(self.desk, agent, sid)

    async def on_disconnect(self, sid, reason=None):
        session = await self.get_session(sid)
        if session and "agent" in session:
            await presence.agent_disconnected(self.desk, session["agent"]["id"], sid)

    async def _agent(self, sid) -> dict:
        agent = (await self.get_session(sid))["agent"]
        current = await presence.current_agent(self.desk, agent["id"])
        if current is None:
            raise Unauthorized("this account was disabled; log in again")
        return {**agent, **current}

    async def on_status(self, sid, payload):
        agent = await self._agent(sid)
        status = validation.choice(validation.payload(payload), "status", {"online", "away"})
        return {"ok": True, **await presence.set_status(self.desk, agent["id"], status)}

    async def on_claim(self, sid, payload):
        agent = await self._agent(sid)
        cid = validation.integer(validation.payload(payload), "conversation_id", minimum=1, maximum=MAX_ID)
        conversation = await assignment.claim(self.desk, agent, cid)
        return {"ok": True, "conversation_id": conversation["id"]}

    async def _send(self, sid, payload, private: bool):
        agent = await self._agent(sid)
        body = validation.payload(payload)
        cid = validation.integer(body, "conversation_id", minimum=1, maximum=MAX_ID)
        client_id = validation.client_id(body) if (not private or "client_id" in body) else None
        text = validation.text(body, "text", self.app[keys.CONFIG].max_message_chars)
        return await conversations.send_agent_message(self.desk, agent, cid, client_id, text, sid, private)

    async def on_message(self, sid, payload):
        return await self._send(sid, payload, private=False)

    async def on_note(self, sid, payload):
        return await self._send(sid, payload, private=True)

    async def on_typing(self, sid, payload):
        agent = await self._agent(sid)
        body = validation.payload(payload)
        cid = validation.integer(body, "conversation_id", minimum=1, maximum=MAX_ID)
        typing = validation.boolean(body, "typing")
        await conversations.agent_typing(self.desk, agent, cid, typing)

    async def on_transfer(self, sid, payload):
        agent = await self._agent(sid)
        body = validation.payload(payload)
        cid = validation.integer(body, "conversation_id", minimum=1, maximum=MAX_ID)
        target = validation.integer(body, "agent_id", minimum=1, maximum=MAX_ID)
        note = validation.text(body, "note", TRANSFER_NOTE_CHARS, required=False)
        conversation = await assignment.transfer(self.desk, agent, cid, target, note)
        return {"ok": True, "conversation_id": cid, "agent_id": conversation["agent_id"]}

    async def on_close(self, sid, payload):
        agent = await self._agent(sid)
        cid = validation.integer(validation.payload(payload), "conversation_id", minimum=1, maximum=MAX_ID)
        return await conversations.close_by_agent(self.desk, agent, cid)

    async def on_set_pending(self, sid, payload):
        agent = await self._agent(sid)
        cid = validation.integer(validation.payload(payload), "conversation_id", minimum=1, maximum=MAX_ID)
        return await lifecycle.set_pending(self.desk, agent, cid)

    async def on_snooze(self, sid, payload):
        agent = await self._agent(sid)
        body = validation.payload(payload)
        cid = validation.integer(body, "conversation_id", minimum=1, maximum=MAX_ID)
        until = validation.integer(body, "until", minimum=0, maximum=2**40)
        return await lifecycle.snooze(self.desk, agent, cid, float(until))

    async def on_reopen(self, sid, payload):
        agent = await self._agent(sid)
        cid = validation.integer(validation.payload(payload), "conversation_id", minimum=1, maximum=MAX_ID)
        return await lifecycle.reopen(self.desk, agent, cid)

    async def on_send_transcript(self, sid, payload):
        agent = await self._agent(sid)
        cid = validation.integer(validation.payload(payload), "conversation_id", minimum=1, maximum=MAX_ID)
        return await email_replies.send_transcript(self.desk, cid, agent=agent)

    async def on_sync(self, sid, payload):
        agent = await self._agent(sid)
        body = validation.payload(payload)
        cid = validation.integer(body, "conversation_id", minimum=1, maximum=MAX_ID)
        after_seq = validation.integer(body, "after_seq", minimum=0, maximum=MAX_ID)
        return await conversations.agent_sync(self.desk, agent, cid, after_seq)

    async def on_conversation(self, sid, payload):
        """The full snapshot of one conversation (history, bot suggestions, feedback, visitor details)."""
        agent = await self._agent(sid)
        cid = validation.integer(validation.payload(payload), "conversation_id", minimum=1, maximum=MAX_ID)
        return await conversations.conversation_for_agent(self.desk, agent, cid)

    async def on_kb_search(self, sid, payload):
        await self._agent(sid)
        query = validation.text(validation.payload(payload), "query", 500)
        return await bot.search_kb(self.desk, query)

    async def on_send_article(self, sid, payload):
        agent = await self._agent(sid)
        body = validation.payload(payload)
        cid = validation.integer(body, "conversation_id", minimum=1, maximum=MAX_ID)
        slug = validation.slug(body)
        client_id = validation.client_id(body) if "client_id" in body else None
        return await bot.send_article(self.desk, agent, cid, slug, client_id)

    async def on_labels(self, sid, payload):
        """Replace a conversation's labels with `label_ids` (ids from the label list)."""
        agent = await self._agent(sid)
        body = validation.payload(payload)
        cid = validation.integer(body, "conversation_id", minimum=1, maximum=MAX_ID)
        label_ids = validation.id_list(body, "label_ids", MAX_ID)
        return await labels.set_labels(self.desk, agent, cid, label_ids)

    async def on_priority(self, sid, payload):
        agent = await self._agent(sid)
        body = validation.payload(payload)
        cid = validation.integer(body, "conversation_id", minimum=1, maximum=MAX_ID)
        priority = validation.choice(body, "priority", set(PRIORITIES))
        return await labels.set_priority(self.desk, agent, cid, priority)

    async def on_search(self, sid, payload):
        """Conversations you may read, by words and filters (the console's search and its lists)."""
        agent = await self._agent(sid)
        criteria = search.parse_criteria(validation.payload(payload))
        return await search.agent_search(self.desk, agent, criteria)

    async def on_receipt(self, sid, payload):
        agent = await self._agent(sid)
        body = validation.payload(payload)
        cid = validation.integer(body, "conversation_id", minimum=1, maximum=MAX_ID)
        seen = validation.integer(body, "seen_seq", minimum=0, maximum=MAX_ID)
        return await receipts.agent_receipt(self.desk, agent, cid, seen)
