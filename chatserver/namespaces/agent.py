"""The /agent namespace: logged-in agents. Authenticated once at connect from the login session."""
from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit


from .. import keys, rooms, validation
from ..auth import agent_for_token, session_token_from_environ
from ..errors import Forbidden, NotFound
from ..store import conversations as conv_queries
from .base import ChatNamespace, refusal

MAX_ID = 2**53


def same_origin(environ: dict) -> bool:
    """The console is served by this server; browsers on other sites may not open agent sockets."""
    origin = environ.get("HTTP_ORIGIN")
    if not origin:
        return True  # non-browser clients (they authenticate with a token)
    host = environ.get("HTTP_HOST", "")
    parts = urlsplit(origin)
    return parts.netloc == host and parts.scheme in ("http", "https")


class AgentNamespace(ChatNamespace):
    def __init__(self, app):
        super().__init__("/agent", app)

    async def on_connect(self, sid, environ, auth=None):
        if not same_origin(environ):
            raise refusal("forbidden_origin", "agent sockets are only accepted from this server's pages")
        agent = await agent_for_token(self.app, session_token_from_environ(environ, auth))
        if agent is None:
            raise refusal("unauthorized", "log in first")
        await self.save_session(sid, {"agent": agent})
        await self.dispatcher.agent_connected(agent, sid)
        asyncio.get_running_loop().create_task(self._send_session(sid, agent))

    async def _send_session(self, sid, agent):
        await asyncio.sleep(0)
        assigned = [cid for cid, aid in self.dispatcher.conversation_agent.items() if aid == agent["id"]]
        conversations = [await self.dispatcher.conversation_snapshot(cid) for cid in sorted(assigned)]
        await self.emit("session", {
            "agent": agent,
            "status": self.dispatcher.agent_status(agent["id"]),
            "conversations": conversations,
            "queue": {"conversations": self.dispatcher.queue_view(), "agents_online": self.dispatcher.agents_online()},
        }, to=sid)

    async def on_disconnect(self, sid, reason=None):
        session = await self.get_session(sid)
        if session and "agent" in session:
            await self.dispatcher.agent_disconnected(session["agent"]["id"], sid)

    async def _agent(self, sid) -> dict:
        return (await self.get_session(sid))["agent"]

    async def on_status(self, sid, payload):
        agent = await self._agent(sid)
        body = validation.payload(payload)
        status = validation.choice(body, "status", {"online", "away"})
        await self.dispatcher.set_status(agent["id"], status)
        return {"ok": True, **self.dispatcher.agent_status(agent["id"])}

    async def on_claim(self, sid, payload):
        agent = await self._agent(sid)
        body = validation.payload(payload)
        cid = validation.integer(body, "conversation_id", minimum=1, maximum=MAX_ID)
        conversation = await self.dispatcher.claim(agent, cid)
        return {"ok": True, "conversation_id": conversation["id"]}

    async def _send(self, sid, payload, private: bool):
        agent = await self._agent(sid)
        body = validation.payload(payload)
        cid = validation.integer(body, "conversation_id", minimum=1, maximum=MAX_ID)
        client_id = validation.client_id(body) if (not private or "client_id" in body) else None
        text = validation.text(body, "text", self.app[keys.CONFIG].max_message_chars)
        stored = await self.store.write(conv_queries.add_agent_message, cid, agent["id"], agent["role"] == "admin",
                                        client_id, text, time.time(), private)
        message = stored["message"]
        if not stored["duplicate"]:
            await self.dispatcher.deliver(message, stored["conversation"], sender_sid=sid)
        return {"ok": True, "id": message["id"], "seq": message["seq"], "conversation_id": cid,
                "created_at": message["created_at"], "duplicate": stored["duplicate"]}

    async def on_message(self, sid, payload):
        return await self._send(sid, payload, private=False)

    async def on_note(self, sid, payload):
        return await self._send(sid, payload, private=True)

    async def on_typing(self, sid, payload):
        agent = await self._agent(sid)
        body = validation.payload(payload)
        cid = validation.integer(body, "conversation_id", minimum=1, maximum=MAX_ID)
        typing = validation.boolean(body, "typing")
        if self.dispatcher.conversation_agent.get(cid) != agent["id"]:
            raise Forbidden("this conversation is not assigned to you", code="not_assigned")
        visitor_id = self.dispatcher.conversation_visitor.get(cid)
        await self.app[keys.SIO].emit("typing", {"conversation_id": cid, "author": "agent",
                                                 "agent_name": agent["name"], "typing": typing},
                                      to=rooms.visitor(visitor_id), namespace="/visitor")
        return {"ok": True}

    async def on_transfer(self, sid, payload):
        agent = await self._agent(sid)
        body = validation.payload(payload)
        cid = validation.integer(body, "conversation_id", minimum=1, maximum=MAX_ID)
        target = validation.integer(body, "agent_id", minimum=1, maximum=MAX_ID)
        conversation = await self.dispatcher.transfer(agent, cid, target)
        return {"ok": True, "conversation_id": cid, "agent_id": conversation["agent_id"]}

    async def on_close(self, sid, payload):
        agent = await self._agent(sid)
        body = validation.payload(payload)
        cid = validation.integer(body, "conversation_id", minimum=1, maximum=MAX_ID)
        conversation = await self.store.read(conv_queries.get_conversation, cid)
        if conversation is None:
            raise NotFound("no such conversation")
        if conversation["status"] == "closed":
            return {"ok": True, "conversation_id": cid, "already_closed": True}
        if conversation["agent_id"] != agent["id"] and agent["role"] != "admin":
            raise Forbidden("this conversation is not assigned to you", code="not_assigned")
        await self.dispatcher.close(cid, "agent", agent["id"], "resolved", f"closed by {agent['name']}")
        return {"ok": True, "conversation_id": cid}

    async def on_sync(self, sid, payload):
        await self._agent(sid)
        body = validation.payload(payload)
        cid = validation.integer(body, "conversation_id", minimum=1, maximum=MAX_ID)
        after_seq = validation.integer(body, "after_seq", minimum=0, maximum=MAX_ID)
        conversation = await self.store.read(conv_queries.get_conversation, cid)
        if conversation is None:
            raise NotFound("no such conversation")
        messages = await self.store.read(conv_queries.messages_after, cid, after_seq, True, 1000)
        return {"ok": True, "conversation_id": cid, "status": conversation["status"], "messages": messages,
                "more": len(messages) == 1000}

    async def on_conversation(self, sid, payload):
        """The full snapshot of one conversation (history, bot suggestions, feedback, visitor details)."""
        await self._agent(sid)
        body = validation.payload(payload)
        cid = validation.integer(body, "conversation_id", minimum=1, maximum=MAX_ID)
        return {"ok": True, **await self.dispatcher.conversation_snapshot(cid)}

    async def on_kb_search(self, sid, payload):
        await self._agent(sid)
        body = validation.payload(payload)
        query = validation.text(body, "query", 500)
        return await self.app[keys.BOT].search(query)

    async def on_send_article(self, sid, payload):
        agent = await self._agent(sid)
        body = validation.payload(payload)
        cid = validation.integer(body, "conversation_id", minimum=1, maximum=MAX_ID)
        slug = validation.slug(body)
        client_id = validation.client_id(body) if "client_id" in body else None
        return await self.app[keys.BOT].send_article(agent, cid, slug, client_id)
