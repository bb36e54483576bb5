"""The triage bot inside a conversation: answer first from the knowledge base, hand off cleanly, record every
step (suggestions, opened articles, feedback, handoffs, unanswered questions) for the reports. Each bot turn is
one transaction: the matcher runs first (in a thread), then its record and its reply are stored together, only
if the bot still has the chat."""
from __future__ import annotations

import asyncio
import re
import time

from triage import AGENT_SEARCH_MIN_SCORE

from ..errors import NotFound
from ..store import bot_log
from ..store import conversations as conv_queries
from . import access, assignment, hours, learning
from .events import MessageAdded
from .messages import message_ack, open_conversation, store_agent_message

# Visitors often type their wish for a person instead of pressing the button.
WANTS_PERSON = re.compile(
    r"\b(talk|speak|chat|connect)\b.{0,25}\b(human|person|agent|someone|representative|operator|staff)\b"
    r"|^\s*(human|agent|person|representative|operator)\s*[.!?]*\s*$|\breal (person|human)\b",
    re.IGNORECASE)


def article_card(suggestion) -> dict:
    card = suggestion.to_dict() if hasattr(suggestion, "to_dict") else dict(suggestion)
    card["url"] = f"/kb/{card['slug']}"
    return card


async def _in_thread(fn, *args):
    """The matcher is CPU work: keep it off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)


async def _suggest(desk, text: str, limit: int = 3, exclude: frozenset | set = frozenset()) -> list:
    found = await _in_thread(lambda: desk.kb.suggest(text, limit=limit + len(exclude)))
    return [s for s in found if s.slug not in exclude][:limit]


def _bot_says(db, conversation_id: int, record, text: str, kind: str, payload: dict, now: float) -> dict | None:
    """Store what the bot did (`record(db)`) and what it says, if the bot still has the chat; else None."""
    conversation = conv_queries.get_conversation(db, conversation_id)
    if conversation is None or conversation["status"] != "bot":
        return None  # a person has the chat now (or it ended): the bot stays silent
    if record is not None:
        record(db)
    return conv_queries.add_bot_message(db, conversation_id, text, now, kind, payload)


async def _publish(desk, conversation: dict, message: dict | None) -> None:
    if message is not None:
        await desk.notifier.publish([MessageAdded(message, conversation["visitor_id"],
                                                  await desk.live.holder(conversation["id"]))])


async def answer(desk, conversation: dict, message: dict) -> None:
    """The bot's turn after a visitor message: suggest articles, say it found none, or hand off when asked."""
    cid = conversation["id"]
    if WANTS_PERSON.search(message["text"]):
        current = await desk.store.read(conv_queries.get_conversation, cid)
        if current is not None and current["status"] == "bot":
            await request_agent(desk, conversation["visitor_id"], None, reason="visitor_asked")
        return
    suggestions = await _suggest(desk, message["text"])
    now = time.time()
    if suggestions:
        cards = [article_card(s) for s in suggestions]
        said = await desk.store.write(
            _bot_says, cid, lambda db: bot_log.record_suggestions(db, cid, cards, now),
            "These articles may answer your question:", "suggestions",
            {"articles": cards, "offer_agent": True, "say": "suggestions"}, now)
    else:
        best = await _in_thread(lambda: desk.kb.search(message["text"], limit=1))
        best_slug, best_score = (best[0].slug, best[0].score) if best else (None, None)
        said = await desk.store.write(
            _bot_says, cid, lambda db: bot_log.record_unanswered(db, cid, message["text"], best_slug, best_score, now),
            "I couldn't find an article that answers this. Would you like to talk to a person?", "no_match",
            {"offer_agent": True, "say": "no_match"}, now)
    await _publish(desk, conversation, said)


def _handoff_context(db, visitor_id: str) -> dict:
    conversation = conv_queries.open_conversation_of(db, visitor_id)
    if conversation is None or conversation["status"] != "bot":
        return {"events": [], "question": None}
    return {"events": bot_log.article_events(db, conversation["id"]),
            "question": conv_queries.first_visitor_question(db, conversation["id"])}


async def _department_for(desk, context: dict) -> str | None:
    """The department of the article that best answers the first question (the one agents see on the queue card),
    else of the best-matching article suggested later in this conversation."""
    if context["question"]:
        found = await _in_thread(lambda: desk.kb.search(context["question"], limit=1))
        if found and found[0].department:
            return found[0].department
    suggested = sorted((e for e in context["events"] if e["type"] == "suggested"), key=lambda e: -(e["score"] or 0))
    for event in suggested:
        article = desk.kb.get(event["slug"])
        if article is not None and article.department:
            return article.department
    return None


HANDOFF = "Connecting you with a person. You can keep writing while you wait."
# With nobody online the bot must not promise a connection: the chat waits for the first person back.
HANDOFF_NOBODY = "Your chat is waiting for a person. You can keep writing: we read everything when we are back."


def _hand_off(db, visitor_id: str, page_url: str | None, department: str | None, reason: str | None, now: float,
              agents_online: int = 1):
    conversation = conv_queries.ensure_open_conversation(db, visitor_id, "bot", now, page_url)
    if conversation["status"] != "bot":
        return conversation, None
    reason = reason or conv_queries.handoff_reason(db, conversation["id"])
    conversation = conv_queries.queue_conversation(db, conversation["id"], visitor_id, department, reason, now,
                                                   "visitor")
    if not conversation.pop("just_queued"):
        return conversation, None
    say = "handoff" if agents_online else "handoff_nobody"
    said = conv_queries.add_bot_message(db, conversation["id"], HANDOFF if agents_online else HANDOFF_NOBODY,
                                        now, "handoff", {"reason": reason, "say": say})
    return conversation, said


async def request_agent(desk, visitor_id: str, page_url: str | None, reason: str | None = None) -> dict:
    """Queue the visitor's conversation for a person (creating one if they asked before writing)."""
    department = await _department_for(desk, await desk.store.read(_handoff_context, visitor_id))
    online = await desk.live.agents_online()
    conversation, said = await desk.store.write(_hand_off, visitor_id, page_url, department, reason, time.time(),
                                                online)
    cid = conversation["id"]
    if said is not None:
        await _publish(desk, conversation, said)
        await assignment.enqueue(desk, conversation)
    # Outside business hours the widget offers a reply by email and says when the team is back (docs/email.md).
    return {"ok": True, "conversation_id": cid, "status": conversation["status"],
            "queue": await desk.live.visitor_queue_state(cid), "agents_online": await desk.live.agents_online(),
            "hours": hours.status(desk)}


def _published_article(desk, slug: str):
    article = desk.kb.get(slug)
    if article is None or not article.published:
        raise NotFound("no such article", code="article_not_found")
    return article


def _record_opened(db, visitor_id: str, slug: str, now: float) -> None:
    conversation = conv_queries.open_conversation_of(db, visitor_id)
    if conversation is not None:
        bot_log.record_article_event(db, conversation["id"], slug, "opened", None, now)


async def open_article(desk, visitor_id: str, slug: str) -> dict:
    article = _published_article(desk, slug)
    await desk.store.write(_record_opened, visitor_id, slug, time.time())
    return {"ok": True, "article": {"slug": article.slug, "title": article.title, "html": article.html,
                                    "url": f"/kb/{article.slug}", "department": article.department}}


def _feedback(db, conversation_id: int, slug: str, title: str, helpful: bool, reason: str | None, more: list,
              now: float, known: set[str] = frozenset()):
    """Record the visitor's feedback, show it in the chat as their line, and, while the bot has the chat, its next
    line. (what came next, the visitor's line, the bot's line). "Helpful" also proposes the visitor's question as
    an example question of the article (learning.py)."""
    bot_log.record_article_event(db, conversation_id, slug, "helpful" if helpful else "not_helpful", reason, now)
    said_text = "This solved my question" if helpful else "Not what I need" + (f": {reason}" if reason else "")
    echo = conv_queries.add_visitor_feedback(db, conversation_id, f"{said_text} (“{title}”)",
                                             {"say": "helpful" if helpful else "not_helpful", "slug": slug,
                                              "title": title, "reason": reason}, now)
    return (*_bot_reply(db, conversation_id, slug, helpful, more, now, known), echo)


def _bot_reply(db, conversation_id: int, slug: str, helpful: bool, more: list, now: float,
               known: set[str] = frozenset()):
    if helpful:
        learning.learn(db, conversation_id, slug, "helpful", known, now, exclude=WANTS_PERSON)
        return "resolved_prompt", _bot_says(
            db, conversation_id, None, "Glad that helped! Is there anything else I can do for you?", "resolved_prompt",
            {"slug": slug, "actions": ["end_chat", "ask_more"], "say": "resolved_prompt"}, now)
    if more:
        return "more_suggestions", _bot_says(
            db, conversation_id, lambda db: bot_log.record_suggestions(db, conversation_id, more, now),
            "Sorry about that. Maybe one of these helps, or talk to a person:", "suggestions",
            {"articles": more, "offer_agent": True, "say": "more_suggestions"}, now)
    return "offer_agent", _bot_says(db, conversation_id, None, "Sorry that didn't help. Would you like to talk to a "
                                    "person?", "offer_agent", {"offer_agent": True, "say": "not_helpful"}, now)


def _feedback_context(db, conversation_id: int) -> dict:
    return {"suggested": set(bot_log.suggested_slugs(db, conversation_id)),
            "question": conv_queries.first_visitor_question(db, conversation_id)}


async def article_feedback(desk, visitor_id: str, slug: str, helpful: bool, reason: str | None) -> dict:
    """Helpful / not helpful on a suggested article; the bot answers (if it still has the chat) with a prompt to
    end, more suggestions, or an offer of a person."""
    conversation = await open_conversation(desk, visitor_id)
    article = desk.kb.get(slug)
    if article is None:
        raise NotFound("no such article", code="article_not_found")
    cid = conversation["id"]
    more: list = []
    if not helpful and conversation["status"] == "bot":
        context = await desk.store.read(_feedback_context, cid)
        if context["question"]:
            more = [article_card(s) for s in await _suggest(desk, context["question"], exclude=context["suggested"])]
    next_step, said, echo = await desk.store.write(_feedback, cid, slug, article.title, helpful, reason, more,
                                                   time.time(), learning.known_questions(article))
    await _publish(desk, conversation, echo)
    await _publish(desk, conversation, said)
    if said is None:
        return {"ok": True, "conversation_id": cid}
    return {"ok": True, "conversation_id": cid, "next": next_step}


def resolution_on_visitor_close(db, conversation: dict) -> tuple[str, str]:
    """How a chat the visitor ended counts: deflected (an article helped), abandoned, or resolved."""
    if conversation["status"] == "bot":
        slug = conv_queries.had_helpful_article(db, conversation["id"])
        if slug:
            return "deflected", f"the visitor found the answer in '{slug}'"
        return "abandoned", "the visitor left the bot without an answer"
    if conversation["status"] == "queued":
        return "abandoned", "the visitor left the queue"
    return "resolved", "the visitor ended the chat"


async def search_kb(desk, query: str) -> dict:
    """The agents' knowledge-base search."""
    found = await _in_thread(lambda: desk.kb.search(query, limit=10, min_score=AGENT_SEARCH_MIN_SCORE))
    return {"ok": True, "results": [article_card(s) for s in found]}


async def send_article(desk, agent: dict, conversation_id: int, slug: str, client_id: str | None,
                       sender_sid: str | None = None) -> dict:
    """An agent sends an article card to the visitor (recorded for the reports as sent by an agent)."""
    article = _published_article(desk, slug)
    card = {"slug": article.slug, "title": article.title, "excerpt": article.excerpt, "url": f"/kb/{article.slug}"}
    known = learning.known_questions(article)

    def send(db, now):
        message, conversation, duplicate = store_agent_message(db, agent, conversation_id, client_id, article.title, now,
                                                          False, "article", card)
        if not duplicate:
            bot_log.record_article_event(db, conversation_id, slug, "sent_by_agent", None, now)
            # The visitor's question the agent answered with this article: a proposed example question.
            learning.learn(db, conversation_id, slug, "sent_by_agent", known, now, exclude=WANTS_PERSON)
        return message, conversation, duplicate

    message, conversation, duplicate = await desk.store.write(send, time.time())
    if not duplicate:
        await desk.notifier.publish([MessageAdded(message, conversation["visitor_id"],
                                                  await desk.live.holder(conversation_id), sender_sid)])
    return message_ack(message, duplicate)
