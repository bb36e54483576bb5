"""An email arrives for a conversation (by the SMTP listener or the signed HTTP endpoint; docs/email.md): it is
posted as the visitor's message, shown live to the agent, and reopens the conversation if it was resolved.

The conversation comes only from a signed reply token (the reply+<token>@ address, or one of our Message-IDs in
In-Reply-To/References), never from the subject or the sender; the sender must also be the visitor's address.
Refused: unknown, forged or expired tokens (`email_token_invalid`), another sender (`email_sender_mismatch`),
oversized or unreadable emails. Accepted but not posted: auto-replies and bounces (so two auto-responders never
loop), and an email already posted (same Message-ID)."""
from __future__ import annotations

import hashlib
import logging
import time

from ..errors import Forbidden, InvalidPayload, NotFound, TooLarge
from ..mail import inbound
from ..store import conversations as conv_queries
from ..store import email_replies as reply_queries
from ..store import visitors as visitor_queries
from ..store.locks import lock_visitor
from . import assignment, lifecycle
from .email_replies import read_reply_token
from .events import MessageAdded

log = logging.getLogger(__name__)
ORIGINAL_CHARS = 20000


def _conversation_of_token(db, conversation_id: int) -> dict | None:
    return conv_queries.get_conversation(db, conversation_id)


async def check_recipient(desk, address: str) -> int:
    """At RCPT time: the conversation a reply address names, or a refusal (email_token_invalid)."""
    token = inbound.token_of_address(address, desk.config.email_reply_domain)
    if token is None:
        raise NotFound("no such reply address", code="email_token_invalid")
    return await _conversation_id(desk, [token])


async def _conversation_id(desk, tokens: list[str]) -> int:
    reasons = []
    for token in tokens:
        conversation_id, reason = read_reply_token(desk.secret, token, time.time())
        if conversation_id is not None:
            if await desk.store.read(_conversation_of_token, conversation_id) is not None:
                return conversation_id
            reason = "unknown conversation"
        reasons.append(reason)
    raise NotFound(f"no valid reply token ({', '.join(reasons) or 'none found'})", code="email_token_invalid")


def _post(db, conversation_id: int, email: "inbound.InboundEmail", message_key: str, text: str,
          max_chars: int, now: float) -> dict:
    lock_visitor(db, reply_queries.visitor_of(db, conversation_id))     # the visitor before the conversation
    conversation = conv_queries.get_conversation(db, conversation_id)
    visitor = visitor_queries.get_visitor(db, conversation["visitor_id"])
    if not visitor or (visitor.get("email") or "").lower() != email.sender:
        raise Forbidden("the sender is not the visitor of this conversation", code="email_sender_mismatch")
    if not reply_queries.record_inbound(db, message_key, conversation_id, now):
        return {"posted": False, "outcome": "duplicate", "conversation": conversation}
    reopened = False
    if conversation["status"] == "closed":
        if conv_queries.open_conversation_of(db, conversation["visitor_id"]) is None:
            reply_queries.reopen(db, conversation_id, now)
            reopened = True
            conversation = conv_queries.get_conversation(db, conversation_id)
    elif conversation["status"] == "bot":      # an email is for people: hand it over as the visitor would
        conversation = conv_queries.queue_conversation(db, conversation_id, None, None, "email_reply", now,
                                                       actor_type="visitor")
        reopened = True
    lifecycle.reopen_for_visitor(db, conversation_id, conversation["visitor_id"], "the visitor answered by email", now)
    payload = {"email": {"from": email.sender, "subject": email.subject, "message_id": message_key,
                         "original": email.text[:ORIGINAL_CHARS]}}
    message = conv_queries.add_email_message(db, conversation, text[:max_chars], now, payload)
    reply_queries.link_inbound(db, message_key, message["id"])
    conv_queries.add_event(db, conversation_id, "email_received", "visitor", conversation["visitor_id"],
                           "the visitor answered by email", now, {"message_id": message_key})
    return {"posted": True, "outcome": "posted", "message": message, "conversation": conversation,
            "requeue": reopened}


async def receive_email(desk, raw: bytes, envelope_sender: str | None, recipients: list[str]) -> dict:
    """Post one inbound email; {ok, posted, outcome, conversation_id}. Raises the documented refusals."""
    try:
        email = inbound.parse(raw, envelope_sender)
    except inbound.BadEmail as exc:
        if exc.code == "email_too_large":
            raise TooLarge(exc.reason) from None
        raise InvalidPayload(exc.reason, code="email_malformed") from None
    domain = desk.config.email_reply_domain
    # The envelope's recipients first (the SMTP listener checked them), then the headers' (an HTTP service may
    # not pass the envelope), then our Message-IDs in In-Reply-To/References.
    addresses = list(recipients) + email.addressed_to
    tokens = [t for t in (inbound.token_of_address(r, domain) for r in addresses) if t] + email.reply_tokens()
    conversation_id = await _conversation_id(desk, tokens)
    if email.automatic:
        log.info("email from %s to conversation %s not posted: %s", email.sender, conversation_id, email.automatic)
        return {"ok": True, "posted": False, "outcome": "automatic", "reason": email.automatic,
                "conversation_id": conversation_id}
    text = inbound.visible_text(email.text) or email.text.strip()
    if not text:
        raise InvalidPayload("the email has no text", code="email_malformed")
    message_key = email.message_id or f"<sha256.{hashlib.sha256(raw).hexdigest()}@inbound>"
    result = await desk.store.write(_post, conversation_id, email, message_key, text,
                                    desk.config.max_message_chars, time.time())
    if result["posted"]:
        conversation = result["conversation"]
        agent_id = await desk.live.holder(conversation_id)
        await desk.notifier.publish([MessageAdded(result["message"], conversation["visitor_id"], agent_id, None)])
        if result["requeue"]:
            await assignment.enqueue(desk, conversation)
    return {"ok": True, "posted": result["posted"], "outcome": result["outcome"], "conversation_id": conversation_id}
