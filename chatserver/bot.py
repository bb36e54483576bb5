"""The triage bot inside a conversation: answer first from the knowledge base, hand off cleanly, record every
step (suggestions, opened articles, feedback, handoffs, unanswered questions) for the reports."""
from __future__ import annotations

import asyncio
import logging
import re
import time

from aiohttp import web

from . import keys
from .errors import NotFound
from .store import bot_log
from .store import conversations as conv_queries

log = logging.getLogger(__name__)

# Visitors often type their wish for a person instead of pressing the button.
WANTS_PERSON = re.compile(
    r"\b(talk|speak|chat|connect)\b.{0,25}\b(human|person|agent|someone|representative|operator|staff)\b"
    r"|^\s*(human|agent|person|representative|operator)\s*[.!?]*\s*$|\breal (person|human)\b",
    re.IGNORECASE)

HANDOFF_REASONS = {
    "visitor_asked": "the visitor asked for a person",
    "not_helpful": "the suggested articles did not help",
    "no_match": "the bot found no article for the question",
}


class Bot(keys.AppServices):
    def __init__(self, app: web.Application):
        self.app = app
        self.tasks: set[asyncio.Task] = set()

    def article_card(self, suggestion) -> dict:
        card = suggestion.to_dict() if hasattr(suggestion, "to_dict") else dict(suggestion)
        card["url"] = f"/kb/{card['slug']}"
        return card

    async def _suggest(self, text: str, limit: int = 3, exclude: set[str] = frozenset()) -> list:
        loop = asyncio.get_running_loop()
        found = await loop.run_in_executor(None, lambda: self.kb.suggest(text, limit=limit + len(exclude)))
        return [s for s in found if s.slug not in exclude][:limit]

    def schedule_reply(self, conversation: dict, message: dict) -> None:
        """Answer a visitor message in the background, so the visitor's ack is not held up by the bot."""
        task = asyncio.get_running_loop().create_task(self._reply_safely(conversation, message))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _reply_safely(self, conversation: dict, message: dict) -> None:
        try:
            await self.reply(conversation, message)
        except Exception:
            log.exception("the bot could not answer conversation %s", conversation["id"])

    async def _say(self, conversation_id: int, text: str, kind: str = "text", payload: object = None) -> dict | None:
        stored = await self.store.write(conv_queries.add_bot_message, conversation_id, text, time.time(), kind, payload)
        if stored is not None:
            conversation = await self.store.read(conv_queries.get_conversation, conversation_id)
            await self.dispatcher.deliver(stored, conversation)
        return stored

    async def reply(self, conversation: dict, message: dict) -> None:
        cid = conversation["id"]
        current = await self.store.read(conv_queries.get_conversation, cid)
        if current is None or current["status"] != "bot":
            return  # a person has the chat now: the bot stays silent
        if WANTS_PERSON.search(message["text"]):
            await self.hand_off(conversation["visitor_id"], None, reason="visitor_asked")
            return
        suggestions = await self._suggest(message["text"])
        now = time.time()
        if suggestions:
            cards = [self.article_card(s) for s in suggestions]
            await self.store.write(bot_log.record_suggestions, cid, cards, now)
            await self._say(cid, "These articles may answer your question:", "suggestions",
                            {"articles": cards, "offer_agent": True, "say": "suggestions"})
        else:
            best = (await asyncio.get_running_loop().run_in_executor(None, lambda: self.kb.search(message["text"], limit=1)))
            best_slug, best_score = (best[0].slug, best[0].score) if best else (None, None)
            await self.store.write(bot_log.record_unanswered, cid, message["text"], best_slug, best_score, now)
            await self._say(cid, "I couldn't find an article that answers this. Would you like to talk to a person?",
                            "no_match", {"offer_agent": True, "say": "no_match"})

    async def hand_off(self, visitor_id: str, page_url: str | None, reason: str | None = None) -> dict:
        """Queue the visitor's conversation for a person (creating one if they asked before writing)."""
        now = time.time()
        conversation = await self.store.write(conv_queries.ensure_open_conversation, visitor_id, "bot", now, page_url)
        cid = conversation["id"]
        if conversation["status"] == "bot":
            reason = reason or await self.store.read(conv_queries.handoff_reason, cid)
            department = await self._department_for(cid)
            conversation = await self.store.write(conv_queries.queue_conversation, cid, visitor_id, department,
                                                  reason, now, "visitor")
            if conversation.pop("just_queued"):
                await self._say(cid, "Connecting you with a person. You can keep writing while you wait.", "handoff",
                                {"reason": reason, "say": "handoff"})
                await self.dispatcher.enqueue(conversation)
        return {"ok": True, "conversation_id": cid, "status": conversation["status"],
                "queue": self.dispatcher.visitor_queue_state(cid), "agents_online": self.dispatcher.agents_online()}

    async def _department_for(self, cid: int) -> str | None:
        """The department of the best-matching article suggested in this conversation, else of the first question."""
        events = await self.store.read(bot_log.article_events, cid)
        suggested = sorted((e for e in events if e["type"] == "suggested"), key=lambda e: -(e["score"] or 0))
        for event in suggested:
            article = self.kb.get(event["slug"])
            if article is not None and article.department:
                return article.department
        question = await self.store.read(conv_queries.first_visitor_question, cid)
        if question:
            found = await asyncio.get_running_loop().run_in_executor(None, lambda: self.kb.search(question, limit=1))
            if found and found[0].department:
                return found[0].department
        return None

    async def open_article(self, visitor_id: str, slug: str) -> dict:
        article = self.kb.get(slug)
        if article is None or not article.published:
            raise NotFound("no such article", code="article_not_found")
        conversation = await self.store.read(conv_queries.open_conversation_of, visitor_id)
        if conversation is not None:
            await self.store.write(bot_log.record_article_event, conversation["id"], slug, "opened", None, time.time())
        return {"ok": True, "article": {"slug": article.slug, "title": article.title, "html": article.html,
                                        "url": f"/kb/{article.slug}", "department": article.department}}

    async def feedback(self, conversation: dict, slug: str, helpful: bool, reason: str | None) -> dict:
        if self.kb.get(slug) is None:
            raise NotFound("no such article", code="article_not_found")
        cid = conversation["id"]
        await self.store.write(bot_log.record_article_event, cid, slug, "helpful" if helpful else "not_helpful",
                               reason, time.time())
        if conversation["status"] != "bot":
            return {"ok": True, "conversation_id": cid}
        if helpful:
            await self._say(cid, "Glad that helped! Is there anything else I can do for you?", "resolved_prompt",
                            {"slug": slug, "actions": ["end_chat", "ask_more"], "say": "resolved_prompt"})
            return {"ok": True, "conversation_id": cid, "next": "resolved_prompt"}
        already = set(await self.store.read(bot_log.suggested_slugs, cid))
        question = await self.store.read(conv_queries.first_visitor_question, cid)
        more = await self._suggest(question or "", exclude=already) if question else []
        if more:
            cards = [self.article_card(s) for s in more]
            await self.store.write(bot_log.record_suggestions, cid, cards, time.time())
            await self._say(cid, "Sorry about that. Maybe one of these helps, or talk to a person:", "suggestions",
                            {"articles": cards, "offer_agent": True, "say": "more_suggestions"})
            return {"ok": True, "conversation_id": cid, "next": "more_suggestions"}
        await self._say(cid, "Sorry that didn't help. Would you like to talk to a person?", "offer_agent",
                        {"offer_agent": True, "say": "not_helpful"})
        return {"ok": True, "conversation_id": cid, "next": "offer_agent"}

    async def resolution_on_visitor_close(self, conversation: dict) -> tuple[str, str]:
        if conversation["status"] == "bot":
            slug = await self.store.read(conv_queries.had_helpful_article, conversation["id"])
            if slug:
                return "deflected", f"the visitor found the answer in '{slug}'"
            return "abandoned", "the visitor left the bot without an answer"
        if conversation["status"] == "queued":
            return "abandoned", "the visitor left the queue"
        return "resolved", "the visitor ended the chat"

    async def search(self, query: str) -> dict:
        found = await asyncio.get_running_loop().run_in_executor(None, lambda: self.kb.search(query, limit=10))
        return {"ok": True, "results": [self.article_card(s) for s in found]}

    async def send_article(self, agent: dict, cid: int, slug: str, client_id: str | None) -> dict:
        article = self.kb.get(slug)
        if article is None or not article.published:
            raise NotFound("no such article", code="article_not_found")
        card = {"slug": article.slug, "title": article.title, "excerpt": article.excerpt, "url": f"/kb/{article.slug}"}
        stored = await self.store.write(conv_queries.add_agent_message, cid, agent["id"], agent["role"] == "admin",
                                        client_id, article.title, time.time(), False, "article", card)
        message = stored["message"]
        if not stored["duplicate"]:
            await self.store.write(bot_log.record_article_event, cid, slug, "sent_by_agent", None, time.time())
            await self.dispatcher.deliver(message, stored["conversation"])
        return {"ok": True, "id": message["id"], "seq": message["seq"], "conversation_id": cid,
                "created_at": message["created_at"], "duplicate": stored["duplicate"]}

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
