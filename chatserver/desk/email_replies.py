"""The conversation continues by email (docs/email.md): an agent's replies the visitor has not seen within
CHAT_EMAIL_REPLY_DELAY_SECONDS go to them in one email (the replies of that window, the last messages before them
for context, a link back to the chat), with a reply address carrying a signed token of the conversation; the
transcript of a conversation on request. "Seen" means shown in a connected widget: the visitor is connected now,
or was connected after the reply was stored (visitors.last_seen_at is written at every connect and disconnect)."""
from __future__ import annotations

import hmac
import time
from datetime import datetime, timezone

from ..errors import Conflict
from ..mail import strings
from ..mail.compose import Draft, Link, Paragraph, Quote
from ..store import conversations as conv_queries
from ..store import email_replies as reply_queries
from ..store import outbox as outbox_queries
from ..store import visitors as visitor_queries
from . import access, outbox

TOKEN_PURPOSE = "email-reply"
TOKEN_DAYS = 90
CONTEXT_MESSAGES = 3
DAY = 86400


# -- the signed reply token: reply+<token>@CHAT_EMAIL_REPLY_DOMAIN -------------------------------------------

def reply_token(secret, conversation_id: int, now: float) -> str:
    """<conversation>-<last valid day, hex>-<signature>: lower-case, since mail systems may fold the case."""
    body = f"{conversation_id}-{int(now // DAY) + TOKEN_DAYS:x}"
    return f"{body}-{secret.sign(TOKEN_PURPOSE, body)[:24].lower()}"


def read_reply_token(secret, token: str, now: float) -> tuple[int | None, str]:
    """(conversation id, "ok"), or (None, why not: "malformed", "forged", "expired")."""
    parts = token.lower().split("-")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isalnum() or len(parts[0]) > 18:
        return None, "malformed"
    body = f"{parts[0]}-{parts[1]}"
    if not hmac.compare_digest(parts[2], secret.sign(TOKEN_PURPOSE, body)[:24].lower()):
        return None, "forged"
    try:
        last_day = int(parts[1], 16)
    except ValueError:
        return None, "malformed"
    if now // DAY > last_day:
        return None, "expired"
    return int(parts[0]), "ok"


def reply_address(desk, conversation_id: int, now: float) -> str | None:
    domain = desk.config.email_reply_domain
    return f"reply+{reply_token(desk.secret, conversation_id, now)}@{domain}" if domain else None


def thread_domain(desk) -> str:
    return desk.config.email_reply_domain or outbox.mail_domain(desk)


def digest_message_id(desk, conversation_id: int, seq: int, now: float) -> str:
    """Our Message-IDs carry the reply token too, so a reply found by its References alone reaches the chat."""
    return f"<reply.{conversation_id}.{seq}.{reply_token(desk.secret, conversation_id, now)}@{thread_domain(desk)}>"


# -- queuing, in the agent reply's own transaction ------------------------------------------------------------

async def digest_plan(desk, conversation_id: int) -> dict | None:
    """Read before the reply's write: None when no email can follow (email off, the visitor connected now)."""
    target, _ = outbox.email_settings(desk)
    if target is None:
        return None
    conversation = await desk.store.read(conv_queries.get_conversation, conversation_id)
    if conversation is None or await desk.live.visitor_online(conversation["visitor_id"]):
        return None
    return {"delay": desk.config.email_reply_delay_seconds, "desk": desk}


def queue_digest(db, plan: dict | None, conversation: dict, message: dict, now: float) -> None:
    """Inside the write that stored an agent's reply: open the conversation's email window if none is, so this
    reply (and those that follow within the delay) go out by email unless the visitor sees them first."""
    if plan is None:
        return
    visitor = visitor_queries.get_visitor(db, conversation["visitor_id"])
    if not visitor or not visitor.get("email") or reply_queries.waiting_digest(db, conversation["id"]):
        return
    desk = plan["desk"]
    outbox_queries.queue_email(
        db, digest_message_id(desk, conversation["id"], message["seq"], now), "reply_digest", visitor["email"], now,
        due_at=now + plan["delay"], conversation_id=conversation["id"], details={"after_seq": message["seq"] - 1})


# -- composing at the first attempt -----------------------------------------------------------------------------

async def digest_still_needed(desk, email: dict) -> bool:
    """Checked just before the first attempt: a visitor connected now sees the replies in the widget."""
    conversation = await desk.store.read(conv_queries.get_conversation, email["conversation_id"])
    return conversation is not None and not await desk.live.visitor_online(conversation["visitor_id"])


def _when(timestamp: float) -> str:
    """A time as every email shows it (UTC: the recipient's zone is not known)."""
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _author(message: dict, language: str) -> str:
    if message["author"] == "visitor":
        return strings.text(language, "you")
    if message["author"] == "agent":
        return message.get("agent_name") or strings.text(language, "agent")
    return strings.text(language, "bot")


def _thread_headers(db, conversation_id: int) -> tuple[str | None, list[str]]:
    ids = reply_queries.thread_ids(db, conversation_id)
    return (ids[-1] if ids else None), ids[-20:]


def compose_digest(db, desk, email: dict) -> Draft | None:
    conversation = conv_queries.get_conversation(db, email["conversation_id"])
    visitor = visitor_queries.get_visitor(db, conversation["visitor_id"]) if conversation else None
    if visitor is None:
        return None
    after_seq = (email["details"] or {}).get("after_seq", 0)
    seen_until = visitor["last_seen_at"] or 0
    unseen = [m for m in reply_queries.messages_between(db, conversation["id"], after_seq)
              if m["author"] == "agent" and m["created_at"] > seen_until]
    if not unseen:
        return None         # the visitor saw them in the widget meanwhile
    language = strings.language_or_default(visitor.get("language"))
    site = desk.config.base_url
    context = reply_queries.messages_before(db, conversation["id"], unseen[0]["seq"], CONTEXT_MESSAGES)
    blocks: list = [Paragraph(strings.text(language, "reply_intro", agent=_author(unseen[0], language)))]
    blocks += [Quote(_author(m, language), _when(m["created_at"]), m["text"]) for m in unseen]
    if context:
        blocks.append(Paragraph(strings.text(language, "reply_context")))
        blocks += [Quote(_author(m, language), _when(m["created_at"]), m["text"]) for m in context]
    now = time.time()
    reply_to = reply_address(desk, conversation["id"], now)
    if reply_to:
        blocks.append(Paragraph(strings.text(language, "reply_how")))
    page = conversation.get("page_url") or ""
    blocks.append(Link(strings.text(language, "reply_link"), page if page.startswith(("https://", "http://")) else site))
    in_reply_to, references = _thread_headers(db, conversation["id"])
    return Draft(message_id=email["message_id"], sender=desk.settings.get("email_from"),
                 sender_name=strings.text(language, "sender_name"), recipient=email["recipient"],
                 subject=strings.text(language, "reply_subject", site=site), language=language, blocks=blocks,
                 in_reply_to=in_reply_to, references=references, reply_to=reply_to, created_at=now)


# -- the transcript ---------------------------------------------------------------------------------------------

def compose_transcript(db, desk, email: dict) -> Draft | None:
    conversation = conv_queries.get_conversation(db, email["conversation_id"])
    if conversation is None:
        return None
    visitor = visitor_queries.get_visitor(db, conversation["visitor_id"]) or {}
    language = strings.language_or_default(visitor.get("language"))
    site = desk.config.base_url
    blocks: list = [Paragraph(strings.text(language, "transcript_intro"))]
    blocks += [Quote(_author(m, language), _when(m["created_at"]), m["text"])
               for m in reply_queries.messages_between(db, conversation["id"], 0, 1000)]
    now = time.time()
    in_reply_to, references = _thread_headers(db, conversation["id"])
    return Draft(message_id=email["message_id"], sender=desk.settings.get("email_from"),
                 sender_name=strings.text(language, "sender_name"), recipient=email["recipient"],
                 subject=strings.text(language, "transcript_subject", site=site), language=language, blocks=blocks,
                 in_reply_to=in_reply_to, references=references,
                 reply_to=reply_address(desk, conversation["id"], now), created_at=now)


def _queue_transcript(db, desk, conversation_id: int, visitor_id: str | None, recipient: str | None,
                      agent: dict | None, now: float) -> dict:
    conversation = conv_queries.get_conversation(db, conversation_id)
    if agent is not None:
        holds = conversation is not None and conv_queries.visitor_held_by(db, conversation["visitor_id"], agent["id"])
        access.may_read(agent, conversation, holds)
    else:
        access.visitor_owns(visitor_id, conversation)
    visitor = visitor_queries.get_visitor(db, conversation["visitor_id"])
    address = recipient or (visitor or {}).get("email")
    if not address:
        raise Conflict("the visitor left no email address", code="no_email_address")
    if recipient:       # the visitor typed it: it becomes their contact address
        visitor_queries.set_contact(db, conversation["visitor_id"], recipient, None, conversation_id, now)
    message_id = f"<transcript.{conversation_id}.{conversation['last_seq']}.{reply_token(desk.secret, conversation_id, now)}@{thread_domain(desk)}>"
    email, _ = outbox_queries.queue_email(db, message_id, "transcript", address, now, conversation_id=conversation_id,
                                          created_by=agent["id"] if agent else None)
    return email


async def send_transcript(desk, conversation_id: int, *, visitor_id: str | None = None, recipient: str | None = None,
                          agent: dict | None = None) -> dict:
    """Queue the conversation's transcript (as it stands now: the Message-ID names its last seq, so asking twice
    sends it once) to the visitor's address, or to `recipient` typed by the visitor."""
    target, reason = outbox.email_settings(desk)
    if target is None:
        raise Conflict(f"email is off: {reason}", code="email_off")
    email = await desk.store.write(_queue_transcript, desk, conversation_id, visitor_id, recipient, agent,
                                   time.time())
    return {"ok": True, "conversation_id": conversation_id, "recipient": email["recipient"],
            "message_id": email["message_id"]}


outbox.DEFERRED["reply_digest"] = compose_digest
outbox.DEFERRED["transcript"] = compose_transcript
outbox.STILL_NEEDED["reply_digest"] = digest_still_needed
